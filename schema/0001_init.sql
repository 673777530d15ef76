-- exptrack's first schema: experiments, runs, params, tags, metrics, datasets.
-- Applied once, in one transaction, by server/migrate.c. Never edit a released
-- migration; add 0002_*.sql instead.

-- Experiments keep MLflow's integer ids (rendered as strings on the wire);
-- id 0 is the "Default" experiment, so the sequence starts at 1.
CREATE TABLE experiments (
    experiment_id     bigint PRIMARY KEY,
    name              text NOT NULL UNIQUE,
    artifact_location text NOT NULL,
    lifecycle_stage   text NOT NULL DEFAULT 'active'
                      CHECK (lifecycle_stage IN ('active', 'deleted')),
    creation_time     bigint NOT NULL,
    last_update_time  bigint NOT NULL
);
CREATE SEQUENCE experiments_id_seq START 1 OWNED BY experiments.experiment_id;

INSERT INTO experiments (experiment_id, name, artifact_location, creation_time, last_update_time)
VALUES (0, 'Default', 'mlflow-artifacts:/0',
        (extract(epoch FROM clock_timestamp()) * 1000)::bigint,
        (extract(epoch FROM clock_timestamp()) * 1000)::bigint);

CREATE TABLE experiment_tags (
    experiment_id bigint NOT NULL REFERENCES experiments ON DELETE CASCADE,
    key           text NOT NULL,
    value         text NOT NULL,
    PRIMARY KEY (experiment_id, key)
);

-- Runs have a narrow bigint surrogate key for every child table; the 32-hex
-- id clients see is the uuid column.
CREATE TABLE runs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_uuid        uuid NOT NULL UNIQUE,
    experiment_id   bigint NOT NULL REFERENCES experiments,
    name            text NOT NULL,
    user_id         text NOT NULL,
    status          smallint NOT NULL CHECK (status BETWEEN 1 AND 5), -- RunStatus number
    start_time      bigint NOT NULL,
    end_time        bigint,
    lifecycle_stage text NOT NULL DEFAULT 'active'
                    CHECK (lifecycle_stage IN ('active', 'deleted')),
    deleted_time    bigint,
    artifact_uri    text NOT NULL
);
CREATE INDEX runs_experiment_start ON runs (experiment_id, start_time DESC, run_uuid);
COMMENT ON INDEX runs_experiment_start IS
    'runs/search default order: start_time DESC, run id ASC within experiments';

CREATE TABLE params (
    run_id bigint NOT NULL REFERENCES runs ON DELETE CASCADE,
    key    text NOT NULL,
    value  text NOT NULL,
    PRIMARY KEY (run_id, key)
);

CREATE TABLE tags (
    run_id bigint NOT NULL REFERENCES runs ON DELETE CASCADE,
    key    text NOT NULL,
    value  text NOT NULL,
    PRIMARY KEY (run_id, key)
);

-- Metric names are interned so a point row stays narrow.
CREATE TABLE metric_keys (
    id   integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE
);

-- Every logged point. The primary key makes an identical re-sent point a
-- no-op (MLflow's idempotency) and serves get-history in step order. No
-- foreign key to runs: a per-row trigger would halve ingestion; runs are only
-- soft-deleted, and permanent deletion removes points explicitly.
CREATE TABLE metrics (
    run_id    bigint NOT NULL,
    key_id    integer NOT NULL,
    step      bigint NOT NULL,
    timestamp bigint NOT NULL,
    value     float8 NOT NULL,
    PRIMARY KEY (run_id, key_id, step, timestamp, value)
);
COMMENT ON INDEX metrics_pkey IS
    'dedup of identical points; get-history of one run and key in step order';

-- The latest point per run and key, maintained in the same transaction as
-- every write, so run pages and searches never scan history.
CREATE TABLE latest_metrics (
    run_id    bigint NOT NULL REFERENCES runs ON DELETE CASCADE,
    key_id    integer NOT NULL REFERENCES metric_keys,
    step      bigint NOT NULL,
    timestamp bigint NOT NULL,
    value     float8 NOT NULL,
    PRIMARY KEY (run_id, key_id)
);

-- Datasets logged with runs/log-inputs, deduplicated per experiment by (name, digest).
CREATE TABLE datasets (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    experiment_id bigint NOT NULL REFERENCES experiments,
    name          text NOT NULL,
    digest        text NOT NULL,
    source_type   text NOT NULL,
    source        text NOT NULL,
    schema        text,
    profile       text,
    UNIQUE (experiment_id, name, digest)
);

CREATE TABLE run_inputs (
    run_id     bigint NOT NULL REFERENCES runs ON DELETE CASCADE,
    dataset_id bigint NOT NULL REFERENCES datasets,
    PRIMARY KEY (run_id, dataset_id)
);

CREATE TABLE input_tags (
    run_id     bigint NOT NULL,
    dataset_id bigint NOT NULL,
    key        text NOT NULL,
    value      text NOT NULL,
    PRIMARY KEY (run_id, dataset_id, key),
    FOREIGN KEY (run_id, dataset_id) REFERENCES run_inputs ON DELETE CASCADE
);
