-- The trigram index no longer grows inside the intake's transaction: a background indexer adds
-- the leads above `indexed_upto` in bulk, and searches read the few leads above it directly.
-- Updates and deletes keep the index exact for the leads it already holds.
CREATE TABLE search_index_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_upto INTEGER NOT NULL
);
INSERT INTO search_index_state (id, indexed_upto) VALUES (1, COALESCE((SELECT MAX(id) FROM leads), 0));
DROP TRIGGER leads_search_insert;
DROP TRIGGER leads_search_update;
DROP TRIGGER leads_search_delete;
CREATE TRIGGER leads_search_update AFTER UPDATE OF search_text ON leads
WHEN old.id <= (SELECT indexed_upto FROM search_index_state) BEGIN
    INSERT INTO leads_search (leads_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO leads_search (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER leads_search_delete AFTER DELETE ON leads
WHEN old.id <= (SELECT indexed_upto FROM search_index_state) BEGIN
    INSERT INTO leads_search (leads_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
