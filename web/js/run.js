// One run: overview, params, tags, latest metrics, datasets, and a chart per
// metric grouped by the prefix before '/', drawn as they scroll into view;
// the run's traces (source run or linked by link-to-run) and a link to all of
// them (the Traces tab filtered by run_id).
// URL: #/run/<id>?x=step|wall|rel&log=1&smooth=0.6
// While the run is RUNNING the page follows it (follow.js: the server's event
// stream, else a 2 s poll): new points are fetched per drawn chart from the
// last step on and appended; params, tags and latest metrics are refreshed
// in place; a new status or new metric keys render the page again.
import { mlflow, mlflow3, num } from './api.js';
import {
    h, href, withParams, fmtTime, relTime, fmtDuration, fmtNum, statusBadge, runName, tagValue, errorBox, runColor,
} from './util.js';
import { draw, chartPoints, chartsReady } from './charts.js';
import { history, historyAfter, remember, forgetKey } from './history.js';
import { concatSeries } from './series.js';
import { groupKeys, chartOptions } from './chart-options.js';
import { lazy } from './lazy.js';
import { artifactBrowser } from './artifacts.js';
import { follow } from './follow.js';

/** The x-axis / log / smoothing controls, written back to the URL. */
export function chartControls({ xmode, log, smoothing }) {
    const smoothOut = h('output', {}, smoothing.toFixed(2));
    const slider = h('input', { type: 'range', min: 0, max: 0.99, step: 0.01, value: smoothing, 'aria-label': 'smoothing' });
    slider.addEventListener('input', () => { smoothOut.textContent = Number(slider.value).toFixed(2); });
    slider.addEventListener('change', () => withParams({ smooth: Number(slider.value) || undefined }, { replace: true }));
    return h('div', { class: 'chart-controls' },
        h('label', {}, 'X axis ', h('select', { 'aria-label': 'x axis', onchange: (ev) => withParams({ x: ev.target.value === 'step' ? undefined : ev.target.value }, { replace: true }) },
            h('option', { value: 'step', selected: xmode === 'step' }, 'Step'),
            h('option', { value: 'wall', selected: xmode === 'wall' }, 'Wall time'),
            h('option', { value: 'rel', selected: xmode === 'rel' }, 'Relative time'))),
        h('label', {}, h('input', { type: 'checkbox', checked: log, 'aria-label': 'log scale', onchange: (ev) => withParams({ log: ev.target.checked ? 1 : undefined }, { replace: true }) }), ' Log scale'),
        h('label', {}, 'Smoothing ', slider, ' ', smoothOut));
}

function kvTable(rows, cls = '') {
    if (!rows.length) return h('p', { class: 'muted' }, 'None.');
    return h('table', { class: `kv ${cls}` }, h('tbody', {}, ...rows.map(([k, v, title]) => h('tr', {}, h('th', {}, k), h('td', { title: title || '' }, v)))));
}

const SYSTEM_TAG = /^mlflow\./;

/** early.run: the runs/get request app.js started with the page, if any. */
export async function render(root, { parts, params, early }, ctx) {
    const runId = parts[1];
    let run;
    try {
        run = (await (early?.run ?? mlflow.get('/runs/get', { run_id: runId }))).run;
    } catch (e) {
        if (!ctx.alive()) return;
        ctx.crumbs([{ text: 'Experiments', href: '#/experiments' }, { text: runId }]);
        root.replaceChildren(errorBox(e, 'Could not load the run'));
        return;
    }
    if (!ctx.alive()) return;
    const info = run.info;
    // the experiment's name arrives while the page (and its first charts) load
    const expLink = h('a', { href: href('/runs', { exp: info.experiment_id }), class: 'exp-name' }, info.experiment_id);
    const name = runName(run);
    const crumbs = (expName) => ctx.crumbs([{ text: 'Experiments', href: '#/experiments' },
        { text: expName, href: href('/runs', { exp: info.experiment_id }) }, { text: name }]);
    crumbs(`#${info.experiment_id}`);
    mlflow.get('/experiments/get', { experiment_id: info.experiment_id }).then((r) => {
        if (!ctx.alive()) return;
        expLink.textContent = r.experiment.name;
        expLink.dataset.loaded = '1';
        crumbs(r.experiment.name);
    }, () => { expLink.dataset.loaded = '1'; });
    document.title = `${name} · exptrack`;

    const metrics = (run.data?.metrics || []).slice().sort((a, b) => a.key.localeCompare(b.key));
    const end = info.end_time || (info.status === 'RUNNING' ? Date.now() : 0);
    const commit = tagValue(run, 'mlflow.source.git.commit');
    const msg = h('div', { class: 'status-line' });
    const lifecycle = info.lifecycle_stage === 'deleted'
        ? h('button', { onclick: () => act(msg, () => mlflow.post('/runs/restore', { run_id: runId })) }, 'Restore')
        : h('button', { class: 'danger', onclick: () => { if (confirm('Delete this run? It can be restored.')) act(msg, () => mlflow.post('/runs/delete', { run_id: runId })); } }, 'Delete');

    const overview = kvTable([
        ['Run ID', h('code', {}, info.run_id)],
        ['Experiment', expLink],
        ['Status', statusBadge(info.status)],
        // "(3 h ago)" beside the time; a month or more ago relTime gives the date, already there
        ['Started', h('span', {}, fmtTime(info.start_time), /ago$|now$/.test(relTime(info.start_time)) ? [' ', h('span', { class: 'muted' }, `(${relTime(info.start_time)})`)] : null)],
        ['Ended', info.end_time ? fmtTime(info.end_time) : h('span', { class: 'muted' }, '—')],
        ['Duration', info.start_time && end ? fmtDuration(end - info.start_time) : ''],
        ['User', info.user_id || tagValue(run, 'mlflow.user') || ''],
        ['Source', tagValue(run, 'mlflow.source.name') || ''],
        ['Git commit', commit ? h('code', {}, commit.slice(0, 12)) : '', commit],
        ['Lifecycle', info.lifecycle_stage],
        ['Artifact URI', info.artifact_uri || ''],
    ], 'overview');
    const note = tagValue(run, 'mlflow.note.content');
    const paramsCard = h('section', { class: 'card' });
    const tagsCard = h('section', { class: 'card' });
    fillParams(paramsCard, run);
    fillTags(tagsCard, run);
    const datasets = run.inputs?.dataset_inputs || [];
    const modelsCard = h('section', { class: 'card run-models' }, h('h2', {}, 'Models'), h('p', { class: 'muted' }, 'Loading…'));
    const tracesCard = h('section', { class: 'card run-trace-list', hidden: true }, h('h2', {}, 'Traces'), h('p', { class: 'muted' }, 'Loading…'));

    const latestTable = (ms) => kvTable(ms.map((m) => [m.key, h('span', {}, fmtNum(num(m.value)), h('span', { class: 'muted' }, ` @ step ${m.step ?? 0}`)), `${m.value} at ${fmtTime(m.timestamp)}`]), 'metrics');
    const latestBox = h('div', {}, latestTable(metrics));
    const live = info.status === 'RUNNING' && info.lifecycle_stage !== 'deleted';
    const opts = chartOptions(params);
    const chartsBox = h('div', { class: 'charts' });
    const artifactsBox = h('div', { class: 'artifacts' }, h('p', { class: 'muted' }, 'Listed when scrolled into view…'));
    root.replaceChildren(...[
        h('div', { class: 'page-head' }, h('h1', {}, name), statusBadge(info.status),
            live ? h('span', { class: 'live', title: 'updates while the run is running' }, 'live') : null, h('span', { class: 'spacer' }),
            h('a', { class: 'button run-traces', href: href('/traces', { exp: info.experiment_id, filter: `run_id = '${runId}'` }) }, 'Traces'),
            h('a', { class: 'button', href: href('/compare', { runs: runId }) }, 'Compare…'), lifecycle),
        msg,
        note ? h('p', { class: 'note' }, note) : null,
        h('div', { class: 'run-grid' },
            h('section', { class: 'card' }, h('h2', {}, 'Overview'), overview),
            paramsCard,
            h('section', { class: 'card' }, h('h2', {}, `Latest metrics (${metrics.length})`), latestBox),
            tagsCard,
            datasets.length ? h('section', { class: 'card' }, h('h2', {}, `Datasets (${datasets.length})`),
                kvTable(datasets.map((d) => [d.dataset?.name ?? '?', `${d.dataset?.digest ?? ''} ${d.dataset?.source_type ?? ''}`,
                    (d.tags || []).map((t) => `${t.key}=${t.value}`).join(', ')]))) : null,
            modelsCard, tracesCard),
        h('section', { class: 'charts-section' }, h('div', { class: 'section-head' }, h('h2', {}, `Charts (${metrics.length})`), chartControls(opts)), chartsBox),
        h('section', { class: 'card artifacts-section' }, h('h2', {}, 'Artifacts'), artifactsBox),
    ].filter(Boolean));

    if (!metrics.length) chartsBox.append(h('p', { class: 'empty' }, 'This run has logged no metrics.'));
    const color = runColor(runId);
    const charts = new Set();
    const updaters = new Map(); // metric key -> update() of a drawn chart
    ctx.onCleanup(() => charts.forEach((u) => u.dispose()));
    for (const [group, keys] of groupKeys(metrics.map((m) => m.key))) {
        const grid = h('div', { class: 'chart-grid' });
        chartsBox.append(h('details', { class: 'chart-group', open: true }, h('summary', {}, group || 'Metrics', h('span', { class: 'muted' }, ` (${keys.length})`)), grid));
        for (const key of keys) {
            const plot = h('div', { class: 'plot' }, h('div', { class: 'placeholder' }, 'Chart appears when visible…'));
            const card = h('div', { class: 'chart-card', dataset: { metric: key } }, h('div', { class: 'chart-title', title: key }, key), plot);
            grid.append(card);
            lazy(plot, () => metricChart({ runId, key, plot, card, color, opts, ctx, charts, updaters }));
        }
    }
    // the run's logged models and registered versions (logged-models.js), after the first charts
    lazy(modelsCard, () => import('./logged-models.js').then((m) => m.runModelsCard(modelsCard, run, ctx)).catch((e) => {
        if (ctx.alive()) modelsCard.replaceChildren(h('h2', {}, 'Models'), errorBox(e, 'Models'));
    }));
    runTraces(tracesCard, info, ctx); // one small search; not lazy: the card is in the first screen's grid
    // below the charts, and registered after them so the first charts' history requests go first
    lazy(artifactsBox, () => { if (ctx.alive()) artifactBrowser(artifactsBox, runId, ctx); });
    if (live) {
        const badge = root.querySelector('.page-head .live');
        const state = { runId, run, ctx, latestBox, latestTable, paramsCard, tagsCard, updaters }; // run: the last one read
        const f = follow([runId], ctx, (batch) => liveUpdate(batch.get(runId), state));
        f.mode.then((m) => { if (badge) { badge.dataset.mode = m; badge.title = m === 'stream' ? 'updates as the server reports them' : 'updates every 2 s'; } });
    }
}

const RUN_TRACES = 10;

/**
 * The run's newest traces in its experiment (traces/search, filter
 * run_id = '<run>': the traces it is the source run of and those linked to
 * it by link-to-run), each marked as which, and a link to all of them.
 */
async function runTraces(card, info, ctx) {
    const runId = info.run_id;
    const all = href('/traces', { exp: info.experiment_id, filter: `run_id = '${runId}'` });
    let res;
    try {
        res = await mlflow3.post('/traces/search', { locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: info.experiment_id } }],
            filter: `run_id = '${runId}'`, max_results: RUN_TRACES });
    } catch (e) {
        if (ctx.alive()) card.replaceChildren(h('h2', {}, 'Traces'), errorBox(e, 'The run\'s traces could not be read'));
        return;
    }
    if (!ctx.alive()) return;
    const traces = res.traces || [];
    card.dataset.count = String(traces.length);
    card.hidden = !traces.length; // most runs have none: no empty card in the grid
    card.replaceChildren(...[h('h2', {}, 'Traces'), traces.length ? h('table', { class: 'kv run-traces-table' }, h('tbody', {}, traces.map((t) => {
        const when = Date.parse(t.request_time);
        const source = t.trace_metadata?.['mlflow.sourceRun'] === runId;
        return h('tr', { dataset: { trace: t.trace_id } },
            h('th', {}, h('a', { class: 'trace-link', href: href(`/trace/${t.trace_id}`) }, t.tags?.['mlflow.traceName'] || t.trace_id)),
            h('td', {}, h('span', { class: `badge trace-state state-${(t.state || 'STATE_UNSPECIFIED').toLowerCase()}` }, t.state === 'IN_PROGRESS' ? 'IN PROGRESS' : t.state || '?'),
                ' ', h('span', { class: 'muted', title: fmtTime(when) }, relTime(when)),
                ' ', h('span', { class: 'muted trace-kind' }, source ? 'source run' : 'linked')));
    }))) : h('p', { class: 'muted' }, 'No traces name this run.'),
    res.next_page_token || traces.length ? h('p', {}, h('a', { href: all }, res.next_page_token ? 'All traces of this run →' : 'In the Traces tab →')) : null].filter(Boolean));
}

function fillParams(card, run) {
    const ps = (run.data?.params || []).slice().sort((a, b) => a.key.localeCompare(b.key));
    card.replaceChildren(h('h2', {}, `Parameters (${ps.length})`), kvTable(ps.map((p) => [p.key, p.value]), 'params'));
}

function fillTags(card, run) {
    const tags = run.data?.tags || [];
    const userTags = tags.filter((t) => !SYSTEM_TAG.test(t.key)).sort((a, b) => a.key.localeCompare(b.key));
    const sysTags = tags.filter((t) => SYSTEM_TAG.test(t.key)).sort((a, b) => a.key.localeCompare(b.key));
    card.replaceChildren(h('h2', {}, `Tags (${userTags.length})`), kvTable(userTags.map((t) => [t.key, t.value]), 'tags'),
        ...(sysTags.length ? [h('details', {}, h('summary', {}, `System tags (${sysTags.length})`), kvTable(sysTags.map((t) => [t.key, t.value])))] : []));
}

/**
 * One metric's chart, drawn once when it scrolls into view from the
 * server's history downsampled to the chart's pixel width. Registers an
 * update() for live runs that appends the points after the last drawn step
 * (or, when the series is downsampled or the new points would not fit,
 * fetches the downsampled history again).
 */
async function metricChart({ runId, key, plot, card, color, opts, ctx, charts, updaters }) {
    if (!ctx.alive()) return;
    const points = chartPoints(plot); // read the width before writing: one layout, not two
    plot.firstChild.textContent = 'Loading…';
    let u = null, series = null;
    const show = (data) => {
        series = data;
        if (!data.value.length) { plot.replaceChildren(h('div', { class: 'placeholder' }, 'No points.')); return; }
        if (u) { charts.delete(u); u.dispose(); }
        u = draw(plot, [{ label: key, color, data }], { ...opts, sync: `run-${runId}` });
        charts.add(u);
        card.dataset.drawn = '1';
        card.dataset.points = String(data.value.length);
        card.dataset.x = opts.xmode;
    };
    const full = async () => {
        forgetKey(runId, key);
        const [data] = await Promise.all([history(runId, key, points), chartsReady()]);
        if (ctx.alive()) show(data);
    };
    updaters.set(key, async () => {
        if (!series) return;
        const n = series.value.length;
        if (n && (series.total ?? n) <= n) { // whole: append what came after the last step
            const d = await historyAfter(runId, key, series.step[n - 1]);
            if (!ctx.alive()) return;
            if (d.complete && n + d.series.value.length <= points) {
                if (!d.series.value.length) return;
                const next = concatSeries(series, d.series);
                remember(runId, key, points, next);
                show(next);
                return;
            }
        }
        await full();
    });
    try {
        performance.mark(`exptrack:history:${key}`);
        // the request first, then uPlot (fetched since the page started) evaluated while it runs
        const [data] = await Promise.all([history(runId, key, points), chartsReady()]);
        if (ctx.alive()) show(data);
        performance.mark(`exptrack:drawn:${key}`);
    } catch (e) { plot.replaceChildren(errorBox(e, 'History')); }
}

const PARALLEL = 4; // chart updates in flight at once

/**
 * One round of live updates for the run: reads it once, re-renders the page
 * on a new status or new metric keys, refreshes params, tags and the latest
 * metrics in place, and updates the drawn charts of metrics that moved.
 */
async function liveUpdate(kinds, s) {
    if (!kinds || !s.ctx.alive()) return;
    if (kinds.has('deleted') || kinds.has('restored')) { window.dispatchEvent(new HashChangeEvent('hashchange')); return; }
    const fresh = (await mlflow.get('/runs/get', { run_id: s.runId })).run;
    if (!s.ctx.alive()) return;
    const sig = (m) => `${m.step}/${m.timestamp}/${m.value}`;
    const before = new Map((s.run.data?.metrics || []).map((m) => [m.key, sig(m)]));
    const ms = (fresh.data?.metrics || []).slice().sort((a, b) => a.key.localeCompare(b.key));
    if (fresh.info.status !== s.run.info.status || fresh.info.lifecycle_stage !== s.run.info.lifecycle_stage
        || ms.some((m) => !before.has(m.key))) {
        window.dispatchEvent(new HashChangeEvent('hashchange'));
        return;
    }
    const kv = (list) => JSON.stringify((list || []).map((x) => [x.key, x.value]).sort());
    if (kv(fresh.data?.params) !== kv(s.run.data?.params)) fillParams(s.paramsCard, fresh);
    if (kv(fresh.data?.tags) !== kv(s.run.data?.tags)) fillTags(s.tagsCard, fresh);
    const changed = ms.filter((m) => before.get(m.key) !== sig(m)).map((m) => m.key);
    s.run = fresh;
    if (!changed.length) return;
    s.latestBox.replaceChildren(s.latestTable(ms));
    const todo = changed.filter((k) => s.updaters.has(k));
    const worker = async () => {
        while (todo.length) {
            const k = todo.shift();
            try { await s.updaters.get(k)(); } catch (e) { console.warn(`live update of ${k}`, e); }
        }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL, todo.length) }, worker));
}

async function act(msg, fn) {
    try { await fn(); window.dispatchEvent(new HashChangeEvent('hashchange')); } catch (e) { msg.replaceChildren(errorBox(e)); }
}
