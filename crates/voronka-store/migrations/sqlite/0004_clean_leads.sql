-- Rules stored as data (pseudo-lead rules and their lists), one JSON document per name.
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- What the pseudo-lead rules said of a submission that made a touch: ok, flag or junk.
ALTER TABLE touches ADD COLUMN verdict TEXT NOT NULL DEFAULT 'ok';
ALTER TABLE interests ADD COLUMN partner TEXT;
CREATE INDEX touches_created ON touches(created_at);

-- Blocking key of a contact's name (word order and script folded) for duplicate search.
ALTER TABLE contacts ADD COLUMN name_key TEXT;
CREATE INDEX contacts_name_key ON contacts(name_key);

-- Pairs the matcher was unsure of, or that someone reviewed.
CREATE TABLE duplicate_pairs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    lead_id INTEGER NOT NULL,
    other_lead_id INTEGER NOT NULL,
    probability REAL NOT NULL,
    explanation TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    created_at INTEGER NOT NULL,
    resolved_at INTEGER,
    resolved_by TEXT,
    UNIQUE (lead_id, other_lead_id)
);
CREATE INDEX duplicate_pairs_status ON duplicate_pairs(status, created_at);

-- A merged lead or contact keeps resolving to its survivor; the row stays for undo.
ALTER TABLE leads ADD COLUMN merged_into INTEGER;
ALTER TABLE contacts ADD COLUMN merged_into INTEGER;

-- Every merge with what is needed to undo it.
CREATE TABLE merges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    survivor_lead_id INTEGER NOT NULL,
    merged_lead_id INTEGER NOT NULL,
    snapshot TEXT NOT NULL,
    actor_id INTEGER,
    actor TEXT NOT NULL,
    at INTEGER NOT NULL,
    undone_at INTEGER
);
CREATE INDEX merges_survivor ON merges(survivor_lead_id);

-- Lists never show merged leads: their indexes cover only the rows that are not merged.
DROP INDEX IF EXISTS leads_inbox;
DROP INDEX IF EXISTS leads_created;
DROP INDEX IF EXISTS leads_stage_inbox;
DROP INDEX IF EXISTS leads_owner_created;
DROP INDEX IF EXISTS leads_source_stage;
DROP INDEX IF EXISTS leads_medium;
CREATE INDEX leads_inbox ON leads(inbox_rank DESC, created_at DESC, id DESC) WHERE merged_into IS NULL;
CREATE INDEX leads_created ON leads(created_at DESC, id DESC) WHERE merged_into IS NULL;
CREATE INDEX leads_stage_inbox ON leads(stage, inbox_rank DESC, created_at DESC, id DESC) WHERE merged_into IS NULL;
CREATE INDEX leads_owner_created ON leads(owner_id, created_at DESC) WHERE merged_into IS NULL;
CREATE INDEX leads_source_stage ON leads(source, stage, created_at) WHERE merged_into IS NULL;
CREATE INDEX leads_medium ON leads(medium, stage) WHERE merged_into IS NULL;
