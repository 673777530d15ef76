-- The registry's audit trail in audit_log (0005_auth.sql): every registry
-- change writes one row in its own transaction, with the model, version,
-- field and the value before and after (old_value NULL: there was none;
-- new_value NULL: it was removed). A rename moves the model's rows to the
-- new name in the same transaction, so its history follows it.
ALTER TABLE audit_log
    ADD COLUMN model     text,
    ADD COLUMN version   bigint,
    ADD COLUMN field     text,
    ADD COLUMN old_value text,
    ADD COLUMN new_value text;
CREATE INDEX audit_log_model ON audit_log (model, id DESC) WHERE model IS NOT NULL;
COMMENT ON INDEX audit_log_model IS 'registered-models/audit: one model''s changes, newest first';
