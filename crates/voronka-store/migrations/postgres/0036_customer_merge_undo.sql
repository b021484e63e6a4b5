-- What a customer merge removed and moved, so that it can be undone: the removed customer's
-- person, company and creation time, and (JSON) the ids of the deals and leads moved and of the
-- merges re-pointed; and when and by whom it was undone. Merges made before this have none and
-- stay as they are.
ALTER TABLE customer_merges ADD COLUMN from_contact_id BIGINT;
ALTER TABLE customer_merges ADD COLUMN from_account_id BIGINT;
ALTER TABLE customer_merges ADD COLUMN from_created_at BIGINT;
ALTER TABLE customer_merges ADD COLUMN moved TEXT;
ALTER TABLE customer_merges ADD COLUMN undone_at BIGINT;
ALTER TABLE customer_merges ADD COLUMN undone_by TEXT;
CREATE INDEX customer_merges_contact ON customer_merges(from_contact_id);
