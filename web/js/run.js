// One run: overview, params, tags, latest metrics, datasets, and a chart per
// metric grouped by the prefix before '/', drawn as they scroll into view.
// URL: #/run/<id>?x=step|wall|rel&log=1&smooth=0.6
import { mlflow, num } from './api.js';
import {
    h, href, withParams, fmtTime, relTime, fmtDuration, fmtNum, statusBadge, runName, tagValue, errorBox, runColor,
} from './util.js';
import { history, forget, draw, lazy, groupKeys, chartOptions } from './charts.js';
import { artifactBrowser } from './artifacts.js';

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

export async function render(root, { parts, params }, ctx) {
    const runId = parts[1];
    let run;
    try {
        run = (await mlflow.get('/runs/get', { run_id: runId })).run;
    } catch (e) {
        if (!ctx.alive()) return;
        ctx.crumbs([{ text: 'Experiments', href: '#/experiments' }, { text: runId }]);
        root.replaceChildren(errorBox(e, 'Could not load the run'));
        return;
    }
    if (!ctx.alive()) return;
    const info = run.info;
    const exp = await mlflow.get('/experiments/get', { experiment_id: info.experiment_id }).then((r) => r.experiment).catch(() => null);
    if (!ctx.alive()) return;
    const name = runName(run);
    ctx.crumbs([{ text: 'Experiments', href: '#/experiments' },
        { text: exp?.name ?? `#${info.experiment_id}`, href: href('/runs', { exp: info.experiment_id }) }, { text: name }]);
    document.title = `${name} · exptrack`;

    const tags = run.data?.tags || [];
    const params_ = (run.data?.params || []).slice().sort((a, b) => a.key.localeCompare(b.key));
    const metrics = (run.data?.metrics || []).slice().sort((a, b) => a.key.localeCompare(b.key));
    const end = info.end_time || (info.status === 'RUNNING' ? Date.now() : 0);
    const commit = tagValue(run, 'mlflow.source.git.commit');
    const msg = h('div', { class: 'status-line' });
    const lifecycle = info.lifecycle_stage === 'deleted'
        ? h('button', { onclick: () => act(msg, () => mlflow.post('/runs/restore', { run_id: runId })) }, 'Restore')
        : h('button', { class: 'danger', onclick: () => { if (confirm('Delete this run? It can be restored.')) act(msg, () => mlflow.post('/runs/delete', { run_id: runId })); } }, 'Delete');

    const overview = kvTable([
        ['Run ID', h('code', {}, info.run_id)],
        ['Experiment', h('a', { href: href('/runs', { exp: info.experiment_id }) }, exp?.name ?? info.experiment_id)],
        ['Status', statusBadge(info.status)],
        ['Started', h('span', {}, fmtTime(info.start_time), ' ', h('span', { class: 'muted' }, `(${relTime(info.start_time)})`))],
        ['Ended', info.end_time ? fmtTime(info.end_time) : h('span', { class: 'muted' }, '—')],
        ['Duration', info.start_time && end ? fmtDuration(end - info.start_time) : ''],
        ['User', info.user_id || tagValue(run, 'mlflow.user') || ''],
        ['Source', tagValue(run, 'mlflow.source.name') || ''],
        ['Git commit', commit ? h('code', {}, commit.slice(0, 12)) : '', commit],
        ['Lifecycle', info.lifecycle_stage],
        ['Artifact URI', info.artifact_uri || ''],
    ], 'overview');
    const note = tagValue(run, 'mlflow.note.content');
    const userTags = tags.filter((t) => !SYSTEM_TAG.test(t.key)).sort((a, b) => a.key.localeCompare(b.key));
    const sysTags = tags.filter((t) => SYSTEM_TAG.test(t.key)).sort((a, b) => a.key.localeCompare(b.key));
    const datasets = run.inputs?.dataset_inputs || [];

    const latestTable = (ms) => kvTable(ms.map((m) => [m.key, h('span', {}, fmtNum(num(m.value)), h('span', { class: 'muted' }, ` @ step ${m.step ?? 0}`)), `${m.value} at ${fmtTime(m.timestamp)}`]), 'metrics');
    const latestBox = h('div', {}, latestTable(metrics));
    const live = info.status === 'RUNNING' && info.lifecycle_stage !== 'deleted';
    const opts = chartOptions(params);
    const chartsBox = h('div', { class: 'charts' });
    const artifactsBox = h('div', { class: 'artifacts' }, h('p', { class: 'muted' }, 'Loading…'));
    root.replaceChildren(...[
        h('div', { class: 'page-head' }, h('h1', {}, name), statusBadge(info.status),
            live ? h('span', { class: 'live', title: 'updates every 2 s while the run is running' }, 'live') : null, h('span', { class: 'spacer' }),
            h('a', { class: 'button', href: href('/compare', { runs: runId }) }, 'Compare…'), lifecycle),
        msg,
        note ? h('p', { class: 'note' }, note) : null,
        h('div', { class: 'run-grid' },
            h('section', { class: 'card' }, h('h2', {}, 'Overview'), overview),
            h('section', { class: 'card' }, h('h2', {}, `Parameters (${params_.length})`), kvTable(params_.map((p) => [p.key, p.value]), 'params')),
            h('section', { class: 'card' }, h('h2', {}, `Latest metrics (${metrics.length})`), latestBox),
            h('section', { class: 'card' }, h('h2', {}, `Tags (${userTags.length})`), kvTable(userTags.map((t) => [t.key, t.value]), 'tags'),
                sysTags.length ? h('details', {}, h('summary', {}, `System tags (${sysTags.length})`), kvTable(sysTags.map((t) => [t.key, t.value]))) : null),
            datasets.length ? h('section', { class: 'card' }, h('h2', {}, `Datasets (${datasets.length})`),
                kvTable(datasets.map((d) => [d.dataset?.name ?? '?', `${d.dataset?.digest ?? ''} ${d.dataset?.source_type ?? ''}`,
                    (d.tags || []).map((t) => `${t.key}=${t.value}`).join(', ')]))) : null),
        h('section', { class: 'charts-section' }, h('div', { class: 'section-head' }, h('h2', {}, `Charts (${metrics.length})`), chartControls(opts)), chartsBox),
        h('section', { class: 'card artifacts-section' }, h('h2', {}, 'Artifacts'), artifactsBox),
    ].filter(Boolean));
    artifactBrowser(artifactsBox, runId, ctx);

    if (!metrics.length) chartsBox.append(h('p', { class: 'empty' }, 'This run has logged no metrics.'));
    const color = runColor(runId);
    const charts = [];
    const drawn = new Map(); // metric key -> redraw()
    ctx.onCleanup(() => charts.forEach((u) => u.dispose()));
    if (live) watch(runId, metrics, info.status, ctx, (ms) => latestBox.replaceChildren(latestTable(ms)), drawn);
    for (const [group, keys] of groupKeys(metrics.map((m) => m.key))) {
        const grid = h('div', { class: 'chart-grid' });
        chartsBox.append(h('details', { class: 'chart-group', open: true }, h('summary', {}, group || 'Metrics', h('span', { class: 'muted' }, ` (${keys.length})`)), grid));
        for (const key of keys) {
            const plot = h('div', { class: 'plot' }, h('div', { class: 'placeholder' }, 'Chart appears when visible…'));
            const card = h('div', { class: 'chart-card', dataset: { metric: key } }, h('div', { class: 'chart-title', title: key }, key), plot);
            grid.append(card);
            lazy(plot, async () => {
                if (!ctx.alive()) return;
                plot.firstChild.textContent = 'Loading…';
                let u = null;
                const redraw = async () => {
                    const maxPoints = Math.max(400, Math.round((plot.clientWidth || 400) * 2));
                    const data = await history(runId, key, maxPoints);
                    if (!ctx.alive()) return;
                    if (!data.value.length) { plot.replaceChildren(h('div', { class: 'placeholder' }, 'No points.')); return; }
                    if (u) { charts.splice(charts.indexOf(u), 1); u.dispose(); }
                    u = draw(plot, [{ label: key, color, data }], { ...opts, sync: `run-${runId}` });
                    charts.push(u);
                    card.dataset.drawn = '1';
                    card.dataset.points = String(data.value.length);
                    card.dataset.x = opts.xmode;
                };
                drawn.set(key, redraw);
                try { await redraw(); } catch (e) { plot.replaceChildren(errorBox(e, 'History')); }
            });
        }
    }
}

/**
 * While the run is RUNNING: polls it every interval ms; metrics whose latest
 * point moved have their drawn charts fetched and drawn again, the latest
 * table refreshed; a new status or new metric keys render the page again.
 */
function watch(runId, metrics, status, ctx, onMetrics, drawn, interval = 2000) {
    let last = new Map(metrics.map((m) => [m.key, `${m.step}/${m.timestamp}/${m.value}`]));
    let timer;
    const tick = async () => {
        if (!ctx.alive()) return;
        try {
            const run = (await mlflow.get('/runs/get', { run_id: runId })).run;
            if (!ctx.alive()) return;
            const ms = (run.data?.metrics || []).slice().sort((a, b) => a.key.localeCompare(b.key));
            if (run.info.status !== status || ms.some((m) => !last.has(m.key))) {
                window.dispatchEvent(new HashChangeEvent('hashchange'));
                return;
            }
            const changed = ms.filter((m) => last.get(m.key) !== `${m.step}/${m.timestamp}/${m.value}`);
            if (changed.length) {
                last = new Map(ms.map((m) => [m.key, `${m.step}/${m.timestamp}/${m.value}`]));
                onMetrics(ms);
                forget(runId);
                await Promise.all(changed.map((m) => drawn.get(m.key)?.().catch(() => {})));
            }
        } catch { /* a missed poll is retried at the next tick */ }
        if (ctx.alive()) timer = setTimeout(tick, interval);
    };
    timer = setTimeout(tick, interval);
    ctx.onCleanup(() => clearTimeout(timer));
}

async function act(msg, fn) {
    try { await fn(); window.dispatchEvent(new HashChangeEvent('hashchange')); } catch (e) { msg.replaceChildren(errorBox(e)); }
}
