// The prompts list: registered models tagged mlflow.prompt.is_prompt, with
// a name search, latest version, aliases, tags and last change; 50 a page.
// URL: #/prompts?q=<name part>&page=<token>
import { h, href, relTime, fmtTime, errorBox, debounce } from './util.js';
import { aliasBadge, tagChips } from './registry.js';
import { searchModels, listToolbar, pager } from './models.js';
import { watchRegistry } from './live.js';

export async function render(root, { params }, ctx) {
    let q = params.get('q') || '';
    let token = params.get('page') || '';
    ctx.crumbs([]); // the top bar's Prompts link is the crumb
    document.title = 'Prompts · exptrack';
    const body = h('div', {}, h('p', { class: 'loading' }, 'Loading…'));
    root.replaceChildren(
        h('div', { class: 'page-head' }, h('h1', {}, 'Prompts')),
        listToolbar({ q, label: 'search prompts by name', placeholder: 'Search prompts by name  ( / )', onQuery: (next) => { q = next; token = ''; load(); } }),
        body);
    let loads = 0; // only the newest listing is drawn (typing starts several)
    const load = async () => {
        const seq = ++loads;
        let res;
        try {
            res = await searchModels({ q, token, prompts: true });
        } catch (e) {
            if (ctx.alive() && seq === loads) body.replaceChildren(errorBox(e, 'Could not list the prompts'));
            return;
        }
        if (!ctx.alive() || seq !== loads) return;
        const list = res.registered_models || [];
        if (!list.length) {
            body.replaceChildren(h('p', { class: 'empty' }, q ? `No prompt's name contains "${q}".`
                : 'No prompts yet. Register one with mlflow.genai.register_prompt().'));
            return;
        }
        body.replaceChildren(h('div', { class: 'table-wrap' }, h('table', { class: 'grid prompts' },
            h('thead', {}, h('tr', {}, ['Name', 'Latest version', 'Aliases', 'Tags', 'Last change'].map((t) => h('th', { scope: 'col' }, t)))),
            h('tbody', {}, list.map((p) => {
                const latest = Math.max(0, ...(p.latest_versions || []).map((v) => Number(v.version)));
                const link = (v) => href(`/prompt/${encodeURIComponent(p.name)}`, { v });
                return h('tr', { dataset: { prompt: p.name } },
                    h('td', {}, h('a', { href: link() }, p.name)),
                    h('td', {}, latest ? h('a', { href: link(latest) }, `v${latest}`) : h('span', { class: 'muted' }, 'none')),
                    h('td', { class: 'aliases' }, (p.aliases || []).map((a) => h('a', { href: link(a.version) }, aliasBadge(a.alias, `@${a.alias} → version ${a.version}`)))),
                    h('td', { class: 'tags' }, tagChips((p.tags || []).filter((t) => !t.key.startsWith('_mlflow')))),
                    h('td', { title: fmtTime(p.last_updated_timestamp || p.creation_timestamp) }, relTime(p.last_updated_timestamp || p.creation_timestamp)));
            })))), pager({ token, next: res.next_page_token }));
        body.dataset.loaded = String(Date.now());
    };
    await load();
    ctx.onCleanup(watchRegistry(debounce(() => { if (ctx.alive()) load(); }, 250), { openResync: true }));
}
