#!/usr/bin/env bash
# The search benchmark of `make bench` (issue 3): 100,000 runs x 20 params x
# 20 metrics generated through log-batch, p50/p99 of five searches, and a
# 1,000,000-point history read whole and downsampled. The work is in
# search_bench.mjs, which starts and always stops its own PostgreSQL and
# exptrackd. Takes several minutes (data generation dominates).
#
# usage: tests/bench/search.sh BUILD_DIR
# environment: see tests/bench/search_bench.mjs (SEARCH_BENCH_RUNS, ...)
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
[ -x "$build/bin/exptrackd" ] || { echo "search bench: $build/bin/exptrackd not found; build first" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
EXPTRACKD="$build/bin/exptrackd" exec node "$here/search_bench.mjs"
