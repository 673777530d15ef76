// The runs page's controls above the table: the filter box (and the
// server's refusal of a filter or sort shown under it), the lifecycle view
// select and the column picker. Each writes its choice to the URL.
import { h, withParams } from './util.js';

/** The lifecycle views the select offers -> run_view_type of runs/search. */
export const VIEW_TYPES = { active: 'ACTIVE_ONLY', deleted: 'DELETED_ONLY', all: 'ALL' };

/** The toolbar's elements: {filterForm, filterInput, filterError, viewSel, colsButton, picker}. */
export function toolbar({ filter, viewName }) {
    const filterInput = h('input', {
        type: 'search', class: 'filter grow', value: filter, spellcheck: 'false', 'data-hotkey': '/',
        placeholder: "Filter: metrics.loss < 0.5 AND params.lr = '0.01' AND tags.mlflow.source.type = 'LOCAL'",
        'aria-label': 'filter runs',
    });
    const filterForm = h('form', { class: 'filter-form grow', onsubmit: (ev) => {
        ev.preventDefault();
        withParams({ filter: filterInput.value.trim(), tok: undefined });
    } }, filterInput, h('button', { type: 'submit', class: 'primary' }, 'Search'),
    filter ? h('button', { type: 'button', onclick: () => withParams({ filter: undefined, tok: undefined }) }, 'Clear') : null);
    const filterError = h('div', { class: 'filter-error', role: 'alert', hidden: true });
    const viewSel = h('select', { 'aria-label': 'lifecycle', onchange: () => withParams({ view: viewSel.value === 'active' ? undefined : viewSel.value, tok: undefined }) },
        ...Object.keys(VIEW_TYPES).map((v) => h('option', { value: v, selected: v === viewName }, v === 'active' ? 'Active runs' : v === 'deleted' ? 'Deleted runs' : 'All runs')));
    const colsButton = h('button', { type: 'button', 'aria-haspopup': 'true', class: 'cols-button' }, 'Columns');
    const picker = h('div', { class: 'picker', hidden: true });
    return { filterForm, filterInput, filterError, viewSel, colsButton, picker };
}

/** Shows the server's refusal of the search (e) under the filter box, with a caret at the column it names. */
export function showSearchError({ filterInput, filterError }, e, { filter, order }) {
    filterError.hidden = false;
    const where = filter && order ? 'filter or sort' : filter ? 'filter' : order ? 'sort' : 'search';
    filterError.replaceChildren(h('strong', {}, `The server refused this ${where}: `), h('span', { class: 'server-message' }, e.message),
        ...(order ? [h('button', { type: 'button', class: 'link', onclick: () => withParams({ order: undefined }) }, 'remove sort')] : []));
    filterInput.classList.toggle('invalid', !!filter);
    // the parser names a column ("... at column 15"): point at it
    const col = Number(e.message.match(/at column (\d+)/)?.[1]);
    if (filter && col >= 1 && col <= filter.length + 1) {
        filterError.append(h('pre', { class: 'filter-caret', 'aria-hidden': 'true' }, `${filter}\n${' '.repeat(col - 1)}^`));
    }
}

/** Fills the column picker (opened by button) with the keys to choose from; Apply writes the chosen columns to the URL. */
export function buildPicker(picker, button, keys, cols) {
    const chosen = new Set(cols);
    const search = h('input', { type: 'search', placeholder: 'Find a key', 'aria-label': 'find a column' });
    const lists = h('div', { class: 'picker-lists' });
    const draw = () => {
        const q = search.value.toLowerCase();
        lists.replaceChildren(...['metrics', 'params', 'tags'].map((t) => {
            const names = [...keys[t]].filter((k) => k.toLowerCase().includes(q)).sort();
            return h('fieldset', {}, h('legend', {}, `${t} (${keys[t].size})`),
                names.length ? names.slice(0, 500).map((k) => {
                    const id = `${t}.${k}`;
                    return h('label', {}, h('input', { type: 'checkbox', checked: chosen.has(id), onchange: (ev) => {
                        if (ev.target.checked) chosen.add(id); else chosen.delete(id);
                    } }), k);
                }) : h('div', { class: 'muted' }, 'none'));
        }));
    };
    search.addEventListener('input', draw);
    picker.replaceChildren(search, lists, h('div', { class: 'picker-foot' },
        h('button', { class: 'primary', onclick: () => { picker.hidden = true; withParams({ col: chosen.size ? [...chosen] : ['-'] }); } }, 'Apply'),
        h('button', { onclick: () => { picker.hidden = true; } }, 'Cancel')));
    draw();
    button.addEventListener('click', () => { picker.hidden = !picker.hidden; if (!picker.hidden) search.focus(); });
}
