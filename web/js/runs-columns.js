// The runs table's optional columns ("metrics.loss", "params.lr",
// "tags.x"): which keys there are to pick from (the server's keys endpoint,
// else the keys on the page's runs), the default choice, and a run's value.
import { exptrack, num, isMissingEndpoint } from './api.js';
import { ident } from './util.js';

// Keys endpoint availability (null = unknown).
let keysEndpoint = null;

/** "metrics.loss" -> {type: 'metrics', key: 'loss'} */
export function parseCol(c) {
    const i = c.indexOf('.');
    return { type: c.slice(0, i), key: c.slice(i + 1) };
}

/** A run's value in a column: a number for metrics, undefined when it has none. */
export function colValue(run, col) {
    const { type, key } = parseCol(col);
    const list = run.data?.[type] || [];
    const item = list.find((x) => x.key === key);
    if (!item) return undefined;
    return type === 'metrics' ? num(item.value) : item.value;
}

/** The column's order_by identifier ("metrics.`a b`"). */
export function colIdent(col) {
    const { type, key } = parseCol(col);
    return ident(type, key);
}

/**
 * Distinct keys of the experiments from the keys endpoint, or null when the
 * server has none. request: the same request app.js already sent, if any.
 */
export async function serverKeys(ids, request) {
    if (keysEndpoint === false && !request) return null;
    try {
        const k = await (request ?? exptrack.get('/experiments/keys', { experiment_id: ids }));
        keysEndpoint = true;
        return { metrics: new Set(k.metrics || []), params: new Set(k.params || []), tags: new Set(k.tags || []) };
    } catch (e) {
        if (isMissingEndpoint(e)) keysEndpoint = false;
        return null;
    }
}

/** The keys present on a page of runs (for servers without the keys endpoint). */
export function pageKeys(runs) {
    const keys = { metrics: new Set(), params: new Set(), tags: new Set() };
    for (const r of runs) for (const t of Object.keys(keys)) for (const x of r.data?.[t] || []) keys[t].add(x.key);
    return keys;
}

/** The columns shown when the URL names none: the first metrics and params. */
export function defaultCols(keys) {
    return [...[...keys.metrics].sort().slice(0, 5).map((k) => `metrics.${k}`),
        ...[...keys.params].sort().slice(0, 4).map((k) => `params.${k}`)];
}
