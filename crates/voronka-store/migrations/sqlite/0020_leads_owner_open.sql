-- PostgreSQL gets an index of open leads by owner here, for routing's count of each person's open
-- leads; SQLite reads that count from `lead_tallies` (0013). This migration keeps the numbering of
-- both backends equal.
SELECT 1;
