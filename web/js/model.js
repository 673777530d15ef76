// One registered model: description (safe Markdown), tags, aliases, and its
// versions, 100 a page, newest first (version, aliases, stage, status, source
// run, created by, created, tags, description), with alias moves and stage
// transitions behind a confirmation that names the change; and the model's
// audit history.
// URL: #/model/<name>?tab=versions|audit&page=<token>&apage=<token>
// Versions and aliases follow the registry's live stream.
import { mlflow, exptrack } from './api.js';
import { h, href, relTime, fmtTime, errorBox, debounce } from './util.js';
import {
    quote, tag, aliasBadge, stageBadge, tagChips, markdownBlock, confirmChange, changeError, dialogOpen, fill, STAGES,
} from './registry.js';
import { pager } from './models.js';
import { watchRegistry } from './live.js';

const PAGE = 100;

/** alias -> version and version -> [aliases] of a registered model. */
export function aliasMaps(model) {
    const byAlias = new Map(), byVersion = new Map();
    for (const a of model.aliases || []) {
        byAlias.set(a.alias, a.version);
        if (!byVersion.has(a.version)) byVersion.set(a.version, []);
        byVersion.get(a.version).push(a.alias);
    }
    return { byAlias, byVersion };
}

/**
 * Asks for an alias and either moves it to version v or deletes it (the
 * confirmation names the change: where the alias goes, or which version
 * loses it).
 */
export function moveAlias(model, v, after) {
    const { byAlias } = aliasMaps(model);
    const list = `aliases-${Math.random().toString(36).slice(2)}`;
    const group = `alias-action-${Math.random().toString(36).slice(2)}`;
    const own = [...byAlias].filter(([, x]) => x === v).map(([a]) => a);
    const input = h('input', { type: 'text', list, required: true, 'aria-label': 'alias', placeholder: 'champion', value: own[0] || [...byAlias.keys()][0] || '' });
    const moveRadio = h('input', { type: 'radio', name: group, value: 'move', checked: true });
    const deleteRadio = h('input', { type: 'radio', name: group, value: 'delete', class: 'delete-alias' });
    const what = h('p', { class: 'change' });
    const deleting = () => deleteRadio.checked && !deleteRadio.disabled;
    const explain = () => {
        const a = input.value.trim();
        const from = byAlias.get(a);
        deleteRadio.disabled = !from;
        const ok = what.closest('dialog')?.querySelector('button.primary');
        if (ok) ok.textContent = deleting() ? 'Delete alias' : 'Move alias';
        what.textContent = !a ? 'Type an alias.'
            : deleting() ? `@${a} is deleted: version ${from} of ${model.name} loses it; the version itself stays.`
                : from === v ? `@${a} already points to version ${v}.`
                    : from ? `@${a} moves from version ${from} to version ${v} of ${model.name}.`
                        : `New alias @${a} will point to version ${v} of ${model.name}.`;
    };
    input.addEventListener('input', explain);
    moveRadio.addEventListener('change', explain);
    deleteRadio.addEventListener('change', explain);
    const done = confirmChange({
        title: `Set or delete an alias (version ${v})`,
        body: [h('label', {}, 'Alias ', input), h('datalist', { id: list }, [...byAlias.keys()].map((a) => h('option', { value: a }))),
            h('fieldset', { class: 'alias-action' }, h('legend', {}, 'Change'),
                h('label', {}, moveRadio, ` Point it at version ${v}`), ' ',
                h('label', {}, deleteRadio, ' Delete it')),
            what],
        confirmText: 'Move alias',
        action: () => (deleting()
            ? mlflow.del('/registered-models/alias', { name: model.name, alias: input.value.trim() })
            : mlflow.post('/registered-models/alias', { name: model.name, alias: input.value.trim(), version: String(v) })),
        errorText: (e) => changeError(e, deleting() ? `delete aliases of ${model.name}` : `move aliases of ${model.name}`),
    });
    explain(); // the dialog is open now: the button's text follows the choice
    return done.then((ok) => { if (ok) after?.(); return ok; });
}

/**
 * Asks for a stage (to, or chosen in the dialog when to is null) and moves
 * version v there; the confirmation names the move and, for Staging and
 * Production, offers to archive the versions already there.
 */
export function transitionStage(model, v, from, to, versions, after) {
    const choices = STAGES.filter((s) => s !== from);
    const select = h('select', { 'aria-label': 'new stage' }, choices.map((s) => h('option', { value: s, selected: s === to }, s)));
    const archive = h('input', { type: 'checkbox', 'aria-label': 'archive existing versions' });
    const what = h('p', { class: 'change' });
    const archiveLabel = h('label', { class: 'archive' }, archive, h('span', {}));
    const explain = () => {
        const dest = select.value;
        const others = versions.filter((x) => x.version !== v && x.current_stage === dest).map((x) => x.version);
        what.textContent = `Version ${v} of ${model.name} moves from ${from} to ${dest}.`;
        archiveLabel.hidden = dest !== 'Staging' && dest !== 'Production';
        archiveLabel.lastChild.textContent = ` Also archive the other versions in ${dest}${others.length ? ` (on this page: ${others.map((x) => `v${x}`).join(', ')})` : ''}`;
    };
    select.addEventListener('change', explain);
    explain();
    return confirmChange({
        title: `Change the stage of version ${v}`,
        body: [h('label', {}, 'New stage ', select), what, archiveLabel],
        confirmText: 'Change stage',
        action: () => mlflow.post('/model-versions/transition-stage', {
            name: model.name, version: String(v), stage: select.value, archive_existing_versions: !archiveLabel.hidden && archive.checked,
        }),
        errorText: (e) => changeError(e, `change stages of ${model.name}`),
    }).then((done) => { if (done) after?.(); return done; });
}

function versionsTable(model, versions, creators, refresh) {
    const { byVersion } = aliasMaps(model);
    const link = (v) => href(`/model/${encodeURIComponent(model.name)}/${v.version}`);
    const row = (v) => {
        const desc = v.description ? markdownBlock(v.description, 'markdown compact') : '';
        return h('tr', { dataset: { version: v.version } },
            h('td', { class: 'num' }, h('a', { href: link(v) }, `v${v.version}`)),
            h('td', { class: 'aliases' }, (byVersion.get(v.version) || []).map((a) => aliasBadge(a))),
            h('td', {}, stageBadge(v.current_stage)),
            h('td', {}, h('span', { class: `badge vstatus-${String(v.status).toLowerCase()}` }, v.status || '')),
            h('td', {}, v.run_id ? h('a', { href: href(`/run/${v.run_id}`), title: v.run_id }, v.run_id.slice(0, 8)) : h('span', { class: 'muted', title: v.source }, '—')),
            h('td', { class: 'creator' }, v.user_id || tag(v.tags, 'mlflow.user') || creators.get(v.version) || ''),
            h('td', { title: fmtTime(v.creation_timestamp) }, relTime(v.creation_timestamp)),
            h('td', { class: 'tags' }, tagChips(v.tags)),
            h('td', { class: 'desc' }, desc),
            h('td', { class: 'actions' },
                h('button', { type: 'button', class: 'set-stage', onclick: () => transitionStage(model, v.version, v.current_stage, null, versions, refresh) }, 'Stage…'),
                h('button', { type: 'button', class: 'set-alias', onclick: () => moveAlias(model, v.version, refresh) }, 'Set alias…')));
    };
    return h('div', { class: 'table-wrap' }, h('table', { class: 'grid versions' },
        h('thead', {}, h('tr', {}, ...['Version', 'Aliases', 'Stage', 'Status', 'Source run', 'Created by', 'Created', 'Tags', 'Description', 'Actions']
            .map((t) => h('th', { scope: 'col', class: t === 'Version' ? 'num' : null }, t)))), // over its right-aligned numbers
        h('tbody', {}, versions.map(row))));
}

/** The rows of the model's audit trail, one page. */
async function auditTable(name, token) {
    const res = await exptrack.get('/registered-models/audit', { name, max_results: 100, page_token: token || undefined });
    const rows = res.entries || [];
    if (!rows.length) return { node: h('p', { class: 'empty' }, 'No changes recorded.'), next: null };
    const node = h('div', { class: 'table-wrap' }, h('table', { class: 'grid audit' },
        h('thead', {}, h('tr', {}, ...['When', 'Who', 'Action', 'Version', 'Field', 'From', 'To'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rows.map((e) => h('tr', { dataset: { action: e.action } },
            h('td', { title: fmtTime(e.time) }, fmtTime(e.time)),
            h('td', {}, e.username || h('span', { class: 'muted' }, '(no auth)')),
            h('td', {}, h('code', {}, e.action)),
            h('td', {}, e.version ? `v${e.version}` : ''),
            h('td', {}, e.field || ''),
            h('td', { class: 'old', title: e.old_value ?? '' }, e.old_value ?? ''),
            h('td', { class: 'new', title: e.new_value ?? '' }, e.new_value ?? ''))))));
    return { node, next: res.next_page_token };
}

/** early: the reads app.js started with the page (model, versions), used for the first draw. */
export async function render(root, { parts, params, early }, ctx) {
    const name = parts[1];
    const tab = params.get('tab') === 'audit' ? 'audit' : 'versions';
    const token = params.get('page') || '';
    ctx.crumbs([{ text: 'Models', href: '#/models' }, { text: name }]);
    document.title = `${name} · Models · exptrack`;
    const head = h('div', {});
    const body = h('div', { class: 'tab-body' }, h('p', { class: 'loading' }, 'Loading…'));
    const msg = h('div', { class: 'status-line', role: 'status' });
    const tabs = h('nav', { class: 'tabs', 'aria-label': 'model sections' },
        h('a', { href: href(`/model/${encodeURIComponent(name)}`), 'aria-current': tab === 'versions' ? 'page' : null }, 'Versions'),
        h('a', { href: href(`/model/${encodeURIComponent(name)}`, { tab: 'audit' }), 'aria-current': tab === 'audit' ? 'page' : null }, 'History'));
    root.replaceChildren(head, msg, tabs, body);
    const creators = new Map();
    let model = null;
    const load = async () => {
        let versions;
        try {
            const first = early?.model && early?.versions ? early : null;
            early = null; // live reloads read afresh
            [model, versions] = await Promise.all([
                (first?.model ?? mlflow.get('/registered-models/get', { name })).then((r) => r.registered_model),
                tab === 'versions' ? first?.versions ?? mlflow.get('/model-versions/search', {
                    filter: `name = ${quote(name)}`, order_by: ['version_number DESC'], max_results: PAGE, page_token: token || undefined,
                }) : null,
            ]);
        } catch (e) {
            if (ctx.alive()) root.replaceChildren(errorBox(e, `Could not load model ${name}`));
            return;
        }
        if (!ctx.alive()) return;
        const aliasList = (model.aliases || []).slice().sort((a, b) => a.alias.localeCompare(b.alias));
        fill(head,
            h('div', { class: 'page-head' }, h('h1', {}, name),
                aliasList.map((a) => h('a', { href: href(`/model/${encodeURIComponent(name)}/${a.version}`) }, aliasBadge(a.alias, `@${a.alias} → version ${a.version}`), h('span', { class: 'muted' }, ` v${a.version}`))),
                h('span', { class: 'spacer' }), h('span', { class: 'live', title: 'versions and aliases update without a reload' }, 'live')),
            h('div', { class: 'model-meta' },
                h('span', { class: 'muted' }, `created ${fmtTime(model.creation_timestamp)} · last change ${relTime(model.last_updated_timestamp || model.creation_timestamp)}`),
                h('span', { class: 'tags' }, tagChips(model.tags))),
            model.description ? markdownBlock(model.description, 'markdown description') : null);
        if (tab === 'versions') {
            const list = versions.model_versions || [];
            body.replaceChildren(
                list.length ? versionsTable(model, list, creators, load) : h('p', { class: 'empty' }, 'This model has no versions yet.'),
                pager({ token, next: versions.next_page_token }));
            body.dataset.versions = String(list.length);
        } else {
            try {
                const { node, next } = await auditTable(name, params.get('apage'));
                if (!ctx.alive()) return;
                fill(body, node, next ? h('nav', { class: 'pager' }, h('a', { class: 'button', href: href(`/model/${encodeURIComponent(name)}`, { tab: 'audit', apage: next }) }, 'Older changes')) : null);
            } catch (e) { body.replaceChildren(errorBox(e, 'Could not load the history')); }
        }
        body.dataset.loaded = String(Date.now());
    };
    await load();
    if (!ctx.alive() || !model) return;
    performance.mark('exptrack:model-ready');
    if (tab === 'versions') {
        // who created each version: the audit trail's version.create rows, filled in when they arrive
        exptrack.get('/registered-models/audit', { name, max_results: 1000 }).then((r) => {
            for (const e of r.entries || []) if (e.action === 'version.create' && e.username && !creators.has(e.version)) creators.set(e.version, e.username);
            if (!ctx.alive()) return;
            for (const td of body.querySelectorAll('tr[data-version] td.creator')) {
                if (!td.textContent) td.textContent = creators.get(td.parentElement.dataset.version) || '';
            }
        }, () => {});
    }
    let pending = false;
    const reload = debounce(() => {
        if (!ctx.alive()) return;
        if (dialogOpen()) { pending = true; return; }
        load();
    }, 250);
    const timer = setInterval(() => { if (pending && !dialogOpen()) { pending = false; reload(); } }, 500);
    ctx.onCleanup(() => clearInterval(timer));
    ctx.onCleanup(watchRegistry(reload, { openResync: true })); // a change made before the stream opened is read then
    msg.textContent = '';
}
