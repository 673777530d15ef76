#!/usr/bin/env bash
# Where a run's setup goes in PostgreSQL (issue 21): one exptrackd on a
# private, durable PostgreSQL with pg_stat_statements (track = all, so the
# statements the experiment_keys triggers run are counted apart) and
# track_functions; bin/setup_load --mode setup warms it, then a measured
# slice runs with the statistics reset. Prints per run: each statement's
# calls and execution time (top-level and nested), the trigger functions'
# time, CPU of PostgreSQL's processes and of exptrackd, transactions and
# WAL flushes, and the requests per group of the call writers. Several
# BUILD_DIRs are measured in turns, each on its own cluster, so that an
# A/B sits in one run (PROFILE_ROUNDS rounds).
#
# usage: tests/bench/setup_profile.sh BUILD_DIR [BUILD_DIR...]   (Release builds)
# environment: SETUP_CLIENTS=8 PROFILE_WARM=3 PROFILE_DURATION=6 PROFILE_ROUNDS=1
#              PROFILE_STATEMENTS=1 (print the statement table)
#              PROFILE_PERF=1 (perf record of PostgreSQL's backends during the
#              measured slice; prints the top symbols, self time)
#              PROFILE_EXPLAIN=1 (auto_explain, ANALYZE and BUFFERS, of 2% of the
#              statements and what they run; prints the last log-batch's plan:
#              its timings are inflated by the instrumentation)
set -euo pipefail

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [BUILD_DIR...]" >&2
    exit 2
fi
clients=${SETUP_CLIENTS:-8}
warm=${PROFILE_WARM:-3}
duration=${PROFILE_DURATION:-6}
rounds=${PROFILE_ROUNDS:-1}
show_statements=${PROFILE_STATEMENTS:-1}
explain=${PROFILE_EXPLAIN:-0}
use_perf=${PROFILE_PERF:-0}
pg_extra=("autovacuum = off" "shared_preload_libraries = 'pg_stat_statements'"
    "pg_stat_statements.track = all" "pg_stat_statements.track_planning = on"
    "track_functions = all")
if [ "$explain" = 1 ]; then
    pg_extra+=("session_preload_libraries = 'auto_explain'" "auto_explain.log_min_duration = 0"
        "auto_explain.log_analyze = on" "auto_explain.log_buffers = on"
        "auto_explain.log_nested_statements = on" "auto_explain.sample_rate = 0.02")
fi
builds=()
for b in "$@"; do
    b=$(cd "$b" && pwd)
    for f in exptrackd setup_load; do
        [ -x "$b/bin/$f" ] || { echo "setup_profile: $b/bin/$f not found" >&2; exit 1; }
    done
    builds+=("$b")
done
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"

# CPU seconds (user + system) of the processes whose pids are given.
cpu_of() {
    local tck sum=0 p f
    tck=$(getconf CLK_TCK)
    for p in "$@"; do
        f=/proc/$p/stat
        [ -r "$f" ] || continue
        # fields 14-17: utime stime cutime cstime (after the ")" of comm)
        sum=$((sum + $(sed 's/^.*) //' "$f" | awk '{ print $12 + $13 }')))
    done
    awk -v s="$sum" -v t="$tck" 'BEGIN { printf "%.3f", s / t }'
}
pg_pids() { pgrep -P "$(head -n 1 "$pgdata/postmaster.pid")" | tr '\n' ' '; }

one() {
    local build=$1 label=$2 exp out c0 w0 c1 w1 pcpu0 pcpu1 scpu0 scpu1 runs g0 g1 gn0 gn1
    (
        server_bin=$build/bin/exptrackd
        bench_setup "profile-$label"
        bench_pg_start "${pg_extra[@]}"
        psql_ -d exptrack -c "CREATE EXTENSION pg_stat_statements"
        bench_server_start
        exp=$(curl -sf -H 'Content-Type: application/json' -d '{"name":"run-setup"}' \
            "$url/api/2.0/mlflow/experiments/create" |
            sed -n 's/.*"experiment_id":"\([0-9]*\)".*/\1/p')
        "$build/bin/setup_load" --url "$url" --experiment "$exp" --threads "$clients" \
            --duration "$warm" --mode setup >/dev/null
        metric_groups() {
            curl -sf "$url/metrics" | awk '/^exptrack_group_commit_batch_size_(sum|count)/ { printf "%s ", $2 }'
        }
        sql "SELECT pg_stat_statements_reset(), pg_stat_reset()" >/dev/null
        read -r c0 w0 <<<"$(sql "SELECT (SELECT sum(xact_commit) FROM pg_stat_database) || ' ' || wal_sync FROM pg_stat_wal")"
        read -r g0 gn0 <<<"$(metric_groups)"
        # shellcheck disable=SC2046
        pcpu0=$(cpu_of $(pg_pids))
        scpu0=$(cpu_of "$server_pid")
        perf_pid=""
        if [ "$use_perf" = 1 ]; then
            # shellcheck disable=SC2046
            perf record -q -F 499 -g -o "$tmp/perf.data" -p "$(pg_pids | tr ' ' ',' | sed 's/,$//')" \
                -- sleep "$duration" >/dev/null 2>&1 &
            perf_pid=$!
        fi
        out=$("$build/bin/setup_load" --url "$url" --experiment "$exp" --threads "$clients" \
            --duration "$duration" --mode setup)
        if [ -n "$perf_pid" ]; then wait "$perf_pid" || true; fi
        # shellcheck disable=SC2046
        pcpu1=$(cpu_of $(pg_pids))
        scpu1=$(cpu_of "$server_pid")
        read -r g1 gn1 <<<"$(metric_groups)"
        read -r c1 w1 <<<"$(sql "SELECT (SELECT sum(xact_commit) FROM pg_stat_database) || ' ' || wal_sync FROM pg_stat_wal")"
        runs=$(sed -n 's/.* runs=\([0-9]*\).*/\1/p' <<<"$out")
        echo "== $label ($build)"
        echo "$out"
        awk -v r="$runs" -v s="$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' <<<"$out")" \
            -v pc="$(awk -v a="$pcpu0" -v b="$pcpu1" 'BEGIN { print b - a }')" \
            -v sc="$(awk -v a="$scpu0" -v b="$scpu1" 'BEGIN { print b - a }')" \
            -v tc=$((c1 - c0)) -v wf=$((w1 - w0)) -v gs="$(awk -v a="${g0:-0}" -v b="${g1:-0}" 'BEGIN { print b - a }')" \
            -v gn="$(awk -v a="${gn0:-0}" -v b="${gn1:-0}" 'BEGIN { print b - a }')" 'BEGIN {
            printf "%s: %.0f runs/s; per run: PostgreSQL CPU %.3f ms, exptrackd CPU %.3f ms, %.2f transactions, %.2f WAL flushes; %.2f requests a group\n",
                "'"$label"'", r / s, pc * 1000 / r, sc * 1000 / r, tc / r, wf / r, (gn > 0 ? gs / gn : 0) }'
        if [ "$show_statements" = 1 ]; then
            echo "-- statements, per run (calls, plans, ms planning, ms of execution), top 25 by time:"
            sql "SELECT round(calls::numeric / $runs, 2) || ' | ' || round(plans::numeric / $runs, 2) || ' | ' || round((total_plan_time / $runs)::numeric, 4) || ' | ' || round((total_exec_time / $runs)::numeric, 4) || ' | ' || CASE WHEN toplevel THEN 'top' ELSE 'nested' END || ' | ' || regexp_replace(left(query, 160), '\s+', ' ', 'g') FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'exptrack') ORDER BY total_exec_time DESC LIMIT 25"
            echo "-- functions, per run (calls, self ms, total ms):"
            sql "SELECT funcname || ' | ' || round(calls::numeric / $runs, 2) || ' | ' || round((self_time / $runs)::numeric, 4) || ' | ' || round((total_time / $runs)::numeric, 4) FROM pg_stat_user_functions ORDER BY total_time DESC"
        fi
        if [ "$use_perf" = 1 ]; then
            echo "-- PostgreSQL backends, perf, self time by symbol (top 45):"
            perf report -i "$tmp/perf.data" --no-children --sort symbol --stdio 2>/dev/null |
                grep -E '^ +[0-9.]+%' | head -n 45
            echo "-- PostgreSQL backends, perf, with callees by symbol (top 45):"
            perf report -i "$tmp/perf.data" --children --sort symbol --stdio -g none 2>/dev/null |
                grep -E '^ +[0-9.]+%' | head -n 45
        fi
        if [ "$explain" = 1 ]; then
            cp "$tmp/pg.log" "/tmp/setup_profile-$label-pg.log"
            echo "-- the last log-batch statement's plan (auto_explain):"
            awk '/Query Text: WITH run AS/ { buf = ""; on = 1 } on { buf = buf $0 "\n" }
                 on && /Execution Time|Trigger .*calls/ { last = buf } END { printf "%s", last }' "$tmp/pg.log" | tail -n 120
        fi
    )
}

for ((round = 1; round <= rounds; round++)); do
    i=0
    for b in "${builds[@]}"; do
        i=$((i + 1))
        one "$b" "build$i-round$round"
    done
done
printf 'machine: %s cores, load average %s (at the end)\n' "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
