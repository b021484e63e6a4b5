-- The audit log read by a range of days: a day long ago is found by its time, not by walking every
-- newer entry.
CREATE INDEX audit_at ON audit_log (at);
