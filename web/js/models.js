// The models list: registered models (prompts left out, as the registry's
// search does) with a name search, their tags, latest version per stage,
// aliases and last change; 50 a page.
// URL: #/models?q=<name part>&page=<token>
// New models, versions and alias moves show up live (the registry stream).
import { mlflow } from './api.js';
import { h, href, withParams, relTime, fmtTime, errorBox, debounce } from './util.js';
import { containsFilter, aliasBadge, stageBadge, tagChips } from './registry.js';
import { watchRegistry } from './live.js';

const PAGE = 50;

/** Lists registered models (or, with prompts: true, prompts) for one page. */
export async function searchModels({ q, token, prompts = false, max = PAGE }) {
    const parts = [];
    if (prompts) parts.push("tags.`mlflow.prompt.is_prompt` = 'true'");
    if (q) parts.push(containsFilter('name', q));
    return mlflow.get('/registered-models/search', {
        filter: parts.join(' AND ') || undefined, max_results: max, page_token: token || undefined,
        order_by: ['name ASC'],
    });
}

/**
 * The search box shared by the models and prompts lists. Typing records
 * the query in the URL (first page) without drawing the page again, so the
 * box keeps its focus, and calls onQuery(q) to list again.
 */
export function listToolbar({ q, label, placeholder, onQuery }) {
    const input = h('input', {
        type: 'search', value: q, placeholder, 'aria-label': label, 'data-hotkey': '/', class: 'grow',
    });
    const go = debounce(() => {
        const next = input.value.trim();
        withParams({ q: next || undefined, page: undefined }, { silent: true });
        onQuery(next);
    }, 300);
    input.addEventListener('input', go);
    return h('div', { class: 'toolbar', role: 'search' }, input);
}

export function pager({ token, next }) {
    return h('nav', { class: 'pager', 'aria-label': 'pages' },
        token ? h('a', { class: 'button', href: '#', onclick: (ev) => { ev.preventDefault(); withParams({ page: undefined }); } }, 'First page') : null,
        next ? h('a', { class: 'button', rel: 'next', href: '#', onclick: (ev) => { ev.preventDefault(); withParams({ page: next }); } }, 'Next page') : null);
}

function latestCell(m) {
    const lv = (m.latest_versions || []).slice().sort((a, b) => Number(b.version) - Number(a.version));
    if (!lv.length) return h('span', { class: 'muted' }, 'no versions');
    return h('span', { class: 'latest' }, lv.map((v) => h('a', {
        class: 'version-chip', href: href(`/model/${encodeURIComponent(m.name)}/${v.version}`),
    }, `v${v.version} `, stageBadge(v.current_stage))));
}

function aliasesCell(m) {
    return (m.aliases || []).map((a) => h('a', {
        href: href(`/model/${encodeURIComponent(m.name)}/${a.version}`), class: 'alias-link',
    }, aliasBadge(a.alias, `@${a.alias} is version ${a.version}`), h('span', { class: 'muted' }, `→v${a.version}`)));
}

export async function render(root, { params }, ctx) {
    let q = params.get('q') || '';
    let token = params.get('page') || '';
    ctx.crumbs([]); // the top bar's Models link is the crumb
    document.title = 'Models · exptrack';
    const body = h('div', {}, h('p', { class: 'loading' }, 'Loading…'));
    root.replaceChildren(
        h('div', { class: 'page-head' }, h('h1', {}, 'Models'), h('span', { class: 'spacer' }),
            h('span', { class: 'live', title: 'new models, versions and aliases appear without a reload' }, 'live')),
        listToolbar({ q, label: 'search models by name', placeholder: 'Search models by name  ( / )', onQuery: (next) => { q = next; token = ''; load(); } }),
        body);
    let loads = 0; // only the newest listing is drawn (typing starts several)
    const load = async () => {
        const seq = ++loads;
        let res;
        try {
            res = await searchModels({ q, token });
        } catch (e) {
            if (ctx.alive() && seq === loads) body.replaceChildren(errorBox(e, 'Could not list the models'));
            return;
        }
        if (!ctx.alive() || seq !== loads) return;
        const models = res.registered_models || [];
        if (!models.length) {
            body.replaceChildren(h('p', { class: 'empty' }, q ? `No model's name contains "${q}".`
                : 'No registered models yet. Register one with mlflow.register_model() or the Model Registry API.'));
            return;
        }
        body.replaceChildren(
            h('div', { class: 'table-wrap' }, h('table', { class: 'grid models' },
                h('thead', {}, h('tr', {}, ...['Name', 'Latest versions', 'Aliases', 'Tags', 'Last change'].map((t) => h('th', { scope: 'col' }, t)))),
                h('tbody', {}, ...models.map((m) => h('tr', { dataset: { model: m.name } },
                    h('td', {}, h('a', { href: href(`/model/${encodeURIComponent(m.name)}`) }, m.name)),
                    h('td', {}, latestCell(m)),
                    h('td', { class: 'aliases' }, aliasesCell(m)),
                    h('td', { class: 'tags' }, tagChips(m.tags)),
                    h('td', { title: fmtTime(m.last_updated_timestamp || m.creation_timestamp) }, relTime(m.last_updated_timestamp || m.creation_timestamp))))))),
            pager({ token, next: res.next_page_token }));
        body.dataset.loaded = String(Date.now());
    };
    await load();
    const reload = debounce(() => { if (ctx.alive()) load(); }, 250);
    ctx.onCleanup(watchRegistry(reload, { openResync: true })); // a model made before the stream opened is read then
}
