-- The job runner purges identical-payload keys every minute. Without an index of their own the
-- purge read every capture key (clients' idempotency keys and every imported row's key too)
-- while it held the write lock; a million-row import made that a scan of hundreds of megabytes
-- a minute. The purge names this predicate word for word, so both planners use the index.
CREATE INDEX capture_keys_payload ON capture_keys(created_at) WHERE key LIKE 'payload:%';
