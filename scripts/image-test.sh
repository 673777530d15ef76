#!/usr/bin/env bash
# Builds the container image from the Dockerfile with podman and smoke-tests it,
# on machines that have no container engine able to start containers.
#
#   0. Runs npm ci in web/ if web/node_modules (embedded in the binary) is missing.
#   1. Makes a local debian:bookworm base image once, with debootstrap from the
#      machine's own configured Debian mirror (no registry is reachable here).
#   2. podman build --isolation chroot --pull=never --format docker -t exptrack:test .
#   3. Mounts the image and runs its ENTRYPOINT under chroot, as the image's USER,
#      with the image's ENV and WORKDIR, as PID 1 of fresh PID and mount
#      namespaces (as a container would), against a throwaway PostgreSQL on
#      127.0.0.1 that this script starts itself.
#   4. HTTP round trip: /health, the image's own HEALTHCHECK, create an
#      experiment, read it back by name; then checks it stops on SIGTERM.
#
# Runs as root (podman image mount, chroot). Cleans up on any exit. Ends with
# "image-test: N passed, M failed"; exits non-zero on any failure.
#
# Environment overrides (all optional):
#   IMAGE_TEST_TAG       image tag to build            (exptrack:test)
#   IMAGE_TEST_MIRROR    Debian mirror for debootstrap (read from /etc/apt otherwise)
#   IMAGE_TEST_VERBOSE=1 stream debootstrap/podman build output instead of logging it
#   PG_BIN               PostgreSQL server binaries    (/usr/lib/postgresql/15/bin)
set -Eeuo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly TOP
readonly BASE_IMAGE=debian:bookworm
readonly SUITE=bookworm
readonly IMAGE=${IMAGE_TEST_TAG:-exptrack:test}
readonly PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
readonly VERBOSE=${IMAGE_TEST_VERBOSE:-0}

# Every wait is bounded. The slow ones are network-bound apt work.
readonly LOCK_TIMEOUT=1800       # another image-test holding the lock
readonly DEBOOTSTRAP_TIMEOUT=1200
readonly BUILD_TIMEOUT=2700
readonly PG_START_TIMEOUT=60
readonly SERVER_START_TIMEOUT=60
readonly STOP_TIMEOUT=10         # docker stop's default grace period
readonly HTTP_TIMEOUT=10

passed=0
failed=0
work=""          # scratch directory, removed on exit
mountpoint=""    # set while the image is mounted
pg_user=""       # unprivileged user owning the throwaway cluster
pg_data=""       # its data directory, set once initdb ran
pg_port=""       # its TCP port on 127.0.0.1
upid=""          # PID of the unshare wrapper (our background job)
server_pid=""    # host PID of exptrackd (PID 1 in its namespace)
server_port=""   # exptrackd's TCP port
run_uid="" run_gid=""
declare -a run_env=()  # the environment exptrackd runs with
declare -a timings=()

log() { printf 'image-test: %s\n' "$*" >&2; }
pass() { passed=$((passed + 1)); log "ok   - $*"; }
# Any failure, in a check or in setup, counts once and ends the run.
fail() { failed=$((failed + 1)); log "FAIL - $*"; exit 1; }

# Runs "$@" as a named step and records how long it took.
step() {
    local name=$1 t0=$SECONDS
    shift
    log "== $name"
    "$@"
    timings+=("$(printf '%-28s %5ss' "$name" $((SECONDS - t0)))")
}

# Runs a slow, chatty command with a time limit; its output goes to a log that
# is shown (tail) only on failure, unless IMAGE_TEST_VERBOSE=1.
run_logged() {
    local what=$1 limit=$2 logf=$3 rc=0
    shift 3
    if [ "$VERBOSE" = 1 ]; then
        timeout --kill-after=30 "$limit" "$@" 2>&1 | tee "$logf" >&2 || rc=$?
    else
        timeout --kill-after=30 "$limit" "$@" >"$logf" 2>&1 || rc=$?
    fi
    if [ "$rc" -ne 0 ]; then
        [ "$VERBOSE" = 1 ] || { log "last lines of $what output:"; tail -n 60 "$logf" >&2; }
        [ "$rc" -eq 124 ] && fail "$what timed out after ${limit}s"
        fail "$what failed (exit $rc)"
    fi
}

# ---------------------------------------------------------------------------
# Cleanup: runs on every exit, must never fail itself, and is safe to run
# whatever state the script got to.
# ---------------------------------------------------------------------------
stop_server() {
    [ -n "$upid" ] || return 0
    if alive "$upid"; then
        # Unknown PID 1: no graceful stop possible; --kill-child takes it down with unshare.
        if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null; else kill -KILL "$upid" 2>/dev/null; fi
        wait_gone "$upid" "$STOP_TIMEOUT" || {
            # SIGKILL to PID 1 of the namespace takes every process in it along.
            [ -n "$server_pid" ] && kill -KILL "$server_pid" 2>/dev/null
            kill -KILL "$upid" 2>/dev/null
        }
    fi
    wait "$upid" 2>/dev/null
    upid="" server_pid=""
}

stop_postgres() {
    [ -n "$pg_data" ] && [ -f "$pg_data/postmaster.pid" ] || return 0
    (cd / && timeout 60 runuser -u "$pg_user" -- "$PG_BIN/pg_ctl" -D "$pg_data" -m immediate -w -t 30 stop) >/dev/null 2>&1 ||
        log "warning: could not stop PostgreSQL in $pg_data"
    pg_data=""
}

unmount_image() {
    [ -n "$mountpoint" ] || return 0
    podman image unmount "$IMAGE" >/dev/null 2>&1 || log "warning: could not unmount $IMAGE"
    mountpoint=""
}

cleanup() {
    local rc=$?
    set +e
    trap - ERR
    stop_server
    stop_postgres
    unmount_image
    if [ -n "$work" ]; then
        # A debootstrap killed by its timeout leaves proc, sys and device
        # mounts in its target: unmount them rather than recurse into them.
        awk -v d="$work/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r |
            while read -r m; do umount -l "$m"; done
        rm -rf --one-file-system "$work"
    fi
    # A failure that did not go through fail() (set -e) still counts.
    if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
    if [ ${#timings[@]} -gt 0 ]; then
        log "timings:"
        printf '  %s\n' "${timings[@]}" >&2
    fi
    echo "image-test: $passed passed, $failed failed"
    [ "$failed" -eq 0 ] || exit 1
    exit "$rc"
}

# With errtrace the ERR trap fires again in every calling function; report the
# innermost failure only.
err_reported=0
on_err() {
    [ "$err_reported" = 1 ] && return
    err_reported=1
    log "FAIL - command failed (exit $1) at line $2: $3"
}

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

# True while PID runs. A zombie (exited, not yet reaped by this shell) is not running.
alive() {
    local state
    state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}

# Waits until PID is gone, at most LIMIT seconds. Returns non-zero on timeout.
wait_gone() {
    local pid=$1 deadline=$((SECONDS + $2))
    while alive "$pid"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

# Prints the first http(s) URI that the machine's apt sources use for SUITE
# (deb822 *.sources first, then one-line sources.list files). Fails if none.
apt_uri_for_suite() {
    local suite=$1 f uri
    local -a deb822=() oneline=()
    for f in /etc/apt/sources.list.d/*.sources; do [ -f "$f" ] && deb822+=("$f"); done
    [ -f /etc/apt/sources.list ] && oneline+=(/etc/apt/sources.list)
    for f in /etc/apt/sources.list.d/*.list; do [ -f "$f" ] && oneline+=("$f"); done

    if [ ${#deb822[@]} -gt 0 ]; then
        uri=$(awk -v s="$suite" '
            function flush(   n, m, k, j, a, u) {
                if (types ~ /(^|[ \t])deb([ \t]|$)/ && enabled != "no") {
                    n = split(suites, a, /[ \t]+/)
                    for (k = 1; k <= n; k++) if (a[k] == s) {
                        m = split(uris, u, /[ \t]+/)
                        for (j = 1; j <= m; j++) if (u[j] ~ /^https?:\/\//) { print u[j]; found = 1; exit }
                    }
                }
                types = uris = suites = enabled = ""
            }
            FNR == 1         { flush() }
            /^[ \t]*#/       { next }
            /^[ \t]*$/       { flush(); next }
            /^[ \t]/         { next }   # continuation lines: not used by these fields here
            {
                i = index($0, ":"); if (!i) next
                key = tolower(substr($0, 1, i - 1)); val = substr($0, i + 1)
                gsub(/^[ \t]+|[ \t]+$/, "", val)
                if (key == "types") types = val
                else if (key == "uris") uris = val
                else if (key == "suites") suites = val
                else if (key == "enabled") enabled = tolower(val)
            }
            END { if (!found) flush() }' "${deb822[@]}")
        [ -n "$uri" ] && { echo "${uri%/}"; return 0; }
    fi
    if [ ${#oneline[@]} -gt 0 ]; then
        uri=$(awk -v s="$suite" '
            $1 == "deb" {
                i = 2
                if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                if ($(i + 1) == s && $i ~ /^https?:\/\//) { print $i; exit }
            }' "${oneline[@]}")
        [ -n "$uri" ] && { echo "${uri%/}"; return 0; }
    fi
    return 1
}

# True if something listens on TCP PORT (any address, IPv4 or IPv6).
port_in_use() {
    local hex
    hex=$(printf ':%04X' "$1")
    awk -v p="$hex" 'FNR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

free_port() {
    local p
    for _ in $(seq 1 100); do
        p=$((20000 + RANDOM % 40000))
        port_in_use "$p" || { echo "$p"; return 0; }
    done
    return 1
}

# Image metadata through podman's Go templates (no jq needed).
inspect() { podman image inspect --format "$1" "$IMAGE"; }

# Maps a user or group NAME (or number) to its number via the image's FILE.
image_id_of() {
    local file=$1 name=$2
    if [[ $name =~ ^[0-9]+$ ]]; then echo "$name"; return 0; fi
    awk -F: -v n="$name" '$1 == n { print $3; f = 1; exit } END { exit !f }' "$file"
}

# Prints the host PID of the only child of PID (the namespace's PID 1).
child_of() {
    local f
    for f in /proc/[0-9]*/status; do
        if grep -qx "PPid:[[:space:]]*$1" "$f" 2>/dev/null; then
            f=${f#/proc/}
            echo "${f%/status}"
            return 0
        fi
    done
    return 1
}

http() { curl -sS --max-time "$HTTP_TIMEOUT" "$@"; }

# ---------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------

preflight() {
    [ "$(id -u)" -eq 0 ] || fail "must run as root (podman image mount, chroot); try sudo"
    local c
    for c in podman debootstrap curl unshare nsenter runuser chroot timeout flock; do
        command -v "$c" >/dev/null || fail "missing '$c'; run: scripts/install-deps.sh image"
    done
    if [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_ctl" ]; then
        fail "no PostgreSQL server in $PG_BIN (package postgresql); run: scripts/install-deps.sh image"
    fi
    [ -f "$TOP/Dockerfile" ] || fail "no Dockerfile in $TOP"
    # The cluster must belong to an unprivileged user: PostgreSQL refuses root.
    if id -u postgres >/dev/null 2>&1; then pg_user=postgres; else pg_user=nobody; fi
}

# One image-test at a time per machine: they share the image tag and its mount.
take_lock() {
    exec 9>"${TMPDIR:-/tmp}/exptrack-image-test.lock"
    flock -w "$LOCK_TIMEOUT" 9 || fail "another image-test still holds the lock after ${LOCK_TIMEOUT}s"
}

# The build embeds web/node_modules (uPlot), so the context must carry it, as
# the host build needs it too. Fetched here with the host's npm setup when
# missing or stale; otherwise the Dockerfile would install node and npm inside
# the build, which takes minutes longer.
ensure_web_deps() {
    local web=$TOP/web
    [ -f "$web/package-lock.json" ] || return 0
    local stamp=$web/node_modules/.package-lock.json
    if [ -f "$stamp" ] && [ ! "$web/package-lock.json" -nt "$stamp" ]; then return 0; fi
    command -v npm >/dev/null || fail "web/node_modules is missing and there is no npm; run: scripts/install-deps.sh build"
    log "web/node_modules missing or stale: npm ci in web/"
    (cd "$web" && timeout 600 npm ci --no-audit --no-fund --loglevel=error) >&2 || fail "npm ci in web/ failed"
}

# debian:bookworm is made locally, once: no image registry is reachable here.
ensure_base_image() {
    if podman image exists "$BASE_IMAGE"; then
        log "$BASE_IMAGE already present; not rebuilding it"
        return 0
    fi
    local mirror=${IMAGE_TEST_MIRROR:-}
    if [ -z "$mirror" ]; then
        mirror=$(apt_uri_for_suite "$SUITE") ||
            fail "no http(s) Debian mirror for '$SUITE' in /etc/apt/sources.list or sources.list.d; set IMAGE_TEST_MIRROR"
    fi
    log "debootstrap $SUITE from $mirror"
    local rootfs=$work/rootfs
    local -a extra=()
    # apt in bookworm speaks https itself but needs CA certificates to trust it.
    case $mirror in https://*) extra+=(--include=ca-certificates) ;; esac
    run_logged debootstrap "$DEBOOTSTRAP_TIMEOUT" "$work/debootstrap.log" \
        debootstrap --variant=minbase "${extra[@]}" "$SUITE" "$rootfs" "$mirror"

    # debootstrap writes "deb MIRROR bookworm main"; add the updates and security
    # suites where this machine has them, so images built FROM it get fixes.
    local suite uri
    {
        echo "# Written by scripts/image-test.sh from the build machine's apt sources."
        echo "deb $mirror $SUITE main"
        for suite in "$SUITE-updates" "$SUITE-security"; do
            uri=$(apt_uri_for_suite "$suite") && echo "deb $uri $suite main"
        done
    } >"$rootfs/etc/apt/sources.list"

    # No host state or caches in the image: resolv.conf and hostname are
    # provided per container, downloaded .debs and package lists are stale.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin \
        "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/apt/* "$rootfs"/etc/machine-id
    mkdir -p "$rootfs/var/lib/apt/lists/partial"
    : >"$rootfs/etc/resolv.conf"
    echo localhost >"$rootfs/etc/hostname"

    # /dev is provided per container too. PATH and CMD as the official image has them.
    tar --numeric-owner --exclude='./dev/*' -C "$rootfs" -c . |
        podman import \
            --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'CMD ["bash"]' --quiet - "$BASE_IMAGE" >/dev/null ||
        fail "podman import of the debootstrap tree failed"
    rm -rf "$rootfs"
    log "created $BASE_IMAGE ($(inspect_base_size))"
}

inspect_base_size() { podman image inspect --format '{{.Size}}' "$BASE_IMAGE" | numfmt --to=iec 2>/dev/null || true; }

build_image() {
    local old_id new_id
    old_id=$(inspect '{{.Id}}' 2>/dev/null || true)
    # --format docker: the OCI format has no HEALTHCHECK and buildah drops it.
    # --layers: keeps the apt layers cached, so a rerun only recompiles.
    run_logged "podman build" "$BUILD_TIMEOUT" "$work/build.log" \
        podman build --isolation chroot --pull=never --format docker --layers \
        -t "$IMAGE" -f "$TOP/Dockerfile" "$TOP"
    new_id=$(inspect '{{.Id}}')
    # Re-tagging leaves the previous build dangling; drop it so reruns do not pile up.
    if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then
        podman rmi "$old_id" >/dev/null 2>&1 || true
    fi
    log "built $IMAGE ${new_id:0:12} ($(inspect '{{.Size}}' | numfmt --to=iec 2>/dev/null || true))"
}

check_image_config() {
    local user ports hc entry
    user=$(inspect '{{.Config.User}}')
    # shellcheck disable=SC2016 # a Go template, not shell
    ports=$(inspect '{{range $p, $v := .Config.ExposedPorts}}{{$p}} {{end}}')
    hc=$(inspect '{{if .HealthCheck}}{{range .HealthCheck.Test}}{{.}} {{end}}{{end}}')
    entry=$(inspect '{{range .Config.Entrypoint}}{{.}} {{end}}')
    case ${user%%:*} in
    "" | root | 0) fail "image USER is '${user:-<unset>}', want a non-root user" ;;
    esac
    [[ " $ports " == *" 5000/tcp "* ]] || fail "image does not EXPOSE 5000 (has: ${ports:-none})"
    [ -n "$hc" ] || fail "image has no HEALTHCHECK (built without --format docker?)"
    [[ $entry == *exptrackd* ]] || fail "ENTRYPOINT is '${entry:-<unset>}', want exptrackd"
    pass "image config: USER $user, EXPOSE ${ports% }, HEALTHCHECK, ENTRYPOINT ${entry% }"
}

mount_image() {
    mountpoint=$(podman image mount "$IMAGE") || fail "podman image mount $IMAGE failed"
    [ -d "$mountpoint" ] || fail "podman image mount gave '$mountpoint', not a directory"
    log "mounted $IMAGE at $mountpoint"
}

check_runtime_contents() {
    local missing tool
    local -a argv=()
    # Read it all: "| head -n 1" would SIGPIPE podman, fatal under pipefail.
    mapfile -t argv < <(inspect '{{range .Config.Entrypoint}}{{println .}}{{end}}')
    local entry=${argv[0]:-}
    [ -x "$mountpoint$entry" ] || fail "$entry is not an executable in the image"
    # Every shared library must resolve inside the image, not on the host.
    missing=$(chroot "$mountpoint" /usr/bin/ldd "$entry" 2>&1 | grep -i 'not found' || true)
    [ -z "$missing" ] || fail "libraries missing from the runtime image: $missing"
    # The builder's toolchain and headers must not leak into the runtime stage.
    for tool in /usr/bin/gcc /usr/bin/cc /usr/bin/cmake /usr/include/libpq-fe.h /usr/include/microhttpd.h; do
        [ ! -e "$mountpoint$tool" ] || fail "runtime image contains build-only $tool"
    done
    pass "runtime image: all libraries of $entry resolve, no toolchain or headers"
}

start_postgres() {
    local pgdir=$work/pg attempt port
    mkdir -p "$pgdir"
    chown "$pg_user" "$pgdir"
    (cd "$pgdir" && timeout 120 runuser -u "$pg_user" -- "$PG_BIN/initdb" -D "$pgdir/data" \
        -U exptrack -A trust -E UTF8 --locale=C --no-sync) >"$work/initdb.log" 2>&1 ||
        { cat "$work/initdb.log" >&2; fail "initdb failed"; }
    pg_data=$pgdir/data
    # A port picked as free can be taken before the postmaster binds it; retry.
    for attempt in 1 2 3; do
        port=$(free_port) || fail "no free TCP port found for PostgreSQL"
        if (cd "$pgdir" && runuser -u "$pg_user" -- "$PG_BIN/pg_ctl" -D "$pg_data" -l "$pgdir/postgres.log" \
            -w -t "$PG_START_TIMEOUT" \
            -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='$pgdir' -c fsync=off" \
            start) >/dev/null 2>&1; then
            pg_port=$port
            break
        fi
        log "PostgreSQL did not start on port $port (attempt $attempt)"
        tail -n 5 "$pgdir/postgres.log" >&2 || true
        [ "$attempt" -lt 3 ] || fail "PostgreSQL did not start; log above"
    done
    (cd "$pgdir" && timeout 30 runuser -u "$pg_user" -- "$PG_BIN/createdb" -h 127.0.0.1 -p "$pg_port" \
        -U exptrack exptrack) >&2 || fail "createdb exptrack failed"
    log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port"
}

# Runs the image's ENTRYPOINT+CMD like a container would: chroot into the
# mounted image, its ENV only (plus the database URL and a free port), its
# WORKDIR, its USER; PID 1 of a new PID namespace with /proc, /dev and a /tmp
# of its own in a private mount namespace, which vanish with it (no cleanup).
start_server() {
    local user uname gname uid gid workdir home
    local -a env=() argv=()
    user=$(inspect '{{.Config.User}}')
    uname=${user%%:*}
    gname=${user#*:}
    [ "$gname" != "$user" ] || gname=""
    uid=$(image_id_of "$mountpoint/etc/passwd" "$uname") || fail "user '$uname' not in the image's /etc/passwd"
    if [ -n "$gname" ]; then
        gid=$(image_id_of "$mountpoint/etc/group" "$gname") || fail "group '$gname' not in the image's /etc/group"
    else
        gid=$(awk -F: -v u="$uid" '$3 == u { print $4; exit }' "$mountpoint/etc/passwd")
    fi
    home=$(awk -F: -v u="$uid" '$3 == u { print $6; exit }' "$mountpoint/etc/passwd")
    workdir=$(inspect '{{.Config.WorkingDir}}')
    mapfile -t env < <(inspect '{{range .Config.Env}}{{println .}}{{end}}' | sed '/^$/d')
    mapfile -t argv < <(inspect '{{range .Config.Entrypoint}}{{println .}}{{end}}{{range .Config.Cmd}}{{println .}}{{end}}' | sed '/^$/d')

    server_port=$(free_port) || fail "no free TCP port found for exptrackd"
    # Later entries win in env(1): the port and database are this test's.
    env+=("HOME=${home:-/}" "EXPTRACK_PORT=$server_port"
        "EXPTRACK_DATABASE_URL=postgresql://exptrack@127.0.0.1:$pg_port/exptrack")
    run_env=("${env[@]}")
    run_uid=$uid
    run_gid=$gid
    local run_workdir=${workdir:-/}

    log "starting ${argv[*]} as $uid:$gid in ${run_workdir} on port $server_port"
    # shellcheck disable=SC2016 # the inner scripts expand their own arguments
    unshare --mount --propagation private --pid --fork --kill-child --mount-proc="$mountpoint/proc" -- \
        /bin/sh -c '
            set -e
            root=$1; shift
            mount --rbind /dev "$root/dev"
            mount -t tmpfs -o mode=1777,size=64m tmpfs "$root/tmp"
            exec "$@"' sh "$mountpoint" \
        env -i "${env[@]}" "$(command -v chroot)" --userspec="$uid:$gid" --groups="$gid" "$mountpoint" \
        /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$run_workdir" "${argv[@]}" \
        >"$work/exptrackd.log" 2>&1 &
    upid=$!

    local deadline=$((SECONDS + SERVER_START_TIMEOUT)) body=""
    while :; do
        if ! alive "$upid"; then
            log "exptrackd output (last 40 lines):"
            tail -n 40 "$work/exptrackd.log" >&2
            fail "exptrackd exited during startup"
        fi
        [ -n "$server_pid" ] || server_pid=$(child_of "$upid" || true)
        body=$(curl -s --max-time 2 "http://127.0.0.1:$server_port/health" || true)
        [ "$body" = OK ] && break
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "exptrackd output (last 40 lines):"
            tail -n 40 "$work/exptrackd.log" >&2
            fail "GET /health did not answer OK within ${SERVER_START_TIMEOUT}s (last answer: '${body}')"
        fi
        sleep 0.5
    done
    [ -n "$server_pid" ] || server_pid=$(child_of "$upid") || fail "cannot find exptrackd's PID"
    pass "GET /health == OK (exptrackd up after $((SERVER_START_TIMEOUT - (deadline - SECONDS)))s)"
}

check_process() {
    local ruid
    ruid=$(awk '/^Uid:/ { print $2 }' "/proc/$server_pid/status")
    if [ "$ruid" != "$run_uid" ] || [ "$ruid" = 0 ]; then
        fail "exptrackd runs as uid '$ruid', want $run_uid (non-root)"
    fi
    # The image must make exptrackd listen on every interface, not its 127.0.0.1 default.
    local hex
    hex=$(printf '%04X' "$server_port")
    awk -v p="$hex" 'FNR > 1 && $4 == "0A" && ($2 == "00000000:" p || $2 == "00000000000000000000000000000000:" p) { f = 1 }
        END { exit !f }' /proc/net/tcp /proc/net/tcp6 ||
        fail "exptrackd does not listen on all interfaces (EXPTRACK_HOST=0.0.0.0 not in effect?)"
    pass "exptrackd runs as uid $ruid and listens on 0.0.0.0:$server_port"
}

# Runs the image's HEALTHCHECK command inside the running "container".
check_healthcheck() {
    local -a test=()
    mapfile -t test < <(inspect '{{range .HealthCheck.Test}}{{println .}}{{end}}' | sed '/^$/d')
    local -a cmd
    case ${test[0]:-} in
    CMD-SHELL) cmd=(/bin/sh -c "${test[1]}") ;;
    CMD) cmd=("${test[@]:1}") ;;
    *) fail "unsupported HEALTHCHECK '${test[*]}'" ;;
    esac
    timeout 30 nsenter --target "$server_pid" --mount --pid -- \
        env -i "${run_env[@]}" "$(command -v chroot)" --userspec="$run_uid:$run_gid" --groups="$run_gid" \
        "$mountpoint" "${cmd[@]}" >"$work/healthcheck.log" 2>&1 ||
        { cat "$work/healthcheck.log" >&2; fail "the image's HEALTHCHECK failed: ${test[*]}"; }
    pass "the image's HEALTHCHECK passes"
}

check_api() {
    local base="http://127.0.0.1:$server_port/api/2.0/mlflow" body id got_id
    # MLflow sends ids as strings; a bare number is accepted too.
    local id_re='"experiment_id"[[:space:]]*:[[:space:]]*"?([^",}[:space:]]+)'
    local name_re='"name"[[:space:]]*:[[:space:]]*"image-test"'
    body=$(http -H 'Content-Type: application/json' -d '{"name":"image-test"}' -w '\n%{http_code}' \
        "$base/experiments/create") || fail "POST experiments/create: no answer"
    [ "${body##*$'\n'}" = 200 ] || fail "POST experiments/create: HTTP ${body##*$'\n'}: ${body%$'\n'*}"
    body=${body%$'\n'*}
    [[ $body =~ $id_re ]] ||
        fail "POST experiments/create: no experiment_id in: $body"
    id=${BASH_REMATCH[1]}
    pass "POST experiments/create {\"name\":\"image-test\"} -> experiment_id $id"

    body=$(http -w '\n%{http_code}' "$base/experiments/get-by-name?experiment_name=image-test") ||
        fail "GET experiments/get-by-name: no answer"
    [ "${body##*$'\n'}" = 200 ] || fail "GET experiments/get-by-name: HTTP ${body##*$'\n'}: ${body%$'\n'*}"
    body=${body%$'\n'*}
    [[ $body =~ $id_re ]] || fail "GET experiments/get-by-name: no experiment_id in: $body"
    got_id=${BASH_REMATCH[1]}
    [ "$got_id" = "$id" ] || fail "GET experiments/get-by-name: experiment_id $got_id, want $id"
    [[ $body =~ $name_re ]] ||
        fail "GET experiments/get-by-name: name is not image-test in: $body"
    pass "GET experiments/get-by-name?experiment_name=image-test -> experiment_id $got_id"
}

# docker stop sends SIGTERM to PID 1, which gets no default signal action:
# exptrackd must handle it, or every stop waits out the grace period.
check_stop() {
    local t0=$SECONDS rc=0
    kill -TERM "$server_pid"
    wait_gone "$upid" "$STOP_TIMEOUT" ||
        fail "exptrackd (PID 1) did not exit within ${STOP_TIMEOUT}s of SIGTERM"
    wait "$upid" || rc=$?
    upid="" server_pid=""
    [ "$rc" -eq 0 ] || { tail -n 20 "$work/exptrackd.log" >&2; fail "exptrackd exited with status $rc on SIGTERM"; }
    pass "exptrackd as PID 1 exits cleanly on SIGTERM ($((SECONDS - t0))s)"
}

main() {
    trap cleanup EXIT
    trap 'on_err $? $LINENO "$BASH_COMMAND"' ERR
    trap 'log "interrupted"; exit 130' INT
    trap 'log "terminated"; exit 143' TERM

    preflight
    take_lock
    work=$(mktemp -d "${TMPDIR:-/tmp}/exptrack-image-test.XXXXXX")
    # The unprivileged PostgreSQL user must be able to reach its directory inside.
    chmod 755 "$work"

    step "web dependencies" ensure_web_deps
    step "base image" ensure_base_image
    step "podman build" build_image
    step "image checks" check_image_config
    mount_image
    step "runtime contents" check_runtime_contents
    step "start postgresql" start_postgres
    step "start exptrackd" start_server
    step "checks" check_process
    step "healthcheck" check_healthcheck
    step "api round trip" check_api
    step "stop" check_stop
}

main "$@"
