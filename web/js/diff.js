// Line diffs for the prompt and version views: a longest-common-subsequence
// table over the lines (after trimming the common head and tail), walked
// back into same / add / del operations. Pure; node tests import it.

/** The most lines (after trimming) diffed exactly; past it, a plain "replace all". */
export const DIFF_MAX_CELLS = 4_000_000;

/**
 * Diffs two texts by line. Returns [{op: 'same'|'del'|'add', text, a, b}],
 * a and b being 1-based line numbers in the old and new text (null where the
 * line is not in that side).
 */
export function lineDiff(oldText, newText) {
    const a = String(oldText ?? '').split('\n');
    const b = String(newText ?? '').split('\n');
    let head = 0;
    while (head < a.length && head < b.length && a[head] === b[head]) head++;
    let tail = 0;
    while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
    const out = [];
    for (let i = 0; i < head; i++) out.push({ op: 'same', text: a[i], a: i + 1, b: i + 1 });
    const am = a.slice(head, a.length - tail), bm = b.slice(head, b.length - tail);
    const n = am.length, m = bm.length;
    if (n * m > DIFF_MAX_CELLS) {
        am.forEach((t, i) => out.push({ op: 'del', text: t, a: head + i + 1, b: null }));
        bm.forEach((t, j) => out.push({ op: 'add', text: t, a: null, b: head + j + 1 }));
    } else {
        // lcs[i][j]: the LCS length of am[i..] and bm[j..], one flat array
        const w = m + 1;
        const lcs = new Uint32Array((n + 1) * w);
        for (let i = n - 1; i >= 0; i--) {
            for (let j = m - 1; j >= 0; j--) {
                lcs[i * w + j] = am[i] === bm[j] ? lcs[(i + 1) * w + j + 1] + 1
                    : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1]);
            }
        }
        let i = 0, j = 0;
        while (i < n || j < m) {
            if (i < n && j < m && am[i] === bm[j]) {
                out.push({ op: 'same', text: am[i], a: head + i + 1, b: head + j + 1 }); i++; j++;
            } else if (i < n && (j === m || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])) {
                out.push({ op: 'del', text: am[i], a: head + i + 1, b: null }); i++; // removals before additions
            } else {
                out.push({ op: 'add', text: bm[j], a: null, b: head + j + 1 }); j++;
            }
        }
    }
    for (let k = 0; k < tail; k++) {
        const ai = a.length - tail + k, bi = b.length - tail + k;
        out.push({ op: 'same', text: a[ai], a: ai + 1, b: bi + 1 });
    }
    return out;
}

/** Counts of added and deleted lines of a lineDiff result. */
export function diffStats(ops) {
    let add = 0, del = 0;
    for (const o of ops) { if (o.op === 'add') add++; else if (o.op === 'del') del++; }
    return { add, del };
}

/**
 * Compares two key -> value maps. Returns rows [{key, a, b, change}] sorted
 * by key, change being 'same', 'changed', 'added' (only in b) or 'removed'.
 */
export function mapDiff(a, b) {
    const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
    return keys.map((key) => {
        const x = a.get(key), y = b.get(key);
        const change = !a.has(key) ? 'added' : !b.has(key) ? 'removed' : x === y ? 'same' : 'changed';
        return { key, a: x, b: y, change };
    });
}
