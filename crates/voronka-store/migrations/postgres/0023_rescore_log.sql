-- A bulk upload appends the leads it reached to this log instead of inserting them into
-- rescore_queue: the queue is keyed by lead, so each upload's leads landed on pages all over it.
-- The rescoring worker moves the log into the queue in large slices, sorted by lead, as it claims.
CREATE TABLE rescore_log (
    id BIGSERIAL PRIMARY KEY,
    lead_id BIGINT NOT NULL,
    queued_at BIGINT NOT NULL
);
