// Small helpers shared by the views: DOM building, URL (hash) state, and the
// formatting of times, durations, numbers and statuses.

/**
 * h('div', {class: 'x', onclick: fn, title: 't'}, child, 'text', [more])
 * Builds an element; attributes starting with "on" become listeners; null
 * and false children are skipped. Never parses HTML.
 */
export function h(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
        if (v === undefined || v === null || v === false) continue;
        if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
        else if (k === 'class') e.className = v;
        else if (k === 'dataset') Object.assign(e.dataset, v);
        else if (k === 'value') e.value = v;
        else if (k === 'checked') e.checked = !!v;
        else e.setAttribute(k, v === true ? '' : String(v));
    }
    append(e, children);
    return e;
}

function append(e, children) {
    for (const c of children) {
        if (c === null || c === undefined || c === false) continue;
        if (Array.isArray(c)) append(e, c);
        else e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
}

/** The current route: {path: '/runs', parts: ['runs'], params: URLSearchParams}. */
export function parseHash(hash = location.hash) {
    const s = hash.replace(/^#/, '') || '/experiments';
    const q = s.indexOf('?');
    const path = q < 0 ? s : s.slice(0, q);
    const params = new URLSearchParams(q < 0 ? '' : s.slice(q + 1));
    return { path, parts: path.split('/').filter(Boolean).map(decodeURIComponent), params };
}

/** The experiment ids of a route's `exp` parameters (repeated or comma-separated). */
export function experimentIds(params) {
    return params.getAll('exp').flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
}

/** A hash link: href('/runs', {exp: '1', col: ['a', 'b']}). */
export function href(path, params = {}) {
    const sp = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
        if (v === undefined || v === null || v === '') continue;
        if (Array.isArray(v)) for (const x of v) sp.append(k, x);
        else sp.append(k, String(v));
    }
    const s = sp.toString();
    return `#${path}${s ? `?${s}` : ''}`;
}

/**
 * Navigates to a new hash (pushes history unless replace). silent: only
 * records the state in the URL, without rendering the view again.
 */
export function go(hash, { replace = false, silent = false } = {}) {
    if (hash === location.hash) return;
    if (silent) history.replaceState(null, '', hash);
    else if (replace) history.replaceState(null, '', hash), window.dispatchEvent(new HashChangeEvent('hashchange'));
    else location.hash = hash;
}

/** Updates some params of the current route, keeping the rest. */
export function withParams(changes, { replace = false, silent = false } = {}) {
    const { path, params } = parseHash();
    for (const [k, v] of Object.entries(changes)) {
        params.delete(k);
        if (v === undefined || v === null || v === '') continue;
        if (Array.isArray(v)) for (const x of v) params.append(k, x);
        else params.set(k, String(v));
    }
    const s = params.toString();
    go(`#${path}${s ? `?${s}` : ''}`, { replace, silent });
}

export function fmtTime(ms) {
    if (!ms) return '';
    const d = new Date(ms);
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** "5 s ago", "3 min ago", "2 h ago", "4 d ago", then the date. */
export function relTime(ms, now = Date.now()) {
    if (!ms) return '';
    const s = Math.round((now - ms) / 1000);
    if (s < 0) return 'just now';
    if (s < 60) return `${s} s ago`;
    if (s < 3600) return `${Math.floor(s / 60)} min ago`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
    if (s < 30 * 86400) return `${Math.floor(s / 86400)} d ago`;
    return fmtTime(ms).slice(0, 10);
}

/** "850 ms", "12.3 s", "4 min 5 s", "2 h 3 min", "3 d 4 h". */
export function fmtDuration(ms) {
    if (ms === undefined || ms === null || !Number.isFinite(ms) || ms < 0) return '';
    if (ms < 1000) return `${Math.round(ms)} ms`;
    const s = ms / 1000;
    if (s < 60) return `${s.toFixed(1)} s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m} min ${Math.floor(s % 60)} s`;
    const hr = Math.floor(m / 60);
    if (hr < 24) return `${hr} h ${m % 60} min`;
    return `${Math.floor(hr / 24)} d ${hr % 24} h`;
}

/** A metric value for a table: up to 6 significant digits, NaN and infinities spelled. */
export function fmtNum(v) {
    if (v === undefined || v === null) return '';
    if (typeof v === 'string') return v;
    if (Number.isNaN(v)) return 'NaN';
    if (!Number.isFinite(v)) return v > 0 ? '∞' : '-∞';
    if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-4 || a >= 1e9)) return v.toExponential(4);
    return String(Number(v.toPrecision(6)));
}

export const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'];

export function statusBadge(status) {
    return h('span', { class: `badge status-${String(status || '').toLowerCase()}`, title: status }, status || '?');
}

/** A color that stays the same for a run everywhere (hash of its id). */
export function runColor(runId) {
    let x = 2166136261;
    for (let i = 0; i < runId.length; i++) x = Math.imul(x ^ runId.charCodeAt(i), 16777619);
    x >>>= 0;
    const hue = x % 360;
    const light = [38, 48, 58][(x >>> 9) % 3]; // more distinct colors than hue alone
    return `hsl(${hue}, 70%, ${light}%)`;
}

/** The run name for display. */
export function runName(run) {
    return run.info.run_name || tagValue(run, 'mlflow.runName') || run.info.run_id.slice(0, 8);
}

export function tagValue(run, key) {
    return (run.data?.tags || []).find((t) => t.key === key)?.value;
}

/** An error box with the server's words (never a blank page). */
export function errorBox(e, what = '') {
    const msg = e?.message || String(e);
    const code = e?.code ? `${e.code}: ` : '';
    return h('div', { class: 'error', role: 'alert' }, what ? `${what}: ` : '', code, msg);
}

/** Calls fn in a task after the next frame is painted: work that must not delay what is shown. */
// counts in the reader's locale ("18,000"): one formatter, made once; Number#toLocaleString
// builds one a call (tens of microseconds, felt when a label is written for every row or slice)
const COUNT = new Intl.NumberFormat();

/** n as a count in the reader's locale: 18000 -> "18,000". */
export function fmtCount(n) {
    return COUNT.format(n);
}

export function afterPaint(fn) {
    requestAnimationFrame(() => setTimeout(fn, 0));
}

export function debounce(fn, ms) {
    let t;
    return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
}

/** Quotes a key for the filter/order_by language when needed: metrics.`my key`. */
export function ident(type, key) {
    return /^[A-Za-z_][A-Za-z0-9_.]*$/.test(key) ? `${type}.${key}` : `${type}.\`${key}\``;
}
