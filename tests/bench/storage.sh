#!/usr/bin/env bash
# Bytes per metric point (make bench, BENCH_ONLY=storage; issue 20): logs
# STORAGE_POINTS points of one key to one run through log-batch, then loads
# the same points into MLflow's metrics table, declared here from MLflow's
# schema (key, value, timestamp, run_uuid, step, is_nan; a six-column primary
# key) in the same PostgreSQL, and prints the table plus index bytes per
# point of each after VACUUM. exptrack's figure counts the metrics table and
# its primary key, and separately the per-256-step metric_blocks rows.
#
# usage: tests/bench/storage.sh BUILD_DIR
# environment: STORAGE_POINTS=100000
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

log "logging $points points of one key to run $run"
for ((first = 0; first < points; first += 1000)); do
    awk -v run="$run" -v first="$first" -v n="$points" 'BEGIN {
        last = first + 1000 < n ? first + 1000 : n
        printf "{\"run_id\":\"%s\",\"metrics\":[", run
        for (s = first; s < last; s++)
            printf "%s{\"key\":\"train/loss\",\"value\":%.17g,\"timestamp\":%.0f,\"step\":%.0f}", (s > first ? "," : ""), 1 / (s + 1) + sin(s) / 100, 1700000000000 + s * 37, s
        printf "]}" }' | post runs/log-batch >/dev/null
done
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
