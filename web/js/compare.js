// Compare runs: a table of attributes, params and latest metrics (rows whose
// values differ are highlighted), one chart per metric with every run
// overlaid (each run keeps its color), and a param-vs-metric scatter plot.
// A run can be pinned as the baseline (base=<run id>): the table then shows
// every other run's numbers with their difference from the baseline's, and
// the charts draw the baseline's line wide.
// URL: #/compare?runs=a,b,c&x=..&log=1&smooth=..&diff=1&sx=<param>&sy=<metric>&base=<run id>
import uPlot from '../vendor/uplot/uPlot.esm.js';
import { mlflow, num } from './api.js';
import { h, href, withParams, fmtNum, fmtTime, fmtDuration, statusBadge, runName, runColor, errorBox } from './util.js';
import { draw, chartPoints, chartsReady } from './charts.js';
import { histories, forgetKey } from './history.js';
import { groupKeys, chartOptions } from './chart-options.js';
import { lazy } from './lazy.js';
import { chartControls } from './run.js';
import { follow } from './follow.js';

export async function render(root, { params }, ctx) {
    const ids = [...new Set((params.get('runs') || '').split(',').map((s) => s.trim()).filter(Boolean))];
    ctx.crumbs([{ text: 'Experiments', href: '#/experiments' }, { text: 'Compare' }]);
    if (!ids.length) {
        root.replaceChildren(h('div', { class: 'empty' }, 'No runs to compare: select some in a runs table.'));
        return;
    }
    const results = await Promise.allSettled(ids.map((id) => mlflow.get('/runs/get', { run_id: id })));
    if (!ctx.alive()) return;
    const runs = [], errors = [];
    results.forEach((r, i) => (r.status === 'fulfilled' ? runs.push(r.value.run) : errors.push(errorBox(r.reason, `Run ${ids[i]}`))));
    document.title = `Compare ${runs.length} runs · exptrack`;
    const expId = runs[0]?.info.experiment_id;
    if (expId !== undefined) ctx.crumbs([{ text: 'Experiments', href: '#/experiments' }, { text: 'Runs', href: href('/runs', { exp: expId }) }, { text: `Compare ${runs.length}` }]);

    const onlyDiff = params.get('diff') === '1';
    const baseId = runs.some((r) => r.info.run_id === params.get('base')) ? params.get('base') : null;
    const opts = chartOptions(params);
    const charts = [];
    ctx.onCleanup(() => charts.forEach((u) => u.dispose()));
    const chartsBox = h('div', { class: 'charts' });
    // group by a param or tag: each group drawn as its mean with a band
    const gb = params.get('gb') || '';
    const bandKind = params.get('band') === 'std' ? 'std' : 'minmax';
    const gbKeys = [
        ...[...new Set(runs.flatMap((r) => (r.data?.params || []).map((x) => x.key)))].sort().map((k) => `params.${k}`),
        ...[...new Set(runs.flatMap((r) => (r.data?.tags || []).map((x) => x.key)))].filter((k) => !k.startsWith('mlflow.')).sort().map((k) => `tags.${k}`),
    ];
    const groupOf = (r) => {
        const i = gb.indexOf('.');
        const v = (r.data?.[gb.slice(0, i)] || []).find((x) => x.key === gb.slice(i + 1))?.value;
        return v === undefined ? '(none)' : `${gb.slice(i + 1)}=${v}`;
    };
    const groupControls = h('div', { class: 'chart-controls' },
        h('label', {}, 'Group by ', h('select', { 'aria-label': 'group by', onchange: (ev) => withParams({ gb: ev.target.value || undefined }, { replace: true }) },
            h('option', { value: '' }, 'none (one line per run)'),
            ...gbKeys.map((k) => h('option', { value: k, selected: k === gb }, k)))),
        gb ? h('label', {}, 'Band ', h('select', { 'aria-label': 'band', onchange: (ev) => withParams({ band: ev.target.value === 'std' ? 'std' : undefined }, { replace: true }) },
            h('option', { value: 'minmax', selected: bandKind === 'minmax' }, 'min–max'),
            h('option', { value: 'std', selected: bandKind === 'std' }, 'mean ± std'))) : null);
    const scatterBox = h('div', { class: 'scatter' });
    root.replaceChildren(
        h('div', { class: 'page-head' }, h('h1', {}, `Comparing ${runs.length} runs`), h('span', { class: 'spacer' }),
            h('label', {}, h('input', { type: 'checkbox', checked: onlyDiff, onchange: (ev) => withParams({ diff: ev.target.checked ? 1 : undefined }, { replace: true }) }), ' Only differences')),
        ...errors,
        h('div', { class: 'table-wrap' }, compareTable(runs, onlyDiff, baseId)),
        h('section', { class: 'card' }, h('h2', {}, 'Scatter'), scatterBox),
        h('section', { class: 'charts-section' }, h('div', { class: 'section-head' }, h('h2', {}, 'Metrics'), chartControls(opts), groupControls), chartsBox));
    if (!runs.length) return;
    scatter(scatterBox, runs, params, charts);

    const keys = [...new Set(runs.flatMap((r) => (r.data?.metrics || []).map((m) => m.key)))];
    if (!keys.length) { chartsBox.append(h('p', { class: 'empty' }, 'These runs have logged no metrics.')); return; }
    const redrawers = new Map();
    if (runs.some((r) => r.info.status === 'RUNNING')) followRuns(runs, ctx, redrawers);
    for (const [group, gkeys] of groupKeys(keys)) {
        const grid = h('div', { class: 'chart-grid' });
        chartsBox.append(h('details', { class: 'chart-group', open: true }, h('summary', {}, group || 'Metrics', h('span', { class: 'muted' }, ` (${gkeys.length})`)), grid));
        for (const key of gkeys) {
            const plot = h('div', { class: 'plot' }, h('div', { class: 'placeholder' }, 'Chart appears when visible…'));
            const card = h('div', { class: 'chart-card', dataset: { metric: key } }, h('div', { class: 'chart-title' }, key), plot);
            grid.append(card);
            let u = null;
            const redraw = async () => {
                const maxPoints = chartPoints(plot);
                const has = runs.filter((r) => (r.data?.metrics || []).some((m) => m.key === key));
                const [datas] = await Promise.all([histories(has.map((r) => r.info.run_id), key, maxPoints), chartsReady()]);
                if (!ctx.alive()) return;
                const series = has.map((r) => ({
                    label: r.info.run_id === baseId ? `${runName(r)} (baseline)` : runName(r), color: runColor(r.info.run_id),
                    data: datas.get(r.info.run_id), emphasis: r.info.run_id === baseId,
                }));
                const groups = gb ? { of: (i) => groupOf(has[i]), kind: bandKind, color: (name) => runColor(name) } : null;
                if (u) { charts.splice(charts.indexOf(u), 1); u.dispose(); }
                u = draw(plot, series, { ...opts, sync: 'compare', groups });
                charts.push(u);
                card.dataset.drawn = '1';
                card.dataset.points = String(series.reduce((a, x) => a + x.data.value.length, 0));
            };
            redrawers.set(key, () => (u ? redraw() : Promise.resolve())); // live: only drawn charts
            lazy(plot, async () => {
                if (!ctx.alive()) return;
                try { await redraw(); } catch (e) { plot.replaceChildren(errorBox(e, 'History')); }
            });
        }
    }
}

/**
 * Follows the RUNNING runs (follow.js: the event stream, else a 2 s poll):
 * each round reads the runs that reported changes, and the drawn charts of
 * the metrics that moved are drawn again with only those runs' histories
 * fetched anew (the others come from the cache). Runs that stop running
 * stay followed until the page is left (their last points still arrive).
 */
function followRuns(runs, ctx, redrawers) {
    const sig = (m) => `${m.step}/${m.timestamp}/${m.value}`;
    const last = new Map(runs.map((r) => [r.info.run_id, new Map((r.data?.metrics || []).map((m) => [m.key, sig(m)]))]));
    const ids = runs.filter((r) => r.info.status === 'RUNNING').map((r) => r.info.run_id);
    follow(ids, ctx, async (batch) => {
        const keys = new Set();
        await Promise.all([...batch.keys()].map(async (id) => {
            const r = runs.find((x) => x.info.run_id === id);
            try {
                const fresh = (await mlflow.get('/runs/get', { run_id: id })).run;
                const before = last.get(id);
                for (const m of fresh.data?.metrics || []) {
                    if (before.get(m.key) === sig(m)) continue;
                    before.set(m.key, sig(m));
                    forgetKey(id, m.key);
                    keys.add(m.key);
                }
                r.info.status = fresh.info.status;
                r.data = fresh.data;
            } catch { /* the next round reads it again */ }
        }));
        if (!ctx.alive()) return;
        await Promise.all([...keys].map((k) => redrawers.get(k)?.().catch(() => {})));
    });
}

/**
 * "+0.0123 (+4.5%)": v's difference from the baseline's b, or '' when either
 * is not a finite number or they are equal (a row of "±0 (±0%)" only hides
 * the differences).
 */
export function deltaText(v, b) {
    const x = Number(v), y = Number(b);
    if (v === undefined || b === undefined || v === '' || b === '' || !Number.isFinite(x) || !Number.isFinite(y)) return '';
    const d = x - y;
    if (d === 0) return '';
    const sign = d > 0 ? '+' : '−';
    const pct = y !== 0 ? ` (${sign}${fmtNum(Math.abs(d / y) * 100 < 1e-4 ? 0 : Number((Math.abs(d / y) * 100).toPrecision(3)))}%)` : '';
    return `${sign}${fmtNum(Math.abs(d))}${pct}`;
}

function compareTable(runs, onlyDiff, baseId = null) {
    const baseIdx = runs.findIndex((r) => r.info.run_id === baseId);
    const pin = (r) => {
        const on = r.info.run_id === baseId;
        return h('button', {
            type: 'button', class: 'pin', 'aria-pressed': String(on), title: on ? 'unpin the baseline' : 'compare the others with this run',
            'aria-label': on ? `unpin ${runName(r)} as the baseline` : `pin ${runName(r)} as the baseline`,
            onclick: () => withParams({ base: on ? undefined : r.info.run_id }, { replace: true }),
        }, on ? 'baseline' : 'pin');
    };
    const head = h('tr', {}, h('th', {}, ''), ...runs.map((r, i) => h('th', { class: i === baseIdx ? 'baseline' : '' },
        h('span', { class: 'swatch', style: `background:${runColor(r.info.run_id)}` }),
        h('a', { href: href(`/run/${r.info.run_id}`) }, runName(r)), pin(r))));
    const rows = [];
    const section = (title) => rows.push(h('tr', { class: 'section' }, h('th', { colspan: runs.length + 1 }, title)));
    // numeric rows show each run's difference from the baseline after its value
    const add = (label, values, display = (v) => v ?? '', numeric = false) => {
        const distinct = new Set(values.map((v) => (v === undefined ? '\u0000none' : String(v))));
        const differs = distinct.size > 1;
        if (onlyDiff && !differs) return;
        rows.push(h('tr', { class: differs ? 'diff' : '' }, h('th', {}, label), ...values.map((v, i) => {
            const delta = numeric && baseIdx >= 0 && i !== baseIdx ? deltaText(v, values[baseIdx]) : '';
            return h('td', { class: i === baseIdx ? 'baseline' : '' }, display(v), delta ? h('span', { class: 'delta' }, delta) : null);
        })));
    };
    section('Run');
    add('Status', runs.map((r) => r.info.status), (v) => statusBadge(v));
    add('Started', runs.map((r) => r.info.start_time), fmtTime);
    add('Duration', runs.map((r) => (r.info.end_time ? r.info.end_time - r.info.start_time : undefined)), fmtDuration);
    const isNumber = (v) => v !== undefined && String(v).trim() !== '' && Number.isFinite(Number(v));
    const keysOf = (t) => [...new Set(runs.flatMap((r) => (r.data?.[t] || []).map((x) => x.key)))].sort();
    const val = (r, t, k) => (r.data?.[t] || []).find((x) => x.key === k)?.value;
    const pk = keysOf('params');
    if (pk.length) section('Parameters');
    for (const k of pk) {
        const vs = runs.map((r) => val(r, 'params', k));
        add(k, vs, undefined, vs.every((v) => v === undefined || isNumber(v)));
    }
    const mk = keysOf('metrics');
    if (mk.length) section('Metrics (latest)');
    for (const k of mk) add(k, runs.map((r) => { const v = val(r, 'metrics', k); return v === undefined ? undefined : num(v); }), fmtNum, true);
    const tk = keysOf('tags').filter((k) => !k.startsWith('mlflow.'));
    if (tk.length) section('Tags');
    for (const k of tk) add(k, runs.map((r) => val(r, 'tags', k)));
    return h('table', { class: 'grid compare' }, h('thead', {}, head), h('tbody', {}, ...rows));
}

/** A param (x) against a metric's latest value (y), one point per run. */
function scatter(box, runs, params, charts) {
    const pk = [...new Set(runs.flatMap((r) => (r.data?.params || []).map((x) => x.key)))].sort();
    const mk = [...new Set(runs.flatMap((r) => (r.data?.metrics || []).map((x) => x.key)))].sort();
    if (!pk.length || !mk.length) { box.append(h('p', { class: 'muted' }, 'Needs at least one param and one metric.')); return; }
    const varies = (k) => new Set(runs.map((r) => (r.data?.params || []).find((p) => p.key === k)?.value)).size > 1;
    const sx = pk.includes(params.get('sx')) ? params.get('sx') : (pk.find(varies) ?? pk[0]);
    const sy = mk.includes(params.get('sy')) ? params.get('sy') : mk[0];
    const sel = (name, list, cur) => h('select', { 'aria-label': name, onchange: (ev) => withParams({ [name]: ev.target.value }, { replace: true }) },
        ...list.map((k) => h('option', { value: k, selected: k === cur }, k)));
    const plot = h('div', { class: 'plot' });
    box.append(h('div', { class: 'chart-controls' }, h('label', {}, 'Param ', sel('sx', pk, sx)), h('label', {}, 'Metric ', sel('sy', mk, sy))), plot);
    const pts = runs.map((r) => ({
        r, x: (r.data?.params || []).find((p) => p.key === sx)?.value,
        y: num((r.data?.metrics || []).find((m) => m.key === sy)?.value ?? NaN),
    })).filter((p) => p.x !== undefined && Number.isFinite(p.y));
    const numeric = pts.every((p) => p.x.trim() !== '' && Number.isFinite(Number(p.x)));
    const cats = numeric ? null : [...new Set(pts.map((p) => p.x))].sort();
    const xv = (p) => (numeric ? Number(p.x) : cats.indexOf(p.x));
    pts.sort((a, b) => xv(a) - xv(b));
    const xs = [...new Set(pts.map(xv))];
    const data = [xs, ...pts.map((p) => xs.map((x) => (x === xv(p) ? p.y : null)))];
    const u = new uPlot({
        width: Math.max(300, box.clientWidth || 600), height: 240,
        legend: { show: false },
        scales: { x: { time: false, range: (u, mn, mx) => (mn === mx ? [mn - 1, mx + 1] : [mn - (mx - mn) * 0.05, mx + (mx - mn) * 0.05]) } },
        axes: [{ label: sx, values: cats ? (u, v) => v.map((i) => cats[i] ?? '') : undefined }, { label: sy, size: 60 }],
        series: [{}, ...pts.map((p) => ({ label: runName(p.r), stroke: runColor(p.r.info.run_id), fill: runColor(p.r.info.run_id), paths: () => null, points: { show: true, size: 9 } }))],
    }, data, plot);
    u.dispose = () => u.destroy();
    charts.push(u);
}
