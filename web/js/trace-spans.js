// A trace's data as the trace views use it: the spans of traces/get (the OTLP
// span JSON, ids in base64, attributes as AnyValues) turned into plain
// objects, the span tree and its visible rows, and the token and latency
// rollups of a trace. Pure functions: no DOM, no requests (tests/web).

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_VAL = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_VAL[B64.charCodeAt(i)] = i;
B64_VAL[45] = 62; // '-' and '_' of the URL-safe alphabet
B64_VAL[95] = 63;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * base64 (the OTLP JSON's ids) -> lowercase hex; '' for none; the input
 * itself when it is not base64. A table walk, not atob: a trace page
 * decodes two ids per span, 20,000 for a big trace.
 */
export function b64hex(s) {
    if (!s) return '';
    let out = '', acc = 0, bits = 0;
    for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c === 61) break; // '=' padding
        const v = c < 128 ? B64_VAL[c] : -1;
        if (v < 0) return String(s);
        acc = ((acc << 6) | v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += HEX[(acc >> bits) & 0xff];
        }
    }
    return out;
}

/** An OTLP AnyValue ({string_value}, {int_value}, {array_value: {values}}, ...) as a JS value. */
export function anyValue(v) {
    if (!v || typeof v !== 'object') return v ?? null;
    if ('string_value' in v) return v.string_value;
    if ('int_value' in v) return Number(v.int_value);
    if ('double_value' in v) return v.double_value;
    if ('bool_value' in v) return v.bool_value;
    if ('bytes_value' in v) return v.bytes_value;
    if ('array_value' in v) return (v.array_value?.values || []).map(anyValue);
    if ('kvlist_value' in v) return attrMap(v.kvlist_value?.values);
    return null;
}

/** [{key, value: AnyValue}] -> {key: value} (values not decoded further). */
export function attrMap(list) {
    const out = {};
    for (const a of list || []) if (a && typeof a.key === 'string') out[a.key] = anyValue(a.value);
    return out;
}

/**
 * An attribute's value for display: MLflow writes its own attributes
 * (mlflow.*) as JSON text, so those strings are parsed when they parse;
 * everything else is shown as it came.
 */
export function decodeAttr(key, value) {
    if (typeof value !== 'string' || !key.startsWith('mlflow.')) return value;
    const c = value.trimStart()[0];
    if (c !== '{' && c !== '[' && c !== '"' && c !== 't' && c !== 'f' && c !== 'n' && !(c >= '0' && c <= '9') && c !== '-') return value;
    try { return JSON.parse(value); } catch { return value; }
}

const ERROR_CODES = new Set(['STATUS_CODE_ERROR', 'ERROR', 2]);

/**
 * The OTLP spans of traces/get as {id, parent, name, type, start, end (ms,
 * fractional), error, message, attrs (raw), events}. A span whose parent is
 * not in the trace is treated as a root.
 */
export function normalizeSpans(spans) {
    const out = (spans || []).map((s) => {
        const attrs = attrMap(s.attributes);
        const type = decodeAttr('mlflow.spanType', attrs['mlflow.spanType']);
        const start = Number(s.start_time_unix_nano) / 1e6;
        const endRaw = Number(s.end_time_unix_nano);
        return {
            id: b64hex(s.span_id), parent: b64hex(s.parent_span_id), name: s.name || '(unnamed)',
            type: typeof type === 'string' ? type : '', start, end: endRaw ? endRaw / 1e6 : start,
            error: ERROR_CODES.has(s.status?.code), message: s.status?.message || '', attrs,
            events: (s.events || []).map((e) => ({ name: e.name || '', time: Number(e.time_unix_nano) / 1e6, attrs: attrMap(e.attributes) })),
        };
    });
    const ids = new Set(out.map((s) => s.id));
    for (const s of out) if (s.parent && !ids.has(s.parent)) s.parent = '';
    return out;
}

/**
 * The span tree: {roots, children: Map<id, span[]>, byId: Map<id, span>,
 * t0, t1} with siblings ordered by start time; t0/t1 the trace's first
 * start and last end (ms).
 */
export function buildTree(spans) {
    const byId = new Map(spans.map((s) => [s.id, s]));
    const children = new Map();
    const roots = [];
    let t0 = Infinity, t1 = -Infinity;
    for (const s of spans) {
        t0 = Math.min(t0, s.start);
        t1 = Math.max(t1, s.end);
        if (!s.parent || s.parent === s.id) { roots.push(s); continue; }
        if (!children.has(s.parent)) children.set(s.parent, []);
        children.get(s.parent).push(s);
    }
    const byStart = (a, b) => a.start - b.start || a.name.localeCompare(b.name);
    roots.sort(byStart);
    for (const list of children.values()) list.sort(byStart);
    if (!spans.length) t0 = t1 = 0;
    return { roots, children, byId, t0, t1 };
}

/**
 * The rows shown: [{span, depth}] in tree order, skipping the descendants
 * of folded spans (folded: a Set of ids). Iterative, so a chain of 10,000
 * spans does not overflow the stack.
 */
export function visibleRows(tree, folded) {
    const rows = [];
    const stack = tree.roots.slice().reverse().map((s) => [s, 0]);
    const seen = new Set();
    while (stack.length) {
        const [s, depth] = stack.pop();
        if (seen.has(s.id)) continue; // a parent cycle in stored data
        seen.add(s.id);
        rows.push({ span: s, depth });
        if (folded.has(s.id)) continue;
        const kids = tree.children.get(s.id);
        if (kids) for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i], depth + 1]);
    }
    return rows;
}

/** The ancestors' ids of a span, nearest first. */
export function ancestors(tree, id) {
    const out = [];
    let s = tree.byId.get(id);
    while (s && s.parent && !out.includes(s.parent)) {
        out.push(s.parent);
        s = tree.byId.get(s.parent);
    }
    return out;
}

function tokenNum(x) {
    const n = Number(x);
    return Number.isFinite(n) ? n : 0;
}

/** A span's own token usage {input, output, total}, or null when it names none. */
export function spanTokens(span) {
    const u = decodeAttr('mlflow.chat.tokenUsage', span.attrs['mlflow.chat.tokenUsage']);
    if (u && typeof u === 'object') {
        const input = tokenNum(u.input_tokens), output = tokenNum(u.output_tokens);
        return { input, output, total: u.total_tokens !== undefined ? tokenNum(u.total_tokens) : input + output };
    }
    const gi = span.attrs['gen_ai.usage.input_tokens'], go = span.attrs['gen_ai.usage.output_tokens'];
    if (gi === undefined && go === undefined) return null;
    return { input: tokenNum(gi), output: tokenNum(go), total: tokenNum(gi) + tokenNum(go) };
}

/**
 * The trace's rollups from its spans: {count, errors, tokens {input, output,
 * total}, types: [{type, count, ms, errors}] by total time}.
 */
export function rollups(spans) {
    const tokens = { input: 0, output: 0, total: 0 };
    const types = new Map();
    let errors = 0;
    for (const s of spans) {
        if (s.error) errors++;
        const t = spanTokens(s);
        if (t) { tokens.input += t.input; tokens.output += t.output; tokens.total += t.total; }
        const k = s.type || 'UNKNOWN';
        const r = types.get(k) || { type: k, count: 0, ms: 0, errors: 0 };
        r.count++;
        r.ms += Math.max(0, s.end - s.start);
        if (s.error) r.errors++;
        types.set(k, r);
    }
    return { count: spans.length, errors, tokens, types: [...types.values()].sort((a, b) => b.ms - a.ms) };
}

/** The trace-level token usage of a TraceInfoV3 (metadata mlflow.trace.tokenUsage), or null. */
export function traceTokens(info) {
    const raw = info?.trace_metadata?.['mlflow.trace.tokenUsage'];
    if (!raw) return null;
    try {
        const u = JSON.parse(raw);
        const input = tokenNum(u.input_tokens), output = tokenNum(u.output_tokens);
        return { input, output, total: u.total_tokens !== undefined ? tokenNum(u.total_tokens) : input + output };
    } catch { return null; }
}

/** A protobuf Duration string ("1.234s") in ms, or null. */
export function durationMs(s) {
    const m = /^(-?\d+(?:\.\d+)?)s$/.exec(String(s ?? ''));
    return m ? Number(m[1]) * 1000 : null;
}

/** The trace's name: tag mlflow.traceName, else its id. */
export function traceName(info) {
    return info?.tags?.['mlflow.traceName'] || info?.trace_id || '?';
}

/** The experiment of a TraceInfoV3. */
export function traceExperiment(info) {
    return info?.trace_location?.mlflow_experiment?.experiment_id || '';
}

/** An assessment's value in words: "✓ yes" / "✗ no" for boolean feedback, else the JSON value. */
export function assessmentValue(a) {
    if (a?.feedback) {
        if (a.feedback.error) return `error: ${a.feedback.error.error_message || a.feedback.error.error_code || '?'}`;
        const v = a.feedback.value;
        if (v === true) return '✓ yes';
        if (v === false) return '✗ no';
        return typeof v === 'string' ? v : JSON.stringify(v);
    }
    if (a?.expectation) {
        const v = a.expectation.value ?? a.expectation.serialized_value?.value;
        return typeof v === 'string' ? v : JSON.stringify(v);
    }
    if (a?.issue) return a.issue.issue_name || 'issue';
    return '';
}
