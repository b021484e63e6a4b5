-- The intake reads each candidate contact's phones and emails by contact: thousands of contacts
-- a batch once block keys gather namesakes. These indexes hold what it reads, so each contact
-- can be answered from the index. (A lead's product has no length limit, more than an index
-- entry may hold here, so the leads keep their index by contact alone.)
DROP INDEX contact_phones_contact;
CREATE INDEX contact_phones_contact ON contact_phones(contact_id) INCLUDE (e164);
DROP INDEX contact_emails_contact;
CREATE INDEX contact_emails_contact ON contact_emails(contact_id) INCLUDE (match_key);
