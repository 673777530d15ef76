#!/usr/bin/env bash
# make bench: every benchmark, one after another, each starting its own
# PostgreSQL and exptrackd and printing its figures next to a baseline
# measured in the same run. BENCH_ONLY="ingest search" picks some.
#
#   ingest     log-batch and log-metric vs binary/text COPY     (run.sh)
#   search     searches in a 100k-run experiment                (search.sh)
#   history    1M-point history read whole and downsampled      (history.sh)
#   mixed      30 s of mixed traffic from 64 connections        (mixed.sh)
#   artifacts  1 GiB up/down vs psql large objects, RSS         (artifacts.sh)
#   client     ns per et_log_metric, end-to-end points/s        (client.sh)
#   browser    runs table of 10k runs, 1M-point chart           (browser.sh)
#   registry   get-by-alias, version searches and creates       (registry.sh)
#   webhooks   webhook delivery lag after commit, p50/p99       (webhooks.sh)
#   setup      run setup (create, log-batch, update), 8 clients  (setup.sh)
#   fleet      1,000 runs logging, 100 live watchers, searches    (fleet.sh)
#   storage    bytes per metric point, exptrack vs MLflow schema  (storage.sh)
#   traces     OTLP span ingest vs COPY, trace search and get  (traces.sh)
#   browser-models  model page with 500 versions, cold load      (browser_models.sh)
#   browser-traces  traces tab of 1M traces, trace of 10k spans  (browser_traces.sh)
#   import     import mlflow / export of 1,000 runs x 10k points (import.sh)
set -uo pipefail

build=${1:?usage: tests/bench/all.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
only=${BENCH_ONLY:-ingest search history mixed artifacts client browser registry webhooks setup fleet storage traces browser-models browser-traces import}
failed=()

run() {
    local name=$1 script=$2
    case " $only " in *" $name "*) ;; *) return 0 ;; esac
    echo "==== bench: $name ===="
    if ! "$here/$script" "$build"; then
        failed+=("$name")
    fi
    echo
}

run ingest run.sh
run search search.sh
run history history.sh
run mixed mixed.sh
run artifacts artifacts.sh
run client client.sh
run browser browser.sh
run registry registry.sh
run webhooks webhooks.sh
run setup setup.sh
run fleet fleet.sh
run storage storage.sh
run traces traces.sh
run browser-models browser_models.sh
run browser-traces browser_traces.sh
run import import.sh

if [ ${#failed[@]} -gt 0 ]; then
    echo "bench: failed: ${failed[*]}"
    exit 1
fi
echo "bench: all done"
