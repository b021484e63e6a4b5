-- Farewell surveys: one per refusal that sent a farewell message. The token of the public link
-- is stored hashed; the answer (a choice and a comment) can be given once.
CREATE TABLE surveys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    lead_id INTEGER NOT NULL REFERENCES leads(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    answer TEXT,
    comment TEXT,
    answered_at INTEGER
);
CREATE INDEX surveys_lead ON surveys(lead_id);
