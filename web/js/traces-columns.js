// The traces table's columns: the fixed ones (time, name, status, latency,
// tokens, previews, tags, assessments, source run) and the chosen tag and
// metadata keys ("tag.<key>", "metadata.<key>"), each with its order_by
// identifier (null: not sortable) and its cell. The column picker.
import { h, href, fmtTime, relTime, fmtDuration, fmtCount } from './util.js';
import { traceTokens, durationMs, traceName, assessmentValue } from './trace-spans.js';

/** A TraceInfoV3's state as a badge (OK, ERROR, IN_PROGRESS). */
export function stateBadge(state) {
    const s = state || 'STATE_UNSPECIFIED';
    return h('span', { class: `badge trace-state state-${s.toLowerCase()}`, title: s }, s === 'IN_PROGRESS' ? 'IN PROGRESS' : s);
}

/** A key quoted for the trace search language: tag.`a b` when needed. */
export function traceIdent(type, key) {
    return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${type}.${key}` : `${type}.\`${key.replace(/`/g, '')}\``;
}

function preview(text) {
    const t = text || '';
    return h('span', { class: 'preview', title: t.length > 2000 ? `${t.slice(0, 2000)}…` : t }, t.length > 300 ? `${t.slice(0, 300)}…` : t);
}

const userTags = (info) => Object.entries(info.tags || {}).filter(([k]) => !k.startsWith('mlflow.'));

/** The assessments of a trace as chips: "name ✓" (valid ones; overridden ones left out). */
export function assessmentChips(list) {
    return (list || []).filter((a) => a.valid !== false).slice(0, 4).map((a) => {
        const v = assessmentValue(a);
        return h('span', { class: 'chip assessment', title: `${a.assessment_name}: ${v}${a.rationale ? ` (${a.rationale})` : ''}` }, `${a.assessment_name} ${v}`);
    });
}

/** The fixed columns: id -> {label, order (order_by key or null), cell(info), num}. */
export const FIXED = {
    time: { label: 'Time', order: 'timestamp_ms', cell: (t) => h('span', { title: fmtTime(Date.parse(t.request_time)) }, relTime(Date.parse(t.request_time))) },
    status: { label: 'Status', order: 'status', cell: (t) => stateBadge(t.state) },
    latency: { label: 'Latency', order: 'execution_time_ms', num: true, cell: (t) => fmtDuration(durationMs(t.execution_duration)) },
    tokens: { label: 'Tokens', order: null, num: true, cell: (t) => {
        const u = traceTokens(t);
        return u ? h('span', { title: `input ${u.input}, output ${u.output}` }, fmtCount(u.total)) : '';
    } },
    request: { label: 'Request', order: null, cell: (t) => preview(t.request_preview) },
    response: { label: 'Response', order: null, cell: (t) => preview(t.response_preview) },
    tags: { label: 'Tags', order: null, cell: (t) => userTags(t).map(([k, v]) => h('span', { class: 'chip', title: `${k}=${v}` }, `${k}=${v}`)) },
    assessments: { label: 'Assessments', order: null, cell: (t) => assessmentChips(t.assessments) },
    run: { label: 'Run', order: null, cell: (t) => {
        const r = t.trace_metadata?.['mlflow.sourceRun'];
        // the short id until traces.js names the page's runs (one runs/search)
        return r ? h('a', { class: 'run-link', href: href(`/run/${r}`), title: r, dataset: { run: r } }, h('code', {}, r.slice(0, 8))) : '';
    } },
};
export const DEFAULT_COLS = ['time', 'status', 'latency', 'tokens', 'request', 'response', 'tags', 'assessments', 'run'];

/** A column id's definition: a fixed column, or a tag / metadata key's, or null for an unknown id. */
export function column(id) {
    if (Object.hasOwn(FIXED, id)) return FIXED[id];
    const m = /^(tag|metadata)\.(.+)$/.exec(id);
    if (!m) return null;
    const [, type, key] = m;
    const get = (t) => (type === 'tag' ? t.tags : t.trace_metadata)?.[key] ?? '';
    return { label: key, type, order: traceIdent(type, key), cell: (t) => h('span', { title: get(t) }, get(t)) };
}

/** The trace name cell: a link to the trace page. */
export function nameCell(t) {
    return h('a', { class: 'trace-link', href: href(`/trace/${t.trace_id}`) }, traceName(t));
}

/** The tag and metadata keys on a page of traces, for the picker. */
export function pageKeys(traces) {
    const tags = new Set(), meta = new Set();
    for (const t of traces) {
        for (const k of Object.keys(t.tags || {})) if (k !== 'mlflow.artifactLocation') tags.add(k);
        for (const k of Object.keys(t.trace_metadata || {})) meta.add(k);
    }
    return { tags: [...tags].sort(), meta: [...meta].sort() };
}

/** Fills the column picker (opened by button); Apply writes the chosen columns (col=) through apply(cols). */
export function buildTracePicker(picker, button, keys, cols, apply) {
    const chosen = new Set(cols);
    const box = (id, label) => h('label', {}, h('input', { type: 'checkbox', checked: chosen.has(id), dataset: { col: id }, onchange: (ev) => {
        if (ev.target.checked) chosen.add(id); else chosen.delete(id);
    } }), label);
    picker.replaceChildren(h('div', { class: 'picker-lists' },
        h('fieldset', {}, h('legend', {}, 'Columns'), Object.entries(FIXED).map(([id, c]) => box(id, c.label))),
        h('fieldset', {}, h('legend', {}, `tags (${keys.tags.length})`), keys.tags.length ? keys.tags.map((k) => box(`tag.${k}`, k)) : h('div', { class: 'muted' }, 'none')),
        h('fieldset', {}, h('legend', {}, `metadata (${keys.meta.length})`), keys.meta.length ? keys.meta.map((k) => box(`metadata.${k}`, k)) : h('div', { class: 'muted' }, 'none'))),
    h('div', { class: 'picker-foot' },
        h('button', { class: 'primary', onclick: () => { picker.hidden = true; apply(chosen.size ? [...chosen] : ['-']); } }, 'Apply'),
        h('button', { onclick: () => { picker.hidden = true; } }, 'Cancel')));
    button.onclick = () => { picker.hidden = !picker.hidden; if (!picker.hidden) picker.querySelector('input')?.focus(); };
}
