#!/usr/bin/env bash
# Dashboard timing of the traces views (make bench, issue 17): cold loads in
# headless chromium, median of 5, of an experiment's Traces tab with
# 1,000,000 traces (goal < 1 s) and of the trace page of a trace of 10,000
# spans (goal < 1 s), and the time to show a chosen span (goal < 50 ms).
# The API's own read of the 10,000-span trace is the baseline, same run.
#
# usage: tests/bench/browser_traces.sh BUILD_DIR
# environment: BENCH_TRACES=1000000 BENCH_SPANS=10000 BENCH_REPEAT=5
#              BENCH_WEB_DIR=dir (serve that web/ instead of the one compiled in)
set -euo pipefail
if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
EXPTRACKD="$build/bin/exptrackd" exec node "$here/browser_traces_bench.mjs"
