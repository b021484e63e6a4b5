-- Leads whose events arrived in large batches wait here to be rescored by a background worker,
-- so that a bulk upload is not held up by rescoring; a lead waits at most once however many of
-- its events arrive meanwhile.
CREATE TABLE rescore_queue (
    lead_id BIGINT PRIMARY KEY,
    queued_at BIGINT NOT NULL
);
CREATE INDEX rescore_queue_order ON rescore_queue(queued_at, lead_id);

-- Events are looked up by visitor only while the visitor is anonymous (to stitch them to the
-- lead when the visitor identifies, and to count a new visitor once): the partial index
-- events_anonymous serves that, and an event of a known lead is indexed once, by its lead.
DROP INDEX events_visitor;
