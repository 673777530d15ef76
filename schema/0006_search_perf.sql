-- Search at 100,000 runs (issue 3): what runs/search needs beyond 0002.
--
-- How the five benchmark searches are served (tests/bench/search.sh), so
-- that the index list below is complete:
--   metrics.k > x, default order   runs_experiment_start walked in
--                                  (start_time DESC, run_uuid) order, one
--                                  latest_metrics_pkey probe per run until
--                                  the page is full (or, for a rare value,
--                                  latest_metrics_key_value range + hash).
--   params.k = 'v', order metrics.m
--                                  latest_metrics_key_value walked backwards
--                                  from the top value of m (the search reads
--                                  the rows that have the key in a statement
--                                  of their own, ordered by the plain column,
--                                  see server/store_search.c), one
--                                  params_key_value probe per row: the
--                                  compiled filter writes a short value as
--                                  left(value, 200) = v, the index's own
--                                  expression, which also gives the planner
--                                  that expression's statistics.
--   tags.k LIKE 'p%'               runs_experiment_start walk, tags_pkey probe.
--   status = 'X', start_time order runs_experiment_status below.
--   a page deep into the default order
--                                  runs_experiment_start range scan starting
--                                  at the page token's start_time.
-- The children of a page (params, tags, latest metrics of 100 runs) are read
-- through the three primary keys, whose first column is the run.

-- status = 'X' compiles to r.status = n (the smallint), so this index serves a
-- status filter in the default or a start_time order directly: a page of a
-- rare status (FAILED among a million FINISHED runs) no longer walks the
-- whole experiment. status is already indexed by runs_experiment_stats
-- (0008), so status updates were not HOT before either; the cost is one more
-- index entry per run created and per status change.
CREATE INDEX runs_experiment_status ON runs (experiment_id, status, start_time DESC, run_uuid);
COMMENT ON INDEX runs_experiment_status IS
    'runs/search: status = X ordered by start_time DESC, run id; keyset pages of it';

-- experiment_keys (0002) stays maintained by its statement-level triggers
-- rather than by each write path: every statement that can add a key
-- (runs/create tags, log-batch, log-param, set-tag, group-committed metric
-- writes, and any future one) is covered in its own transaction without
-- code in each store function. Measured on the benchmark's run shape
-- (create + 2 tags + 20 params + 20 latest metrics, one transaction per run,
-- a PL/pgSQL loop of the same statements): 2.0 ms of PostgreSQL CPU per run
-- without the triggers, 2.5 ms with them; logging more points of keys a run
-- already has inserts no latest_metrics row, so the trigger then runs over
-- an empty transition table. Keys stay listed after their runs are deleted
-- (the endpoint lists keys ever logged).
