// MLflow 3 traces, V2 protocol as the 3.0 client speaks it
// (mlflow-models-api.md 3.2, 3.4): start at the root span's start, end with
// PATCH (status, metadata and tags merged), get info, search with the V2
// JSON shapes, tags, delete; hostile input on each route; both mounts.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, client, api, PREFIXES, assertOk, assertError, uniqueName } from './harness.mjs';

const stack = useStack({ before, after });
const sql = (q) => stack.pg.psql(q).trim();
const kv = (o) => Object.entries(o).map(([key, value]) => ({ key, value }));
const asMap = (list) => Object.fromEntries((list || []).map((x) => [x.key, x.value]));

for (const prefix of PREFIXES) {
    describe(`V2 traces under ${prefix}`, () => {
        let c, exp, expLocation;
        const start = async (extra = {}) => assertOk(await c.post('/traces', {
            experiment_id: exp, timestamp_ms: 1748000000000,
            request_metadata: kv({ 'mlflow.trace_schema.version': '3', 'mlflow.user': 'alice' }),
            tags: kv({ 'mlflow.traceName': 'predict' }), ...extra,
        })).trace_info;

        before(async () => {
            c = client(stack.base, prefix);
            exp = await c.createExperiment(uniqueName('tr2'));
            expLocation = (await c.getExperiment(exp)).artifact_location;
        });

        test('start, end, get info: the 3.0 client flow and the TraceInfo shape', async () => {
            const info = await start();
            assert.match(info.request_id, /^[0-9a-f]{32}$/);
            assert.equal(info.experiment_id, exp);
            assert.equal(info.timestamp_ms, 1748000000000);
            assert.equal(info.execution_time_ms, 0);
            assert.equal(info.status, 'IN_PROGRESS');
            const tags = asMap(info.tags);
            assert.equal(tags['mlflow.traceName'], 'predict');
            assert.equal(tags['mlflow.artifactLocation'], `${expLocation}/traces/${info.request_id}/artifacts`);
            assert.equal(asMap(info.request_metadata)['mlflow.user'], 'alice');
            const ended = assertOk(await c.req('PATCH', `/traces/${info.request_id}`, {
                request_id: info.request_id, timestamp_ms: 1748000001234, status: 'OK',
                request_metadata: kv({ 'mlflow.traceInputs': '{"question": "hi"}', 'mlflow.traceOutputs': '"hello"' }),
                tags: [...info.tags, { key: 'user', value: 'x' }],
            })).trace_info;
            assert.equal(ended.execution_time_ms, 1234);
            assert.equal(ended.status, 'OK');
            const meta = asMap(ended.request_metadata);
            assert.equal(meta['mlflow.user'], 'alice', 'metadata is merged');
            assert.equal(meta['mlflow.traceInputs'], '{"question": "hi"}');
            assert.equal(asMap(ended.tags).user, 'x');
            assert.equal(asMap(ended.tags)['mlflow.artifactLocation'], tags['mlflow.artifactLocation']);
            assert.deepEqual(assertOk(await c.get(`/traces/${info.request_id}/info`)).trace_info, ended);
            // the V3 read of a V2 trace
            const v3 = assertOk(await api(stack.base, 'GET', `/api/3.0/mlflow/traces/${info.request_id}`)).trace.trace_info;
            assert.equal(v3.trace_id, info.request_id);
            assert.equal(v3.execution_duration, '1.234s');
            assert.equal(v3.trace_metadata['mlflow.traceOutputs'], '"hello"');
        });

        test('traces.json through the artifact proxy: stored, downloadable, and its spans stored (3.x and 2.x shapes)', async () => {
            const info = await start();
            const loc = asMap(info.tags)['mlflow.artifactLocation'];
            assert.match(loc, /^mlflow-artifacts:\//);
            const art = `/api/2.0/mlflow-artifacts/artifacts/${loc.replace('mlflow-artifacts:/', '')}/traces.json`;
            const b64 = (h) => Buffer.from(h, 'hex').toString('base64');
            const otelTrace = 'ab'.repeat(16);
            const file = { spans: [
                { trace_id: b64(otelTrace), span_id: b64('01'.repeat(8)), parent_span_id: null, trace_state: '', name: 'predict',
                  start_time_unix_nano: 1000, end_time_unix_nano: 5000, events: [], status: { code: 'STATUS_CODE_OK', message: '' },
                  attributes: { 'mlflow.spanType': '"CHAIN"', 'mlflow.spanInputs': '{"question": "hi"}', 'mlflow.traceRequestId': `"${info.request_id}"` } },
                { trace_id: b64(otelTrace), span_id: b64('02'.repeat(8)), parent_span_id: b64('01'.repeat(8)), name: 'llm',
                  start_time_unix_nano: 2000, end_time_unix_nano: 3000, events: [{ name: 'e', time_unix_nano: 2500, attributes: { a: 1 } }],
                  status: { code: 'STATUS_CODE_ERROR', message: 'x' },
                  attributes: { 'mlflow.spanType': '"LLM"', 'mlflow.chat.tokenUsage': '{"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}' } },
            ] };
            const text = JSON.stringify(file);
            assertOk(await api(stack.base, 'PUT', art, undefined, { raw: text, headers: { 'content-type': 'application/json' } }));
            const down = await api(stack.base, 'GET', art);
            assert.equal(down.status, 200);
            assert.equal(down.text, text, 'the file comes back byte for byte');
            assertOk(await c.req('PATCH', `/traces/${info.request_id}`, { timestamp_ms: 1748000000100, status: 'OK' }));
            assert.equal(sql(`SELECT string_agg(name || ':' || coalesce(parent_span_id, '-') || ':' || status_code, ',' ORDER BY start_ns) FROM trace_spans WHERE trace_id = '${info.request_id}'`),
                `predict:-:1,llm:${'01'.repeat(8)}:2`);
            assert.equal(sql(`SELECT total_tokens FROM traces WHERE trace_id = '${info.request_id}'`), '7');
            const ui = await c.get('/get-trace-artifact', { request_id: info.request_id });
            assert.equal(ui.status, 200);
            assert.deepEqual(ui.json.spans.map((x) => x.name), ['predict', 'llm']);
            assert.equal(ui.json.spans[0].attributes['mlflow.spanInputs'], '{"question": "hi"}');
            // the 2.x shape replaces the spans
            const old = { spans: [{ name: 'root2', context: { trace_id: '0x' + otelTrace, span_id: '0x' + '0a'.repeat(8) }, parent_id: null,
                start_time: 10, end_time: 20, status_code: 'OK', status_message: '', attributes: { 'mlflow.spanType': '"AGENT"' }, events: [] }] };
            assertOk(await api(stack.base, 'PUT', art, undefined, { raw: JSON.stringify(old), headers: { 'content-type': 'application/json' } }));
            assert.equal(sql(`SELECT string_agg(name || ':' || span_type, ',') FROM trace_spans WHERE trace_id = '${info.request_id}'`), 'root2:AGENT');
            // a file that does not parse is stored, and the spans stay
            assertOk(await api(stack.base, 'PUT', art, undefined, { raw: '{"spans": [', headers: { 'content-type': 'application/json' } }));
            assert.equal((await api(stack.base, 'GET', art)).text, '{"spans": [');
            assert.equal(sql(`SELECT count(*) FROM trace_spans WHERE trace_id = '${info.request_id}'`), '1');
            // a cycle in the file: stored as a file only
            const cyc = { spans: [{ trace_id: b64(otelTrace), span_id: b64('03'.repeat(8)), parent_span_id: b64('04'.repeat(8)), name: 'a', start_time_unix_nano: 1, end_time_unix_nano: 2 },
                { trace_id: b64(otelTrace), span_id: b64('04'.repeat(8)), parent_span_id: b64('03'.repeat(8)), name: 'b', start_time_unix_nano: 1, end_time_unix_nano: 2 }] };
            assertOk(await api(stack.base, 'PUT', art, undefined, { raw: JSON.stringify(cyc), headers: { 'content-type': 'application/json' } }));
            assert.equal(sql(`SELECT count(*) FROM trace_spans WHERE trace_id = '${info.request_id}'`), '1');
            // other files of a trace are plain files; unknown traces and malformed ids are refused
            assertOk(await api(stack.base, 'PUT', art.replace('traces.json', 'notes/x.txt'), undefined, { raw: 'x', headers: { 'content-type': 'text/plain' } }));
            const list = assertOk(await api(stack.base, 'GET', '/api/2.0/mlflow-artifacts/artifacts', { path: loc.replace('mlflow-artifacts:/', '') }));
            assert.deepEqual(list.files.map((f) => f.path).sort(), ['notes', 'traces.json']);
            assertError(await api(stack.base, 'PUT', art.replace(info.request_id, 'f'.repeat(32)), undefined, { raw: 'x', headers: { 'content-type': 'text/plain' } }), 404, 'RESOURCE_DOES_NOT_EXIST', 'Trace');
            const bad = await api(stack.base, 'PUT', art.replace(info.request_id, 'nothex'), undefined, { raw: 'x', headers: { 'content-type': 'text/plain' } });
            assert.equal(bad.status, 400, bad.text);
        });

        test('search (GET): V2 shapes, filters, order, tokens; delete-traces and tags on V2 paths', async () => {
            const e = await c.createExperiment(uniqueName('s2'));
            const ids = [];
            for (let i = 0; i < 5; i++) {
                const info = assertOk(await c.post('/traces', { experiment_id: e, timestamp_ms: 1000 + i, tags: kv({ n: String(i) }) })).trace_info;
                assertOk(await c.req('PATCH', `/traces/${info.request_id}`, { timestamp_ms: 1010 + 2 * i, status: i === 4 ? 'ERROR' : 'OK' }));
                ids.push(info.request_id);
            }
            const s = async (q) => assertOk(await c.get('/traces', { experiment_ids: [e], ...q }));
            const all = await s({});
            assert.deepEqual(all.traces.map((t) => t.request_id), [...ids].reverse());
            assert.equal(all.traces[0].status, 'ERROR');
            assert.equal(all.traces[0].execution_time_ms, 14);
            assert.deepEqual((await s({ filter: "status = 'OK' AND timestamp_ms >= 1002" })).traces.map((t) => t.request_id), [ids[3], ids[2]]);
            assert.deepEqual((await s({ filter: "tag.n = '1'" })).traces.map((t) => t.request_id), [ids[1]]);
            assert.deepEqual((await s({ order_by: ['execution_time_ms DESC'], max_results: 2 })).traces.map((t) => t.request_id), [ids[4], ids[3]]);
            const p1 = await s({ max_results: 2 });
            assert.ok(p1.next_page_token);
            const p2 = await s({ max_results: 2, page_token: p1.next_page_token });
            assert.deepEqual(p2.traces.map((t) => t.request_id), [ids[2], ids[1]]);
            const p3 = await s({ max_results: 3, page_token: p1.next_page_token });
            assert.equal(p3.next_page_token, undefined, 'no token once the rows run out');
            assert.deepEqual(await s({ filter: "tag.n = 'none'" }), {});
            assertOk(await c.req('PATCH', `/traces/${ids[0]}/tags`, { key: 'k', value: 'v' }));
            assert.equal(asMap(assertOk(await c.get(`/traces/${ids[0]}/info`)).trace_info.tags).k, 'v');
            assertOk(await c.req('DELETE', `/traces/${ids[0]}/tags`, { key: 'k' }));
            assertError(await c.req('DELETE', `/traces/${ids[0]}/tags`, { key: 'k' }), 404, 'RESOURCE_DOES_NOT_EXIST', `No trace tag with key 'k'`);
            assert.deepEqual(assertOk(await c.post('/traces/delete-traces', { experiment_id: e, request_ids: ids.slice(0, 2) })), { traces_deleted: 2 });
            assert.equal((await s({})).traces.length, 3);
            // hostile search input
            assertError(await c.get('/traces', {}), 400, 'INVALID_PARAMETER_VALUE', 'experiment_ids');
            assertError(await c.get('/traces', { experiment_ids: ['x1'] }), 400, 'INVALID_PARAMETER_VALUE');
            assertError(await c.get('/traces', { experiment_ids: [e], max_results: '501' }), 400, 'INVALID_PARAMETER_VALUE', 'max_results');
            assertError(await c.get('/traces', { experiment_ids: [e], max_results: '99999999999999999999' }), 400, 'INVALID_PARAMETER_VALUE');
            assertError(await c.get('/traces', { experiment_ids: [e], filter: 'text ILIKE \'%x%\'' }), 400, 'INVALID_PARAMETER_VALUE', 'text');
            assertError(await c.get('/traces', { experiment_ids: [e], order_by: ['status', 'status'] }), 400, 'INVALID_PARAMETER_VALUE', 'duplicate');
        });

        test('start/end hostile input: missing or bad fields are 400, unknown ids and experiments 404', async () => {
            assertError(await c.post('/traces', {}), 400, 'INVALID_PARAMETER_VALUE', 'experiment_id');
            assertError(await c.post('/traces', { experiment_id: '424242' }), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await c.post('/traces', { experiment_id: exp, timestamp_ms: 'soon' }), 400, 'INVALID_PARAMETER_VALUE', 'timestamp_ms');
            assertError(await c.post('/traces', { experiment_id: exp, timestamp_ms: '9223372036854775808' }), 400, 'INVALID_PARAMETER_VALUE', 'timestamp_ms');
            assertError(await c.post('/traces', { experiment_id: exp, timestamp_ms: -1 }), 400, 'INVALID_PARAMETER_VALUE', 'timestamp_ms');
            assertError(await c.post('/traces', { experiment_id: exp, tags: [{ key: '', value: 'x' }] }), 400, 'INVALID_PARAMETER_VALUE', 'key');
            assertError(await c.post('/traces', { experiment_id: exp, tags: [{ value: 'x' }] }), 400, 'INVALID_PARAMETER_VALUE', 'key');
            assertError(await c.post('/traces', { experiment_id: exp, tags: { a: 'b' } }), 400, 'INVALID_PARAMETER_VALUE', 'tags');
            assertError(await c.post('/traces', { experiment_id: exp, request_metadata: [{ key: 'k', value: 5 }] }), 400, 'INVALID_PARAMETER_VALUE', 'value');
            assertError(await c.post('/traces', { experiment_id: exp, tags: Array.from({ length: 1001 }, (_, i) => ({ key: `k${i}`, value: 'v' })) }), 400, 'INVALID_PARAMETER_VALUE', '1000');
            const long = await start({ request_metadata: kv({ big: 'x'.repeat(9000) }) });
            assert.equal(sql(`SELECT length(value) FROM trace_metadata WHERE trace_id = '${long.request_id}' AND key = 'big'`), '8000');
            const id = (await start()).request_id;
            assertError(await c.req('PATCH', `/traces/${id}`, { status: 'OK' }), 400, 'INVALID_PARAMETER_VALUE', 'timestamp_ms');
            assertError(await c.req('PATCH', `/traces/${id}`, { timestamp_ms: 5, status: 'FINE' }), 400, 'INVALID_PARAMETER_VALUE', 'status');
            assertError(await c.req('PATCH', `/traces/${'0'.repeat(32)}`, { timestamp_ms: 5, status: 'OK' }), 404, 'RESOURCE_DOES_NOT_EXIST', 'not found');
            assertError(await c.req('PATCH', '/traces/..%2f..', { timestamp_ms: 5 }), 404, 'ENDPOINT_NOT_FOUND');
            assertError(await c.get(`/traces/${'0'.repeat(32)}/info`), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await c.get('/traces/x/info'), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await c.get(`/traces/${id}/elsewhere`), 404, 'ENDPOINT_NOT_FOUND');
            assertError(await c.get('/get-trace-artifact', {}), 400, 'BAD_REQUEST', 'request_id');
        });
    });
}
