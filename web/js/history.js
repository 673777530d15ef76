// Metric histories from the server, cached per (run, key, points): the
// server's downsampling extension when it exists (one request for many
// runs), else get-history pages thinned here; the steps after the last drawn
// one for live updates; and the cache's invalidation.
import { mlflow, exptrack, isMissingEndpoint } from './api.js';
import { emptySeries, toSeries, thin } from './series.js';
import { HISTORY_MAX_RUNS, BULK_INTERVAL_MAX_STEPS } from './limits.js';

const cache = new Map(); // "run\0key\0points" -> Promise<series>
let downsampleEndpoint = null; // null unknown, true/false once tried
const HISTORY_PAGE = 25000; // points per get-history request of the fallback path
const HISTORY_CAP = 2_000_000; // points read through the fallback path, at most
const STEP_MAX = '9223372036854775807';

const cacheKey = (runId, key, maxPoints) => `${runId}\0${key}\0${maxPoints}`;

/**
 * {series: [{run_id, key, steps, timestamps, values}]} -> Map "run\0key" ->
 * series. The server sends each series' points in (step, timestamp) order
 * (docs/api-extensions.md), so its columns become the typed arrays as they
 * are, with no point objects and no sort (an experiment chart reads a few
 * hundred thousand points at once); a series out of order is sorted. A
 * series without points is not in the map.
 */
function fromExtension(r) {
    const out = new Map();
    for (const x of r.series || []) {
        const n = x.values?.length ?? 0;
        const series = { step: new Float64Array(n), time: new Float64Array(n), value: new Float64Array(n) };
        let sorted = true;
        for (let i = 0; i < n; i++) {
            series.step[i] = Number(x.steps[i]);
            series.time[i] = Number(x.timestamps[i]);
            series.value[i] = Number(x.values[i]); // "NaN", "Infinity" and "-Infinity" read as num() reads them
            if (i && (series.step[i] < series.step[i - 1] || (series.step[i] === series.step[i - 1] && series.time[i] < series.time[i - 1]))) sorted = false;
        }
        const whole = sorted ? series : toSeries(Array.from({ length: n }, (_, i) => ({ step: x.steps[i], timestamp: x.timestamps[i], value: x.values[i] })));
        whole.total = x.total_points ?? n; // more than n: the server downsampled it
        out.set(`${x.run_id}\0${x.key}`, whole);
    }
    return out;
}

async function fetchAll(runId, key) {
    const points = [];
    let token;
    do {
        const r = await mlflow.get('/metrics/get-history', { run_id: runId, metric_key: key, max_results: HISTORY_PAGE, page_token: token });
        if (r.metrics) points.push(...r.metrics);
        token = r.next_page_token;
    } while (token && points.length < HISTORY_CAP);
    return points;
}

/** The whole history through get-history, thinned here to about maxPoints. */
async function fallback(runId, key, maxPoints) {
    const all = toSeries(await fetchAll(runId, key));
    const out = thin(all, maxPoints);
    out.total = all.value.length;
    return out;
}

/**
 * Starts the reads of several metrics for several runs, at most maxPoints
 * points per run and metric, into the cache (each pair not cached yet):
 * with the server's downsampling extension, one request per 100 runs for
 * all those keys (of the runs missing any), so the chart view's first
 * reads of 300 runs and three metrics are three requests, not nine.
 * histories() then finds them.
 */
export function prefetch(runIds, keys, maxPoints) {
    if (downsampleEndpoint === false) return;
    const missing = runIds.filter((id) => keys.some((key) => !cache.has(cacheKey(id, key, maxPoints))));
    for (let c = 0; c < missing.length; c += HISTORY_MAX_RUNS) {
        const chunk = missing.slice(c, c + HISTORY_MAX_RUNS);
        const want = keys.filter((key) => chunk.some((id) => !cache.has(cacheKey(id, key, maxPoints))));
        if (!want.length) continue;
        const p = exptrack.get('/metrics/history', { run_id: chunk, metric_key: want, max_points: maxPoints })
            .then((r) => { downsampleEndpoint = true; return fromExtension(r); });
        for (const key of want) {
            for (const id of chunk) {
                const k = cacheKey(id, key, maxPoints);
                if (cache.has(k)) continue;
                const one = p.then((m) => m.get(`${id}\0${key}`) || emptySeries(), (e) => {
                    if (!isMissingEndpoint(e)) throw e;
                    downsampleEndpoint = false;
                    return fallback(id, key, maxPoints);
                });
                one.catch(() => cache.delete(k));
                cache.set(k, one);
            }
        }
    }
}

/**
 * The history of one metric for several runs, at most maxPoints points per
 * run (shape kept): Promise<Map run_id -> {step, time, value}>. Uses the
 * server's downsampling extension (one request for 100 runs) when it
 * exists, and what prefetch() has asked for already.
 */
export async function histories(runIds, key, maxPoints = 2000) {
    const out = new Map();
    prefetch(runIds, [key], maxPoints);
    for (const id of runIds) {
        const k = cacheKey(id, key, maxPoints);
        if (!cache.has(k)) {
            const one = fallback(id, key, maxPoints);
            one.catch(() => cache.delete(k));
            cache.set(k, one);
        }
        out.set(id, await cache.get(k));
    }
    return out;
}

/** One run's history of one metric (see histories). */
export async function history(runId, key, maxPoints = 2000) {
    return (await histories([runId], key, maxPoints)).get(runId);
}

/**
 * The points of a run's metric at steps after afterStep, for live updates:
 * Promise<{series, complete}>. complete is false when there were more new
 * steps than one request returns whole (then draw the downsampled history).
 */
export async function historyAfter(runId, key, afterStep) {
    const r = await mlflow.get('/metrics/get-history-bulk-interval', {
        run_ids: runId, metric_key: key, start_step: afterStep + 1, end_step: STEP_MAX, max_results: BULK_INTERVAL_MAX_STEPS,
    });
    const pts = r.metrics || [];
    const steps = new Set(pts.map((p) => p.step));
    return { series: toSeries(pts), complete: steps.size < BULK_INTERVAL_MAX_STEPS };
}

/** Replaces the cached history of a run's metric (after a live append). */
export function remember(runId, key, maxPoints, series) {
    cache.set(cacheKey(runId, key, maxPoints), Promise.resolve(series));
}

/** Forgets the cached history of one run's metric (live updates). */
export function forgetKey(runId, key) {
    for (const k of cache.keys()) if (k.startsWith(`${runId}\0${key}\0`)) cache.delete(k);
}

/** Forgets cached histories of a run (live updates). */
export function forget(runId) {
    for (const k of cache.keys()) if (k.startsWith(`${runId}\0`)) cache.delete(k);
}
