// The trace page's span tree and its timeline side by side: one row per
// visible span, the tree (indent, fold button, name, type) on the left and
// the span's bar on the trace's time axis (a waterfall) on the right. Rows
// have one height and only those near the viewport of the scroll box are in
// the DOM, so a trace of 10,000 spans draws as fast as one of ten. Keyboard:
// arrows or j/k move, left/right fold and unfold, Home/End.
import { h, fmtDuration } from './util.js';
import { visibleRows, ancestors } from './trace-spans.js';

const ROW_H = 26; // px, as .span-row in app.css
const OVERSCAN = 15; // rows drawn beyond each edge of the scroll box

/**
 * Draws the tree of `tree` (trace-spans.js buildTree) into box. folded: a
 * Set of folded span ids (changed in place); selected: the selected id or
 * ''. onSelect(id) is called when a span is chosen; onFold(folded) after a
 * fold changes. Returns {select(id), rows()}.
 */
export function spanTree(box, tree, { folded, selected, onSelect, onFold }) {
    const total = Math.max(tree.t1 - tree.t0, 1e-6);
    let rows = [];
    let index = new Map(); // span id -> row index
    let sel = selected;
    const canvas = h('div', { class: 'span-canvas' });
    const scroller = h('div', { class: 'span-scroll', role: 'tree', tabindex: '0', 'aria-label': 'spans' }, canvas);
    const axis = h('div', { class: 'span-axis', 'aria-hidden': 'true' }, h('span', { class: 'span-axis-tree' }, 'Span'),
        h('span', { class: 'span-axis-time' }, [0, 0.25, 0.5, 0.75, 1].map((f) => h('span', { class: 'tick', style: `left:${f * 100}%` }, fmtDuration(f * total)))));
    box.replaceChildren(axis, scroller);

    const relayout = () => {
        rows = visibleRows(tree, folded);
        index = new Map(rows.map((r, i) => [r.span.id, i]));
        canvas.style.height = `${rows.length * ROW_H}px`;
        scroller.style.height = `min(var(--span-pane-max, 70vh), ${Math.max(rows.length * ROW_H + 2, 120)}px)`; // app.css: less on a phone
        scroller.dataset.rows = String(rows.length);
    };
    const rowEl = (i) => {
        const { span: s, depth } = rows[i];
        const kids = tree.children.get(s.id)?.length || 0;
        const isFolded = folded.has(s.id);
        const left = ((s.start - tree.t0) / total) * 100;
        const width = Math.max(((s.end - s.start) / total) * 100, 0.2);
        const dur = fmtDuration(s.end - s.start) || '0 ms';
        return h('div', {
            class: `span-row${s.error ? ' span-error' : ''}${s.id === sel ? ' selected' : ''}`, role: 'treeitem', id: `span-${s.id}`,
            'aria-level': depth + 1, 'aria-selected': String(s.id === sel), 'aria-expanded': kids ? String(!isFolded) : null,
            style: `top:${i * ROW_H}px`, dataset: { span: s.id, index: i },
        },
        h('span', { class: 'span-label', style: `padding-left:${Math.min(depth, 40) * 14}px` },
            kids ? h('button', { type: 'button', class: 'fold', tabindex: '-1', 'aria-label': `${isFolded ? 'unfold' : 'fold'} ${s.name}` }, isFolded ? '▸' : '▾') : h('span', { class: 'fold-space' }),
            h('span', { class: 'span-name', title: s.name }, s.name),
            s.type ? h('span', { class: `span-type type-${s.type.toLowerCase().replace(/[^a-z0-9_]/g, '')}` }, s.type) : null,
            s.error ? h('span', { class: 'span-err', title: s.message || 'error' }, '!') : null,
            isFolded ? h('span', { class: 'muted' }, ` +${kids}`) : null),
        h('span', { class: 'span-time' }, h('span', { class: 'span-bar', style: `left:${left}%;width:${width}%`, title: `${s.name}: ${dur}, starts at ${fmtDuration(s.start - tree.t0) || '0 ms'}` }),
            h('span', { class: 'span-dur', style: left > 70 ? `right:${100 - left}%` : `left:${Math.min(left + width, 99)}%` }, dur)));
    };
    let drawn = '';
    // first: the box is new (scrolled to 0) and its height is its CSS min(70vh or less, rows): no layout
    // is forced while the page is still being built
    const draw = (force = false, first = false) => {
        const top = first ? 0 : scroller.scrollTop;
        const height = first ? Math.min(window.innerHeight * 0.7, rows.length * ROW_H + 2) : scroller.clientHeight || 600;
        const a = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
        const b = Math.min(rows.length, Math.ceil((top + height) / ROW_H) + OVERSCAN);
        const key = `${a}:${b}`;
        if (!force && key === drawn) return;
        drawn = key;
        const frag = document.createDocumentFragment();
        for (let i = a; i < b; i++) frag.append(rowEl(i));
        canvas.replaceChildren(frag);
        if (sel && index.has(sel)) scroller.setAttribute('aria-activedescendant', `span-${sel}`);
        else scroller.removeAttribute('aria-activedescendant');
    };
    // a new selection among the drawn rows: two rows change, not all of them
    const mark = () => {
        for (const el of canvas.children) {
            const on = el.dataset.span === sel;
            if (on === el.classList.contains('selected')) continue;
            el.classList.toggle('selected', on);
            el.setAttribute('aria-selected', String(on));
        }
        if (sel && index.has(sel)) scroller.setAttribute('aria-activedescendant', `span-${sel}`);
    };
    let frame = 0;
    scroller.addEventListener('scroll', () => {
        if (!frame) frame = requestAnimationFrame(() => { frame = 0; draw(); });
    });
    const reveal = (id) => {
        const i = index.get(id);
        if (i === undefined) return;
        const top = i * ROW_H, h0 = scroller.clientHeight || 600;
        if (top < scroller.scrollTop) scroller.scrollTop = top;
        else if (top + ROW_H > scroller.scrollTop + h0) scroller.scrollTop = top + ROW_H - h0;
    };
    const fold = (id, on) => {
        if (on === folded.has(id) || !tree.children.get(id)?.length) return;
        if (on) folded.add(id); else folded.delete(id);
        relayout();
        if (sel && !index.has(sel)) select(id); // the selected span went into the fold
        draw(true);
        onFold(folded);
    };
    const select = (id, { focus = false } = {}) => {
        if (!tree.byId.has(id)) return;
        // a span inside a fold: unfold its ancestors
        let changed = false;
        for (const a of ancestors(tree, id)) if (folded.delete(a)) changed = true;
        if (changed) { relayout(); onFold(folded); }
        sel = id;
        reveal(id);
        if (changed) draw(true);
        else { draw(); mark(); } // draws only when reveal moved past the drawn rows
        if (focus) scroller.focus();
        onSelect(id);
    };
    canvas.addEventListener('click', (ev) => {
        const row = ev.target.closest('.span-row');
        if (!row) return;
        if (ev.target.closest('button.fold')) fold(row.dataset.span, !folded.has(row.dataset.span));
        else select(row.dataset.span);
    });
    scroller.addEventListener('keydown', (ev) => {
        const i = sel && index.has(sel) ? index.get(sel) : -1;
        const go = (j) => { ev.preventDefault(); if (rows[j]) select(rows[j].span.id); };
        switch (ev.key) {
        case 'ArrowDown': case 'j': go(Math.min(rows.length - 1, i + 1)); break;
        case 'ArrowUp': case 'k': go(Math.max(0, i - 1)); break;
        case 'Home': go(0); break;
        case 'End': go(rows.length - 1); break;
        case 'ArrowRight': if (sel) { ev.preventDefault(); fold(sel, false); } break;
        case 'ArrowLeft':
            if (!sel) break;
            ev.preventDefault();
            if (tree.children.get(sel)?.length && !folded.has(sel)) fold(sel, true);
            else if (tree.byId.get(sel)?.parent) select(tree.byId.get(sel).parent);
            break;
        default:
        }
    });
    relayout();
    draw(true, true);
    if (sel && index.has(sel)) requestAnimationFrame(() => { reveal(sel); draw(); });
    return { select, rows: () => rows };
}
