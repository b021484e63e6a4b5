-- Audit entries of customer merges written before merges named customers by id only quoted the
-- removed customer's name, which may be a person's: an erasure finds a person by ids and would
-- not reach it there. The name goes; the entry keeps the customers' ids.
UPDATE audit_log SET before = json_remove(before, '$.name')
WHERE action = 'customer.merge' AND json_valid(before) AND json_type(before, '$.name') IS NOT NULL;
