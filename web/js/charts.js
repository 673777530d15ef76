// Metric charts drawn with uPlot: x axis modes (step, wall time, relative
// time), log scale, EMA smoothing, group bands, cursor and zoom synced per
// page. uPlot is imported on demand (chartsReady), so a page's first history
// requests need not wait for it to be fetched and evaluated.
import { xValues, smooth, align, groupData } from './series.js';

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

/** Points to ask the server for: the chart's width in device pixels. */
export function chartPoints(el) {
    const w = el.clientWidth || el.parentElement?.clientWidth || 400;
    return Math.max(64, Math.round(w * Math.min(2, window.devicePixelRatio || 1)));
}

const syncGroups = new Map(); // sync key -> Set<uPlot>

function fmtAxis(mode) {
    if (mode === 'rel') return (u, vals) => vals.map((v) => (v >= 3600 ? `${(v / 3600).toFixed(1)}h` : v >= 60 ? `${(v / 60).toFixed(1)}m` : `${+v.toFixed(1)}s`));
    return undefined;
}

/**
 * Draws a chart in el. series: [{label, color, data: {step,time,value},
 * emphasis (drawn wide: compare's baseline)}].
 * opts: {xmode: step|wall|rel, log, smoothing, sync (key), height}. Returns
 * the uPlot. Call after chartsReady() has settled.
 */
export function draw(el, series, { xmode = 'step', log = false, smoothing = 0, sync = 'page', height = 220, groups = null } = {}) {
    if (!uPlot) throw new Error('draw() before chartsReady()');
    const lines = [];
    const cfg = [{}];
    for (const s of series) {
        const x = xValues(s.data, xmode);
        const order = x.map((_, i) => i);
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
        cfg.push({ label: s.label, stroke: s.color, width: s.emphasis ? 3.5 : 1.5, spanGaps: true, points: { show: xx.length < 40 } });
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
