// The runs table: its columns (fixed attributes, then the chosen ones), the
// header that sorts by a column, and the rows, drawn as a window over the
// page (grid.js) with the selection and keyboard cursor kept by index.
import {
    h, href, withParams, relTime, fmtTime, fmtDuration, fmtNum, statusBadge, runName, runColor,
} from './util.js';
import { columnWidths, windowedRows } from './grid.js';
import { parseCol, colValue, colIdent } from './runs-columns.js';
import { bulkActions } from './runs-bulk.js';
import { keyboardRows } from './runs-keyboard.js';

// Attribute columns: [label, order_by identifier or null, cell, its text
// (the column's width is measured from it), px the cell adds to its text]
const ATTRS = [
    ['Status', 'status', (r) => statusBadge(r.info.status), (r) => r.info.status || '?', 28],
    ['Run', 'run_name', (r) => h('a', { href: href(`/run/${r.info.run_id}`), class: 'run-link' }, runName(r)), runName],
    ['Created', 'start_time', (r) => h('span', { title: fmtTime(r.info.start_time) }, relTime(r.info.start_time)), (r) => relTime(r.info.start_time)],
    ['Duration', null, (r) => duration(r), (r) => durationText(r)],
    ['User', 'user_id', (r) => r.info.user_id || '', (r) => r.info.user_id || ''],
];

function durationText(r) {
    const { start_time: s, end_time: e, status } = r.info;
    if (!s) return '';
    if (!e && status === 'RUNNING') return fmtDuration(Date.now() - s);
    return e ? fmtDuration(e - s) : '';
}

function duration(r) {
    const { end_time: e, status } = r.info;
    const text = durationText(r);
    return text && !e && status === 'RUNNING' ? h('span', { class: 'muted', title: 'running' }, text) : text;
}

/** The header row: a select-all box (all), then every column, sortable by a click (order: the URL's). */
export function tableHead(cols, order, all) {
    const sortDir = (id) => {
        const m = order.match(/^(.*?)\s+(ASC|DESC)$/i);
        const o = m ? m[1] : order;
        if (o !== id) return null;
        return m ? m[2].toUpperCase() : 'ASC';
    };
    const th = (label, id, cls) => {
        if (!id) return h('th', { class: cls }, label);
        const dir = sortDir(id);
        const next = dir === 'DESC' ? `${id} ASC` : `${id} DESC`;
        return h('th', { class: `${cls || ''} sortable ${dir ? `sorted-${dir.toLowerCase()}` : ''}`, 'aria-sort': dir === 'ASC' ? 'ascending' : dir === 'DESC' ? 'descending' : 'none' },
            h('a', { href: '#', title: `sort by ${id}`, onclick: (ev) => { ev.preventDefault(); withParams({ order: next, tok: undefined }); } },
                label, h('span', { class: 'arrow' }, dir === 'ASC' ? ' ▲' : dir === 'DESC' ? ' ▼' : '')));
    };
    const head = h('tr', {}, h('th', { class: 'sel' }, all),
        ...ATTRS.map(([label, id]) => th(label, id)),
        ...cols.map((c) => {
            const { type, key } = parseCol(c);
            return th(h('span', {}, h('span', { class: `coltype ${type}` }, type === 'metrics' ? 'm' : type === 'params' ? 'p' : 't'), key), colIdent(c), type === 'metrics' ? 'num' : '');
        }));
    return h('thead', {}, head);
}

/** The chosen columns' values, as shown: {values: [run][col] -> {title, text}, isNum: [col]}. */
export function cellValues(runs, cols) {
    const isNum = cols.map((c) => parseCol(c).type === 'metrics');
    const values = runs.map((r) => cols.map((c, j) => {
        const v = colValue(r, c);
        return { title: v === undefined ? '' : String(v), text: isNum[j] ? fmtNum(v) : String(v ?? '') };
    }));
    return { values, isNum };
}

/** The table of a page without runs: the header and one line saying why. */
export function drawEmpty({ table, thead, cols, filter, tok }) {
    table.replaceChildren(thead, h('tbody', {}, h('tr', {}, h('td', { colspan: ATTRS.length + cols.length + 1, class: 'empty' },
        filter ? 'No run matches this filter.' : tok ? 'No more runs.' : 'No runs in this experiment yet.'))));
}

/**
 * The runs' rows, drawn as a window over the page (grid.js), with the
 * selection (checkboxes, shift-click ranges, select all) and the keyboard
 * cursor kept by index, so rows drawn again show them.
 */
export function drawRows({ table, thead, all, actions, runs, values, cols, isNum, viewName, mayPurge, ctx, link = null }) {
    const selected = new Set();
    const cursor = { row: -1 }; // the keyboard cursor's row, -1 before j/k
    let lastClicked = -1;
    const updateActions = () => {
        actions.replaceChildren(...bulkActions([...selected], viewName, mayPurge).filter(Boolean));
        all.checked = selected.size === runs.length;
    };
    const setRow = (i, on) => {
        if (on) selected.add(runs[i].info.run_id); else selected.delete(runs[i].info.run_id);
        const tr = grid.row(i);
        if (!tr) return;
        tr.classList.toggle('selected', on);
        tr.querySelector('input[type=checkbox]').checked = on;
    };
    const row = (i) => {
        const r = runs[i];
        const on = selected.has(r.info.run_id);
        const box = h('input', { type: 'checkbox', checked: on, 'aria-label': `select ${runName(r)}`, onclick: (ev) => {
            // shift-click: the rows between the last clicked one and this one take this one's state
            if (ev.shiftKey && lastClicked >= 0 && lastClicked !== i) {
                const [a, b] = lastClicked < i ? [lastClicked, i] : [i, lastClicked];
                for (let k = a; k <= b; k++) setRow(k, box.checked);
            }
            lastClicked = i;
        }, onchange: () => {
            setRow(i, box.checked);
            updateActions();
        } });
        const id = r.info.run_id;
        const cls = [r.info.lifecycle_stage === 'deleted' ? 'deleted' : '', on ? 'selected' : '', cursor.row === i ? 'cursor' : '',
            link?.isHidden(id) ? 'hidden-run' : '', link?.pinned() === id ? 'lit' : ''];
        const tr = h('tr', { dataset: { run: id }, class: cls.filter(Boolean).join(' ') },
            h('td', { class: 'sel' }, box),
            ...ATTRS.map(([, , cell], k) => h('td', {}, k === 1 && link ? [swatchToggle(r, link), cell(r)] : cell(r))),
            ...values[i].map((v, j) => h('td', { class: isNum[j] ? 'num' : '', title: v.title }, v.text)));
        if (link) {
            tr.addEventListener('mouseenter', () => link.hover(id));
            tr.addEventListener('mouseleave', () => link.hover(null));
        }
        return tr;
    };
    table.replaceChildren(thead); // the header's font, for the widths
    const widths = columnWidths(table, [
        { fixed: 44 },
        ...ATTRS.map(([label, , , text, extra], k) => ({ head: label, text: (i) => text(runs[i]), extra: (extra || 0) + (k === 1 && link ? 24 : 0) })),
        ...cols.map((c, j) => ({ head: parseCol(c).key, text: (i) => values[i][j].text })),
    ], runs.length);
    const grid = windowedRows(table, thead, { count: runs.length, row, widths, ctx });
    all.addEventListener('change', () => {
        for (let i = 0; i < runs.length; i++) setRow(i, all.checked);
        updateActions();
    });
    updateActions();
    keyboardRows(grid, runs, cursor, ctx);
}

/**
 * The run's color as a button that hides the run from the panel's charts
 * and shows it again (link: runs-panel.js's panelLink); focusing it
 * highlights the run, as hovering its row does.
 */
function swatchToggle(r, link) {
    const id = r.info.run_id;
    const label = () => `${link.isHidden(id) ? 'show' : 'hide'} ${runName(r)} in the charts`;
    const b = h('button', {
        type: 'button', class: 'swatch-toggle', style: `--c:${runColor(id)}`, 'aria-pressed': String(!link.isHidden(id)),
        'aria-label': label(), title: label(),
        onclick: (ev) => {
            ev.stopPropagation();
            link.toggle(id);
            b.setAttribute('aria-pressed', String(!link.isHidden(id)));
            b.setAttribute('aria-label', label());
            b.title = label();
            b.closest('tr')?.classList.toggle('hidden-run', link.isHidden(id));
        },
        onfocus: () => link.hover(id),
        onblur: () => link.hover(null),
    });
    return b;
}
