-- Per-registered-model permissions (mlflow-models-api.md section 6.1), as
-- experiment_permissions in 0005_auth.sql: one row per (model, user), a
-- missing row meaning --default-permission. Prompts are registered models
-- and share the table.
--
-- The name references the model, so the records follow it: a rename moves
-- them to the new name (MLflow 3.x) and a delete removes all of them
-- (MLflow 3.10), in the same transaction as the change itself.
CREATE TABLE registered_model_permissions (
    name       text NOT NULL REFERENCES registered_models ON UPDATE CASCADE ON DELETE CASCADE,
    user_id    bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    permission text NOT NULL
               CHECK (permission IN ('READ', 'EDIT', 'MANAGE', 'NO_PERMISSIONS')),
    PRIMARY KEY (name, user_id)
);
CREATE INDEX registered_model_permissions_user ON registered_model_permissions (user_id);
COMMENT ON INDEX registered_model_permissions_user IS
    'users/get and search filtering: the model permissions of one user';
