// The server's per-request limits the dashboard has to respect, in one place.
// Each constant copies a C constant by hand: when the server's changes, change
// it here too. The comment names the file and constant it mirrors.

/** run_id values per GET exptrack/metrics/history (server/tracking/api_history.c, BULK_MAX_RUNS). */
export const HISTORY_MAX_RUNS = 100;

/** Steps one GET get-history-bulk-interval returns, at most (server/tracking/api_history.c, BULK_MAX_STEPS). */
export const BULK_INTERVAL_MAX_STEPS = 2500;

/** experiment_id values per GET exptrack/experiments/stats (server/tracking/api_experiments.c, STATS_MAX_EXPERIMENTS). */
export const STATS_MAX_EXPERIMENTS = 250;

/** run_id values, and experiment_id values, per GET exptrack/stream (server/events/api_stream.c, STREAM_MAX_IDS). */
export const STREAM_MAX_IDS = 100;

/** run_ids per POST exptrack/runs/purge (server/tracking/api_purge.c, PURGE_MAX_RUNS). */
export const PURGE_MAX_RUNS = 1000;
