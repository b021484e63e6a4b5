-- Voronka schema. Timestamps are milliseconds since the Unix epoch (UTC); money is integer minor units.
CREATE TABLE teams (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    team_id BIGINT REFERENCES teams(id),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    user_id BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT,
    last_used_at BIGINT
);

CREATE TABLE forms (
    id BIGSERIAL PRIMARY KEY,
    public_key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    redirect_url TEXT,
    allowed_origins TEXT NOT NULL DEFAULT '',
    default_region TEXT NOT NULL,
    product TEXT,
    honeypot_field TEXT NOT NULL,
    min_fill_ms BIGINT NOT NULL DEFAULT 0,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE accounts (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    domain TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE contacts (
    id BIGSERIAL PRIMARY KEY,
    full_name TEXT NOT NULL,
    first_name TEXT,
    last_name TEXT,
    position TEXT,
    country TEXT,
    language TEXT,
    account_id BIGINT REFERENCES accounts(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE contact_phones (
    contact_id BIGINT NOT NULL REFERENCES contacts(id),
    raw TEXT NOT NULL,
    e164 TEXT,
    valid BOOLEAN NOT NULL
);
CREATE INDEX contact_phones_e164 ON contact_phones(e164);
CREATE INDEX contact_phones_contact ON contact_phones(contact_id);

CREATE TABLE contact_emails (
    contact_id BIGINT NOT NULL REFERENCES contacts(id),
    raw TEXT NOT NULL,
    normalized TEXT NOT NULL,
    match_key TEXT NOT NULL
);
CREATE INDEX contact_emails_key ON contact_emails(match_key);
CREATE INDEX contact_emails_contact ON contact_emails(contact_id);

CREATE TABLE contact_socials (
    contact_id BIGINT NOT NULL REFERENCES contacts(id),
    url TEXT NOT NULL,
    match_key TEXT NOT NULL
);
CREATE INDEX contact_socials_key ON contact_socials(match_key);

CREATE TABLE customers (
    id BIGSERIAL PRIMARY KEY,
    contact_id BIGINT NOT NULL UNIQUE REFERENCES contacts(id),
    account_id BIGINT REFERENCES accounts(id),
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE leads (
    id BIGSERIAL PRIMARY KEY,
    contact_id BIGINT NOT NULL REFERENCES contacts(id),
    product TEXT,
    message TEXT,
    value_minor BIGINT,
    value_currency TEXT,
    stage TEXT NOT NULL,
    temperature TEXT NOT NULL,
    score BIGINT NOT NULL DEFAULT 0,
    owner_id BIGINT REFERENCES users(id),
    form_id BIGINT REFERENCES forms(id),
    source TEXT,
    medium TEXT,
    campaign TEXT,
    refuse_reason TEXT,
    frozen_until BIGINT,
    junk_reason TEXT,
    customer_id BIGINT REFERENCES customers(id),
    touches BIGINT NOT NULL DEFAULT 1,
    reasons TEXT NOT NULL DEFAULT '[]',
    route_explanation TEXT,
    search_text TEXT NOT NULL DEFAULT '',
    inbox_rank BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    first_response_at BIGINT
);
CREATE INDEX leads_inbox ON leads(inbox_rank DESC, created_at DESC, id DESC);
CREATE INDEX leads_created ON leads(created_at DESC, id DESC);
CREATE INDEX leads_stage_created ON leads(stage, created_at DESC);
CREATE INDEX leads_owner_created ON leads(owner_id, created_at DESC);
CREATE INDEX leads_contact ON leads(contact_id);
CREATE INDEX leads_source ON leads(source, medium);
CREATE INDEX leads_customer ON leads(customer_id);

CREATE TABLE touches (
    id BIGSERIAL PRIMARY KEY,
    lead_id BIGINT NOT NULL REFERENCES leads(id),
    channel TEXT NOT NULL,
    form_id BIGINT REFERENCES forms(id),
    utm_source TEXT,
    utm_medium TEXT,
    utm_campaign TEXT,
    utm_term TEXT,
    utm_content TEXT,
    referrer TEXT,
    landing_page TEXT,
    partner TEXT,
    visitor_id TEXT,
    ip TEXT,
    user_agent TEXT,
    message TEXT,
    raw TEXT NOT NULL,
    reasons TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL
);
CREATE INDEX touches_lead ON touches(lead_id, created_at);

CREATE TABLE interests (
    id BIGSERIAL PRIMARY KEY,
    channel TEXT NOT NULL,
    form_id BIGINT REFERENCES forms(id),
    rejected BOOLEAN NOT NULL,
    visitor_id TEXT,
    utm_source TEXT,
    utm_medium TEXT,
    utm_campaign TEXT,
    ip TEXT,
    reasons TEXT NOT NULL,
    raw TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX interests_created ON interests(created_at);

CREATE TABLE stage_changes (
    id BIGSERIAL PRIMARY KEY,
    lead_id BIGINT NOT NULL REFERENCES leads(id),
    from_stage TEXT,
    to_stage TEXT NOT NULL,
    actor_id BIGINT,
    actor TEXT NOT NULL,
    reason TEXT,
    comment TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX stage_changes_lead ON stage_changes(lead_id, at);

CREATE TABLE notes (
    id BIGSERIAL PRIMARY KEY,
    lead_id BIGINT NOT NULL REFERENCES leads(id),
    author_id BIGINT,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX notes_lead ON notes(lead_id, created_at);

CREATE TABLE deals (
    id BIGSERIAL PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    lead_id BIGINT NOT NULL REFERENCES leads(id),
    title TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX deals_customer ON deals(customer_id);
CREATE INDEX deals_lead ON deals(lead_id);

CREATE TABLE refusal_reasons (
    id BIGSERIAL PRIMARY KEY,
    label TEXT NOT NULL UNIQUE,
    active BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    actor_id BIGINT,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id BIGINT,
    before TEXT,
    after TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX audit_entity ON audit_log(entity, entity_id);

CREATE TABLE capture_keys (
    key TEXT PRIMARY KEY,
    result TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

CREATE TABLE jobs (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    run_at BIGINT NOT NULL,
    locked_until BIGINT,
    locked_by TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    done_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs(run_at) WHERE done_at IS NULL;
