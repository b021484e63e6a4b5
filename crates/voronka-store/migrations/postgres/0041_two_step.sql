-- Two-step sign-in: a time-based one-time password (TOTP) app's secret per person, the one being
-- set up, and the last time step used (a code works once).
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending TEXT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;

-- Recovery codes, each good once, kept by their hash.
CREATE TABLE recovery_codes (
    user_id BIGINT NOT NULL REFERENCES users(id),
    code_hash TEXT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- A sign-in whose password was right and that waits for its second step, kept by the hash of its
-- token.
CREATE TABLE signin_challenges (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    user_agent TEXT,
    expires_at BIGINT NOT NULL
);
CREATE INDEX signin_challenges_expires ON signin_challenges (expires_at);
