// The runs table of one or more experiments. URL state: exp (ids, repeated
// or comma-separated), filter, order ("<identifier> ASC|DESC"), col (chosen
// columns like "metrics.loss", repeated), size, tok (page token), view
// (active|deleted|all). Sorting and filtering are the server's (order_by,
// MLflow filter language); its errors are shown under the filter box.
// panel (charts|parcoords) opens a view of the page's runs above the table
// (runs-panel.js; pages are then 500 runs unless size says otherwise), and
// brush (key:lo:hi, repeated; drawn on the parallel coordinates) keeps the
// rows whose values lie in every brushed range. An experiment without runs
// shows how to log the first one (first-run.js).
// This module reads the URL, sends the requests and lays the page out; the
// toolbar, table, bulk actions, keyboard and pager are modules of their own.
import { mlflow } from './api.js';
import { h, withParams, fmtNum, errorBox } from './util.js';
import { pageKeys, defaultCols } from './runs-columns.js';
import { PAGE_SIZES, PANELS, pageState, searchRuns } from './runs-query.js';
import { toolbar, showSearchError, buildPicker } from './runs-toolbar.js';
import { tableHead, cellValues, drawEmpty, drawRows } from './runs-table.js';
import { canPurge, bulkActions } from './runs-bulk.js';
import { drawPager } from './runs-pager.js';
import { brushFilter, makeAxis, brushParam } from './parcoords.js';

/** early.runs: the search app.js started with the page (runs-query.js), if any; early.keys: its keys request. */
export async function render(root, { params, early }, ctx) {
    const { ids, filter, order, panel, size, brushes, tok, viewName, explicitCols } = pageState(params);
    if (!ids.length) {
        root.replaceChildren(h('div', { class: 'empty' }, 'No experiment chosen. ', h('a', { href: '#/experiments' }, 'Pick one.')));
        return;
    }
    const panelMod = panel ? import('./runs-panel.js') : null;

    // the experiments' names, and in parallel the distinct keys (column
    // picker and default columns) and then the runs with those columns
    const expsPromise = Promise.all(ids.map((id) => mlflow.get('/experiments/get', { experiment_id: id })
        .then((r) => r.experiment).catch(() => ({ experiment_id: id, name: `#${id}` }))));
    const purgePromise = viewName === 'deleted' ? canPurge() : Promise.resolve(false);
    const searched = early?.runs ?? searchRuns(params, early?.keys);
    const exps = await expsPromise;
    if (!ctx.alive()) return;
    const title = exps.map((e) => e.name).join(', ');
    ctx.crumbs([{ text: 'Experiments', href: '#/experiments' }, { text: title }]);
    document.title = `${title} · exptrack`;

    const bar = toolbar({ filter, viewName });
    const status = h('div', { class: 'status-line', role: 'status' }, 'Loading runs…');
    const actions = h('div', { class: 'bulk' });
    const table = h('table', { class: 'grid runs' });
    const tableWrap = h('div', { class: 'table-wrap' }, table);
    const pager = h('div', { class: 'pager' });
    const brushBar = h('div', { class: 'brush-bar', hidden: !brushes.size });
    const panelBox = h('section', { class: `runs-panel panel-${panel || 'none'}`, hidden: !panel, 'aria-label': panel || 'panel' });
    const tabs = h('span', { class: 'tabs-slot' });

    root.replaceChildren(
        h('div', { class: 'page-head' }, h('h1', {}, title), tabs, h('span', { class: 'spacer' }), bar.viewSel),
        h('div', { class: 'toolbar' }, bar.filterForm, h('div', { class: 'picker-wrap' }, bar.colsButton, bar.picker)),
        bar.filterError, brushBar, panelBox, h('div', { class: 'toolbar' }, actions, h('span', { class: 'spacer' }), status),
        tableWrap, pager);
    tabs.replaceChildren(panelTabs(panel));
    const pm = await panelMod;
    if (!ctx.alive()) return;

    let { keys, cols, res, error: e } = await searched;
    if (!ctx.alive()) return;
    if (e) {
        showSearchError(bar, e, { filter, order });
        status.textContent = '';
        tableWrap.hidden = true;
        panelBox.hidden = true;
        return;
    }
    const runs = res.runs || [];
    if (!keys) {
        keys = pageKeys(runs);
        if (!explicitCols) cols = defaultCols(keys);
    }
    // the brushes keep the runs whose values lie in every brushed range
    const brushAxes = [...brushes.keys()].map((k) => makeAxis(k, k, new Map(runs.map((r) => [r.info.run_id, brushValue(r, k)]))));
    const passing = new Set(brushFilter(brushAxes, brushes, runs.map((r) => r.info.run_id)));
    const shown = brushes.size ? runs.filter((r) => passing.has(r.info.run_id)) : runs;
    drawBrushBar(brushBar, brushes, brushAxes);
    // the panel first: its history requests go out before the table is laid out
    const link = pm ? pm.panelLink(params, shown) : null;
    if (pm) pm.renderPanel(panelBox, { panel, runs, shown, keys, params, brushes, link, ctx });

    buildPicker(bar.picker, bar.colsButton, keys, cols);

    const all = h('input', { type: 'checkbox', 'aria-label': 'select all runs' });
    const thead = tableHead(cols, order, all);
    const { values, isNum } = cellValues(shown, cols);
    const mayPurge = await purgePromise;
    if (!ctx.alive()) return;
    table.dataset.rows = String(shown.length);
    if (!shown.length) {
        drawEmpty({ table, thead, cols, filter: filter || brushes.size, tok });
        actions.replaceChildren(...bulkActions([], viewName, mayPurge));
        all.disabled = true;
        // an experiment without runs: how to send it some
        if (!filter && !tok && !brushes.size && viewName === 'active') {
            // (its module only then: most pages have runs, and every module
            // the page fetches before it is drawn costs the browser CPU)
            import('./first-run.js').then(({ firstRun }) => {
                if (ctx.alive()) tableWrap.before(firstRun({ origin: location.origin, experiment: exps.length === 1 ? exps[0].name : '' }));
            }).catch((e) => { if (ctx.alive()) tableWrap.before(errorBox(e, 'How to log a first run')); });
            panelBox.hidden = true;
            actions.replaceChildren(); // nothing to select yet
        }
    } else {
        drawRows({ table, thead, all, actions, runs: shown, values, cols, isNum, viewName, mayPurge, ctx, link });
    }

    const first = drawPager(pager, {
        query: [ids, filter, order, size, viewName], tok, next: res.next_page_token, shown: runs.length, size, sizes: PAGE_SIZES,
    });
    const range = runs.length ? (first ? `Runs ${first}–${first + runs.length - 1}` : `${runs.length} runs`) : '';
    status.textContent = brushes.size && runs.length ? `${range}, ${shown.length} in the brushed ranges` : range;
}

/** The tabs that open a panel above the table, or none (current: the URL's panel, '' for none). */
function panelTabs(current) {
    const tab = (name, label) => h('a', {
        href: '#', class: `tab${name === current ? ' current' : ''}`, 'aria-current': name === current ? 'page' : null,
        onclick: (ev) => { ev.preventDefault(); withParams({ panel: name || undefined }); },
    }, label);
    return h('nav', { class: 'panel-tabs', 'aria-label': 'runs views' },
        tab('', 'Table'), ...Object.entries(PANELS).map(([n, l]) => tab(n, l)));
}

/** A run's value of a brushed key ("params.lr", "metrics.loss"). */
function brushValue(run, key) {
    const i = key.indexOf('.');
    return (run.data?.[key.slice(0, i)] || []).find((x) => x.key === key.slice(i + 1))?.value;
}

/** The brushes as chips, each with a button that removes it, and one that removes them all. */
function drawBrushBar(bar, brushes, axes) {
    if (!brushes.size) return;
    const text = (a, [lo, hi]) => (a.numeric ? `${fmtNum(lo)} – ${fmtNum(hi)}`
        : a.cats.slice(Math.max(0, Math.ceil(lo)), Math.floor(hi) + 1).join(', ') || 'nothing');
    const rest = (k) => [...brushes].filter(([key]) => key !== k).map(([key, b]) => brushParam(key, b));
    bar.replaceChildren(h('strong', {}, 'Brushed: '), ...axes.map((a) => h('span', { class: 'chip' },
        `${a.key} ${text(a, brushes.get(a.key))}`,
        h('button', { type: 'button', class: 'link', 'aria-label': `remove the brush of ${a.key}`, onclick: () => withParams({ brush: rest(a.key) }, { replace: true }) }, '×'))),
    h('button', { type: 'button', class: 'link', onclick: () => withParams({ brush: undefined }, { replace: true }) }, 'clear all'));
}
