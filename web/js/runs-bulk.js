// The runs page's bulk actions on the selected runs: compare, delete,
// restore, tag (one request per run, a few in flight) and purge (admins).
import { mlflow, exptrack } from './api.js';
import { h, href, errorBox } from './util.js';
import { PURGE_MAX_RUNS } from './limits.js';

const BULK_PARALLEL = 4; // requests in flight for per-run bulk actions
// Whether this user may purge (admins; everyone without --auth): a promise, asked once.
let purgeAllowed = null;

/**
 * Admins only may purge. The admin-only audit listing answers 200 for them
 * (and for everyone when the server runs without --auth) and 403 otherwise,
 * so one tiny read tells the dashboard whether to offer the Purge action.
 */
export function canPurge() {
    if (!purgeAllowed) {
        purgeAllowed = exptrack.get('/audit', { max_results: 1 }).then(() => true, () => false);
    }
    return purgeAllowed;
}

/** The bulk toolbar's contents for the selected run ids (a hint when there are none). */
export function bulkActions(ids, viewName, mayPurge) {
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
            for (let i = 0; i < ids.length; i += PURGE_MAX_RUNS) await exptrack.post('/runs/purge', { run_ids: ids.slice(i, i + PURGE_MAX_RUNS) });
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
