#!/usr/bin/env bash
# The import/export benchmark of `make bench` (issue 19): starts a private
# PostgreSQL with two databases and two exptrackd, loads RUNS x METRICS x
# STEPS points into the first through runs/log-batch (the log-batch rate,
# baseline), then times `exptrack import mlflow --from <first>` into the
# second (points/s; the goal is >= 0.5 of the log-batch rate) and
# `exptrack export` of the first (points/s against a get-history read of
# every series in pages of 25,000, one client like the exporter; goal >=
# 0.5), and the peak RSS of each CLI process (goal < 64 MiB). Checks the
# destination holds every point. Cleans up whatever happens.
#
# usage: tests/bench/import.sh BUILD_DIR
# environment:
#   IMPORT_BENCH_RUNS=1000 IMPORT_BENCH_METRICS=10 IMPORT_BENCH_STEPS=1000
#   IMPORT_BENCH_JOBS=4        --jobs of the import, and loader clients
#   BENCH_ENFORCE=1            exit non-zero when a goal is missed
#   BENCH_SERVER_FLAGS=        extra exptrackd flags
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
runs=${IMPORT_BENCH_RUNS:-1000}
metrics=${IMPORT_BENCH_METRICS:-10}
steps=${IMPORT_BENCH_STEPS:-1000}
jobs=${IMPORT_BENCH_JOBS:-4}
enforce=${BENCH_ENFORCE:-0}
server_flags=${BENCH_SERVER_FLAGS:-}
server_bin=$build/bin/exptrackd
cli_bin=$build/bin/exptrack
[ -x "$server_bin" ] && [ -x "$cli_bin" ] || { echo "bench: build first" >&2; exit 1; }
command -v node >/dev/null || { echo "bench: node is needed" >&2; exit 1; }
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"
bench_setup import
dst_pid=""
bench_extra_cleanup() { stop_pid "$dst_pid"; }

bench_pg_start
psql_ -d postgres -c "CREATE DATABASE exptrack_dst"
bench_server_start
src=$url
"$server_bin" --port 0 --database-url "postgresql:///exptrack_dst?host=$tmp&user=postgres" \
    ${server_flags:-} 2>"$tmp/dst.log" &
dst_pid=$!
dst=""
for ((i = 0; i < 300; i++)); do
    dst=$(grep -m 1 -o 'listening on http://[^ ]*' "$tmp/dst.log" 2>/dev/null | sed 's/^listening on //' || true)
    [ -n "$dst" ] && break
    sleep 0.1
done
[ -n "$dst" ] || { log "destination exptrackd did not start"; exit 1; }

total=$((runs * metrics * steps))
log "loading $runs runs x $metrics metrics x $steps steps ($total points) into $src"
load=$(node "$here/import_bench.mjs" load "$src" "$runs" "$metrics" "$steps" "$jobs")
batch_rate=$(node -e 'console.log(JSON.parse(process.argv[1]).points_per_s.toFixed(0))' "$load")

# Runs $@ and prints "<seconds> <peak RSS KiB>" (GNU time's %e %M).
timed() {
    /usr/bin/time -f '%e %M' -o "$tmp/time.out" "$@" >"$tmp/cmd.out" 2>"$tmp/cmd.err" ||
        { cat "$tmp/cmd.err" >&2; exit 1; }
    cat "$tmp/time.out"
}

log "import mlflow --from the source, --jobs $jobs"
read -r imp_s imp_kib < <(timed "$cli_bin" --url "$dst" import mlflow --from "$src" \
    --work-dir "$tmp/work" --jobs "$jobs")
got=$(psql_ -d exptrack_dst -At -c "SELECT count(*) FROM metrics")
[ "$got" = "$total" ] || { log "destination holds $got points, expected $total"; exit 1; }

log "get-history read of every series (1 client), then export"
read_json=$(node "$here/import_bench.mjs" read "$src" 1)
read_rate=$(node -e 'console.log(JSON.parse(process.argv[1]).points_per_s.toFixed(0))' "$read_json")
read -r exp_s exp_kib < <(timed "$cli_bin" --url "$src" export "$tmp/export")

awk -v t="$total" -v br="$batch_rate" -v is="$imp_s" -v ik="$imp_kib" -v rr="$read_rate" \
    -v es="$exp_s" -v ek="$exp_kib" -v enforce="$enforce" 'BEGIN {
    ir = t / is; er = t / es
    printf "import: %d points in %.1f s = %.0f points/s; log-batch %d points/s; ratio %.2f (goal >= 0.5)\n", t, is, ir, br, ir / br
    printf "export: %.0f points/s; get-history %d points/s; ratio %.2f (goal >= 0.5)\n", er, rr, er / rr
    printf "peak RSS: import %.1f MiB, export %.1f MiB (goal < 64)\n", ik / 1024, ek / 1024
    miss = (ir / br < 0.5) || (er / rr < 0.5) || (ik >= 65536) || (ek >= 65536)
    if (miss) print "goal missed"
    exit (miss && enforce == 1) ? 1 : 0
}'
