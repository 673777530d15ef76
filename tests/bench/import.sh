#!/usr/bin/env bash
# The import/export benchmark of `make bench` (issue 19): starts a private
# PostgreSQL with two databases and two exptrackd, loads RUNS x METRICS x
# STEPS points into the first through runs/log-batch (the log-batch rate,
# baseline), then times `exptrack import mlflow --from <first>` into the
# second (points/s; the goal is >= 0.5 of the log-batch rate) and
# `exptrack export --jobs N` of the first (points/s against a get-history
# read of every series in pages of 25,000 by N clients, as many as the
# exporter's threads; goal >= 0.5), and the peak RSS of each CLI process
# (goal < 64 MiB). Checks the destination holds every point and the export
# every metric line. Cleans up whatever happens.
#
# usage: tests/bench/import.sh BUILD_DIR
# environment:
#   IMPORT_BENCH_SIZE=full     the issue's size, 1,000 runs x 10 metrics x
#                              1,000 steps (the default); "small" is 100 runs
#                              (1M points, a few minutes on 2 cores)
#   IMPORT_BENCH_RUNS IMPORT_BENCH_METRICS IMPORT_BENCH_STEPS  override the size
#   IMPORT_BENCH_JOBS=4        --jobs of import and export, loader and reader clients
#   BENCH_ENFORCE=1            exit non-zero when a goal is missed
#   BENCH_SERVER_FLAGS=        extra exptrackd flags
# Also prints the CPU time per imported point of the CLI, both exptrackd and
# PostgreSQL (from /proc; the postmaster counts its reaped backends).
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
case ${IMPORT_BENCH_SIZE:-full} in
full) default_runs=1000 ;;
small) default_runs=100 ;;
*) echo "bench: IMPORT_BENCH_SIZE is full or small" >&2; exit 2 ;;
esac
runs=${IMPORT_BENCH_RUNS:-$default_runs}
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

# CPU seconds spent so far by pid $1: its own, its reaped children's and its
# live children's (PostgreSQL backends are children of the postmaster).
cpu_of() {
    local hz pid=$1 child
    hz=$(getconf CLK_TCK)
    {
        awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pid/stat"
        for child in $(pgrep -P "$pid" || true); do
            awk '{ print $14 + $15 }' "/proc/$child/stat" 2>/dev/null || true
        done
    } | awk -v hz="$hz" '{ t += $1 } END { printf "%.2f\n", t / hz }'
}
pm_pid=$(head -n 1 "$pgdata/postmaster.pid")

total=$((runs * metrics * steps))
log "loading $runs runs x $metrics metrics x $steps steps ($total points) into $src"
load_cpu0=$(cpu_of "$server_pid")
load_pg0=$(cpu_of "$pm_pid")
load=$(node "$here/import_bench.mjs" load "$src" "$runs" "$metrics" "$steps" "$jobs")
load_cpu=$(awk -v a="$load_cpu0" -v b="$(cpu_of "$server_pid")" 'BEGIN { print b - a }')
load_pg=$(awk -v a="$load_pg0" -v b="$(cpu_of "$pm_pid")" 'BEGIN { print b - a }')
batch_rate=$(node -e 'console.log(JSON.parse(process.argv[1]).points_per_s.toFixed(0))' "$load")

# Runs $@ and prints "<seconds> <peak RSS KiB> <CPU seconds>" (GNU time's
# %e %M, and %U + %S).
timed() {
    /usr/bin/time -f '%e %M %U %S' -o "$tmp/time.out" "$@" >"$tmp/cmd.out" 2>"$tmp/cmd.err" ||
        { cat "$tmp/cmd.err" >&2; exit 1; }
    awk '{ print $1, $2, $3 + $4 }' "$tmp/time.out"
}

src_cpu0=$(cpu_of "$server_pid")
dst_cpu0=$(cpu_of "$dst_pid")
pg_cpu0=$(cpu_of "$pm_pid")

log "import mlflow --from the source, --jobs $jobs"
read -r imp_s imp_kib imp_cpu < <(timed "$cli_bin" --url "$dst" import mlflow --from "$src" \
    --work-dir "$tmp/work" --jobs "$jobs")
src_cpu=$(awk -v a="$src_cpu0" -v b="$(cpu_of "$server_pid")" 'BEGIN { print b - a }')
dst_cpu=$(awk -v a="$dst_cpu0" -v b="$(cpu_of "$dst_pid")" 'BEGIN { print b - a }')
pg_cpu=$(awk -v a="$pg_cpu0" -v b="$(cpu_of "$pm_pid")" 'BEGIN { print b - a }')
got=$(psql_ -d exptrack_dst -At -c "SELECT count(*) FROM metrics")
[ "$got" = "$total" ] || { log "destination holds $got points, expected $total"; exit 1; }

log "get-history read of every series ($jobs clients), then export --jobs $jobs"
read_json=$(node "$here/import_bench.mjs" read "$src" "$jobs")
read_rate=$(node -e 'console.log(JSON.parse(process.argv[1]).points_per_s.toFixed(0))' "$read_json")
read -r exp_s exp_kib exp_cpu < <(timed "$cli_bin" --url "$src" export "$tmp/export" --jobs "$jobs")
lines=$(find "$tmp/export" -path '*/metrics/*' -type f -exec cat {} + | wc -l)
[ "$lines" = "$total" ] || { log "the export holds $lines metric lines, expected $total"; exit 1; }

awk -v t="$total" -v br="$batch_rate" -v is="$imp_s" -v ik="$imp_kib" -v rr="$read_rate" \
    -v es="$exp_s" -v ek="$exp_kib" -v ic="$imp_cpu" -v ec="$exp_cpu" -v sc="$src_cpu" -v dc="$dst_cpu" -v pc="$pg_cpu" -v lc="$load_cpu" -v lp="$load_pg" -v enforce="$enforce" -v load="$(cut -d ' ' -f 1-3 /proc/loadavg)" 'BEGIN {
    ir = t / is; er = t / es
    printf "import: %d points in %.1f s = %.0f points/s; log-batch %d points/s; ratio %.2f (goal >= 0.5)\n", t, is, ir, br, ir / br
    printf "export: %.0f points/s; get-history %d points/s; ratio %.2f (goal >= 0.5)\n", er, rr, er / rr
    printf "peak RSS: import %.1f MiB, export %.1f MiB (goal < 64)\n", ik / 1024, ek / 1024
    printf "CLI CPU: import %.1f s (%.1f us/point), export %.1f s (%.1f us/point)\n", ic, ic * 1e6 / t, ec, ec * 1e6 / t
    printf "import CPU per point: CLI %.2f us, source exptrackd %.2f us, destination exptrackd %.2f us, PostgreSQL %.2f us\n", ic * 1e6 / t, sc * 1e6 / t, dc * 1e6 / t, pc * 1e6 / t
    printf "log-batch CPU per point: exptrackd %.2f us, PostgreSQL %.2f us (the loader, node, not counted)\n", lc * 1e6 / t, lp * 1e6 / t
    printf "machine: load average %s at the end\n", load
    miss = (ir / br < 0.5) || (er / rr < 0.5) || (ik >= 65536) || (ek >= 65536)
    if (miss) print "goal missed"
    exit (miss && enforce == 1) ? 1 : 0
}'
