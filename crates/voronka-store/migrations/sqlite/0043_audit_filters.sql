-- The audit log read by who did it, by the action, and by the kind of record, newest first.
CREATE INDEX audit_actor ON audit_log (actor_id, id);
CREATE INDEX audit_action ON audit_log (action, id);
CREATE INDEX audit_kind ON audit_log (entity, id);
