# Shared by the bench scripts (sourced, not run): a private, durable
# PostgreSQL on a Unix socket in a temp dir, an exptrackd against it, and a
# cleanup that stops both and removes the dir whatever happens.
#
#   bench_setup PREFIX        sets tmp, pgdata, pgbin; installs the traps.
#                             A caller may define bench_extra_cleanup() to stop
#                             processes of its own first.
#   bench_pg_start [LINE...]  initdb, durable settings plus LINEs in
#                             postgresql.conf, start, CREATE DATABASE exptrack.
#   bench_server_start [FLAG...]  starts $server_bin (with $server_flags and
#                             FLAGs) against it; sets server_pid and url.
#   log, as_pg, wait_gone, stop_pid, psql_ (BENCH_PSQL_TIMEOUT, 300 s), sql.
# shellcheck shell=bash

bench_log_prefix=bench
server_pid=""
pg_started=0

log() { printf '%s: %s\n' "$bench_log_prefix" "$*" >&2; }

# Runs a command as the PostgreSQL owner: 'postgres' when we are root.
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Waits up to $2 seconds for pid $1 to exit; 0 if it did.
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

psql_() {
    timeout "${BENCH_PSQL_TIMEOUT:-300}" "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -h "$tmp" \
        -U postgres "$@"
}
sql() { psql_ -d exptrack -At -c "$1"; }

bench_cleanup() {
    local rc=$? pmpid f
    trap - EXIT INT TERM
    if declare -F bench_extra_cleanup >/dev/null; then bench_extra_cleanup; fi
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

bench_setup() {
    bench_log_prefix=$1
    pgbin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    if [ ! -x "$pgbin/postgres" ]; then
        log "no PostgreSQL in /usr/lib/postgresql"
        exit 1
    fi
    tmp=$(mktemp -d /tmp/exptrack-bench.XXXXXX)
    pgdata=$tmp/pgdata
    trap bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

bench_pg_start() {
    local line
    chmod 755 "$tmp"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$tmp"; fi
    as_pg "$pgbin/initdb" -D "$pgdata" -U postgres --auth=trust -E UTF8 --no-locale \
        >"$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log" >&2; exit 1; }
    # Real durability, as for any acknowledged write; no timed checkpoint
    # landing inside one measured phase and not another.
    cat >>"$pgdata/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$tmp'
fsync = on
synchronous_commit = on
full_page_writes = on
shared_buffers = 256MB
max_wal_size = 16GB
checkpoint_timeout = 1h
CONF
    for line in "$@"; do printf '%s\n' "$line" >>"$pgdata/postgresql.conf"; done
    log "starting PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') in $tmp"
    pg_started=1
    as_pg "$pgbin/pg_ctl" -D "$pgdata" -l "$tmp/pg.log" -w -t 60 start >/dev/null
    psql_ -d postgres -c "CREATE DATABASE exptrack"
}

bench_server_start() {
    local i
    # server_bin is the caller's; server_flags is a list of flags.
    # shellcheck disable=SC2086,SC2154
    "$server_bin" --port 0 --database-url "postgresql:///exptrack?host=$tmp&user=postgres" \
        ${server_flags:-} "$@" 2>"$tmp/exptrackd.log" &
    server_pid=$!
    url=""
    for ((i = 0; i < 300; i++)); do
        url=$(grep -m 1 -o 'listening on http://[^ ]*' "$tmp/exptrackd.log" 2>/dev/null |
            sed 's/^listening on //' || true)
        [ -n "$url" ] && break
        kill -0 "$server_pid" 2>/dev/null || { log "exptrackd exited at start"; exit 1; }
        sleep 0.1
    done
    [ -n "$url" ] || { log "exptrackd did not print 'listening on' within 30 s"; exit 1; }
    log "exptrackd $url (pid $server_pid) $*"
}

# For the A/B scripts (history_ab.sh, history_chart_ab.sh), after
# bench_setup: takes OLD_BUILD_DIR NEW_BUILD_DIR as "$@" into old_bin and
# new_bin (exits 2 on a wrong count, 1 when a binary is missing).
bench_ab_bins() {
    local b
    if [ $# -ne 2 ]; then
        echo "usage: $0 OLD_BUILD_DIR NEW_BUILD_DIR" >&2
        exit 2
    fi
    old_bin=$(cd "$1" && pwd)/bin/exptrackd
    new_bin=$(cd "$2" && pwd)/bin/exptrackd
    for b in "$old_bin" "$new_bin"; do
        [ -x "$b" ] || { log "$b not found; build first"; exit 1; }
    done
}

# PostgreSQL, then a server of old_bin (old_pid, old_url) and one of
# new_bin (server_pid, url) on its database. The cleanup stops the second;
# the caller's bench_extra_cleanup stops old_pid.
bench_ab_servers_start() {
    bench_pg_start
    server_bin=$old_bin
    bench_server_start
    old_pid=$server_pid old_url=$url
    server_pid=""
    server_bin=$new_bin
    bench_server_start
}
