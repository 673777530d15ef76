// The runs table of one or more experiments. URL state: exp (ids, repeated
// or comma-separated), filter, order ("<identifier> ASC|DESC"), col (chosen
// columns like "metrics.loss", repeated), size, tok (page token), view
// (active|deleted|all). Sorting and filtering are the server's (order_by,
// MLflow filter language); its errors are shown under the filter box.
// This module reads the URL, sends the requests and lays the page out; the
// toolbar, table, bulk actions, keyboard and pager are modules of their own.
import { mlflow } from './api.js';
import { h, experimentIds } from './util.js';
import { parseCol, serverKeys, pageKeys, defaultCols } from './runs-columns.js';
import { VIEW_TYPES, toolbar, showSearchError, buildPicker } from './runs-toolbar.js';
import { tableHead, cellValues, drawEmpty, drawRows } from './runs-table.js';
import { canPurge, bulkActions } from './runs-bulk.js';
import { drawPager } from './runs-pager.js';

const PAGE_SIZES = [25, 100, 500, 1000];

/** early.keys: the experiments/keys request app.js started with the page, if any. */
export async function render(root, { params, early }, ctx) {
    const ids = experimentIds(params);
    if (!ids.length) {
        root.replaceChildren(h('div', { class: 'empty' }, 'No experiment chosen. ', h('a', { href: '#/experiments' }, 'Pick one.')));
        return;
    }
    const filter = params.get('filter') || '';
    const order = params.get('order') || '';
    const size = PAGE_SIZES.includes(Number(params.get('size'))) ? Number(params.get('size')) : 100;
    const tok = params.get('tok') || '';
    const viewName = VIEW_TYPES[params.get('view')] ? params.get('view') : 'active';
    let cols = params.getAll('col');
    const explicitCols = cols.length > 0; // "col=-" means: no optional columns
    cols = cols.filter((c) => c.includes('.'));

    // the experiments' names, and in parallel the distinct keys (column
    // picker and default columns) and then the runs with those columns
    const expsPromise = Promise.all(ids.map((id) => mlflow.get('/experiments/get', { experiment_id: id })
        .then((r) => r.experiment).catch(() => ({ experiment_id: id, name: `#${id}` }))));
    const purgePromise = viewName === 'deleted' ? canPurge() : Promise.resolve(false);
    const searched = serverKeys(ids, early?.keys).then(async (keys) => {
        if (keys && !explicitCols) cols = defaultCols(keys);
        const req = { experiment_ids: ids, max_results: size, run_view_type: VIEW_TYPES[viewName] };
        if (filter) req.filter = filter;
        if (order) req.order_by = [order];
        if (tok) req.page_token = tok;
        if (keys) {
            const pick = (t) => cols.filter((c) => parseCol(c).type === t).map((c) => parseCol(c).key);
            req.metric_keys = pick('metrics');
            req.param_keys = pick('params');
            req.tag_keys = [...pick('tags'), 'mlflow.runName', 'mlflow.user'];
        }
        try {
            return { keys, res: await mlflow.post('/runs/search', req) };
        } catch (error) {
            return { keys, error };
        }
    });
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

    root.replaceChildren(
        h('div', { class: 'page-head' }, h('h1', {}, title), h('span', { class: 'spacer' }), bar.viewSel),
        h('div', { class: 'toolbar' }, bar.filterForm, h('div', { class: 'picker-wrap' }, bar.colsButton, bar.picker)),
        bar.filterError, h('div', { class: 'toolbar' }, actions, h('span', { class: 'spacer' }), status),
        tableWrap, pager);

    let { keys, res, error: e } = await searched;
    if (!ctx.alive()) return;
    if (e) {
        showSearchError(bar, e, { filter, order });
        status.textContent = '';
        tableWrap.hidden = true;
        return;
    }
    const runs = res.runs || [];
    if (!keys) {
        keys = pageKeys(runs);
        if (!explicitCols) cols = defaultCols(keys);
    }

    buildPicker(bar.picker, bar.colsButton, keys, cols);

    const all = h('input', { type: 'checkbox', 'aria-label': 'select all runs' });
    const thead = tableHead(cols, order, all);
    const { values, isNum } = cellValues(runs, cols);
    const mayPurge = await purgePromise;
    if (!ctx.alive()) return;
    table.dataset.rows = String(runs.length);
    if (!runs.length) {
        drawEmpty({ table, thead, cols, filter, tok });
        actions.replaceChildren(...bulkActions([], viewName, mayPurge));
        all.disabled = true;
    } else {
        drawRows({ table, thead, all, actions, runs, values, cols, isNum, viewName, mayPurge, ctx });
    }

    const first = drawPager(pager, {
        query: [ids, filter, order, size, viewName], tok, next: res.next_page_token, shown: runs.length, size, sizes: PAGE_SIZES,
    });
    status.textContent = runs.length ? (first ? `Runs ${first}–${first + runs.length - 1}` : `${runs.length} runs`) : '';
}
