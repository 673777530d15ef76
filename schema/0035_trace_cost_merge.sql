-- Metadata mlflow.trace.cost written over an existing value (a V3 create,
-- or a V2 end, of a trace whose spans OTLP ingest already rolled up) is
-- merged into it instead of replacing it: the members the new value gives
-- win, the members only the old one has are kept (mlflow-models-api.md
-- 3.5: "new fields win, missing ones are kept", applied inside the JSON
-- object). When either side is not a JSON object, or the new value already
-- names every member of the old one, the new text is stored as sent.
CREATE FUNCTION trace_cost_merge(old_value text, new_value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    o jsonb;
    n jsonb;
BEGIN
    BEGIN
        o := old_value::jsonb;
        n := new_value::jsonb;
    EXCEPTION WHEN others THEN
        RETURN new_value;
    END;
    IF jsonb_typeof(o) IS DISTINCT FROM 'object' OR jsonb_typeof(n) IS DISTINCT FROM 'object' THEN
        RETURN new_value;
    END IF;
    IF o - ARRAY(SELECT jsonb_object_keys(n)) = '{}'::jsonb THEN
        RETURN new_value;
    END IF;
    RETURN (o || n)::text;
END
$$;
