#!/usr/bin/env bash
# Checks that libexptrack exports no global symbol outside its namespace.
#
# The installed libraries are linked into users' training programs. Every
# global symbol they define must start with et_ (the public API) or et__
# (internals shared between the library's own files); a name like
# http_request or buffer_new would clash with a function of the same name in
# the program and break its link. The shared library hides internals by
# visibility, but the static libexptrack.a carries every non-static symbol,
# so both are checked.
#
# Usage: scripts/check/symbols.sh [BUILD_DIR]   (default: build)
# Reads BUILD_DIR/lib/libexptrack.a and BUILD_DIR/lib/libexptrack.so; prints
# each offending symbol with the library (and archive member) defining it and
# exits 1 if there is any, 2 if a library is missing.
set -euo pipefail

build=${1:-build}
static_lib="$build/lib/libexptrack.a"
shared_lib="$build/lib/libexptrack.so"

for lib in "$static_lib" "$shared_lib"; do
    if [ ! -e "$lib" ]; then
        echo "symbols: $lib not found (build the client first)" >&2
        exit 2
    fi
done

# Symbols the toolchain (crti.o/crtn.o and the linker) defines in a shared
# object on its own; they are not ours to rename.
allowed=" _init _fini __bss_start _edata _end "

# Reads `nm` output on stdin and prints "where symbol" for each defined global
# symbol outside the namespace. For an archive nm prints a blank line and a
# "member.o:" header before each member's symbols; those lines name the member
# and are not symbols. Symbol lines are "address type name".
offenders() {
    local lib=$1 member="" line type name
    while IFS= read -r line; do
        [ -z "$line" ] && continue
        if [[ "$line" == *: ]]; then
            member=${line%:}
            continue
        fi
        read -r _ type name <<<"$line"
        [ -n "${name:-}" ] || continue
        name=${name%%@*} # dynamic symbols may carry a version (name@@VER)
        [[ "$name" == et_* ]] && continue
        [[ "$allowed" == *" $name "* ]] && continue
        echo "  $lib${member:+($member)}: $name ($type)"
    done
}

bad=$(
    nm -g --defined-only "$static_lib" | offenders "$static_lib"
    # The regular symbol table (absent when stripped) and the dynamic one,
    # which is what a program linking the .so actually sees.
    nm -g --defined-only "$shared_lib" 2>/dev/null | offenders "$shared_lib"
    nm -D --defined-only "$shared_lib" | offenders "$shared_lib"
)
bad=$(printf '%s\n' "$bad" | sed '/^$/d' | sort -u)

count() { nm -g --defined-only "$1" | awk 'NF == 3' | wc -l; }
echo "symbols: $(count "$static_lib") global symbols in $static_lib," \
    "$(nm -D --defined-only "$shared_lib" | awk 'NF == 3' | wc -l) exported by $shared_lib"

if [ -n "$bad" ]; then
    echo "symbols: global symbols without the et_ / et__ prefix (make them static or rename them et__*):"
    printf '%s\n' "$bad"
    exit 1
fi
echo "symbols: ok, every global symbol starts with et_"
