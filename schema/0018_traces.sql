-- MLflow 3 GenAI traces (mlflow-models-api.md section 3): the trace info
-- both protocols share, its tags and metadata, its links to runs and
-- prompt versions, assessments, and the spans themselves (OTLP ingest and
-- the traces.json upload both land in trace_spans).
--
-- trace_id is what clients see: 32 lowercase hex for V2 (server-made) and
-- "tr-" + 32 hex for V3 and OTLP (client-made). Every child row carries the
-- trace id and goes with its trace (ON DELETE CASCADE), so delete-traces is
-- one DELETE of trace rows.

CREATE TABLE traces (
    trace_id           text PRIMARY KEY CHECK (trace_id ~ '^(tr-)?[0-9a-f]{32}$'),
    experiment_id      bigint NOT NULL REFERENCES experiments,
    request_time       bigint NOT NULL,          -- ms since the epoch
    execution_duration bigint,                   -- ms; NULL while in progress (V2)
    -- State number: 0 unspecified, 1 OK, 2 ERROR, 3 IN_PROGRESS
    state              smallint NOT NULL CHECK (state BETWEEN 0 AND 3),
    client_request_id  text,
    request_preview    text,
    response_preview   text,
    input_tokens       bigint,
    output_tokens      bigint,
    total_tokens       bigint,
    created            bigint NOT NULL,
    updated            bigint NOT NULL
);
CREATE INDEX traces_search ON traces (experiment_id, request_time DESC, trace_id);
COMMENT ON INDEX traces_search IS
    'trace search default order (request_time DESC, trace_id) and delete-traces by age';

CREATE TABLE trace_tags (
    trace_id text NOT NULL REFERENCES traces ON DELETE CASCADE,
    key      text NOT NULL CHECK (length(key) BETWEEN 1 AND 250),
    value    text NOT NULL CHECK (length(value) <= 8000),
    PRIMARY KEY (trace_id, key)
);
CREATE INDEX trace_tags_key_value ON trace_tags (key, value);

CREATE TABLE trace_metadata (
    trace_id text NOT NULL REFERENCES traces ON DELETE CASCADE,
    key      text NOT NULL CHECK (length(key) BETWEEN 1 AND 250),
    value    text NOT NULL CHECK (length(value) <= 8000),
    PRIMARY KEY (trace_id, key)
);
CREATE INDEX trace_metadata_key_value ON trace_metadata (key, value);

-- link-to-run: plain association rows (the run is checked by the handler)
CREATE TABLE trace_run_links (
    trace_id text NOT NULL REFERENCES traces ON DELETE CASCADE,
    run_id   text NOT NULL,
    PRIMARY KEY (trace_id, run_id)
);
CREATE INDEX trace_run_links_run ON trace_run_links (run_id);

CREATE TABLE trace_prompt_links (
    trace_id text NOT NULL REFERENCES traces ON DELETE CASCADE,
    name     text NOT NULL,
    version  text NOT NULL,
    PRIMARY KEY (trace_id, name, version)
);

-- Assessments: feedback, expectations, issues on a trace or one of its
-- spans. kind: 1 feedback, 2 expectation, 3 issue. value is the JSON value;
-- extra holds the rest of the kind's message (error, serialized_value,
-- issue_name) as JSON.
CREATE TABLE assessments (
    assessment_id    text PRIMARY KEY CHECK (assessment_id ~ '^a-[0-9a-f]{32}$'),
    trace_id         text NOT NULL REFERENCES traces ON DELETE CASCADE,
    experiment_id    bigint NOT NULL,
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 250),
    span_id          text,
    source_type      smallint NOT NULL DEFAULT 0,
    source_id        text,
    kind             smallint NOT NULL CHECK (kind BETWEEN 1 AND 3),
    value            jsonb,
    extra            jsonb,
    rationale        text,
    metadata         jsonb NOT NULL DEFAULT '{}',
    overrides        text,
    valid            boolean NOT NULL DEFAULT true,
    create_time      bigint NOT NULL,
    last_update_time bigint NOT NULL
);
CREATE INDEX assessments_trace ON assessments (trace_id, create_time);

-- Spans. Ids are lowercase hex (16 digits; parent NULL for a root).
-- attributes: key -> the attribute's JSON value (native, not the
-- JSON-encoded strings of traces.json); events: the OTLP events as JSON.
CREATE TABLE trace_spans (
    trace_id       text NOT NULL REFERENCES traces ON DELETE CASCADE,
    span_id        text NOT NULL CHECK (span_id ~ '^[0-9a-f]{16}$'),
    parent_span_id text CHECK (parent_span_id ~ '^[0-9a-f]{16}$'),
    experiment_id  bigint NOT NULL,
    name           text NOT NULL,
    span_type      text,
    kind           smallint NOT NULL DEFAULT 0,
    trace_state    text,
    status_code    smallint NOT NULL DEFAULT 0, -- 0 unset, 1 ok, 2 error
    status_message text,
    start_ns       bigint NOT NULL,
    end_ns         bigint,
    attributes     jsonb NOT NULL DEFAULT '{}',
    events         jsonb NOT NULL DEFAULT '[]',
    input_tokens   bigint,
    output_tokens  bigint,
    PRIMARY KEY (trace_id, span_id)
);
