-- The intake looks up the latest contacts of each block key (name and company) that were not
-- merged away; this index answers that from its own entries, without reading the contacts.
CREATE INDEX contacts_block ON contacts(name_key, merged_into, id);
DROP INDEX contacts_name_key;
