// MLflow 3 traces, V3 protocol (mlflow-models-api.md 3.5-3.8): create and
// merge, get info, search with filters, ordering and paging, tags, delete
// by ids and by age with max_traces, link-to-run and the run_id filter,
// assessments CRUD and overrides, hostile input on every route.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { useStack, client, api, assertOk, assertError, uniqueName } from './harness.mjs';

const stack = useStack({ before, after });
const sql = (q) => stack.pg.psql(q).trim();
const V3 = ['/api/3.0/mlflow', '/ajax-api/3.0/mlflow'];
const newTraceId = () => 'tr-' + crypto.randomBytes(16).toString('hex');
const iso = (ms) => new Date(ms).toISOString();

function traceInfo(exp, extra = {}) {
    return {
        trace_id: newTraceId(),
        trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: exp } },
        request_time: iso(1750000000000),
        execution_duration: '1.500s',
        state: 'OK',
        trace_metadata: { 'mlflow.trace_schema.version': '3' },
        tags: { 'mlflow.traceName': 'predict' },
        ...extra,
    };
}

for (const v3 of V3) {
    describe(`V3 traces under ${v3}`, () => {
        let c, exp, expLocation;
        const v2 = v3.replace('3.0', '2.0');
        const req = (method, p, body, opts) => api(stack.base, method, v3 + p, body, opts);
        const req2 = (method, p, body, opts) => api(stack.base, method, v2 + p, body, opts);
        const create = async (info) => assertOk(await req('POST', '/traces', { trace: { trace_info: info } })).trace.trace_info;
        const search = (body) => req('POST', '/traces/search', {
            locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: exp } }], ...body,
        });

        before(async () => {
            c = client(stack.base, v2);
            exp = await c.createExperiment(uniqueName('tr3'));
            expLocation = (await c.getExperiment(exp)).artifact_location;
        });

        test('create answers the stored info with the server tag; get returns the same', async () => {
            const info = traceInfo(exp, { client_request_id: 'req-1', request_preview: '{"q": "hi"}', response_preview: '"hello"' });
            const got = await create(info);
            assert.equal(got.trace_id, info.trace_id);
            assert.deepEqual(got.trace_location, info.trace_location);
            assert.equal(got.request_time, '2025-06-15T15:06:40.000Z');
            assert.equal(got.execution_duration, '1.500s');
            assert.equal(got.state, 'OK');
            assert.equal(got.client_request_id, 'req-1');
            assert.equal(got.request_preview, '{"q": "hi"}');
            assert.equal(got.response_preview, '"hello"');
            assert.equal(got.trace_metadata['mlflow.trace_schema.version'], '3');
            assert.equal(got.tags['mlflow.traceName'], 'predict');
            assert.equal(got.tags['mlflow.artifactLocation'], `${expLocation}/traces/${info.trace_id}/artifacts`);
            const again = assertOk(await req('GET', `/traces/${info.trace_id}`)).trace.trace_info;
            assert.deepEqual(again, got);
        });

        test('create merges into an existing trace: new fields win, missing ones are kept', async () => {
            const info = traceInfo(exp, { request_preview: 'first', tags: { a: '1', b: '1' } });
            await create(info);
            const merged = await create({ ...info, request_preview: undefined, state: 'ERROR', tags: { b: '2', c: '3' }, trace_metadata: { m: 'x' } });
            assert.equal(merged.request_preview, 'first');
            assert.equal(merged.state, 'ERROR');
            assert.equal(merged.tags.a, '1');
            assert.equal(merged.tags.b, '2');
            assert.equal(merged.tags.c, '3');
            assert.equal(merged.trace_metadata.m, 'x');
            assert.equal(merged.trace_metadata['mlflow.trace_schema.version'], '3');
        });

        test('create accepts offsets and long fractions; serialization cuts metadata to 250 and tags to 4096', async () => {
            const info = traceInfo(exp, {
                request_time: '2025-06-15T17:06:40.123456789+02:00',
                execution_duration: '0.25s',
                trace_metadata: { long: 'm'.repeat(300) },
                tags: { long: 't'.repeat(5000) },
            });
            const got = await create(info);
            assert.equal(got.request_time, '2025-06-15T15:06:40.123Z');
            assert.equal(got.execution_duration, '0.250s');
            assert.equal(got.trace_metadata.long.length, 250);
            assert.equal(got.tags.long.length, 4096);
            assert.equal(sql(`SELECT length(value) FROM trace_tags WHERE trace_id = '${info.trace_id}' AND key = 'long'`), '5000');
        });

        test('create: experiment missing (404), deleted (400), bad ids and fields (400)', async () => {
            assertError(await req('POST', '/traces', { trace: { trace_info: traceInfo('987654') } }), 404, 'RESOURCE_DOES_NOT_EXIST');
            const gone = await c.createExperiment(uniqueName('gone'));
            assertOk(await c.post('/experiments/delete', { experiment_id: gone }));
            assertError(await req('POST', '/traces', { trace: { trace_info: traceInfo(gone) } }), 400, 'INVALID_PARAMETER_VALUE', 'active');
            assertError(await req('POST', '/traces', {}), 400, 'INVALID_PARAMETER_VALUE', 'trace.trace_info');
            assertError(await req('POST', '/traces', { trace: { trace_info: traceInfo(exp, { trace_id: 'tr-XYZ' }) } }), 400, 'INVALID_PARAMETER_VALUE', 'trace_id');
            assertError(await req('POST', '/traces', { trace: { trace_info: traceInfo(exp, { trace_id: 'a'.repeat(32) }) } }), 400, 'INVALID_PARAMETER_VALUE', 'trace_id');
            assertError(await req('POST', '/traces', { trace: { trace_info: traceInfo(exp, { request_time: 'yesterday' }) } }), 400, 'INVALID_PARAMETER_VALUE', 'request_time');
            assertError(await req('POST', '/traces', { trace: { trace_info: traceInfo(exp, { execution_duration: '-1s' }) } }), 400, 'INVALID_PARAMETER_VALUE', 'execution_duration');
            assertError(await req('POST', '/traces', { trace: { trace_info: traceInfo(exp, { state: 'DONE' }) } }), 400, 'INVALID_PARAMETER_VALUE', 'state');
            assertError(await req('POST', '/traces', { trace: { trace_info: traceInfo(exp, { tags: { k: 5 } }) } }), 400, 'INVALID_PARAMETER_VALUE', 'tags');
            assertError(await req('POST', '/traces', { trace: { trace_info: traceInfo(exp, { tags: ['x'] }) } }), 400, 'INVALID_PARAMETER_VALUE', 'tags');
            assertError(await req('POST', '/traces', { trace: { trace_info: traceInfo(exp, { tags: { ['k'.repeat(251)]: 'v' } }) } }), 400, 'INVALID_PARAMETER_VALUE', '250');
            assertError(await req('POST', '/traces', { trace: { trace_info: traceInfo(exp, { trace_location: { type: 'INFERENCE_TABLE' } }) } }), 400, 'INVALID_PARAMETER_VALUE', 'MLFLOW_EXPERIMENT');
            assertError(await req('POST', '/traces', { trace: { trace_info: traceInfo('99999999999999999999') } }), 404, 'RESOURCE_DOES_NOT_EXIST');
            // NUL and lone surrogates never reach the database
            const nul = await api(stack.base, 'POST', v3 + '/traces', undefined, { raw: `{"trace":{"trace_info":${JSON.stringify(traceInfo(exp)).replace('"predict"', '"a\\u0000b"')}}}`, headers: { 'content-type': 'application/json' } });
            assert.equal(nul.status, 400, nul.text);
            const sur = await api(stack.base, 'POST', v3 + '/traces', undefined, { raw: `{"trace":{"trace_info":${JSON.stringify(traceInfo(exp)).replace('"predict"', '"\\ud800"')}}}`, headers: { 'content-type': 'application/json' } });
            assert.equal(sur.status, 400, sur.text);
        });

        test('get: unknown and malformed ids are 404, literal routes win over {trace_id}', async () => {
            assertError(await req('GET', `/traces/${newTraceId()}`), 404, 'RESOURCE_DOES_NOT_EXIST', 'not found');
            assertError(await req('GET', '/traces/%00%01'), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await req('GET', '/traces/get'), 400, 'INVALID_PARAMETER_VALUE', 'trace_id');
            assertError(await req('GET', '/traces/batchGet'), 400, 'INVALID_PARAMETER_VALUE', 'trace_ids');
            assertError(await req('GET', `/traces/${newTraceId()}/nothing`), 404, 'ENDPOINT_NOT_FOUND');
        });

        test('search: filters on attributes, tags, metadata; order; paging; errors', async () => {
            const e = await c.createExperiment(uniqueName('srch'));
            const loc = [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: e } }];
            const ids = [];
            for (let i = 0; i < 7; i++) {
                const info = traceInfo(e, {
                    request_time: iso(1750000000000 + i * 1000),
                    execution_duration: `${i}s`,
                    state: i % 3 === 0 ? 'ERROR' : 'OK',
                    client_request_id: `c-${i}`,
                    tags: { 'mlflow.traceName': i < 4 ? 'alpha' : 'beta', k: `v${i}`, ...(i === 2 ? { only: 'here' } : {}) },
                    trace_metadata: { 'mlflow.sourceRun': i < 2 ? 'a'.repeat(32) : 'b'.repeat(32), n: String(i) },
                });
                ids.push((await create(info)).trace_id);
            }
            const s = async (body) => assertOk(await req('POST', '/traces/search', { locations: loc, ...body }));
            const got = async (filter, extra = {}) => ((await s({ filter, ...extra })).traces || []).map((t) => ids.indexOf(t.trace_id));
            assert.deepEqual(await got(''), [6, 5, 4, 3, 2, 1, 0], 'default order: newest first');
            assert.deepEqual(await got("status = 'ERROR'"), [6, 3, 0]);
            assert.deepEqual(await got("attributes.status != 'ERROR'"), [5, 4, 2, 1]);
            assert.deepEqual(await got('timestamp_ms > 1750000003000'), [6, 5, 4]);
            assert.deepEqual(await got('execution_time_ms <= 2000'), [2, 1, 0]);
            assert.deepEqual(await got('end_time_ms = 1750000006000'), [3]);
            assert.deepEqual(await got("name = 'beta'"), [6, 5, 4]);
            assert.deepEqual(await got("name IN ('alpha') AND status = 'OK'"), [2, 1]);
            assert.deepEqual(await got("tag.k = 'v3'"), [3]);
            assert.deepEqual(await got("tags.k LIKE 'v%' AND tags.k NOT IN ('v1', 'v2')"), [6, 5, 4, 3, 0]);
            assert.deepEqual(await got("tag.K ILIKE 'V1'"), [], 'tag keys are case-sensitive');
            assert.deepEqual(await got("tag.k ILIKE 'V1'"), [1]);
            assert.deepEqual(await got('tag.only IS NOT NULL'), [2]);
            assert.deepEqual((await got('tag.only IS NULL')).length, 6);
            assert.deepEqual(await got("metadata.n = '4'"), [4]);
            assert.deepEqual(await got("request_metadata.`mlflow.sourceRun` = '" + 'a'.repeat(32) + "'"), [1, 0]);
            assert.deepEqual(await got(`run_id = '${'a'.repeat(32)}'`), [1, 0]);
            assert.deepEqual(await got("client_request_id IN ('c-5', 'c-6')"), [6, 5]);
            assert.deepEqual(await got(`trace.request_id = '${ids[2]}'`), [2]);
            assert.deepEqual(await got('', { order_by: ['execution_time ASC'] }), [0, 1, 2, 3, 4, 5, 6]);
            assert.deepEqual(await got('', { order_by: ['tag.k DESC'] }), [6, 5, 4, 3, 2, 1, 0]);
            assert.deepEqual(await got('', { order_by: ['name', 'timestamp_ms ASC'] }), [0, 1, 2, 3, 4, 5, 6]);
            // five filters at once
            assert.deepEqual(await got("status = 'OK' AND name = 'alpha' AND timestamp_ms >= 1750000001000 AND tag.k != 'v9' AND metadata.n IN ('1', '2')"), [2, 1]);
            // paging: every row once, tokens only while more rows exist
            const seen = [];
            let token;
            for (let page = 0; page < 10; page++) {
                const r = await s({ max_results: 3, page_token: token });
                seen.push(...r.traces.map((t) => t.trace_id));
                token = r.next_page_token;
                if (!token) break;
            }
            assert.deepEqual(seen, [...ids].reverse());
            const bad = async (body, ...mentions) => assertError(await req('POST', '/traces/search', { locations: loc, ...body }), 400, 'INVALID_PARAMETER_VALUE', mentions);
            await bad({ filter: "span.name = 'x'" }, 'span');
            await bad({ filter: "feedback.correct = 'yes'" }, 'feedback');
            await bad({ filter: "status = 'DONE'" }, 'status');
            await bad({ filter: "timestamp_ms > 'soon'" }, 'numeric');
            await bad({ filter: 'timestamp_ms > 99999999999999999999' }, 'numeric');
            await bad({ filter: "timestamp_ms LIKE '1%'" }, 'numeric');
            await bad({ filter: "tag.k = 'unterminated" }, 'unterminated');
            await bad({ filter: "tag.k = 'a' OR tag.k = 'b'" }, 'AND');
            await bad({ filter: "status IS NULL" }, 'IS NULL');
            await bad({ order_by: ['timestamp_ms', 'timestamp DESC'] }, 'duplicate');
            await bad({ order_by: ['nope'] }, 'nope');
            await bad({ order_by: ['timestamp_ms SIDEWAYS'] }, 'ASC');
            await bad({ max_results: 0 }, 'max_results');
            await bad({ max_results: 501 }, 'max_results');
            await bad({ page_token: 'garbage' }, 'token');
            assertError(await req('POST', '/traces/search', {}), 400, 'INVALID_PARAMETER_VALUE', 'locations');
            assertError(await req('POST', '/traces/search', { locations: [{}] }), 400, 'INVALID_PARAMETER_VALUE', 'locations');
        });

        test('tags on V2 and V3 paths; delete-tag of a missing key is 404', async () => {
            const id = (await create(traceInfo(exp))).trace_id;
            assertOk(await req('PATCH', `/traces/${id}/tags`, { key: 'color', value: 'red' }));
            assertOk(await req2('PATCH', `/traces/${id}/tags`, { key: 'size', value: 'x'.repeat(9000) }));
            let info = assertOk(await req('GET', `/traces/${id}`)).trace.trace_info;
            assert.equal(info.tags.color, 'red');
            assert.equal(sql(`SELECT length(value) FROM trace_tags WHERE trace_id = '${id}' AND key = 'size'`), '8000');
            assertOk(await req2('DELETE', `/traces/${id}/tags`, { key: 'color' }));
            info = assertOk(await req('GET', `/traces/${id}`)).trace.trace_info;
            assert.equal(info.tags.color, undefined);
            assertError(await req('DELETE', `/traces/${id}/tags`, { key: 'color' }), 404, 'RESOURCE_DOES_NOT_EXIST', 'color');
            assertError(await req('PATCH', `/traces/${newTraceId()}/tags`, { key: 'a', value: 'b' }), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await req('PATCH', `/traces/${id}/tags`, { value: 'b' }), 400, 'INVALID_PARAMETER_VALUE', 'key');
            assertError(await req('PATCH', `/traces/${id}/tags`, { key: 7, value: 'b' }), 400, 'INVALID_PARAMETER_VALUE', 'key');
            assertError(await req('PATCH', `/traces/${id}/tags`, { key: 'mlflow.artifactLocation', value: 'b' }), 400, 'INVALID_PARAMETER_VALUE', 'artifactLocation');
            assertError(await req('PATCH', `/traces/${id}/tags`, { key: 'k'.repeat(251), value: 'b' }), 400, 'INVALID_PARAMETER_VALUE', '250');
        });

        test('delete-traces by ids and by age with max_traces (oldest first); argument rules', async () => {
            const e = await c.createExperiment(uniqueName('del'));
            const ids = [];
            for (let i = 0; i < 5; i++)
                ids.push((await create(traceInfo(e, { request_time: iso(1000000 + i * 1000) }))).trace_id);
            const del = (body) => req('POST', '/traces/delete-traces', { experiment_id: e, ...body });
            assert.deepEqual(assertOk(await del({ request_ids: [ids[4], newTraceId()] })), { traces_deleted: 1 });
            assert.deepEqual(assertOk(await del({ max_timestamp_millis: 1003000, max_traces: 2 })), { traces_deleted: 2 });
            assertError(await req('GET', `/traces/${ids[0]}`), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertOk(await req('GET', `/traces/${ids[2]}`));
            assert.deepEqual(assertOk(await del({ max_timestamp_millis: 1003000 })), { traces_deleted: 2 });
            assert.equal(sql(`SELECT count(*) FROM trace_tags WHERE trace_id IN ('${ids.join("','")}')`), '0', 'children go with their trace');
            assertError(await del({}), 400, 'INVALID_PARAMETER_VALUE', 'max_timestamp_millis');
            assertError(await del({ max_timestamp_millis: 1, request_ids: ['x'] }), 400, 'INVALID_PARAMETER_VALUE', 'Only one');
            assertError(await del({ request_ids: ['x'], max_traces: 1 }), 400, 'INVALID_PARAMETER_VALUE', 'max_traces');
            assertError(await del({ max_timestamp_millis: 1, max_traces: 0 }), 400, 'INVALID_PARAMETER_VALUE', 'max_traces');
            assertError(await del({ max_timestamp_millis: '9223372036854775808' }), 400, 'INVALID_PARAMETER_VALUE');
            assertError(await del({ max_timestamp_millis: 'soon' }), 400, 'INVALID_PARAMETER_VALUE');
        });

        test('link-to-run: traces found by run_id; unknown run or trace is 404; > 100 ids is 400', async () => {
            const run = await c.createRun(exp);
            const a = (await create(traceInfo(exp))).trace_id;
            const b = (await create(traceInfo(exp))).trace_id;
            assertOk(await req2('POST', '/traces/link-to-run', { trace_ids: [a, b], run_id: run.info.run_id }));
            assertOk(await req2('POST', '/traces/link-to-run', { trace_ids: [a], run_id: run.info.run_id }), 'idempotent');
            assertOk(await req2('POST', '/traces/link-to-run', { trace_ids: [], run_id: run.info.run_id }), 'empty: no-op');
            const found = assertOk(await search({ filter: `attribute.run_id = '${run.info.run_id}'` })).traces.map((t) => t.trace_id).sort();
            assert.deepEqual(found, [a, b].sort());
            assertError(await req2('POST', '/traces/link-to-run', { trace_ids: [a], run_id: 'f'.repeat(32) }), 404, 'RESOURCE_DOES_NOT_EXIST', 'Run');
            assertError(await req2('POST', '/traces/link-to-run', { trace_ids: [newTraceId()], run_id: run.info.run_id }), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await req2('POST', '/traces/link-to-run', { trace_ids: Array(101).fill(a), run_id: run.info.run_id }), 400, 'INVALID_PARAMETER_VALUE', '100');
            assertError(await req2('POST', '/traces/link-to-run', { trace_ids: [a] }), 400, 'INVALID_PARAMETER_VALUE', 'run_id');
            assertError(await req2('POST', '/traces/link-to-run', { trace_ids: 'nope', run_id: run.info.run_id }), 400, 'INVALID_PARAMETER_VALUE');
            assertOk(await req2('POST', '/traces/link-prompts', { trace_id: a, prompt_versions: [{ name: 'p', version: '1' }, { name: 'p', version: 2 }] }));
            assert.equal(sql(`SELECT count(*) FROM trace_prompt_links WHERE trace_id = '${a}'`), '2');
            assertError(await req2('POST', '/traces/link-prompts', { trace_id: a }), 400, 'INVALID_PARAMETER_VALUE', 'prompt_versions');
            assertError(await req2('POST', '/traces/link-prompts', { trace_id: newTraceId(), prompt_versions: [] }), 404, 'RESOURCE_DOES_NOT_EXIST');
        });

        test('assessments: create, get, update with a FieldMask, override, delete; in the trace info', async () => {
            const id = (await create(traceInfo(exp))).trace_id;
            const post = (body) => req('POST', `/traces/${id}/assessments`, body);
            const fb = assertOk(await post({ assessment: {
                assessment_name: 'correctness', trace_id: id, span_id: '00f067aa0ba902b7',
                source: { source_type: 'HUMAN', source_id: 'alice' }, feedback: { value: true },
                rationale: 'matches', metadata: { 'mlflow.assessment.sourceRunId': 'r1' },
            } })).assessment;
            assert.match(fb.assessment_id, /^a-[0-9a-f]{32}$/);
            assert.equal(fb.trace_id, id);
            assert.equal(fb.span_id, '00f067aa0ba902b7');
            assert.deepEqual(fb.source, { source_type: 'HUMAN', source_id: 'alice' });
            assert.deepEqual(fb.feedback, { value: true });
            assert.equal(fb.rationale, 'matches');
            assert.deepEqual(fb.metadata, { 'mlflow.assessment.sourceRunId': 'r1' });
            assert.equal(fb.valid, true);
            assert.equal(fb.create_time, fb.last_update_time);
            assert.deepEqual(assertOk(await req('GET', `/traces/${id}/assessments/${fb.assessment_id}`)).assessment, fb);
            const ex = assertOk(await post({ assessment: { assessment_name: 'expected', source: { source_type: 'CODE' }, expectation: { value: { a: [1, 2] } } } })).assessment;
            assert.deepEqual(ex.expectation, { value: { a: [1, 2] } });
            const upd = assertOk(await req('PATCH', `/traces/${id}/assessments/${fb.assessment_id}`, {
                assessment: { assessment_name: 'renamed', rationale: 'changed', feedback: { value: 0.5 }, metadata: { extra: 'y' }, source: { source_type: 'CODE' } },
                update_mask: 'assessmentName,rationale,feedback,metadata',
            })).assessment;
            assert.equal(upd.assessment_name, 'renamed');
            assert.equal(upd.rationale, 'changed');
            assert.deepEqual(upd.feedback, { value: 0.5 });
            assert.deepEqual(upd.metadata, { 'mlflow.assessment.sourceRunId': 'r1', extra: 'y' });
            assert.deepEqual(upd.source, fb.source, 'source is immutable');
            const over = assertOk(await post({ assessment: { assessment_name: 'renamed', feedback: { value: false }, overrides: fb.assessment_id } })).assessment;
            assert.equal(over.overrides, fb.assessment_id);
            assert.equal(assertOk(await req('GET', `/traces/${id}/assessments/${fb.assessment_id}`)).assessment.valid, false);
            const info = assertOk(await req('GET', `/traces/${id}`)).trace.trace_info;
            assert.deepEqual(info.assessments.map((a) => a.assessment_id).sort(), [fb.assessment_id, ex.assessment_id, over.assessment_id].sort());
            assertOk(await req('DELETE', `/traces/${id}/assessments/${ex.assessment_id}`));
            assertError(await req('GET', `/traces/${id}/assessments/${ex.assessment_id}`), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await req('DELETE', `/traces/${id}/assessments/${ex.assessment_id}`), 404, 'RESOURCE_DOES_NOT_EXIST');
            // hostile and wrong input
            assertError(await post({}), 400, 'INVALID_PARAMETER_VALUE', 'assessment');
            assertError(await post({ assessment: { feedback: { value: 1 } } }), 400, 'INVALID_PARAMETER_VALUE', 'assessment_name');
            assertError(await post({ assessment: { assessment_name: 'x' } }), 400, 'INVALID_PARAMETER_VALUE', 'feedback');
            assertError(await post({ assessment: { assessment_name: 'x', feedback: { value: 1 }, expectation: { value: 2 } } }), 400, 'INVALID_PARAMETER_VALUE', 'exactly one');
            assertError(await post({ assessment: { assessment_name: 'x', feedback: { value: 1 }, source: { source_type: 'ROBOT' } } }), 400, 'INVALID_PARAMETER_VALUE', 'source_type');
            assertError(await post({ assessment: { assessment_name: 'x', feedback: { value: 1 }, overrides: 'a-' + '0'.repeat(32) } }), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await post({ assessment: { assessment_name: 'n'.repeat(251), feedback: { value: 1 } } }), 400, 'INVALID_PARAMETER_VALUE', '250');
            assertError(await req('POST', `/traces/${newTraceId()}/assessments`, { assessment: { assessment_name: 'x', feedback: { value: 1 } } }), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await req('PATCH', `/traces/${id}/assessments/${fb.assessment_id}`, { assessment: { rationale: 'x' } }), 400, 'INVALID_PARAMETER_VALUE', 'update_mask');
            assertError(await req('PATCH', `/traces/${id}/assessments/${fb.assessment_id}`, { assessment: { rationale: 'x' }, update_mask: 'source' }), 400, 'INVALID_PARAMETER_VALUE', 'source');
            assertError(await req('PATCH', `/traces/${id}/assessments/a-nope`, { assessment: { rationale: 'x' }, update_mask: 'rationale' }), 404, 'RESOURCE_DOES_NOT_EXIST');
        });
    });
}

// Page tokens in the default order carry the last row's keyset (issue 16):
// a later page starts right after that row whatever was written meanwhile,
// ties on request_time go by trace id, and a search of several experiments
// merges their newest traces in one order.
describe('V3 trace search paging by keyset', () => {
    const v3 = '/api/3.0/mlflow';
    const req = (method, p, body) => api(stack.base, method, v3 + p, body);
    const loc = (...exps) => exps.map((e) => ({ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: e } }));
    const at = (exp, ms, name = 'k') => ({ ...traceInfo(exp), request_time: iso(ms), tags: { 'mlflow.traceName': name } });
    const create = async (info) => assertOk(await req('POST', '/traces', { trace: { trace_info: info } })).trace.trace_info.trace_id;
    const search = async (body) => assertOk(await req('POST', '/traces/search', body));
    const token = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64');
    let c, e1, e2;

    before(async () => {
        c = client(stack.base, '/api/2.0/mlflow');
        e1 = await c.createExperiment(uniqueName('keyset1'));
        e2 = await c.createExperiment(uniqueName('keyset2'));
    });

    test('pages continue after the last row while newer traces arrive; ties go by trace id', async () => {
        const rows = [];
        for (let i = 0; i < 4; i++) rows.push({ id: await create(at(e1, 1760000000000)), t: 1760000000000 });
        for (let i = 1; i <= 4; i++) rows.push({ id: await create(at(e1, 1760000000000 - i * 1000)), t: 1760000000000 - i * 1000 });
        const want = rows.sort((a, b) => b.t - a.t || (a.id < b.id ? -1 : 1)).map((r) => r.id);
        const seen = [];
        let tok;
        for (let page = 0; page < 10; page++) {
            const r = await search({ locations: loc(e1), max_results: 3, page_token: tok });
            seen.push(...r.traces.map((t) => t.trace_id));
            tok = r.next_page_token;
            if (!tok) break;
            // newer traces between the pages: an offset would repeat rows
            await create(at(e1, 1770000000000 + page));
        }
        assert.deepEqual(seen.slice(0, 3), want.slice(0, 3));
        assert.deepEqual(seen.slice(3), want.slice(3), 'later pages start right after the previous page');
        const decoded = JSON.parse(Buffer.from((await search({ locations: loc(e1), max_results: 2 })).next_page_token, 'base64'));
        assert.equal(typeof decoded.offset, 'number');
        assert.match(decoded.id, /^tr-[0-9a-f]{32}$/);
        // "timestamp_ms DESC" is the default order: the same walk
        const r1 = await search({ locations: loc(e1), max_results: 4, order_by: ['timestamp_ms DESC'], filter: 'timestamp_ms < 1770000000000' });
        const r2 = await search({ locations: loc(e1), max_results: 4, order_by: ['timestamp_ms DESC'], filter: 'timestamp_ms < 1770000000000', page_token: r1.next_page_token });
        assert.deepEqual([...r1.traces, ...r2.traces].map((t) => t.trace_id), want);
        // another order pages by offset, every row once
        const byDuration = [];
        tok = undefined;
        for (let page = 0; page < 10; page++) {
            const r = await search({ locations: loc(e1), max_results: 5, order_by: ['execution_time ASC'], filter: 'timestamp_ms < 1770000000000', page_token: tok });
            byDuration.push(...r.traces.map((t) => t.trace_id));
            tok = r.next_page_token;
            if (!tok) break;
        }
        assert.deepEqual([...byDuration].sort(), [...want].sort());
    });

    test('several experiments merge in the default order and page by keyset', async () => {
        const ids = [];
        for (let i = 0; i < 6; i++) ids.push(await create(at(i % 2 ? e2 : e1, 1740000000000 + i * 1000, 'merge')));
        const filter = "name = 'merge'";
        const all = await search({ locations: loc(e1, e2, e1), filter, max_results: 100 });
        assert.deepEqual(all.traces.map((t) => t.trace_id), [...ids].reverse(), 'newest first across both, each once');
        const p1 = await search({ locations: loc(e2, e1), filter, max_results: 4 });
        const p2 = await search({ locations: loc(e2, e1), filter, max_results: 4, page_token: p1.next_page_token });
        assert.deepEqual([...p1.traces, ...p2.traces].map((t) => t.trace_id), [...ids].reverse());
        assert.equal(p2.next_page_token, undefined);
        const asc = await search({ locations: loc(e1, e2), filter, max_results: 3, order_by: ['timestamp_ms ASC'] });
        const asc2 = await search({ locations: loc(e1, e2), filter, max_results: 3, order_by: ['timestamp_ms ASC'], page_token: asc.next_page_token });
        assert.deepEqual([...asc.traces, ...asc2.traces].map((t) => t.trace_id), ids);
    });

    test('a token this server did not make is refused and reads nothing', async () => {
        const bad = async (page_token) => assertError(await req('POST', '/traces/search', { locations: loc(e1), page_token }), 400, 'INVALID_PARAMETER_VALUE', 'token');
        await bad(token({ offset: 3, time: 1, id: "tr-0'; DROP TABLE traces; --" }));
        await bad(token({ offset: 3, time: 1, id: 'tr-' + 'A'.repeat(32) }));
        await bad(token({ offset: 3, time: 'now', id: 'tr-' + 'a'.repeat(32) }));
        await bad(token({ offset: 3, id: 'tr-' + 'a'.repeat(32) }));
        await bad(token({ offset: 0, time: 1, id: 'tr-' + 'a'.repeat(32) }));
        await bad(token({ offset: 3, time: 1, id: 'tr-' + 'a'.repeat(32), pad: 'x'.repeat(300) }));
        await bad('!!!!');
        assert.equal(sql('SELECT count(*) > 0 FROM traces'), 't');
        // a well-formed keyset past every row: an empty page
        const r = await search({ locations: loc(e1), page_token: token({ offset: 1, time: 0, id: 'tr-' + '0'.repeat(32) }) });
        assert.equal(r.traces, undefined);
    });
});
