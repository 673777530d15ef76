-- A run's setup (issue 21, tests/bench/setup.sh) costs PostgreSQL CPU, not
-- disk; two pieces of that work are done here in a cheaper way.
--
-- 1. experiment_keys (0002) of params and tags are written by the write
-- statements themselves, not by statement-level triggers. Every statement
-- that inserts params or tags (server/tracking/store_batch.c, store_runs.c:
-- runs/create, runs/update with a name, log-batch, the transaction path's
-- params and tags) now inserts the keys it writes, for the run's
-- experiment, in the same statement (ON CONFLICT DO NOTHING, sorted by
-- key). It records every key the statement stores, not only the rows it
-- inserted as the trigger did: a key whose row was already there was
-- recorded when that row was inserted, so the table ends the same. The
-- trigger cost each statement a PL/pgSQL call, a transition table and a
-- probe of runs per row, about 0.3 ms a run of the 2.5 ms PostgreSQL spent
-- (tests/bench/setup_profile.sh); the statement knows the experiment
-- already (it looked the run up) and its keys are its parameters.
-- latest_metrics keeps its trigger (0036): the metric writes of
-- store_metrics.c rely on it.
DROP TRIGGER params_keys ON params;
DROP TRIGGER tags_keys ON tags;
DROP FUNCTION experiment_keys_from_params();
DROP FUNCTION experiment_keys_from_tags();

-- 2. latest_metrics.key_id's foreign key to metric_keys: one check a point
-- row (10 of a run's 37 foreign-key checks). Every key id a write carries
-- comes from metric_keys (store_metrics_key_ids interns names in a
-- committed statement of its own before the write), and no code deletes a
-- metric_keys row (names are interned for good, as metrics.key_id, which
-- never had a foreign key, already relies on), so the check could never
-- fail.
ALTER TABLE latest_metrics DROP CONSTRAINT latest_metrics_key_id_fkey;
