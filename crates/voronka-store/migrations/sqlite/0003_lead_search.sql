-- Substring search over leads (name, email, phone, company, product) through a trigram index.
CREATE VIRTUAL TABLE leads_search USING fts5(search_text, content='leads', content_rowid='id', tokenize='trigram');
INSERT INTO leads_search (rowid, search_text) SELECT id, search_text FROM leads;
CREATE TRIGGER leads_search_insert AFTER INSERT ON leads BEGIN
    INSERT INTO leads_search (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER leads_search_update AFTER UPDATE OF search_text ON leads BEGIN
    INSERT INTO leads_search (leads_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO leads_search (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER leads_search_delete AFTER DELETE ON leads BEGIN
    INSERT INTO leads_search (leads_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
