-- Search and query (issue 3): indexes for runs/search filters and orderings,
-- and the distinct keys of each experiment for column pickers. Each index
-- names the query it serves in its COMMENT.

-- metrics.<k> <op> <number>: the compiled filter resolves the key to its id
-- once and asks for runs whose latest value lies in a range, so the planner
-- can read (key_id, value) ranges and hash the matching run ids. Ordering by
-- a metric hash-joins the same index (index-only) by key_id.
CREATE INDEX latest_metrics_key_value ON latest_metrics (key_id, value, run_id);
COMMENT ON INDEX latest_metrics_key_value IS
    'runs/search: metric filters (key range scan) and order by metric (key_id scan)';

-- params.<k> = '<v>' and tags.<k> = '<v>': values may be up to 8000
-- characters, too long for a btree entry, so the index holds the first 200
-- characters and the filter repeats the condition on left(value, 200).
-- LIKE/ILIKE and ordering by a param or tag scan one key's range of it.
CREATE INDEX params_key_value ON params (key, left(value, 200), run_id);
COMMENT ON INDEX params_key_value IS
    'runs/search: params.k = v (key + value prefix), other param filters and order by param (key range)';
CREATE INDEX tags_key_value ON tags (key, left(value, 200), run_id);
COMMENT ON INDEX tags_key_value IS
    'runs/search: tags.k = v (key + value prefix), tag LIKE filters and order by tag (key range)';

-- runs/search default order, filtered by status or a time attribute: the
-- existing runs_experiment_start index walks one experiment in
-- (start_time DESC, run_uuid) order, and keyset paging starts the walk at
-- the page token's start_time.

-- experiments/search: filter and order by name (name is already UNIQUE),
-- default order creation_time DESC, experiment_id.
CREATE INDEX experiments_creation ON experiments (creation_time DESC, experiment_id);
COMMENT ON INDEX experiments_creation IS
    'experiments/search default order: creation_time DESC, experiment_id ASC';

-- Metric history downsampling and get-history-bulk-interval read one
-- (run, key) series in step order: the metrics primary key
-- (run_id, key_id, step, timestamp, value) already covers them, index-only.

-- The distinct metric, param and tag keys ever used in an experiment, for
-- GET /api/2.0/exptrack/experiments/keys. Kept by statement-level triggers
-- (one INSERT per write statement, only for rows that were inserted, so
-- repeated logging of known keys costs one empty scan), because computing
-- DISTINCT over millions of rows per request is not cheap.
CREATE TABLE experiment_keys (
    experiment_id bigint NOT NULL REFERENCES experiments ON DELETE CASCADE,
    kind          "char" NOT NULL CHECK (kind IN ('m', 'p', 't')),
    key           text NOT NULL,
    PRIMARY KEY (experiment_id, kind, key)
);
COMMENT ON INDEX experiment_keys_pkey IS
    'exptrack/experiments/keys: the keys of one experiment and kind, sorted';

CREATE FUNCTION experiment_keys_from_metrics() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO experiment_keys (experiment_id, kind, key)
    SELECT DISTINCT r.experiment_id, 'm', k.name
    FROM new_rows n JOIN runs r ON r.id = n.run_id JOIN metric_keys k ON k.id = n.key_id
    ORDER BY 1, 3
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE FUNCTION experiment_keys_from_params() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO experiment_keys (experiment_id, kind, key)
    SELECT DISTINCT r.experiment_id, 'p', n.key
    FROM new_rows n JOIN runs r ON r.id = n.run_id
    ORDER BY 1, 3
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE FUNCTION experiment_keys_from_tags() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO experiment_keys (experiment_id, kind, key)
    SELECT DISTINCT r.experiment_id, 't', n.key
    FROM new_rows n JOIN runs r ON r.id = n.run_id
    ORDER BY 1, 3
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER latest_metrics_keys AFTER INSERT ON latest_metrics
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION experiment_keys_from_metrics();
CREATE TRIGGER params_keys AFTER INSERT ON params
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION experiment_keys_from_params();
CREATE TRIGGER tags_keys AFTER INSERT ON tags
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION experiment_keys_from_tags();

-- Keys logged before this migration.
INSERT INTO experiment_keys (experiment_id, kind, key)
SELECT DISTINCT r.experiment_id, 'm'::"char", k.name
FROM latest_metrics l JOIN runs r ON r.id = l.run_id JOIN metric_keys k ON k.id = l.key_id
UNION
SELECT DISTINCT r.experiment_id, 'p'::"char", p.key FROM params p JOIN runs r ON r.id = p.run_id
UNION
SELECT DISTINCT r.experiment_id, 't'::"char", t.key FROM tags t JOIN runs r ON r.id = t.run_id;
