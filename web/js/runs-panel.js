// The runs page's panels above the table: the experiment chart view
// (panel=charts: one chart per chosen metric, cm=..., every run the table
// shows overlaid in its color) and the parallel coordinates of a sweep
// (panel=parcoords: the params that vary and the metric pm=..., brushing
// an axis filters the table, brush=...). The table and the panels share a
// link: hovering a row highlights the run, the row's swatch hides it from
// the charts (hide=<id prefixes>), a click on a line pins the highlight
// (hl=<id prefix>). The charts follow RUNNING runs (follow.js).
import { h, withParams, runName, runColor, errorBox } from './util.js';
import { chartPoints } from './charts.js';
import { histories, prefetch, forgetKey } from './history.js';
import { overlayPoints, lastStep } from './series.js';
import { overlay } from './sweep-chart.js';
import { parcoords, makeAxis, brushParam } from './parcoords.js';
import { follow } from './follow.js';
import { COARSE_RUNS, COARSE_POINTS, chartMetrics, parcoordsParams, parcoordsMetric } from './runs-query.js';

const MAX_AXES = 12; // param axes of the parallel coordinates, at most
const POINT_BUDGET = 120000; // points per chart, all runs together (the server downsamples to it)
// From COARSE_RUNS runs on (runs-query.js), each chart is first drawn from a
// coarse read of COARSE_POINTS points a run (app.js has usually sent it with
// the page) and then again in detail, at most 4 points a run per 256 steps
// (series.js overlayPoints), from the server's block summaries too.

/** A run id's short form in the URL (hide=, hl=). */
export const idPrefix = (id) => id.slice(0, 8);

/**
 * The state shared by the table and the panel: hidden runs, the pinned and
 * the hovered run, and the views that show them. Returns {isHidden(id),
 * toggle(id), hover(id|null), pin(id|null), add(view)}; a view has
 * highlight(id|null) and setHidden(Set<id>).
 */
export function panelLink(params, runs) {
    const prefixes = new Set((params.get('hide') || '').split(',').filter(Boolean));
    const hidden = new Set(runs.map((r) => r.info.run_id).filter((id) => prefixes.has(idPrefix(id))));
    const hl = params.get('hl') || '';
    let pinned = runs.find((r) => hl && idPrefix(r.info.run_id) === hl)?.info.run_id ?? null;
    let last = null; // the run last hovered, for a click that pins it
    const views = [];
    const rows = () => document.querySelectorAll('table.runs tr[data-run]');
    const mark = (id) => { for (const tr of rows()) tr.classList.toggle('lit', tr.dataset.run === id); };
    const link = {
        hidden,
        pinned: () => pinned,
        lastHover: () => last,
        isHidden: (id) => hidden.has(id),
        add(view) { views.push(view); view.setHidden?.(hidden); view.highlight(pinned); },
        hover(id) {
            if (id) last = id;
            const lit = id ?? pinned;
            for (const v of views) v.highlight(lit);
            mark(lit);
        },
        pin(id) {
            pinned = id;
            withParams({ hl: id ? idPrefix(id) : undefined }, { silent: true });
            link.hover(null);
        },
        toggle(id) {
            if (hidden.has(id)) hidden.delete(id); else hidden.add(id);
            withParams({ hide: [...hidden].map(idPrefix).join(',') || undefined }, { silent: true });
            for (const v of views) v.setHidden?.(hidden);
        },
    };
    queueMicrotask(() => mark(pinned));
    return link;
}

export { chartMetrics, parcoordsParams, parcoordsMetric };

/** A run's value of "params.k" / "metrics.k" as the axes read it. */
export function axisValue(run, key) {
    const i = key.indexOf('.');
    const item = (run.data?.[key.slice(0, i)] || []).find((x) => x.key === key.slice(i + 1));
    return item?.value;
}

/** Axes (makeAxis) for keys over runs. */
export function axesFor(keysList, runs) {
    return keysList.map((k) => makeAxis(k, k.slice(k.indexOf('.') + 1), new Map(runs.map((r) => [r.info.run_id, axisValue(r, k)]))));
}

/**
 * Draws panel (charts | parcoords) into box. runs: every run of the page;
 * shown: those the brushes pass (the table's rows). Returns nothing; the
 * panel registers itself with link.
 */
export function renderPanel(box, { panel, runs, shown, keys, params, brushes, link, ctx }) {
    if (panel === 'charts') chartsPanel(box, { shown, keys, params, link, ctx });
    else if (panel === 'parcoords') parcoordsPanel(box, { runs, keys, params, brushes, link });
}

function metricPicker(keys, chosen) {
    const set = new Set(chosen);
    const boxes = [...keys.metrics].sort().slice(0, 300).map((k) => h('label', {},
        h('input', { type: 'checkbox', checked: set.has(k), value: k }), ` ${k}`));
    const apply = h('button', { type: 'button', class: 'primary', onclick: () => {
        const picked = boxes.map((l) => l.firstChild).filter((b) => b.checked).map((b) => b.value);
        withParams({ cm: picked.length ? picked : undefined });
    } }, 'Apply');
    return h('details', { class: 'metric-pick' }, h('summary', {}, `Metrics (${chosen.length} of ${keys.metrics.size})`),
        h('div', { class: 'metric-pick-list' }, boxes, h('div', {}, apply)));
}

function chartsPanel(box, { shown, keys, params, link, ctx }) {
    const metrics = chartMetrics(params, keys);
    const xmode = ['step', 'wall', 'rel'].includes(params.get('x')) ? params.get('x') : 'step';
    const log = params.get('log') === '1';
    const controls = h('div', { class: 'chart-controls' },
        metricPicker(keys, metrics),
        h('label', {}, 'X axis ', h('select', { 'aria-label': 'x axis', onchange: (ev) => withParams({ x: ev.target.value === 'step' ? undefined : ev.target.value }, { replace: true }) },
            h('option', { value: 'step', selected: xmode === 'step' }, 'Step'),
            h('option', { value: 'wall', selected: xmode === 'wall' }, 'Wall time'),
            h('option', { value: 'rel', selected: xmode === 'rel' }, 'Relative time'))),
        h('label', {}, h('input', { type: 'checkbox', checked: log, onchange: (ev) => withParams({ log: ev.target.checked ? 1 : undefined }, { replace: true }) }), ' Log scale'),
        h('span', { class: 'muted' }, `${shown.length} runs; hover a row to highlight it, its swatch hides it, a click on a line pins it`));
    const grid = h('div', { class: 'chart-grid sweep-grid' });
    box.replaceChildren(controls, grid);
    if (!metrics.length) { grid.append(h('p', { class: 'empty' }, 'These runs have logged no metrics.')); return; }
    if (!shown.length) { grid.append(h('p', { class: 'empty' }, 'No run to draw.')); return; }
    const ids = shown.map((r) => r.info.run_id);
    const byId = new Map(shown.map((r) => [r.info.run_id, r]));
    const charts = new Map(); // key -> {chart, maxPoints}
    ctx.onCleanup(() => { for (const c of charts.values()) c.chart.dispose(); });
    // the panel is at the top of the page: every chart's histories are asked
    // for at once, before the table is drawn (the coarse reads in one request
    // per 100 runs for all the charts, the detailed ones per chart)
    const cards = metrics.map((key) => {
        const plot = h('div', { class: 'plot' }, h('div', { class: 'placeholder' }, 'Loading…'));
        const card = h('div', { class: 'chart-card', dataset: { metric: key } }, h('div', { class: 'chart-title', title: key }, key), plot);
        grid.append(card);
        return { key, plot, card };
    });
    const widths = cards.map(({ plot }) => chartPoints(plot)); // one layout for all of them
    // every chart's coarse read is drawn before any detailed read is sent: the
    // detailed ones would take the browser's connections, the server's threads
    // and its cores from the coarse reads of the charts still waiting
    const coarseReads = [];
    const coarseDrawn = () => Promise.allSettled(coarseReads);
    const sizes = cards.map(({ key }, i) => {
        const budget = Math.max(64, Math.min(widths[i], Math.round(POINT_BUDGET / ids.length)));
        return ids.length >= COARSE_RUNS ? overlayPoints(budget, lastStep(shown, key)) : budget;
    });
    const coarseKeys = cards.filter((_, i) => ids.length >= COARSE_RUNS && sizes[i] > COARSE_POINTS).map(({ key }) => key);
    prefetch(ids, coarseKeys, COARSE_POINTS); // one request per 100 runs for every coarse chart (unless app.js sent it)
    cards.forEach(({ key, plot, card }, i) => {
        const maxPoints = sizes[i];
        performance.mark(`exptrack:sweep-start:${key}`);
        let chart = null;
        const show = (datas, detailed) => {
            performance.mark(`exptrack:sweep-history:${key}${detailed ? '' : ':coarse'}`);
            if (!ctx.alive()) return;
            if (chart) { // the detail of a chart drawn from the coarse read
                chart.replaceAll(datas);
                card.dataset.points = String(ids.reduce((a, id) => a + (datas.get(id)?.value.length ?? 0), 0));
                card.dataset.detail = '1';
                return;
            }
            const series = ids.filter((id) => datas.get(id)?.value.length).map((id) => ({
                id, label: runName(byId.get(id)), color: runColor(id), data: datas.get(id),
            }));
            if (!series.length) { plot.replaceChildren(h('div', { class: 'placeholder' }, 'No points.')); return; }
            chart = overlay(plot, series, { xmode, log, onHover: (id) => link.hover(id) });
            chart.u.over.addEventListener('click', () => {
                if (chart.u.select?.width) return; // the end of a zoom drag
                link.pin(plot.querySelector('.sweep-tip:not([hidden])') ? link.lastHover() : null);
            });
            charts.set(key, { chart, maxPoints });
            // the state on the card too, for tests and for styles
            link.add({
                highlight: (id) => { chart.highlight(id); card.dataset.lit = id && series.some((x) => x.id === id) ? id : ''; },
                setHidden: (hid) => { chart.setHidden(hid); card.dataset.hidden = String(series.filter((x) => hid.has(x.id)).length); },
            });
            card.dataset.drawn = '1';
            card.dataset.series = String(series.length);
            card.dataset.points = String(series.reduce((a, x) => a + x.data.value.length, 0));
            if (detailed) card.dataset.detail = '1';
            performance.mark(`exptrack:sweep-drawn:${key}`);
        };
        const coarse = ids.length >= COARSE_RUNS && maxPoints > COARSE_POINTS;
        const first = coarse ? histories(ids, key, COARSE_POINTS).then((d) => show(d, false)) : Promise.resolve();
        coarseReads.push(first);
        first.then(coarseDrawn)
            .then(() => (ctx.alive() ? histories(ids, key, maxPoints) : null))
            .then((d) => { if (d) show(d, true); })
            .catch((e) => {
                if (!ctx.alive()) return;
                if (chart) plot.append(errorBox(e, 'History in detail')); else plot.replaceChildren(errorBox(e, 'History'));
            });
    });
    const running = shown.filter((r) => r.info.status === 'RUNNING').map((r) => r.info.run_id);
    if (running.length) followCharts(running, charts, ctx);
}

/** Live: the charts get the new points of the RUNNING runs that logged some. */
function followCharts(running, charts, ctx) {
    follow(running, ctx, async (batch) => {
        const moved = [...batch].filter(([, kinds]) => kinds.has('metrics')).map(([id]) => id);
        if (!moved.length) return;
        await Promise.all([...charts].map(async ([key, { chart, maxPoints }]) => {
            for (const id of moved) forgetKey(id, key);
            const datas = await histories(moved, key, maxPoints);
            if (!ctx.alive()) return;
            for (const id of moved) if (datas.get(id)?.value.length) chart.update(id, datas.get(id));
            const card = chart.u.root.closest('.chart-card');
            if (card) card.dataset.updated = String(Number(card.dataset.updated || 0) + 1);
        }));
    });
}

function parcoordsPanel(box, { runs, keys, params, brushes, link }) {
    const metric = parcoordsMetric(params, keys);
    // the params that vary across the runs, then the metric
    const varying = parcoordsParams(keys).map((k) => `params.${k}`)
        .filter((k) => new Set(runs.map((r) => axisValue(r, k))).size > 1).slice(0, MAX_AXES);
    const axisKeys = [...varying, ...(metric ? [`metrics.${metric}`] : [])];
    const controls = h('div', { class: 'chart-controls' },
        h('label', {}, 'Metric ', h('select', { 'aria-label': 'parallel coordinates metric', onchange: (ev) => withParams({ pm: ev.target.value }, { replace: true }) },
            ...[...keys.metrics].sort().map((k) => h('option', { value: k, selected: k === metric }, k)))),
        h('span', { class: 'muted' }, 'Drag along an axis to keep the runs in that range; click an axis to clear its brush. By keyboard: Tab to an axis, arrow keys move a brush, Shift+arrows widen it, Escape clears it.'));
    const plot = h('div', { class: 'parcoords' });
    box.replaceChildren(controls, plot);
    if (axisKeys.length < 2) {
        plot.append(h('p', { class: 'empty' }, 'Needs at least two axes: params that differ between these runs, or a metric.'));
        return;
    }
    const axes = axesFor(axisKeys, runs);
    const pc = parcoords(plot, {
        runs: runs.map((r) => ({ id: r.info.run_id, color: runColor(r.info.run_id) })),
        axes, brushes: new Map([...brushes].filter(([k]) => axisKeys.includes(k))),
        onBrush: (next) => {
            const keep = [...brushes].filter(([k]) => !axisKeys.includes(k)); // brushes of axes not drawn stay
            withParams({ brush: [...keep, ...next].map(([k, b]) => brushParam(k, b)), tok: undefined }, { replace: true });
        },
    });
    plot.dataset.axes = axisKeys.join(',');
    link.add({ highlight: (id) => { pc.highlight(id); plot.dataset.lit = id || ''; } });
}
