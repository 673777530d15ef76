// Unit tests of trace-spans.js, the trace views' pure module: OTLP span JSON
// (base64 ids, AnyValue attributes) to plain spans, the tree and its visible
// rows with folds, and the token and latency rollups.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
    b64hex, anyValue, decodeAttr, normalizeSpans, buildTree, visibleRows, ancestors, spanTokens, rollups,
    traceTokens, durationMs, assessmentValue,
} from '../../web/js/trace-spans.js';

const b64 = (hex) => Buffer.from(hex, 'hex').toString('base64');
const ID = { root: 'aa00000000000001', a: 'aa00000000000002', b: 'aa00000000000003', c: 'aa00000000000004' };
const span = (id, parent, name, start, end, extra = {}) => ({
    span_id: b64(ID[id]), parent_span_id: parent ? b64(ID[parent]) : undefined, name,
    start_time_unix_nano: start * 1e6, end_time_unix_nano: end * 1e6, ...extra,
});

test('ids and attribute values', () => {
    assert.equal(b64hex(b64('00f067aa0ba902b7')), '00f067aa0ba902b7');
    assert.equal(b64hex(''), '');
    assert.equal(anyValue({ int_value: 7 }), 7);
    assert.deepEqual(anyValue({ array_value: { values: [{ string_value: 'x' }, { bool_value: false }] } }), ['x', false]);
    assert.deepEqual(anyValue({ kvlist_value: { values: [{ key: 'k', value: { double_value: 0.5 } }] } }), { k: 0.5 });
    // MLflow's own attributes are JSON text; others are shown as they came
    assert.deepEqual(decodeAttr('mlflow.spanInputs', '{"q": "hi"}'), { q: 'hi' });
    assert.equal(decodeAttr('mlflow.spanType', '"LLM"'), 'LLM');
    assert.equal(decodeAttr('mlflow.spanInputs', 'not json'), 'not json');
    assert.equal(decodeAttr('user.key', '{"a": 1}'), '{"a": 1}');
});

test('spans, tree, folds and rollups', () => {
    const spans = normalizeSpans([
        span('b', 'root', 'tool', 300, 900, { status: { code: 'STATUS_CODE_ERROR', message: 'boom' } }),
        span('root', null, 'predict', 0, 1000, { attributes: [{ key: 'mlflow.spanType', value: { string_value: '"CHAIN"' } }] }),
        span('a', 'root', 'llm', 100, 400, { attributes: [
            { key: 'mlflow.spanType', value: { string_value: '"LLM"' } },
            { key: 'mlflow.chat.tokenUsage', value: { string_value: '{"input_tokens": 10, "output_tokens": 20, "total_tokens": 30}' } }] }),
        span('c', 'a', 'otel', 150, 200, { attributes: [
            { key: 'gen_ai.usage.input_tokens', value: { int_value: 5 } }, { key: 'gen_ai.usage.output_tokens', value: { int_value: 6 } }] }),
    ]);
    const tree = buildTree(spans);
    assert.deepEqual(tree.roots.map((s) => s.name), ['predict']);
    assert.equal(tree.t0, 0);
    assert.equal(tree.t1, 1000);
    const names = (rows) => rows.map((r) => `${r.depth}:${r.span.name}`);
    assert.deepEqual(names(visibleRows(tree, new Set())), ['0:predict', '1:llm', '2:otel', '1:tool']);
    assert.deepEqual(names(visibleRows(tree, new Set([ID.a]))), ['0:predict', '1:llm', '1:tool']);
    assert.deepEqual(ancestors(tree, ID.c), [ID.a, ID.root]);
    assert.deepEqual(spanTokens(tree.byId.get(ID.c)), { input: 5, output: 6, total: 11 });
    assert.equal(spanTokens(tree.byId.get(ID.root)), null);
    const r = rollups(spans);
    assert.equal(r.count, 4);
    assert.equal(r.errors, 1);
    assert.deepEqual(r.tokens, { input: 15, output: 26, total: 41 });
    assert.deepEqual(r.types.map((t) => [t.type, t.count, t.ms]), [['CHAIN', 1, 1000], ['UNKNOWN', 2, 650], ['LLM', 1, 300]]);
    assert.equal(tree.byId.get(ID.b).error, true);
    assert.equal(tree.byId.get(ID.b).message, 'boom');
});

test('a missing parent makes a root; a long chain does not overflow the stack', () => {
    const orphan = normalizeSpans([span('a', 'root', 'orphan', 0, 1)]);
    assert.equal(buildTree(orphan).roots.length, 1);
    const chain = [];
    for (let i = 0; i < 20000; i++) {
        chain.push({ span_id: b64(i.toString(16).padStart(16, '0')), parent_span_id: i ? b64((i - 1).toString(16).padStart(16, '0')) : undefined,
            name: `s${i}`, start_time_unix_nano: i * 1e6, end_time_unix_nano: (i + 1) * 1e6 });
    }
    const rows = visibleRows(buildTree(normalizeSpans(chain)), new Set());
    assert.equal(rows.length, 20000);
    assert.equal(rows[19999].depth, 19999);
});

test('trace info helpers', () => {
    assert.deepEqual(traceTokens({ trace_metadata: { 'mlflow.trace.tokenUsage': '{"input_tokens": 1, "output_tokens": 2}' } }), { input: 1, output: 2, total: 3 });
    assert.equal(traceTokens({ trace_metadata: {} }), null);
    assert.equal(durationMs('1.500s'), 1500);
    assert.equal(durationMs(undefined), null);
    assert.equal(assessmentValue({ feedback: { value: true } }), '✓ yes');
    assert.equal(assessmentValue({ feedback: { value: false } }), '✗ no');
    assert.equal(assessmentValue({ expectation: { value: { a: 1 } } }), '{"a":1}');
});
