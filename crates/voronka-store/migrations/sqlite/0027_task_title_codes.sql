-- A task the system makes keeps a code for its title, made where it is shown (and can be
-- translated); `title` keeps its English text too. Tasks made before are recognised by their
-- exact wording and who made them.
ALTER TABLE tasks ADD COLUMN title_code TEXT;

UPDATE tasks SET title_code = 'call_again' WHERE created_by = 'outcome' AND title = 'Call again';
UPDATE tasks SET title_code = 'call_back' WHERE created_by = 'outcome' AND title = 'Call back as agreed';
UPDATE tasks SET title_code = 'write_instead'
 WHERE created_by = 'outcome' AND title = 'Wrong number: write instead';
UPDATE tasks SET title_code = 'send_offer' WHERE created_by = 'outcome' AND title = 'Send the offer';
UPDATE tasks SET title_code = 'call_revived'
 WHERE created_by = 'freeze timer' AND title = 'Call the revived lead';
