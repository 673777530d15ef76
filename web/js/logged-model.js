// One logged model (MLflow 3): name, id, status, type, source run,
// experiment, times; its params, tags and metrics (a metric logged at
// several steps as a small chart per key, one line per dataset; the others
// as table rows with dataset and step); its files (the MLmodel rendered as
// on the version page: signature tables, the text, requirements.txt); and
// the registered versions made from it. Live: logged-model and run events of
// its experiment (finalized, tags; a metric logged to the model comes through
// a run) read the model again and redraw what changed; registry events read its versions again.
// URL: #/logged-model/<model_id>
import { mlflow, num } from './api.js';
import { h, href, fmtTime, relTime, fmtNum, errorBox, debounce, runColor } from './util.js';
import { quote, aliasBadge, stageBadge, fill, tag } from './registry.js';
import { registeredFrom, STATUS } from './logged-models.js';
import { filesCard } from './model-version.js';
import { watchModels, watchRegistry } from './live.js';
import { draw, chartsReady } from './charts.js';

const FILES_MAX = 500; // files listed per model
const TEXT_MAX = 256 * 1024; // bytes of MLmodel / requirements shown
const VERSIONS_MAX = 50; // registered versions listed
const LIVE_DEBOUNCE_MS = 400; // events of the experiment's runs coalesced into one read of the model
const CHARTS_MAX = 24; // metric keys drawn as charts; the rest stay table rows
const RANGE_MAX = 1000; // widest range of version numbers read by one search

function base(id) {
    return `/api/2.0/mlflow/logged-models/${encodeURIComponent(id)}/artifacts`;
}

/** The URL that downloads one of the model's files. */
export function modelFileUrl(id, path) {
    return `${base(id)}/files?${new URLSearchParams({ artifact_file_path: path })}`;
}

/** Every file of the model (breadth first, up to FILES_MAX): [{path, size}]. */
async function listFiles(id) {
    const out = [];
    const queue = [''];
    while (queue.length && out.length < FILES_MAX) {
        const dir = queue.shift();
        const q = dir ? `?${new URLSearchParams({ artifact_directory_path: dir })}` : '';
        const res = await fetch(`${base(id)}/directories${q}`, { headers: { accept: 'application/json' } });
        if (!res.ok) { if (!dir) throw new Error(`listing the model's files: HTTP ${res.status}`); continue; }
        const json = await res.json();
        for (const f of json.files || []) {
            const leaf = f.path.split('/').pop();
            const rel = dir ? `${dir}/${leaf}` : leaf;
            if (f.is_dir) queue.push(rel); else out.push({ path: rel, size: f.file_size ?? 0 });
        }
    }
    return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** The first TEXT_MAX bytes of one of the model's files as text, or null when missing. */
async function fileText(id, path) {
    const res = await fetch(modelFileUrl(id, path), { headers: { range: `bytes=0-${TEXT_MAX - 1}` } });
    if (res.status === 404) return null;
    if (!res.ok && res.status !== 206) throw new Error(`${path}: HTTP ${res.status}`);
    return (await res.text()).slice(0, TEXT_MAX);
}

/** The files card's data: {files, filesError, mlmodel, requirements}. */
async function filesData(id) {
    const d = { files: null, filesError: null, mlmodel: null, requirements: null };
    try {
        d.files = await listFiles(id);
        const has = (p) => d.files.some((f) => f.path === p);
        [d.mlmodel, d.requirements] = await Promise.all([
            has('MLmodel') ? fileText(id, 'MLmodel') : null,
            has('requirements.txt') ? fileText(id, 'requirements.txt') : null,
        ]);
    } catch (e) { d.filesError = e.message; }
    if (d.files && !d.files.length && !d.filesError) d.filesError = 'No files were uploaded for this model.';
    return d;
}

/**
 * The registered versions made from the model: those its mlflow.modelVersions
 * tag names, and the versions of its source run whose source or model_id is
 * this model; up to VERSIONS_MAX, each with its stage and its aliases (from
 * the registered model). [{name, version, mv (null when not readable), aliases}].
 */
async function versionsOf(model) {
    const id = model.info.model_id;
    const out = new Map();
    for (const x of registeredFrom(model)) out.set(`${x.name}/${x.version}`, { name: x.name, version: String(x.version), mv: null });
    const run = model.info.source_run_id;
    if (run) {
        const found = await mlflow.get('/model-versions/search', { filter: `run_id = ${quote(run)}`, order_by: ['name ASC', 'version_number DESC'], max_results: 1000 })
            .then((r) => r.model_versions || [], () => []);
        for (const mv of found) {
            if (mv.model_id !== id && mv.source !== `models:/${id}`) continue;
            out.set(`${mv.name}/${mv.version}`, { name: mv.name, version: String(mv.version), mv });
        }
    }
    const list = [...out.values()].sort((a, b) => a.name.localeCompare(b.name) || Number(b.version) - Number(a.version)).slice(0, VERSIONS_MAX);
    // the stage of versions known from the tag alone, and every version's aliases (search results carry none)
    const names = [...new Set(list.map((v) => v.name))];
    const [models] = await Promise.all([
        Promise.all(names.map((name) => mlflow.get('/registered-models/get', { name }).then((r) => r.registered_model, () => null))),
        readVersions(list.filter((v) => !v.mv)),
    ]);
    const aliases = new Map();
    for (const m of models.filter(Boolean)) for (const a of m.aliases || []) aliases.set(`${m.name}/${a.version}`, [...(aliases.get(`${m.name}/${a.version}`) || []), a.alias]);
    for (const v of list) v.aliases = (aliases.get(`${v.name}/${v.version}`) || []).sort();
    return list;
}

/**
 * Fills v.mv of each listed version (null when not readable): one
 * model-versions/search per registered model over the range of its listed
 * version numbers, and a model-versions/get each only where that range is
 * wider than RANGE_MAX (the search would read mostly versions not listed).
 */
async function readVersions(list) {
    const byName = new Map();
    for (const v of list) byName.set(v.name, [...(byName.get(v.name) || []), v]);
    await Promise.all([...byName].map(async ([name, vs]) => {
        const nums = vs.map((v) => Number(v.version));
        const lo = Math.min(...nums), hi = Math.max(...nums);
        let found = null;
        if (nums.every(Number.isSafeInteger) && hi - lo < RANGE_MAX) {
            let filter = null;
            try { filter = `name = ${quote(name)} AND version_number >= ${lo} AND version_number <= ${hi}`; } catch { /* both quotes in the name */ }
            if (filter) {
                found = await mlflow.get('/model-versions/search', { filter, max_results: hi - lo + 1 })
                    .then((r) => new Map((r.model_versions || []).map((mv) => [String(mv.version), mv])), () => null);
            }
        }
        await Promise.all(vs.map(async (v) => {
            v.mv = found ? found.get(v.version) ?? null
                : await mlflow.get('/model-versions/get', { name: v.name, version: v.version }).then((r) => r.model_version, () => null);
        }));
    }));
}

function kv(rows, cls = '') {
    if (!rows.length) return h('p', { class: 'muted' }, 'None.');
    return h('table', { class: `kv ${cls}` }, h('tbody', {}, rows.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v)))));
}

/**
 * Splits the model's metric rows: keys logged at more than one step become
 * charts ({key, series: [{label, data: {step, time, value}}]}, one series
 * per dataset, sorted by step), the rest table rows.
 */
export function splitMetrics(metrics) {
    const byKey = new Map();
    for (const m of metrics) {
        if (!byKey.has(m.key)) byKey.set(m.key, []);
        byKey.get(m.key).push(m);
    }
    const charts = [], rows = [];
    for (const key of [...byKey.keys()].sort()) {
        const list = byKey.get(key);
        const steps = new Set(list.map((m) => Number(m.step ?? 0)));
        if (steps.size < 2 || charts.length >= CHARTS_MAX) { rows.push(...list); continue; }
        const bySet = new Map();
        for (const m of list) {
            const ds = m.dataset_name ? `${m.dataset_name}${m.dataset_digest ? ` (${m.dataset_digest})` : ''}` : '';
            if (!bySet.has(ds)) bySet.set(ds, []);
            bySet.get(ds).push(m);
        }
        const series = [...bySet.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([ds, pts]) => {
            pts.sort((a, b) => Number(a.step ?? 0) - Number(b.step ?? 0) || Number(a.timestamp) - Number(b.timestamp));
            return { label: ds || key, dataset: ds, data: { step: pts.map((p) => Number(p.step ?? 0)), time: pts.map((p) => Number(p.timestamp)), value: pts.map((p) => num(p.value)) } };
        });
        charts.push({ key, series, points: list.length });
    }
    return { charts, rows };
}

function metricsTable(metrics) {
    const rows = metrics.slice().sort((a, b) => a.key.localeCompare(b.key) || (a.dataset_name || '').localeCompare(b.dataset_name || '') || a.step - b.step);
    return h('div', { class: 'table-wrap' }, h('table', { class: 'grid lm-metrics' },
        h('thead', {}, h('tr', {}, ['Metric', 'Value', 'Step', 'Dataset', 'Logged'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rows.map((m) => h('tr', { dataset: { metric: m.key } },
            h('td', {}, m.key),
            h('td', { class: 'num' }, fmtNum(num(m.value))),
            h('td', { class: 'num' }, String(m.step ?? 0)),
            h('td', { class: 'dataset' }, m.dataset_name ? [m.dataset_name, m.dataset_digest ? h('span', { class: 'muted' }, ` (${m.dataset_digest})`) : null] : h('span', { class: 'muted' }, '—')),
            h('td', { title: fmtTime(m.timestamp) }, relTime(m.timestamp)))))));
}

/**
 * Fills card with the model's metrics: a chart per key logged at several
 * steps (drawn once uPlot is there; plots collects them for disposal), a
 * table of the others.
 */
function fillMetrics(card, metrics, plots, ctx) {
    for (const u of plots) u.dispose();
    plots.clear();
    const { charts, rows } = splitMetrics(metrics);
    const grid = charts.length ? h('div', { class: 'chart-grid lm-charts' }, charts.map((c) => {
        const last = c.series.map((x) => x.data.value[x.data.value.length - 1]);
        return h('div', { class: 'chart-card lm-chart', dataset: { metric: c.key, steps: String(Math.max(...c.series.map((x) => x.data.step.length))) } },
            h('div', { class: 'chart-title', title: `${c.key}, last: ${c.series.map((x, j) => `${c.series.length > 1 ? `${x.label} ` : ''}${fmtNum(last[j])}`).join(', ')}` },
                c.key, c.series.length === 1 ? h('span', { class: 'muted' }, ` ${fmtNum(last[0])}`) : null),
            h('div', { class: 'plot', role: 'img', 'aria-label': `${c.key} over steps${c.series.length > 1 ? `, one line per dataset: ${c.series.map((x) => x.label).join(', ')}` : ''}` }, h('div', { class: 'placeholder' }, 'Loading…')));
    })) : null;
    fill(card, h('h2', {}, `Metrics (${metrics.length})`),
        !metrics.length ? h('p', { class: 'muted' }, 'None.') : null,
        grid, rows.length ? metricsTable(rows) : null);
    card.dataset.charts = String(charts.length);
    if (!charts.length) return;
    chartsReady().then(() => {
        if (!ctx.alive() || !grid.isConnected) return;
        charts.forEach((c, i) => {
            const el = grid.children[i];
            const plot = el.querySelector('.plot');
            const series = c.series.map((x, j) => ({ label: x.label, color: runColor(`${c.key}\u0000${x.dataset || j}`), data: x.data }));
            plots.add(draw(plot, series, { xmode: 'step', sync: 'logged-model', height: 180 }));
            el.dataset.drawn = '1';
        });
    }, (e) => { for (const p of grid.querySelectorAll('.plot')) p.replaceChildren(h('div', { class: 'placeholder' }, `Charts unavailable: ${e.message}`)); });
}

/** A refused or failed read in words a user can act on. */
function refusal(e, id) {
    if (e?.status === 404 || e?.code === 'RESOURCE_DOES_NOT_EXIST') {
        return h('div', { class: 'error', role: 'alert' }, `There is no logged model ${id} (it may have been deleted). (${e.message})`);
    }
    if (e?.status === 403 || e?.code === 'PERMISSION_DENIED') {
        return h('div', { class: 'error', role: 'alert' }, `You do not have permission to read this logged model. Ask an owner of its experiment for READ on it. (${e.message})`);
    }
    return errorBox(e, 'Could not load the logged model');
}

/** early.model: the logged-models/<id> read app.js started with the page, if any. */
export async function render(root, { parts, early }, ctx) {
    const id = parts[1] || '';
    // data-ready on #view: the files and versions are drawn (tests wait for it)
    delete root.dataset.ready;
    ctx.onCleanup(() => delete root.dataset.ready);
    let model;
    try {
        model = (await (early?.model ?? mlflow.get(`/logged-models/${encodeURIComponent(id)}`))).model;
    } catch (e) {
        if (!ctx.alive()) return;
        ctx.crumbs([{ text: 'Experiments', href: '#/experiments' }, { text: id }]);
        document.title = 'Logged model · exptrack';
        root.replaceChildren(refusal(e, id));
        return;
    }
    if (!ctx.alive()) return;
    const info = model.info;
    const exp = info.experiment_id;
    const name = info.name || info.model_id;
    const crumbs = (expName) => ctx.crumbs([{ text: 'Experiments', href: '#/experiments' }, { text: expName, href: href('/runs', { exp }) },
        { text: 'Models', href: href('/logged-models', { exp }) }, { text: name }]);
    crumbs(`#${exp}`);
    const expLink = h('a', { href: href('/logged-models', { exp }), class: 'exp-name' }, exp);
    mlflow.get('/experiments/get', { experiment_id: exp }).then((r) => {
        if (!ctx.alive()) return;
        crumbs(r.experiment.name);
        expLink.textContent = r.experiment.name;
    }, () => {});
    document.title = `${name} · logged model · exptrack`;

    const head = h('div', { class: 'page-head' });
    const overview = h('section', { class: 'card lm-overview' });
    const paramsCard = h('section', { class: 'card lm-params' });
    const tagsCard = h('section', { class: 'card lm-tags' });
    const metricsCard = h('section', { class: 'card lm-metrics-card' });
    const plots = new Set();
    ctx.onCleanup(() => { for (const u of plots) u.dispose(); plots.clear(); });
    // the parts that follow the model's read (drawn again when it changes)
    const show = (m) => {
        const i = m.info;
        const status = STATUS[i.status] || i.status || '';
        const params = (m.data?.params || []).slice().sort((a, b) => a.key.localeCompare(b.key));
        const tags = (i.tags || []).slice().sort((a, b) => a.key.localeCompare(b.key));
        fill(head, h('h1', {}, name), h('span', { class: `badge lm-status lm-status-${status.toLowerCase()}` }, status), live);
        fill(overview, h('h2', {}, 'Overview'), kv([
            ['Model ID', h('code', {}, i.model_id)],
            ['Name', i.name || ''],
            ['Status', status],
            ['Type', i.model_type || h('span', { class: 'muted' }, '—')],
            ['Source run', i.source_run_id ? h('a', { class: 'source-run', href: href(`/run/${i.source_run_id}`) }, i.source_run_id) : h('span', { class: 'muted' }, 'none')],
            ['Experiment', expLink],
            ['Created', h('span', {}, fmtTime(i.creation_timestamp_ms), ' ', h('span', { class: 'muted' }, `(${relTime(i.creation_timestamp_ms)})`))],
            ['Updated', i.last_updated_timestamp_ms ? fmtTime(i.last_updated_timestamp_ms) : h('span', { class: 'muted' }, '—')],
            ['Artifact location', h('code', {}, i.artifact_uri || '')],
        ], 'overview'));
        fill(paramsCard, h('h2', {}, `Parameters (${params.length})`), kv(params.map((p) => [p.key, p.value]), 'params'));
        fill(tagsCard, h('h2', {}, `Tags (${tags.length})`), kv(tags.map((t) => [t.key, t.value]), 'tags'));
        fillMetrics(metricsCard, m.data?.metrics || [], plots, ctx);
    };
    const live = h('span', { class: 'live', title: 'this page follows the model: metrics logged to it and new registered versions show without a reload' }, 'live');
    const filesBox = h('div', { class: 'lm-files' }, h('section', { class: 'card files' }, h('h2', {}, 'Files'), h('p', { class: 'loading' }, 'Loading…')));
    const versionsBox = h('section', { class: 'card lm-versions' }, h('h2', {}, 'Registered versions'), h('p', { class: 'loading' }, 'Loading…'));
    const showVersions = (versions) => fill(versionsBox, h('h2', {}, `Registered versions (${versions.length})`),
        versions.length ? h('ul', { class: 'run-versions' }, versions.map((v) => h('li', { dataset: { version: `${v.name}/${v.version}` } },
            h('a', { href: href(`/model/${encodeURIComponent(v.name)}/${v.version}`) }, `${v.name} v${v.version}`),
            v.mv ? [' ', stageBadge(v.mv.current_stage)] : h('span', { class: 'muted' }, ' (not readable)'),
            v.aliases.map((a) => [' ', aliasBadge(a)]))))
            : h('p', { class: 'muted' }, 'None: this model has not been registered.'));
    fill(root, head, h('div', { class: 'run-grid lm-page' }, overview, versionsBox, paramsCard, tagsCard), metricsCard, filesBox);
    show(model);
    follow(model, { show, showVersions, filesBox, ctx });
    const [files, versions] = await Promise.all([filesData(info.model_id), versionsOf(model)]);
    if (!ctx.alive()) return;
    filesBox.replaceChildren(filesCard(files, (p) => modelFileUrl(info.model_id, p)));
    showVersions(versions);
    root.dataset.ready = '1';
}

/** What a live read compares: a model that differs in these is drawn again. */
function fingerprint(m) {
    const i = m.info;
    return JSON.stringify([i.status, i.name, i.model_type, i.last_updated_timestamp_ms, i.tags, m.data?.params, m.data?.metrics]);
}

/**
 * Follows the model while the page is open: a logged-model event of its
 * experiment (a model finalized, tagged, deleted) or an event of a run of
 * it (metrics logged to the model come through a run; the source run's
 * status and tags too) reads the model again, debounced, and draws the
 * changed parts again; a new status also lists the files again. A registry
 * event (or a changed mlflow.modelVersions tag) reads the versions again.
 * A resync does both. Stops with the view.
 */
function follow(model, { show, showVersions, filesBox, ctx }) {
    const id = model.info.model_id;
    let seen = fingerprint(model), status = model.info.status, versionsTag = tag(model.info.tags, 'mlflow.modelVersions');
    let current = model;
    const versions = debounce(async () => {
        const list = await versionsOf(current).catch(() => null);
        if (list && ctx.alive()) showVersions(list);
    }, LIVE_DEBOUNCE_MS);
    const reread = debounce(async () => {
        if (!ctx.alive()) return;
        let next;
        try { next = (await mlflow.get(`/logged-models/${encodeURIComponent(id)}`)).model; } catch { return; } // kept as shown; the next event retries
        if (!ctx.alive() || fingerprint(next) === seen) return;
        seen = fingerprint(next);
        current = next;
        show(next);
        if (next.info.status !== status) {
            status = next.info.status;
            const files = await filesData(id);
            if (ctx.alive()) filesBox.replaceChildren(filesCard(files, (p) => modelFileUrl(id, p)));
        }
        const vt = tag(next.info.tags, 'mlflow.modelVersions');
        if (vt !== versionsTag) { versionsTag = vt; versions(); }
    }, LIVE_DEBOUNCE_MS);
    const stops = [
        watchModels(model.info.experiment_id, (ev) => {
            reread();
            if (ev.kind === 'resync') versions();
        }, { openResync: true }), // what was written before the streams opened is read then
        watchRegistry((ev) => {
            versions();
            if (ev.kind === 'resync') reread();
        }, { openResync: true }),
    ];
    ctx.onCleanup(() => { for (const s of stops) s(); });
}
