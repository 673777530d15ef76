#!/usr/bin/env bash
# Installs the Debian packages exptrack needs to build, run and test, and the
# npm packages pinned by package-lock.json. Installs only what is missing, so a
# warm machine pays nothing. Works as root or as a sudo-capable user.
set -euo pipefail

usage() { echo "usage: $0 [build|run|test|fuzz|bench|image]" >&2; exit 2; }
what=${1:-build}

build_pkgs=(build-essential cmake pkg-config libmicrohttpd-dev libpq-dev libjansson-dev
            uuid-dev libssl-dev libcurl4-openssl-dev postgresql postgresql-client
            libprotobuf-c-dev protobuf-c-compiler zlib1g-dev)
# npm fetches uPlot for the dashboard (web/package-lock.json), compiled into exptrackd.
web_pkgs=(nodejs npm)
test_pkgs=(libcmocka-dev curl nodejs npm chromium python3 clang-format)
# make fuzz-smoke: libFuzzer comes with clang's runtime libraries (only
# recommended by clang, so named here). make test-sanitize uses gcc, whose
# ASan/UBSan runtimes come with build-essential.
fuzz_pkgs=(clang libclang-rt-dev)
image_pkgs=(podman debootstrap buildah curl nodejs npm)

case "$what" in
build | run) pkgs=("${build_pkgs[@]}" "${web_pkgs[@]}") ;;
test | bench) pkgs=("${build_pkgs[@]}" "${web_pkgs[@]}" "${test_pkgs[@]}") ;;
fuzz) pkgs=("${build_pkgs[@]}" "${web_pkgs[@]}" "${test_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
image) pkgs=("${build_pkgs[@]}" "${image_pkgs[@]}") ;;
*) usage ;;
esac

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: need root or sudo" >&2; exit 1; }
    sudo="sudo"
fi

missing=()
for p in "${pkgs[@]}"; do
    # nodejs/npm may come from outside Debian (a machine's own node); accept any working one.
    if [ "$p" = nodejs ] && command -v node >/dev/null; then continue; fi
    if [ "$p" = npm ] && command -v npm >/dev/null; then continue; fi
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The Debian postgresql package starts a cluster of its own on port 5432; exptrack
# never uses it (tests and the embedded mode run their own), so it is left alone.

top=$(cd "$(dirname "$0")/.." && pwd)

# The dashboard's uPlot (CMake copies it from web/node_modules into the binary).
if [ "$what" != image ] && [ -f "$top/web/package-lock.json" ]; then
    stamp="$top/web/node_modules/.package-lock.json"
    if [ ! -f "$stamp" ] || [ "$top/web/package-lock.json" -nt "$stamp" ]; then
        (cd "$top/web" && npm ci --no-audit --no-fund --loglevel=error)
    fi
fi

if [ "$what" = test ] || [ "$what" = bench ] || [ "$what" = fuzz ]; then
    if [ -f "$top/tests/package-lock.json" ]; then
        stamp="$top/tests/node_modules/.package-lock.json"
        if [ ! -f "$stamp" ] || [ "$top/tests/package-lock.json" -nt "$stamp" ]; then
            (cd "$top/tests" && npm ci --no-audit --no-fund --loglevel=error)
        fi
    fi
fi
