// The runs page's first requests, built in one place: app.js starts them with
// the page, before runs.js and its module graph (the table, the panels,
// uPlot) are fetched and evaluated: the runs/search as soon as the
// experiment's keys are in, and with the chart view open (panel=charts) the
// charts' coarse history reads as soon as the search is in. runs.js takes
// the search from there and the chart view finds the reads in history.js's
// cache, so the page's network waits on the network alone.
// Also what the page and its panels derive from the URL and the keys: the
// page size, the default columns, the chart and parallel coordinates keys.
import { mlflow } from './api.js';
import { experimentIds } from './util.js';
import { parseCol, serverKeys, defaultCols } from './runs-columns.js';
import { VIEW_TYPES } from './runs-toolbar.js';
import { parseBrush } from './parcoords.js';
import { prefetch } from './history.js';

export const PAGE_SIZES = [25, 100, 500, 1000];
export const PANEL_SIZE = 500; // runs per page when a panel is open and the URL names no size
export const PANELS = { charts: 'Charts', parcoords: 'Parallel coordinates' }; // panel= -> tab label
const DEFAULT_METRICS = 3; // charts when the URL chooses none
// From this many runs on, each chart of the chart view is first drawn from a
// coarse read and then again in detail. With COARSE_POINTS points a series of
// 10,000 steps or more has buckets of at least 1,024 steps, which the server
// answers from its 256-step block summaries instead of reading every point
// (docs/api-extensions.md, metrics/history).
export const COARSE_RUNS = 50;
export const COARSE_POINTS = 36;

/**
 * What the runs page reads from its URL: {ids, filter, order, panel, size,
 * brushes (Map key -> [lo, hi]), tok, viewName, cols, explicitCols}.
 */
export function pageState(params) {
    const panel = Object.hasOwn(PANELS, params.get('panel') || '') ? params.get('panel') : '';
    const cols = params.getAll('col');
    return {
        ids: experimentIds(params),
        filter: params.get('filter') || '',
        order: params.get('order') || '',
        panel,
        size: PAGE_SIZES.includes(Number(params.get('size'))) ? Number(params.get('size')) : panel ? PANEL_SIZE : 100,
        brushes: new Map(params.getAll('brush').map(parseBrush).filter(Boolean)),
        tok: params.get('tok') || '',
        viewName: VIEW_TYPES[params.get('view')] ? params.get('view') : 'active',
        explicitCols: cols.length > 0, // "col=-" means: no optional columns
        cols: cols.filter((c) => c.includes('.')),
    };
}

/** The metric keys the chart view shows: the URL's cm= that exist, else the first few. */
export function chartMetrics(params, keys) {
    const all = [...keys.metrics].sort();
    const chosen = params.getAll('cm').filter((k) => keys.metrics.has(k));
    return chosen.length ? chosen : all.slice(0, DEFAULT_METRICS);
}

/** The param keys the parallel coordinates may use (the search asks for them). */
export function parcoordsParams(keys) {
    return [...keys.params].sort().slice(0, 40);
}

/** The metric of the parallel coordinates' last axis: pm=, else the first chart metric. */
export function parcoordsMetric(params, keys) {
    const pm = params.get('pm');
    return pm && keys.metrics.has(pm) ? pm : chartMetrics(params, keys)[0];
}

/**
 * Sends the page's runs/search once the keys are known (keysRequest: the
 * experiments/keys request already sent, or null). Returns Promise<{keys,
 * cols, res} | {keys, cols, error}>: keys as serverKeys() gives them (null
 * without the keys endpoint), cols the columns shown. With the chart view
 * open, no brush and COARSE_RUNS runs or more, the charts' coarse reads are
 * sent as soon as the reply is in (their errors are the chart view's to show).
 */
export async function searchRuns(params, keysRequest) {
    const st = pageState(params);
    const keys = await serverKeys(st.ids, keysRequest);
    const cols = keys && !st.explicitCols ? defaultCols(keys) : st.cols;
    const req = { experiment_ids: st.ids, max_results: st.size, run_view_type: VIEW_TYPES[st.viewName] };
    if (st.filter) req.filter = st.filter;
    if (st.order) req.order_by = [st.order];
    if (st.tok) req.page_token = st.tok;
    if (keys) {
        // the columns', the brushes' and the parallel coordinates' keys
        const extra = [...st.brushes.keys()];
        if (st.panel === 'parcoords') {
            extra.push(...parcoordsParams(keys).map((k) => `params.${k}`));
            const metric = parcoordsMetric(params, keys);
            if (metric) extra.push(`metrics.${metric}`);
        }
        const pick = (t) => [...new Set([...cols, ...extra].filter((c) => parseCol(c).type === t).map((c) => parseCol(c).key))];
        req.metric_keys = pick('metrics');
        req.param_keys = pick('params');
        req.tag_keys = [...pick('tags'), 'mlflow.runName', 'mlflow.user'];
    }
    let res;
    try {
        res = await mlflow.post('/runs/search', req);
    } catch (error) {
        return { keys, cols, error };
    }
    const ids = (res.runs || []).map((r) => r.info.run_id);
    if (keys && st.panel === 'charts' && !st.brushes.size && ids.length >= COARSE_RUNS) {
        prefetch(ids, chartMetrics(params, keys), COARSE_POINTS);
    }
    return { keys, cols, res };
}
