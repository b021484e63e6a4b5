-- An event batch looks up the lead of each visitor through the touches that carried the visitor
-- id; with the lead in the index the lookup no longer reads each touch's row (with its raw
-- payload) from the table.
DROP INDEX touches_visitor;
CREATE INDEX touches_visitor ON touches(visitor_id, lead_id) WHERE visitor_id IS NOT NULL;
