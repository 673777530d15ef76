#!/usr/bin/env bash
# Gate: ESLint over the dashboard's modules (web/js/**/*.js) and the node test
# files (tests/**/*.mjs), with the eslint pinned in tests/package.json and the
# config tests/eslint.config.mjs. Exits non-zero on any error or warning.
# Usage: scripts/check/eslint.sh [build-dir]  (the build dir is not needed)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
eslint="$root/tests/node_modules/.bin/eslint"
if [[ ! -x "$eslint" ]]; then
    echo "eslint.sh: $eslint is missing; run scripts/install-deps.sh test (npm ci in tests/)" >&2
    exit 1
fi

cd "$root"
# With --config the file patterns are relative to the current directory (the root).
"$eslint" --config tests/eslint.config.mjs --max-warnings 0 'web/js/**/*.js' 'tests/**/*.mjs'
echo "eslint.sh: no problems in web/js and tests"
