-- Speed to lead: routing profiles and assignment history, SLA timers and their steps,
-- activities (the first response), tasks and in-app notifications.

-- A person's routing settings (weight, capacity, hours, time zone, absence) as JSON.
CREATE TABLE routing_profiles (
    user_id BIGINT PRIMARY KEY REFERENCES users(id),
    profile TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Every assignment and reassignment of a lead, with the decision's explanation.
CREATE TABLE assignments (
    id BIGSERIAL PRIMARY KEY,
    lead_id BIGINT NOT NULL REFERENCES leads(id),
    from_owner BIGINT,
    to_owner BIGINT,
    rule TEXT,
    explanation TEXT NOT NULL,
    actor_id BIGINT,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX assignments_lead ON assignments(lead_id, at);
CREATE INDEX assignments_owner ON assignments(to_owner, at);

-- When the first response to the lead is due, and when the target was missed.
ALTER TABLE leads ADD COLUMN sla_due_at BIGINT;
ALTER TABLE leads ADD COLUMN sla_breached_at BIGINT;
CREATE INDEX leads_sla_due ON leads(sla_due_at) WHERE first_response_at IS NULL AND merged_into IS NULL;

-- Each SLA step fires once per lead: the unique key makes a second firing a no-op.
CREATE TABLE sla_events (
    id BIGSERIAL PRIMARY KEY,
    lead_id BIGINT NOT NULL REFERENCES leads(id),
    step BIGINT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    worker TEXT,
    at BIGINT NOT NULL,
    UNIQUE (lead_id, step)
);

-- Calls, emails and meetings logged on a lead, with their outcome.
CREATE TABLE activities (
    id BIGSERIAL PRIMARY KEY,
    lead_id BIGINT NOT NULL REFERENCES leads(id),
    user_id BIGINT,
    kind TEXT NOT NULL,
    outcome TEXT,
    note TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX activities_lead ON activities(lead_id, at);

CREATE TABLE tasks (
    id BIGSERIAL PRIMARY KEY,
    lead_id BIGINT REFERENCES leads(id),
    owner_id BIGINT REFERENCES users(id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    remind_at BIGINT,
    done_at BIGINT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX tasks_owner_open ON tasks(owner_id, due_at) WHERE done_at IS NULL;
CREATE INDEX tasks_lead ON tasks(lead_id);

CREATE TABLE notifications (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    lead_id BIGINT,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX notifications_user ON notifications(user_id, created_at);
