// One model version and where it came from: its stage, aliases, tags and
// description; the source run (params, latest metrics, dataset inputs, a
// link); the logged model (id, status, metrics) and the version's files
// (the MLmodel text, its signature as tables, requirements.txt); and a diff
// against another version of the model (params, metrics, signature, and
// files compared by their SHA-256).
// URL: #/model/<name>/<version>?diff=<other version>
import { mlflow, num } from './api.js';
import { h, href, withParams, fmtTime, relTime, fmtNum, statusBadge, runName, errorBox, debounce } from './util.js';
import { quote, aliasBadge, stageBadge, tagChips, markdownBlock, dialogOpen, fill } from './registry.js';
import { moveAlias, transitionStage } from './model.js';
import { parseMLmodel, columnRow } from './mlmodel.js';
import { mapDiff } from './diff.js';
import { watchRegistry } from './live.js';

const FILES_MAX = 500; // files listed per version
const TEXT_MAX = 256 * 1024; // bytes of MLmodel / requirements shown

const PROXY = 'mlflow-artifacts:';

/** The proxy path of an mlflow-artifacts: URI, or null. */
export function proxyPath(uri) {
    if (!uri || !uri.startsWith(PROXY)) return null;
    let p = uri.slice(PROXY.length);
    if (p.startsWith('//')) p = p.slice(p.indexOf('/', 2) < 0 ? p.length : p.indexOf('/', 2));
    return p.replace(/^\/+/, '').replace(/\/+$/, '');
}

/** Every file under a proxy path (breadth first, up to FILES_MAX): [{path, size}]. */
async function listFiles(root) {
    const out = [];
    const queue = [''];
    while (queue.length && out.length < FILES_MAX) {
        const dir = queue.shift();
        const res = await fetch(`/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(dir ? `${root}/${dir}` : root)}`, { headers: { accept: 'application/json' } });
        if (!res.ok) { if (!dir) throw new Error(`listing the version's files: HTTP ${res.status}`); continue; }
        const json = await res.json();
        for (const f of json.files || []) {
            const rel = dir ? `${dir}/${f.path.split('/').pop()}` : f.path.split('/').pop();
            if (f.is_dir) queue.push(rel); else out.push({ path: rel, size: f.file_size ?? 0 });
        }
    }
    return out.sort((a, b) => a.path.localeCompare(b.path));
}

function fileUrl(name, version, path) {
    return `/api/2.0/mlflow/model-versions/get-artifact?${new URLSearchParams({ name, version, path })}`;
}

/** The first TEXT_MAX bytes of a version's file as text, or null when it is missing. */
async function fileText(name, version, path) {
    const res = await fetch(fileUrl(name, version, path), { headers: { range: `bytes=0-${TEXT_MAX - 1}` } });
    if (res.status === 404) return null;
    if (!res.ok && res.status !== 206) throw new Error(`${path}: HTTP ${res.status}`);
    return await res.text();
}

/** A file's SHA-256 (its ETag) read with a one-byte range request. */
async function fileHash(name, version, path) {
    const res = await fetch(fileUrl(name, version, path), { headers: { range: 'bytes=0-0' } });
    await res.arrayBuffer();
    return (res.headers.get('etag') || '').replace(/"/g, '') || null;
}

/** Everything the page shows about one version (parts that fail are null, with why). */
export async function versionData(name, version, { hashes = false } = {}) {
    const mv = (await mlflow.get('/model-versions/get', { name, version })).model_version;
    const d = { mv, run: null, lm: null, files: null, filesError: null, mlmodel: null, requirements: null, uri: null };
    const lmId = /^models:\/(m-[0-9a-f]{32})$/.exec(mv.source || '')?.[1];
    const [run, lm, uri] = await Promise.all([
        mv.run_id ? mlflow.get('/runs/get', { run_id: mv.run_id }).then((r) => r.run, () => null) : null,
        lmId ? mlflow.get(`/logged-models/${lmId}`).then((r) => r.model, () => null) : null,
        mlflow.get('/model-versions/get-download-uri', { name, version }).then((r) => r.artifact_uri, () => mv.source),
    ]);
    Object.assign(d, { run, lm, uri });
    const root = proxyPath(uri);
    if (!root) { d.filesError = `The files are stored outside this server (${uri || 'no location'}).`; return d; }
    try {
        d.files = await listFiles(root);
    } catch (e) { d.filesError = e.message; return d; }
    const has = (p) => d.files.some((f) => f.path === p);
    const [mlmodel, req] = await Promise.all([
        has('MLmodel') ? fileText(name, version, 'MLmodel') : null,
        has('requirements.txt') ? fileText(name, version, 'requirements.txt') : null,
        hashes ? Promise.all(d.files.map(async (f) => { f.hash = await fileHash(name, version, f.path).catch(() => null); })) : null,
    ]);
    d.mlmodel = mlmodel;
    d.requirements = req;
    return d;
}

function kv(rows, cls = '') {
    if (!rows.length) return h('p', { class: 'muted' }, 'None.');
    return h('table', { class: `kv ${cls}` }, h('tbody', {}, rows.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v)))));
}

/**
 * A link to experiment id (its name filled in later by nameExperiments):
 * the id until then, and for good when the experiment is gone or not readable.
 */
function expLink(id, to) {
    return h('a', { href: to, class: 'exp-name', title: `experiment ${id}`, dataset: { exp: id } }, id);
}

/**
 * Names the experiment links under box (expLink): one experiments/get per
 * distinct experiment (a version's run and logged model share theirs), not
 * one per link, and none for an id already in cache (id -> Promise of the
 * name, kept by the page across its redraws). A link whose experiment
 * cannot be read keeps its id.
 */
async function nameExperiments(box, alive = () => true, cache = new Map()) {
    const links = [...box.querySelectorAll('a.exp-name[data-exp]')];
    for (const id of new Set(links.map((a) => a.dataset.exp))) {
        if (!cache.has(id)) cache.set(id, mlflow.get('/experiments/get', { experiment_id: id }).then((r) => r.experiment?.name || '', () => ''));
    }
    const names = new Map(await Promise.all([...cache].map(async ([id, p]) => [id, await p])));
    if (!alive()) return;
    for (const a of links) {
        const name = names.get(a.dataset.exp);
        if (name) a.textContent = name;
        else a.dataset.unnamed = '1';
    }
}

function runCard(d) {
    const { mv, run } = d;
    if (!mv.run_id) return h('section', { class: 'card lineage-run' }, h('h2', {}, 'Source run'), h('p', { class: 'muted' }, 'This version names no source run.'));
    if (!run) return h('section', { class: 'card lineage-run' }, h('h2', {}, 'Source run'), h('p', {}, 'Run ', h('code', {}, mv.run_id), ' could not be read (deleted, or not visible to you).'));
    const params = (run.data?.params || []).slice().sort((a, b) => a.key.localeCompare(b.key));
    const metrics = (run.data?.metrics || []).slice().sort((a, b) => a.key.localeCompare(b.key));
    const datasets = run.inputs?.dataset_inputs || [];
    return h('section', { class: 'card lineage-run' },
        h('h2', {}, 'Source run'),
        h('p', {}, h('a', { href: href(`/run/${run.info.run_id}`), class: 'run-link' }, runName(run)), ' ', statusBadge(run.info.status),
            h('span', { class: 'muted' }, ` started ${fmtTime(run.info.start_time)} · experiment `),
            expLink(run.info.experiment_id, href('/runs', { exp: run.info.experiment_id }))),
        h('h3', {}, `Parameters (${params.length})`), kv(params.map((p) => [p.key, p.value]), 'params'),
        h('h3', {}, `Metrics (${metrics.length})`), kv(metrics.map((m) => [m.key, fmtNum(num(m.value))]), 'metrics'),
        h('h3', {}, `Dataset inputs (${datasets.length})`),
        datasets.length ? h('table', { class: 'grid datasets' },
            h('thead', {}, h('tr', {}, ['Name', 'Digest', 'Source', 'Context'].map((t) => h('th', { scope: 'col' }, t)))),
            h('tbody', {}, datasets.map((x) => h('tr', {},
                h('td', {}, x.dataset?.name ?? ''), h('td', {}, h('code', {}, x.dataset?.digest ?? '')),
                h('td', { title: x.dataset?.source ?? '' }, x.dataset?.source_type ?? ''),
                h('td', {}, (x.tags || []).map((t) => `${t.key}=${t.value}`).join(', ')))))) : h('p', { class: 'muted' }, 'None.'));
}

function loggedModelCard(d) {
    const { lm } = d;
    if (!lm) return null;
    const metrics = lm.data?.metrics || [];
    const latest = new Map();
    for (const m of metrics) {
        const k = m.dataset_name ? `${m.key} (${m.dataset_name})` : m.key;
        const o = latest.get(k);
        if (!o || m.step > o.step || (m.step === o.step && m.timestamp >= o.timestamp)) latest.set(k, m);
    }
    return h('section', { class: 'card lineage-model' }, h('h2', {}, 'Logged model'),
        kv([
            ['Model ID', h('a', { class: 'logged-model-link', href: href(`/logged-model/${lm.info.model_id}`) }, h('code', {}, lm.info.model_id))],
            ['Name', lm.info.name || ''],
            ['Status', lm.info.status || ''],
            ['Type', lm.info.model_type || ''],
            ['Created', fmtTime(lm.info.creation_timestamp_ms)],
            ['Experiment', expLink(lm.info.experiment_id, href('/logged-models', { exp: lm.info.experiment_id }))],
        ], 'overview'),
        h('h3', {}, `Metrics (${latest.size})`), kv([...latest].sort().map(([k, m]) => [k, fmtNum(num(m.value))])),
        h('h3', {}, 'Parameters'), kv((lm.data?.params || []).map((p) => [p.key, p.value])));
}

export function signatureTables(sig) {
    if (!sig) return h('p', { class: 'muted' }, 'The MLmodel file has no signature.');
    const table = (title, cols) => (cols ? [h('h3', {}, title), h('table', { class: 'grid signature', dataset: { part: title.toLowerCase() } },
        h('thead', {}, h('tr', {}, ['Name', 'Type', 'Shape', 'Required', 'Default'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, cols.map((c, i) => h('tr', {}, columnRow(c, i).map((x) => h('td', {}, x))))))] : []);
    return h('div', {}, table('Inputs', sig.inputs), table('Outputs', sig.outputs), table('Params', sig.params));
}

/**
 * The files card of a model's files d ({files, filesError, mlmodel,
 * requirements}): the list (urlOf(path) downloads one), the signature, the
 * MLmodel text and requirements.txt. Shared with the logged model page.
 */
export function filesCard(d, urlOf) {
    const card = h('section', { class: 'card files' }, h('h2', {}, 'Files'));
    if (d.filesError) { card.append(h('p', { class: 'muted' }, d.filesError)); return card; }
    card.append(h('table', { class: 'grid file-list' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Path'), h('th', { scope: 'col', class: 'num' }, 'Size'))),
        h('tbody', {}, d.files.map((f) => h('tr', {},
            h('td', {}, h('a', { href: urlOf(f.path), download: f.path.split('/').pop() }, f.path)),
            h('td', { class: 'num' }, fmtBytes(f.size)))))));
    const parsed = d.mlmodel !== null ? parseMLmodel(d.mlmodel) : null;
    card.append(h('h3', {}, 'Signature'), parsed ? signatureTables(parsed.signature) : h('p', { class: 'muted' }, 'No MLmodel file.'));
    if (parsed) card.append(h('details', { class: 'mlmodel' }, h('summary', {}, `MLmodel${parsed.flavors.length ? ` (flavors: ${parsed.flavors.join(', ')})` : ''}`), h('pre', { class: 'file-text' }, d.mlmodel)));
    const reqs = d.requirements === null ? [] : d.requirements.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    card.append(h('h3', {}, 'Requirements'), reqs.length ? h('ul', { class: 'requirements' }, reqs.map((r) => h('li', {}, h('code', {}, r)))) : h('p', { class: 'muted' }, 'No requirements.txt.'));
    return card;
}

export function fmtBytes(n) {
    if (!Number.isFinite(n)) return '';
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
    if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
    return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/**
 * A row's change in words: "only in v1" rather than mapDiff's added /
 * removed, which read backwards beside "v2 against v1" (a key only in v2 is
 * new in v2, not removed).
 */
function changeText(change, a, b) {
    if (change === 'same') return '';
    if (change === 'added') return `only in v${b}`;
    if (change === 'removed') return `only in v${a}`;
    return change;
}

/** A diff table of rows from mapDiff; unchanged rows hidden behind a toggle. */
function diffTable(title, rows, a, b, fmt = (x) => x ?? '') {
    const changed = rows.filter((r) => r.change !== 'same');
    const section = h('section', { class: 'diff-section', dataset: { part: title.toLowerCase() } },
        h('h3', {}, `${title} `, h('span', { class: 'muted' }, changed.length ? `(${changed.length} of ${rows.length} differ)` : `(all ${rows.length} the same)`)));
    if (!rows.length) { section.append(h('p', { class: 'muted' }, 'None on either side.')); return section; }
    section.append(h('table', { class: 'grid diff' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Key'), h('th', { scope: 'col' }, `v${a}`), h('th', { scope: 'col' }, `v${b}`), h('th', { scope: 'col' }, ''))),
        h('tbody', {}, rows.map((r) => h('tr', { class: `change-${r.change}`, dataset: { key: r.key } },
            h('td', {}, r.key), h('td', {}, fmt(r.a)), h('td', {}, fmt(r.b)), h('td', { class: 'muted' }, changeText(r.change, a, b)))))));
    return section;
}

function sigMap(d) {
    const m = new Map();
    const parsed = d.mlmodel ? parseMLmodel(d.mlmodel) : null;
    for (const part of ['inputs', 'outputs', 'params']) {
        (parsed?.signature?.[part] || []).forEach((c, i) => {
            const [name, type, shape, req] = columnRow(c, i);
            m.set(`${part}.${name}`, `${type}${shape ? ` ${shape}` : ''}${req === 'optional' ? ' (optional)' : ''}`);
        });
    }
    return m;
}

/** The diff of two versions' data (d: this one, o: the other). */
export function versionDiff(d, o) {
    const a = d.mv.version, b = o.mv.version;
    const params = (x) => new Map((x.run?.data?.params || []).map((p) => [p.key, p.value]));
    const metrics = (x) => new Map((x.run?.data?.metrics || []).map((m) => [m.key, fmtNum(num(m.value))]));
    const files = (x) => new Map((x.files || []).map((f) => [f.path, f.hash || `${f.size} B`]));
    const short = (v) => (v && /^[0-9a-f]{64}$/.test(v) ? v.slice(0, 12) : v ?? '');
    return h('div', { class: 'version-diff' },
        diffTable('Parameters', mapDiff(params(d), params(o)), a, b),
        diffTable('Metrics', mapDiff(metrics(d), metrics(o)), a, b),
        diffTable('Signature', mapDiff(sigMap(d), sigMap(o)), a, b),
        diffTable('Files', mapDiff(files(d), files(o)), a, b, short));
}

export async function render(root, { parts, params }, ctx) {
    const name = parts[1], version = parts[2];
    const other = params.get('diff') || '';
    const modelHref = href(`/model/${encodeURIComponent(name)}`);
    ctx.crumbs([{ text: 'Models', href: '#/models' }, { text: name, href: modelHref }, { text: `Version ${version}` }]);
    document.title = `${name} v${version} · exptrack`;
    let d, model, siblings;
    const expNames = new Map(); // experiment id -> Promise of its name, read once per page
    const load = async () => {
        try {
            [d, model, siblings] = await Promise.all([
                versionData(name, version, { hashes: !!other }),
                mlflow.get('/registered-models/get', { name }).then((r) => r.registered_model),
                mlflow.get('/model-versions/search', { filter: `name = ${quote(name)}`, order_by: ['version_number DESC'], max_results: 1000 })
                    .then((r) => r.model_versions || [], () => []),
            ]);
        } catch (e) {
            if (ctx.alive()) root.replaceChildren(errorBox(e, `Could not load version ${version} of ${name}`));
            return false;
        }
        if (!ctx.alive()) return false;
        const mv = d.mv;
        const refresh = () => load();
        const picker = h('select', { 'aria-label': 'compare with version', onchange: (ev) => withParams({ diff: ev.target.value || undefined }) },
            h('option', { value: '' }, '—'),
            siblings.filter((v) => v.version !== mv.version).map((v) => h('option', { value: v.version, selected: v.version === other }, `v${v.version}`)));
        const diffBox = h('div', { class: 'diff-box' }, other ? h('p', { class: 'loading' }, `Comparing with v${other}…`) : null);
        const compare = h('section', { class: 'card version-compare' }, h('div', { class: 'section-head' }, h('h2', {}, 'Compare'), h('label', {}, `v${mv.version} against `, picker)), diffBox);
        fill(root,
            h('div', { class: 'page-head' }, h('h1', {}, `${name} `, h('span', { class: 'muted' }, `v${mv.version}`)),
                (mv.aliases || []).map((a) => aliasBadge(a)), stageBadge(mv.current_stage),
                h('span', { class: 'spacer' }),
                h('span', { class: 'head-actions' },
                    h('button', { type: 'button', class: 'set-stage', onclick: () => transitionStage(model, mv.version, mv.current_stage, null, siblings, refresh) }, 'Stage…'),
                    h('button', { type: 'button', class: 'set-alias', onclick: () => moveAlias(model, mv.version, refresh) }, 'Set alias…'))),
            h('div', { class: 'model-meta' },
                h('span', { class: 'muted' }, `created ${fmtTime(mv.creation_timestamp)} (${relTime(mv.creation_timestamp)}) · status ${mv.status}`),
                h('span', { class: 'tags' }, tagChips(mv.tags))),
            h('p', { class: 'muted source' }, 'Source: ', h('code', {}, mv.source || '')),
            mv.description ? markdownBlock(mv.description, 'markdown description') : null,
            // a comparison asked for (diff=) comes first, not below the files
            other ? compare : null,
            h('div', { class: 'run-grid lineage' }, runCard(d), loggedModelCard(d)),
            filesCard(d, (p) => fileUrl(mv.name, mv.version, p)),
            other ? null : compare);
        nameExperiments(root, () => ctx.alive(), expNames);
        if (other) {
            try {
                if (!d.files?.every((f) => 'hash' in f)) d = await versionData(name, version, { hashes: true });
                const o = await versionData(name, other, { hashes: true });
                if (!ctx.alive()) return false;
                diffBox.replaceChildren(versionDiff(d, o));
                diffBox.dataset.ready = '1';
            } catch (e) { diffBox.replaceChildren(errorBox(e, `Could not compare with v${other}`)); }
        }
        return true;
    };
    if (!await load()) return;
    const reload = debounce(() => { if (ctx.alive() && !dialogOpen()) load(); }, 300);
    ctx.onCleanup(watchRegistry(reload, { openResync: true })); // a change made before the stream opened is read then
}
