#!/usr/bin/env bash
# Dashboard timing (make bench): time to a populated runs table for an
# experiment of 10,000 runs and to a drawn chart of a 1,000,000-point metric,
# and to the experiment chart view of a 300-run sweep (goal 1.5 s),
# in headless chromium against a private PostgreSQL + exptrackd. Goal: < 1 s.
#
# usage: tests/bench/browser.sh BUILD_DIR
# environment: BENCH_RUNS=10000 BENCH_POINTS=1000000 BENCH_CONCURRENCY=8 BENCH_REPEAT=5
#   BENCH_SWEEP_RUNS=300 BENCH_SWEEP_METRICS=3 BENCH_SWEEP_STEPS=10000 BENCH_PARTS=table,chart,sweep
#   BENCH_BASELINE=<another exptrackd, e.g. a Release build of main>: A/B on the same data
set -euo pipefail
if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
EXPTRACKD="$build/bin/exptrackd" exec node "$here/browser_bench.mjs"
