#!/usr/bin/env bash
# The mixed-traffic load test of `make bench` (issue 7): a private, durable
# PostgreSQL and an exptrackd; bin/mixed_load sets up an experiment of a few
# thousand runs to search, runs to write to and a few artifacts, then drives
# 30 s of 80% log-batch (100 points), 15% runs/search, 5% artifact reads from
# 64 connections, and prints throughput, p50/p99 per kind, errors (goal:
# zero; any non-2xx or transport error fails this script) and exptrackd's RSS
# before and right after the load. Cleans up every process and file it made.
#
# usage: tests/bench/mixed.sh BUILD_DIR
# environment:
#   MIXED_DURATION=30      seconds of timed load
#   MIXED_CONNECTIONS=64   client connections (one thread each)
#   MIXED_RUNS=3000        runs in the searched experiment
#   MIXED_WRITE_RUNS=16    runs the log-batch requests go to
#   MIXED_SERVER_FLAGS=    extra exptrackd flags (e.g. --threads 8)
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
server_bin=$build/bin/exptrackd
load_bin=$build/bin/mixed_load
for b in "$server_bin" "$load_bin"; do
    [ -x "$b" ] || { echo "mixed bench: $b not found; build first" >&2; exit 1; }
done
server_flags=${MIXED_SERVER_FLAGS:-}
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_setup mixed
bench_pg_start
bench_server_start

rc=0
"$load_bin" --url "$url" --server-pid "$server_pid" \
    --duration "${MIXED_DURATION:-30}" --threads "${MIXED_CONNECTIONS:-64}" \
    --runs "${MIXED_RUNS:-3000}" --write-runs "${MIXED_WRITE_RUNS:-16}" | tee "$tmp/mixed.out" || rc=$?
kill -0 "$server_pid" 2>/dev/null || { log "exptrackd died during the load"; exit 1; }

# Every acknowledged point is stored: the server's own count against the client's.
sent=$(sed -n 's/^RESULT kind=log_batch .* points=\([0-9]*\) .*/\1/p' "$tmp/mixed.out")
stored=$(sql "SELECT count(*) FROM metrics m JOIN runs r ON r.id = m.run_id
              JOIN experiments e ON e.experiment_id = r.experiment_id
              WHERE e.name LIKE 'mixed-write-%'")
if [ -n "$sent" ]; then
    if [ "$stored" -ge "$sent" ]; then
        echo "mixed: points acknowledged during the load $sent, stored $stored (all there)"
    else
        log "only $stored of $sent acknowledged points are stored"
        rc=1
    fi
fi
case $rc in
0) echo "mixed: goal zero errors: PASS" ;;
1) echo "mixed: goal zero errors: FAIL" ;;
*) log "mixed_load failed ($rc)" ;;
esac
exit "$rc"
