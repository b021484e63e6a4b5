-- A bulk upload appends the leads it reached to this log instead of inserting them into
-- rescore_queue: the queue is keyed by lead, so each upload's leads landed on pages all over it
-- (at 500,000 waiting leads, about 440 pages written per upload of 1,000 events). The rescoring
-- worker moves the log into the queue in large slices, sorted by lead, as it claims.
CREATE TABLE rescore_log (
    id INTEGER PRIMARY KEY,
    lead_id INTEGER NOT NULL,
    queued_at INTEGER NOT NULL
);
