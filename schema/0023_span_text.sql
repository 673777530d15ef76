-- Span attributes and events as the JSON text the readers serve, not jsonb
-- (issue 16). Nothing queries into them: search, the stats rollups and the
-- token columns read other columns. A jsonb column made PostgreSQL parse
-- the text on every insert and print it again on every read of a trace
-- (jsonb -> text was about 80% of PostgreSQL's time reading 10,000 spans).
-- exptrackd writes the text in jsonb's own key order and form (compact),
-- so what the readers serve does not change; the existing rows keep
-- jsonb's output form (", ", ": "), which the readers take as well.
-- 0022's partial index of the spans that carry mlflow.llm.cost tested the
-- jsonb key; on text it tests the quoted key in the text (a key inside a
-- string value is escaped, \"mlflow.llm.cost\", and does not match; a
-- false match costs one cast in the stats rollup, which then finds no key).
DROP INDEX trace_spans_cost;
ALTER TABLE trace_spans
    ALTER COLUMN attributes DROP DEFAULT,
    ALTER COLUMN events DROP DEFAULT,
    ALTER COLUMN attributes TYPE text USING attributes::text,
    ALTER COLUMN events TYPE text USING events::text,
    ALTER COLUMN attributes SET DEFAULT '{}',
    ALTER COLUMN events SET DEFAULT '[]';
CREATE INDEX trace_spans_cost ON trace_spans (experiment_id)
    WHERE strpos(attributes, '"mlflow.llm.cost"') > 0;
