// The experiments page: every experiment with its run counts and last
// activity (GET exptrack/experiments/stats, one request per STATS_MAX_EXPERIMENTS experiments),
// a name search (?q=), and create / rename / delete / restore
// (?view=deleted). On a server without the stats extension the "last run"
// column comes from one small runs/search per experiment instead. A server
// without active runs also shows how to log the first one (first-run.js).
import { mlflow, exptrack, isMissingEndpoint } from './api.js';
import { h, href, withParams, relTime, fmtTime, errorBox } from './util.js';
import { STATS_MAX_EXPERIMENTS } from './limits.js';
import { firstRun } from './first-run.js';

let statsEndpoint = null; // null unknown, true/false once tried

async function listExperiments(viewType) {
    const out = [];
    let token;
    do {
        const r = await mlflow.get('/experiments/search', { max_results: 1000, view_type: viewType, page_token: token });
        out.push(...(r.experiments || []));
        token = r.next_page_token;
    } while (token && out.length < 20000);
    return out;
}

/** The newest run of an experiment (start time), or null: the "last run" column without the stats extension. */
async function lastRun(expId) {
    // the key lists keep the answer small on servers with the select extension
    const r = await mlflow.post('/runs/search', { experiment_ids: [expId], max_results: 1, metric_keys: [], param_keys: [], tag_keys: [] });
    return r.runs?.[0] ?? null;
}

/** Map experiment_id -> stats for ids, or null when the server has no stats extension. */
export async function experimentStats(ids) {
    if (statsEndpoint === false || !ids.length) return statsEndpoint === false ? null : new Map();
    const out = new Map();
    const chunks = [];
    for (let i = 0; i < ids.length; i += STATS_MAX_EXPERIMENTS) chunks.push(ids.slice(i, i + STATS_MAX_EXPERIMENTS));
    try {
        const answers = await Promise.all(chunks.map((c) => exptrack.get('/experiments/stats', { experiment_id: c })));
        statsEndpoint = true;
        for (const a of answers) for (const s of a.experiments || []) out.set(s.experiment_id, s);
        return out;
    } catch (e) {
        if (isMissingEndpoint(e)) { statsEndpoint = false; return null; }
        throw e;
    }
}

export async function render(root, { params }, ctx) {
    const q = params.get('q') || '';
    const view = params.get('view') === 'deleted' ? 'DELETED_ONLY' : 'ACTIVE_ONLY';
    ctx.crumbs([]); // the top bar's Experiments link is the crumb

    const status = h('div', { class: 'status-line', role: 'status' });
    const search = h('input', {
        type: 'search', placeholder: 'Search experiments by name', value: q, 'aria-label': 'search experiments',
        'data-hotkey': '/', class: 'grow',
    });
    const body = h('tbody');
    const table = h('table', { class: 'grid experiments' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', { class: 'num' }, 'ID'), h('th', { class: 'num' }, 'Runs'),
            h('th', {}, 'Created'), h('th', {}, 'Last activity'), h('th', {}, 'Last run'), h('th', {}, ''))),
        body);
    const nameInput = h('input', { type: 'text', placeholder: 'New experiment name', 'aria-label': 'new experiment name', required: true });
    const createForm = h('form', { class: 'inline-form', onsubmit: async (ev) => {
        ev.preventDefault();
        const name = nameInput.value.trim();
        if (!name) return;
        try {
            const r = await mlflow.post('/experiments/create', { name });
            nameInput.value = '';
            location.hash = href('/runs', { exp: r.experiment_id });
        } catch (e) { status.replaceChildren(errorBox(e, 'Create failed')); }
    } }, nameInput, h('button', { type: 'submit', class: 'primary' }, 'Create'));

    root.replaceChildren(
        h('div', { class: 'page-head' }, h('h1', {}, view === 'DELETED_ONLY' ? 'Deleted experiments' : 'Experiments'),
            h('span', { class: 'spacer' }),
            h('a', { href: href('/experiments', { view: view === 'DELETED_ONLY' ? undefined : 'deleted' }), class: 'button' },
                view === 'DELETED_ONLY' ? 'Show active' : 'Show deleted')),
        h('div', { class: 'toolbar' }, search, createForm),
        status, h('div', { class: 'table-wrap' }, table));

    const ql = q.toLowerCase();
    body.append(h('tr', {}, h('td', { colspan: 7, class: 'loading' }, 'Loading…')));
    let exps;
    try { exps = await listExperiments(view); } catch (e) { body.replaceChildren(); status.replaceChildren(errorBox(e, 'Could not list experiments')); return; }
    if (!ctx.alive()) return;

    // one stats fetch for the whole list; the name search only filters rows
    const statsPromise = experimentStats(exps.map((e) => e.experiment_id));
    statsPromise.catch(() => {});
    const draw = (needle) => {
        const shown = exps.filter((e) => !needle || e.name.toLowerCase().includes(needle));
        status.replaceChildren(`${shown.length} of ${exps.length} experiments`);
        if (!shown.length) {
            body.replaceChildren(h('tr', {}, h('td', { colspan: 7, class: 'empty' },
                exps.length ? 'No experiment matches the search.' : 'No experiments yet: create one above, or log a run from a client.')));
            return;
        }
        body.replaceChildren(...shown.map((e) => row(e, view, status)));
        fillStats(body, ctx, status, statsPromise);
    };
    draw(ql);
    // a server without a single active run: how to send it the first one
    if (view === 'ACTIVE_ONLY') {
        statsPromise.then((stats) => {
            if (!ctx.alive() || !stats || !exps.length || [...stats.values()].some((s) => s.active_runs > 0)) return;
            const only = exps.length === 1 ? exps[0].name : '';
            root.querySelector('.toolbar')?.before(firstRun({ origin: location.origin, experiment: only }));
        }, () => {});
    }
    keyboardRows(body, ctx);
    search.addEventListener('input', () => {
        draw(search.value.trim().toLowerCase());
        withParams({ q: search.value.trim() }, { silent: true });
    });
}

function row(e, view, status) {
    const nameCell = h('td', {}, h('a', { href: href('/runs', { exp: e.experiment_id }), class: 'exp-link' }, e.name));
    const actions = h('td', { class: 'actions' });
    if (view === 'DELETED_ONLY') {
        actions.append(h('button', { onclick: () => act(status, () => mlflow.post('/experiments/restore', { experiment_id: e.experiment_id }), 'Restore failed') }, 'Restore'));
    } else {
        actions.append(
            h('button', { onclick: () => rename(e, nameCell, status) }, 'Rename'),
            h('button', { class: 'danger', onclick: () => {
                if (confirm(`Delete experiment "${e.name}" and all its runs? It can be restored later.`)) {
                    act(status, () => mlflow.post('/experiments/delete', { experiment_id: e.experiment_id }), 'Delete failed');
                }
            } }, 'Delete'));
    }
    return h('tr', { dataset: { exp: e.experiment_id } }, nameCell, h('td', { class: 'num' }, e.experiment_id),
        h('td', { class: 'num run-count' }, h('span', { class: 'muted' }, '…')),
        h('td', { title: fmtTime(e.creation_time) }, relTime(e.creation_time)),
        h('td', { class: 'last-activity', title: fmtTime(e.last_update_time) }, relTime(e.last_update_time)),
        h('td', { class: 'last-run' }, h('span', { class: 'muted' }, '…')), actions);
}

async function act(status, fn, what) {
    try { await fn(); window.dispatchEvent(new HashChangeEvent('hashchange')); } catch (e) { status.replaceChildren(errorBox(e, what)); }
}

function rename(e, cell, status) {
    const input = h('input', { type: 'text', value: e.name, 'aria-label': 'new name' });
    const form = h('form', { class: 'inline-form', onsubmit: async (ev) => {
        ev.preventDefault();
        const name = input.value.trim();
        if (!name || name === e.name) { window.dispatchEvent(new HashChangeEvent('hashchange')); return; }
        await act(status, () => mlflow.post('/experiments/update', { experiment_id: e.experiment_id, new_name: name }), 'Rename failed');
    } }, input, h('button', { type: 'submit', class: 'primary' }, 'Save'),
    h('button', { type: 'button', onclick: () => window.dispatchEvent(new HashChangeEvent('hashchange')) }, 'Cancel'));
    cell.replaceChildren(form);
    input.focus();
    input.select();
}

/** Fills the run count, last activity and last run columns from the stats extension. */
async function fillStats(body, ctx, status, statsPromise) {
    const rows = [...body.querySelectorAll('tr[data-exp]')];
    let stats;
    try {
        stats = await statsPromise;
    } catch (e) {
        if (ctx.alive()) status.append(errorBox(e, 'Run counts'));
        for (const tr of rows) tr.querySelector('.run-count').textContent = '';
        return;
    }
    if (!ctx.alive()) return;
    if (!stats) { fillLastRuns(body, ctx); return; }
    const time = (ms, none) => (ms ? h('span', { title: fmtTime(ms) }, relTime(ms)) : h('span', { class: 'muted' }, none));
    for (const tr of rows) {
        const s = stats.get(tr.dataset.exp);
        const count = tr.querySelector('.run-count');
        if (!s) { count.textContent = ''; continue; }
        // the running badge and the deleted count before the number: the counts stay aligned on the right
        count.replaceChildren(...[
            s.deleted_runs ? h('span', { class: 'muted deleted-count', title: `${s.deleted_runs} deleted runs` }, `+${s.deleted_runs} deleted `) : null,
            s.running_runs ? h('span', { class: 'badge status-running', title: `${s.running_runs} running` }, `${s.running_runs}`) : null,
            h('span', { class: 'active-count' }, String(s.active_runs)),
        ].filter(Boolean));
        tr.querySelector('.last-activity').replaceChildren(time(s.last_activity_time, ''));
        tr.querySelector('.last-run').replaceChildren(time(s.last_run_start_time, 'no runs'));
    }
}

/** Fills the "last run" column a few rows at a time (one small search each). */
async function fillLastRuns(body, ctx) {
    const rows = [...body.querySelectorAll('tr[data-exp]')].slice(0, 200);
    for (const tr of body.querySelectorAll('tr[data-exp] .run-count')) tr.textContent = '';
    let i = 0;
    const worker = async () => {
        while (i < rows.length && ctx.alive()) {
            const tr = rows[i++];
            const cell = tr.querySelector('.last-run');
            try {
                const r = await lastRun(tr.dataset.exp);
                cell.replaceChildren(r ? h('span', { title: fmtTime(r.info.start_time) }, relTime(r.info.start_time)) : h('span', { class: 'muted' }, 'no runs'));
            } catch { cell.textContent = ''; }
        }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
}

/** j/k move the cursor between experiments, Enter opens the runs of the one under it. */
function keyboardRows(tbody, ctx) {
    let cur = -1;
    const onKey = (ev) => {
        if (/^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(document.activeElement?.tagName) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
        const rows = [...tbody.querySelectorAll('tr[data-exp]')];
        if (!rows.length) return;
        if (ev.key === 'j' || ev.key === 'k') {
            cur = Math.max(0, Math.min(rows.length - 1, cur + (ev.key === 'j' ? 1 : -1)));
            rows.forEach((r, i) => r.classList.toggle('cursor', i === cur));
            rows[cur].scrollIntoView({ block: 'nearest' });
        } else if (ev.key === 'Enter' && cur >= 0 && rows[cur]) {
            location.hash = href('/runs', { exp: rows[cur].dataset.exp });
        }
    };
    document.addEventListener('keydown', onKey);
    ctx.onCleanup(() => document.removeEventListener('keydown', onKey));
}
