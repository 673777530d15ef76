// Series math, pure functions only (no DOM, no uPlot, no requests, so
// node --test can import it): a metric's points as typed arrays
// {step, time, value}, thinned, joined, smoothed, put on one x axis and
// reduced to a mean and band per group of runs.

/** A series of no points. */
export function emptySeries() {
    return { step: new Float64Array(0), time: new Float64Array(0), value: new Float64Array(0) };
}

/**
 * Sorts MLflow metric points ({step, timestamp, value}) by (step, timestamp)
 * into typed arrays {step, time, value}. Sorts points in place. Values may be
 * MLflow's strings "NaN", "Infinity" and "-Infinity", which Number() reads
 * as api.js's num() does.
 */
export function toSeries(points) {
    points.sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
    const n = points.length;
    const s = { step: new Float64Array(n), time: new Float64Array(n), value: new Float64Array(n) };
    for (let i = 0; i < n; i++) {
        const p = points[i];
        s.step[i] = Number(p.step ?? 0);
        s.time[i] = Number(p.timestamp ?? 0);
        s.value[i] = Number(p.value);
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

/** a followed by b (typed arrays); total counts both. */
export function concatSeries(a, b) {
    const cat = (x, y) => { const o = new Float64Array(x.length + y.length); o.set(x); o.set(y, x.length); return o; };
    const out = { step: cat(a.step, b.step), time: cat(a.time, b.time), value: cat(a.value, b.value) };
    out.total = (a.total ?? a.value.length) + b.value.length;
    return out;
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

/** A series' x values for an x axis mode: step, wall (seconds since the epoch) or rel (seconds since its first point). */
export function xValues(s, mode) {
    const n = s.value.length;
    const x = new Array(n);
    const t0 = n ? s.time.reduce((a, b) => Math.min(a, b), Infinity) : 0;
    for (let i = 0; i < n; i++) x[i] = mode === 'wall' ? s.time[i] / 1000 : mode === 'rel' ? (s.time[i] - t0) / 1000 : s.step[i];
    return x;
}

/** Joins several (x, y) series on the union of their x values (nulls where absent): [xs, ...ys]. */
export function align(list) {
    const xs = [...new Set(list.flatMap((l) => l.x))].sort((a, b) => a - b);
    const at = new Map(xs.map((x, i) => [x, i]));
    const ys = list.map((l) => {
        const y = new Array(xs.length).fill(null);
        l.x.forEach((x, i) => { y[at.get(x)] = l.y[i]; });
        return y;
    });
    return [xs, ...ys];
}

/** "hsl(h, s%, l%)" -> "hsla(h, s%, l%, a)" */
export function withAlpha(color, a) {
    return color.replace(/^hsl\((.*)\)$/, `hsla($1, ${a})`);
}

/**
 * Turns aligned per-run columns into one mean line and a band per group:
 * {data, cfg, bands} in uPlot's shapes. groups: {of: (i) => group name of
 * series i, kind: 'minmax'|'std', color: (name) => css}. With smoothing, each
 * run contributes its smoothed column (the raw ones are dropped).
 */
export function groupData(aligned, series, groups, smoothed) {
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
        cfg.push({ label: `${name} ${groups.kind === 'std' ? '+σ' : 'max'}`, stroke: withAlpha(color, 0.35), width: 0.5, spanGaps: true, points: { show: false } },
            { label: `${name} ${groups.kind === 'std' ? '−σ' : 'min'}`, stroke: withAlpha(color, 0.35), width: 0.5, spanGaps: true, points: { show: false } },
            { label: `${name} (${members.length})`, stroke: color, width: 2, spanGaps: true, points: { show: false } });
        bands.push({ series: [base, base + 1], fill: withAlpha(color, 0.15) });
    }
    return { data, cfg, bands };
}

const BLOCK_STEPS = 256; // the server's block summaries (schema/0009_metric_blocks.sql)
const OVERLAY_MIN = 64; // points a run below which a series is read as the budget says

/**
 * Points a run to ask for in an overlay of many runs whose longest series
 * reaches step last (from step 0), within budget: at most 4 per 255 steps,
 * so that the server's buckets (w = floor(span / (points / 4)) + 1 steps)
 * are at least one 256-step block wide and come from its block summaries
 * instead of every point (docs/api-extensions.md); a chart of hundreds of
 * runs cannot show more distinct points a run anyway. A short series (cap
 * under OVERLAY_MIN) keeps the budget: read whole, it is cheap.
 */
export function overlayPoints(budget, last) {
    const cap = 4 * Math.floor(last / (BLOCK_STEPS - 1));
    return cap >= OVERLAY_MIN ? Math.min(budget, cap) : budget;
}

/** The highest step of metric key among runs (MLflow runs: their latest values'), or 0. */
export function lastStep(runs, key) {
    let last = 0;
    for (const r of runs) {
        const m = (r.data?.metrics || []).find((x) => x.key === key);
        const step = Number(m?.step ?? 0);
        if (Number.isFinite(step) && step > last) last = step;
    }
    return last;
}
