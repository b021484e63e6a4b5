-- Farewell surveys: one per refusal that sent a farewell message. The token of the public link
-- is stored hashed; the answer (a choice and a comment) can be given once.
CREATE TABLE surveys (
    id BIGSERIAL PRIMARY KEY,
    lead_id BIGINT NOT NULL REFERENCES leads(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    answer TEXT,
    comment TEXT,
    answered_at BIGINT
);
CREATE INDEX surveys_lead ON surveys(lead_id);
