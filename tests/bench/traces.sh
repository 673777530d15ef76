#!/usr/bin/env bash
# The traces benchmark of `make bench` (issue 16): a private, durable
# PostgreSQL and an exptrackd, then tests/bench/traces_bench.mjs:
#
#   a. OTLP/JSON ingest: 8 clients posting batches of 512 spans to
#      /v1/traces: spans/s, and the ratio to a binary COPY of the same span
#      rows by 8 psql sessions in the same run. Goal: >= 0.5 of COPY.
#   b. MLflow-client-shaped logging: 64 connections, each trace one OTLP
#      post of 20 spans then the V3 create: traces/s, p50/p99.
#   c. search: N traces in one experiment (seeded with SQL), V3 search
#      with 5 filters: p50, p99. Goal at 1,000,000: p50 < 50 ms.
#   d. get of one trace of 10,000 spans: traces/get, batchGet and the
#      traces.json of get-trace-artifact, after a VACUUM ANALYZE of the
#      trace tables (a settled database, as a read minutes after the
#      ingest finds it) and TRACES_GET_WARMUP untimed reads of each kind;
#      then rounds that read every kind from every server in turn, each
#      read timed twice: by node's fetch (p50 ms to the last byte, the
#      client's JSON.parse apart) and by curl into /dev/null (first and
#      last byte by curl's clock, without node's chunk handling). Goal:
#      traces/get < 100 ms. Baselines in the same run: psql reading the
#      same rows, and, with TRACES_BASELINE_BIN, another exptrackd (e.g. a
#      build of an older commit) on the same database, its reads alternated
#      with ours. Also the CPU per read of exptrackd and of PostgreSQL (from
#      /proc), which a loaded machine inflates far less than the wall time.
#
# usage: tests/bench/traces.sh BUILD_DIR   (a Release build)
# environment:
#   TRACES_BATCHES=20        batches of 512 spans per ingest client (a)
#   TRACES_CLIENT_SECONDS=5  seconds of load (b)
#   TRACES_SEARCH_N=100000   traces seeded for (c); the issue's size is 1000000
#   TRACES_ONLY="ingest client search get"  the phases to run
#   TRACES_GET_RUNS=10       timed rounds in (d) (and reads per server for its CPU figures)
#   TRACES_GET_WARMUP=3      untimed warm-up reads of each kind per server in (d)
#   TRACES_BASELINE_BIN=     an exptrackd to compare with in (d)
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
server_flags=${BENCH_SERVER_FLAGS:-}
server_bin=$build/bin/exptrackd
[ -x "$server_bin" ] || { echo "traces bench: $server_bin not found; build first" >&2; exit 1; }
command -v node >/dev/null || { echo "traces bench: node is needed" >&2; exit 1; }
command -v curl >/dev/null || { echo "traces bench: curl is needed" >&2; exit 1; }
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"
bench_setup traces
bench_pg_start
bench_server_start

# An older exptrackd on the same database for (d), started second so the
# schema is already ours; stopped by the cleanup.
baseline_url=""
baseline_pid=""
bench_extra_cleanup() { stop_pid "$baseline_pid"; }
if [ -n "${TRACES_BASELINE_BIN:-}" ]; then
    "$TRACES_BASELINE_BIN" --port 0 --database-url "postgresql:///exptrack?host=$tmp&user=postgres" \
        2>"$tmp/baseline.log" &
    baseline_pid=$!
    for ((i = 0; i < 300; i++)); do
        baseline_url=$(grep -m 1 -o 'listening on http://[^ ]*' "$tmp/baseline.log" 2>/dev/null |
            sed 's/^listening on //' || true)
        [ -n "$baseline_url" ] && break
        kill -0 "$baseline_pid" 2>/dev/null || { log "the baseline exptrackd exited at start"; exit 1; }
        sleep 0.1
    done
    [ -n "$baseline_url" ] || { log "the baseline exptrackd did not start"; exit 1; }
    log "baseline exptrackd $baseline_url (pid $baseline_pid)"
fi

# The bench runs psql itself (COPY baseline, seeding) with these arguments.
SERVER_PID=$server_pid BASELINE_PID=$baseline_pid PG_PID=$(head -n 1 "$pgdata/postmaster.pid") \
    PSQL="$pgbin/psql" PSQL_HOST=$tmp BENCH_TMP=$tmp node "$here/traces_bench.mjs" "$url" $baseline_url
printf 'machine: %s cores, %s MiB memory, load average %s (at the end)\n' "$(nproc)" \
    "$(awk '/^MemTotal/ { printf "%d", $2 / 1024 }' /proc/meminfo)" "$(cut -d' ' -f1-3 /proc/loadavg)"
