-- Links that let a person set a new password (by email), kept by the hash of their token.
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX password_resets_user ON password_resets (user_id, created_at);

-- Failed sign-ins by the email typed: too many in a while lock that email's sign-in for a time.
CREATE TABLE login_failures (
    email TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_failures_email ON login_failures (email, at);
CREATE INDEX login_failures_at ON login_failures (at);

-- A person's sessions, ended together when their password changes.
CREATE INDEX sessions_user ON sessions (user_id);
