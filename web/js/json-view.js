// A collapsible JSON viewer that stays fast on megabyte values: a collapsed
// object or array builds no nodes for its children (they are built the first
// time it is opened), a long string shows its first characters with "show
// more", and a long object or array shows its first members with "show more".
// Never parses HTML: every value goes into text nodes.
import { h } from './util.js';

const STRING_HEAD = 400; // characters of a long string shown at first
const STRING_STEP = 20000; // characters each "show more" adds
const MEMBERS_STEP = 200; // members of an object or array drawn at a time

/**
 * An element showing value. open: levels expanded at first (1: the top
 * level's members are listed, their own members collapsed).
 */
export function jsonView(value, { open = 1 } = {}) {
    return h('div', { class: 'json-view' }, node(value, open));
}

function node(value, open) {
    if (value === null) return h('span', { class: 'j-null' }, 'null');
    if (typeof value === 'string') return stringNode(value);
    if (typeof value === 'number') return h('span', { class: 'j-num' }, String(value));
    if (typeof value === 'boolean') return h('span', { class: 'j-bool' }, String(value));
    if (typeof value !== 'object') return h('span', {}, String(value));
    return containerNode(value, open);
}

function stringNode(s) {
    if (s.length <= STRING_HEAD) return h('span', { class: 'j-str' }, JSON.stringify(s));
    let shown = STRING_HEAD;
    const text = document.createTextNode('');
    const rest = h('span', { class: 'muted j-rest' });
    const more = h('button', { type: 'button', class: 'link j-more' });
    const all = h('button', { type: 'button', class: 'link j-all' }, 'show all');
    const draw = () => {
        text.data = `"${s.slice(0, shown)}`;
        const left = s.length - shown;
        rest.textContent = left > 0 ? `… ${left.toLocaleString()} more characters` : '"';
        more.hidden = left <= 0;
        all.hidden = left <= STRING_STEP;
        more.textContent = `show ${Math.min(left, STRING_STEP).toLocaleString()} more`;
    };
    more.addEventListener('click', () => { shown = Math.min(s.length, shown + STRING_STEP); draw(); });
    all.addEventListener('click', () => { shown = s.length; draw(); });
    draw();
    return h('span', { class: 'j-str j-long', title: `${s.length.toLocaleString()} characters` }, text, rest, ' ', more, ' ', all);
}

function containerNode(value, open) {
    const isArr = Array.isArray(value);
    const keys = isArr ? null : Object.keys(value);
    const n = isArr ? value.length : keys.length;
    const [o, c] = isArr ? ['[', ']'] : ['{', '}'];
    if (!n) return h('span', { class: 'j-punct' }, `${o}${c}`);
    const summary = h('span', { class: 'muted j-summary' }, ` ${n.toLocaleString()} ${isArr ? (n === 1 ? 'item' : 'items') : (n === 1 ? 'key' : 'keys')} `);
    const body = h('div', { class: 'j-body', hidden: true });
    let built = 0;
    const buildMore = () => {
        const end = Math.min(n, built + MEMBERS_STEP);
        const frag = document.createDocumentFragment();
        for (let i = built; i < end; i++) {
            const k = isArr ? i : keys[i];
            frag.append(h('div', { class: 'j-member' },
                h('span', { class: isArr ? 'j-index' : 'j-key' }, isArr ? `${i}` : JSON.stringify(k)), h('span', { class: 'j-punct' }, ': '),
                node(value[k], open - 1)));
        }
        body.querySelector(':scope > .j-more-members')?.remove();
        body.append(frag);
        built = end;
        if (built < n) {
            body.append(h('button', { type: 'button', class: 'link j-more-members', onclick: buildMore },
                `show ${Math.min(MEMBERS_STEP, n - built).toLocaleString()} more of ${n.toLocaleString()}`));
        }
    };
    const toggle = h('button', { type: 'button', class: 'j-toggle', 'aria-expanded': 'false', 'aria-label': `expand ${n} ${isArr ? 'items' : 'keys'}` }, '▸');
    const setOpen = (on) => {
        if (on && !built) buildMore();
        body.hidden = !on;
        toggle.setAttribute('aria-expanded', String(on));
        toggle.textContent = on ? '▾' : '▸';
        toggle.setAttribute('aria-label', `${on ? 'collapse' : 'expand'} ${n} ${isArr ? 'items' : 'keys'}`);
    };
    toggle.addEventListener('click', () => setOpen(body.hidden));
    if (open > 0) setOpen(true);
    return h('span', { class: 'j-container' }, toggle, h('span', { class: 'j-punct' }, o), summary, body, h('span', { class: 'j-punct' }, c));
}
