#!/usr/bin/env bash
# libexptrack's benchmark: starts a private PostgreSQL (durable settings) and
# exptrackd, runs bin/client_bench (ns per et_log_metric call, median over
# CLIENT_BENCH_CALLS calls; end-to-end points/s from one process), checks
# that every point was stored, and cleans up whatever happens.
#
# usage: tests/bench/client.sh BUILD_DIR
# environment: CLIENT_BENCH_CALLS=10000000
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
calls=${CLIENT_BENCH_CALLS:-10000000}
server_bin=$build/bin/exptrackd
bench_bin=$build/bin/client_bench
for b in "$server_bin" "$bench_bin"; do
    [ -x "$b" ] || { echo "client bench: $b not found; build first" >&2; exit 1; }
done
pgbin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
tmp=$(mktemp -d /tmp/exptrack-client-bench.XXXXXX)
pgdata=$tmp/pgdata
server_pid=""
pg_started=0

log() { printf 'client bench: %s\n' "$*" >&2; }
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$server_pid" ]; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [ "$pg_started" = 1 ]; then
        as_pg "$pgbin/pg_ctl" -D "$pgdata" -m fast -t 30 -w stop >/dev/null 2>&1 || true
    fi
    if [ "$rc" -ne 0 ] && [ -s "$tmp/exptrackd.log" ]; then tail -n 20 "$tmp/exptrackd.log" >&2; fi
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

chmod 755 "$tmp"
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$tmp"; fi
as_pg "$pgbin/initdb" -D "$pgdata" -U postgres --auth=trust -E UTF8 --no-locale >"$tmp/initdb.log" 2>&1 ||
    { cat "$tmp/initdb.log" >&2; exit 1; }
cat >>"$pgdata/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$tmp'
fsync = on
synchronous_commit = on
shared_buffers = 256MB
max_wal_size = 16GB
CONF
pg_started=1
as_pg "$pgbin/pg_ctl" -D "$pgdata" -l "$tmp/pg.log" -w -t 60 start >/dev/null
"$pgbin/psql" -X -q -h "$tmp" -U postgres -d postgres -c "CREATE DATABASE exptrack"

"$server_bin" --port 0 --database-url "postgresql:///exptrack?host=$tmp&user=postgres" \
    2>"$tmp/exptrackd.log" &
server_pid=$!
url=""
for ((i = 0; i < 300; i++)); do
    url=$(grep -m 1 -o 'listening on http://[^ ]*' "$tmp/exptrackd.log" 2>/dev/null | sed 's/^listening on //' || true)
    [ -n "$url" ] && break
    kill -0 "$server_pid" 2>/dev/null || { log "exptrackd exited at start"; exit 1; }
    sleep 0.1
done
[ -n "$url" ] || { log "exptrackd did not start"; exit 1; }

log "running $calls et_log_metric calls against $url"
EXPTRACK_SPOOL_DIR=$tmp/spool "$bench_bin" "$url" "$calls"
stored=$("$pgbin/psql" -X -At -h "$tmp" -U postgres -d exptrack -c "SELECT count(*) FROM metrics")
log "points stored: $stored"
[ "$stored" = "$calls" ] || { log "expected $calls stored points"; exit 1; }
