-- Scoring: behaviour events, the scoring rules, tracking sites, each lead's fit and engagement,
-- and full rescoring runs.

-- Page views and events from the tracker and the API. An event of an anonymous visitor has no
-- lead until the visitor identifies through a form.
CREATE TABLE events (
    id BIGSERIAL PRIMARY KEY,
    visitor_id TEXT,
    lead_id BIGINT REFERENCES leads(id),
    source TEXT NOT NULL,
    name TEXT NOT NULL,
    url TEXT,
    properties TEXT NOT NULL DEFAULT '{}',
    at BIGINT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX events_lead ON events(lead_id, at);
CREATE INDEX events_anonymous ON events(visitor_id) WHERE lead_id IS NULL;
CREATE INDEX events_visitor ON events(visitor_id);
CREATE INDEX touches_visitor ON touches(visitor_id) WHERE visitor_id IS NOT NULL;

-- Rule sets as saved (JSON); the newest is in force.
CREATE TABLE scoring_rules (
    id BIGSERIAL PRIMARY KEY,
    body TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Sites the tracker script runs on.
CREATE TABLE tracking_sites (
    id BIGSERIAL PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    origins TEXT NOT NULL DEFAULT '[]',
    honour_dnt BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL
);

-- Full rescoring runs and their progress.
CREATE TABLE score_runs (
    id BIGSERIAL PRIMARY KEY,
    reason TEXT NOT NULL,
    total BIGINT NOT NULL,
    done BIGINT NOT NULL DEFAULT 0,
    changed BIGINT NOT NULL DEFAULT 0,
    started_at BIGINT NOT NULL,
    finished_at BIGINT
);

-- Fit (explicit points) and engagement (implicit points, after decay) kept apart; `score` is
-- their total. The profile is the latest value of each field the lead was submitted with.
ALTER TABLE leads ADD COLUMN fit BIGINT NOT NULL DEFAULT 0;
ALTER TABLE leads ADD COLUMN engagement BIGINT NOT NULL DEFAULT 0;
ALTER TABLE leads ADD COLUMN fit_level TEXT NOT NULL DEFAULT 'stranger';
ALTER TABLE leads ADD COLUMN activity TEXT NOT NULL DEFAULT 'inactive';
ALTER TABLE leads ADD COLUMN profile TEXT NOT NULL DEFAULT '{}';
ALTER TABLE leads ADD COLUMN temperature_manual BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE leads ADD COLUMN scored_at BIGINT;
CREATE INDEX leads_matrix ON leads(fit_level, activity) WHERE merged_into IS NULL;
