// One prompt: its versions (version, aliases, commit message, created), the
// text of the chosen version, and a line diff between two versions.
// URL: #/prompt/<name>?v=<shown version>&a=<old>&b=<new>
// (a and b default to the version before v and v.)
import { mlflow } from './api.js';
import { h, href, withParams, relTime, fmtTime, errorBox, debounce } from './util.js';
import { quote, tag, aliasBadge, tagChips, markdownBlock, PROMPT_TEXT_TAG } from './registry.js';
import { aliasMaps } from './model.js';
import { lineDiff, diffStats } from './diff.js';
import { watchRegistry } from './live.js';

/** The diff of two texts as a table of numbered lines. */
export function diffView(oldText, newText) {
    const ops = lineDiff(oldText, newText);
    const { add, del } = diffStats(ops);
    const sign = { same: ' ', add: '+', del: '-' };
    return h('div', { class: 'text-diff' },
        h('p', { class: 'muted diff-stats' }, `${add} line${add === 1 ? '' : 's'} added, ${del} removed`),
        h('table', { class: 'diff-lines', role: 'table' }, h('tbody', {}, ops.map((o) => h('tr', { class: `line-${o.op}` },
            h('td', { class: 'ln' }, o.a ?? ''), h('td', { class: 'ln' }, o.b ?? ''),
            h('td', { class: 'sign', 'aria-label': o.op === 'same' ? 'unchanged' : o.op === 'add' ? 'added' : 'removed' }, sign[o.op]),
            h('td', { class: 'code' }, o.text))))));
}

/** A prompt version's text: the template, or a chat template's messages, as text. */
export function promptText(v) {
    const t = tag(v.tags, PROMPT_TEXT_TAG) ?? '';
    if (tag(v.tags, '_mlflow_prompt_type') !== 'chat') return t;
    try {
        return JSON.parse(t).map((m) => `[${m.role}]\n${m.content}`).join('\n\n');
    } catch { return t; }
}

export async function render(root, { parts, params }, ctx) {
    const name = parts[1];
    ctx.crumbs([{ text: 'Prompts', href: '#/prompts' }, { text: name }]);
    document.title = `${name} · Prompts · exptrack`;
    const load = async () => {
        let p, versions;
        try {
            [p, versions] = await Promise.all([
                mlflow.get('/registered-models/get', { name }).then((r) => r.registered_model),
                mlflow.get('/model-versions/search', {
                    filter: `name = ${quote(name)} AND tag.\`mlflow.prompt.is_prompt\` = 'true'`,
                    order_by: ['version_number DESC'], max_results: 1000,
                }).then((r) => r.model_versions || []),
            ]);
        } catch (e) {
            if (ctx.alive()) root.replaceChildren(errorBox(e, `Could not load prompt ${name}`));
            return false;
        }
        if (!ctx.alive()) return false;
        const { byVersion } = aliasMaps(p);
        const byNum = new Map(versions.map((v) => [v.version, v]));
        const shown = byNum.get(params.get('v')) || versions[0];
        const idx = versions.indexOf(shown);
        const b = byNum.get(params.get('b')) || shown;
        const a = byNum.get(params.get('a')) || versions[versions.indexOf(b) + 1] || null;
        const pick = (key, cur) => h('select', { 'aria-label': key === 'a' ? 'old version' : 'new version', onchange: (ev) => withParams({ [key]: ev.target.value }) },
            versions.map((v) => h('option', { value: v.version, selected: v === cur }, `v${v.version}`)));
        const page = h('div', { class: 'prompt-page' },
            h('div', { class: 'page-head' }, h('h1', {}, name), (p.aliases || []).map((x) => aliasBadge(x.alias, `@${x.alias} → version ${x.version}`)),
                h('span', { class: 'spacer' }), h('span', { class: 'live', title: 'new versions and aliases appear without a reload' }, 'live')),
            h('div', { class: 'model-meta' }, h('span', { class: 'tags' }, tagChips((p.tags || []).filter((t) => !t.key.startsWith('_mlflow'))))),
            p.description ? markdownBlock(p.description, 'markdown description') : null,
            h('div', { class: 'prompt-grid' },
                h('section', { class: 'card' }, h('h2', {}, `Versions (${versions.length})`),
                    versions.length ? h('table', { class: 'grid prompt-versions' },
                        h('thead', {}, h('tr', {}, ['Version', 'Aliases', 'Commit message', 'Created'].map((t) => h('th', { scope: 'col' }, t)))),
                        h('tbody', {}, versions.map((v) => h('tr', { class: v === shown ? 'selected' : '', dataset: { version: v.version }, 'aria-current': v === shown ? 'true' : null },
                            h('td', {}, h('a', { href: href(`/prompt/${encodeURIComponent(name)}`, { v: v.version }) }, `v${v.version}`)),
                            h('td', {}, (byVersion.get(v.version) || []).map((x) => aliasBadge(x))),
                            h('td', { title: v.description || '' }, v.description || ''),
                            h('td', { title: fmtTime(v.creation_timestamp) }, relTime(v.creation_timestamp)))))) : h('p', { class: 'empty' }, 'No versions.')),
                shown ? h('section', { class: 'card prompt-text' }, h('h2', {}, `Text of v${shown.version}`),
                    h('pre', { class: 'file-text template' }, promptText(shown)),
                    tagChips((shown.tags || []).filter((t) => !t.key.startsWith('mlflow.') && !t.key.startsWith('_mlflow')))) : null),
            versions.length > 1 ? h('section', { class: 'card prompt-diff' },
                h('div', { class: 'section-head' }, h('h2', {}, 'Changes'), h('label', {}, 'from ', pick('a', a)), h('label', {}, ' to ', pick('b', b))),
                a ? diffView(promptText(a), promptText(b)) : h('p', { class: 'muted' }, 'The first version: nothing before it.')) : null);
        page.dataset.ready = String(idx >= 0);
        root.replaceChildren(page);
        return true;
    };
    if (!await load()) return;
    ctx.onCleanup(watchRegistry(debounce(() => { if (ctx.alive()) load(); }, 250), { openResync: true }));
}
