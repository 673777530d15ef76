// The runs table of one or more experiments. URL state: exp (ids, repeated
// or comma-separated), filter, order ("<identifier> ASC|DESC"), col (chosen
// columns like "metrics.loss", repeated), size, tok (page token), view
// (active|deleted|all). Sorting and filtering are the server's (order_by,
// MLflow filter language); its errors are shown under the filter box.
import { mlflow, exptrack, num, isMissingEndpoint } from './api.js';
import {
    h, href, withParams, relTime, fmtTime, fmtDuration, fmtNum, statusBadge, runName, errorBox, ident, experimentIds,
} from './util.js';
import { columnWidths, windowedRows } from './grid.js';

const PAGE_SIZES = [25, 100, 500, 1000];
const VIEW_TYPES = { active: 'ACTIVE_ONLY', deleted: 'DELETED_ONLY', all: 'ALL' };
// Attribute columns: [label, order_by identifier or null, cell, its text
// (the column's width is measured from it), px the cell adds to its text]
const ATTRS = [
    ['Status', 'status', (r) => statusBadge(r.info.status), (r) => r.info.status || '?', 28],
    ['Run', 'run_name', (r) => h('a', { href: href(`/run/${r.info.run_id}`), class: 'run-link' }, runName(r)), runName],
    ['Created', 'start_time', (r) => h('span', { title: fmtTime(r.info.start_time) }, relTime(r.info.start_time)), (r) => relTime(r.info.start_time)],
    ['Duration', null, (r) => duration(r), (r) => durationText(r)],
    ['User', 'user_id', (r) => r.info.user_id || '', (r) => r.info.user_id || ''],
];

// Page tokens seen on the way, so "previous" works: key = query without tok.
const tokenTrail = new Map();
// Keys endpoint availability (null = unknown).
let keysEndpoint = null;
// Whether this user may purge (admins; everyone without --auth): a promise, asked once.
let purgeAllowed = null;

/**
 * Admins only may purge. The admin-only audit listing answers 200 for them
 * (and for everyone when the server runs without --auth) and 403 otherwise,
 * so one tiny read tells the dashboard whether to offer the Purge action.
 */
function canPurge() {
    if (!purgeAllowed) {
        purgeAllowed = exptrack.get('/audit', { max_results: 1 }).then(() => true, () => false);
    }
    return purgeAllowed;
}

function durationText(r) {
    const { start_time: s, end_time: e, status } = r.info;
    if (!s) return '';
    if (!e && status === 'RUNNING') return fmtDuration(Date.now() - s);
    return e ? fmtDuration(e - s) : '';
}

function duration(r) {
    const { end_time: e, status } = r.info;
    const text = durationText(r);
    return text && !e && status === 'RUNNING' ? h('span', { class: 'muted', title: 'running' }, text) : text;
}

/** "metrics.loss" -> {type: 'metrics', key: 'loss'} */
export function parseCol(c) {
    const i = c.indexOf('.');
    return { type: c.slice(0, i), key: c.slice(i + 1) };
}

function colValue(run, col) {
    const { type, key } = parseCol(col);
    const list = run.data?.[type] || [];
    const item = list.find((x) => x.key === key);
    if (!item) return undefined;
    return type === 'metrics' ? num(item.value) : item.value;
}

function colIdent(col) {
    const { type, key } = parseCol(col);
    return ident(type, key);
}

/**
 * Distinct keys of the experiments from the keys endpoint, or null when the
 * server has none. request: the same request app.js already sent, if any.
 */
async function serverKeys(ids, request) {
    if (keysEndpoint === false && !request) return null;
    try {
        const k = await (request ?? exptrack.get('/experiments/keys', { experiment_id: ids }));
        keysEndpoint = true;
        return { metrics: new Set(k.metrics || []), params: new Set(k.params || []), tags: new Set(k.tags || []) };
    } catch (e) {
        if (isMissingEndpoint(e)) keysEndpoint = false;
        return null;
    }
}

/** The keys present on a page of runs (for servers without the keys endpoint). */
function pageKeys(runs) {
    const keys = { metrics: new Set(), params: new Set(), tags: new Set() };
    for (const r of runs) for (const t of Object.keys(keys)) for (const x of r.data?.[t] || []) keys[t].add(x.key);
    return keys;
}

function defaultCols(keys) {
    return [...[...keys.metrics].sort().slice(0, 5).map((k) => `metrics.${k}`),
        ...[...keys.params].sort().slice(0, 4).map((k) => `params.${k}`)];
}

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

    // --- toolbar: filter, view, size, columns
    const filterInput = h('input', {
        type: 'search', class: 'filter grow', value: filter, spellcheck: 'false', 'data-hotkey': '/',
        placeholder: "Filter: metrics.loss < 0.5 AND params.lr = '0.01' AND tags.mlflow.source.type = 'LOCAL'",
        'aria-label': 'filter runs',
    });
    const filterForm = h('form', { class: 'filter-form grow', onsubmit: (ev) => {
        ev.preventDefault();
        withParams({ filter: filterInput.value.trim(), tok: undefined });
    } }, filterInput, h('button', { type: 'submit', class: 'primary' }, 'Search'),
    filter ? h('button', { type: 'button', onclick: () => withParams({ filter: undefined, tok: undefined }) }, 'Clear') : null);
    const filterError = h('div', { class: 'filter-error', role: 'alert', hidden: true });
    const viewSel = h('select', { 'aria-label': 'lifecycle', onchange: () => withParams({ view: viewSel.value === 'active' ? undefined : viewSel.value, tok: undefined }) },
        ...Object.keys(VIEW_TYPES).map((v) => h('option', { value: v, selected: v === viewName }, v === 'active' ? 'Active runs' : v === 'deleted' ? 'Deleted runs' : 'All runs')));
    const colsButton = h('button', { type: 'button', 'aria-haspopup': 'true', class: 'cols-button' }, 'Columns');
    const picker = h('div', { class: 'picker', hidden: true });
    const status = h('div', { class: 'status-line', role: 'status' }, 'Loading runs…');
    const actions = h('div', { class: 'bulk' });
    const table = h('table', { class: 'grid runs' });
    const tableWrap = h('div', { class: 'table-wrap' }, table);
    const pager = h('div', { class: 'pager' });

    root.replaceChildren(
        h('div', { class: 'page-head' }, h('h1', {}, title), h('span', { class: 'spacer' }), viewSel),
        h('div', { class: 'toolbar' }, filterForm, h('div', { class: 'picker-wrap' }, colsButton, picker)),
        filterError, h('div', { class: 'toolbar' }, actions, h('span', { class: 'spacer' }), status),
        tableWrap, pager);

    let { keys, res, error: e } = await searched;
    if (!ctx.alive()) return;
    if (e) {
        filterError.hidden = false;
        const where = filter && order ? 'filter or sort' : filter ? 'filter' : order ? 'sort' : 'search';
        filterError.replaceChildren(h('strong', {}, `The server refused this ${where}: `), h('span', { class: 'server-message' }, e.message),
            ...(order ? [h('button', { type: 'button', class: 'link', onclick: () => withParams({ order: undefined }) }, 'remove sort')] : []));
        status.textContent = '';
        filterInput.classList.toggle('invalid', !!filter);
        // the parser names a column ("... at column 15"): point at it
        const col = Number(e.message.match(/at column (\d+)/)?.[1]);
        if (filter && col >= 1 && col <= filter.length + 1) {
            filterError.append(h('pre', { class: 'filter-caret', 'aria-hidden': 'true' }, `${filter}\n${' '.repeat(col - 1)}^`));
        }
        tableWrap.hidden = true;
        return;
    }
    const runs = res.runs || [];
    if (!keys) {
        keys = pageKeys(runs);
        if (!explicitCols) cols = defaultCols(keys);
    }

    // --- picker
    buildPicker(picker, colsButton, keys, cols);

    // --- table
    const sortDir = (id) => {
        const m = order.match(/^(.*?)\s+(ASC|DESC)$/i);
        const o = m ? m[1] : order;
        if (o !== id) return null;
        return m ? m[2].toUpperCase() : 'ASC';
    };
    const th = (label, id, cls) => {
        if (!id) return h('th', { class: cls }, label);
        const dir = sortDir(id);
        const next = dir === 'DESC' ? `${id} ASC` : `${id} DESC`;
        return h('th', { class: `${cls || ''} sortable ${dir ? `sorted-${dir.toLowerCase()}` : ''}`, 'aria-sort': dir === 'ASC' ? 'ascending' : dir === 'DESC' ? 'descending' : 'none' },
            h('a', { href: '#', title: `sort by ${id}`, onclick: (ev) => { ev.preventDefault(); withParams({ order: next, tok: undefined }); } },
                label, h('span', { class: 'arrow' }, dir === 'ASC' ? ' ▲' : dir === 'DESC' ? ' ▼' : '')));
    };
    const all = h('input', { type: 'checkbox', 'aria-label': 'select all runs' });
    const head = h('tr', {}, h('th', { class: 'sel' }, all),
        ...ATTRS.map(([label, id]) => th(label, id)),
        ...cols.map((c) => {
            const { type, key } = parseCol(c);
            return th(h('span', {}, h('span', { class: `coltype ${type}` }, type === 'metrics' ? 'm' : type === 'params' ? 'p' : 't'), key), colIdent(c), type === 'metrics' ? 'num' : '');
        }));
    const thead = h('thead', {}, head);
    // the chosen columns' values, as shown
    const isNum = cols.map((c) => parseCol(c).type === 'metrics');
    const values = runs.map((r) => cols.map((c, j) => {
        const v = colValue(r, c);
        return { title: v === undefined ? '' : String(v), text: isNum[j] ? fmtNum(v) : String(v ?? '') };
    }));
    const mayPurge = await purgePromise;
    if (!ctx.alive()) return;
    table.dataset.rows = String(runs.length);
    if (!runs.length) {
        table.replaceChildren(thead, h('tbody', {}, h('tr', {}, h('td', { colspan: ATTRS.length + cols.length + 1, class: 'empty' },
            filter ? 'No run matches this filter.' : tok ? 'No more runs.' : 'No runs in this experiment yet.'))));
        actions.replaceChildren(...bulkActions([], runs, viewName, mayPurge));
        all.disabled = true;
    } else {
        drawRows({ table, thead, all, actions, runs, values, cols, isNum, viewName, mayPurge, ctx });
    }

    // --- paging
    const trailKey = JSON.stringify([ids, filter, order, size, viewName]);
    const trail = tokenTrail.get(trailKey) || [];
    const idx = tok ? trail.indexOf(tok) : -1;
    const pageNo = tok ? (idx >= 0 ? idx + 2 : null) : 1;
    const next = res.next_page_token;
    if (next) {
        const t = tok ? trail.slice(0, Math.max(idx + 1, 0)) : [];
        t.push(next);
        tokenTrail.set(trailKey, t);
    }
    const prevTok = idx > 0 ? trail[idx - 1] : undefined;
    const first = pageNo ? (pageNo - 1) * size + 1 : null;
    status.textContent = runs.length ? (first ? `Runs ${first}–${first + runs.length - 1}` : `${runs.length} runs`) : '';
    pager.replaceChildren(
        h('button', { disabled: !tok, onclick: () => withParams({ tok: prevTok }) }, '‹ Previous'),
        h('span', { class: 'muted' }, pageNo ? `Page ${pageNo}` : ''),
        h('button', { disabled: !next || !runs.length, class: 'next', onclick: () => withParams({ tok: next }) }, 'Next ›'),
        h('span', { class: 'spacer' }),
        h('label', {}, 'Rows per page ', h('select', { onchange: (ev) => withParams({ size: ev.target.value, tok: undefined }) },
            ...PAGE_SIZES.map((s) => h('option', { value: s, selected: s === size }, String(s))))));
}

/**
 * The runs' rows, drawn as a window over the page (grid.js), with the
 * selection (checkboxes, shift-click ranges, select all) and the keyboard
 * cursor kept by index, so rows drawn again show them.
 */
function drawRows({ table, thead, all, actions, runs, values, cols, isNum, viewName, mayPurge, ctx }) {
    const selected = new Set();
    const cursor = { row: -1 }; // the keyboard cursor's row, -1 before j/k
    let lastClicked = -1;
    const updateActions = () => {
        actions.replaceChildren(...bulkActions([...selected], runs, viewName, mayPurge).filter(Boolean));
        all.checked = selected.size === runs.length;
    };
    const setRow = (i, on) => {
        if (on) selected.add(runs[i].info.run_id); else selected.delete(runs[i].info.run_id);
        const tr = grid.row(i);
        if (!tr) return;
        tr.classList.toggle('selected', on);
        tr.querySelector('input[type=checkbox]').checked = on;
    };
    const row = (i) => {
        const r = runs[i];
        const on = selected.has(r.info.run_id);
        const box = h('input', { type: 'checkbox', checked: on, 'aria-label': `select ${runName(r)}`, onclick: (ev) => {
            // shift-click: the rows between the last clicked one and this one take this one's state
            if (ev.shiftKey && lastClicked >= 0 && lastClicked !== i) {
                const [a, b] = lastClicked < i ? [lastClicked, i] : [i, lastClicked];
                for (let k = a; k <= b; k++) setRow(k, box.checked);
            }
            lastClicked = i;
        }, onchange: () => {
            setRow(i, box.checked);
            updateActions();
        } });
        const cls = [r.info.lifecycle_stage === 'deleted' ? 'deleted' : '', on ? 'selected' : '', cursor.row === i ? 'cursor' : ''];
        return h('tr', { dataset: { run: r.info.run_id }, class: cls.filter(Boolean).join(' ') },
            h('td', { class: 'sel' }, box),
            ...ATTRS.map(([, , cell]) => h('td', {}, cell(r))),
            ...values[i].map((v, j) => h('td', { class: isNum[j] ? 'num' : '', title: v.title }, v.text)));
    };
    table.replaceChildren(thead); // the header's font, for the widths
    const widths = columnWidths(table, [
        { fixed: 44 },
        ...ATTRS.map(([label, , , text, extra]) => ({ head: label, text: (i) => text(runs[i]), extra })),
        ...cols.map((c, j) => ({ head: parseCol(c).key, text: (i) => values[i][j].text })),
    ], runs.length);
    const grid = windowedRows(table, thead, { count: runs.length, row, widths, ctx });
    all.addEventListener('change', () => {
        for (let i = 0; i < runs.length; i++) setRow(i, all.checked);
        updateActions();
    });
    updateActions();
    keyboardRows(grid, runs, cursor, ctx);
}

function buildPicker(picker, button, keys, cols) {
    const chosen = new Set(cols);
    const search = h('input', { type: 'search', placeholder: 'Find a key', 'aria-label': 'find a column' });
    const lists = h('div', { class: 'picker-lists' });
    const draw = () => {
        const q = search.value.toLowerCase();
        lists.replaceChildren(...['metrics', 'params', 'tags'].map((t) => {
            const names = [...keys[t]].filter((k) => k.toLowerCase().includes(q)).sort();
            return h('fieldset', {}, h('legend', {}, `${t} (${keys[t].size})`),
                names.length ? names.slice(0, 500).map((k) => {
                    const id = `${t}.${k}`;
                    return h('label', {}, h('input', { type: 'checkbox', checked: chosen.has(id), onchange: (ev) => {
                        if (ev.target.checked) chosen.add(id); else chosen.delete(id);
                    } }), k);
                }) : h('div', { class: 'muted' }, 'none'));
        }));
    };
    search.addEventListener('input', draw);
    picker.replaceChildren(search, lists, h('div', { class: 'picker-foot' },
        h('button', { class: 'primary', onclick: () => { picker.hidden = true; withParams({ col: chosen.size ? [...chosen] : ['-'] }); } }, 'Apply'),
        h('button', { onclick: () => { picker.hidden = true; } }, 'Cancel')));
    draw();
    button.addEventListener('click', () => { picker.hidden = !picker.hidden; if (!picker.hidden) search.focus(); });
}

const BULK_PARALLEL = 4; // requests in flight for per-run bulk actions

function bulkActions(ids, runs, viewName, mayPurge) {
    if (!ids.length) {
        return [h('span', { class: 'muted' }, viewName === 'deleted' && mayPurge
            ? 'Select runs to compare, restore, tag or purge (delete forever) them.'
            : 'Select runs to compare, delete, restore or tag them.')];
    }
    const msg = h('span', { class: 'bulk-msg', role: 'status' });
    // one request per run, a few in flight; progress shown; the first error stops it
    const each = async (label, fn) => {
        let done = 0, next = 0, failed = null;
        msg.textContent = `${label}… 0/${ids.length}`;
        const worker = async () => {
            while (next < ids.length && !failed) {
                const id = ids[next++];
                try { await fn(id); } catch (e) { failed = failed || e; return; }
                done++;
                msg.textContent = `${label}… ${done}/${ids.length}`;
            }
        };
        await Promise.all(Array.from({ length: Math.min(BULK_PARALLEL, ids.length) }, worker));
        if (failed) msg.replaceChildren(errorBox(failed, `${label} failed after ${done} of ${ids.length}`));
        else window.dispatchEvent(new HashChangeEvent('hashchange'));
    };
    const purge = async () => {
        if (!confirm(`Purge ${ids.length} deleted run(s)? Their metrics, params, tags and artifacts are removed for good; this cannot be undone.`)) return;
        msg.textContent = 'Purging…';
        try {
            for (let i = 0; i < ids.length; i += 1000) await exptrack.post('/runs/purge', { run_ids: ids.slice(i, i + 1000) });
            window.dispatchEvent(new HashChangeEvent('hashchange'));
        } catch (e) { msg.replaceChildren(errorBox(e, 'Purge failed')); }
    };
    const tagInput = h('input', { type: 'text', placeholder: 'key=value', size: 12, 'aria-label': 'tag to set' });
    return [
        h('strong', {}, `${ids.length} selected`),
        h('a', { class: 'button primary compare-link', href: href('/compare', { runs: ids.join(',') }) }, 'Compare'),
        viewName !== 'deleted' ? h('button', { class: 'danger', onclick: () => {
            if (confirm(`Delete ${ids.length} run(s)? They can be restored.`)) each('Deleting', (id) => mlflow.post('/runs/delete', { run_id: id }));
        } }, 'Delete') : null,
        viewName !== 'active' ? h('button', { onclick: () => each('Restoring', (id) => mlflow.post('/runs/restore', { run_id: id })) }, 'Restore') : null,
        viewName === 'deleted' && mayPurge ? h('button', { class: 'danger purge', title: 'delete forever (admins)', onclick: purge }, 'Purge') : null,
        h('form', { class: 'inline-form', onsubmit: (ev) => {
            ev.preventDefault();
            const s = tagInput.value; const i = s.indexOf('=');
            if (i <= 0) { msg.textContent = 'write the tag as key=value'; return; }
            each('Tagging', (id) => mlflow.post('/runs/set-tag', { run_id: id, key: s.slice(0, i).trim(), value: s.slice(i + 1) }));
        } }, tagInput, h('button', { type: 'submit' }, 'Tag')),
        msg,
    ];
}

/**
 * j/k move the cursor between rows (cursor.row, an index: the grid draws it
 * on rows it draws again), Enter opens the run, x toggles its selection.
 */
function keyboardRows(grid, runs, cursor, ctx) {
    const onKey = (ev) => {
        if (/^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement?.tagName)) return;
        const cur = cursor.row;
        if (ev.key === 'j' || ev.key === 'k') {
            const next = Math.max(0, Math.min(runs.length - 1, cur + (ev.key === 'j' ? 1 : -1)));
            grid.row(cur)?.classList.remove('cursor');
            cursor.row = next;
            grid.reveal(next).classList.add('cursor');
        } else if (ev.key === 'Enter' && cur >= 0) {
            location.hash = href(`/run/${runs[cur].info.run_id}`);
        } else if (ev.key === 'x' && cur >= 0) {
            grid.reveal(cur).querySelector('input[type=checkbox]').click();
        } else if (ev.key === 'c') {
            document.querySelector('.compare-link')?.click();
        }
    };
    document.addEventListener('keydown', onKey);
    ctx.onCleanup(() => document.removeEventListener('keydown', onKey));
}
