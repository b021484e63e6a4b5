-- Block keys made before digits were kept apart ("Company 1881" folded like "Company 181") are
-- brought up to date when the application next opens the database; this marks the work pending
-- (`App::refresh_block_keys`, which records its progress here and marks it done).
INSERT INTO settings (name, value, updated_at) VALUES ('block_keys_refresh', '0', 0);
