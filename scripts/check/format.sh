#!/usr/bin/env bash
# Formatting: every tracked C file (server/, client/, tests/, all of them)
# is exactly what clang-format makes of it with the repository's
# .clang-format, so diffs carry changes, never reformatting. Fix with
# `make format`. The reference is Debian 12's clang-format (14), which
# `scripts/install-deps.sh test` installs; other versions may disagree.
# Usage: scripts/check/format.sh <build-dir> (the build dir is not needed).
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v clang-format >/dev/null || {
    echo "format: clang-format is missing (scripts/install-deps.sh test)" >&2
    exit 2
}
mapfile -t files < <(git ls-files '*.c' '*.h')
[ "${#files[@]}" -gt 0 ] || { echo "format: no tracked C files (not a git checkout?)" >&2; exit 2; }

if ! clang-format --dry-run --Werror "${files[@]}"; then
    echo "format: the files above differ from clang-format's output; run make format"
    exit 1
fi
echo "format: ok (${#files[@]} files)"
