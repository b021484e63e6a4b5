-- The trigram index moves to a database file of its own beside this one (`FILE-search`), with a
-- write lock of its own: the indexer no longer holds the intake's lock while it adds leads. The
-- index there is derived data, built again from the leads whenever it is missing or belongs to
-- another database.
DROP TRIGGER leads_search_update;
DROP TRIGGER leads_search_delete;
DROP TABLE leads_search;
DROP TABLE search_index_state;
-- Which database an index file was built from: a copy of this file keeps the token, a new
-- database has its own.
CREATE TABLE search_source (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    token TEXT NOT NULL
);
INSERT INTO search_source (id, token) VALUES (1, lower(hex(randomblob(16))));
-- Leads whose search text changed or that were deleted, in order, for the indexer to apply to
-- the leads it already holds. AUTOINCREMENT: numbers are never reused once applied entries are
-- pruned, so the index's mark in this list stays valid.
CREATE TABLE search_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    lead_id INTEGER NOT NULL
);
CREATE TRIGGER leads_search_update AFTER UPDATE OF search_text ON leads
WHEN old.search_text IS NOT new.search_text BEGIN
    INSERT INTO search_changes (lead_id) VALUES (new.id);
END;
CREATE TRIGGER leads_search_delete AFTER DELETE ON leads BEGIN
    INSERT INTO search_changes (lead_id) VALUES (old.id);
END;
