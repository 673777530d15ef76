// Metric charts with uPlot: history fetching (the server's downsampled
// extension when it exists, else get-history pages thinned here), x axis
// modes (step, wall time, relative time), log scale, EMA smoothing, charts
// drawn lazily as they scroll into view, cursor and zoom synced per page.
// uPlot is imported on demand (chartsReady), so a page's first history
// requests need not wait for it to be fetched and evaluated.
import { mlflow, exptrack, num, isMissingEndpoint } from './api.js';

let uPlot = null;
let uPlotLoading = null;

/** Loads uPlot once; draw() needs it settled. Promise<void>. */
export function chartsReady() {
    uPlotLoading ??= import('../vendor/uplot/uPlot.esm.js').then((m) => {
        uPlot = m.default;
        performance.mark('exptrack:uplot-ready');
    }, (e) => {
        uPlotLoading = null; // another try on the next chart
        throw e;
    });
    return uPlotLoading;
}

const cache = new Map(); // "run\0key\0points" -> Promise<series>
let downsampleEndpoint = null; // null unknown, true/false once tried
const HISTORY_PAGE = 25000;
const HISTORY_CAP = 2_000_000; // points read through the fallback path, at most
const EXT_MAX_RUNS = 100; // run ids per request of the downsampling extension

/** Sorts points by (step, timestamp) into typed arrays {step, time, value}. */
function toSeries(points) {
    points.sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
    const n = points.length;
    const s = { step: new Float64Array(n), time: new Float64Array(n), value: new Float64Array(n) };
    for (let i = 0; i < n; i++) {
        const p = points[i];
        s.step[i] = Number(p.step ?? 0);
        s.time[i] = Number(p.timestamp ?? 0);
        s.value[i] = num(p.value);
    }
    return s;
}

/** Keeps the shape of a long series in about max points: first, min, max, last of each bucket. */
export function thin(s, max) {
    const n = s.value.length;
    if (n <= max || max < 8) return s;
    const buckets = Math.floor(max / 4);
    const size = n / buckets;
    const keep = [];
    for (let b = 0; b < buckets; b++) {
        const lo = Math.floor(b * size), hi = Math.min(n, Math.floor((b + 1) * size));
        if (hi <= lo) continue;
        let mn = lo, mx = lo;
        for (let i = lo; i < hi; i++) {
            if (s.value[i] < s.value[mn]) mn = i;
            if (s.value[i] > s.value[mx]) mx = i;
        }
        const set = [...new Set([lo, mn, mx, hi - 1])].sort((a, b) => a - b);
        keep.push(...set);
    }
    const out = { step: new Float64Array(keep.length), time: new Float64Array(keep.length), value: new Float64Array(keep.length) };
    keep.forEach((i, j) => { out.step[j] = s.step[i]; out.time[j] = s.time[i]; out.value[j] = s.value[i]; });
    return out;
}

/** {series: [{run_id, key, steps, timestamps, values}]} -> Map run_id -> series. */
function fromExtension(r) {
    const out = new Map();
    for (const x of r.series || []) {
        const n = x.values?.length ?? 0;
        const pts = new Array(n);
        for (let i = 0; i < n; i++) pts[i] = { step: x.steps[i], timestamp: x.timestamps[i], value: x.values[i] };
        const series = toSeries(pts);
        series.total = x.total_points ?? n; // more than n: the server downsampled it
        out.set(x.run_id, series);
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

const EMPTY = () => ({ step: new Float64Array(0), time: new Float64Array(0), value: new Float64Array(0) });

/**
 * The history of one metric for several runs, at most maxPoints points per
 * run (shape kept): Promise<Map run_id -> {step, time, value}>. Uses the
 * server's downsampling extension (one request for all runs) when it exists.
 */
export async function histories(runIds, key, maxPoints = 2000) {
    const out = new Map();
    const missing = runIds.filter((id) => !cache.has(`${id}\0${key}\0${maxPoints}`));
    for (let c = 0; c < missing.length && downsampleEndpoint !== false; c += EXT_MAX_RUNS) {
        const chunk = missing.slice(c, c + EXT_MAX_RUNS);
        const p = exptrack.get('/metrics/history', { run_id: chunk, metric_key: key, max_points: maxPoints })
            .then((r) => { downsampleEndpoint = true; return fromExtension(r); });
        for (const id of chunk) {
            const one = p.then((m) => m.get(id) || EMPTY(), (e) => {
                if (!isMissingEndpoint(e)) throw e;
                downsampleEndpoint = false;
                return fallback(id, key, maxPoints);
            });
            one.catch(() => cache.delete(`${id}\0${key}\0${maxPoints}`));
            cache.set(`${id}\0${key}\0${maxPoints}`, one);
        }
    }
    for (const id of runIds) {
        const k = `${id}\0${key}\0${maxPoints}`;
        if (!cache.has(k)) {
            const one = fallback(id, key, maxPoints);
            one.catch(() => cache.delete(k));
            cache.set(k, one);
        }
        out.set(id, await cache.get(k));
    }
    return out;
}

async function fallback(runId, key, maxPoints) {
    const all = toSeries(await fetchAll(runId, key));
    const out = thin(all, maxPoints);
    out.total = all.value.length;
    return out;
}

const STEP_MAX = '9223372036854775807';
const DELTA_STEPS = 2500; // get-history-bulk-interval's cap on sampled steps

/**
 * The points of a run's metric at steps after afterStep, for live updates:
 * Promise<{series, complete}>. complete is false when there were more new
 * steps than one request returns whole (then draw the downsampled history).
 */
export async function historyAfter(runId, key, afterStep) {
    const r = await mlflow.get('/metrics/get-history-bulk-interval', {
        run_ids: runId, metric_key: key, start_step: afterStep + 1, end_step: STEP_MAX, max_results: DELTA_STEPS,
    });
    const pts = r.metrics || [];
    const steps = new Set(pts.map((p) => p.step));
    return { series: toSeries(pts), complete: steps.size < DELTA_STEPS };
}

/** a followed by b (typed arrays); total counts both. */
export function concatSeries(a, b) {
    const cat = (x, y) => { const o = new Float64Array(x.length + y.length); o.set(x); o.set(y, x.length); return o; };
    const out = { step: cat(a.step, b.step), time: cat(a.time, b.time), value: cat(a.value, b.value) };
    out.total = (a.total ?? a.value.length) + b.value.length;
    return out;
}

/** Points to ask the server for: the chart's width in device pixels. */
export function chartPoints(el) {
    const w = el.clientWidth || el.parentElement?.clientWidth || 400;
    return Math.max(64, Math.round(w * Math.min(2, window.devicePixelRatio || 1)));
}

/** Replaces the cached history of a run's metric (after a live append). */
export function remember(runId, key, maxPoints, series) {
    cache.set(`${runId}\0${key}\0${maxPoints}`, Promise.resolve(series));
}

/** One run's history of one metric (see histories). */
export async function history(runId, key, maxPoints = 2000) {
    return (await histories([runId], key, maxPoints)).get(runId);
}

/** Forgets the cached history of one run's metric (live updates). */
export function forgetKey(runId, key) {
    for (const k of cache.keys()) if (k.startsWith(`${runId}\0${key}\0`)) cache.delete(k);
}

/** Forgets cached histories of a run (live updates). */
export function forget(runId) {
    for (const k of cache.keys()) if (k.startsWith(`${runId}\0`)) cache.delete(k);
}

/** TensorBoard's debiased exponential moving average; weight in [0, 1). */
export function smooth(values, weight) {
    if (!weight) return values;
    const out = new Array(values.length);
    let last = 0, n = 0;
    for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (v === null || !Number.isFinite(v)) { out[i] = v; continue; }
        last = last * weight + (1 - weight) * v;
        n++;
        out[i] = last / (1 - weight ** n);
    }
    return out;
}

function xOf(s, mode) {
    const n = s.value.length;
    const x = new Array(n);
    const t0 = n ? s.time.reduce((a, b) => Math.min(a, b), Infinity) : 0;
    for (let i = 0; i < n; i++) x[i] = mode === 'wall' ? s.time[i] / 1000 : mode === 'rel' ? (s.time[i] - t0) / 1000 : s.step[i];
    return x;
}

/** Joins several (x, y) series on the union of their x values (nulls where absent). */
function align(list) {
    const xs = [...new Set(list.flatMap((l) => l.x))].sort((a, b) => a - b);
    const at = new Map(xs.map((x, i) => [x, i]));
    const ys = list.map((l) => {
        const y = new Array(xs.length).fill(null);
        l.x.forEach((x, i) => { y[at.get(x)] = l.y[i]; });
        return y;
    });
    return [xs, ...ys];
}

const syncGroups = new Map(); // sync key -> Set<uPlot>

function fmtAxis(mode) {
    if (mode === 'rel') return (u, vals) => vals.map((v) => (v >= 3600 ? `${(v / 3600).toFixed(1)}h` : v >= 60 ? `${(v / 60).toFixed(1)}m` : `${+v.toFixed(1)}s`));
    return undefined;
}

/**
 * Draws a chart in el. series: [{label, color, data: {step,time,value}}].
 * opts: {xmode: step|wall|rel, log, smoothing, sync (key), height}. Returns
 * the uPlot. Call after chartsReady() has settled.
 */
export function draw(el, series, { xmode = 'step', log = false, smoothing = 0, sync = 'page', height = 220, groups = null } = {}) {
    if (!uPlot) throw new Error('draw() before chartsReady()');
    const lines = [];
    const cfg = [{}];
    for (const s of series) {
        const x = xOf(s.data, xmode);
        let order = x.map((_, i) => i);
        if (xmode !== 'step') order.sort((a, b) => x[a] - x[b]);
        const xx = order.map((i) => x[i]);
        let y = order.map((i) => {
            const v = s.data.value[i];
            return !Number.isFinite(v) || (log && v <= 0) ? null : v;
        });
        if (smoothing > 0) {
            lines.push({ x: xx, y });
            cfg.push({ label: `${s.label} (raw)`, stroke: s.color, alpha: 0.25, width: 1, spanGaps: true, points: { show: false } });
            y = smooth(y, smoothing);
        }
        lines.push({ x: xx, y });
        cfg.push({ label: s.label, stroke: s.color, width: 1.5, spanGaps: true, points: { show: xx.length < 40 } });
    }
    let data = align(lines);
    let bands;
    if (groups) {
        const g = groupData(data, series, groups, smoothing > 0);
        data = g.data;
        cfg.splice(1, cfg.length - 1, ...g.cfg);
        bands = g.bands;
    }
    const width = Math.max(200, el.clientWidth || 400);
    const opts = {
        width, height,
        cursor: { sync: { key: sync, setSeries: true }, drag: { x: true, y: false } },
        legend: { show: series.length > 1 || smoothing > 0 || !!groups, live: true },
        bands,
        scales: { x: { time: xmode === 'wall' }, y: log ? { distr: 3 } : {} },
        axes: [{ values: fmtAxis(xmode), stroke: 'var(--muted)' }, { stroke: 'var(--muted)', size: 60 }],
        series: cfg.map((c, i) => (i === 0 ? { label: xmode === 'step' ? 'step' : xmode === 'wall' ? 'time' : 'seconds' } : c)),
        hooks: {
            setSelect: [(u) => {
                if (u.select.width <= 0) return;
                const min = u.posToVal(u.select.left, 'x'), max = u.posToVal(u.select.left + u.select.width, 'x');
                for (const o of syncGroups.get(sync) || []) if (o !== u) o.setScale('x', { min, max });
            }],
        },
    };
    // uPlot's axis strokes take CSS colors; resolve the variable here.
    const muted = getComputedStyle(document.documentElement).getPropertyValue('--muted').trim() || '#888';
    opts.axes.forEach((a) => { a.stroke = muted; a.grid = { stroke: 'rgba(128,128,128,0.15)' }; a.ticks = { stroke: 'rgba(128,128,128,0.3)' }; });
    el.replaceChildren();
    const u = new uPlot(opts, data, el);
    if (!syncGroups.has(sync)) syncGroups.set(sync, new Set());
    syncGroups.get(sync).add(u);
    u.root.addEventListener('dblclick', () => { for (const o of syncGroups.get(sync) || []) o.setData(o.data, true); });
    const ro = new ResizeObserver(() => {
        const w = Math.max(200, el.clientWidth);
        if (Math.abs(w - u.width) > 2) u.setSize({ width: w, height });
    });
    ro.observe(el);
    u.dispose = () => { ro.disconnect(); syncGroups.get(sync)?.delete(u); u.destroy(); };
    return u;
}

/** "hsl(h, s%, l%)" -> "hsla(h, s%, l%, a)" */
function alpha(color, a) {
    return color.replace(/^hsl\((.*)\)$/, `hsla($1, ${a})`);
}

/**
 * Turns aligned per-run columns into one mean line and a band per group.
 * groups: {of: (i) => group name of series i, kind: 'minmax'|'std', color: (name) => css}.
 * With smoothing, each run contributes its smoothed column (the raw ones are dropped).
 */
function groupData(aligned, series, groups, smoothed) {
    const [xs, ...cols] = aligned;
    const runCols = smoothed ? cols.filter((_, i) => i % 2 === 1) : cols;
    const names = [...new Set(series.map((_, i) => groups.of(i)))].sort();
    const data = [xs], cfg = [], bands = [];
    for (const name of names) {
        const members = series.map((_, i) => i).filter((i) => groups.of(i) === name).map((i) => runCols[i]);
        const mean = [], lo = [], hi = [];
        for (let j = 0; j < xs.length; j++) {
            const v = members.map((c) => c[j]).filter((x) => x !== null && Number.isFinite(x));
            if (!v.length) { mean.push(null); lo.push(null); hi.push(null); continue; }
            const m = v.reduce((a, b) => a + b, 0) / v.length;
            mean.push(m);
            if (groups.kind === 'std') {
                const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
                lo.push(m - sd); hi.push(m + sd);
            } else {
                lo.push(Math.min(...v)); hi.push(Math.max(...v));
            }
        }
        const color = groups.color(name);
        const base = data.length;
        data.push(hi, lo, mean);
        cfg.push({ label: `${name} ${groups.kind === 'std' ? '+σ' : 'max'}`, stroke: alpha(color, 0.35), width: 0.5, spanGaps: true, points: { show: false } },
            { label: `${name} ${groups.kind === 'std' ? '−σ' : 'min'}`, stroke: alpha(color, 0.35), width: 0.5, spanGaps: true, points: { show: false } },
            { label: `${name} (${members.length})`, stroke: color, width: 2, spanGaps: true, points: { show: false } });
        bands.push({ series: [base, base + 1], fill: alpha(color, 0.15) });
    }
    return { data, cfg, bands };
}

let observer = null;
const pending = new WeakMap();
let queued = []; // lazy() calls of the current task, settled together
const MARGIN = 300; // px around the viewport that count as "near"

/**
 * Calls fn(el) once, when el comes near the viewport. Elements already near
 * it when the current task ends start at once (one layout for all of them,
 * not one per element, and no wait for the observer's first callback);
 * the rest wait for an IntersectionObserver.
 */
export function lazy(el, fn) {
    if (!('IntersectionObserver' in window)) { fn(el); return; }
    pending.set(el, fn);
    if (queued.length === 0) queueMicrotask(settleQueued);
    queued.push(el);
}

function settleQueued() {
    const els = queued;
    queued = [];
    const h = window.innerHeight;
    // read every rect first (one layout), then start the visible ones
    const near = els.map((el) => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.bottom >= -MARGIN && r.top <= h + MARGIN;
    });
    if (!observer) {
        observer = new IntersectionObserver((entries) => {
            for (const e of entries) {
                if (!e.isIntersecting) continue;
                observer.unobserve(e.target);
                start(e.target);
            }
        }, { rootMargin: `${MARGIN}px 0px` });
    }
    els.forEach((el, i) => (near[i] ? start(el) : observer.observe(el)));
}

function start(el) {
    const f = pending.get(el);
    pending.delete(el);
    if (f) f(el);
}

/** Groups metric keys by the prefix before the first '/': [[prefix, keys]], '' first. */
export function groupKeys(keys) {
    const m = new Map();
    for (const k of [...keys].sort()) {
        const i = k.indexOf('/');
        const g = i > 0 ? k.slice(0, i) : '';
        if (!m.has(g)) m.set(g, []);
        m.get(g).push(k);
    }
    return [...m.entries()].sort((a, b) => (a[0] === '' ? -1 : b[0] === '' ? 1 : a[0].localeCompare(b[0])));
}

/** The shared chart controls (x axis, log, smoothing) bound to URL params. */
export function chartOptions(params) {
    const xmode = ['step', 'wall', 'rel'].includes(params.get('x')) ? params.get('x') : 'step';
    const log = params.get('log') === '1';
    const smoothing = Math.min(0.99, Math.max(0, Number(params.get('smooth')) || 0));
    return { xmode, log, smoothing };
}
