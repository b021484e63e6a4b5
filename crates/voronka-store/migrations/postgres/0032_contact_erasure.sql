-- When a person's personal data was erased at their request (the row stays, without it).
ALTER TABLE contacts ADD COLUMN erased_at BIGINT;
