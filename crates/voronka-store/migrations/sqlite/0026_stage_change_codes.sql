-- A stage move the system made keeps its reason as a code and the values its text names, so
-- the text is made where it is shown (and can be translated); a person's own reason stays in
-- `reason`. Entries written before are recognised by their exact system wording.
ALTER TABLE stage_changes ADD COLUMN reason_code TEXT;
ALTER TABLE stage_changes ADD COLUMN reason_args TEXT;

UPDATE stage_changes
   SET reason_code = 'captured', reason_args = json_object('channel', substr(reason, 14)), reason = NULL
 WHERE actor_id IS NULL AND actor = 'intake' AND from_stage IS NULL
   AND reason LIKE 'captured via %' AND instr(substr(reason, 14), ' ') = 0;

UPDATE stage_changes
   SET reason_code = 'asked_again', reason = NULL, comment = NULL
 WHERE actor_id IS NULL AND actor = 'intake' AND reason = 'asked again'
   AND comment = 'a new request reopened the refused lead';

UPDATE stage_changes
   SET reason_code = 'freeze_passed',
       reason_args = CASE WHEN comment IS NULL THEN NULL
                          ELSE json_object('refused', substr(comment, 14)) END,
       reason = NULL, comment = NULL
 WHERE actor_id IS NULL AND actor = 'freeze timer' AND reason = 'freeze date passed'
   AND (comment IS NULL OR comment LIKE 'was refused: %');

UPDATE stage_changes
   SET reason_code = 'score_rule', reason_args = json_object('rule', reason), reason = NULL
 WHERE actor_id IS NULL AND actor = 'scoring' AND reason IS NOT NULL;
