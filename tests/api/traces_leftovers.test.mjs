// Issue 16's traces leftovers: a V3 create over a trace whose cost or token
// usage the OTLP ingest rolled up merges mlflow.trace.cost and
// mlflow.trace.tokenUsage instead of replacing them; a
// search or stats filter at the parser's caps binds within one statement
// and one past them is a 400 naming the filter; traces/stats reads only
// the requested experiment's cost metadata; /metrics counts the bytes of
// a streamed (chunked) trace read.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { useStack, client, api, assertOk, assertError, uniqueName, waitUntil } from './harness.mjs';

const stack = useStack({ before, after });
const sql = (q) => stack.pg.psql(q).trim();
const hex = (n) => crypto.randomBytes(n).toString('hex');
const str = (v) => ({ stringValue: v });
const near = (x, y) => assert.ok(Math.abs(x - y) < 1e-9, `${x} vs ${y}`);

function span(traceId, spanId, parent, attrs = []) {
    const s = { traceId, spanId, name: 's', kind: 1, startTimeUnixNano: '1000', endTimeUnixNano: '2000', attributes: attrs };
    if (parent) s.parentSpanId = parent;
    return s;
}
const body = (spans) => ({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 'test' }, spans }] }] });
const cost = (v) => ({ key: 'mlflow.llm.cost', value: str(v) });

describe('traces leftovers of issue 16', () => {
    let c;
    before(async () => { c = client(stack.base); });
    const post = (b, exp) => api(stack.base, 'POST', '/v1/traces', b, { headers: { 'x-mlflow-experiment-id': exp } });
    const create = (exp, id, metadata) => api(stack.base, 'POST', '/api/3.0/mlflow/traces', { trace: { trace_info: {
        trace_id: id, trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: exp } },
        request_time: new Date(0).toISOString(), execution_duration: '0.001s', state: 'OK', trace_metadata: metadata } } });
    const meta = (id, key) => sql(`SELECT value FROM trace_metadata WHERE trace_id = '${id}' AND key = '${key}'`);

    test('a V3 create merges mlflow.trace.cost into the ingest\'s rollup: its members win, the others are kept', async () => {
        const e = await c.createExperiment(uniqueName('merge'));
        const ingested = async () => {
            const t = hex(16), root = hex(8);
            assertOk(await post(body([span(t, root, null),
                span(t, hex(8), root, [cost('{"input_cost": 0.5, "output_cost": 1.5, "total_cost": 2}')])]), e));
            const id = `tr-${t}`;
            near(JSON.parse(meta(id, 'mlflow.trace.cost')).total_cost, 2);
            return id;
        };
        // a partial cost: the given member wins, the rolled-up ones stay
        const a = await ingested();
        assertOk(await create(e, a, { 'mlflow.trace.cost': '{"total_cost": 7}' }));
        assert.deepEqual(JSON.parse(meta(a, 'mlflow.trace.cost')), { input_cost: 0.5, output_cost: 1.5, total_cost: 7 });
        const got = assertOk(await api(stack.base, 'GET', `/api/3.0/mlflow/traces/${a}`)).trace.trace_info;
        assert.deepEqual(JSON.parse(got.trace_metadata['mlflow.trace.cost']), { input_cost: 0.5, output_cost: 1.5, total_cost: 7 });
        // a full cost is stored as sent, byte for byte
        const b = await ingested();
        const full = '{"input_cost": 1, "output_cost": 2, "total_cost": 3}';
        assertOk(await create(e, b, { 'mlflow.trace.cost': full }));
        assert.equal(meta(b, 'mlflow.trace.cost'), full);
        // a value that is not a JSON object replaces the rollup (nothing to merge)
        const d = await ingested();
        assertOk(await create(e, d, { 'mlflow.trace.cost': 'n/a' }));
        assert.equal(meta(d, 'mlflow.trace.cost'), 'n/a');
        // no cost in the create: the rollup stays as it was
        const f = await ingested();
        const before = meta(f, 'mlflow.trace.cost');
        assertOk(await create(e, f, { 'mlflow.user': 'alice' }));
        assert.equal(meta(f, 'mlflow.trace.cost'), before);
        // a trace the create makes first takes the value as sent; later ingest recomputes it from the spans
        const t = hex(16), g = `tr-${t}`;
        assertOk(await create(e, g, { 'mlflow.trace.cost': '{"total_cost": 9}' }));
        assert.equal(meta(g, 'mlflow.trace.cost'), '{"total_cost": 9}');
        // the other metadata keys are still replaced whole
        assertOk(await create(e, a, { 'mlflow.user': '{"x": 1}' }));
        assertOk(await create(e, a, { 'mlflow.user': '{"y": 2}' }));
        assert.equal(meta(a, 'mlflow.user'), '{"y": 2}');
        // stats sum the merged value
        const s = assertOk(await api(stack.base, 'GET', '/api/2.0/exptrack/traces/stats', { experiment_id: e, filter: `trace_id = '${a}'` })).groups[0];
        near(s.total_cost, 7);
        near(s.input_cost, 0.5);
    });

    test('/metrics counts the body bytes of a streamed (chunked) reply when it ends', async () => {
        const e = await c.createExperiment(uniqueName('bytes'));
        const t = hex(16), root = hex(8);
        const filler = { key: 'filler', value: str('x'.repeat(2000)) };
        const spans = [span(t, root, null, [filler])];
        for (let i = 0; i < 300; i++) spans.push(span(t, hex(8), root, [filler]));
        assertOk(await post(body(spans), e));
        // the counters by name; every scrape's own body is counted too (when queued)
        const scrape = async () => {
            const r = await fetch(`${stack.base}/metrics`);
            const text = await r.text();
            const value = (name) => {
                const m = text.match(new RegExp(`^${name} (\\d+)$`, 'm'));
                assert.ok(m, `${name} in /metrics`);
                return Number(m[1]);
            };
            return { all: value('http_server_response_body_bytes_total'), artifact: value('exptrack_artifact_bytes_out_total'),
                bytes: Buffer.byteLength(text) };
        };
        // reads a streamed reply, then scrapes until its bytes show (the
        // stream is let go of just after its last byte is sent)
        const check = async (p, isArtifact) => {
            const before = await scrape();
            const r = await fetch(stack.base + p);
            assert.equal(r.status, 200);
            assert.equal(r.headers.get('content-length'), null, 'a chunked reply');
            const n = Buffer.byteLength(await r.text());
            assert.ok(n > 600000, `${n} bytes`);
            let scraped = before.bytes;
            await waitUntil(async () => {
                const now = await scrape();
                const done = now.all === before.all + scraped + n;
                assert.ok(now.all <= before.all + scraped + n, 'no more than the bytes sent');
                scraped += now.bytes;
                if (done) assert.equal(now.artifact - before.artifact, isArtifact ? n : 0);
                return done;
            }, 10000, `${p}: ${n} bytes counted`);
        };
        await check(`/api/3.0/mlflow/traces/get?trace_id=tr-${t}&allow_partial=true`, false);
        await check(`/api/3.0/mlflow/traces/batchGet?trace_ids=tr-${t}`, false);
        await check(`/ajax-api/2.0/mlflow/get-trace-artifact?request_id=tr-${t}`, true);
    });

    test('the ingest sums the cache token members of mlflow.chat.tokenUsage, and names them only when a span had them', async () => {
        const e = await c.createExperiment(uniqueName('cache-tokens'));
        const usage = (v) => ({ key: 'mlflow.chat.tokenUsage', value: str(v) });
        const TOK = 'mlflow.trace.tokenUsage';
        const t = hex(16), root = hex(8), kid = hex(8);
        // the plain text form, and one the decoder reads through the tree (a count as decimal text)
        assertOk(await post(body([span(t, root, null, [usage('{"input_tokens": 2, "output_tokens": 3, "cache_read_input_tokens": 4}')]),
            span(t, kid, root, [usage('{"input_tokens": 10, "cache_read_input_tokens": "6", "cache_creation_input_tokens": 8}')])]), e));
        assert.deepEqual(JSON.parse(meta(`tr-${t}`, TOK)),
            { input_tokens: 12, output_tokens: 3, total_tokens: 15, cache_read_input_tokens: 10, cache_creation_input_tokens: 8 });
        // a re-sent span is counted once, with its new counts
        assertOk(await post(body([span(t, kid, root, [usage('{"input_tokens": 1, "cache_read_input_tokens": 1}')])]), e));
        assert.deepEqual(JSON.parse(meta(`tr-${t}`, TOK)),
            { input_tokens: 3, output_tokens: 3, total_tokens: 6, cache_read_input_tokens: 5 });
        const got = assertOk(await api(stack.base, 'GET', `/api/3.0/mlflow/traces/tr-${t}`)).trace.trace_info;
        assert.deepEqual(JSON.parse(got.trace_metadata[TOK]),
            { input_tokens: 3, output_tokens: 3, total_tokens: 6, cache_read_input_tokens: 5 });
        // no span with a cache member: none in the usage
        const u = hex(16);
        assertOk(await post(body([span(u, hex(8), null, [usage('{"input_tokens": 1, "output_tokens": 1}')])]), e));
        assert.deepEqual(JSON.parse(meta(`tr-${u}`, TOK)), { input_tokens: 1, output_tokens: 1, total_tokens: 2 });
        // counts that are not non-negative integers are not counted; the span is stored
        const w = hex(16);
        assertOk(await post(body([span(w, hex(8), null, [usage('{"input_tokens": 1, "cache_read_input_tokens": -5, "cache_creation_input_tokens": "x"}')])]), e));
        assert.deepEqual(JSON.parse(meta(`tr-${w}`, TOK)), { input_tokens: 1, output_tokens: 0, total_tokens: 1 });
        assert.equal(sql(`SELECT count(*) FROM trace_spans WHERE trace_id = 'tr-${w}'`), '1');
    });

    test('a V3 create and a V2 end merge mlflow.trace.tokenUsage into the ingest\'s rollup member by member', async () => {
        const e = await c.createExperiment(uniqueName('tokens'));
        const usage = (v) => ({ key: 'mlflow.chat.tokenUsage', value: str(v) });
        const TOK = 'mlflow.trace.tokenUsage';
        const ingested = async () => {
            const t = hex(16), root = hex(8);
            assertOk(await post(body([span(t, root, null, [usage('{"input_tokens": 2, "output_tokens": 3, "total_tokens": 5}')]),
                span(t, hex(8), root, [usage('{"input_tokens": 10, "output_tokens": 20, "total_tokens": 30}')])]), e));
            const id = `tr-${t}`;
            assert.deepEqual(JSON.parse(meta(id, TOK)), { input_tokens: 12, output_tokens: 23, total_tokens: 35 });
            return id;
        };
        const rolled = { input_tokens: 12, output_tokens: 23, total_tokens: 35 };
        // the request's members win, the rolled-up ones it lacks are kept
        const a = await ingested();
        assertOk(await create(e, a, { [TOK]: '{"cache_read_input_tokens": 4, "output_tokens": 25}' }));
        const merged = { ...rolled, output_tokens: 25, cache_read_input_tokens: 4 };
        assert.deepEqual(JSON.parse(meta(a, TOK)), merged);
        const got = assertOk(await api(stack.base, 'GET', `/api/3.0/mlflow/traces/${a}`)).trace.trace_info;
        assert.deepEqual(JSON.parse(got.trace_metadata[TOK]), merged);
        const v2 = assertOk(await api(stack.base, 'GET', `/api/2.0/mlflow/traces/${a}/info`)).trace_info;
        assert.deepEqual(JSON.parse(v2.request_metadata.find((m) => m.key === TOK).value), merged);
        // a V2 end merges the same way
        const b = await ingested();
        assertOk(await api(stack.base, 'PATCH', `/api/2.0/mlflow/traces/${b}`, {
            timestamp_ms: 5, status: 'OK', request_metadata: [{ key: TOK, value: '{"input_tokens": 7}' }] }));
        assert.deepEqual(JSON.parse(meta(b, TOK)), { ...rolled, input_tokens: 7 });
        // a value naming every stored member is stored as sent, byte for byte
        const d = await ingested();
        const full = '{"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}';
        assertOk(await create(e, d, { [TOK]: full }));
        assert.equal(meta(d, TOK), full);
        // no tokenUsage in the create: the rollup stays as it was
        const f = await ingested();
        const before = meta(f, TOK);
        assertOk(await create(e, f, { 'mlflow.user': 'alice' }));
        assert.equal(meta(f, TOK), before);
        // hostile values inside the text: not an object, not JSON, escapes
        // jsonb refuses (NUL, lone surrogate) are stored as sent; members
        // that are not non-negative int64 integers are the client's and
        // merged as given (numbers of any size kept exactly)
        const asSent = ['[1, 2]', '42', '"x"', 'null', 'n/a', '{"input_tokens": 1', '{"input_tokens": "\\u0000"}',
            '{"input_tokens": "\\ud800"}', '{"input_tokens": 1, "\\udc00": 2}'];
        for (const v of asSent) {
            const g = await ingested();
            assertOk(await create(e, g, { [TOK]: v }), v);
            assert.equal(meta(g, TOK), v, v);
        }
        const members = [['"many"', 'many'], ['1.5', 1.5], ['-3', -3], ['true', true], ['{"n": 1}', { n: 1 }]];
        for (const [text, value] of members) {
            const g = await ingested();
            assertOk(await create(e, g, { [TOK]: `{"input_tokens": ${text}}` }), text);
            assert.deepEqual(JSON.parse(meta(g, TOK)), { ...rolled, input_tokens: value }, text);
        }
        const big = await ingested();
        assertOk(await create(e, big, { [TOK]: '{"total_tokens": 99999999999999999999999}' }));
        assert.match(meta(big, TOK), /"total_tokens": 99999999999999999999999\b/);
        assert.match(meta(big, TOK), /"input_tokens": 12\b/);
        // the trace's token columns (stats) come from the spans, whatever the metadata says
        const s = assertOk(await api(stack.base, 'GET', '/api/2.0/exptrack/traces/stats', { experiment_id: e, filter: `trace_id = '${big}'` })).groups[0];
        assert.equal(s.total_tokens, 35);
        assert.equal(s.input_tokens, 12);
        // hostile values of the request itself are refused (a wrong type naming the field), nothing stored
        const h = await ingested();
        assertError(await create(e, h, { [TOK]: { input_tokens: 1 } }), 400, 'INVALID_PARAMETER_VALUE', ['trace_metadata', TOK]);
        assertError(await create(e, h, { [TOK]: 5 }), 400, 'INVALID_PARAMETER_VALUE', ['trace_metadata', TOK]);
        // a NUL or a lone surrogate in the request's JSON is refused by the body parser, at its position
        assertError(await create(e, h, { [TOK]: 'a\u0000b' }), 400, null, ['not valid JSON', '\\u0000']);
        const raw = (v) => api(stack.base, 'POST', '/api/3.0/mlflow/traces', undefined, { headers: { 'content-type': 'application/json' },
            raw: `{"trace":{"trace_info":{"trace_id":"${h}","trace_location":{"type":"MLFLOW_EXPERIMENT","mlflow_experiment":{"experiment_id":"${e}"}},`
                + `"request_time":"1970-01-01T00:00:00Z","state":"OK","trace_metadata":{"${TOK}":${v}}}}}` });
        assertError(await raw('"\\ud800"'), 400, null, 'not valid JSON');
        assertError(await raw('"{\\"input_tokens\\": 1}\\udfff"'), 400, null, 'not valid JSON');
        assertError(await api(stack.base, 'PATCH', `/api/2.0/mlflow/traces/${h}`, {
            timestamp_ms: 5, status: 'OK', request_metadata: [{ key: TOK, value: 7 }] }), 400, 'INVALID_PARAMETER_VALUE', 'request_metadata');
        assert.deepEqual(JSON.parse(meta(h, TOK)), rolled);
    });

    test('a filter at the caps binds in one statement (search and stats); past them is a 400 naming the filter', async () => {
        const e = await c.createExperiment(uniqueName('binds'));
        const t = hex(16), id = `tr-${t}`;
        assertOk(await post(body([span(t, hex(8), null)]), e));
        assertOk(await api(stack.base, 'PATCH', `/api/2.0/mlflow/traces/${id}/tags`, { key: 'k', value: 'v' }));
        // run_id and tag comparisons bind two values each: 64 of them, 10 tag order keys, a page token
        const clauses = (n) => Array.from({ length: n }, (_, i) => (i % 2 ? `run_id != 'r${i}'` : `tag.k != 'x${i}'`)).join(' AND ');
        const order = Array.from({ length: 10 }, (_, i) => `tag.o${i} DESC`);
        const loc = [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: e } }];
        const search = (filter, extra = {}) => api(stack.base, 'POST', '/api/3.0/mlflow/traces/search', { locations: loc, filter, order_by: order, ...extra });
        const r = assertOk(await search(clauses(64)));
        assert.deepEqual(r.traces.map((x) => x.trace_id), [id]);
        // and the same filter over two experiments, with an offset page token
        const e2 = await c.createExperiment(uniqueName('binds2'));
        const two = [...loc, { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: e2 } }];
        const page = assertOk(await api(stack.base, 'POST', '/api/3.0/mlflow/traces/search', { locations: two, filter: clauses(64), order_by: order, max_results: 1 }));
        assert.deepEqual(page.traces.map((x) => x.trace_id), [id]);
        const stats = assertOk(await api(stack.base, 'GET', '/api/2.0/exptrack/traces/stats', { experiment_id: e, filter: clauses(64), group_by: 'tag.k' }));
        assert.equal(stats.groups[0].trace_count, 1);
        // 65 comparisons: refused before any SQL, naming the filter
        assertError(await search(clauses(65)), 400, 'INVALID_PARAMETER_VALUE', 'filter');
        assertError(await api(stack.base, 'GET', '/api/2.0/exptrack/traces/stats', { experiment_id: e, filter: clauses(65) }), 400, 'INVALID_PARAMETER_VALUE', 'filter');
        // IN lists bind one array each, whatever their length
        const many = Array.from({ length: 500 }, (_, i) => `'v${i}'`).join(', ');
        const inList = Array.from({ length: 64 }, () => `tag.k IN ('v', ${many})`).join(' AND ');
        assert.deepEqual(assertOk(await search(inList)).traces.map((x) => x.trace_id), [id]);
    });

    // Reads of trace_metadata rows by the server's backends, from the
    // statistics collector (flushed at a backend's commit at most once a
    // second, else when it idles: up to 10 s later).
    const metadataReads = () => Number(sql(`SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)
        FROM pg_stat_user_tables WHERE relname = 'trace_metadata'`));
    const settled = async () => {
        let last = metadataReads();
        await waitUntil(async () => {
            await new Promise((r) => setTimeout(r, 1500));
            const now = metadataReads();
            const same = now === last;
            last = now;
            return same;
        }, 30000, 'trace_metadata read counters settle', 0);
        return last;
    };

    test('stats read the cost metadata of the requested experiment only', async () => {
        const mine = await c.createExperiment(uniqueName('stats-mine'));
        const other = await c.createExperiment(uniqueName('stats-other'));
        const t = hex(16), id = `tr-${t}`;
        assertOk(await post(body([span(t, hex(8), null, [cost('{"input_cost": 1, "output_cost": 2, "total_cost": 3}')])]), mine));
        // 2,000 more traces without a cost here; 20,000 traces with a cost in another experiment
        sql(`INSERT INTO traces (trace_id, experiment_id, request_time, state, created, updated)
             SELECT 'tr-dd' || lpad(to_hex(g), 30, '0'), ${mine}, 0, 1, 0, 0 FROM generate_series(1, 2000) g;
             INSERT INTO traces (trace_id, experiment_id, request_time, state, created, updated)
             SELECT 'tr-ee' || lpad(to_hex(g), 30, '0'), ${other}, 0, 1, 0, 0 FROM generate_series(1, 20000) g;
             INSERT INTO trace_metadata (trace_id, key, value)
             SELECT 'tr-ee' || lpad(to_hex(g), 30, '0'), 'mlflow.trace.cost', '{"total_cost": 1000}' FROM generate_series(1, 20000) g;
             ANALYZE traces; ANALYZE trace_metadata;`);
        const base = await settled();
        const s = assertOk(await api(stack.base, 'GET', '/api/2.0/exptrack/traces/stats', { experiment_id: mine })).groups[0];
        assert.equal(s.trace_count, 2001);
        near(s.total_cost, 3);
        const after = await settled();
        assert.ok(after - base < 5000, `stats of 2,001 traces read ${after - base} trace_metadata rows (20,000 cost rows belong to another experiment)`);
        // the other experiment's own stats still see all of its costs
        const o = assertOk(await api(stack.base, 'GET', '/api/2.0/exptrack/traces/stats', { experiment_id: other })).groups[0];
        assert.equal(o.trace_count, 20000);
        near(o.total_cost, 20000000);
        assert.equal(id.length, 35);
    });
});
