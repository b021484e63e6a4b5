-- The stage history's entries into MQL, SQL and converted, apart: the channel report asks of each
-- lead of its period whether it ever reached one, and most entries (a lead's arrival as new,
-- work begun, refusals) are none of these.
CREATE INDEX stage_changes_reached ON stage_changes(lead_id, to_stage)
    WHERE to_stage IN ('mql', 'sql', 'converted');
