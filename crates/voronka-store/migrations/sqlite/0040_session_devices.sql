-- What a session signed in from and when it was last seen: its person lists their sessions and
-- ends those they do not know.
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER;
CREATE INDEX sessions_user_created ON sessions (user_id, created_at);
DROP INDEX sessions_user;
