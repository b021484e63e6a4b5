-- Indexes for the inbox's common filters: a stage tab in inbox order, and a channel with its stages.
DROP INDEX IF EXISTS leads_stage_created;
DROP INDEX IF EXISTS leads_source;
CREATE INDEX leads_stage_inbox ON leads(stage, inbox_rank DESC, created_at DESC, id DESC);
CREATE INDEX leads_source_stage ON leads(source, stage, created_at);
CREATE INDEX leads_medium ON leads(medium, stage);
