-- What a channel cost: a source's budget, or one of its media or campaigns, for the time from
-- starts_at up to (not including) ends_at; the channel report spreads it evenly over that time.
CREATE TABLE channel_spend (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    medium TEXT,
    campaign TEXT,
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    note TEXT,
    created_by TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX channel_spend_period ON channel_spend(starts_at, ends_at);
