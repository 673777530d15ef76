// A collapsible JSON viewer that stays fast on megabyte values: a collapsed
// object or array builds no nodes for its children (they are built the first
// time it is opened), a long string shows its first characters with "show
// more", and a long object or array shows its first members with "show more".
// JSON text of 64 KiB or more (lazyJson) is not parsed whole: its members
// are found by one scan and each is parsed when it is drawn.
// What is in view comes first: an object or array opened draws its first
// FIRST_MEMBERS members at once and the rest of its first batch after the
// frame is painted, and the scan of a long text's remaining members starts
// after that frame too, in slices of a few milliseconds.
// Never parses HTML: every value goes into text nodes.
import { h, afterPaint, fmtCount } from './util.js';

const STRING_HEAD = 400; // characters of a long string shown at first
const STRING_STEP = 20000; // characters each "show more" adds
const MEMBERS_STEP = 200; // members of an object or array drawn at a time
const FIRST_MEMBERS = 40; // of those, drawn before the first paint (a screenful and more of the details box)
const FILL_SLICE = 40; // members added per task after it
const SCAN_MS = 6; // longest background scan slice (ms): a click between slices waits no longer

// the labels are written again after each background scan slice: counts through util.js's one
// formatter (Number#toLocaleString built one a call: 30 ms of a click)
const num = fmtCount;

/**
 * An element showing value. open: levels expanded at first (1: the top
 * level's members are listed, their own members collapsed).
 */
export function jsonView(value, { open = 1 } = {}) {
    return h('div', { class: 'json-view' }, node(value, open));
}

/**
 * JSON text shown without parsing it whole (lazyJson): an object or array
 * is scanned for its members' places and only the members drawn are
 * parsed, so a megabyte value costs one scan, not JSON.parse of all of it
 * and its objects (an object of 18,000 keys took 57 ms to parse).
 */
class LazyJson {
    constructor(text) {
        this.text = text;
        this.scan = null; // its MemberScan, kept: drawn again (the span chosen again), it is not scanned again
        this.kids = new Map(); // member index -> value (lazyJson of its text), the same
    }
}

export const LAZY_MIN = 65536; // characters: a container value this long is kept as text until drawn

/**
 * A value for jsonView from JSON text: the text itself kept lazily when it
 * is a long object or array, else parsed; a text that does not parse as
 * JSON is returned as is (a string).
 */
export function lazyJson(text) {
    const t = text.trimStart();
    if (t.length >= LAZY_MIN && (t[0] === '{' || t[0] === '[')) return new LazyJson(t);
    try { return JSON.parse(text); } catch { return text; }
}

/** Index after the JSON string starting at text[i] ('"'); throws when it does not end. */
function skipString(text, i) {
    let j = i + 1;
    for (;;) {
        const q = text.indexOf('"', j);
        if (q < 0) throw new SyntaxError('unterminated string');
        let k = q - 1, slashes = 0;
        while (text.charCodeAt(k) === 92) { slashes++; k--; }
        if (slashes % 2 === 0) return q + 1;
        j = q + 1;
    }
}

function skipSpace(text, i) {
    for (;;) {
        const c = text.charCodeAt(i);
        if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return i;
        i++;
    }
}

/** Index after the JSON value starting at text[i]. */
function skipValue(text, i) {
    const c = text[i];
    if (c === '"') return skipString(text, i);
    if (c === '{' || c === '[') {
        let depth = 0;
        for (;;) {
            const d = text[i];
            if (d === undefined) throw new SyntaxError('unbalanced');
            if (d === '"') { i = skipString(text, i); continue; }
            if (d === '{' || d === '[') depth++;
            else if (d === '}' || d === ']') { depth--; if (!depth) return i + 1; }
            i++;
        }
    }
    let j = i;
    while (j < text.length && !',}] \n\r\t'.includes(text[j])) j++;
    if (j === i) throw new SyntaxError(`unexpected ${c}`);
    return j;
}

/**
 * The members of an object's or array's JSON text, found a batch at a time:
 * scan(k) reads on until k members are known or the text ends. keys and
 * spans: [start, end] of each key's JSON string and each value; done at
 * the end or at the first error (error: why; the members before it stay).
 */
class MemberScan {
    constructor(text) {
        this.text = text;
        this.isArr = text[0] === '[';
        this.keys = [];
        this.spans = [];
        this.i = skipSpace(text, 1);
        this.done = false;
        this.error = null;
        if (text[this.i] === (this.isArr ? ']' : '}')) this.end(this.i);
    }

    end(i) {
        this.done = true;
        if (skipSpace(this.text, i + 1) < this.text.length) this.error = new SyntaxError('text after the value');
    }

    scan(k) {
        const text = this.text, close = this.isArr ? ']' : '}';
        try {
            while (!this.done && this.spans.length < k) {
                let i = this.i;
                let key = null;
                if (!this.isArr) {
                    if (text[i] !== '"') throw new SyntaxError('expected a key');
                    const e = skipString(text, i);
                    key = [i, e];
                    i = skipSpace(text, e);
                    if (text[i] !== ':') throw new SyntaxError('expected :');
                    i = skipSpace(text, i + 1);
                }
                const e = skipValue(text, i);
                if (key) this.keys.push(key);
                this.spans.push([i, e]);
                i = skipSpace(text, e);
                if (text[i] === ',') this.i = skipSpace(text, i + 1);
                else if (text[i] === close) this.end(i);
                else throw new SyntaxError('expected , or the end');
            }
        } catch (e) {
            this.done = true;
            this.error = e;
        }
    }
}

const SCAN_SLICE = 250; // members found between two looks at the clock in a background step

function node(value, open) {
    if (value instanceof LazyJson) {
        if (!value.scan) value.scan = new MemberScan(value.text);
        const m = value.scan;
        m.scan(FIRST_MEMBERS + MEMBERS_STEP);
        if (m.error && !m.spans.length) return stringNode(value.text); // not JSON after all: its text
        const get = (i) => {
            if (!value.kids.has(i)) value.kids.set(i, lazyJson(value.text.slice(m.spans[i][0], m.spans[i][1])));
            return value.kids.get(i);
        };
        const key = (i) => JSON.parse(value.text.slice(m.keys[i][0], m.keys[i][1]));
        return containerNode(null, open, { m, key, get });
    }
    if (value === null) return h('span', { class: 'j-null' }, 'null');
    if (typeof value === 'string') return stringNode(value);
    if (typeof value === 'number') return h('span', { class: 'j-num' }, String(value));
    if (typeof value === 'boolean') return h('span', { class: 'j-bool' }, String(value));
    if (typeof value !== 'object') return h('span', {}, String(value));
    return containerNode(value, open);
}

const CHUNKED_FROM = 50000; // characters shown: from here the text is drawn in blocks (chunks)
const CHUNK = 10000; // characters a block, about: each ends after a newline or a space when one is near

/**
 * Where the chunks of t end: about every CHUNK characters, just after a
 * newline (no change to what is seen) or else a space found in the last
 * fifth of the chunk, else at CHUNK.
 */
function chunkEnds(t) {
    const ends = [];
    let a = 0;
    while (a < t.length) {
        let b = Math.min(t.length, a + CHUNK);
        if (b < t.length) {
            const nl = t.lastIndexOf('\n', b - 1), sp = t.lastIndexOf(' ', b - 1);
            if (nl >= b - CHUNK / 5) b = nl + 1;
            else if (sp >= b - CHUNK / 5) b = sp + 1;
        }
        ends.push(b);
        a = b;
    }
    return ends;
}

/**
 * A string longer than STRING_HEAD: its head, "show more" and "show all".
 * Shown past CHUNKED_FROM characters, the text is drawn as blocks of about
 * CHUNK characters with content-visibility: auto, so only the blocks in
 * view are laid out (one text node of 0.9 MB took 1.5-4.5 s to lay out
 * under load); a block ends at a newline or a space where it can, and a
 * copy of a selection inside the string copies its characters exactly
 * (without the line breaks a browser puts between blocks).
 */
function stringNode(s) {
    if (s.length <= STRING_HEAD) return h('span', { class: 'j-str' }, JSON.stringify(s));
    let shown = STRING_HEAD;
    let full = ''; // the text drawn: '"' and the characters shown
    const starts = new WeakMap(); // a text node of box -> where its text starts in full
    const box = h('span', { class: 'j-text' });
    const rest = h('span', { class: 'muted j-rest' });
    const more = h('button', { type: 'button', class: 'link j-more' });
    const all = h('button', { type: 'button', class: 'link j-all' }, 'show all');
    const draw = () => {
        full = `"${s.slice(0, shown)}`;
        if (shown <= CHUNKED_FROM) {
            const t = document.createTextNode(full);
            starts.set(t, 0);
            box.replaceChildren(t);
        } else {
            const frag = document.createDocumentFragment();
            let a = 0;
            for (const b of chunkEnds(full)) {
                const t = document.createTextNode(full.slice(a, b));
                starts.set(t, a);
                // its height before it is first laid out: about 60 characters a line of 18 px
                frag.append(h('span', { class: 'j-chunk', style: `contain-intrinsic-size: auto ${Math.ceil((b - a) / 60) * 18}px` }, t));
                a = b;
            }
            box.replaceChildren(frag);
        }
        const left = s.length - shown;
        rest.textContent = left > 0 ? `… ${num(left)} more characters` : '"';
        more.hidden = left <= 0;
        all.hidden = left <= STRING_STEP;
        more.textContent = `show ${num(Math.min(left, STRING_STEP))} more`;
    };
    box.addEventListener('copy', (ev) => {
        const sel = getSelection();
        if (!sel?.rangeCount || !ev.clipboardData) return;
        const r = sel.getRangeAt(0);
        const at = (n, o) => (starts.has(n) ? starts.get(n) + o : null);
        const a = at(r.startContainer, r.startOffset), b = at(r.endContainer, r.endOffset);
        if (a === null || b === null) return; // the selection goes beyond the string's text: the browser's copy
        ev.clipboardData.setData('text/plain', full.slice(a, b));
        ev.preventDefault();
    });
    more.addEventListener('click', () => { shown = Math.min(s.length, shown + STRING_STEP); draw(); });
    all.addEventListener('click', () => { shown = s.length; draw(); });
    draw();
    return h('span', { class: 'j-str j-long', title: `${num(s.length)} characters` }, box, rest, ' ', more, ' ', all);
}

/**
 * lazy: {m (a MemberScan), key(i), get(i)} of a LazyJson's members, instead
 * of value. While m is not done the count reads "240+" and the rest of the
 * text is scanned after the first paint, in slices of SCAN_MS between
 * frames (stopped once the node leaves the page); a text that breaks off
 * says so after the members before it. Opened, the first FIRST_MEMBERS
 * members are drawn at once and the rest of the first MEMBERS_STEP after
 * the paint, FILL_SLICE a task; "show more" appears when they are all drawn.
 */
function containerNode(value, open, lazy = null) {
    const m = lazy?.m;
    const isArr = m ? m.isArr : Array.isArray(value);
    const keys = m || isArr ? null : Object.keys(value);
    const count = () => (m ? m.spans.length : isArr ? value.length : keys.length);
    const keyOf = (i) => (m ? lazy.key(i) : keys[i]);
    const member = (i) => (m ? lazy.get(i) : value[isArr ? i : keys[i]]);
    const [o, c] = isArr ? ['[', ']'] : ['{', '}'];
    if (!count() && (!m || m.done)) return h('span', { class: 'j-punct' }, `${o}${c}`);
    const total = () => `${num(count())}${m && !m.done ? '+' : ''}`;
    const noun = () => (isArr ? (count() === 1 ? 'item' : 'items') : (count() === 1 ? 'key' : 'keys'));
    const summary = h('span', { class: 'muted j-summary' }, ` ${total()} ${noun()} `);
    const body = h('div', { class: 'j-body', hidden: true });
    let built = 0;
    const moreText = () => `show ${num(Math.min(MEMBERS_STEP, count() - built))} more of ${total()}`;
    const relabel = () => {
        summary.textContent = ` ${total()} ${noun()} `;
        const more = body.querySelector(':scope > .j-more-members');
        if (more) more.textContent = moreText();
        if (m?.done && m.error && !body.querySelector(':scope > .j-broken')) {
            body.append(h('div', { class: 'muted j-broken' }, `… the rest is not valid JSON (${m.error.message})`));
        }
    };
    if (m && !m.done) {
        const step = () => {
            if (!summary.isConnected) return; // the span was left: no more work for it
            const t0 = performance.now();
            do m.scan(m.spans.length + SCAN_SLICE); while (!m.done && performance.now() - t0 < SCAN_MS);
            relabel();
            if (!m.done) setTimeout(step, 0);
        };
        afterPaint(step);
    }
    let filling = false; // the first batch is still being drawn after the paint: no "show more" yet
    const buildTo = (want) => {
        if (m) m.scan(want + MEMBERS_STEP); // the members drawn now and the next batch's count
        const end = Math.min(count(), want);
        const frag = document.createDocumentFragment();
        for (let i = built; i < end; i++) {
            const k = isArr ? i : keyOf(i);
            frag.append(h('div', { class: 'j-member' },
                h('span', { class: isArr ? 'j-index' : 'j-key' }, isArr ? `${i}` : JSON.stringify(k)), h('span', { class: 'j-punct' }, ': '),
                node(member(i), open - 1)));
        }
        body.querySelector(':scope > .j-more-members')?.remove();
        body.append(frag);
        built = end;
        if (!filling && built < count()) body.append(h('button', { type: 'button', class: 'link j-more-members', onclick: buildMore }, moreText()));
        relabel();
    };
    const buildMore = () => buildTo(built + MEMBERS_STEP);
    // the first opening: a screenful now, the rest of the batch once that is painted
    const buildFirst = () => {
        filling = true;
        buildTo(FIRST_MEMBERS);
        const fill = () => {
            if (!body.isConnected) return; // the span was left
            const last = built + FILL_SLICE >= Math.min(MEMBERS_STEP, count());
            if (last) filling = false;
            buildTo(Math.min(MEMBERS_STEP, built + FILL_SLICE));
            if (!last) afterPaint(fill);
        };
        if (built < Math.min(MEMBERS_STEP, count())) afterPaint(fill);
        else { filling = false; buildTo(built); }
    };
    const toggle = h('button', { type: 'button', class: 'j-toggle', 'aria-expanded': 'false', 'aria-label': `expand ${total()} ${isArr ? 'items' : 'keys'}` }, '▸');
    const setOpen = (on) => {
        if (on && !built) buildFirst();
        body.hidden = !on;
        toggle.setAttribute('aria-expanded', String(on));
        toggle.textContent = on ? '▾' : '▸';
        toggle.setAttribute('aria-label', `${on ? 'collapse' : 'expand'} ${total()} ${isArr ? 'items' : 'keys'}`);
    };
    toggle.addEventListener('click', () => setOpen(body.hidden));
    if (open > 0) setOpen(true);
    return h('span', { class: 'j-container' }, toggle, h('span', { class: 'j-punct' }, o), summary, body, h('span', { class: 'j-punct' }, c));
}
