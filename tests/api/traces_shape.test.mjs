// The span JSON of every read that serves spans, field by field
// (mlflow-models-api.md 3.3, 3.11): V3 traces/get, batchGet, and the
// traces.json of get-trace-artifact, on both mounts. Spans carry every kind
// of attribute value (strings with escapes and control characters, unicode
// beyond the BMP, JSON text in strings, int64 at its limits, doubles,
// NaN, booleans, bytes, nested arrays and kvlists, empty ones, unset
// values), events with and without attributes, every status code and
// kind. The replies are written by a streaming encoder, so this pins the
// shape the jansson-built replies had.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { useStack, client, api, assertOk, uniqueName } from './harness.mjs';

const stack = useStack({ before, after });
const hex = (n) => crypto.randomBytes(n).toString('hex');
const b64 = (h) => Buffer.from(h, 'hex').toString('base64');

const ESCAPES = 'quote " backslash \\ slash / nl \n cr \r tab \t bs \b ff \f ctl \u0001 \u001f del \u007f';
const UNICODE = 'héllo 日本語 🎉 \u2028 \u00e9';
const JSON_TEXT = '{"messages": [{"role": "user", "content": "hi \\"there\\""}], "n": 2.5}';

// [key, OTLP/JSON AnyValue sent, OTLP AnyValue expected back (snake_case),
//  native value traces.json encodes]
const ATTRS = [
    ['s.escapes', { stringValue: ESCAPES }, { string_value: ESCAPES }, ESCAPES],
    ['s.unicode', { stringValue: UNICODE }, { string_value: UNICODE }, UNICODE],
    ['s.empty', { stringValue: '' }, { string_value: '' }, ''],
    ['s.json', { stringValue: JSON_TEXT }, { string_value: JSON_TEXT }, JSON_TEXT],
    ['mlflow.spanType', { stringValue: '"LLM"' }, { string_value: '"LLM"' }, '"LLM"'],
    ['i.neg', { intValue: '-42' }, { int_value: -42 }, -42],
    ['i.big', { intValue: 1234567890123 }, { int_value: 1234567890123 }, 1234567890123],
    ['i.zero', { intValue: 0 }, { int_value: 0 }, 0],
    ['d.tenth', { doubleValue: 0.1 }, { double_value: 0.1 }, 0.1],
    ['d.tiny', { doubleValue: -2.5e-10 }, { double_value: -2.5e-10 }, -2.5e-10],
    // jsonb prints 1e300 as 301 digits; the jansson-built reads refused that
    // integer and dropped every attribute of the span
    ['d.huge', { doubleValue: 1e300 }, { double_value: 1e300 }, 1e300],
    ['d.whole', { doubleValue: 3 }, { double_value: 3 }, 3],
    ['d.nan', { doubleValue: 'NaN' }, { string_value: 'NaN' }, 'NaN'],
    ['b.true', { boolValue: true }, { bool_value: true }, true],
    ['b.false', { boolValue: false }, { bool_value: false }, false],
    ['bytes', { bytesValue: 'AAEC/w==' }, { string_value: 'AAEC/w==' }, 'AAEC/w=='],
    ['unset', {}, {}, null],
    ['arr', { arrayValue: { values: [{ stringValue: 'x"y' }, { intValue: '7' }, { doubleValue: 1.5 }, { boolValue: false },
        { arrayValue: { values: [] } }, { kvlistValue: { values: [{ key: 'k', value: { stringValue: 'v' } }] } }] } },
    { array_value: { values: [{ string_value: 'x"y' }, { int_value: 7 }, { double_value: 1.5 }, { bool_value: false },
        { array_value: { values: [] } }, { kvlist_value: { values: [{ key: 'k', value: { string_value: 'v' } }] } }] } },
    ['x"y', 7, 1.5, false, [], { k: 'v' }]],
    ['arr.empty', { arrayValue: {} }, { array_value: { values: [] } }, []],
    ['kv', { kvlistValue: { values: [
        { key: 'outer', value: { kvlistValue: { values: [{ key: 'inner "q"', value: { arrayValue: { values: [{ intValue: 1 }, { boolValue: true }] } } }] } } },
        { key: 'ünï', value: { stringValue: '🎉' } }] } },
    { kvlist_value: { values: [
        { key: 'outer', value: { kvlist_value: { values: [{ key: 'inner "q"', value: { array_value: { values: [{ int_value: 1 }, { bool_value: true }] } } }] } } },
        { key: 'ünï', value: { string_value: '🎉' } }] } },
    { outer: { 'inner "q"': [1, true] }, 'ünï': '🎉' }],
    ['kv.empty', { kvlistValue: { values: [] } }, { kvlist_value: { values: [] } }, {}],
];

// An AnyValue list compared without regard to order (the store keeps keys
// in its own order).
const byKey = (list) => [...list].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
const isKvList = (v) => v.length > 0 && v.every((e) => e && typeof e === 'object' && 'key' in e);
const sortKv = (v) => {
    if (Array.isArray(v)) return isKvList(v) ? byKey(v).map((e) => ({ key: e.key, value: sortKv(e.value) })) : v.map(sortKv);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, sortKv(x)]));
    return v;
};

describe('span JSON of traces/get, batchGet and get-trace-artifact', () => {
    let exp;
    const t = hex(16), root = hex(8), child = hex(8), leaf = hex(8);
    const tid = `tr-${t}`;
    const ns = (ms) => (BigInt(1750000000000 + ms) * 1000000n).toString();
    const sent = [
        { traceId: t, spanId: root, name: 'root "quoted" \\ span 🎉', kind: 'SPAN_KIND_SERVER', traceState: 'k=v,x=y',
            startTimeUnixNano: ns(0), endTimeUnixNano: ns(900), status: { code: 'STATUS_CODE_OK' },
            attributes: ATTRS.map(([key, value]) => ({ key, value })),
            events: [
                { name: 'exception', timeUnixNano: ns(5), attributes: [{ key: 'exception.message', value: { stringValue: 'boom\n"x"' } }, { key: 'n', value: { intValue: 3 } }] },
                { name: 'bare', timeUnixNano: ns(6) },
            ] },
        { traceId: t, spanId: child, parentSpanId: root, name: 'child', kind: 3,
            startTimeUnixNano: ns(100), endTimeUnixNano: ns(500), status: { code: 2, message: 'failed: "bad"\tinput ✗' },
            attributes: [{ key: 'only', value: { stringValue: 'one' } }] },
        { traceId: t, spanId: leaf, parentSpanId: child, name: '', startTimeUnixNano: ns(200), endTimeUnixNano: ns(200) },
    ];
    // What the OTLP reads answer per span (all fields; proto3 defaults omitted).
    const otlpExpected = [
        { trace_id: b64(t), span_id: b64(root), name: sent[0].name, trace_state: 'k=v,x=y', kind: 'SPAN_KIND_SERVER',
            start_time_unix_nano: Number(ns(0)), end_time_unix_nano: Number(ns(900)),
            attributes: ATTRS.map(([key, , value]) => ({ key, value })),
            events: [
                { time_unix_nano: Number(ns(5)), name: 'exception', attributes: [{ key: 'exception.message', value: { string_value: 'boom\n"x"' } }, { key: 'n', value: { int_value: 3 } }] },
                { time_unix_nano: Number(ns(6)), name: 'bare' },
            ],
            status: { code: 'STATUS_CODE_OK' } },
        { trace_id: b64(t), span_id: b64(child), name: 'child', parent_span_id: b64(root), kind: 'SPAN_KIND_CLIENT',
            start_time_unix_nano: Number(ns(100)), end_time_unix_nano: Number(ns(500)),
            attributes: [{ key: 'only', value: { string_value: 'one' } }],
            status: { code: 'STATUS_CODE_ERROR', message: 'failed: "bad"\tinput ✗' } },
        { trace_id: b64(t), span_id: b64(leaf), name: '', parent_span_id: b64(child),
            start_time_unix_nano: Number(ns(200)), end_time_unix_nano: Number(ns(200)),
            status: { code: 'STATUS_CODE_UNSET' } },
    ];

    function checkOtlpSpans(spans, what) {
        assert.equal(spans.length, 3, what);
        for (let i = 0; i < 3; i++) {
            const got = spans[i], want = otlpExpected[i];
            assert.deepEqual(Object.keys(got), Object.keys(want), `${what}: span ${i} fields in order`);
            for (const k of Object.keys(want)) {
                if (k === 'attributes' || k === 'events')
                    assert.deepEqual(sortKv(got[k]), sortKv(want[k]), `${what}: span ${i} ${k}`);
                else
                    assert.deepEqual(got[k], want[k], `${what}: span ${i} ${k}`);
            }
            for (const a of got.attributes || []) {
                const w = want.attributes.find((x) => x.key === a.key);
                assert.deepEqual(sortKv(a.value), sortKv(w.value), `${what}: attribute ${a.key}`);
            }
        }
    }

    before(async () => {
        exp = await client(stack.base).createExperiment(uniqueName('shape'));
        assertOk(await api(stack.base, 'POST', '/v1/traces', { resourceSpans: [{ scopeSpans: [{ spans: sent }] }] },
            { headers: { 'x-mlflow-experiment-id': exp } }));
    });

    for (const mount of ['/api', '/ajax-api']) {
        test(`traces/get under ${mount}/3.0: every field of every span`, async () => {
            const r = await api(stack.base, 'GET', `${mount}/3.0/mlflow/traces/get`, { trace_id: tid, allow_partial: 'true' });
            const got = assertOk(r);
            assert.deepEqual(Object.keys(got), ['trace']);
            assert.deepEqual(Object.keys(got.trace), ['trace_info', 'spans']);
            assert.equal(got.trace.trace_info.trace_id, tid);
            checkOtlpSpans(got.trace.spans, 'traces/get');
            // numbers as the store holds them, not rounded through a double
            assert.match(r.text, /"key":"d\.whole","value":\{"double_value":3(\.0)?\}/);
            assert.match(r.text, /"key":"i\.neg","value":\{"int_value":-42\}/);
        });

        test(`batchGet under ${mount}/3.0: the same spans, unknown ids left out`, async () => {
            const got = assertOk(await api(stack.base, 'GET', `${mount}/3.0/mlflow/traces/batchGet`,
                { trace_ids: [`tr-${hex(16)}`, tid, 'not-an-id'] }));
            assert.equal(got.traces.length, 1);
            checkOtlpSpans(got.traces[0].spans, 'batchGet');
        });

        test(`get-trace-artifact under ${mount}/2.0: traces.json, attributes JSON-encoded`, async () => {
            const r = await api(stack.base, 'GET', `${mount}/2.0/mlflow/get-trace-artifact`, { request_id: tid });
            const got = assertOk(r);
            assert.match(r.headers.get('content-disposition') || '', /traces\.json/);
            assert.deepEqual(Object.keys(got), ['spans']);
            assert.equal(got.spans.length, 3);
            const fields = ['trace_id', 'span_id', 'parent_span_id', 'trace_state', 'name', 'start_time_unix_nano',
                'end_time_unix_nano', 'events', 'status', 'attributes'];
            for (const s of got.spans) assert.deepEqual(Object.keys(s), fields);
            const [r0, r1, r2] = got.spans;
            assert.deepEqual([r0.trace_id, r0.span_id, r0.parent_span_id, r0.trace_state, r0.name],
                [b64(t), b64(root), null, 'k=v,x=y', sent[0].name]);
            assert.deepEqual([r0.start_time_unix_nano, r0.end_time_unix_nano], [Number(ns(0)), Number(ns(900))]);
            assert.deepEqual(r0.status, { code: 'STATUS_CODE_OK', message: '' });
            assert.deepEqual(r0.events.map((e) => [e.name, e.time_unix_nano, e.attributes]), [
                ['exception', Number(ns(5)), { 'exception.message': 'boom\n"x"', n: 3 }], ['bare', Number(ns(6)), {}]]);
            assert.deepEqual(Object.keys(r0.attributes).sort(), ATTRS.map(([k]) => k).sort());
            for (const [key, , , native] of ATTRS) {
                const text = r0.attributes[key];
                assert.equal(typeof text, 'string', `attribute ${key} is JSON text`);
                if (typeof native === 'string' && key !== 's.empty' && isJson(native))
                    assert.equal(text, native, `attribute ${key}: JSON text kept as it is`);
                else
                    assert.deepEqual(JSON.parse(text), native, `attribute ${key}`);
            }
            assert.deepEqual([r1.parent_span_id, r1.trace_state, r1.status, r1.attributes, r1.events],
                [b64(root), '', { code: 'STATUS_CODE_ERROR', message: 'failed: "bad"\tinput ✗' }, { only: '"one"' }, []]);
            assert.deepEqual([r2.parent_span_id, r2.name, r2.status, r2.attributes],
                [b64(child), '', { code: 'STATUS_CODE_UNSET', message: '' }, {}]);
        });
    }
});

function isJson(s) {
    try {
        JSON.parse(s);
        return true;
    } catch {
        return false;
    }
}
