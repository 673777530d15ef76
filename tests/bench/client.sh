#!/usr/bin/env bash
# libexptrack's benchmark: starts a private PostgreSQL (durable settings) and
# exptrackd, runs bin/client_bench (ns per et_log_metric call, median over
# CLIENT_BENCH_CALLS calls; end-to-end points/s from one process), checks
# that every point was stored, and cleans up whatever happens.
#
# usage: tests/bench/client.sh BUILD_DIR
# environment: CLIENT_BENCH_CALLS=10000000
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
calls=${CLIENT_BENCH_CALLS:-10000000}
server_bin=$build/bin/exptrackd
bench_bin=$build/bin/client_bench
for b in "$server_bin" "$bench_bin"; do
    [ -x "$b" ] || { echo "client bench: $b not found; build first" >&2; exit 1; }
done
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_setup "client bench"
bench_pg_start
bench_server_start

log "running $calls et_log_metric calls against $url"
EXPTRACK_SPOOL_DIR=$tmp/spool "$bench_bin" "$url" "$calls"
stored=$(sql "SELECT count(*) FROM metrics")
log "points stored: $stored"
[ "$stored" = "$calls" ] || { log "expected $calls stored points"; exit 1; }
