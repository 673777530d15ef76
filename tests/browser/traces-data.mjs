// Test data for the traces views, made through the real API: traces by the
// V3 create (POST /api/3.0/mlflow/traces) and spans by OTLP/JSON
// (POST /v1/traces), as MLflow 3 clients and OpenTelemetry exporters send them.
import crypto from 'node:crypto';
import { api, assertOk } from '../api/harness.mjs';

export const hex = (n) => crypto.randomBytes(n).toString('hex');
const str = (v) => ({ stringValue: v });
const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);

/** V3 create of one trace (no spans): returns its id. */
export async function createTrace(base, exp, { name, when = T0, ms = 100, state = 'OK', tags = {}, metadata = {}, request = '', response = '', headers = {} } = {}) {
    const id = `tr-${hex(16)}`;
    assertOk(await api(base, 'POST', '/api/3.0/mlflow/traces', { trace: { trace_info: {
        trace_id: id, trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: exp } },
        request_time: new Date(when).toISOString(), execution_duration: `${(ms / 1000).toFixed(3)}s`, state,
        request_preview: request, response_preview: response,
        trace_metadata: metadata, tags: { 'mlflow.traceName': name, ...tags },
    } } }, { headers }));
    return id;
}

/** OTLP/JSON of spans [{id, parent, name, start, end (ms from when), attrs: {k: string}, error, events}]. */
function otlpBody(traceHex, when, spans) {
    const ns = (x) => String(BigInt(when + x) * 1000000n);
    return { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: str('browser-test') }] }, scopeSpans: [{ scope: { name: 'test' }, spans: spans.map((s) => {
        const o = { traceId: traceHex, spanId: s.id, name: s.name, kind: 1, startTimeUnixNano: ns(s.start), endTimeUnixNano: ns(s.end),
            attributes: Object.entries(s.attrs || {}).map(([key, v]) => ({ key, value: typeof v === 'number' ? { intValue: String(v) } : str(v) })) };
        if (s.parent) o.parentSpanId = s.parent;
        o.status = s.error ? { code: 2, message: s.error } : { code: 1 };
        if (s.events) o.events = s.events.map((e) => ({ name: e.name, timeUnixNano: ns(e.at), attributes: Object.entries(e.attrs).map(([key, v]) => ({ key, value: str(v) })) }));
        return o;
    }) }] }] };
}

/**
 * A chat trace: root "chat" (CHAIN), "retrieve" (RETRIEVER), "llm" (LLM,
 * 12 + 30 tokens), "tool" (an error with an exception event) and "big",
 * whose input holds a string of bigChars characters; then the V3 create
 * that names its source run. Returns {id, spans: {root, retrieve, llm, tool, big}}.
 */
export async function chatTrace(base, exp, { runId, when = T0 + 3600000, bigChars = 1000000, headers = {} } = {}) {
    const t = hex(16);
    const ids = { root: hex(8), retrieve: hex(8), llm: hex(8), tool: hex(8), big: hex(8) };
    const spans = [
        { id: ids.root, name: 'chat', start: 0, end: 1400, attrs: { 'mlflow.spanType': '"CHAIN"', 'mlflow.spanInputs': '{"question": "What is exptrack?"}', 'mlflow.spanOutputs': '"An experiment tracker."' } },
        { id: ids.retrieve, parent: ids.root, name: 'retrieve', start: 20, end: 300, attrs: { 'mlflow.spanType': '"RETRIEVER"', 'mlflow.spanInputs': '{"query": "exptrack"}', 'mlflow.spanOutputs': '[{"doc": "README.md", "score": 0.9}]' } },
        { id: ids.llm, parent: ids.root, name: 'llm', start: 320, end: 1200, attrs: { 'mlflow.spanType': '"LLM"', 'mlflow.chat.tokenUsage': '{"input_tokens": 12, "output_tokens": 30, "total_tokens": 42}', 'model.name': 'tiny-1' } },
        { id: ids.tool, parent: ids.llm, name: 'tool', start: 600, end: 900, error: 'tool failed: timeout', attrs: { 'mlflow.spanType': '"TOOL"' },
            events: [{ name: 'exception', at: 880, attrs: { 'exception.type': 'TimeoutError', 'exception.message': 'search took too long' } }] },
        { id: ids.big, parent: ids.root, name: 'big', start: 1210, end: 1390, attrs: { 'mlflow.spanType': '"PARSER"', 'mlflow.spanInputs': JSON.stringify({ document: 'x'.repeat(bigChars) }) } },
    ];
    assertOk(await api(base, 'POST', '/v1/traces', otlpBody(t, when, spans), { headers: { ...headers, 'x-mlflow-experiment-id': exp }, timeoutMs: 60000 }));
    const id = `tr-${t}`;
    assertOk(await api(base, 'POST', '/api/3.0/mlflow/traces', { trace: { trace_info: {
        trace_id: id, trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: exp } },
        request_time: new Date(when).toISOString(), execution_duration: '1.400s', state: 'ERROR',
        trace_metadata: runId ? { 'mlflow.sourceRun': runId } : {}, tags: { env: 'prod' },
    } } }, { headers }));
    return { id, spans: ids };
}

/** A trace of n spans under one root, in OTLP/JSON batches; returns its id. */
export async function wideTrace(base, exp, n, { when = T0 + 7200000 } = {}) {
    const t = hex(16), root = hex(8);
    const spans = [{ id: root, name: 'root', start: 0, end: n + 10 }];
    for (let i = 1; i < n; i++) spans.push({ id: hex(8), parent: root, name: `step-${i}`, start: i, end: i + 5 });
    for (let i = 0; i < spans.length; i += 5000) {
        assertOk(await api(base, 'POST', '/v1/traces', otlpBody(t, when, spans.slice(i, i + 5000)), { headers: { 'x-mlflow-experiment-id': exp }, timeoutMs: 120000 }));
    }
    return `tr-${t}`;
}
