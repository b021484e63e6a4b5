-- Why a lead went to whom, notifications and what an SLA step did are kept as a code and the
-- values they name (`{"code":…,"args":{…}}`), so that their text is made where it is shown.
-- Rows written before keep their English text in the old columns, which new rows leave empty.
ALTER TABLE leads ADD COLUMN route_coded TEXT;
ALTER TABLE assignments ADD COLUMN coded TEXT;
ALTER TABLE notifications ADD COLUMN coded TEXT;
ALTER TABLE sla_events ADD COLUMN coded TEXT;
