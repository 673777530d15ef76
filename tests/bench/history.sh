#!/usr/bin/env bash
# The history benchmark of `make bench` (issues 3 and 8): starts a private
# PostgreSQL and exptrackd, logs one 1,000,000-point series through
# runs/log-batch (1,000-point batches, several clients), then times the whole
# series through metrics/get-history (seconds, MiB/s, median of 3), the
# 1,000-point downsample of exptrack/metrics/history (median of 10) and
# metrics/get-history-bulk-interval (median of 10), a 100,000-point series
# unpaged and in the MLflow client's pages of 25,000 (issue 21), after a VACUUM ANALYZE
# (what autovacuum leaves); and once each right after the load; then the
# experiment chart view's reads of 900 series (issue 17). The work is
# in history_bench.mjs, which also checks every answer. Baseline in the same run:
# psql COPY of the same rows, in the same order, out of the same cluster.
# Cleans up every process and file it made, whatever happens.
#
# usage: tests/bench/history.sh BUILD_DIR
# environment:
#   HISTORY_BENCH_POINTS=1000000   points of the series
#   HISTORY_BENCH_CONCURRENCY=4    log-batch clients while loading
#   HISTORY_BENCH_VACUUM=1         0: no VACUUM ANALYZE before the timed reads
#                                  (they then depend on whether autovacuum has
#                                  run yet); the first reads right after the
#                                  load are printed either way
#   HISTORY_BENCH_FULL_GOAL_S=1 HISTORY_BENCH_DOWN_GOAL_MS=300  goals
#   HISTORY_BENCH_PAGED_GOAL_MS=60 HISTORY_BENCH_PAGED_GOAL_RATIO=1.2  goals of
#                                  the 100,000-point read in pages of 25,000
#   HISTORY_BENCH_CHART_RUNS=300 HISTORY_BENCH_CHART_STEPS=10000  the chart
#                                  view's runs (x 3 metrics); 0 runs: skipped
#   BENCH_ENFORCE=1                exit non-zero when a goal is missed
#   BENCH_SERVER_FLAGS=            extra exptrackd flags
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
server_flags=${BENCH_SERVER_FLAGS:-}
server_bin=$build/bin/exptrackd
[ -x "$server_bin" ] || { echo "bench: $server_bin not found; build first" >&2; exit 1; }
command -v node >/dev/null || { echo "bench: node is needed" >&2; exit 1; }
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"
bench_setup bench

bench_pg_start
bench_server_start

run_id=$(HISTORY_BENCH_LOAD_ONLY=1 node "$here/history_bench.mjs" "$url")
[[ "$run_id" =~ ^[0-9a-f]{32}$ ]] || { log "loading the series failed: $run_id"; exit 1; }

# The series lives in one partition of metrics (schema 0020): the one that holds rows.
log "metrics table: $(sql "SELECT format('%s rows in %s; last autovacuum %s, last autoanalyze %s',
    n_live_tup, relname, coalesce(last_autovacuum::text, 'never'), coalesce(last_autoanalyze::text, 'never'))
    FROM pg_stat_user_tables WHERE relname LIKE 'metrics\\_p%' ORDER BY n_live_tup DESC LIMIT 1")"
cold=$(HISTORY_BENCH_RUN=$run_id HISTORY_BENCH_COLD=1 node "$here/history_bench.mjs" "$url")
# The timed reads are of the settled table, as autovacuum leaves it (visibility
# map set, statistics taken); the line above is what the first reader sees.
if [ "${HISTORY_BENCH_VACUUM:-1}" = 1 ]; then
    log "VACUUM ANALYZE metrics"
    psql_ -d exptrack -c "VACUUM ANALYZE metrics"
fi

# Baseline: the same rows in the same order as text through psql's COPY.
copy_sql="COPY (SELECT m.value, m.timestamp, m.step FROM metrics m
    WHERE m.run_id = (SELECT id FROM runs WHERE run_uuid = '$run_id')
      AND m.key_id = (SELECT id FROM metric_keys WHERE name = 'curve')
    ORDER BY m.step, m.timestamp, m.value) TO STDOUT"
copy_times=()
for _ in 1 2 3 4; do
    t0=$(date +%s.%N)
    bytes=$(psql_ -d exptrack -c "$copy_sql" | wc -c)
    t1=$(date +%s.%N)
    copy_times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
done
# the first was a warm-up; the median of the other three
copy_s=$(printf '%s\n' "${copy_times[@]:1}" | sort -n | sed -n 2p)

HISTORY_BENCH_RUN=$run_id HISTORY_BENCH_PIDS="$server_pid $(head -n 1 "$pgdata/postmaster.pid")" \
    node "$here/history_bench.mjs" "$url"
echo "$cold"
awk -v s="$copy_s" -v b="$bytes" 'BEGIN {
    printf "baseline: psql COPY (text) of the same rows in step order (median of 3): %.3f s  %.1f MiB/s  (%.1f MiB)\n",
        s, b / 1048576 / s, b / 1048576 }'
printf 'machine: %s cores, %s MiB memory, load average %s (at the end)\n' "$(nproc)" \
    "$(awk '/^MemTotal/ { printf "%d", $2 / 1024 }' /proc/meminfo)" "$(cut -d' ' -f1-3 /proc/loadavg)"
