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
pgbin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
[ -x "$pgbin/postgres" ] || { echo "bench: no PostgreSQL in /usr/lib/postgresql" >&2; exit 1; }

tmp=$(mktemp -d /tmp/exptrack-artbench.XXXXXX)
pgdata=$tmp/pgdata
server_pid=""
sampler_pid=""
pg_started=0

log() { printf 'bench: %s\n' "$*" >&2; }

as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

wait_gone() {
    local pid=$1 limit=$2 i
    for ((i = 0; i < limit * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

stop_pid() {
    local pid=$1
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    wait_gone "$pid" 15 || kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_pid "$sampler_pid"
    stop_pid "$server_pid"
    if [ "$pg_started" = 1 ]; then
        as_pg "$pgbin/pg_ctl" -D "$pgdata" -m fast -t 30 -w stop >/dev/null 2>&1 || {
            pmpid=$(head -n 1 "$pgdata/postmaster.pid" 2>/dev/null || true)
            if [ -n "$pmpid" ]; then kill -KILL "$pmpid" 2>/dev/null || true; fi
        }
    fi
    if [ "$rc" -ne 0 ]; then
        for f in "$tmp"/exptrackd.log "$tmp"/pg.log; do
            [ -s "$f" ] && { log "last lines of $(basename "$f"):"; tail -n 20 "$f" >&2; }
        done
    fi
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

psql_() { timeout 900 "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -h "$tmp" -U postgres "$@"; }
sql() { psql_ -d exptrack -At -c "$1"; }
now() { date +%s.%N; }
rate() { awk -v m="$mib" -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", m / (b - a) }'; }
kib_of() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }

# --- PostgreSQL (durable, like tests/bench/run.sh) ----------------------------
chmod 755 "$tmp"
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$tmp"; fi
as_pg "$pgbin/initdb" -D "$pgdata" -U postgres --auth=trust -E UTF8 --no-locale >"$tmp/initdb.log" 2>&1 ||
    { cat "$tmp/initdb.log" >&2; exit 1; }
cat >>"$pgdata/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$tmp'
fsync = on
synchronous_commit = on
full_page_writes = on
shared_buffers = 256MB
max_wal_size = 16GB
checkpoint_timeout = 1h
EOF
log "starting PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') in $tmp"
pg_started=1
as_pg "$pgbin/pg_ctl" -D "$pgdata" -l "$tmp/pg.log" -w -t 60 start >/dev/null
psql_ -d postgres -c "CREATE DATABASE exptrack"

# --- the file ----------------------------------------------------------------
log "writing $mib MiB of random bytes"
head -c $((mib * 1048576)) /dev/urandom >"$tmp/data.bin"
chmod 644 "$tmp/data.bin"
sha=$(sha256sum "$tmp/data.bin" | awk '{print $1}')

# --- exptrackd ---------------------------------------------------------------
# shellcheck disable=SC2086 # server_flags is a list of flags
"$server_bin" --port 0 --database-url "postgresql:///exptrack?host=$tmp&user=postgres" \
    --max-artifact-size $((mib * 1048576 + 1)) $server_flags 2>"$tmp/exptrackd.log" &
server_pid=$!
url=""
for ((i = 0; i < 300; i++)); do
    url=$(grep -m 1 -o 'listening on http://[^ ]*' "$tmp/exptrackd.log" 2>/dev/null | sed 's/^listening on //' || true)
    [ -n "$url" ] && break
    kill -0 "$server_pid" 2>/dev/null || { log "exptrackd exited at start"; exit 1; }
    sleep 0.1
done
[ -n "$url" ] || { log "exptrackd did not print 'listening on' within 30 s"; exit 1; }
log "exptrackd $url (pid $server_pid)"

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
