-- A contact's social profiles are read by contact (the lead's page, the intake's candidates, merges,
-- duplicate scans): without this index each of those read the whole table.
CREATE INDEX contact_socials_contact ON contact_socials(contact_id);
