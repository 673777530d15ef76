#!/usr/bin/env bash
# The run-setup benchmark of `make bench` (issue 21): a private, durable
# PostgreSQL and an exptrackd; 8 clients (bin/setup_load, keep-alive
# connections) each loop over what an MLflow client does for a run:
# runs/create, one runs/log-batch of 10 params + 10 metrics + 5 tags, and
# runs/update to FINISHED. Prints runs/s and the ratio of its requests/s to
# that of single-point runs/log-metric from the same 8 clients, measured in
# the same run in alternating slices (the machine may be shared: the ratio
# is the figure to trust), and the transactions committed and WAL flushes
# (fsyncs, pg_stat_wal) per run of the setup phase. Goal: >= 2,000 runs/s and a ratio >= 0.5.
# A second exptrackd on the same database runs with --group-commit metrics
# (each control-plane write its own commit); its setup slices are taken in
# the same turns and printed as the comparison for the default (grouped).
#
# usage: tests/bench/setup.sh BUILD_DIR   (a Release build)
# environment:
#   SETUP_CLIENTS=8 SETUP_DURATION=5 SETUP_SLICES=2   each mode runs SLICES
#                          slices of DURATION seconds, taken in turns
#   SETUP_GOAL_RUNS=2000 SETUP_GOAL_RATIO=0.5
#   BENCH_SERVER_FLAGS=    extra exptrackd flags
#   BENCH_ENFORCE=1        exit non-zero when a goal is missed
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
server_bin=$build/bin/exptrackd
load_bin=$build/bin/setup_load
for b in "$server_bin" "$load_bin"; do
    [ -x "$b" ] || { echo "setup bench: $b not found; build first" >&2; exit 1; }
done
server_flags=${BENCH_SERVER_FLAGS:-}
clients=${SETUP_CLIENTS:-8}
duration=${SETUP_DURATION:-5}
slices=${SETUP_SLICES:-2}
goal_runs=${SETUP_GOAL_RUNS:-2000}
goal_ratio=${SETUP_GOAL_RATIO:-0.5}
enforce=${BENCH_ENFORCE:-0}
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_setup setup
bench_pg_start "autovacuum = off"
bench_server_start
main_url=$url main_pid=$server_pid
bench_server_start --group-commit metrics
solo_url=$url solo_pid=$server_pid
url=$main_url server_pid=$main_pid
bench_extra_cleanup() { stop_pid "$solo_pid"; }

exp=$(curl -sf -H 'Content-Type: application/json' -d '{"name":"run-setup"}' \
    "$url/api/2.0/mlflow/experiments/create" | sed -n 's/.*"experiment_id":"\([0-9]*\)".*/\1/p')
[ -n "$exp" ] || { log "experiments/create failed"; exit 1; }

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
load() {
    local out
    out=$("$load_bin" --url "${2:-$url}" --experiment "$exp" --threads "$clients" \
        --duration "$duration" --mode "$1") || { log "setup_load --mode $1 failed"; exit 1; }
    printf '%s\n' "$out"
}

# Transactions committed and WAL flushes (fsyncs) so far, cluster-wide.
counters() {
    sql "SELECT (SELECT sum(xact_commit) FROM pg_stat_database) || ' ' || wal_sync FROM pg_stat_wal"
}

s_runs=0 s_req=0 s_sec=0 m_req=0 m_sec=0 s_commits=0 s_syncs=0
o_runs=0 o_sec=0 o_commits=0 o_syncs=0
for ((i = 1; i <= slices; i++)); do
    m=$(load metric)
    echo "slice $i: $m"
    read -r c0 w0 <<<"$(counters)"
    s=$(load setup)
    read -r c1 w1 <<<"$(counters)"
    echo "slice $i: $s"
    s_commits=$((s_commits + c1 - c0))
    s_syncs=$((s_syncs + w1 - w0))
    m_req=$((m_req + $(field requests "$m")))
    m_sec=$(awk -v a="$m_sec" -v b="$(field seconds "$m")" 'BEGIN { print a + b }')
    s_runs=$((s_runs + $(field runs "$s")))
    s_req=$((s_req + $(field requests "$s")))
    s_sec=$(awk -v a="$s_sec" -v b="$(field seconds "$s")" 'BEGIN { print a + b }')
    read -r c0 w0 <<<"$(counters)"
    o=$(load setup "$solo_url")
    read -r c1 w1 <<<"$(counters)"
    echo "slice $i, --group-commit metrics: $o"
    o_commits=$((o_commits + c1 - c0))
    o_syncs=$((o_syncs + w1 - w0))
    o_runs=$((o_runs + $(field runs "$o")))
    o_sec=$(awk -v a="$o_sec" -v b="$(field seconds "$o")" 'BEGIN { print a + b }')
done
stored=$(sql "SELECT count(*) FROM runs WHERE end_time IS NOT NULL")
[ "$stored" -ge $((s_runs + o_runs)) ] || { log "only $stored finished runs stored of $s_runs"; exit 1; }

awk -v or="$o_runs" -v os="$o_sec" -v oc="$o_commits" -v ow="$o_syncs" -v c="$clients" 'BEGIN {
    printf "run setup with --group-commit metrics (a commit per control-plane write), same run: %.0f runs/s, %.2f transactions committed and %.2f WAL flushes per run\n", or / os, oc / or, ow / or }'
awk -v sr="$s_runs" -v sq="$s_req" -v ss="$s_sec" -v mq="$m_req" -v ms="$m_sec" \
    -v c="$clients" -v tc="$s_commits" -v ws="$s_syncs" -v gr="$goal_runs" -v gq="$goal_ratio" 'BEGIN {
    runs = sr / ss; srps = sq / ss; mrps = mq / ms; ratio = srps / mrps
    printf "run setup (create + log-batch 10p/10m/5t + update FINISHED), %d clients: %.0f runs/s, %.0f requests/s\n", c, runs, srps
    printf "single-point log-metric, same %d clients, same run: %.0f requests/s\n", c, mrps
    printf "ratio run-setup requests/s / log-metric requests/s: %.2f\n", ratio
    printf "run setup: %.2f transactions committed and %.2f WAL flushes per run (3 requests)\n", tc / sr, ws / sr
    ok = runs >= gr && ratio >= gq
    printf "goal: >= %d runs/s and ratio >= %.2f: %s\n", gr, gq, ok ? "MET" : "NOT MET"
    exit ok ? 0 : 3 }' && met=1 || met=0
printf 'machine: %s cores, load average %s (at the end)\n' "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$met" = 0 ] && [ "$enforce" = 1 ]; then exit 1; fi
exit 0
