#!/usr/bin/env bash
# exptrack's artifact benchmark: starts a private PostgreSQL and exptrackd,
# uploads one large random file through the artifact proxy (PUT, streamed) and
# downloads it again (GET), then has psql write the same bytes as one large
# object (\lo_import) and read it back (\lo_export): the physical limit of the
# same cluster in the same run. Prints MiB/s each way, the ratios, and
# exptrackd's peak RSS growth (VmHWM over the RSS before the transfers).
# Checks that the bytes came back identical. Cleans up whatever happens.
#
# usage: tests/bench/artifacts.sh BUILD_DIR
# environment:
#   BENCH_ART_MIB=1024        file size in MiB
#   BENCH_ART_MIN_RATIO=0.5   goal: exptrackd / psql large object, each way
#   BENCH_ART_MAX_RSS_MIB=64  goal: exptrackd RSS growth during the transfers
#   BENCH_ENFORCE=1           exit non-zero when a goal is missed
#   BENCH_SERVER_FLAGS=       extra exptrackd flags
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
mib=${BENCH_ART_MIB:-1024}
min_ratio=${BENCH_ART_MIN_RATIO:-0.5}
max_rss=${BENCH_ART_MAX_RSS_MIB:-64}
enforce=${BENCH_ENFORCE:-0}
server_flags=${BENCH_SERVER_FLAGS:-}

server_bin=$build/bin/exptrackd
[ -x "$server_bin" ] || { echo "bench: $server_bin not found; build first" >&2; exit 1; }
command -v curl >/dev/null || { echo "bench: curl is needed" >&2; exit 1; }
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_setup bench
BENCH_PSQL_TIMEOUT=900
sampler_pid=""
bench_extra_cleanup() { stop_pid "$sampler_pid"; }

now() { date +%s.%N; }
rate() { awk -v m="$mib" -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", m / (b - a) }'; }
kib_of() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }

# --- PostgreSQL (durable, like tests/bench/run.sh) ----------------------------
bench_pg_start

# --- the file ----------------------------------------------------------------
log "writing $mib MiB of random bytes"
head -c $((mib * 1048576)) /dev/urandom >"$tmp/data.bin"
chmod 644 "$tmp/data.bin"
sha=$(sha256sum "$tmp/data.bin" | awk '{print $1}')

# --- exptrackd ---------------------------------------------------------------
bench_server_start --max-artifact-size $((mib * 1048576 + 1))

run_json=$(curl -sS -X POST -H 'Content-Type: application/json' \
    -d '{"experiment_id": "0"}' "$url/api/2.0/mlflow/runs/create")
run_id=$(sed -n 's/.*"run_id":"\([0-9a-f]\{32\}\)".*/\1/p' <<<"$run_json")
[ -n "$run_id" ] || { log "runs/create failed: $run_json"; exit 1; }
art_url="$url/api/2.0/mlflow-artifacts/artifacts/0/$run_id/artifacts/bench/data.bin"

# Samples exptrackd's RSS every 50 ms as a cross-check of VmHWM.
sample_rss() {
    local max=0 v
    while kill -0 "$server_pid" 2>/dev/null; do
        v=$(kib_of "$server_pid" VmRSS || echo 0)
        [ "${v:-0}" -gt "$max" ] && { max=$v; echo "$max" >"$tmp/rss.max"; }
        sleep 0.05
    done
}
rss0=$(kib_of "$server_pid" VmRSS)
echo "$rss0" >"$tmp/rss.max"
sample_rss &
sampler_pid=$!

# --- exptrackd upload and download ------------------------------------------
psql_ -d exptrack -c CHECKPOINT
t0=$(now)
code=$(curl -sS -o "$tmp/put.out" -w '%{http_code}' -H 'Content-Type: application/octet-stream' \
    -T "$tmp/data.bin" "$art_url")
t1=$(now)
[ "$code" = 200 ] || { log "upload answered $code: $(cat "$tmp/put.out")"; exit 1; }
up_rate=$(rate "$t0" "$t1")
log "upload: $up_rate MiB/s"

psql_ -d exptrack -c CHECKPOINT
t0=$(now)
curl -sS -D "$tmp/get.headers" "$art_url" | cmp - "$tmp/data.bin" ||
    { log "the download differs from the upload"; exit 1; }
t1=$(now)
down_rate=$(rate "$t0" "$t1")
grep -qi "^etag: \"$sha\"" "$tmp/get.headers" || { log "ETag is not the file's SHA-256"; exit 1; }
log "download: $down_rate MiB/s (bytes identical, ETag = SHA-256)"
hwm=$(kib_of "$server_pid" VmHWM)
stop_pid "$sampler_pid"
sampler_pid=""
sampled=$(cat "$tmp/rss.max")

# --- psql large object baseline ---------------------------------------------
psql_ -d exptrack -c CHECKPOINT
t0=$(now)
oid=$(timeout 900 "$pgbin/psql" -X -v ON_ERROR_STOP=1 -h "$tmp" -U postgres -d exptrack -At \
    -c "\\lo_import '$tmp/data.bin'" | awk '{print $2}')
t1=$(now)
[ -n "$oid" ] || { log "\\lo_import failed"; exit 1; }
lo_up_rate=$(rate "$t0" "$t1")
psql_ -d exptrack -c CHECKPOINT
t0=$(now)
psql_ -d exptrack -c "\\lo_export $oid '$tmp/lo.out'" >/dev/null
t1=$(now)
lo_down_rate=$(rate "$t0" "$t1")
cmp "$tmp/lo.out" "$tmp/data.bin" || { log "lo_export differs"; exit 1; }
rm -f "$tmp/lo.out"

# --- summary -----------------------------------------------------------------
awk -v mib="$mib" -v up="$up_rate" -v down="$down_rate" -v lup="$lo_up_rate" -v ldown="$lo_down_rate" \
    -v rss0="$rss0" -v hwm="$hwm" -v sampled="$sampled" -v goal="$min_ratio" -v maxrss="$max_rss" 'BEGIN {
    growth = (hwm - rss0) / 1024
    printf "\n"
    printf "artifacts: %d MiB upload through exptrackd (PUT):    %8.1f MiB/s\n", mib, up
    printf "baseline:  psql \\lo_import of the same bytes:        %8.1f MiB/s  ratio: %.2f\n", lup, up / lup
    printf "artifacts: %d MiB download through exptrackd (GET):  %8.1f MiB/s\n", mib, down
    printf "baseline:  psql \\lo_export of the same bytes:        %8.1f MiB/s  ratio: %.2f\n", ldown, down / ldown
    printf "exptrackd RSS: %.1f MiB before, peak %.1f MiB (VmHWM; sampled VmRSS max %.1f MiB): growth %.1f MiB\n", rss0 / 1024, hwm / 1024, sampled / 1024, growth
    printf "\n"
    ok1 = up / lup >= goal; ok2 = down / ldown >= goal; ok3 = growth < maxrss
    printf "goal: upload >= %.2f x lo_import: %s (%.2f)\n", goal, ok1 ? "PASS" : "FAIL", up / lup
    printf "goal: download >= %.2f x lo_export: %s (%.2f)\n", goal, ok2 ? "PASS" : "FAIL", down / ldown
    printf "goal: RSS growth < %d MiB: %s (%.1f MiB)\n", maxrss, ok3 ? "PASS" : "FAIL", growth
    exit (ok1 && ok2 && ok3) ? 0 : 3
}' || {
    rc=$?
    if [ "$rc" -eq 3 ] && [ "$enforce" != 1 ]; then exit 0; fi
    exit "$rc"
}
