-- Audit entries of customer merges written before merges named customers by id only quoted the
-- removed customer's name, which may be a person's: an erasure finds a person by ids and would
-- not reach it there. The name goes; the entry keeps the customers' ids.
UPDATE audit_log SET before = (before::jsonb - 'name')::text
WHERE action = 'customer.merge' AND before IS NOT NULL AND before::jsonb ? 'name';
