-- Params are write-once (MLflow). A write compares its value with the stored
-- one in its statement's snapshot, which cannot see a write of the same key
-- that another transaction commits after the statement began; the insert
-- itself does see it (ON CONFLICT waits for that transaction and then reads
-- the committed row). A one-statement log-batch that finds such a clash at
-- its insert calls this to fail as a whole, writing nothing; run again, it
-- reads the stored value and answers the param-change error.
CREATE FUNCTION exptrack_param_clash(param_key text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'param % was written with another value by a concurrent request', param_key
        USING ERRCODE = 'unique_violation';
END
$$;
