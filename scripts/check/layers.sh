#!/usr/bin/env bash
# The layer gate: dependencies among the server's modules point one way.
#
#   (a) include rules, read from the sources:
#       - common/ (shared with the CLI) includes only its own headers;
#       - server/core/ includes only its own headers and common/'s: nothing
#         of a domain folder (auth db tracking search artifacts events ops)
#         nor of the root (routes.h, config.h, ...), which all sit above it;
#       - store_* files never include <jansson.h>, jsonx.h, reply.h, routes.h;
#       - api_* files never include <libpq-fe.h> or db.h.
#   (b) no link-level cycle among the server's object files: an undefined
#       symbol of A defined by B is an edge A -> B; a strongly connected
#       component of more than one module is a cycle, printed with the
#       symbols on each edge. The objects are those of the build dir's
#       compile_commands.json under server/ (stale objects of moved files
#       are ignored), so build first.
#
# Usage: scripts/check/layers.sh [build-dir]   (default: build)
# Prints each violation; exits 1 if there is any, 2 when it cannot check.
set -euo pipefail

build=${1:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
server=$root/server
domains='auth|db|tracking|search|artifacts|events|ops|registry|logged_models'
bad=0

violation() {
    echo "layers: $*"
    bad=1
}

# An include as written: <name.h> or "path.h" (from includes' "<name.h" / "\"path.h").
shown() {
    case $1 in
    '<'*) echo "$1>" ;;
    *) echo "$1\"" ;;
    esac
}

# Prints "file:line:path" for each quoted or angled include of the files given.
includes() {
    grep -HnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]' "$@" 2>/dev/null |
        sed -E 's/^([^:]*):([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]*([<"])([^">]*)[">].*/\1:\2:\3\4/' || true
}

# Prints "file:line:path" for each quoted include of the files given.
local_includes() {
    includes "$@" | sed -nE 's/^([^:]*):([0-9]+):"/\1:\2:/p'
}

# (a) common/ includes only common/ (bare) and system headers.
while IFS=: read -r file line path; do
    if [ ! -e "$root/common/$path" ]; then
        violation "${file#"$root"/}:$line: common/ includes \"$path\", which is not a common/ header"
    fi
done < <(local_includes "$root"/common/*.c "$root"/common/*.h)

# (a) core/ includes only core/ and common/ (and system headers).
while IFS=: read -r file line path; do
    rel=${file#"$root"/}
    [[ $path == common/* && -e "$root/$path" ]] && continue
    if [[ $path =~ ^($domains)/ ]]; then
        violation "$rel:$line: core/ includes the domain header \"$path\""
    elif [ ! -e "$server/core/$path" ]; then
        violation "$rel:$line: core/ includes \"$path\", which is not a core/ header"
    fi
done < <(local_includes "$server"/core/*.c "$server"/core/*.h)

# (a) store_* files: no JSON, no replies, no routes.
while IFS=: read -r file line inc; do
    [ -n "$file" ] || continue
    if [[ $inc == '<jansson.h' || $inc =~ ^\"(.*/)?(jsonx|reply|routes)\.h$ ]]; then
        violation "${file#"$root"/}:$line: a store_* file includes $(shown "$inc")"
    fi
done < <(find "$server" -name 'store_*.[ch]' -print0 | xargs -0 -r grep -HnE \
    '^[[:space:]]*#[[:space:]]*include' |
    sed -E 's/^([^:]*):([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]*([<"])([^">]*)[">].*/\1:\2:\3\4/')

# (a) api_* files: no libpq, no connection layer.
while IFS=: read -r file line inc; do
    [ -n "$file" ] || continue
    if [[ $inc == '<libpq-fe.h' || $inc =~ ^\"(.*/)?db\.h$ ]]; then
        violation "${file#"$root"/}:$line: an api_* file includes $(shown "$inc")"
    fi
done < <(find "$server" -name 'api_*.[ch]' -print0 | xargs -0 -r grep -HnE \
    '^[[:space:]]*#[[:space:]]*include' |
    sed -E 's/^([^:]*):([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]*([<"])([^">]*)[">].*/\1:\2:\3\4/')

# (b) the link graph.
if [ ! -f "$build/compile_commands.json" ]; then
    echo "layers: no $build/compile_commands.json: configure and build first" >&2
    exit 2
fi
python3 - "$build" <<'EOF' || bad=1
"""Builds the module graph from nm and fails on any cycle."""
import json
import os
import re
import shlex
import subprocess
import sys

build = sys.argv[1]
objs = {}  # module name -> object path
for entry in json.load(open(os.path.join(build, "compile_commands.json"))):
    args = shlex.split(entry["command"])
    if "-o" not in args:
        continue
    path = os.path.normpath(os.path.join(entry["directory"], args[args.index("-o") + 1]))
    m = re.match(r".*/server/(?:(\w+)/)?CMakeFiles/[^/]+\.dir/(?:.*/)?([^/]+)\.c\.o$", path)
    if not m:
        continue
    if not os.path.exists(path):
        sys.exit(f"layers: {path} is missing: build first")
    objs[(m.group(1) + "/" if m.group(1) else "") + m.group(2)] = path
if not objs:
    sys.exit(f"layers: no server objects in {build}/compile_commands.json")

defined, undefined = {}, {}
for mod, path in objs.items():
    nm = subprocess.run(["nm", "-P", path], check=True, capture_output=True, text=True).stdout
    undefined[mod] = set()
    for row in nm.splitlines():
        parts = row.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind == "U":
            undefined[mod].add(name)
        elif kind.isupper():  # global definitions (T D B R C W V ...)
            defined.setdefault(name, mod)

edges = {mod: {} for mod in objs}  # a -> {b: [symbols]}
for mod, names in undefined.items():
    for name in sorted(names):
        to = defined.get(name)
        if to is not None and to != mod:
            edges[mod].setdefault(to, []).append(name)

# Tarjan's strongly connected components.
index, low, stack, on_stack, sccs = {}, {}, [], set(), []


def visit(v):
    index[v] = low[v] = len(index)
    stack.append(v)
    on_stack.add(v)
    for w in sorted(edges[v]):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on_stack:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on_stack.discard(w)
            comp.append(w)
            if w == v:
                break
        sccs.append(sorted(comp))


sys.setrecursionlimit(10000)
for v in sorted(edges):
    if v not in index:
        visit(v)


def cycle_in(comp):
    """The shortest cycle through comp[0] inside comp (breadth first)."""
    members, start = set(comp), comp[0]
    prev, queue = {start: None}, [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(edges[v]):
            if w not in members:
                continue
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return list(reversed(path)) + [start]
            if w not in prev:
                prev[w] = v
                queue.append(w)
    return comp


failed = False
for comp in sccs:
    if len(comp) < 2:
        continue
    failed = True
    print(f"layers: a link-level cycle among {len(comp)} modules: {' '.join(comp)}")
    path = cycle_in(comp)
    for a, b in zip(path, path[1:]):
        syms = edges[a][b]
        more = f" (+{len(syms) - 3} more)" if len(syms) > 3 else ""
        print(f"layers:   {a} -> {b}: {', '.join(syms[:3])}{more}")
nedges = sum(len(e) for e in edges.values())
print(f"layers: {len(objs)} modules, {nedges} edges, "
      f"{'cycles found' if failed else 'no cycle'}")
sys.exit(1 if failed else 0)
EOF

if [ "$bad" -ne 0 ]; then
    echo "layers: FAILED"
    exit 1
fi
echo "layers: ok"
