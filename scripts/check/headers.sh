#!/usr/bin/env bash
# Header self-containment: every header of server/, common/ and client/ compiles on
# its own, as the first and only include of a translation unit. A header
# that leans on its includer's earlier includes breaks the next file that
# includes it first, and hides which modules depend on which.
# Usage: scripts/check/headers.sh <build-dir> (for the generated version.h).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:?usage: $0 <build-dir>}
[ -d "$build/server" ] || { echo "headers: no $build/server: build first (make test)" >&2; exit 2; }

cc=${CC:-cc}
# libpq's headers: pkg-config when it knows libpq, else pg_config.
pq_cflags=$(pkg-config --cflags libpq 2>/dev/null || echo "-I$(pg_config --includedir)")
# shellcheck disable=SC2207 # pkg-config's words are meant to split
flags=(-std=c17 -fsyntax-only -Wall -Wextra -Wshadow -Wstrict-prototypes
    -Wmissing-prototypes -Wformat=2 -Wvla -Werror
    -I . -I server -I "$build/server" -I client/include -I client/src
    $(pkg-config --cflags libmicrohttpd jansson uuid) $pq_cflags)

bad=0
n=0
while IFS= read -r h; do
    n=$((n + 1))
    if ! out=$(printf '#include "%s"\n' "$h" | "$cc" "${flags[@]}" -x c - 2>&1); then
        echo "headers: $h does not compile on its own:"
        printf '%s\n' "$out" | head -n 5 | sed 's/^/    /'
        bad=1
    fi
done < <(git ls-files 'server/*.h' 'common/*.h' 'client/*.h')

[ "$bad" -eq 0 ] || { echo "headers: include what each header uses, in the header"; exit 1; }
echo "headers: ok ($n headers)"
