// A table body drawn as a window over its rows: only the rows near the
// viewport exist in the DOM, between two spacer rows that keep the height of
// the whole list, so a page of 1,000 runs costs the browser what 60 rows do.
// Column widths are computed from the data (the longest texts, measured on a
// canvas) and fixed (table-layout: fixed): they do not move as rows come and
// go, and the browser never measures the rows to lay the table out.
import { h, afterPaint } from './util.js';

const OVERSCAN = 20; // rows drawn beyond each edge of the viewport
const ROW_GUESS = 31; // px, until a drawn row says otherwise
const MAX_COL = 340; // px, the widest a measured column gets (cells ellipsize)
const PAD = 22; // px, a cell's padding and border
const MEASURED = 4; // texts measured per column: the longest by length

let g = null; // a canvas's 2D context, for measuring text
let gFont = ''; // the CSS font last set on it (its getter normalises the string)

/**
 * Width in px of text in the CSS font font. The context's font is set only
 * when it changes: the setter parses the CSS font string and looks the font
 * up each time, and a table's widths were measured in two fonts in turn.
 */
function textWidth(font, text) {
    g ??= document.createElement('canvas').getContext('2d');
    if (gFont !== font) { g.font = font; gFont = font; }
    return g.measureText(text).width;
}

/**
 * Widths in px of the columns, for rows.length rows. columns: [{head:
 * string, text(i) -> string, extra: px added to the body text, fixed: px
 * (the width, nothing measured)}]. Fonts are the table's own: body cells,
 * and header cells (font of its thead th when present).
 */
export function columnWidths(table, columns, count) {
    const bodyFont = getComputedStyle(table).font;
    const th = table.querySelector('thead th');
    const headFont = th ? getComputedStyle(th).font : bodyFont;
    // every header first, then every body text: the font is set twice in all
    const heads = columns.map((c) => (c.fixed ? 0 : textWidth(headFont, c.head)));
    return columns.map((c, j) => {
        if (c.fixed) return c.fixed;
        const texts = [];
        for (let i = 0; i < count; i++) texts.push(c.text(i));
        texts.sort((a, b) => b.length - a.length);
        let w = heads[j] + 18; // the sort arrow
        for (const t of texts.slice(0, MEASURED)) w = Math.max(w, textWidth(bodyFont, t) + (c.extra || 0));
        return Math.min(MAX_COL, Math.ceil(w) + PAD);
    });
}

/**
 * Draws rows [0, count) of table's tbody as a window that follows the
 * page's scrolling. row(i) builds the tr of row i (called again when a row
 * scrolls back in). widths: from columnWidths(), one per column. The
 * listeners are removed through ctx.onCleanup. Returns:
 *   row(i)     the tr of row i if it is drawn, else undefined
 *   reveal(i)  scrolls row i into view, draws it and returns its tr
 */
export function windowedRows(table, thead, { count, row, widths, ctx }) {
    const tbody = h('tbody');
    const spacer = () => h('tr', { class: 'spacer', 'aria-hidden': 'true' }, h('td', { colspan: widths.length }));
    const top = spacer();
    const bottom = spacer();
    const rows = new Map(); // i -> tr, for i in [first, last)
    let first = 0, last = 0, rowHeight = ROW_GUESS;

    table.classList.add('windowed');
    table.setAttribute('aria-rowcount', String(count + 1)); // the header row and every row, drawn or not
    thead.querySelector('tr')?.setAttribute('aria-rowindex', '1');
    table.style.width = `${widths.reduce((a, b) => a + b, 0)}px`;
    table.replaceChildren(h('colgroup', {}, ...widths.map((w) => h('col', { style: `width:${w}px` }))), thead, tbody);
    tbody.append(top, bottom);

    const setSpacers = () => {
        top.style.height = `${first * rowHeight}px`;
        bottom.style.height = `${(count - last) * rowHeight}px`;
    };
    // row i built, numbered for assistive technology, and kept
    const make = (i) => {
        const tr = row(i);
        tr.setAttribute('aria-rowindex', String(i + 2));
        rows.set(i, tr);
        return tr;
    };
    // rows [from, to) drawn, keeping the ones already there
    const show = (from, to) => {
        if (from === first && to === last) return;
        if (from >= last || to <= first) {
            for (const tr of rows.values()) tr.remove();
            rows.clear();
            first = last = from;
        }
        for (; first < from; first++) { rows.get(first).remove(); rows.delete(first); }
        for (; last > to; last--) { rows.get(last - 1).remove(); rows.delete(last - 1); }
        const before = [];
        for (; first > from; first--) before.push(make(first - 1));
        top.after(...before.reverse());
        const after = [];
        for (; last < to; last++) after.push(make(last));
        bottom.before(...after);
        setSpacers();
    };
    let overscan = 1; // the first frame shows the rows in view, no more
    const visible = () => {
        const y = top.getBoundingClientRect().top; // where row 0 starts
        const from = Math.floor(-y / rowHeight) - overscan;
        const to = Math.ceil((innerHeight - y) / rowHeight) + overscan;
        return [Math.max(0, Math.min(count, from)), Math.max(0, Math.min(count, to))];
    };
    const draw = () => show(...visible());
    draw();
    // after that frame: the real row height (the rows are laid out by then),
    // and the rows beyond the viewport's edges
    afterPaint(() => {
        if (!table.isConnected) return;
        if (last - first >= 2) {
            const measured = rows.get(first + 1).getBoundingClientRect().top - rows.get(first).getBoundingClientRect().top;
            if (measured > 0) rowHeight = measured;
        }
        overscan = OVERSCAN;
        setSpacers();
        draw();
    });

    let pending = false;
    const onScroll = () => {
        if (pending) return;
        pending = true;
        requestAnimationFrame(() => { pending = false; draw(); });
    };
    window.addEventListener('scroll', onScroll, { passive: true });
    window.addEventListener('resize', onScroll, { passive: true });
    ctx.onCleanup(() => {
        window.removeEventListener('scroll', onScroll);
        window.removeEventListener('resize', onScroll);
    });

    return {
        row: (i) => rows.get(i),
        reveal(i) {
            if (!rows.has(i)) { // far from the drawn rows: jump near it first
                window.scrollBy(0, top.getBoundingClientRect().top + i * rowHeight - innerHeight / 2);
                draw();
                if (!rows.has(i)) show(Math.max(0, i - OVERSCAN), Math.min(count, i + OVERSCAN + 1));
            }
            const tr = rows.get(i);
            tr.scrollIntoView({ block: 'nearest' }); // rows keep clear of the sticky top bar (CSS)
            draw();
            return tr;
        },
    };
}
