// Logged models (MLflow 3): the experiment's "Models" tab, a table of its
// logged models with their latest metrics, sorted and filtered by the
// server (logged-models/search), 100 a page; and the run page's card of the
// models a run logged and the registered versions that came from it.
// Live: the first page follows the experiment's logged-model events (a model
// created, finalized, tagged or deleted) and reads the page again.
// URL: #/logged-models?exp=<id>&filter=<logged-model filter>&sort=<field>&asc=1&page=<token>
import { mlflow, num } from './api.js';
import { h, href, withParams, fmtTime, relTime, fmtNum, experimentIds, debounce } from './util.js';
import { watchModels } from './live.js';
import { quote, aliasBadge, stageBadge, fill } from './registry.js';

const PAGE = 100;

/** Per metric key, the value of the row with the greatest (timestamp, step). */
export function latestMetrics(model) {
    const out = new Map();
    for (const m of model.data?.metrics || []) {
        const o = out.get(m.key);
        if (!o || m.timestamp > o.timestamp || (m.timestamp === o.timestamp && m.step >= o.step)) out.set(m.key, m);
    }
    return out;
}

/** The registered versions a logged model names in its mlflow.modelVersions tag. */
export function registeredFrom(model) {
    const t = (model.info?.tags || []).find((x) => x.key === 'mlflow.modelVersions')?.value;
    if (!t) return [];
    try {
        const v = JSON.parse(t);
        return Array.isArray(v) ? v.filter((x) => x && typeof x.name === 'string') : [];
    } catch { return []; }
}

function versionLinks(list) {
    return list.map((x) => h('a', { class: 'version-chip', href: href(`/model/${encodeURIComponent(x.name)}/${x.version}`) }, `${x.name} v${x.version}`));
}

/** A link to a logged model's own page, named by its name. */
function modelLink(m) {
    return h('a', { class: 'lm-link', href: href(`/logged-model/${m.info.model_id}`) }, m.info.name || m.info.model_id);
}

export const STATUS = { LOGGED_MODEL_READY: 'READY', LOGGED_MODEL_PENDING: 'PENDING', LOGGED_MODEL_UPLOAD_FAILED: 'FAILED' };

export async function render(root, { params }, ctx) {
    const exp = experimentIds(params)[0];
    const filter = params.get('filter') || '';
    const sort = params.get('sort') || '';
    const asc = params.get('asc') === '1';
    const token = params.get('page') || '';
    ctx.crumbs([{ text: 'Experiments', href: '#/experiments' }, { text: exp ? `#${exp}` : '?', href: href('/runs', { exp }) }, { text: 'Models' }]);
    document.title = 'Logged models · exptrack';
    if (!exp) { root.replaceChildren(h('div', { class: 'error' }, 'Give an experiment: #/logged-models?exp=<id>.')); return; }
    mlflow.get('/experiments/get', { experiment_id: exp }).then((r) => {
        if (ctx.alive()) ctx.crumbs([{ text: 'Experiments', href: '#/experiments' }, { text: r.experiment.name, href: href('/runs', { exp }) }, { text: 'Models' }]);
    }, () => {});
    const input = h('input', { type: 'search', class: 'filter grow', value: filter, 'data-hotkey': '/', 'aria-label': 'filter logged models',
        placeholder: "Filter, e.g. metrics.accuracy > 0.9 AND params.C = '1.0'  ( / )" });
    const form = h('form', { class: 'filter-form grow', role: 'search', onsubmit: (ev) => { ev.preventDefault(); withParams({ filter: input.value.trim() || undefined, page: undefined }); } },
        input, h('button', { type: 'submit' }, 'Apply'));
    const body = h('div', { class: 'lm-body' }, h('p', { class: 'loading' }, 'Loading…'));
    const liveBadge = h('span', { class: 'live', hidden: true, title: 'models update as they are logged, finalized and tagged' }, 'live');
    root.replaceChildren(h('div', { class: 'page-head' }, h('h1', {}, 'Logged models'), liveBadge), h('div', { class: 'toolbar' }, form), body);
    if (!token) {
        let reads = 0;
        const again = debounce(async () => {
            if (!ctx.alive()) return;
            await drawModels(body, { exp, filter, sort, asc, token, input }, ctx);
            body.dataset.reads = String(++reads);
        }, 300);
        // openResync: a model written between the first read and the stream's start is read then
        const stop = watchModels(exp, (ev) => { if (ev.kind === 'models' || ev.kind === 'resync') again(); }, { openResync: true });
        ctx.onCleanup(stop);
        liveBadge.hidden = false;
    }
    await drawModels(body, { exp, filter, sort, asc, token, input }, ctx);
}

/** One page of the experiment's logged models (search, then the table) into body. */
async function drawModels(body, { exp, filter, sort, asc, token, input }, ctx) {
    let res;
    try {
        res = await mlflow.post('/logged-models/search', {
            experiment_ids: [exp], filter: filter || undefined, max_results: PAGE, page_token: token || undefined,
            order_by: sort ? [{ field_name: sort, ascending: asc }] : undefined,
        });
    } catch (e) {
        if (!ctx.alive()) return;
        input.classList.add('invalid');
        body.replaceChildren(h('div', { class: 'filter-error', role: 'alert' }, e.status === 400 ? `The filter or sort was refused: ${e.message}` : `${e.code}: ${e.message}`));
        return;
    }
    if (!ctx.alive()) return;
    const models = res.models || [];
    if (!models.length) {
        body.replaceChildren(h('p', { class: 'empty' }, filter ? 'No logged model matches the filter.' : 'This experiment has no logged models yet (mlflow.<flavor>.log_model() in MLflow 3 makes them).'));
        return;
    }
    const latest = models.map(latestMetrics);
    const keys = [...new Set(latest.flatMap((m) => [...m.keys()]))].sort();
    const sortHead = (label, field) => {
        const on = sort === field;
        const next = on && !asc ? { sort: field, asc: 1 } : on && asc ? { sort: undefined, asc: undefined } : { sort: field, asc: undefined };
        return h('th', { scope: 'col', class: `sortable${on ? (asc ? ' sorted-asc' : ' sorted-desc') : ''}`, 'aria-sort': on ? (asc ? 'ascending' : 'descending') : null },
            h('a', { href: '#', onclick: (ev) => { ev.preventDefault(); withParams({ ...next, page: undefined }); } }, label, on ? (asc ? ' ▲' : ' ▼') : ''));
    };
    fill(body, h('div', { class: 'table-wrap' }, h('table', { class: 'grid logged-models' },
        h('thead', {}, h('tr', {}, sortHead('Name', 'name'), h('th', { scope: 'col' }, 'Status'), sortHead('Created', 'creation_timestamp_ms'),
            h('th', { scope: 'col' }, 'Source run'), h('th', { scope: 'col' }, 'Registered as'),
            keys.map((k) => sortHead(k, `metrics.${k}`)))),
        h('tbody', {}, models.map((m, i) => h('tr', { dataset: { model: m.info.model_id } },
            h('td', { title: m.info.model_id }, modelLink(m)),
            h('td', {}, STATUS[m.info.status] || m.info.status || ''),
            h('td', { title: fmtTime(m.info.creation_timestamp_ms) }, relTime(m.info.creation_timestamp_ms)),
            h('td', {}, m.info.source_run_id ? h('a', { href: href(`/run/${m.info.source_run_id}`) }, m.info.source_run_id.slice(0, 8)) : ''),
            h('td', {}, versionLinks(registeredFrom(m))),
            keys.map((k) => h('td', { class: 'num', dataset: { metric: k } }, latest[i].has(k) ? fmtNum(num(latest[i].get(k).value)) : ''))))))),
    res.next_page_token ? h('nav', { class: 'pager' },
        token ? h('a', { class: 'button', href: '#', onclick: (ev) => { ev.preventDefault(); withParams({ page: undefined }); } }, 'First page') : null,
        h('a', { class: 'button', href: '#', onclick: (ev) => { ev.preventDefault(); withParams({ page: res.next_page_token }); } }, 'Next page')) : null);
    body.dataset.loaded = '1';
}

/**
 * The run page's card: the logged models the run produced (its outputs and
 * the models naming it as source) with their latest metrics, and the
 * registered versions whose run is this run. Fills box; never throws.
 */
export async function runModelsCard(box, run, ctx) {
    const runId = run.info.run_id;
    const outIds = (run.outputs?.model_outputs || []).map((o) => o.model_id);
    const [byRun, versions] = await Promise.all([
        mlflow.post('/logged-models/search', { experiment_ids: [run.info.experiment_id], filter: `source_run_id = '${runId}'`, max_results: 100 })
            .then((r) => r.models || [], () => []),
        mlflow.get('/model-versions/search', { filter: `run_id = ${quote(runId)}`, order_by: ['name ASC', 'version_number DESC'], max_results: 1000 })
            .then((r) => r.model_versions || [], () => []),
    ]);
    const have = new Set(byRun.map((m) => m.info.model_id));
    const extra = await Promise.all(outIds.filter((id) => !have.has(id)).slice(0, 50)
        .map((id) => mlflow.get(`/logged-models/${id}`).then((r) => r.model, () => null)));
    if (!ctx.alive()) return;
    const models = [...byRun, ...extra.filter(Boolean)];
    box.replaceChildren(
        h('h2', {}, `Logged models (${models.length})`),
        models.length ? h('table', { class: 'grid run-logged-models' },
            h('thead', {}, h('tr', {}, ['Name', 'Status', 'Metrics', 'Registered as'].map((t) => h('th', { scope: 'col' }, t)))),
            h('tbody', {}, models.map((m) => h('tr', { dataset: { model: m.info.model_id } },
                h('td', { title: m.info.model_id }, modelLink(m)),
                h('td', {}, STATUS[m.info.status] || m.info.status || ''),
                h('td', {}, [...latestMetrics(m)].map(([k, x]) => `${k}=${fmtNum(num(x.value))}`).join(', ')),
                h('td', {}, versionLinks(registeredFrom(m))))))) : h('p', { class: 'muted' }, 'None.'),
        h('h2', {}, `Registered versions (${versions.length})`),
        versions.length ? h('ul', { class: 'run-versions' }, versions.map((v) => h('li', { dataset: { version: `${v.name}/${v.version}` } },
            h('a', { href: href(`/model/${encodeURIComponent(v.name)}/${v.version}`) }, `${v.name} v${v.version}`), ' ', stageBadge(v.current_stage),
            (v.aliases || []).map((a) => aliasBadge(a))))) : h('p', { class: 'muted' }, 'None.'));
    box.dataset.loaded = '1';
}
