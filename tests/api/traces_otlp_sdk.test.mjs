// OTLP/HTTP ingest from a real OpenTelemetry SDK (@opentelemetry/sdk-trace-base
// with the OTLP protobuf and JSON exporters from npm) into exptrackd's
// POST /v1/traces, read back through the MLflow trace search and
// /api/3.0/mlflow/traces/get; gzip bodies; and hostile protobuf over HTTP
// (garbage, truncated, bad ids, bad UTF-8, deep nesting, a gzip bomb, wrong
// content type or coding): each a 4xx that stores nothing.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { context, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { useStack, client, api, assertOk, assertError, uniqueName } from './harness.mjs';

const stack = useStack({ before, after });
const sql = (q) => stack.pg.psql(q).trim();
const V3 = '/api/3.0/mlflow';

// Spans made with the SDK, kept in memory until an exporter sends them.
function sdk() {
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': 'otlp-sdk-test' }),
        spanProcessors: [new SimpleSpanProcessor(memory)],
    });
    return { memory, provider, tracer: provider.getTracer('exptrack-tests', '1.0.0') };
}

// A root span with an LLM child, an event and every attribute type an SDK
// sends; returns the ended spans and the trace's hex id.
function makeTrace(label) {
    const { memory, provider, tracer } = sdk();
    const root = tracer.startSpan(`agent-${label}`, { kind: SpanKind.SERVER, attributes: {
        'mlflow.spanType': '"AGENT"', 'mlflow.spanInputs': '{"question": "2+2?"}', 'mlflow.spanOutputs': '"4"',
    } });
    const ctx = trace.setSpan(context.active(), root);
    const child = tracer.startSpan('llm', { kind: SpanKind.CLIENT, attributes: {
        'mlflow.spanType': '"LLM"',
        'mlflow.chat.tokenUsage': '{"input_tokens": 12, "output_tokens": 3, "total_tokens": 15}',
        'gen_ai.request.model': 'gpt-test', 'retries': 2, 'temperature': 0.25, 'stream': false,
        'stop': ['\n', 'END'], 'unicode': 'h\u00e9llo \u{1F600}',
    } }, ctx);
    child.addEvent('token', { 'index': 1, 'text': 'f' });
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'rate limited once' });
    child.end();
    root.setStatus({ code: SpanStatusCode.OK });
    root.end();
    const spans = memory.getFinishedSpans();
    assert.equal(spans.length, 2);
    return { spans, traceId: root.spanContext().traceId, rootId: root.spanContext().spanId,
        childId: child.spanContext().spanId, provider };
}

// Exports spans with an OTLP exporter; resolves with the SDK's ExportResult.
function exportWith(exporter, spans) {
    return new Promise((resolve) => exporter.export(spans, resolve));
}

// A minimal protobuf writer, for bodies no SDK would send.
const varint = (n) => {
    const out = [];
    let v = BigInt(n);
    do {
        let b = Number(v & 0x7fn);
        v >>= 7n;
        if (v) b |= 0x80;
        out.push(b);
    } while (v);
    return Buffer.from(out);
};
const ld = (field, bytes) => Buffer.concat([varint((field << 3) | 2), varint(bytes.length), Buffer.from(bytes)]);
const str = (field, s) => ld(field, Buffer.from(s, 'utf8'));
const request = (spanBytes) => ld(1, ld(2, ld(2, spanBytes)));
const TRACE = Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex');
const SPAN = Buffer.from('b7ad6b7169203331', 'hex');

describe('OTLP ingest from the OpenTelemetry SDK', () => {
    let c, exp;
    const url = () => `${stack.base}/v1/traces`;
    const getTrace = async (hex) => assertOk(await api(stack.base, 'GET', `${V3}/traces/get`, { trace_id: `tr-${hex}` })).trace;
    const counts = () => sql(`SELECT (SELECT count(*) FROM traces) || '/' || (SELECT count(*) FROM trace_spans)`);
    const post = (body, headers = {}) => api(stack.base, 'POST', '/v1/traces', undefined, {
        raw: body, headers: { 'content-type': 'application/x-protobuf', 'x-mlflow-experiment-id': exp, ...headers },
    });

    before(async () => {
        c = client(stack.base);
        exp = await c.createExperiment(uniqueName('otel-sdk'));
    });

    // The spans read back through traces/get, checked against what the SDK made.
    async function checkStored(t, label) {
        const got = await getTrace(t.traceId);
        const info = got.trace_info;
        assert.equal(info.trace_id, `tr-${t.traceId}`);
        assert.equal(info.trace_location.mlflow_experiment.experiment_id, exp);
        assert.equal(info.state, 'OK');
        assert.equal(info.tags['mlflow.trace.spansLocation'], 'TRACKING_STORE');
        assert.equal(info.request_preview, '{"question": "2+2?"}');
        assert.equal(info.response_preview, '"4"');
        assert.deepEqual(JSON.parse(info.trace_metadata['mlflow.trace.tokenUsage']),
            { input_tokens: 12, output_tokens: 3, total_tokens: 15 });
        assert.equal(got.spans.length, 2);
        const [root, child] = got.spans; // root first
        const hexOf = (b64) => Buffer.from(b64, 'base64').toString('hex');
        assert.equal(root.name, `agent-${label}`);
        assert.equal(hexOf(root.span_id), t.rootId);
        assert.equal(hexOf(root.trace_id), t.traceId);
        assert.equal(root.parent_span_id ?? '', '');
        assert.equal(child.name, 'llm');
        assert.equal(hexOf(child.span_id), t.childId);
        assert.equal(hexOf(child.parent_span_id), t.rootId);
        assert.equal(child.status.code, 'STATUS_CODE_ERROR');
        assert.equal(child.status.message, 'rate limited once');
        const attrs = Object.fromEntries(child.attributes.map((a) => [a.key, a.value]));
        assert.deepEqual(attrs['mlflow.spanType'], { string_value: '"LLM"' });
        assert.deepEqual(attrs['gen_ai.request.model'], { string_value: 'gpt-test' });
        assert.equal(Number(attrs.retries.int_value), 2);
        assert.equal(attrs.temperature.double_value, 0.25);
        assert.equal(attrs.stream.bool_value, false);
        assert.deepEqual(attrs.stop.array_value.values.map((v) => v.string_value), ['\n', 'END']);
        assert.deepEqual(attrs.unicode, { string_value: 'h\u00e9llo \u{1F600}' });
        assert.equal(child.events.length, 1);
        assert.equal(child.events[0].name, 'token');
        assert.ok(Number(child.start_time_unix_nano) > 1.7e18, 'start time in nanoseconds');
        assert.ok(Number(child.end_time_unix_nano) >= Number(child.start_time_unix_nano));
    }

    test('the protobuf exporter: spans land in the header\'s experiment and read back', async () => {
        const t = makeTrace('proto');
        const exporter = new ProtoExporter({ url: url(), headers: { 'x-mlflow-experiment-id': exp } });
        const result = await exportWith(exporter, t.spans);
        assert.equal(result.code, 0, `export failed: ${result.error}`);
        await exporter.shutdown();
        await checkStored(t, 'proto');
    });

    test('the protobuf exporter with gzip', async () => {
        const t = makeTrace('gzip');
        const exporter = new ProtoExporter({ url: url(), headers: { 'x-mlflow-experiment-id': exp }, compression: 'gzip' });
        const result = await exportWith(exporter, t.spans);
        assert.equal(result.code, 0, `export failed: ${result.error}`);
        await exporter.shutdown();
        await checkStored(t, 'gzip');
    });

    test('the JSON exporter stores the same spans the protobuf one does', async () => {
        const t = makeTrace('json');
        const exporter = new JsonExporter({ url: url(), headers: { 'x-mlflow-experiment-id': exp } });
        const result = await exportWith(exporter, t.spans);
        assert.equal(result.code, 0, `export failed: ${result.error}`);
        await exporter.shutdown();
        await checkStored(t, 'json');
    });

    test('the traces are found by the MLflow trace search', async () => {
        const r = assertOk(await api(stack.base, 'POST', `${V3}/traces/search`, {
            locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: exp } }],
            filter: "trace.status = 'OK'", max_results: 50,
        }));
        const names = r.traces.map((x) => x.tags['mlflow.traceName']).sort();
        assert.deepEqual(names, ['agent-gzip', 'agent-json', 'agent-proto']);
        for (const x of r.traces) assert.equal(x.tags['mlflow.trace.spansLocation'], 'TRACKING_STORE');
    });

    test('a success is the empty ExportTraceServiceResponse as application/x-protobuf; deflate (zlib and raw) too', async () => {
        const t = makeTrace('raw');
        const body = Buffer.from(ProtobufTraceSerializer.serializeRequest(t.spans));
        let r = await post(body);
        assert.equal(r.status, 200, r.text);
        assert.equal(r.headers.get('content-type'), 'application/x-protobuf');
        assert.equal(r.text, '');
        // the same spans again, compressed both ways deflate comes: upserted, not doubled
        r = await post(zlib.deflateSync(body), { 'content-encoding': 'deflate' });
        assert.equal(r.status, 200, r.text);
        r = await post(zlib.deflateRawSync(body), { 'content-encoding': 'deflate' });
        assert.equal(r.status, 200, r.text);
        assert.equal((await getTrace(t.traceId)).spans.length, 2);
    });

    test('partial success in protobuf: rejected spans counted in ExportTraceServiceResponse.partial_success, the rest stored', async () => {
        const fixed64 = (field, n) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return Buffer.concat([varint((field << 3) | 1), b]); };
        const t1 = crypto.randomBytes(16), t2 = crypto.randomBytes(16);
        const good = crypto.randomBytes(8), late = crypto.randomBytes(8), self = crypto.randomBytes(8);
        const pbSpan = (trace, id, name, start, end, parent) => ld(2, Buffer.concat([ld(1, trace), ld(2, id),
            ...(parent ? [ld(4, parent)] : []), str(5, name), fixed64(7, start), fixed64(8, end)]));
        // one ScopeSpans with three spans: a good root, one that ends before it starts, one that is its own parent
        const body = ld(1, ld(2, Buffer.concat([
            pbSpan(t1, good, 'good', 1000, 2000),
            pbSpan(t1, late, 'late', 5000, 4000, good),
            pbSpan(t2, self, 'self', 1000, 2000, self),
        ])));
        const res = await fetch(url(), { method: 'POST', body,
            headers: { 'content-type': 'application/x-protobuf', 'x-mlflow-experiment-id': exp } });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-type'), 'application/x-protobuf');
        const bytes = Buffer.from(await res.arrayBuffer());
        // ExportTraceServiceResponse { partial_success (1) { rejected_spans (1) varint, error_message (2) } }
        const readVarint = (buf, pos) => { let v = 0n, shift = 0n; for (;;) { const b = buf[pos++]; v |= BigInt(b & 0x7f) << shift; shift += 7n; if (!(b & 0x80)) return [v, pos]; } };
        assert.equal(bytes[0], 0x0a, 'field 1, length-delimited');
        const [len, at] = readVarint(bytes, 1);
        const partial = bytes.subarray(at, at + Number(len));
        assert.equal(at + Number(len), bytes.length);
        const fields = {};
        for (let p = 0; p < partial.length;) {
            const [tag, q] = readVarint(partial, p);
            if (Number(tag) === 8) { const [v, r] = readVarint(partial, q); fields.rejected = Number(v); p = r; }
            else if (Number(tag) === 18) { const [l, r] = readVarint(partial, q); fields.message = partial.subarray(r, r + Number(l)).toString('utf8'); p = r + Number(l); }
            else assert.fail(`unexpected tag ${tag}`);
        }
        assert.equal(fields.rejected, 2);
        assert.match(fields.message, /^2 spans rejected; the first: resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[1\]: .*before/);
        const stored = await getTrace(t1.toString('hex'));
        assert.deepEqual(stored.spans.map((x) => x.name), ['good']);
        assert.equal(sql(`SELECT count(*) FROM trace_spans WHERE span_id IN ('${late.toString('hex')}', '${self.toString('hex')}')`), '0');
        assert.equal(sql(`SELECT count(*) FROM traces WHERE trace_id = 'tr-${t2.toString('hex')}'`), '0');
        // every span rejected: 400, nothing stored
        assertError(await post(ld(1, ld(2, pbSpan(t2, self, 'self', 1000, 2000, self)))), 400, 'INVALID_PARAMETER_VALUE', ['own parent']);
        assert.equal(sql(`SELECT count(*) FROM traces WHERE trace_id = 'tr-${t2.toString('hex')}'`), '0');
    });

    test('hostile protobuf bodies: a 4xx naming the problem, nothing stored', async () => {
        const good = Buffer.from(ProtobufTraceSerializer.serializeRequest(makeTrace('hostile').spans));
        const okSpan = (extra = Buffer.alloc(0)) => Buffer.concat([ld(1, TRACE), ld(2, SPAN), str(5, 'x'), extra]);
        let nested = Buffer.concat([varint((2 << 3) | 0), varint(1)]); // AnyValue{bool_value: true}
        for (let i = 0; i < 40; i++) nested = ld(5, ld(1, nested)); // array_value{values: [nested]}
        const cases = [
            ['garbage', Buffer.from('this is not protobuf \xff\xfe', 'latin1'), 'malformed protobuf'],
            ['truncated', good.subarray(0, good.length - 5), 'malformed protobuf'],
            ['a truncated varint', Buffer.from([0x0a, 0xff]), 'truncated'],
            ['a wrong wire type', Buffer.from([0x08, 0x01]), 'wire type 0, expected 2'],
            ['a 15-byte trace id', request(Buffer.concat([ld(1, TRACE.subarray(1)), ld(2, SPAN)])), 'id of 15 bytes, expected 16'],
            ['a 9-byte span id', request(Buffer.concat([ld(1, TRACE), ld(2, Buffer.concat([SPAN, Buffer.from([1])]))])), 'id of 9 bytes'],
            ['a zero trace id', request(Buffer.concat([ld(1, Buffer.alloc(16)), ld(2, SPAN)])), 'all zeros'],
            ['no span id', request(ld(1, TRACE)), 'no spanId'],
            ['invalid UTF-8 in the name', request(Buffer.concat([ld(1, TRACE), ld(2, SPAN), ld(5, Buffer.from([0x61, 0xc3]))])), 'UTF-8'],
            ['a NUL in an attribute key', request(okSpan(ld(9, ld(1, Buffer.from('a\0b'))))), 'NUL'],
            ['a lone surrogate', request(okSpan(ld(9, Buffer.concat([str(1, 'k'), ld(2, ld(1, Buffer.from([0xed, 0xa0, 0x80])))])))), 'UTF-8'],
            ['values nested 41 deep', request(okSpan(ld(9, Buffer.concat([str(1, 'deep'), ld(2, nested)])))), 'nested deeper than 32'],
            ['a request without spans', Buffer.alloc(0), 'no spans'],
        ];
        const before_ = counts();
        for (const [what, body, mention] of cases) {
            assertError(await post(body), 400, 'INVALID_PARAMETER_VALUE', [mention], what);
        }
        // compressed: corrupt gzip, a gzip bomb (65 MiB of zeros in ~65 KiB), gzip sent as deflate
        const bomb = zlib.gzipSync(Buffer.alloc(65 * 1024 * 1024), { level: 9 });
        assert.ok(bomb.length < 1024 * 1024);
        const corrupt = zlib.gzipSync(good);
        corrupt[corrupt.length >> 1] ^= 0xff;
        for (const [what, body, coding] of [['corrupt gzip', corrupt, 'gzip'], ['a gzip bomb', bomb, 'gzip'],
            ['gzip as deflate', zlib.gzipSync(good), 'deflate'], ['truncated gzip', zlib.gzipSync(good).subarray(0, 40), 'gzip']]) {
            assertError(await post(body, { 'content-encoding': coding }), 400, 'INVALID_PARAMETER_VALUE', ['Content-Encoding'], what);
        }
        assertError(await post(good, { 'content-encoding': 'br' }), 415, 'INVALID_PARAMETER_VALUE', ['Content-Encoding'], 'brotli');
        assertError(await post(good, { 'content-type': 'text/plain' }), 415, 'INVALID_PARAMETER_VALUE', ['Content-Type'], 'text/plain');
        assertError(await post(good, { 'content-type': null }), 415, 'INVALID_PARAMETER_VALUE', ['Content-Type'], 'no content type');
        assertError(await post(good, { 'content-type': 'application/json' }), 400, 'INVALID_PARAMETER_VALUE', ['JSON'], 'protobuf sent as JSON');
        assertError(await post(good, { 'x-mlflow-experiment-id': null }), 400, 'INVALID_PARAMETER_VALUE', ['x-mlflow-experiment-id'], 'no experiment');
        assert.equal(counts(), before_, 'a refused request stored something');
        // and the server is still fine: the good body goes in
        assert.equal((await post(good)).status, 200);
        assert.notEqual(counts(), before_);
    });
});
