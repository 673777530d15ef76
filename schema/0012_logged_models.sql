-- MLflow 3 logged models (mlflow-models-api.md section 2): an
-- experiment-scoped model with its own artifact directory, tags, params
-- and metrics, and the links between runs and the models they produced
-- (runs/outputs) or used (runs/log-inputs with "models").
--
-- The 34-character "m-<32 hex>" id clients see is the key, as in MLflow.
-- Deletion is soft (lifecycle_stage), and the artifacts are never removed.

CREATE TABLE logged_models (
    model_id          text PRIMARY KEY CHECK (model_id ~ '^m-[0-9a-f]{32}$'),
    experiment_id     bigint NOT NULL REFERENCES experiments,
    name              text NOT NULL,
    model_type        text NOT NULL DEFAULT '',
    source_run_id     text NOT NULL DEFAULT '',
    -- LoggedModelStatus number: 0 unspecified, 1 pending, 2 ready, 3 upload failed
    status            smallint NOT NULL CHECK (status BETWEEN 0 AND 3),
    status_message    text,
    artifact_location text NOT NULL,
    lifecycle_stage   text NOT NULL DEFAULT 'active'
                      CHECK (lifecycle_stage IN ('active', 'deleted')),
    creation_time     bigint NOT NULL,
    last_updated_time bigint NOT NULL
);
CREATE INDEX logged_models_experiment ON logged_models (experiment_id, creation_time DESC, model_id);
COMMENT ON INDEX logged_models_experiment IS
    'logged-models/search default order: creation time DESC within experiments';
CREATE INDEX logged_models_name ON logged_models (experiment_id, name);
COMMENT ON INDEX logged_models_name IS
    'logged-models/search by name: register_model("runs:/R/<name>") and runs:/ downloads';

CREATE TABLE logged_model_tags (
    model_id text NOT NULL REFERENCES logged_models ON DELETE CASCADE,
    key      text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    value    text NOT NULL,
    PRIMARY KEY (model_id, key)
);

CREATE TABLE logged_model_params (
    model_id text NOT NULL REFERENCES logged_models ON DELETE CASCADE,
    key      text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    value    text NOT NULL,
    PRIMARY KEY (model_id, key)
);

-- Metric points that carried a model_id (log-metric, log-batch). The run
-- side keeps its own copy in metrics; this table is what
-- LoggedModel.data.metrics and logged-models/search read. run_id and the
-- dataset fields are '' when the point had none. No foreign key to
-- logged_models: like runs/outputs, the model id is not checked, and a
-- trigger per point would slow ingestion.
CREATE TABLE logged_model_metrics (
    model_id       text NOT NULL,
    key            text NOT NULL,
    timestamp      bigint NOT NULL,
    step           bigint NOT NULL,
    run_id         text NOT NULL DEFAULT '',
    value          float8 NOT NULL,
    experiment_id  bigint NOT NULL,
    dataset_name   text NOT NULL DEFAULT '',
    dataset_digest text NOT NULL DEFAULT '',
    PRIMARY KEY (model_id, key, timestamp, step, run_id, dataset_name, dataset_digest)
);
COMMENT ON INDEX logged_model_metrics_pkey IS
    'dedup of identical points; a model''s metrics by key (search, order by metric)';

-- runs/outputs: repeated calls add repeated rows, which MLflow shows
-- twice in run.outputs.model_outputs; seq keeps their order.
CREATE TABLE run_model_outputs (
    seq      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id   bigint NOT NULL REFERENCES runs ON DELETE CASCADE,
    model_id text NOT NULL,
    step     bigint NOT NULL
);
CREATE INDEX run_model_outputs_run ON run_model_outputs (run_id, seq);

-- runs/log-inputs with "models": [{"model_id"}]; logging one twice is a no-op.
CREATE TABLE run_model_inputs (
    run_id   bigint NOT NULL REFERENCES runs ON DELETE CASCADE,
    model_id text NOT NULL,
    PRIMARY KEY (run_id, model_id)
);
