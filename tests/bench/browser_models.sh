#!/usr/bin/env bash
# Dashboard timing (make bench): cold load of the model page of a model with
# 500 versions in headless chromium, median of 5. Goal: < 1 s.
#
# usage: tests/bench/browser_models.sh BUILD_DIR
# environment: BENCH_VERSIONS=500 BENCH_REPEAT=5
set -euo pipefail
if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
EXPTRACKD="$build/bin/exptrackd" exec node "$here/browser_models_bench.mjs"
