// An experiment's "Traces" tab: its GenAI traces (traces/search of the V3
// API), searched with the trace search language, sorted by the server,
// paged by its tokens, with a choice of columns. URL state:
// #/traces?exp=<id>&filter=...&order=<key ASC|DESC>&col=<id>(repeated)&size=&tok=
// Keyboard: / focuses the search, j/k move between rows, Enter opens one.
// The first page follows the experiment's trace events on the live stream
// (traces=true): after one, it is read again (at most every REFRESH_MS, and
// not while the browser tab is hidden: then once it is shown again), and new
// traces are drawn in, marked as new. Later pages stay as they were read.
import { mlflow, mlflow3 } from './api.js';
import { watchTraces } from './live.js';
import { h, href, withParams, experimentIds, errorBox } from './util.js';
import { showSearchError } from './runs-toolbar.js';
import { drawPager } from './runs-pager.js';
import { FIXED, DEFAULT_COLS, column, nameCell, pageKeys, buildTracePicker } from './traces-columns.js';
import { TRACE_PAGE_SIZES, tracesRequest } from './traces-query.js';

const REFRESH_MS = 1000;

/** The words for a refused read of the traces. */
function readError(e) {
    if (e?.status === 403 || e?.code === 'PERMISSION_DENIED') {
        return h('div', { class: 'error', role: 'alert' }, 'You do not have permission to read the traces of this experiment. Ask its owner for READ on it. ',
            h('span', { class: 'server-message' }, `(${e.message})`));
    }
    return errorBox(e, 'The traces could not be read');
}

/** early.search: the same traces/search app.js started with the page, if any. */
export async function render(root, { params, early }, ctx) {
    const exp = experimentIds(params)[0];
    if (!exp) {
        root.replaceChildren(h('div', { class: 'empty' }, 'No experiment chosen. ', h('a', { href: '#/experiments' }, 'Pick one.')));
        return;
    }
    const filter = params.get('filter') || '';
    const order = params.get('order') || '';
    const tok = params.get('tok') || '';
    const req = tracesRequest(exp, params);
    const size = req.max_results;
    const urlCols = params.getAll('col');
    const cols = (urlCols.length ? urlCols : DEFAULT_COLS).filter((c) => column(c));
    const crumbs = (name) => ctx.crumbs([{ text: 'Experiments', href: '#/experiments' }, { text: name, href: href('/runs', { exp }) }, { text: 'Traces' }]);
    crumbs(`#${exp}`);
    document.title = 'Traces · exptrack';
    mlflow.get('/experiments/get', { experiment_id: exp }).then((r) => { if (ctx.alive()) crumbs(r.experiment.name); }, () => {});

    const search = () => mlflow3.post('/traces/search', req);
    const first = early?.search ?? search();
    first.catch(() => {});

    const filterInput = h('input', {
        type: 'search', class: 'filter grow', value: filter, spellcheck: 'false', 'data-hotkey': '/', 'aria-label': 'search traces',
        placeholder: "Search: name = 'predict' AND status = 'ERROR' AND execution_time_ms > 1000 AND tag.env = 'prod'",
    });
    const filterForm = h('form', { class: 'filter-form grow', role: 'search', onsubmit: (ev) => {
        ev.preventDefault();
        withParams({ filter: filterInput.value.trim(), tok: undefined });
    } }, filterInput, h('button', { type: 'submit', class: 'primary' }, 'Search'),
    filter ? h('button', { type: 'button', onclick: () => withParams({ filter: undefined, tok: undefined }) }, 'Clear') : null);
    const filterError = h('div', { class: 'filter-error', role: 'alert', hidden: true });
    const colsButton = h('button', { type: 'button', 'aria-haspopup': 'true', class: 'cols-button' }, 'Columns');
    const picker = h('div', { class: 'picker', hidden: true });
    const status = h('div', { class: 'status-line', role: 'status' }, 'Loading traces…');
    const liveBadge = h('span', { class: 'live', hidden: true, title: 'new traces appear as they are logged' }, 'live');
    const table = h('table', { class: 'grid traces' });
    const tableWrap = h('div', { class: 'table-wrap' }, table);
    const pager = h('div', { class: 'pager' });
    root.replaceChildren(
        h('div', { class: 'page-head' }, h('h1', {}, 'Traces'), liveBadge),
        h('div', { class: 'toolbar' }, filterForm, h('div', { class: 'picker-wrap' }, colsButton, picker)),
        filterError, h('div', { class: 'toolbar' }, h('span', { class: 'spacer' }), status), tableWrap, pager);

    let res;
    try {
        res = await first;
    } catch (e) {
        if (!ctx.alive()) return;
        status.textContent = '';
        tableWrap.hidden = true;
        if (e.status === 400) showSearchError({ filterInput, filterError }, e, { filter, order });
        else filterError.replaceWith(readError(e));
        return;
    }
    if (!ctx.alive()) return;
    let traces = res.traces || [];
    const shown = [...cols].sort((a, b) => rank(a) - rank(b));
    buildTracePicker(picker, colsButton, pageKeys(traces), cols, (c) => withParams({ col: c }));
    const seen = new Set(traces.map((t) => t.trace_id));
    const runNames = new Map(); // run id -> name, '' (unnamed) or null (not in this experiment)
    drawTable(table, traces, shown, order, new Set(), { filter, tok });
    nameRuns(table, exp, runNames, ctx);
    keyboardRows(table, ctx);
    const firstNo = drawPager(pager, { query: [exp, filter, order, size], tok, next: res.next_page_token, shown: traces.length, size, sizes: TRACE_PAGE_SIZES });
    const count = () => {
        status.textContent = traces.length ? (firstNo ? `Traces ${firstNo}–${firstNo + traces.length - 1}` : `${traces.length} traces`) : '';
    };
    count();
    if (tok) return;

    // the first page follows the experiment's trace events
    liveBadge.hidden = false;
    let timer = null, stopped = false, dirty = false, last = 0, sig = signature(traces);
    const tick = async () => {
        timer = null;
        if (stopped || !ctx.alive()) return;
        if (document.hidden) { dirty = true; return; }
        dirty = false;
        last = Date.now();
        try {
            const r = await search();
            if (stopped || !ctx.alive()) return;
            const next = r.traces || [];
            const s = signature(next);
            if (s !== sig) {
                sig = s;
                const fresh = new Set(next.map((t) => t.trace_id).filter((id) => !seen.has(id)));
                for (const id of fresh) seen.add(id);
                traces = next;
                drawTable(table, traces, shown, order, fresh, { filter, tok });
                nameRuns(table, exp, runNames, ctx);
                count();
            }
        } catch (e) {
            console.warn('traces: refresh failed', e);
        }
    };
    // events come in bursts (a trace's start, its spans, its end): one read per REFRESH_MS
    const schedule = () => { if (!stopped && !timer) timer = setTimeout(tick, Math.max(0, last + REFRESH_MS - Date.now())); };
    const onEvent = (ev) => { if (ev.kind === 'traces' || ev.kind === 'resync') schedule(); };
    const onVisible = () => { if (!document.hidden && dirty) schedule(); };
    const stopWatch = watchTraces(exp, onEvent, { openResync: true }); // a trace written before the stream opened is read then
    document.addEventListener('visibilitychange', onVisible);
    ctx.onCleanup(() => { stopped = true; clearTimeout(timer); stopWatch(); document.removeEventListener('visibilitychange', onVisible); });
}

const FIXED_ORDER = Object.keys(FIXED);
const rank = (c) => (FIXED_ORDER.includes(c) ? FIXED_ORDER.indexOf(c) : FIXED_ORDER.length);

/** What a refresh compares: the ids, states, durations and assessment counts shown. */
function signature(traces) {
    return traces.map((t) => `${t.trace_id}:${t.state}:${t.execution_duration}:${(t.assessments || []).length}:${Object.keys(t.tags || {}).length}`).join(',');
}

function sortHead(label, id, order, cls) {
    if (!id) return h('th', { scope: 'col', class: cls }, label);
    const m = order.match(/^(.*?)\s+(ASC|DESC)$/i);
    const dir = (m ? m[1] : order) === id ? (m ? m[2].toUpperCase() : 'ASC') : null;
    const next = dir === 'DESC' ? `${id} ASC` : `${id} DESC`;
    return h('th', { scope: 'col', class: `${cls || ''} sortable ${dir ? `sorted-${dir.toLowerCase()}` : ''}`, 'aria-sort': dir === 'ASC' ? 'ascending' : dir === 'DESC' ? 'descending' : 'none' },
        h('a', { href: '#', title: `sort by ${id}`, onclick: (ev) => { ev.preventDefault(); withParams({ order: next, tok: undefined }); } },
            label, h('span', { class: 'arrow' }, dir === 'ASC' ? ' ▲' : dir === 'DESC' ? ' ▼' : '')));
}

/**
 * j/k move a cursor between the table's rows (kept by trace id, so a row
 * drawn again by a refresh keeps it), Enter opens the trace.
 */
function keyboardRows(table, ctx) {
    let cur = '';
    const onKey = (ev) => {
        if (/^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(document.activeElement?.tagName) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
        const rows = [...table.querySelectorAll('tbody tr[data-trace]')];
        if (!rows.length) return;
        const i = rows.findIndex((r) => r.dataset.trace === cur);
        if (ev.key === 'j' || ev.key === 'k') {
            const next = rows[Math.max(0, Math.min(rows.length - 1, i < 0 ? 0 : i + (ev.key === 'j' ? 1 : -1)))];
            for (const r of rows) r.classList.toggle('cursor', r === next);
            cur = next.dataset.trace;
            next.scrollIntoView({ block: 'nearest' });
        } else if (ev.key === 'Enter' && i >= 0) {
            rows[i].querySelector('a.trace-link')?.click();
        }
    };
    document.addEventListener('keydown', onKey);
    ctx.onCleanup(() => document.removeEventListener('keydown', onKey));
    // a refresh draws the rows again: put the cursor back on its trace
    new MutationObserver(() => table.querySelector(`tbody tr[data-trace="${CSS.escape(cur)}"]`)?.classList.add('cursor'))
        .observe(table, { childList: true });
}

/**
 * Writes run names into the Run column's links: one runs/search (filter
 * attributes.run_id IN (...), deleted runs too) for the ids of the page not
 * named yet; names are kept in `names` across refreshes. A run of another
 * experiment keeps its short id. Sets table.dataset.runsNamed when done.
 */
async function nameRuns(table, exp, names, ctx) {
    const links = [...table.querySelectorAll('a.run-link[data-run]')];
    const want = [...new Set(links.map((a) => a.dataset.run))].filter((id) => !names.has(id) && /^[0-9a-f]{32}$/.test(id));
    if (want.length) {
        try {
            const r = await mlflow.post('/runs/search', {
                experiment_ids: [exp], filter: `attributes.run_id IN (${want.map((id) => `'${id}'`).join(', ')})`,
                run_view_type: 'ALL', max_results: want.length,
            });
            for (const run of r.runs || []) names.set(run.info.run_id, run.info.run_name || '');
            for (const id of want) if (!names.has(id)) names.set(id, null);
        } catch (e) {
            console.warn('traces: run names not read', e);
        }
    }
    if (!ctx.alive()) return;
    for (const a of table.querySelectorAll('a.run-link[data-run]')) {
        const n = names.get(a.dataset.run);
        if (n) a.replaceChildren(n);
    }
    table.dataset.runsNamed = '1';
}

/** A column id as a class name part: "tag.env" -> "tag_env". */
const colClass = (c) => c.replace(/[^A-Za-z0-9_-]/g, '_');

function drawTable(table, traces, cols, order, fresh, { filter, tok }) {
    const defs = cols.map((c) => [c, column(c)]);
    const thead = h('thead', {}, h('tr', {}, sortHead('Name', 'name', order),
        defs.map(([c, d]) => sortHead(d.type ? h('span', {}, h('span', { class: `coltype ${d.type === 'tag' ? 'tags' : 'params'}` }, d.type === 'tag' ? 't' : 'md'), d.label) : d.label,
            d.order, order, `${d.num ? 'num ' : ''}col-${colClass(c)}`))));
    table.dataset.rows = String(traces.length);
    if (!traces.length) {
        table.replaceChildren(thead, h('tbody', {}, h('tr', {}, h('td', { colspan: cols.length + 1, class: 'empty' },
            filter ? 'No trace matches this search.' : tok ? 'No more traces.' : 'No traces in this experiment yet. mlflow.trace() or an OpenTelemetry exporter pointed at /v1/traces sends some.'))));
        return;
    }
    table.replaceChildren(thead, h('tbody', {}, traces.map((t) => h('tr', {
        dataset: { trace: t.trace_id }, class: [t.state === 'ERROR' ? 'trace-error' : '', fresh.has(t.trace_id) ? 'new-trace' : ''].filter(Boolean).join(' ') || null,
    }, h('td', { class: 'name' }, nameCell(t)),
    defs.map(([c, d]) => h('td', { class: `${d.num ? 'num ' : ''}col-${colClass(c)}` }, d.cell(t)))))));
}
