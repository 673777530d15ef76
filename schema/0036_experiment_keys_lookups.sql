-- experiment_keys (0002) triggers without a join to runs. Each write
-- statement's trigger joined its transition table to runs; PL/pgSQL keeps
-- the first plan of a session, and a server's connections usually make it
-- while runs is small: a hash join over a sequential scan of runs, kept as
-- runs grows (until an ANALYZE invalidates it). In the run-setup benchmark
-- (tests/bench/setup.sh, autovacuum off, a few thousand runs) the three
-- triggers of a run then cost 0.74 ms of the 3.0 ms a run's statements took
-- in pg_stat_statements. Here the run's experiment and the metric's name are
-- looked up by primary key for each row of the transition table (a write
-- statement's rows are of one run, a few dozen at most), whatever the
-- table sizes: enable_seqscan is off inside the functions, because a plan
-- made while runs fits in a page or two would otherwise scan it for each
-- row for the rest of the session. The rows written are the same as 0002's.
CREATE OR REPLACE FUNCTION experiment_keys_from_metrics() RETURNS trigger LANGUAGE plpgsql
SET enable_seqscan = off AS $$
BEGIN
    INSERT INTO experiment_keys (experiment_id, kind, key)
    SELECT DISTINCT
        (SELECT r.experiment_id FROM runs r WHERE r.id = n.run_id), 'm',
        (SELECT k.name FROM metric_keys k WHERE k.id = n.key_id)
    FROM new_rows n
    ORDER BY 1, 3
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION experiment_keys_from_params() RETURNS trigger LANGUAGE plpgsql
SET enable_seqscan = off AS $$
BEGIN
    INSERT INTO experiment_keys (experiment_id, kind, key)
    SELECT DISTINCT (SELECT r.experiment_id FROM runs r WHERE r.id = n.run_id), 'p', n.key
    FROM new_rows n
    ORDER BY 1, 3
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION experiment_keys_from_tags() RETURNS trigger LANGUAGE plpgsql
SET enable_seqscan = off AS $$
BEGIN
    INSERT INTO experiment_keys (experiment_id, kind, key)
    SELECT DISTINCT (SELECT r.experiment_id FROM runs r WHERE r.id = n.run_id), 't', n.key
    FROM new_rows n
    ORDER BY 1, 3
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
