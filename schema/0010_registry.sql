-- The model registry (mlflow-models-api.md section 1): registered models,
-- their versions, tags and aliases.
--
-- Names are the keys, as in MLflow: a rename updates the model row and
-- every child row follows through ON UPDATE CASCADE (versions, then their
-- tags and aliases); a model delete removes everything through ON DELETE
-- CASCADE. Deleted versions stay as tombstones (stage 'Deleted_Internal')
-- so that their numbers are never reused while the model exists.

CREATE TABLE registered_models (
    name              text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 256),
    creation_time     bigint NOT NULL,
    last_updated_time bigint NOT NULL,
    description       text,
    -- the number the next created version gets: taken and raised under the
    -- row lock of an UPDATE, so concurrent creates get consecutive numbers
    next_version      bigint NOT NULL DEFAULT 1
);

CREATE TABLE registered_model_tags (
    name  text NOT NULL REFERENCES registered_models ON UPDATE CASCADE ON DELETE CASCADE,
    key   text NOT NULL,
    value text NOT NULL,
    PRIMARY KEY (name, key)
);

CREATE TABLE model_versions (
    name              text NOT NULL REFERENCES registered_models ON UPDATE CASCADE ON DELETE CASCADE,
    version           bigint NOT NULL,
    creation_time     bigint NOT NULL,
    last_updated_time bigint,
    description       text,
    current_stage     text NOT NULL DEFAULT 'None',
    source            text,
    storage_location  text,
    run_id            text,
    run_link          text,
    status            text NOT NULL DEFAULT 'READY',
    status_message    text,
    PRIMARY KEY (name, version)
);
CREATE INDEX model_versions_updated ON model_versions (last_updated_time DESC, name, version DESC);
COMMENT ON INDEX model_versions_updated IS
    'model-versions/search: the default order (last update first)';

CREATE TABLE model_version_tags (
    name    text NOT NULL,
    version bigint NOT NULL,
    key     text NOT NULL,
    value   text NOT NULL,
    PRIMARY KEY (name, version, key),
    FOREIGN KEY (name, version) REFERENCES model_versions ON UPDATE CASCADE ON DELETE CASCADE
);

CREATE TABLE registered_model_aliases (
    name    text NOT NULL,
    alias   text NOT NULL,
    version bigint NOT NULL,
    PRIMARY KEY (name, alias),
    FOREIGN KEY (name, version) REFERENCES model_versions ON UPDATE CASCADE ON DELETE CASCADE
);
