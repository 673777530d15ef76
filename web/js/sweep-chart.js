// One metric of many runs overlaid in one uPlot chart (the experiment chart
// view and compare's baseline). Each run keeps its own x values (uPlot's
// mode 2), so hundreds of downsampled series are drawn as they came from the
// server, never joined on the union of their steps. Runs can be hidden,
// highlighted (the others dimmed) or emphasised (drawn wider, on top); the
// pointer shows the nearest run under it.
import uPlot from '../vendor/uplot/uPlot.esm.js';
import { h, fmtNum } from './util.js';
import { xValues } from './series.js';

const DIM = 0.12; // alpha of the other runs while one is highlighted
const NEAR_PX = 14; // how close the pointer must be to a line to name it

/** The drawable points of a series: x by mode, y with non-finite (and, on a log scale, non-positive) values left out. */
function points(data, xmode, log) {
    const x = xValues(data, xmode);
    const xs = [], ys = [];
    for (let i = 0; i < x.length; i++) {
        const v = data.value[i];
        if (!Number.isFinite(v) || (log && v <= 0)) continue;
        xs.push(x[i]);
        ys.push(v);
    }
    if (xmode !== 'step') { // wall/relative time need not grow with the step
        const order = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
        return [order.map((i) => xs[i]), order.map((i) => ys[i])];
    }
    return [xs, ys];
}

/** Index of the last x <= v in the sorted xs, or -1. */
function floorIndex(xs, v) {
    let lo = 0, hi = xs.length - 1, r = -1;
    while (lo <= hi) {
        const m = (lo + hi) >> 1;
        if (xs[m] <= v) { r = m; lo = m + 1; } else hi = m - 1;
    }
    return r;
}

/**
 * Draws series [{id, label, color, data: {step, time, value}}] into el.
 * opts: {xmode, log, height, emphasis (id drawn wide), onHover(id|null)}.
 * Returns {u, setHidden(Set<id>), highlight(id|null), update(id, data), dispose()}.
 */
export function overlay(el, series, { xmode = 'step', log = false, height = 240, emphasis = null, onHover = null } = {}) {
    const index = new Map(series.map((s, i) => [s.id, i + 1]));
    const data = [null, ...series.map((s) => points(s.data, xmode, log))];
    const muted = getComputedStyle(document.documentElement).getPropertyValue('--muted').trim() || '#888';
    const axis = { stroke: muted, grid: { stroke: 'rgba(128,128,128,0.15)' }, ticks: { stroke: 'rgba(128,128,128,0.3)' } };
    const width = (id) => (id === emphasis ? 3 : series.length > 50 ? 1 : 1.5);
    const opts = {
        mode: 2,
        width: Math.max(200, el.clientWidth || 400), height,
        legend: { show: false },
        cursor: { drag: { x: true, y: false, setScale: true }, points: { show: false }, focus: { prox: -1 }, y: false },
        scales: { x: { time: xmode === 'wall', auto: true }, y: log ? { distr: 3, auto: true } : { auto: true } },
        axes: [{ ...axis }, { ...axis, size: 60 }],
        series: [{}, ...series.map((s) => ({
            label: s.label, stroke: s.color, width: width(s.id), alpha: 1,
            facets: [{ scale: 'x', auto: true }, { scale: 'y', auto: true }],
            paths: uPlot.paths.linear(), points: { show: false },
        }))],
    };
    el.replaceChildren();
    const tip = h('div', { class: 'sweep-tip', hidden: true, 'aria-hidden': 'true' }); // the pointer's run (the table names them all)
    const u = new uPlot(opts, data, el);
    u.over.append(tip);
    let hidden = new Set();
    let lit = null; // highlighted id

    const restyle = () => {
        u.series.forEach((s, i) => {
            if (!i) return;
            const id = series[i - 1].id;
            s.alpha = lit === null || id === lit ? 1 : DIM;
            s.width = id === lit ? 2.5 : width(id);
        });
        u.redraw(false); // alpha and width are read when the paths are stroked: no new paths
    };

    // the run whose line passes nearest the pointer, within NEAR_PX
    const nearest = (left, top) => {
        const xv = u.posToVal(left, 'x');
        let best = null, bestD = NEAR_PX;
        for (let i = 1; i < u.series.length; i++) {
            if (!u.series[i].show) continue;
            const [xs, ys] = u.data[i];
            const j = floorIndex(xs, xv);
            if (j < 0 || j >= xs.length - 1) continue;
            const t = (xv - xs[j]) / (xs[j + 1] - xs[j] || 1);
            const yv = ys[j] + (ys[j + 1] - ys[j]) * t;
            const d = Math.abs(u.valToPos(yv, 'y') - top);
            if (d < bestD) { bestD = d; best = { i, y: yv }; }
        }
        return best;
    };
    const onMove = () => {
        const { left, top } = u.cursor;
        if (left === undefined || left < 0) { tip.hidden = true; onHover?.(null); return; }
        const n = nearest(left, top);
        if (!n) { tip.hidden = true; onHover?.(null); return; }
        const s = series[n.i - 1];
        tip.replaceChildren(h('span', { class: 'swatch', style: `background:${s.color}` }), s.label, ' ', h('strong', {}, fmtNum(n.y)));
        tip.hidden = false;
        tip.style.left = `${Math.min(left + 12, u.over.clientWidth - 160)}px`;
        tip.style.top = `${Math.max(0, top - 28)}px`;
        onHover?.(s.id);
    };
    u.over.addEventListener('mousemove', onMove);
    u.over.addEventListener('mouseleave', () => { tip.hidden = true; onHover?.(null); });
    u.over.addEventListener('dblclick', () => u.setData(u.data, true));

    const ro = new ResizeObserver(() => {
        const w = Math.max(200, el.clientWidth);
        if (Math.abs(w - u.width) > 2) u.setSize({ width: w, height });
    });
    ro.observe(el);
    return {
        u,
        /** Shows only the runs not in ids. */
        setHidden(ids) {
            const next = new Set(ids);
            u.batch(() => {
                series.forEach((s, i) => {
                    const want = !next.has(s.id);
                    if (u.series[i + 1].show !== want) u.setSeries(i + 1, { show: want });
                });
            });
            hidden = next;
        },
        /** Dims every run but id (null: none dimmed). */
        highlight(id) {
            const next = index.has(id) ? id : null;
            if (next === lit) return;
            lit = next;
            restyle();
        },
        /** Replaces the points of run id (live updates). */
        update(id, d) {
            const i = index.get(id);
            if (!i) return;
            const next = u.data.slice();
            next[i] = points(d, xmode, log);
            u.setData(next, !u.select?.width);
        },
        /** Replaces the points of every run in datas (Map id -> series) at once: one redraw. */
        replaceAll(datas) {
            const next = u.data.slice();
            series.forEach((s, i) => { if (datas.get(s.id)?.value.length) next[i + 1] = points(datas.get(s.id), xmode, log); });
            u.setData(next, !u.select?.width);
        },
        hidden: () => hidden,
        dispose() { ro.disconnect(); u.destroy(); },
    };
}
