-- Cache token counts of a span (issue 16; mlflow-models-api.md 3.11): the
-- ingest sums mlflow.chat.tokenUsage's cache_read_input_tokens and
-- cache_creation_input_tokens into the trace's mlflow.trace.tokenUsage, as
-- it sums input_tokens and output_tokens (0018). NULL: the span did not
-- report it. Adding nullable columns without a default rewrites nothing.
ALTER TABLE trace_spans
    ADD COLUMN cache_read_input_tokens bigint,
    ADD COLUMN cache_creation_input_tokens bigint;
