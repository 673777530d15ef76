#!/usr/bin/env bash
# A/B of the experiment chart view's reads between two builds (issue 17):
# one private PostgreSQL, HISTORY_CHART_AB_RUNS runs x 3 metrics x
# HISTORY_CHART_AB_STEPS steps seeded directly in SQL (a point per series
# through log-batch, so keys and runs are the server's own; the rest by
# generate_series, then the series' metric_blocks rebuilt as schema/0028
# builds them) and VACUUM ANALYZEd, an exptrackd of each build on it, then
# history_chart_ab.mjs alternates the two servers' chart reads (downsampled
# exptrack/metrics/history, 100 runs a request, and MLflow's
# get-history-bulk-interval) and prints per build the medians and the CPU
# time per request of exptrackd and of PostgreSQL's backends. Not part of
# `make bench`: for comparing a change with its base on a shared machine.
# Far quicker to seed than history.sh's chart phase (which logs every point).
#
# usage: tests/bench/history_chart_ab.sh OLD_BUILD_DIR NEW_BUILD_DIR
# environment: HISTORY_CHART_AB_RUNS=300 HISTORY_CHART_AB_STEPS=10000
#              HISTORY_CHART_AB_ROUNDS=5
#              HISTORY_CHART_AB_PSQL=FILE  also runs FILE through psql after the
#                seeding (e.g. EXPLAINs), with :runs the first 100 run ids as a
#                uuid array literal
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
runs=${HISTORY_CHART_AB_RUNS:-300}
steps=${HISTORY_CHART_AB_STEPS:-10000}
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"
bench_setup history-chart-ab
bench_ab_bins "$@"
old_pid=""
bench_extra_cleanup() { stop_pid "$old_pid"; }

bench_ab_servers_start

post() {
    curl -sf -H 'Content-Type: application/json' --data-binary "$2" "$url/api/2.0/mlflow/$1"
}
exp=$(post experiments/create '{"name":"chart-ab"}' |
    sed -n 's/.*"experiment_id":"\([0-9]*\)".*/\1/p')
ids=()
for ((r = 0; r < runs; r++)); do
    id=$(post runs/create "{\"experiment_id\":\"$exp\",\"start_time\":1}" |
        sed -n 's/.*"run_id":"\([0-9a-f]*\)".*/\1/p')
    post runs/log-batch "{\"run_id\":\"$id\",\"metrics\":[
        {\"key\":\"loss\",\"value\":0,\"timestamp\":1700000000000,\"step\":0},
        {\"key\":\"acc\",\"value\":0,\"timestamp\":1700000000000,\"step\":0},
        {\"key\":\"lr\",\"value\":0,\"timestamp\":1700000000000,\"step\":0}]}" >/dev/null
    ids+=("$id")
done
log "seeding $runs runs x 3 metrics x $steps steps in SQL"
psql_ -d exptrack <<SQL
INSERT INTO metrics (run_id, key_id, step, timestamp, value)
SELECT r.id, k.id, s, 1700000000000 + s,
       sin(s / 300.0 + r.id) + ((s * 7919 + k.id) % 1000) / 5000.0
FROM runs r CROSS JOIN metric_keys k CROSS JOIN generate_series(1, $steps - 1) s
WHERE k.name IN ('loss', 'acc', 'lr')
ON CONFLICT DO NOTHING;
DELETE FROM metric_blocks;
INSERT INTO metric_blocks (run_id, key_id, block, n, vmin, vmax, min_step, min_ts,
                           max_step, max_ts, first_step, first_ts, first_value,
                           last_step, last_ts, last_value)
SELECT run_id, key_id, block, n, lo[1], hi[1],
       (block << 8) + lo[2]::bigint, (lo[3]::bigint << 32) + lo[4]::bigint,
       (block << 8) + (-hi[2])::bigint, ((-hi[3])::bigint << 32) + (-hi[4])::bigint,
       (block << 8) + f[1]::bigint, (f[2]::bigint << 32) + f[3]::bigint, f[4],
       (block << 8) + l[1]::bigint, (l[2]::bigint << 32) + l[3]::bigint, l[4]
FROM (SELECT run_id, key_id, step >> 8 AS block, count(*) AS n,
             min(ARRAY[value, (step & 255)::float8, (timestamp >> 32)::float8,
                       (timestamp & 4294967295)::float8]) FILTER (WHERE value <> 'NaN') AS lo,
             max(ARRAY[value, -(step & 255)::float8, -(timestamp >> 32)::float8,
                       -(timestamp & 4294967295)::float8]) FILTER (WHERE value <> 'NaN') AS hi,
             min(ARRAY[(step & 255)::float8, (timestamp >> 32)::float8,
                       (timestamp & 4294967295)::float8, value]) AS f,
             max(ARRAY[(step & 255)::float8, (timestamp >> 32)::float8,
                       (timestamp & 4294967295)::float8, value]) AS l
      FROM metrics GROUP BY 1, 2, 3) g;
VACUUM ANALYZE metrics, metric_blocks;
SQL
if [ -n "${HISTORY_CHART_AB_PSQL:-}" ]; then
    first=$(printf '%s\n' "${ids[@]:0:100}" | paste -sd, -)
    psql_ -d exptrack -v runs="{$first}" -f "$HISTORY_CHART_AB_PSQL"
fi
HISTORY_AB_POSTMASTER=$(head -n 1 "$pgdata/postmaster.pid") \
    node "$here/history_chart_ab.mjs" "${HISTORY_CHART_AB_ROUNDS:-5}" "$steps" \
    "old=$old_url,$old_pid" "new=$url,$server_pid" "${ids[@]}"
