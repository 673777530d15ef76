// A trace whose spans carry megabyte payloads, as an LLM app logs them: for
// the trace page's span details (tests/browser/trace-model-views.test.mjs) and the
// browser bench (tests/bench/browser_traces_bench.mjs). Each span's
// attributes stay under the server's 1 MiB a span (docs/api.md, /v1/traces,
// which counts more than the values' bytes: about 0.9 MB of values fit).
import { api, assertOk } from '../api/harness.mjs';
import { otlpBody, hex } from './traces-data.mjs';

const T0 = Date.UTC(2025, 5, 2, 12, 0, 0);
const WORDS = ['the', 'model', 'answer', 'context', 'retrieval', 'token', 'agent', 'tool', 'summary', 'question', 'document', 'score'];

/** n characters of word salad (spaces, no quotes), deterministic in seed. */
function prose(n, seed = 1) {
    let out = '', x = seed;
    while (out.length < n) {
        x = (x * 1103515245 + 12345) % 2147483648;
        out += `${WORDS[x % WORDS.length]} `;
    }
    return out.slice(0, n);
}

/**
 * Sends a trace of a root and five spans of about 0.9 MB of attributes each:
 *   string:   inputs {document: one string of 900,000 characters};
 *   messages: inputs {messages: 2,000 chat messages}, outputs a 420,000 character string;
 *   wide:     outputs an object of 18,000 keys;
 *   nested:   inputs 1,800 retrieved documents, each {id, score, metadata {...}, text};
 *   raw:      a plain attribute (not mlflow.*, shown as text) of 900,000 characters.
 * Returns {id, spans: {root, string, messages, wide, nested, raw}}.
 */
export async function payloadTrace(base, exp, { when = T0 } = {}) {
    const t = hex(16);
    const ids = { root: hex(8), string: hex(8), messages: hex(8), wide: hex(8), nested: hex(8), raw: hex(8) };
    const messages = Array.from({ length: 2000 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: prose(180, i + 1) }));
    const wide = Object.fromEntries(Array.from({ length: 18000 }, (_, i) => [`feature_${String(i).padStart(5, '0')}`, prose(30, i + 7)]));
    const docs = Array.from({ length: 1800 }, (_, i) => ({ id: `doc-${i}`, score: 1 - i / 1800, metadata: { source: `s3://corpus/${i}.md`, page: i % 40 }, text: prose(380, i + 3) }));
    const type = (x) => JSON.stringify(x);
    const spans = [
        { id: ids.root, name: 'rag', start: 0, end: 5000, attrs: { 'mlflow.spanType': type('CHAIN'), 'mlflow.spanInputs': '{"question": "What is in the corpus?"}' } },
        { id: ids.string, parent: ids.root, name: 'load-document', start: 10, end: 900, attrs: { 'mlflow.spanType': type('PARSER'), 'mlflow.spanInputs': JSON.stringify({ document: prose(900000, 5) }) } },
        { id: ids.messages, parent: ids.root, name: 'chat-history', start: 900, end: 2000, attrs: { 'mlflow.spanType': type('CHAT_MODEL'), 'mlflow.spanInputs': JSON.stringify({ messages: messages }), 'mlflow.spanOutputs': JSON.stringify(prose(420000, 9)) } },
        { id: ids.wide, parent: ids.root, name: 'features', start: 2000, end: 2600, attrs: { 'mlflow.spanType': type('TOOL'), 'mlflow.spanOutputs': JSON.stringify(wide) } },
        { id: ids.nested, parent: ids.root, name: 'retrieve', start: 2600, end: 4000, attrs: { 'mlflow.spanType': type('RETRIEVER'), 'mlflow.spanInputs': JSON.stringify({ query: 'corpus', documents: docs }) } },
        { id: ids.raw, parent: ids.root, name: 'raw-completion', start: 4000, end: 4990, attrs: { 'gen_ai.completion': prose(900000, 11) } },
    ];
    for (const s of spans) {
        const bytes = Object.entries(s.attrs).reduce((n, [k, v]) => n + k.length + Buffer.byteLength(v), 0);
        if (bytes > 950000) throw new Error(`span ${s.name}: ${bytes} bytes of attribute values, more than fit in the server's 1 MiB a span`);
    }
    // one span a request: each body stays a few MB
    for (const s of spans) {
        assertOk(await api(base, 'POST', '/v1/traces', otlpBody(t, when, [s]), { headers: { 'x-mlflow-experiment-id': exp }, timeoutMs: 120000 }));
    }
    return { id: `tr-${t}`, spans: ids };
}
