-- The dashboard (issue 6): run counts and last activity per experiment for
-- GET /api/2.0/exptrack/experiments/stats. Every column that query reads of
-- runs is in this index, so counting an experiment's runs by lifecycle stage
-- and status and taking its newest start/end time is one index-only range
-- scan per experiment, never a read of the runs table itself; the RUNNING
-- runs' ids (INCLUDE id) lead to their latest points in latest_metrics.
CREATE INDEX runs_experiment_stats ON runs (experiment_id, lifecycle_stage, status)
    INCLUDE (start_time, end_time, id);
COMMENT ON INDEX runs_experiment_stats IS
    'exptrack/experiments/stats: run counts by lifecycle stage and status, newest start/end time, RUNNING run ids';
