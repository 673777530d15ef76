#!/usr/bin/env bash
# The webhooks benchmark of `make bench`: starts a private PostgreSQL and an
# exptrackd that may deliver to loopback over http, then times webhook
# delivery lag (API response of model-versions/create or registered-models/
# alias to the receiver getting the POST), p50 and p99, next to the baseline
# of the same API calls with no webhook subscribed (webhooks_bench.mjs, which
# also checks that every event arrives exactly once).
# Cleans up every process and file it made, whatever happens.
#
# usage: tests/bench/webhooks.sh BUILD_DIR
# environment:
#   WEBHOOK_BENCH_N=400          registry changes per phase
#   WEBHOOK_BENCH_GOAL_MS=100    p50 lag goal
#   BENCH_ENFORCE=1              exit non-zero when the goal is missed
#   BENCH_SERVER_FLAGS=          extra exptrackd flags
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
bench_server_start --webhook-allowed-schemes http --webhook-allow-private-ips

node "$here/webhooks_bench.mjs" "$url"
printf 'machine: %s cores, %s MiB memory, load average %s (at the end)\n' "$(nproc)" \
    "$(awk '/^MemTotal/ { printf "%d", $2 / 1024 }' /proc/meminfo)" "$(cut -d' ' -f1-3 /proc/loadavg)"
