-- Speed to lead: routing profiles and assignment history, SLA timers and their steps,
-- activities (the first response), tasks and in-app notifications.

-- A person's routing settings (weight, capacity, hours, time zone, absence) as JSON.
CREATE TABLE routing_profiles (
    user_id INTEGER PRIMARY KEY REFERENCES users(id),
    profile TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Every assignment and reassignment of a lead, with the decision's explanation.
CREATE TABLE assignments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    lead_id INTEGER NOT NULL REFERENCES leads(id),
    from_owner INTEGER,
    to_owner INTEGER,
    rule TEXT,
    explanation TEXT NOT NULL,
    actor_id INTEGER,
    actor TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX assignments_lead ON assignments(lead_id, at);
CREATE INDEX assignments_owner ON assignments(to_owner, at);

-- When the first response to the lead is due, and when the target was missed.
ALTER TABLE leads ADD COLUMN sla_due_at INTEGER;
ALTER TABLE leads ADD COLUMN sla_breached_at INTEGER;
CREATE INDEX leads_sla_due ON leads(sla_due_at) WHERE first_response_at IS NULL AND merged_into IS NULL;

-- Each SLA step fires once per lead: the unique key makes a second firing a no-op.
CREATE TABLE sla_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    lead_id INTEGER NOT NULL REFERENCES leads(id),
    step INTEGER NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    worker TEXT,
    at INTEGER NOT NULL,
    UNIQUE (lead_id, step)
);

-- Calls, emails and meetings logged on a lead, with their outcome.
CREATE TABLE activities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    lead_id INTEGER NOT NULL REFERENCES leads(id),
    user_id INTEGER,
    kind TEXT NOT NULL,
    outcome TEXT,
    note TEXT,
    at INTEGER NOT NULL
);
CREATE INDEX activities_lead ON activities(lead_id, at);

CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    lead_id INTEGER REFERENCES leads(id),
    owner_id INTEGER REFERENCES users(id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    remind_at INTEGER,
    done_at INTEGER,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX tasks_owner_open ON tasks(owner_id, due_at) WHERE done_at IS NULL;
CREATE INDEX tasks_lead ON tasks(lead_id);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    lead_id INTEGER,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    read_at INTEGER
);
CREATE INDEX notifications_user ON notifications(user_id, created_at);
