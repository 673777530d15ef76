// Shared by the model and prompt views: filter quoting, badges, the
// confirmation dialog for registry changes, and how a refused change (403)
// is worded.
import { h } from './util.js';
import { markdownToHtml } from './markdown.js';

export const PROMPT_TAG = 'mlflow.prompt.is_prompt';
export const PROMPT_TEXT_TAG = 'mlflow.prompt.text';
export const STAGES = ['None', 'Staging', 'Production', 'Archived'];

/**
 * A string literal for the registry's filter language (no escapes there:
 * single quotes unless the value has one, then double). Throws when the
 * value has both kinds of quote.
 */
export function quote(value) {
    const s = String(value);
    if (!s.includes("'")) return `'${s}'`;
    if (!s.includes('"')) return `"${s}"`;
    throw new Error('a name with both kinds of quote cannot be searched');
}

/** A LIKE pattern matching value anywhere (its own % and _ kept as wildcards). */
export function containsFilter(field, value) {
    return `${field} ILIKE ${quote(`%${value}%`)}`;
}

/** The value of tag key in a [{key, value}] list. */
export function tag(list, key) {
    return (list || []).find((t) => t.key === key)?.value;
}

export function aliasBadge(alias, title) {
    return h('span', { class: 'badge alias', title: title || `alias @${alias}` }, `@${alias}`);
}

export function stageBadge(stage) {
    const s = stage || 'None';
    return h('span', { class: `badge stage stage-${s.toLowerCase()}` }, s);
}

/** Tag chips key=value (system tags left out unless all). */
export function tagChips(tags, { all = false } = {}) {
    const list = (tags || []).filter((t) => all || !t.key.startsWith('mlflow.'));
    return list.map((t) => h('span', { class: 'chip', title: `${t.key}=${t.value}` }, t.key, t.value ? `=${t.value}` : ''));
}

/** A description as safe Markdown (escaped, then a small subset). */
export function markdownBlock(text, cls = 'markdown') {
    const div = h('div', { class: cls });
    div.innerHTML = markdownToHtml(text); // every character of text is escaped by markdownToHtml
    return div;
}

/** An error of a registry change in words a user can act on. */
export function changeError(e, what) {
    if (e?.status === 403 || e?.code === 'PERMISSION_DENIED') {
        return `You do not have permission to ${what}. Ask an owner of the model for EDIT (or MANAGE) on it. (${e.message})`;
    }
    if (e?.status === 401) return `Sign in again to ${what}. (${e.message})`;
    return `Could not ${what}: ${e?.code ? `${e.code}: ` : ''}${e?.message || e}`;
}

/**
 * Asks to confirm a change in a modal dialog. body: nodes saying what
 * changes; extra: optional inputs shown in the dialog. action(): performs
 * it (its error is shown in the dialog, which stays open). Resolves true
 * once done, false when cancelled.
 */
export function confirmChange({ title, body, confirmText = 'Confirm', action, errorText }) {
    return new Promise((resolve) => {
        const msg = h('div', { class: 'dialog-msg', role: 'alert' });
        const ok = h('button', { class: 'primary', type: 'submit' }, confirmText);
        const cancel = h('button', { type: 'button' }, 'Cancel');
        const dlg = h('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-title' },
            h('form', { method: 'dialog' },
                h('h2', { id: 'confirm-title' }, title),
                h('div', { class: 'dialog-body' }, body),
                msg,
                h('div', { class: 'dialog-buttons' }, cancel, ok)));
        let done = false;
        const finish = (v) => { if (done) return; done = true; dlg.close(); dlg.remove(); resolve(v); };
        cancel.addEventListener('click', () => finish(false));
        dlg.addEventListener('cancel', (ev) => { ev.preventDefault(); finish(false); });
        dlg.querySelector('form').addEventListener('submit', async (ev) => {
            ev.preventDefault();
            ok.disabled = true;
            msg.replaceChildren();
            try {
                await action();
                finish(true);
            } catch (e) {
                msg.replaceChildren(h('div', { class: 'error' }, errorText ? errorText(e) : String(e?.message || e)));
                ok.disabled = false;
            }
        });
        document.body.append(dlg);
        dlg.showModal();
        ok.focus();
    });
}

/** Whether a confirmation dialog is open (live refreshes wait for it). */
export function dialogOpen() {
    return !!document.querySelector('dialog.confirm[open]');
}

/** el.replaceChildren with the null/false children (conditional parts) left out. */
export function fill(el, ...kids) {
    el.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
}
