-- The logged-model tag mlflow.modelVersions (mlflow-models-api.md 2.7 step
-- 11, quirk 27): model-versions/create from a logged model sets it on that
-- model, in the version's own transaction. Its value is a JSON list of
-- {"name", "version"} objects, the version always a string, one entry per
-- (name, version). This function gives the value after `version` of `name`
-- joined the list `old` (NULL: no tag yet). Entries a client wrote with the
-- version as a number are rewritten with a string and count as the same
-- entry; an old value that is not a JSON list starts a new list, and list
-- items that are not {name, version} objects stay as they are (as the
-- PATCH path's lm_model_versions_normalize keeps them). SQL's jsonb does
-- the JSON so that the store code in C stays free of a JSON library.
CREATE FUNCTION exptrack_model_versions_tag(old text, name text, version text)
RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    cur jsonb := '[]';
    result jsonb := '[]';
    seen text[] := '{}';
    e jsonb;
    k text;
BEGIN
    IF old IS NOT NULL THEN
        BEGIN
            cur := old::jsonb;
        EXCEPTION WHEN others THEN
            cur := '[]';
        END;
        IF jsonb_typeof(cur) <> 'array' THEN
            cur := '[]';
        END IF;
    END IF;
    cur := cur || jsonb_build_array(jsonb_build_object('name', name, 'version', version));
    FOR e IN SELECT a FROM jsonb_array_elements(cur) AS t(a) LOOP
        IF jsonb_typeof(e) = 'object' AND jsonb_typeof(e -> 'name') = 'string'
           AND jsonb_typeof(e -> 'version') IN ('string', 'number') THEN
            k := jsonb_build_array(e ->> 'name', e ->> 'version')::text;
            IF NOT (k = ANY (seen)) THEN
                seen := seen || k;
                result := result || jsonb_build_array(
                    jsonb_build_object('name', e ->> 'name', 'version', e ->> 'version'));
            END IF;
        ELSE
            result := result || jsonb_build_array(e);
        END IF;
    END LOOP;
    RETURN result::text;
END
$$;
