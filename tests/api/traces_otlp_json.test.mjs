// OTLP/HTTP span ingest at POST /v1/traces in its JSON form
// (mlflow-models-api.md 3.10, 3.11): spans grouped by trace, the trace row
// created and widened, previews and token usage from the spans, the
// TRACKING_STORE tag; traces/get and batchGet in the OTLP span JSON shape;
// a 10,000-span trace; deletion by age while ingest runs; the rollups of
// /api/2.0/exptrack/traces/stats; refused input stores nothing; partial
// success (rejected spans counted, the others stored).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { useStack, client, api, startServer, assertOk, assertError, uniqueName } from './harness.mjs';

const stack = useStack({ before, after });
const sql = (q) => stack.pg.psql(q).trim();
const hex = (n) => crypto.randomBytes(n).toString('hex');
const b64 = (h) => Buffer.from(h, 'hex').toString('base64');
const str = (v) => ({ stringValue: v });

function span(traceId, spanId, parent, { name = 's', start = 1000, end = 2000, attrs = [], status, events } = {}) {
    const s = { traceId, spanId, name, kind: 1, startTimeUnixNano: String(start), endTimeUnixNano: end, attributes: attrs };
    if (parent) s.parentSpanId = parent;
    if (status) s.status = status;
    if (events) s.events = events;
    return s;
}
const body = (spans) => ({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: str('t') }] }, scopeSpans: [{ scope: { name: 'test' }, spans }] }] });

// /v1/traces streams its body, but it has the --max-body-size cap of every
// other route, raw and once inflated (it had a 64 MiB cap of its own).
describe('OTLP body limit follows --max-body-size', () => {
    const LIMIT = 65536;
    let small, exp;
    before(async () => {
        small = await startServer({ databaseUrl: stack.pg.url, args: ['--max-body-size', String(LIMIT)] });
        exp = await client(small.url).createExperiment(uniqueName('otlp-limit'));
    });
    after(async () => { if (small) await small.stop(); });
    const send = (raw, headers = {}) => api(small.url, 'POST', '/v1/traces', undefined,
        { raw, headers: { 'content-type': 'application/json', 'x-mlflow-experiment-id': exp, ...headers } });
    const filler = (n) => [{ key: 'pad', value: str('x'.repeat(n)) }];
    const count = (t) => sql(`SELECT count(*) FROM trace_spans WHERE trace_id = 'tr-${t}'`);

    test('a body under the limit is stored; over it 413 naming the flag, nothing stored', async () => {
        const t = hex(16);
        const fits = JSON.stringify(body([span(t, hex(8), null, { attrs: filler(LIMIT - 1000) })]));
        assert.ok(fits.length < LIMIT);
        assertOk(await send(fits));
        assert.equal(count(t), '1');
        const u = hex(16);
        const over = JSON.stringify(body([span(u, hex(8), null, { attrs: filler(LIMIT + 10) })]));
        assertError(await send(over), 413, 'INVALID_PARAMETER_VALUE', ['limit', '--max-body-size']);
        assert.equal(count(u), '0');
        assert.ok(!small.exited(), 'server still up');
    });

    test('a small gzip body that inflates past the limit is refused, nothing stored', async () => {
        const t = hex(16);
        const big = JSON.stringify(body([span(t, hex(8), null, { attrs: filler(4 * LIMIT) })]));
        const gz = zlib.gzipSync(Buffer.from(big));
        assert.ok(gz.length < LIMIT, 'the compressed body fits');
        assertError(await send(gz, { 'content-encoding': 'gzip' }), 400, 'INVALID_PARAMETER_VALUE', ['Content-Encoding', `${LIMIT} bytes`]);
        assert.equal(count(t), '0');
        // the same spans, inflating under the limit, go in
        const ok = JSON.stringify(body([span(t, hex(8), null, { attrs: filler(LIMIT / 2) })]));
        assertOk(await send(zlib.gzipSync(Buffer.from(ok)), { 'content-encoding': 'gzip' }));
        assert.equal(count(t), '1');
    });
});

describe('OTLP/JSON ingest', () => {
    let c, exp;
    const post = (b, exp_ = exp, headers = {}) => api(stack.base, 'POST', '/v1/traces', b, { headers: { 'x-mlflow-experiment-id': exp_, ...headers } });
    const getTrace = (id, q = {}) => api(stack.base, 'GET', '/api/3.0/mlflow/traces/get', { trace_id: id, ...q });

    before(async () => {
        c = client(stack.base);
        exp = await c.createExperiment(uniqueName('otlp'));
    });

    test('a trace arrives in two batches: row created, widened, completed by the root; spans served root first', async () => {
        const t = hex(16), root = hex(8), child = hex(8), grand = hex(8);
        const ms = 1750000000000;
        const ns = (x) => BigInt(ms + x) * 1000000n;
        // the child batch first: no root yet -> IN_PROGRESS
        assertOk(await post(body([
            span(t, child, root, { name: 'llm', start: String(ns(100)), end: String(ns(400)), attrs: [
                { key: 'mlflow.spanType', value: str('"LLM"') },
                { key: 'mlflow.chat.tokenUsage', value: str('{"input_tokens": 10, "output_tokens": 20, "total_tokens": 30}') },
                { key: 'n', value: { intValue: '7' } }, { key: 'd', value: { doubleValue: 0.5 } }, { key: 'b', value: { boolValue: true } },
                { key: 'arr', value: { arrayValue: { values: [str('x'), { intValue: 1 }] } } },
                { key: 'kv', value: { kvlistValue: { values: [{ key: 'inner', value: str('y') }] } } },
            ], events: [{ name: 'ev', timeUnixNano: String(ns(200)), attributes: [{ key: 'e', value: str('1') }] }] }),
            span(t, grand, child, { name: 'tool', start: String(ns(150)), end: String(ns(300)), attrs: [
                { key: 'gen_ai.usage.input_tokens', value: { intValue: 5 } }, { key: 'gen_ai.usage.output_tokens', value: { intValue: '6' } },
                { key: 'session.id', value: str('sess-1') },
            ] }),
        ])));
        const id = `tr-${t}`;
        let info = assertOk(await api(stack.base, 'GET', `/api/3.0/mlflow/traces/${id}`)).trace.trace_info;
        assert.equal(info.state, 'IN_PROGRESS');
        assert.equal(info.tags['mlflow.trace.spansLocation'], 'TRACKING_STORE');
        assert.match(info.tags['mlflow.artifactLocation'], new RegExp(`/traces/${id}/artifacts$`));
        assert.equal(info.request_time, new Date(ms + 100).toISOString());
        assert.equal(info.trace_metadata['mlflow.trace.session'], 'sess-1');
        assert.deepEqual(JSON.parse(info.trace_metadata['mlflow.trace.tokenUsage']), { input_tokens: 15, output_tokens: 26, total_tokens: 41 });
        // the root: wider time range, previews, state
        assertOk(await post(body([span(t, root, null, { name: 'predict', start: String(ns(0)), end: String(ns(1500)),
            status: { code: 2, message: 'boom' }, attrs: [
                { key: 'mlflow.spanInputs', value: str('{"q": "hi"}') }, { key: 'mlflow.spanOutputs', value: str('"hello"') },
            ] })])));
        info = assertOk(await api(stack.base, 'GET', `/api/3.0/mlflow/traces/${id}`)).trace.trace_info;
        assert.equal(info.state, 'ERROR');
        assert.equal(info.request_time, new Date(ms).toISOString());
        assert.equal(info.execution_duration, '1.500s');
        assert.equal(info.request_preview, '{"q": "hi"}');
        assert.equal(info.response_preview, '"hello"');
        assert.equal(info.tags['mlflow.traceName'], 'predict');
        assert.equal(sql(`SELECT input_tokens || '/' || output_tokens || '/' || total_tokens FROM traces WHERE trace_id = '${id}'`), '15/26/41');
        // re-sending a span replaces it and does not count tokens twice
        assertOk(await post(body([span(t, grand, child, { name: 'tool2', start: String(ns(150)), end: String(ns(300)), attrs: [
            { key: 'gen_ai.usage.input_tokens', value: { intValue: 5 } }, { key: 'gen_ai.usage.output_tokens', value: { intValue: 6 } }] })])));
        assert.equal(sql(`SELECT total_tokens FROM traces WHERE trace_id = '${id}'`), '41');
        // the V3 create that follows merges and keeps the span-made fields
        const merged = assertOk(await api(stack.base, 'POST', '/api/3.0/mlflow/traces', { trace: { trace_info: {
            trace_id: id, trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: exp } },
            request_time: new Date(ms).toISOString(), execution_duration: '1.500s', state: 'ERROR',
            trace_metadata: { 'mlflow.trace.sizeStats': JSON.stringify({ num_spans: 3 }) }, tags: { user: 'x' } } } })).trace.trace_info;
        assert.equal(merged.tags['mlflow.trace.spansLocation'], 'TRACKING_STORE');
        assert.equal(merged.request_preview, '{"q": "hi"}');
        // get: the OTLP span JSON, root first, then by start time
        const tr = assertOk(await getTrace(id, { allow_partial: 'False' })).trace;
        assert.equal(tr.trace_info.trace_id, id);
        assert.deepEqual(tr.spans.map((s) => s.name), ['predict', 'llm', 'tool2']);
        const [r0, s1] = tr.spans;
        assert.equal(r0.trace_id, b64(t));
        assert.equal(r0.span_id, b64(root));
        assert.equal(r0.parent_span_id, undefined);
        assert.equal(s1.parent_span_id, b64(root));
        assert.equal(r0.start_time_unix_nano, Number(ns(0)));
        assert.deepEqual(r0.status, { code: 'STATUS_CODE_ERROR', message: 'boom' });
        assert.equal(s1.kind, 'SPAN_KIND_INTERNAL');
        const attrs = Object.fromEntries(s1.attributes.map((a) => [a.key, a.value]));
        assert.deepEqual(attrs['mlflow.spanType'], { string_value: '"LLM"' });
        assert.deepEqual(attrs.n, { int_value: 7 });
        assert.deepEqual(attrs.d, { double_value: 0.5 });
        assert.deepEqual(attrs.b, { bool_value: true });
        assert.deepEqual(attrs.arr, { array_value: { values: [{ string_value: 'x' }, { int_value: 1 }] } });
        assert.deepEqual(attrs.kv, { kvlist_value: { values: [{ key: 'inner', value: { string_value: 'y' } }] } });
        assert.deepEqual(s1.events, [{ time_unix_nano: Number(ns(200)), name: 'ev', attributes: [{ key: 'e', value: { string_value: '1' } }] }]);
        assert.equal(sql(`SELECT span_type FROM trace_spans WHERE span_id = '${child}'`), 'LLM');
        // batchGet: only complete traces, in request order; the UI's traces.json
        const partial = `tr-${hex(16)}`;
        assertOk(await post(body([span(partial.slice(3), hex(8), null, { name: 'p' })])));
        assertOk(await api(stack.base, 'POST', '/api/3.0/mlflow/traces', { trace: { trace_info: {
            trace_id: partial, trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: exp } },
            trace_metadata: { 'mlflow.trace.sizeStats': JSON.stringify({ num_spans: 5 }) } } } }));
        assertError(await getTrace(partial), 404, 'RESOURCE_DOES_NOT_EXIST', 'not fully exported');
        assert.equal(assertOk(await getTrace(partial, { allow_partial: 'true' })).trace.spans.length, 1);
        const batch = assertOk(await api(stack.base, 'GET', '/api/3.0/mlflow/traces/batchGet', { trace_ids: [partial, id, `tr-${hex(16)}`] })).traces;
        assert.deepEqual(batch.map((x) => x.trace_info.trace_id), [id]);
        const file = await api(stack.base, 'GET', '/ajax-api/2.0/mlflow/get-trace-artifact', { request_id: id });
        assert.equal(file.status, 200);
        assert.match(file.headers.get('content-disposition'), /traces\.json/);
        assert.equal(file.json.spans.length, 3);
        assert.equal(file.json.spans[0].parent_span_id, null);
        assert.equal(file.json.spans[1].attributes['mlflow.spanType'], '"LLM"');
        assert.equal(file.json.spans[1].attributes.n, '7');
        assert.equal(file.json.spans[1].status.code, 'STATUS_CODE_UNSET');
    });

    test('snake_case keys and base64 ids are read too; trace ids are lowercased', async () => {
        const t = hex(16), s = hex(8);
        assertOk(await post({ resource_spans: [{ scope_spans: [{ spans: [{ trace_id: b64(t), span_id: s.toUpperCase(), name: 'snake', start_time_unix_nano: 5, end_time_unix_nano: 6, status: { code: 'STATUS_CODE_OK' }, kind: 'SPAN_KIND_SERVER' }] }] }] }));
        const tr = assertOk(await getTrace(`tr-${t}`)).trace;
        assert.equal(tr.spans[0].span_id, b64(s));
        assert.equal(tr.spans[0].kind, 'SPAN_KIND_SERVER');
        assert.equal(tr.trace_info.state, 'OK');
    });

    test('refused input stores nothing: header, ids, cycles, duplicates, caps, types, media types, other experiments', async () => {
        const before_ = sql('SELECT count(*) FROM trace_spans');
        const t = hex(16);
        const bad = async (b, status, ...mentions) => assertError(await post(b), status, 'INVALID_PARAMETER_VALUE', mentions);
        assertError(await api(stack.base, 'POST', '/v1/traces', body([span(t, hex(8))])), 400, 'INVALID_PARAMETER_VALUE', 'x-mlflow-experiment-id');
        assertError(await post(body([span(t, hex(8))]), 'abc'), 400, 'INVALID_PARAMETER_VALUE', 'x-mlflow-experiment-id');
        assertError(await post(body([span(t, hex(8))]), '99999999'), 404, 'RESOURCE_DOES_NOT_EXIST');
        await bad({}, 400, 'resourceSpans');
        await bad({ resourceSpans: [] }, 400, 'no spans');
        await bad({ resourceSpans: {} }, 400, 'array');
        await bad(body([span('abc', hex(8))]), 400, 'traceId');
        await bad(body([span('0'.repeat(32), hex(8))]), 400, 'zeros');
        await bad(body([span(t, 'zz' + hex(7))]), 400, 'spanId');
        await bad(body([span(t, hex(8), 'short')]), 400, 'parentSpanId');
        await bad(body([span(t, hex(8), null, { start: '-5' })]), 400, 'startTimeUnixNano');
        await bad(body([span(t, hex(8), null, { start: '99999999999999999999' })]), 400, 'startTimeUnixNano');
        await bad(body([span(t, hex(8), null, { start: 10, end: 5 })]), 400, 'before');
        await bad(body([{ ...span(t, hex(8)), name: 5 }]), 400, 'name');
        await bad(body([span(t, hex(8), null, { attrs: [{ key: 'a', value: { intValue: 'x' } }] })]), 400, 'intValue');
        await bad(body([span(t, hex(8), null, { attrs: [{ key: '', value: str('x') }] })]), 400, 'key');
        await bad(body([span(t, hex(8), null, { attrs: [{ key: 'big', value: str('x'.repeat(1100000)) }] })]), 400, 'cap');
        await bad(body([span(t, hex(8), null, { status: { code: 7 } })]), 400, 'status.code');
        const a = hex(8), b = hex(8), d = hex(8);
        await bad(body([span(t, a, b), span(t, b, d), span(t, d, a)]), 400, 'cycle');
        await bad(body([span(t, a, a)]), 400, 'own parent');
        await bad(body([span(t, a), span(t, a)]), 400, 'twice');
        let deep = { stringValue: 'x' };
        for (let i = 0; i < 40; i++) deep = { arrayValue: { values: [deep] } };
        await bad(body([span(t, hex(8), null, { attrs: [{ key: 'deep', value: deep }] })]), 400, 'deeper');
        const raw = (text, headers = {}) => api(stack.base, 'POST', '/v1/traces', undefined, { raw: text, headers: { 'content-type': 'application/json', 'x-mlflow-experiment-id': exp, ...headers } });
        assertError(await raw('{"resourceSpans": ['), 400, 'INVALID_PARAMETER_VALUE', 'JSON');
        assertError(await raw(JSON.stringify(body([span(t, hex(8))])).replace('"s"', '"a\\u0000b"')), 400, 'INVALID_PARAMETER_VALUE');
        assertError(await raw(JSON.stringify(body([span(t, hex(8))])).replace('"s"', '"\\udc00"')), 400, 'INVALID_PARAMETER_VALUE');
        // protobuf is decoded since the OTLP merge: one empty ResourceSpans holds no spans
        assertError(await raw('\x0a\x00', { 'content-type': 'application/x-protobuf' }), 400, 'INVALID_PARAMETER_VALUE', 'no spans');
        assertError(await raw('x', { 'content-type': 'text/plain' }), 415, 'INVALID_PARAMETER_VALUE', 'Content-Type');
        assertError(await raw('x', { 'content-encoding': 'br' }), 415, 'INVALID_PARAMETER_VALUE', 'Content-Encoding');
        // a request whose traces all live in another experiment is refused whole
        const other = await c.createExperiment(uniqueName('other'));
        const owned = hex(16);
        assertOk(await post(body([span(owned, hex(8))]), other));
        await bad(body([span(owned, hex(8)), span(owned, hex(8), null, { name: 'again' })]), 400, 'another experiment');
        assert.equal(sql('SELECT count(*) FROM trace_spans'), String(Number(before_) + 1));
        // with a trace of this experiment beside it: that trace is stored, the other's spans rejected
        const r = assertOk(await post(body([span(t, hex(8)), span(owned, hex(8)), span(owned, hex(8))])));
        assert.equal(r.partialSuccess.rejectedSpans, '2');
        assert.match(r.partialSuccess.errorMessage, new RegExp(`^2 spans rejected; the first: trace tr-${owned} is stored in another experiment`));
        assert.equal(sql(`SELECT experiment_id || '/' || (SELECT count(*) FROM trace_spans WHERE trace_id = 'tr-${t}') FROM traces WHERE trace_id = 'tr-${t}'`), `${exp}/1`);
        assert.equal(sql(`SELECT experiment_id || '/' || (SELECT count(*) FROM trace_spans WHERE trace_id = 'tr-${owned}') FROM traces WHERE trace_id = 'tr-${owned}'`), `${other}/1`);
    });

    test('partial success: spans that break a rule of their own are rejected, the rest stored, 200 with partialSuccess', async () => {
        const t1 = hex(16), t2 = hex(16), t3 = hex(16), t4 = hex(16);
        const root = hex(8), child = hex(8), dup = hex(8), a = hex(8), b = hex(8);
        const spanRows = (t) => sql(`SELECT coalesce(string_agg(span_id, ',' ORDER BY span_id), '') FROM trace_spans WHERE trace_id = 'tr-${t}'`);
        const r = await post(body([
            span(t1, hex(8), root, { start: 10, end: 5 }), // end before start: rejected alone
            span(t1, root, null, { name: 'root', start: 1, end: 100 }),
            span(t1, child, root, { name: 'child', start: 2, end: 50 }),
            span(t2, hex(8), null, { name: 'kept', start: 1, end: 2 }),
            span(t2, dup, null, { start: 1, end: 2 }), span(t2, dup, null, { start: 1, end: 3 }), // twice: both rejected
            span(t3, a, b), span(t3, b, a), // a cycle: that trace's spans rejected
            span('abc', hex(8)), // a bad trace id
            span(t4, hex(8), null, { attrs: [{ key: '', value: str('x') }] }), // an empty attribute key
        ]));
        const got = assertOk(r);
        assert.deepEqual(Object.keys(got), ['partialSuccess']);
        assert.equal(got.partialSuccess.rejectedSpans, '7');
        assert.match(got.partialSuccess.errorMessage, /^7 spans rejected; the first: resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]: .*before/);
        // the accepted spans are stored, the rejected ones are not
        assert.equal(spanRows(t1), [root, child].sort().join(','));
        assert.equal(sql(`SELECT count(*) FROM trace_spans WHERE trace_id = 'tr-${t2}'`), '1');
        assert.equal(sql(`SELECT count(*) FROM trace_spans WHERE trace_id = 'tr-${t2}' AND span_id = '${dup}'`), '0');
        for (const t of [t3, t4]) assert.equal(sql(`SELECT count(*) FROM traces WHERE trace_id = 'tr-${t}'`), '0', `trace ${t} has no row`);
        const tr = assertOk(await getTrace(`tr-${t1}`)).trace;
        assert.deepEqual(tr.spans.map((x) => x.name), ['root', 'child']);
        assert.equal(tr.trace_info.state, 'OK');
        // one rejected span: the count and its reason
        const one = assertOk(await post(body([span(t2, hex(8)), span(t2, hex(8), null, { status: { code: 9 } })])));
        assert.deepEqual(one, { partialSuccess: { rejectedSpans: '1', errorMessage: one.partialSuccess.errorMessage } });
        assert.match(one.partialSuccess.errorMessage, /^1 span rejected: resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[1\]: 'status\.code'/);
        assert.equal(sql(`SELECT count(*) FROM trace_spans WHERE trace_id = 'tr-${t2}'`), '2');
        // every span rejected: a 400 that says so, nothing stored
        const none = hex(16);
        assertError(await post(body([span(none, hex(8), null, { start: 9, end: 1 }), span(none, a, a)])), 400,
            'INVALID_PARAMETER_VALUE', ['all 2 spans were rejected', 'before']);
        assert.equal(sql(`SELECT count(*) FROM traces WHERE trace_id = 'tr-${none}'`), '0');
        // an all-good request still answers the empty response
        assert.deepEqual(assertOk(await post(body([span(t2, hex(8))]))), {});
    });

    test('a trace of 10,000 spans in 512-span batches; get serves it whole', async () => {
        const t = hex(16), rootId = hex(8);
        const spans = [span(t, rootId, null, { name: 'root', start: 0, end: 10_000_000 })];
        for (let i = 1; i < 10000; i++)
            spans.push(span(t, hex(8), rootId, { name: `s${i}`, start: i * 1000, end: i * 1000 + 500, attrs: [{ key: 'i', value: { intValue: i } }] }));
        for (let i = 0; i < spans.length; i += 512)
            assertOk(await post(body(spans.slice(i, i + 512))));
        const t0 = Date.now();
        const tr = assertOk(await getTrace(`tr-${t}`, { allow_partial: 'true' })).trace;
        const ms = Date.now() - t0;
        assert.equal(tr.spans.length, 10000);
        assert.equal(tr.spans[0].name, 'root');
        assert.equal(tr.spans[1].name, 's1');
        assert.equal(tr.spans[9999].name, 's9999');
        assert.ok(ms < 10000, `get took ${ms} ms`);
    });

    test('delete by age while ingest runs: every acknowledged young span survives', async () => {
        const e = await c.createExperiment(uniqueName('race'));
        const old = [];
        for (let i = 0; i < 20; i++) {
            const t = hex(16);
            old.push(t);
            assertOk(await post(body([span(t, hex(8), null, { start: 1000 + i, end: 2000 + i })]), e));
        }
        const young = [];
        const now = BigInt(Date.now()) * 1000000n;
        const ingest = (async () => {
            for (let i = 0; i < 20; i++) {
                const t = hex(16);
                const r = await post(body([span(t, hex(8), null, { start: String(now), end: String(now + 1000n) }), span(t, hex(8), null, { start: String(now), end: String(now + 5n) })]), e);
                if (r.status === 200) young.push(t);
            }
        })();
        let deleted = 0;
        for (let i = 0; i < 5; i++)
            deleted += assertOk(await api(stack.base, 'POST', '/api/2.0/mlflow/traces/delete-traces', { experiment_id: e, max_timestamp_millis: 100000, max_traces: 5 })).traces_deleted;
        await ingest;
        deleted += assertOk(await api(stack.base, 'POST', '/api/2.0/mlflow/traces/delete-traces', { experiment_id: e, max_timestamp_millis: 100000 })).traces_deleted;
        assert.equal(deleted, 20);
        assert.equal(young.length, 20);
        assert.equal(sql(`SELECT count(*) FROM traces WHERE experiment_id = ${e}`), '20');
        assert.equal(sql(`SELECT count(*) FROM trace_spans WHERE experiment_id = ${e}`), '40');
    });

    test('stats: counts, errors, token sums and latency percentiles, grouped by a tag', async () => {
        const e = await c.createExperiment(uniqueName('stats'));
        for (let i = 0; i < 10; i++) {
            const t = hex(16);
            assertOk(await post(body([span(t, hex(8), null, {
                start: 0, end: (i + 1) * 100_000_000, status: { code: i === 0 ? 2 : 1 },
                attrs: [{ key: 'mlflow.chat.tokenUsage', value: { kvlistValue: { values: [{ key: 'input_tokens', value: { intValue: 1 } }, { key: 'output_tokens', value: { intValue: 2 } }] } } }],
            })]), e));
            assertOk(await api(stack.base, 'PATCH', `/api/2.0/mlflow/traces/tr-${t}/tags`, { key: 'prompt', value: i < 5 ? 'v1' : 'v2' }));
        }
        const s = assertOk(await api(stack.base, 'GET', '/api/2.0/exptrack/traces/stats', { experiment_id: e }));
        assert.equal(s.groups.length, 1);
        const g = s.groups[0];
        assert.equal(g.trace_count, 10);
        assert.equal(g.error_count, 1);
        assert.equal(g.input_tokens, 10);
        assert.equal(g.output_tokens, 20);
        assert.equal(g.total_tokens, 30);
        assert.equal(g.latency_ms.p50, 550);
        assert.ok(Math.abs(g.latency_ms.p90 - 910) < 1e-6);
        const by = assertOk(await api(stack.base, 'GET', '/api/2.0/exptrack/traces/stats', { experiment_id: e, group_by: 'tag.prompt', filter: "status = 'OK'" }));
        assert.deepEqual(by.groups.map((x) => [x.group, x.trace_count, x.total_tokens]), [['v1', 4, 12], ['v2', 5, 15]]);
        assertError(await api(stack.base, 'GET', '/api/2.0/exptrack/traces/stats', { experiment_id: e, group_by: 'params.x' }), 400, 'INVALID_PARAMETER_VALUE', 'group_by');
        assertError(await api(stack.base, 'GET', '/api/2.0/exptrack/traces/stats', { experiment_id: e, filter: 'span.x = 1' }), 400, 'INVALID_PARAMETER_VALUE', 'span');
        assertError(await api(stack.base, 'GET', '/api/2.0/exptrack/traces/stats', {}), 400, 'INVALID_PARAMETER_VALUE', 'experiment_id');
    });

    test('stats: cost sums the spans\' mlflow.llm.cost, or the trace\'s mlflow.trace.cost when the client sent one', async () => {
        const e = await c.createExperiment(uniqueName('cost'));
        const cost = (v) => ({ key: 'mlflow.llm.cost', value: typeof v === 'string' ? str(v) : v });
        const kv = (o) => ({ kvlistValue: { values: Object.entries(o).map(([key, d]) => ({ key, value: { doubleValue: d } })) } });
        const trace = async (prompt, costs) => {
            const t = hex(16), root = hex(8);
            assertOk(await post(body([span(t, root, null, { start: 0, end: 1000 }),
                ...costs.map((v) => span(t, hex(8), root, { start: 10, end: 20, attrs: [cost(v)] }))]), e));
            assertOk(await api(stack.base, 'PATCH', `/api/2.0/mlflow/traces/tr-${t}/tags`, { key: 'prompt', value: prompt }));
            return `tr-${t}`;
        };
        // as the MLflow client sends it (a JSON string), and as a kvlist without total_cost
        await trace('v1', ['{"input_cost": 0.001, "output_cost": 0.002, "total_cost": 0.003}', kv({ input_cost: 0.01, output_cost: 0.02 })]);
        // values that are not costs count as absent, not as an error
        await trace('v1', ['not json', '{"total_cost": "x"}', '{"total_cost": 1e400}', '[1, 2]', '"{}"', kv({ other: 5 })]);
        // the client's own rollup wins over the spans (not added to them)
        const b = await trace('v2', ['{"input_cost": 50, "output_cost": 50, "total_cost": 100}']);
        assertOk(await api(stack.base, 'POST', '/api/3.0/mlflow/traces', { trace: { trace_info: {
            trace_id: b, trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: e } },
            request_time: new Date(0).toISOString(), execution_duration: '0.001s', state: 'OK',
            trace_metadata: { 'mlflow.trace.cost': '{"input_cost": 1, "output_cost": 2, "total_cost": 3}' } } } }));
        await trace('v3', []);
        const near = (x, y) => assert.ok(Math.abs(x - y) < 1e-9, `${x} vs ${y}`);
        const all = assertOk(await api(stack.base, 'GET', '/api/2.0/exptrack/traces/stats', { experiment_id: e })).groups[0];
        assert.equal(all.trace_count, 4);
        near(all.input_cost, 1.011);
        near(all.output_cost, 2.022);
        near(all.total_cost, 3.033);
        const by = assertOk(await api(stack.base, 'GET', '/api/2.0/exptrack/traces/stats', { experiment_id: e, group_by: 'tag.prompt' })).groups;
        assert.deepEqual(by.map((g) => [g.group, g.trace_count]), [['v1', 2], ['v2', 1], ['v3', 1]]);
        near(by[0].total_cost, 0.033);
        near(by[0].input_cost, 0.011);
        near(by[1].total_cost, 3);
        assert.equal(by[2].total_cost, 0);
        const filtered = assertOk(await api(stack.base, 'GET', '/api/2.0/exptrack/traces/stats', { experiment_id: e, filter: "tag.prompt = 'v2'" })).groups[0];
        near(filtered.output_cost, 2);
    });
});

// Issue 16's ingest leftovers: the trace's cost rolled up from its spans,
// the spans of new traces written by binary COPY (the same rows as the
// upsert of spans of existing traces), and a bound on the JSON tree a
// request may build.
describe('OTLP ingest: cost rollup, COPY and upsert rows, JSON tree budget', () => {
    let exp;
    const post = (b, headers = {}) => api(stack.base, 'POST', '/v1/traces', b, { headers: { 'x-mlflow-experiment-id': exp, ...headers } });
    const raw = (data, type) => api(stack.base, 'POST', '/v1/traces', undefined, { raw: data, headers: { 'content-type': type, 'x-mlflow-experiment-id': exp } });
    const meta = (id, key) => sql(`SELECT value FROM trace_metadata WHERE trace_id = '${id}' AND key = '${key}'`);
    const cost = (v) => ({ key: 'mlflow.llm.cost', value: typeof v === 'string' ? str(v) : v });
    const near = (x, y) => assert.ok(Math.abs(x - y) < 1e-9, `${x} vs ${y}`);

    before(async () => {
        exp = await client(stack.base).createExperiment(uniqueName('otlp-ingest'));
    });

    test('mlflow.trace.cost sums the spans\' mlflow.llm.cost, across batches, a re-sent span counted once', async () => {
        const t = hex(16), root = hex(8), a = hex(8), b = hex(8), id = `tr-${t}`;
        const kv = (o) => ({ kvlistValue: { values: Object.entries(o).map(([key, d]) => ({ key, value: { doubleValue: d } })) } });
        // a new trace: a cost as the MLflow client sends it, one as a kvlist without total_cost, one unreadable
        assertOk(await post(body([span(t, root, null),
            span(t, a, root, { attrs: [cost('{"input_cost": 0.5, "output_cost": 1.5, "total_cost": 2}')] }),
            span(t, b, root, { attrs: [cost(kv({ input_cost: 0.25, output_cost: 0.75 }))] }),
            span(t, hex(8), root, { attrs: [cost('not json')] })])));
        let c = JSON.parse(meta(id, 'mlflow.trace.cost'));
        near(c.input_cost, 0.75);
        near(c.output_cost, 2.25);
        near(c.total_cost, 3);
        // a later batch of the same trace (the upsert path) adds its span's cost
        const late = hex(8);
        assertOk(await post(body([span(t, late, root, { attrs: [cost('{"input_cost": 10, "output_cost": 20, "total_cost": 30}')] })])));
        near(JSON.parse(meta(id, 'mlflow.trace.cost')).total_cost, 33);
        // re-sending a span replaces its cost, it is not added again
        assertOk(await post(body([span(t, late, root, { attrs: [cost('{"input_cost": 1, "output_cost": 1, "total_cost": 2}')] })])));
        c = JSON.parse(meta(id, 'mlflow.trace.cost'));
        near(c.total_cost, 5);
        near(c.input_cost, 1.75);
        // a trace without costs, or with none readable, gets no entry
        const plain = hex(16), junk = hex(16);
        assertOk(await post(body([span(plain, hex(8), null, { attrs: [str('x')].map((v) => ({ key: 'k', value: v })) })])));
        assertOk(await post(body([span(junk, hex(8), null, { attrs: [cost('[1, 2]')] }), span(junk, hex(8), null, { attrs: [cost('{"total_cost": "x"}')] })])));
        assert.equal(meta(`tr-${plain}`, 'mlflow.trace.cost'), '');
        assert.equal(meta(`tr-${junk}`, 'mlflow.trace.cost'), '');
        // the V3 get shows it with the token usage
        const info = assertOk(await api(stack.base, 'GET', `/api/3.0/mlflow/traces/${id}`)).trace.trace_info;
        near(JSON.parse(info.trace_metadata['mlflow.trace.cost']).total_cost, 5);
    });

    test('the spans of a new trace (COPY) are stored as the same spans sent to an existing trace (upsert)', async () => {
        const mk = (t, ids) => [
            span(t, ids[0], null, { name: 'rööt ✓ "q" \\ \t', start: 5, end: 10, status: { code: 2, message: 'bad \u00e9' },
                attrs: [{ key: 'mlflow.spanType', value: str('"LLM"') }, { key: 'mlflow.chat.tokenUsage', value: str('{"input_tokens": 3, "output_tokens": 4}') },
                    { key: 'z', value: { doubleValue: 1.5 } }, { key: 'a', value: { kvlistValue: { values: [{ key: 'bb', value: { intValue: '9' } }, { key: 'a', value: { boolValue: false } }] } } }],
                events: [{ name: 'e', timeUnixNano: '7', attributes: [{ key: 'x', value: str('y') }] }] }),
            { ...span(t, ids[1], ids[0], { name: '', start: 6 }), traceState: 'k=v', kind: 'SPAN_KIND_CLIENT', endTimeUnixNano: undefined },
        ];
        const ids = [hex(8), hex(8)];
        const fresh = hex(16), old = hex(16);
        assertOk(await post(body(mk(fresh, ids))));
        assertOk(await post(body([span(old, hex(8), null, { name: 'first' })])));
        assertOk(await post(body(mk(old, ids))));
        const cols = 'span_id, parent_span_id, experiment_id, name, span_type, kind, trace_state, status_code, status_message, start_ns, end_ns, attributes, events, input_tokens, output_tokens';
        const rows = (t) => sql(`SELECT ${cols} FROM trace_spans WHERE trace_id = 'tr-${t}' AND span_id IN ('${ids[0]}', '${ids[1]}') ORDER BY span_id`);
        assert.equal(rows(fresh), rows(old));
        const got = rows(fresh).split('\n');
        assert.equal(got.length, 2);
        assert.ok(got.some((r) => r.includes('rööt ✓ "q" \\ \t|LLM|')), got.join('\n'));
        assert.equal(sql(`SELECT count(*) FILTER (WHERE end_ns IS NULL) || '/' || count(*) FILTER (WHERE input_tokens IS NULL) FROM trace_spans WHERE trace_id = 'tr-${fresh}'`), '0/1');
        assert.equal(sql(`SELECT total_tokens FROM traces WHERE trace_id = 'tr-${fresh}'`), '7');
        // the same span twice in one batch of a new trace is still refused, the COPY never sees a clash
        const d = hex(16), s = hex(8);
        assertError(await post(body([span(d, s), span(d, s)])), 400, 'INVALID_PARAMETER_VALUE', 'twice');
    });

    test('a body under the size cap whose JSON tree would pass its budget is 413 naming the limit, nothing stored', async () => {
        const before_ = sql('SELECT count(*) FROM trace_spans');
        // 2.4 MB of tiny objects beside one valid span: dozens of times its size as a tree
        const t = hex(16);
        const tiny = JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 'x' }, spans: [span(t, hex(8))] }], pad: Array.from({ length: 800000 }, () => ({})) }] });
        assert.ok(tiny.length < 16 * 1024 * 1024);
        assertError(await raw(tiny, 'application/json'), 413, 'INVALID_PARAMETER_VALUE', ['JSON tree', 'bytes of memory', 'limit']);
        // the same in protobuf: a resource of 150,000 tiny attributes ({key "a", value {bool_value true}})
        const varint = (n) => { const out = []; while (n > 127) { out.push((n & 127) | 128); n >>>= 7; } out.push(n); return Buffer.from(out); };
        const field = (num, buf) => Buffer.concat([varint((num << 3) | 2), varint(buf.length), buf]);
        const kv = field(1, Buffer.concat([field(1, Buffer.from('a')), field(2, Buffer.from([0x10, 0x01]))]));
        const resource = field(1, Buffer.concat(Array.from({ length: 150000 }, () => kv)));
        const pbSpan = field(2, Buffer.concat([field(1, Buffer.from(hex(16), 'hex')), field(2, Buffer.from(hex(8), 'hex')), field(5, Buffer.from('s'))]));
        const pb = field(1, Buffer.concat([resource, field(2, pbSpan)]));
        assertError(await raw(pb, 'application/x-protobuf'), 413, 'INVALID_PARAMETER_VALUE', ['JSON tree', 'limit']);
        // a few of those attributes are fine
        const small = field(1, Buffer.concat([field(1, Buffer.concat(Array.from({ length: 100 }, () => kv))), field(2, pbSpan)]));
        assert.equal((await raw(small, 'application/x-protobuf')).status, 200);
        assert.equal(sql('SELECT count(*) FROM trace_spans'), String(Number(before_) + 1));
        // and a batch of 512 MLflow-shaped spans, the bench's, goes in
        const u = hex(16), root = hex(8);
        const spans = Array.from({ length: 512 }, (_, i) => span(u, i === 0 ? root : hex(8), i === 0 ? null : root, { attrs: [
            { key: 'mlflow.spanInputs', value: str(JSON.stringify({ messages: [{ role: 'user', content: `question ${i} `.repeat(8) }] })) },
            { key: 'mlflow.chat.tokenUsage', value: str('{"input_tokens": 12, "output_tokens": 30, "total_tokens": 42}') }] }));
        assertOk(await post(body(spans)));
        assert.equal(sql(`SELECT count(*) FROM trace_spans WHERE trace_id = 'tr-${u}'`), '512');
    });
});
