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
# The blocks are rebuilt by schema/0028's own statement (its INSERT ...
# SELECT, cut out of the migration as tests/api/history_blocks.test.mjs
# does), so the bench cannot drift from what the migration builds.
rebuild=$(sed -n '/^INSERT INTO metric_blocks/,/GROUP BY 1, 2, 3) g;$/p' \
    "$here/../../schema/0028_block_points.sql")
rebuild=${rebuild%;}
case "$rebuild" in
"INSERT INTO metric_blocks"*"GROUP BY 1, 2, 3) g") ;;
*) echo "history_chart_ab.sh: the rebuild statement is not in schema/0028" >&2; exit 1 ;;
esac
log "seeding $runs runs x 3 metrics x $steps steps in SQL"
psql_ -d exptrack <<SQL
INSERT INTO metrics (run_id, key_id, step, timestamp, value)
SELECT r.id, k.id, s, 1700000000000 + s,
       sin(s / 300.0 + r.id) + ((s * 7919 + k.id) % 1000) / 5000.0
FROM runs r CROSS JOIN metric_keys k CROSS JOIN generate_series(1, $steps - 1) s
WHERE k.name IN ('loss', 'acc', 'lr')
ON CONFLICT DO NOTHING;
DELETE FROM metric_blocks;
$rebuild;
VACUUM ANALYZE metrics, metric_blocks;
SQL
if [ -n "${HISTORY_CHART_AB_PSQL:-}" ]; then
    first=$(printf '%s\n' "${ids[@]:0:100}" | paste -sd, -)
    psql_ -d exptrack -v runs="{$first}" -f "$HISTORY_CHART_AB_PSQL"
fi
HISTORY_AB_POSTMASTER=$(head -n 1 "$pgdata/postmaster.pid") \
    node "$here/history_chart_ab.mjs" "${HISTORY_CHART_AB_ROUNDS:-5}" "$steps" \
    "old=$old_url,$old_pid" "new=$url,$server_pid" "${ids[@]}"
