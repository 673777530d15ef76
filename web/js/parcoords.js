// A parallel coordinates plot of a sweep, drawn on a canvas: one vertical
// axis per param (and one for the chosen metric, last), one line per run in
// its color. Numeric axes are linear (logarithmic when every value is
// positive and they span more than two decades); others are categories in
// sorted order. Dragging along an axis brushes a range of it; runs outside
// any brush are drawn gray, and onBrush() hands the brushes to the page,
// which filters the table with them (brushFilter). A click on an axis
// without a drag clears its brush. Each axis is also a focusable button over
// the canvas: arrow keys move a brush along it (keyStops, keyBrush), Shift
// with an arrow widens it, Escape clears it.
import { h, fmtNum } from './util.js';

const TOP = 34, BOTTOM = 26, SIDE = 56; // px around the axes
const HIT = 16; // px either side of an axis that start a brush there
const NARROW_GAP = 130; // px between axes below which tick labels are cut to 3 digits
const KEY_COMMIT_MS = 350; // arrow keys redraw at once; the page filters after a pause
const KEY_INTERVALS = 10; // keyboard stops of a numeric axis with many values
const KEY_VALUES_MAX = 12; // up to this many distinct values, each is a stop

// The axis the keyboard brushed last, focused again when the page draws the
// plot anew after the brush is applied (the URL changed).
let refocus = null; // {key, until}

/**
 * The keyboard stops of an axis: {n, brush(i0, i1) -> [lo, hi], of([lo, hi])
 * -> [i0, i1] | null}. Categories and numeric axes of few distinct values
 * stop at each value; other numeric axes at KEY_INTERVALS equal slices.
 */
export function keyStops(axis) {
    if (!axis.numeric) {
        const n = axis.cats.length;
        return {
            n,
            brush: (i0, i1) => [i0, i1],
            of: ([lo, hi]) => { const i0 = Math.max(0, Math.ceil(lo)), i1 = Math.min(n - 1, Math.floor(hi)); return i0 <= i1 ? [i0, i1] : null; },
        };
    }
    const vals = [...new Set([...axis.values.values()].filter((v) => v !== undefined && v !== null && v !== '').map(Number))].sort((a, b) => a - b);
    if (vals.length <= KEY_VALUES_MAX) {
        return {
            n: vals.length,
            brush: (i0, i1) => [vals[i0], vals[i1]],
            of: ([lo, hi]) => {
                const i0 = vals.findIndex((v) => v >= lo);
                const i1 = vals.findLastIndex((v) => v <= hi);
                return i0 >= 0 && i1 >= i0 ? [i0, i1] : null;
            },
        };
    }
    const k = KEY_INTERVALS;
    return {
        n: k,
        brush: (i0, i1) => [axis.valueAt(i0 / k), axis.valueAt((i1 + 1) / k)],
        of: ([lo, hi]) => {
            const clamp = (v) => Math.min(axis.max, Math.max(axis.min, v));
            const t0 = axis.pos(clamp(lo)), t1 = axis.pos(clamp(hi));
            const i0 = Math.min(k - 1, Math.floor(t0 * k + 1e-9)), i1 = Math.max(i0, Math.ceil(t1 * k - 1e-9) - 1);
            return [i0, Math.min(k - 1, i1)];
        },
    };
}

/**
 * The stop range [i0, i1] after a key on an axis of n stops, from cur (null:
 * no brush): ArrowUp / ArrowDown move it one stop (with none, they start at
 * the bottom / top stop), Shift widens it up / down, Escape clears it (null).
 * Returns undefined for other keys.
 */
export function keyBrush(key, shift, cur, n) {
    if (key === 'Escape') return null;
    if (key !== 'ArrowUp' && key !== 'ArrowDown') return undefined;
    if (n < 1) return cur;
    const up = key === 'ArrowUp';
    if (!cur) return up ? [0, 0] : [n - 1, n - 1];
    const [i0, i1] = cur;
    if (shift) return up ? [i0, Math.min(n - 1, i1 + 1)] : [Math.max(0, i0 - 1), i1];
    const d = up ? Math.min(1, n - 1 - i1) : -Math.min(1, i0);
    return [i0 + d, i1 + d];
}

function brushText(axis, b) {
    if (!b) return 'no brush';
    if (!axis.numeric) return b[0] === b[1] ? axis.cats[b[0]] : `${axis.cats[b[0]]} – ${axis.cats[b[1]]}`;
    return b[0] === b[1] ? fmtNum(b[0]) : `${fmtNum(b[0])} – ${fmtNum(b[1])}`;
}

/**
 * An axis of values (Map run_id -> string or number): {key, label, numeric,
 * log, cats, min, max, pos(v) -> 0..1 from the bottom, valueAt(t) -> v}.
 */
export function makeAxis(key, label, values) {
    const vals = [...values.values()].filter((v) => v !== undefined && v !== null && v !== '');
    const numeric = vals.length > 0 && vals.every((v) => Number.isFinite(Number(v)));
    if (!numeric) {
        const cats = [...new Set(vals.map(String))].sort();
        const n = Math.max(1, cats.length - 1);
        return {
            key, label, values, numeric: false, cats,
            pos: (v) => (cats.length === 1 ? 0.5 : cats.indexOf(String(v)) / n),
            valueAt: (t) => (cats.length === 1 ? 0 : t * n), // an index
            num: (v) => cats.indexOf(String(v)),
        };
    }
    const nums = vals.map(Number);
    const min = Math.min(...nums), max = Math.max(...nums);
    const log = min > 0 && max / min > 100;
    const f = log ? Math.log10 : (x) => x;
    const lo = f(min), hi = f(max);
    const span = hi - lo;
    return {
        key, label, values, numeric: true, log, min, max,
        pos: (v) => (span ? (f(Number(v)) - lo) / span : 0.5),
        valueAt: (t) => (log ? 10 ** (lo + t * span) : lo + t * span),
        num: Number,
    };
}

/** Tick marks [position, text] of a numeric axis: every value when there are few (a sweep's grid), else the ends. */
function numericTicks(a, short = false) {
    const distinct = [...new Set([...a.values.values()].filter((v) => v !== undefined && v !== null && v !== '').map(Number))];
    const vals = distinct.length <= 8 ? distinct : [a.min, a.max];
    return vals.map((v) => [a.pos(v), fmtNum(short && Number.isFinite(v) ? Number(v.toPrecision(3)) : v)]);
}

/** Whether a run's value v lies in brush [lo, hi] (category indices for category axes). */
function inBrush(axis, v, [lo, hi]) {
    if (v === undefined || v === null || v === '') return false;
    const x = axis.num(v);
    return x >= lo && x <= hi;
}

/** The run ids that pass every brush (Map axis key -> [lo, hi]) of axes. */
export function brushFilter(axes, brushes, runIds) {
    const active = axes.filter((a) => brushes.has(a.key));
    return runIds.filter((id) => active.every((a) => inBrush(a, a.values.get(id), brushes.get(a.key))));
}

/** "params.lr:0.001:0.01" -> [key, [lo, hi]], or null when malformed. */
export function parseBrush(s) {
    const m = /^(.*):(-?[0-9.eE+-]+|-?Infinity):(-?[0-9.eE+-]+|-?Infinity)$/.exec(s);
    if (!m) return null;
    const lo = Number(m[2]), hi = Number(m[3]);
    return Number.isNaN(lo) || Number.isNaN(hi) ? null : [m[1], [Math.min(lo, hi), Math.max(lo, hi)]];
}

/** The URL form of a brush. */
export function brushParam(key, [lo, hi]) {
    return `${key}:${Number(lo.toPrecision(6))}:${Number(hi.toPrecision(6))}`;
}

/**
 * Draws the plot into el. runs: [{id, label, color}]; axes: from makeAxis;
 * brushes: Map key -> [lo, hi]. onBrush(Map) is called when a brush is
 * drawn or cleared. Returns {highlight(id|null), dispose()}.
 */
export function parcoords(el, { runs, axes, brushes, onBrush, height = 300 }) {
    const canvas = h('canvas', {
        class: 'parcoords-canvas', role: 'img', tabindex: '0',
        'aria-label': `parallel coordinates of ${runs.length} runs over ${axes.map((a) => a.label).join(', ')}; drag along an axis to brush it, or focus an axis and use the arrow keys`,
    });
    const axisButtons = axes.map((a) => h('button', {
        type: 'button', class: 'pc-axis', dataset: { axis: a.key }, 'aria-keyshortcuts': 'ArrowUp ArrowDown Shift+ArrowUp Shift+ArrowDown Escape',
    }));
    el.replaceChildren(canvas, ...axisButtons);
    const g = canvas.getContext('2d');
    let lit = null, drag = null, width = 0;
    const ids = runs.map((r) => r.id);
    let passing = new Set(brushFilter(axes, brushes, ids));

    const x = (i) => SIDE + (axes.length > 1 ? i * (width - 2 * SIDE) / (axes.length - 1) : (width - 2 * SIDE) / 2);
    const y = (t) => TOP + (1 - t) * (height - TOP - BOTTOM);
    const tOf = (py) => Math.min(1, Math.max(0, 1 - (py - TOP) / (height - TOP - BOTTOM)));

    const line = (r, stroke, lw) => {
        g.strokeStyle = stroke;
        g.lineWidth = lw;
        g.beginPath();
        let pen = false;
        axes.forEach((a, i) => {
            const v = a.values.get(r.id);
            if (v === undefined || v === null || v === '') { pen = false; return; }
            const py = y(a.pos(v));
            if (pen) g.lineTo(x(i), py); else g.moveTo(x(i), py);
            pen = true;
        });
        g.stroke();
    };

    const labelAxes = () => axes.forEach((a, i) => {
        const b = axisButtons[i];
        b.setAttribute('aria-label', `axis ${a.label}: ${brushText(a, brushes.get(a.key))}. Arrow keys move a brush, Shift+arrows widen it, Escape clears it.`);
        b.dataset.brush = brushes.has(a.key) ? brushes.get(a.key).join(':') : '';
    });
    const placeAxes = () => axes.forEach((a, i) => {
        const s = axisButtons[i].style;
        s.left = `${x(i) - HIT}px`;
        s.top = `${TOP - 4}px`;
        s.width = `${2 * HIT}px`;
        s.height = `${height - TOP - BOTTOM + 8}px`;
    });

    const draw = () => {
        const style = getComputedStyle(el);
        const fg = style.getPropertyValue('--fg').trim() || '#222';
        const muted = style.getPropertyValue('--muted').trim() || '#888';
        const dpr = window.devicePixelRatio || 1;
        width = Math.max(300, el.clientWidth);
        canvas.width = Math.round(width * dpr);
        canvas.height = Math.round(height * dpr);
        canvas.style.width = `${width}px`;
        canvas.style.height = `${height}px`;
        canvas.dataset.narrow = axes.length > 1 && (width - 2 * SIDE) / (axes.length - 1) < NARROW_GAP ? '1' : '';
        g.setTransform(dpr, 0, 0, dpr, 0, 0);
        g.clearRect(0, 0, width, height);
        g.lineJoin = 'round';
        // runs outside the brushes first, gray; then the rest; the highlighted one on top
        g.globalAlpha = 0.25;
        for (const r of runs) if (!passing.has(r.id)) line(r, muted, 1);
        g.globalAlpha = lit ? 0.25 : 0.85;
        for (const r of runs) if (passing.has(r.id) && r.id !== lit) line(r, r.color, 1.5);
        g.globalAlpha = 1;
        const hr = runs.find((r) => r.id === lit);
        if (hr) line(hr, hr.color, 3.5);
        // axes, names, ticks, brushes
        g.font = '12px system-ui, sans-serif';
        g.textAlign = 'center';
        const narrow = axes.length > 1 && (width - 2 * SIDE) / (axes.length - 1) < NARROW_GAP;
        axes.forEach((a, i) => {
            const ax = x(i);
            g.strokeStyle = muted;
            g.lineWidth = 1;
            g.beginPath(); g.moveTo(ax, y(1)); g.lineTo(ax, y(0)); g.stroke();
            g.fillStyle = fg;
            g.font = '600 12px system-ui, sans-serif';
            g.fillText(a.label.length > 22 ? `${a.label.slice(0, 21)}…` : a.label, ax, 14);
            g.font = '11px system-ui, sans-serif';
            g.fillStyle = muted;
            const ticks = a.numeric ? numericTicks(a, narrow) : a.cats.map((c) => [a.pos(c), c.length > 12 ? `${c.slice(0, 11)}…` : c]);
            // the last axis's labels sit left of it, unless the axes are close
            // together (a phone): then in the margin on its right, 3 digits,
            // so they do not run into the labels of the axis before it
            const left = i === axes.length - 1 && !narrow;
            g.textAlign = left ? 'right' : 'left';
            for (const [t, text] of ticks.slice(0, 12)) g.fillText(text, ax + (left ? -5 : 5), y(t) + 4);
            g.textAlign = 'center';
            if (a.log) g.fillText('log', ax, height - 8);
            const b = drag?.axis === i ? [drag.t0, drag.t1] : brushes.has(a.key) ? brushT(a, brushes.get(a.key)) : null;
            if (b) {
                const [t0, t1] = [Math.min(...b), Math.max(...b)];
                g.fillStyle = 'rgba(47,111,237,0.18)';
                g.strokeStyle = 'rgba(47,111,237,0.9)';
                g.fillRect(ax - 8, y(t1), 16, Math.max(2, y(t0) - y(t1)));
                g.strokeRect(ax - 8, y(t1), 16, Math.max(2, y(t0) - y(t1)));
            }
        });
        placeAxes();
    };

    // a brush [lo, hi] in axis values -> [t0, t1] positions
    function brushT(a, [lo, hi]) {
        if (!a.numeric) {
            const n = Math.max(1, a.cats.length - 1);
            return [lo / n, hi / n];
        }
        const clamp = (v) => Math.min(a.max, Math.max(a.min, v));
        return [a.pos(clamp(lo)), a.pos(clamp(hi))];
    }
    // [t0, t1] positions -> a brush in axis values (whole categories for category axes)
    function brushOf(a, t0, t1) {
        const [lo, hi] = [Math.min(t0, t1), Math.max(t0, t1)];
        if (!a.numeric) {
            const n = Math.max(1, a.cats.length - 1);
            return [Math.ceil(lo * n - 1e-9), Math.floor(hi * n + 1e-9)];
        }
        return [a.valueAt(lo), a.valueAt(hi)];
    }

    const local = (ev) => {
        const r = canvas.getBoundingClientRect();
        return [ev.clientX - r.left, ev.clientY - r.top];
    };
    canvas.addEventListener('pointerdown', (ev) => {
        const [px, py] = local(ev);
        const i = axes.findIndex((_, k) => Math.abs(x(k) - px) <= HIT);
        if (i < 0) return;
        canvas.setPointerCapture(ev.pointerId);
        drag = { axis: i, t0: tOf(py), t1: tOf(py) };
        draw();
    });
    canvas.addEventListener('pointermove', (ev) => {
        if (!drag) return;
        drag.t1 = tOf(local(ev)[1]);
        draw();
    });
    canvas.addEventListener('pointerup', () => {
        if (!drag) return;
        const a = axes[drag.axis];
        const next = new Map(brushes);
        if (Math.abs(drag.t1 - drag.t0) < 0.01) next.delete(a.key); // a click: clear
        else next.set(a.key, brushOf(a, drag.t0, drag.t1));
        drag = null;
        brushes = next;
        passing = new Set(brushFilter(axes, brushes, ids));
        draw();
        labelAxes();
        onBrush?.(next);
    });
    // the keyboard: each axis button moves its brush by stops; applied after a pause
    let commit = null;
    axes.forEach((a, i) => {
        const stops = keyStops(a);
        axisButtons[i].addEventListener('keydown', (ev) => {
            const cur = brushes.has(a.key) ? stops.of(brushes.get(a.key)) : null;
            const next = keyBrush(ev.key, ev.shiftKey, cur, stops.n);
            if (next === undefined || (next === null && !cur)) return;
            ev.preventDefault();
            const map = new Map(brushes);
            if (next) map.set(a.key, stops.brush(next[0], next[1])); else map.delete(a.key);
            brushes = map;
            passing = new Set(brushFilter(axes, brushes, ids));
            draw();
            labelAxes();
            clearTimeout(commit);
            commit = setTimeout(() => {
                if (!canvas.isConnected) return; // the page moved on
                refocus = { key: a.key, until: Date.now() + 5000 };
                onBrush?.(brushes);
            }, KEY_COMMIT_MS);
        });
    });
    labelAxes();
    draw();
    // the plot drawn again after a keyboard brush: the same axis has the focus back
    if (refocus && refocus.until > Date.now()) {
        const i = axes.findIndex((a) => a.key === refocus.key);
        refocus = null;
        const focusWhenShown = (tries) => {
            if (axisButtons[i].isConnected) axisButtons[i].focus({ preventScroll: true });
            else if (tries > 0) setTimeout(() => focusWhenShown(tries - 1), 50);
        };
        if (i >= 0) setTimeout(() => focusWhenShown(20), 0);
    }
    const ro = new ResizeObserver(() => { if (Math.abs(el.clientWidth - width) > 2) draw(); });
    ro.observe(el);
    return {
        highlight(id) { if (id !== lit) { lit = id; draw(); } },
        dispose() { ro.disconnect(); clearTimeout(commit); },
    };
}
