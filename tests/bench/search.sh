#!/usr/bin/env bash
# The search benchmark of `make bench` (issue 3): 100,000 runs x 20 params x
# 20 metrics generated through the API (runs/create + runs/log-batch, by
# BUILD_DIR/bin/search_gen over 32 keep-alive connections), then p50/p99 of
# five searches. The work is in search_bench.mjs, which starts and always
# stops its own PostgreSQL and exptrackd. Generation dominates: 17 minutes
# at 100 runs/s on the 2 shared cores (load 10-20; exptrackd and PostgreSQL
# spend ~6-8 ms of CPU per run); SEARCH_BENCH_RUNS=20000 for a quicker trial.
# Then (issue 21) a second experiment of SEARCH_BENCH_PAGE_RUNS=25000 runs
# (0 skips it) for pages of 1,000 runs, as mlflow.search_runs asks for them:
# a param and a metric filter, ordered by another metric; goal p50 <= 25 ms.
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
[ -x "$build/bin/search_gen" ] || { echo "search bench: $build/bin/search_gen not found; build first" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
EXPTRACKD="$build/bin/exptrackd" SEARCH_GEN="$build/bin/search_gen" exec node "$here/search_bench.mjs"
