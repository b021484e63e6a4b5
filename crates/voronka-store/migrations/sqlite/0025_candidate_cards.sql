-- The intake reads each candidate contact's phones, emails and leads by contact: thousands of
-- contacts a batch once block keys gather namesakes. These indexes hold what it reads, so each
-- contact costs one probe into a small index instead of a second one into the table's rows
-- (a lead's row is about a kilobyte).
DROP INDEX contact_phones_contact;
CREATE INDEX contact_phones_contact ON contact_phones(contact_id, e164);
DROP INDEX contact_emails_contact;
CREATE INDEX contact_emails_contact ON contact_emails(contact_id, match_key);
DROP INDEX leads_contact;
CREATE INDEX leads_contact ON leads(contact_id, merged_into, id, stage, owner_id, updated_at, product);
