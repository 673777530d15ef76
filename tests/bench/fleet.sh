#!/usr/bin/env bash
# The fleet benchmark of `make bench` (BENCH_ONLY=fleet, issue 20): a private,
# durable PostgreSQL and an exptrackd; FLEET_PROCS processes of bin/fleet_load
# hold FLEET_RUNS runs between them, each run logging FLEET_RATE points/s
# through libexptrack, while FLEET_WATCHERS dashboard watchers hold the live
# stream open on those runs and FLEET_SEARCHERS clients search, all for
# FLEET_SECONDS. Prints points/s sustained, how long et_log_metric() took
# (the caller must never block), how long a point waited for its
# acknowledgement, the live lag (et_log_metric() to the watcher's event),
# search latency, exptrackd's and PostgreSQL's CPU and memory, WAL bytes
# per point, and checks that the database holds every point logged, once.
#
# usage: tests/bench/fleet.sh BUILD_DIR   (a Release build)
# environment:
#   FLEET_SECONDS=30 (the soak: 600)  FLEET_RUNS=1000  FLEET_RATE=100
#   FLEET_PROCS=4  FLEET_WATCHERS=100  FLEET_SEARCHERS=5
#   FLEET_SEARCH_INTERVAL_MS=1000   each searcher starts one search this often
#                                   (0: back to back)
#   FLEET_SENDERS=                  et_options.senders (log-batch requests in
#                                   flight) of each logging process (default:
#                                   libexptrack's, 32)
#   BENCH_SERVER_FLAGS=    extra exptrackd flags
#   BENCH_ENFORCE=1        exit non-zero when a goal is missed
# goals (issue 20): 100,000 points/s sustained, live lag p99 < 2 s, zero
# points lost or doubled, et_log_metric() never blocking.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
server_bin=$build/bin/exptrackd
load_bin=$build/bin/fleet_load
for b in "$server_bin" "$load_bin"; do
    [ -x "$b" ] || { echo "fleet bench: $b not found; build first" >&2; exit 1; }
done
server_flags=${BENCH_SERVER_FLAGS:-}
seconds=${FLEET_SECONDS:-30}
runs=${FLEET_RUNS:-1000}
rate=${FLEET_RATE:-100}
procs=${FLEET_PROCS:-4}
watchers=${FLEET_WATCHERS:-100}
searchers=${FLEET_SEARCHERS:-5}
search_interval=${FLEET_SEARCH_INTERVAL_MS:-1000}
enforce=${BENCH_ENFORCE:-0}
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_setup fleet
load_pids=()
bench_extra_cleanup() {
    local p
    for p in "${load_pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
}
bench_pg_start "max_connections = 300"
bench_server_start

exp=$(curl -sf -H 'Content-Type: application/json' -d '{"name":"fleet"}' \
    "$url/api/2.0/mlflow/experiments/create" | sed -n 's/.*"experiment_id":"\([0-9]*\)".*/\1/p')
[ -n "$exp" ] || { log "experiments/create failed"; exit 1; }

# CPU seconds (user + system) of a process, and of this cluster's postmaster
# with its children (other clusters may run as the same user).
cpu_of_pid() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"; }
pg_pids() {
    local pm p
    pm=$(head -n 1 "$pgdata/postmaster.pid")
    echo "$pm"
    for p in /proc/[0-9]*; do
        [ "$(awk '/^PPid:/ { print $2 }' "$p/status" 2>/dev/null)" = "$pm" ] && echo "${p#/proc/}"
    done
}
cpu_of_pg() {
    local total=0 p
    for p in $(pg_pids); do
        total=$(awk -v t="$total" -v hz="$(getconf CLK_TCK)" '{ print t + ($14 + $15) / hz }' \
            "/proc/$p/stat" 2>/dev/null || echo "$total")
    done
    echo "$total"
}
# Proportional set size of the cluster's processes (shared buffers counted once), MiB.
pss_of_pg() {
    local total=0 p
    for p in $(pg_pids); do
        total=$((total + $(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)))
    done
    echo $((total / 1024))
}

per_proc=$(((runs + procs - 1) / procs))
log "$runs runs in $procs processes, $rate points/s each, $watchers watchers, $searchers searchers, ${seconds} s"
for ((i = 0; i < procs; i++)); do
    n=$((runs - i * per_proc < per_proc ? runs - i * per_proc : per_proc))
    "$load_bin" log "$url" "$exp" "$n" "$rate" "$seconds" "$tmp" "$i" >"$tmp/log.$i" &
    load_pids+=($!)
done
for ((i = 0; i < procs; i++)); do
    for ((t = 0; t < 1200; t++)); do [ -e "$tmp/runs.$i" ] && break; sleep 0.1; done
    [ -e "$tmp/runs.$i" ] || { log "logger $i did not create its runs in 120 s"; exit 1; }
done
"$load_bin" watch "$url" "$exp" "$watchers" "$seconds" "$tmp" >"$tmp/watch.out" &
watch_pid=$!
load_pids+=("$watch_pid")
"$load_bin" search "$url" "$exp" "$searchers" "$seconds" "$tmp" "$search_interval" >"$tmp/search.out" &
load_pids+=($!)
sleep 3 # the watchers' streams open

# Where a point waits on the server: log-batch requests (count and seconds,
# from the request line to the queued reply, which includes the group-commit
# queue and the commit) and the group commits (groups, requests, points), from
# /metrics before and after.
server_waits() {
    curl -sf "$url/metrics" | awk '
        /^http_server_request_duration_seconds_count\{method="POST",route="\/api\/2.0\/mlflow\/runs\/log-batch"/ { n += $2 }
        /^http_server_request_duration_seconds_sum\{method="POST",route="\/api\/2.0\/mlflow\/runs\/log-batch"/ { s += $2 }
        /^exptrack_group_commit_batch_size_count / { g = $2 }
        /^exptrack_group_commit_batch_size_sum / { gr = $2 }
        /^exptrack_group_commit_points_total / { gp = $2 }
        END { printf "%d %.6f %d %d %d\n", n, s, g, gr, gp }'
}
waits0=$(server_waits)
lsn0=$(sql "SELECT pg_current_wal_lsn()")
cpu_s0=$(cpu_of_pid "$server_pid")
cpu_p0=$(cpu_of_pg)
touch "$tmp/go"
t0=$(date +%s.%N)
sleep "$((seconds / 2))"
rss_mid=$(awk '/^VmRSS:/ { print int($2 / 1024) }' "/proc/$server_pid/status")
pss_mid=$(pss_of_pg)
failed=0
for p in "${load_pids[@]}"; do wait "$p" || failed=1; done
load_pids=()
t1=$(date +%s.%N)
cpu_s1=$(cpu_of_pid "$server_pid")
cpu_p1=$(cpu_of_pg)
hwm=$(awk '/^VmHWM:/ { print int($2 / 1024) }' "/proc/$server_pid/status")
waits1=$(server_waits)
[ "$failed" = 0 ] || { log "a load process failed"; cat "$tmp"/log.* "$tmp/watch.out" >&2; exit 1; }

field() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
sum_field() { cat "$tmp"/log.* | awk -v k="$1" '$1 == k { s += $2 } END { printf "%.0f", s }'; }
sum_float() { cat "$tmp"/log.* | awk -v k="$1" '$1 == k { s += $2 } END { printf "%.2f", s }'; }
max_field() { cat "$tmp"/log.* | awk -v k="$1" '$1 == k && $2 > m { m = $2 } END { printf "%.3f", m }'; }
calls=$(sum_field calls)
delivered=$(sum_field delivered)
dropped=$(sum_field dropped)
spooled=$(sum_field spooled)
probes=$(sum_field probes)
lsn1=$(sql "SELECT pg_current_wal_lsn()")
wal=$(sql "SELECT pg_wal_lsn_diff('$lsn1', '$lsn0')::bigint")
stored=$(sql "SELECT count(*) FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.name LIKE 'fleet-%'")
doubled=$(sql "SELECT count(*) FROM (SELECT 1 FROM metrics GROUP BY run_id, key_id, step HAVING count(*) > 1) d")

echo "--- per logger process (worst of $procs) ---"
for k in call_us_p50 call_us_p99 call_us_worst ack_ms_p50 ack_ms_p99 ack_ms_max; do
    printf '%-16s %s\n' "$k" "$(max_field "$k")"
done
awk -v calls="$calls" -v del="$delivered" -v drop="$dropped" -v spool="$spooled" \
    -v stored="$stored" -v doubled="$doubled" -v wal="$wal" -v t0="$t0" -v t1="$t1" \
    -v secs="$seconds" -v runs="$runs" -v rate="$rate" \
    -v cs0="$cpu_s0" -v cs1="$cpu_s1" -v cp0="$cpu_p0" -v cp1="$cpu_p1" \
    -v rss="$rss_mid" -v hwm="$hwm" -v pss="$pss_mid" \
    -v lag50="$(field lag_ms_p50 "$tmp/watch.out")" -v lag99="$(field lag_ms_p99 "$tmp/watch.out")" \
    -v lagn="$(field lag_ms_count "$tmp/watch.out")" -v probes="$probes" \
    -v lost="$(field lost_streams "$tmp/watch.out")" -v events="$(field events "$tmp/watch.out")" \
    -v s50="$(field search_ms_p50 "$tmp/search.out")" -v s99="$(field search_ms_p99 "$tmp/search.out")" \
    -v sn="$(field search_ms_count "$tmp/search.out")" \
    -v sf="$(field search_failures "$tmp/search.out")" -v si="$search_interval" \
    -v blocked="$(max_field call_us_worst)" -v ccpu="$(sum_float cpu_seconds)" 'BEGIN {
    wall = t1 - t0
    printf "fleet: %d runs x %d points/s for %d s (%.1f s with the final flush)\n", runs, rate, secs, wall
    printf "points logged: %d (%.0f points/s over the %d s), acknowledged %d, stored %d, refused %d, spooled %d, doubled %d\n", calls, calls / secs, secs, del, stored, drop, spool, doubled
    printf "live lag (et_log_metric -> watcher event, probe points logged among the fleet'"'"'s): p50 %.0f ms, p99 %.0f ms (%d of %d probes seen; %d events, %d streams lost)\n", lag50, lag99, lagn, probes, events, lost
    printf "searches (100 runs, metric filter and order, one per client every %d ms): %d, p50 %.1f ms, p99 %.1f ms, %d failed\n", si, sn, s50, s99, sf
    printf "exptrackd: %.2f CPU cores, %.1f us CPU per point, RSS %d MiB (mid-run), peak %d MiB\n", (cs1 - cs0) / wall, (cs1 - cs0) * 1e6 / calls, rss, hwm
    printf "logging processes (libexptrack): %.2f CPU cores, %.1f us CPU per point\n", ccpu / wall, ccpu * 1e6 / calls
    printf "postgresql: %.2f CPU cores, %.1f us CPU per point (searches included), PSS %d MiB (mid-run)\n", (cp1 - cp0) / wall, (cp1 - cp0) * 1e6 / calls, pss
    printf "WAL: %.1f bytes per point\n", (stored > 0 ? wal / stored : 0)
    ok = stored == calls && doubled == 0 && drop == 0 && calls / secs >= 100000 && lag99 < 2000 && blocked < 100000
    printf "goal: 100,000 points/s, every point stored once, live lag p99 < 2 s, no call blocked (worst call %.0f us): %s\n", blocked, ok ? "MET" : "NOT MET"
    exit ok ? 0 : 3 }' && met=1 || met=0
requests=$(sum_field requests)
read -r n0 s0 g0 gr0 gp0 <<<"$waits0"
read -r n1 s1 g1 gr1 gp1 <<<"$waits1"
awk -v n="$((n1 - n0))" -v s="$(awk -v a="$s1" -v b="$s0" 'BEGIN { print a - b }')" \
    -v g="$((g1 - g0))" -v gr="$((gr1 - gr0))" -v gp="$((gp1 - gp0))" -v req="$requests" \
    -v del="$delivered" 'BEGIN {
    printf "where points wait: %d log-batch requests (%.0f points each), in exptrackd %.1f ms each on average (group-commit queue and commit included); %d group commits of %.1f requests and %.0f points on average\n", n, (req > 0 ? del / req : 0), (n > 0 ? s * 1000 / n : 0), g, (g > 0 ? gr / g : 0), (g > 0 ? gp / g : 0) }'
printf 'machine: %s cores, load average %s (at the end)\n' "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$stored" != "$calls" ] || [ "$doubled" != 0 ]; then
    log "points lost or doubled: logged $calls, stored $stored, doubled $doubled"
    exit 1
fi
if [ "$met" = 0 ] && [ "$enforce" = 1 ]; then exit 1; fi
exit 0
