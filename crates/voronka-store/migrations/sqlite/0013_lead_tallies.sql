-- Number of listed leads (not merged) per stage and owner (0 = unassigned), kept by triggers in
-- the writing transaction, so the inbox's count and its stage tabs read a few rows instead of
-- counting a million.
CREATE TABLE lead_tallies (
    stage TEXT NOT NULL,
    owner_key INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (stage, owner_key)
) WITHOUT ROWID;
INSERT INTO lead_tallies (stage, owner_key, n)
SELECT stage, COALESCE(owner_id, 0), COUNT(*) FROM leads WHERE merged_into IS NULL GROUP BY 1, 2;
CREATE TRIGGER lead_tallies_insert AFTER INSERT ON leads
WHEN new.merged_into IS NULL BEGIN
    INSERT INTO lead_tallies (stage, owner_key, n) VALUES (new.stage, COALESCE(new.owner_id, 0), 1)
    ON CONFLICT (stage, owner_key) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER lead_tallies_delete AFTER DELETE ON leads
WHEN old.merged_into IS NULL BEGIN
    UPDATE lead_tallies SET n = n - 1 WHERE stage = old.stage AND owner_key = COALESCE(old.owner_id, 0);
END;
CREATE TRIGGER lead_tallies_update_old AFTER UPDATE OF stage, owner_id, merged_into ON leads
WHEN old.merged_into IS NULL
 AND (old.stage IS NOT new.stage OR old.owner_id IS NOT new.owner_id OR new.merged_into IS NOT NULL) BEGIN
    UPDATE lead_tallies SET n = n - 1 WHERE stage = old.stage AND owner_key = COALESCE(old.owner_id, 0);
END;
CREATE TRIGGER lead_tallies_update_new AFTER UPDATE OF stage, owner_id, merged_into ON leads
WHEN new.merged_into IS NULL
 AND (old.stage IS NOT new.stage OR old.owner_id IS NOT new.owner_id OR old.merged_into IS NOT NULL) BEGIN
    INSERT INTO lead_tallies (stage, owner_key, n) VALUES (new.stage, COALESCE(new.owner_id, 0), 1)
    ON CONFLICT (stage, owner_key) DO UPDATE SET n = n + 1;
END;
