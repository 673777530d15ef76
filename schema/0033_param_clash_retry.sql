-- A param clash found at a log-batch's insert (0026) means the statement ran
-- on a snapshot older than a concurrent commit: run again, it answers the
-- param-change error. Say so with serialization_failure, the SQLSTATE that
-- means "run the statement again", so that exptrackd retries exactly that
-- and not every unique violation (a real one is a bug, and is not retried).
CREATE OR REPLACE FUNCTION exptrack_param_clash(param_key text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'param % was written with another value by a concurrent request', param_key
        USING ERRCODE = 'serialization_failure';
END
$$;
