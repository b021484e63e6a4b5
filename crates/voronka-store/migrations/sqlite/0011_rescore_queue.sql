-- Leads whose events arrived in large batches wait here to be rescored by a background worker,
-- so that a bulk upload is not held up by rescoring; a lead waits at most once however many of
-- its events arrive meanwhile.
CREATE TABLE rescore_queue (
    lead_id INTEGER PRIMARY KEY,
    queued_at INTEGER NOT NULL
);
CREATE INDEX rescore_queue_order ON rescore_queue(queued_at, lead_id);
