#!/usr/bin/env bash
# Bytes per metric point (make bench, BENCH_ONLY=storage; issue 20): logs
# STORAGE_POINTS points of one key to one run through log-batch, then loads
# the same points into MLflow's metrics table, declared here from MLflow's
# schema (key, value, timestamp, run_uuid, step, is_nan; a six-column primary
# key) in the same PostgreSQL, and prints the table plus index bytes per
# point of each after VACUUM. exptrack's figure counts the metrics table and
# its primary key, and separately the per-256-step metric_blocks rows.
# Then the same points go to a second run that stays live (narrow rows), the
# first run is finished and compacted (`exptrackd compact`, schema 0027),
# and the chunks' bytes per point are printed; last, reads of the compacted
# run and of the narrow one are timed in turns: get-history unpaged and in
# the MLflow client's pages (history_ab.mjs, which also requires equal
# bodies), the dashboard's downsample and the bulk interval. Last, an idle
# compaction pass is timed before and after a million finished runs are
# added: its cost must not grow with them.
#
# usage: tests/bench/storage.sh BUILD_DIR
# environment: STORAGE_POINTS=100000 STORAGE_AB_ROUNDS=15 STORAGE_FINISHED_RUNS=1000000
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
server_bin=$build/bin/exptrackd
[ -x "$server_bin" ] || { echo "storage bench: $server_bin not found; build first" >&2; exit 1; }
points=${STORAGE_POINTS:-100000}
server_flags=${BENCH_SERVER_FLAGS:-}
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_setup storage
bench_pg_start
bench_server_start

post() {
    curl -sf -H 'Content-Type: application/json' --data-binary @- "$url/api/2.0/mlflow/$1"
}
exp=$(echo '{"name":"storage"}' | post experiments/create |
    sed -n 's/.*"experiment_id":"\([0-9]*\)".*/\1/p')
run=$(echo "{\"experiment_id\":\"$exp\"}" | post runs/create |
    sed -n 's/.*"run_id":"\([0-9a-f]*\)".*/\1/p')
[ -n "$run" ] || { log "runs/create failed"; exit 1; }

log_points() {
local run=$1
log "logging $points points of one key to run $run"
for ((first = 0; first < points; first += 1000)); do
    awk -v run="$run" -v first="$first" -v n="$points" 'BEGIN {
        last = first + 1000 < n ? first + 1000 : n
        printf "{\"run_id\":\"%s\",\"metrics\":[", run
        for (s = first; s < last; s++)
            printf "%s{\"key\":\"train/loss\",\"value\":%.17g,\"timestamp\":%.0f,\"step\":%.0f}", (s > first ? "," : ""), 1 / (s + 1) + sin(s) / 100, 1700000000000 + s * 37, s
        printf "]}" }' | post runs/log-batch >/dev/null
done
}
log_points "$run"
stored=$(sql "SELECT count(*) FROM metrics")
[ "$stored" = "$points" ] || { log "stored $stored points, expected $points"; exit 1; }

# MLflow's metrics table (mlflow/store/tracking/dbmodels/models.py, SqlMetric),
# in a schema of its own, with the same points.
psql_ -d exptrack <<'SQL'
CREATE SCHEMA mlflow_schema;
CREATE TABLE mlflow_schema.metrics (
    key       varchar(250) NOT NULL,
    value     double precision NOT NULL,
    timestamp bigint NOT NULL,
    run_uuid  varchar(32) NOT NULL,
    step      bigint NOT NULL DEFAULT 0,
    is_nan    boolean NOT NULL DEFAULT false,
    PRIMARY KEY (key, timestamp, step, run_uuid, value, is_nan)
);
INSERT INTO mlflow_schema.metrics
SELECT k.name, m.value, m.timestamp, replace(r.run_uuid::text, '-', ''), m.step, m.value = 'NaN'
FROM metrics m JOIN runs r ON r.id = m.run_id JOIN metric_keys k ON k.id = m.key_id;
VACUUM (ANALYZE) metrics, metric_blocks, mlflow_schema.metrics;
SQL

per_point() { sql "SELECT round(($1)::numeric / $points, 1)"; }
# metrics is partitioned (schema 0020): its size is the sum of its partitions'.
ours=$(per_point "(SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('metrics'))")
ours_heap=$(per_point "(SELECT sum(pg_relation_size(relid)) FROM pg_partition_tree('metrics'))")
blocks=$(per_point "pg_total_relation_size('metric_blocks')")
theirs=$(per_point "pg_total_relation_size('mlflow_schema.metrics')")
theirs_heap=$(per_point "pg_relation_size('mlflow_schema.metrics')")
echo "bytes per point, $points points of one key in one run, after VACUUM:"
printf '  exptrack metrics (table + primary key):  %s (table %s)\n' "$ours" "$ours_heap"
printf '  exptrack metric_blocks (per 256 steps):   %s\n' "$blocks"
printf '  MLflow metrics (table + primary key):     %s (table %s)\n' "$theirs" "$theirs_heap"
awk -v a="$ours" -v b="$blocks" -v m="$theirs" 'BEGIN {
    printf "  exptrack / MLflow: %.2f (with blocks %.2f); goal for finished runs: <= 22 B/point (%.2f of MLflow)\n", a / m, (a + b) / m, 22 / m }'

# The same points in a run that stays live, then the first run compacted.
run2=$(echo "{\"experiment_id\":\"$exp\"}" | post runs/create |
    sed -n 's/.*"run_id":"\([0-9a-f]*\)".*/\1/p')
log_points "$run2"
echo "{\"run_id\":\"$run\",\"status\":\"FINISHED\",\"end_time\":1}" | post runs/update >/dev/null
"$server_bin" compact --database-url "postgresql:///exptrack?host=$tmp&user=postgres" \
    --compact-delay 0 >&2
left=$(sql "SELECT count(*) FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.run_uuid = '$run'")
[ "$left" = 0 ] || { log "compaction left $left narrow rows"; exit 1; }
psql_ -d exptrack -c "VACUUM (ANALYZE) metrics, metric_chunks, metric_blocks"
chunks=$(per_point "pg_total_relation_size('metric_chunks')")
chunks_heap=$(per_point "pg_relation_size('metric_chunks')")
echo "after compaction of that run (metric_chunks, 4,096 points a row):"
printf '  exptrack metric_chunks (table + TOAST + key): %s (main table %s)\n' "$chunks" "$chunks_heap"
awk -v c="$chunks" -v a="$ours" -v m="$theirs" 'BEGIN {
    printf "  chunks / narrow: %.3f, chunks / MLflow: %.3f; goal <= 22 B/point: %s\n", c / a, c / m, (c <= 22 ? "met" : "NOT met") }'

# Reads of the compacted run (chunks) and the live one (narrow), in turns.
here=$(cd "$(dirname "$0")" && pwd)
HISTORY_AB_KEY=train/loss HISTORY_AB_POSTMASTER=$(head -n 1 "$pgdata/postmaster.pid") \
    node "$here/history_ab.mjs" "$run" "${STORAGE_AB_ROUNDS:-15}" \
    "chunks=$url,$server_pid,$run" "narrow=$url,$server_pid,$run2"
timed() { curl -sf -o /dev/null -w '%{time_total}\n' "$url$1"; }
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) * 1000 }'; }
for what in downsample bulk; do
    : >"$tmp/t_chunks"
    : >"$tmp/t_narrow"
    for ((i = 0; i < ${STORAGE_AB_ROUNDS:-15}; i++)); do
        for side in chunks narrow; do
            r=$run
            [ "$side" = narrow ] && r=$run2
            if [ "$what" = downsample ]; then
                timed "/api/2.0/exptrack/metrics/history?run_id=$r&metric_key=train/loss&max_points=1000" >>"$tmp/t_$side"
            else
                timed "/api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids=$r&metric_key=train/loss&max_results=1000" >>"$tmp/t_$side"
            fi
        done
    done
    c=$(median <"$tmp/t_chunks")
    n=$(median <"$tmp/t_narrow")
    awk -v w="$what" -v c="$c" -v n="$n" 'BEGIN { printf "%s: chunks %.1f ms, narrow %.1f ms (medians), chunks / narrow %.2f\n", w, c, n, c / n }'
done

# A compaction pass walks the runs that still have narrow rows, so its cost
# must not grow with the finished runs a database holds: idle passes (the
# live run above is the one walked) with the runs so far, then with
# STORAGE_FINISHED_RUNS finished runs more (no points: as after compaction).
db_url="postgresql:///exptrack?host=$tmp&user=postgres"
pass_ms() {
    for ((i = 0; i < 5; i++)); do
        "$server_bin" compact --database-url "$db_url" --compact-delay 0 |
            sed -n 's/.* in \([0-9.]*\) ms).*/\1/p'
    done | sort -n | sed -n 3p
}
finished=${STORAGE_FINISHED_RUNS:-1000000}
few_runs=$(sql "SELECT count(*) FROM runs")
few_ms=$(pass_ms)
log "adding $finished finished runs"
sql "INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, end_time,
                       artifact_uri)
     SELECT gen_random_uuid(), $exp, 'finished-' || g, 'bench', 3, 1, 2, 'none'
     FROM generate_series(1, $finished) g" >/dev/null
psql_ -d exptrack -c "VACUUM (ANALYZE) runs"
many_runs=$(sql "SELECT count(*) FROM runs")
many_ms=$(pass_ms)
if [ -z "$few_ms" ] || [ -z "$many_ms" ]; then
    log "exptrackd compact printed no pass time"
    exit 1
fi
awk -v a="$few_ms" -v b="$many_ms" -v na="$few_runs" -v nb="$many_runs" 'BEGIN {
    printf "idle compaction pass (median of 5): %.1f ms with %d runs, %.1f ms with %d runs; ratio %.2f (goal <= 2: %s)\n",
        a, na, b, nb, b / a, (b / a <= 2 ? "met" : "NOT met") }'
echo "load average $(cut -d ' ' -f 1-3 /proc/loadavg)"
