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
#   d. get of one trace of 10,000 spans (traces/get): p50 ms. Goal < 100 ms.
#
# usage: tests/bench/traces.sh BUILD_DIR   (a Release build)
# environment:
#   TRACES_BATCHES=20        batches of 512 spans per ingest client (a)
#   TRACES_CLIENT_SECONDS=5  seconds of load (b)
#   TRACES_SEARCH_N=100000   traces seeded for (c); the issue's size is 1000000
#   TRACES_ONLY="ingest client search get"  the phases to run
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
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"
bench_setup traces
bench_pg_start
bench_server_start

# The bench runs psql itself (COPY baseline, seeding) with these arguments.
PSQL="$pgbin/psql" PSQL_HOST=$tmp BENCH_TMP=$tmp node "$here/traces_bench.mjs" "$url"
printf 'machine: %s cores, %s MiB memory, load average %s (at the end)\n' "$(nproc)" \
    "$(awk '/^MemTotal/ { printf "%d", $2 / 1024 }' /proc/meminfo)" "$(cut -d' ' -f1-3 /proc/loadavg)"
