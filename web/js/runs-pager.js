// Paging of the runs table over the server's page tokens: the tokens seen on
// the way are kept per query, so "previous" works and pages are numbered.
import { h, withParams } from './util.js';

// Page tokens seen on the way, so "previous" works: key = query without tok.
const tokenTrail = new Map();

/**
 * Fills pager (previous, page number, next, rows per page) for a page of
 * `shown` runs read with token tok, and returns the number of its first
 * run, or null when it is not known (a token from elsewhere).
 * query: the search without its token; next: the server's next_page_token.
 */
export function drawPager(pager, { query, tok, next, shown, size, sizes }) {
    const trailKey = JSON.stringify(query);
    const trail = tokenTrail.get(trailKey) || [];
    const idx = tok ? trail.indexOf(tok) : -1;
    const pageNo = tok ? (idx >= 0 ? idx + 2 : null) : 1;
    if (next) {
        const t = tok ? trail.slice(0, Math.max(idx + 1, 0)) : [];
        t.push(next);
        tokenTrail.set(trailKey, t);
    }
    const prevTok = idx > 0 ? trail[idx - 1] : undefined;
    pager.replaceChildren(
        h('button', { disabled: !tok, onclick: () => withParams({ tok: prevTok }) }, '‹ Previous'),
        h('span', { class: 'muted' }, pageNo ? `Page ${pageNo}` : ''),
        h('button', { disabled: !next || !shown, class: 'next', onclick: () => withParams({ tok: next }) }, 'Next ›'),
        h('span', { class: 'spacer' }),
        h('label', {}, 'Rows per page ', h('select', { onchange: (ev) => withParams({ size: ev.target.value, tok: undefined }) },
            ...sizes.map((s) => h('option', { value: s, selected: s === size }, String(s))))));
    return pageNo ? (pageNo - 1) * size + 1 : null;
}
