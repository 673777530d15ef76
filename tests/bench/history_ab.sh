#!/usr/bin/env bash
# A/B of get-history between two builds (issue 21): one private PostgreSQL,
# one series of HISTORY_AB_POINTS points logged and VACUUM ANALYZEd, an
# exptrackd of each build on it, then history_ab.mjs alternates the two
# servers' reads (unpaged, then in the MLflow client's pages of 25,000) and
# prints per build the medians, their ratio, and the CPU time per read of
# exptrackd and of PostgreSQL's backends. Not part of `make bench`: for
# comparing a change with its base on a shared machine, where only reads
# taken in turns (and CPU times) can be compared.
#
# With HISTORY_AB_PACKED=1 the run is finished and compacted first, so
# both builds read the series from its chunks (as every finished run is
# read ten minutes after it ends).
#
# usage: tests/bench/history_ab.sh OLD_BUILD_DIR NEW_BUILD_DIR
# environment: HISTORY_AB_POINTS=100000 HISTORY_AB_ROUNDS=15 HISTORY_AB_PACKED=0
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"
bench_setup history-ab
bench_ab_bins "$@"
old_pid=""
bench_extra_cleanup() { stop_pid "$old_pid"; }

bench_ab_servers_start

run_id=$(HISTORY_BENCH_POINTS=${HISTORY_AB_POINTS:-100000} HISTORY_BENCH_LOAD_ONLY=1 \
    node "$here/history_bench.mjs" "$old_url")
[[ "$run_id" =~ ^[0-9a-f]{32}$ ]] || { log "loading the series failed: $run_id"; exit 1; }
if [ "${HISTORY_AB_PACKED:-0}" = 1 ]; then
    curl -sf -H 'Content-Type: application/json' \
        --data-binary "{\"run_id\":\"$run_id\",\"status\":\"FINISHED\",\"end_time\":1}" \
        "$url/api/2.0/mlflow/runs/update" >/dev/null
    "$server_bin" compact --database-url "postgresql:///exptrack?host=$tmp&user=postgres" \
        --compact-delay 0 >&2
fi
psql_ -d exptrack -c "VACUUM ANALYZE metrics, metric_chunks"
HISTORY_AB_POSTMASTER=$(head -n 1 "$pgdata/postmaster.pid") \
    node "$here/history_ab.mjs" "$run_id" "${HISTORY_AB_ROUNDS:-15}" \
    "old=$old_url,$old_pid" "new=$url,$server_pid"
