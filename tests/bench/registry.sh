#!/usr/bin/env bash
# The model registry benchmark of `make bench`: a private, durable PostgreSQL
# and an exptrackd; 1,000 registered models x 100 versions (100,000
# versions, each with two tags, an alias "champion" per model) seeded with
# SQL (generate_series) after the server created the schema; then, all
# through bin/http_load (keep-alive connections, plain sockets):
#
#   a. get-by-alias from 64 connections: req/s, p50, p99, next to GET
#      /version (no database: the server's floor) measured the same way in
#      the same run. Goal: p50 < 2 ms and >= 20,000 req/s. The read cache
#      is on (the default); the same load then runs against a restarted
#      exptrackd with --registry-cache off, so the ratio is of one run.
#   b. model-versions/search shapes of the MLflow client, one connection
#      (latency of one query): name='m..' with max_results 10000, run_id='..',
#      a tag filter, and no filter with max_results 1000 walking all 100
#      pages by page token. Goal: p50 < 50 ms.
#   c. model-versions/create from 8 connections, all on one model and each
#      on its own model: versions/s; afterwards the numbers of the shared
#      model must be exactly 1..N.
#
# usage: tests/bench/registry.sh BUILD_DIR   (a Release build)
# environment:
#   REGISTRY_DURATION=10      seconds of timed load per phase (a, c)
#   REGISTRY_SEARCH_DURATION=5  seconds per search shape (b)
#   REGISTRY_CONNECTIONS=64   connections for get-by-alias
#   REGISTRY_SERVER_FLAGS=    extra exptrackd flags
#   REGISTRY_ONLY="alias search create"  the phases to run
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
server_bin=$build/bin/exptrackd
load_bin=$build/bin/http_load
for b in "$server_bin" "$load_bin"; do
    [ -x "$b" ] || { echo "registry bench: $b not found; build first" >&2; exit 1; }
done
server_flags=${REGISTRY_SERVER_FLAGS:-}
duration=${REGISTRY_DURATION:-10}
sduration=${REGISTRY_SEARCH_DURATION:-5}
conns=${REGISTRY_CONNECTIONS:-64}
only=" ${REGISTRY_ONLY:-alias search create} "
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_setup registry
bench_pg_start
bench_server_start

api=/api/2.0/mlflow
rc=0

# Percent-encodes $1 for a query string.
urlencode() {
    local s=$1 out="" c i
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        case $c in
        [a-zA-Z0-9.~_-]) out+=$c ;;
        *) out+=$(printf '%%%02X' "'$c") ;;
        esac
    done
    printf '%s' "$out"
}

# Runs http_load and prints its RESULT line; a failed run fails the bench.
load() {
    local out
    if ! out=$("$load_bin" --url "$url" "$@"); then
        log "http_load failed: $*"
        rc=1
    fi
    printf '%s\n' "$out"
}

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

# CPU seconds (user + system) used so far by the processes $@ (pids).
cpu_of() {
    local pid sum=0 t
    for pid in "$@"; do
        t=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)
        sum=$((sum + t))
    done
    awk -v t="$sum" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", t / hz}'
}
pg_pids() {
    local pm
    pm=$(head -n 1 "$pgdata/postmaster.pid")
    echo "$pm" $(pgrep -P "$pm")
}
# Runs load "$@" and prints its RESULT line, then the CPU exptrackd and
# PostgreSQL (all of the cluster's processes) spent on it per request.
load_cpu() {
    local s0 p0 s1 p1 out
    s0=$(cpu_of "$server_pid")
    p0=$(cpu_of $(pg_pids))
    out=$(load "$@")
    s1=$(cpu_of "$server_pid")
    p1=$(cpu_of $(pg_pids))
    echo "$out"
    awk -v n="$(field requests "$out")" -v w="$(field label "$out")" -v d="$duration" \
        -v ds="$(awk -v a="$s0" -v b="$s1" 'BEGIN{print b-a}')" \
        -v dp="$(awk -v a="$p0" -v b="$p1" 'BEGIN{print b-a}')" 'BEGIN {
        n = n * (d + 2) / d # the 2 s warmup ran at about the same rate
        if (n > 0) printf "registry: %s CPU per request: exptrackd %.0f us, PostgreSQL %.0f us\n", w, ds * 1e6 / n, dp * 1e6 / n }'
}

# ---- seed: the server made the schema at start ----
log "seeding 1000 models x 100 versions"
t0=$(date +%s.%N)
psql_ -d exptrack <<'SQL'
BEGIN;
INSERT INTO registered_models (name, creation_time, last_updated_time, description, next_version)
SELECT 'm' || i, 1700000000000 + i, 1700000000000 + i, 'model ' || i, 101
FROM generate_series(0, 999) i;
INSERT INTO registered_model_tags (name, key, value)
SELECT 'm' || i, 'owner', 'team' || (i % 10) FROM generate_series(0, 999) i;
INSERT INTO model_versions (name, version, creation_time, last_updated_time, description,
                            current_stage, source, storage_location, run_id, run_link)
SELECT 'm' || i, v, 1700000000000 + i * 1000 + v, 1700000000000 + i * 1000 + v, '',
       CASE WHEN v = 100 THEN 'Production' WHEN v = 99 THEN 'Staging' ELSE 'None' END,
       's3://bench/m' || i || '/' || v, 's3://bench/m' || i || '/' || v,
       md5('run' || i || '-' || v), ''
FROM generate_series(0, 999) i, generate_series(1, 100) v;
INSERT INTO model_version_tags (name, version, key, value)
SELECT 'm' || i, v, k, CASE k WHEN 'team' THEN 'team' || (i % 10) ELSE 'b' || i || '-' || v END
FROM generate_series(0, 999) i, generate_series(1, 100) v, unnest(ARRAY['team', 'build']) k;
INSERT INTO registered_model_aliases (name, alias, version)
SELECT 'm' || i, 'champion', 90 + i % 10 FROM generate_series(0, 999) i;
COMMIT;
VACUUM ANALYZE;
SQL
t1=$(date +%s.%N)
echo "registry: seeded 1000 models, $(sql "SELECT count(*) FROM model_versions") versions in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s"

# ---- a. get-by-alias vs the floor ----
if [[ $only == *" alias "* ]]; then
printf 'GET\t/version\n' >"$tmp/floor.req"
: >"$tmp/alias.req"
for ((i = 0; i < 1000; i += 7)); do
    printf 'GET\t%s/registered-models/alias?name=m%d&alias=champion\n' "$api" "$i" >>"$tmp/alias.req"
done
floor_out=$(load_cpu --requests "$tmp/floor.req" --threads "$conns" --duration "$duration" --label version)
alias_out=$(load_cpu --requests "$tmp/alias.req" --threads "$conns" --duration "$duration" --label get_by_alias)
echo "$floor_out"
echo "$alias_out"
floor=$(grep '^RESULT' <<<"$floor_out")
alias=$(grep '^RESULT' <<<"$alias_out")
frps=$(field rps "$floor")
arps=$(field rps "$alias")
ap50=$(field p50_ms "$alias")
ap99=$(field p99_ms "$alias")
fp50=$(field p50_ms "$floor")
awk -v a="$arps" -v f="$frps" -v ap="$ap50" -v fp="$fp50" -v a99="$ap99" 'BEGIN {
    printf "registry: get-by-alias %d req/s, p50 %.2f ms, p99 %.2f ms; floor GET /version %d req/s, p50 %.2f ms; alias/floor throughput %.2f\n", a, ap, a99, f, fp, (f > 0 ? a / f : 0)
    printf "registry: goal get-by-alias p50 < 2 ms and >= 20000 req/s: %s\n", (ap < 2 && a >= 20000 ? "MET" : "MISSED")
}'
if command -v curl >/dev/null; then
    curl -s "$url/metrics" | grep '^exptrack_registry_cache_' | sed 's/^/registry: /'
fi
# the same load without the read cache, for the ratio
stop_pid "$server_pid"
bench_server_start --registry-cache off
nocache_out=$(load_cpu --requests "$tmp/alias.req" --threads "$conns" --duration "$duration" \
    --label get_by_alias_nocache)
echo "$nocache_out"
nocache=$(grep '^RESULT' <<<"$nocache_out")
awk -v a="$arps" -v n="$(field rps "$nocache")" -v np="$(field p50_ms "$nocache")" 'BEGIN {
    printf "registry: get-by-alias --registry-cache off %d req/s, p50 %.2f ms; cache on/off throughput %.2f\n", n, np, (n > 0 ? a / n : 0)
}'
stop_pid "$server_pid"
bench_server_start

fi

# ---- b. model-versions/search ----
if [[ $only == *" search "* ]]; then
run_id=$(sql "SELECT run_id FROM model_versions WHERE name = 'm321' AND version = 42")
: >"$tmp/s_name.req"
for ((i = 1; i < 1000; i += 37)); do
    printf 'GET\t%s/model-versions/search?filter=%s&max_results=10000\n' "$api" \
        "$(urlencode "name='m$i'")" >>"$tmp/s_name.req"
done
printf 'GET\t%s/model-versions/search?filter=%s&max_results=10000\n' "$api" \
    "$(urlencode "run_id='$run_id'")" >"$tmp/s_run.req"
printf 'GET\t%s/model-versions/search?filter=%s&max_results=10000\n' "$api" \
    "$(urlencode "tags.build = 'b321-42'")" >"$tmp/s_tag.req"
printf 'GET\t%s/model-versions/search?filter=%s&max_results=10000\n' "$api" \
    "$(urlencode "name='m321' AND tags.team = 'team1'")" >"$tmp/s_nametag.req"
printf 'GET\t%s/model-versions/search?max_results=1000\n' "$api" >"$tmp/s_page.req"
for ((p = 1; p < 100; p++)); do
    tok=$(printf '{"offset": %d}' $((p * 1000)) | base64 -w0)
    printf 'GET\t%s/model-versions/search?max_results=1000&page_token=%s\n' "$api" \
        "$(urlencode "$tok")" >>"$tmp/s_page.req"
done
worst=0
for shape in name run tag nametag page; do
    res=$(load --requests "$tmp/s_$shape.req" --threads 1 --warmup 1 --duration "$sduration" \
        --label "search_$shape")
    echo "$res"
    worst=$(awk -v w="$worst" -v p="$(field p50_ms "$res")" 'BEGIN{print (p > w ? p : w)}')
done
awk -v w="$worst" 'BEGIN{printf "registry: goal model-versions/search p50 < 50 ms (worst shape %.2f ms): %s\n", w, (w < 50 ? "MET" : "MISSED")}'

fi

# ---- c. model-versions/create from 8 clients ----
if [[ $only == *" create "* ]]; then
: >"$tmp/c_same.req"
: >"$tmp/c_distinct.req"
sql "INSERT INTO registered_models (name, creation_time, last_updated_time)
     SELECT 'c-' || i, 0, 0 FROM generate_series(0, 8) i" >/dev/null
for ((i = 0; i < 8; i++)); do
    printf 'POST\t%s/model-versions/create\t{"name":"c-8","source":"s3://bench/c/%d","run_id":"%032d"}\n' \
        "$api" "$i" "$i" >>"$tmp/c_same.req"
    printf 'POST\t%s/model-versions/create\t{"name":"c-%d","source":"s3://bench/c/%d","run_id":"%032d"}\n' \
        "$api" "$i" "$i" "$i" >>"$tmp/c_distinct.req"
done
same=$(load --requests "$tmp/c_same.req" --threads 8 --per-thread --warmup 1 --duration "$duration" \
    --label create_same_model)
echo "$same"
distinct=$(load --requests "$tmp/c_distinct.req" --threads 8 --per-thread --warmup 1 \
    --duration "$duration" --label create_distinct_models)
echo "$distinct"
check=$(sql "SELECT count(*), min(version), max(version), count(DISTINCT version)
             FROM model_versions WHERE name = 'c-8'")
IFS='|' read -r cnt vmin vmax vdist <<<"$check"
if [ "$cnt" -gt 0 ] && [ "$vmin" = 1 ] && [ "$vmax" = "$cnt" ] && [ "$vdist" = "$cnt" ]; then
    echo "registry: shared model got versions 1..$cnt, no gap, no repeat"
else
    log "shared model versions not 1..N: count=$cnt min=$vmin max=$vmax distinct=$vdist"
    rc=1
fi
echo "registry: model-versions/create 8 clients: same model $(field rps "$same") versions/s (p50 $(field p50_ms "$same") ms), distinct models $(field rps "$distinct") versions/s (p50 $(field p50_ms "$distinct") ms)"
fi

kill -0 "$server_pid" 2>/dev/null || { log "exptrackd died during the bench"; exit 1; }
exit "$rc"
