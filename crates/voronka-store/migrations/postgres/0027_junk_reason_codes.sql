-- The intake's reason for a junk lead is kept as its code and values (a one-item list in the
-- stored form of reasons), so that its text is made where it is shown; a person's junk reason
-- stays in `junk_reason`. Leads stored before keep their text.
ALTER TABLE leads ADD COLUMN junk_args TEXT;
