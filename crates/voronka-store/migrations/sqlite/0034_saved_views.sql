-- Inbox filters a person saved under a name; a shared one shows to the whole team.
CREATE TABLE saved_views (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    shared BOOLEAN NOT NULL DEFAULT FALSE,
    created_at INTEGER NOT NULL
);
CREATE INDEX saved_views_user ON saved_views(user_id);
CREATE INDEX saved_views_shared ON saved_views(shared);
