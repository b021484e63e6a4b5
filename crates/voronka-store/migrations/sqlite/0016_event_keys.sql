-- The sender's own id of an event (optional): an event sent again under an id its source has
-- already stored (a retried request) is not stored twice.
ALTER TABLE events ADD COLUMN event_key TEXT;
CREATE UNIQUE INDEX events_key ON events(source, event_key) WHERE event_key IS NOT NULL;
