// MLflow 3 logged models (mlflow-models-api.md section 2): create, get,
// finalize, delete, tags (with the mlflow.modelVersions de-duplication),
// params, search (grammar, ordering, paging, datasets), the model's
// artifacts through the proxy and its own routes, hostile input, on both
// mounts. Metric rows linked to models are written by log-metric/log-batch
// (another part of the server); here they are seeded with psql INSERTs.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, client, PREFIXES, api, assertOk, assertError, uniqueName } from './harness.mjs';

const stack = useStack({ before, after });
const sql = (q) => stack.pg.psql(q).trim();
const MODEL_ID_RE = /^m-[0-9a-f]{32}$/;
const MISSING = 'Missing value for required parameter';

// Seeds a metric row of a model (see the header: the tracking writes are not ours).
function seedMetric(model, { key, value, timestamp = 1000, step = 0, runId = '', dataset = '', digest = '' }) {
    const q = (s) => `'${String(s).replace(/'/g, "''")}'`;
    sql(`INSERT INTO logged_model_metrics (model_id, key, timestamp, step, run_id, value, experiment_id, dataset_name, dataset_digest)
         VALUES (${q(model.model_id)}, ${q(key)}, ${timestamp}, ${step}, ${q(runId)}, ${value}, ${model.experiment_id}, ${q(dataset)}, ${q(digest)})`);
}

for (const prefix of PREFIXES) {
    describe(`logged models under ${prefix}`, () => {
        let c, exp, expLocation;
        const patch = (p, body) => c.req('PATCH', p, body);
        const del = (p, body) => c.req('DELETE', p, body);
        const create = async (extra = {}, experimentId = exp) =>
            assertOk(await c.post('/logged-models', { experiment_id: experimentId, ...extra })).model.info;
        const get = async (id, query) => assertOk(await c.get(`/logged-models/${id}`, query)).model;
        const search = (body) => c.post('/logged-models/search', { experiment_ids: [exp], ...body });

        before(async () => {
            c = client(stack.base, prefix);
            exp = await c.createExperiment(uniqueName('lm'));
            expLocation = (await c.getExperiment(exp)).artifact_location;
        });

        test('create and get: the LoggedModel shape, PENDING, artifact_uri, params and tags', async () => {
            const t0 = Date.now();
            const info = await create({
                name: 'model', model_type: 'sklearn', source_run_id: 'abc',
                params: [{ key: 'C', value: '1.0' }, { key: 'd', value: '' }],
                tags: [{ key: 't', value: '1' }, { key: 't', value: '2' }],
            });
            assert.match(info.model_id, MODEL_ID_RE);
            assert.equal(info.experiment_id, exp);
            assert.equal(info.name, 'model');
            assert.equal(info.status, 'LOGGED_MODEL_PENDING');
            assert.equal(info.model_type, 'sklearn');
            assert.equal(info.source_run_id, 'abc');
            assert.equal(info.artifact_uri, `${expLocation}/models/${info.model_id}/artifacts`);
            assert.ok(info.creation_timestamp_ms >= t0 - 5000 && info.creation_timestamp_ms <= Date.now() + 5000);
            assert.equal(info.last_updated_timestamp_ms, info.creation_timestamp_ms);
            assert.deepEqual(info.tags, [{ key: 't', value: '2' }], 'a repeated tag key keeps its last value');
            const m = await get(info.model_id);
            assert.deepEqual(m.info, info);
            assert.deepEqual(m.data, { params: [{ key: 'C', value: '1.0' }, { key: 'd', value: '' }] });

            const bare = await create();
            assert.match(bare.name, /^[a-z]+-[a-z]+-\d+$/, 'random adjective-noun-N name');
            assert.ok(!('tags' in bare));
            assert.deepEqual((await get(bare.model_id)).data, {}, 'data present, empty');
            const empty = await create({ name: '' });
            assert.match(empty.name, /^[a-z]+-[a-z]+-\d+$/);
        });

        test('create: name rules, experiment checks, duplicate params, wrong types', async () => {
            for (const bad of ['a/b', 'a:b', 'model.v1', '50%', 'a"b', "a'b"]) {
                assertError(await c.post('/logged-models', { experiment_id: exp, name: bad }), 400, 'INVALID_PARAMETER_VALUE',
                    'Model name must be a non-empty string and cannot contain the following characters', bad);
            }
            assertError(await c.post('/logged-models', {}), 400, 'INVALID_PARAMETER_VALUE', 'experiment_id');
            assertError(await c.post('/logged-models', { experiment_id: '987654' }), 404, 'RESOURCE_DOES_NOT_EXIST', '987654');
            assertError(await c.post('/logged-models', { experiment_id: 'abc' }), 404, 'RESOURCE_DOES_NOT_EXIST');
            const gone = await c.createExperiment(uniqueName('gone'));
            await c.ok('POST', '/experiments/delete', { experiment_id: gone });
            assertError(await c.post('/logged-models', { experiment_id: gone }), 400, 'INVALID_PARAMETER_VALUE', 'active');
            assertError(await c.post('/logged-models', { experiment_id: exp, params: [{ key: 'a', value: '1' }, { key: 'a', value: '2' }] }),
                400, 'BAD_REQUEST', 'a');
            assertError(await c.post('/logged-models', { experiment_id: exp, name: 5 }), 400, 'INVALID_PARAMETER_VALUE', 'name');
            assertError(await c.post('/logged-models', { experiment_id: exp, params: 'x' }), 400, 'INVALID_PARAMETER_VALUE', 'params');
            assertError(await c.post('/logged-models', { experiment_id: exp, params: [{ value: '1' }] }), 400, 'INVALID_PARAMETER_VALUE', 'key');
            assertError(await c.post('/logged-models', { experiment_id: exp, tags: [{ key: 'k'.repeat(256), value: '1' }] }), 400, 'INVALID_PARAMETER_VALUE', '255');
            assertError(await c.post('/logged-models', { experiment_id: exp, name: 'n'.repeat(501) }), 400, 'INVALID_PARAMETER_VALUE', '500');
            assertError(await c.post('/logged-models', { experiment_id: exp, tags: Array.from({ length: 1001 }, (_, i) => ({ key: `k${i}`, value: '' })) }),
                400, 'INVALID_PARAMETER_VALUE', '1000');
            assert.equal(sql(`SELECT count(*) FROM logged_models WHERE name = 'n'`), '0');
        });

        test('get: unknown, malformed and deleted ids; allow_deleted', async () => {
            const missing = 'm-' + '0'.repeat(32);
            assertError(await c.get(`/logged-models/${missing}`), 404, 'RESOURCE_DOES_NOT_EXIST', `Logged model with ID '${missing}' not found.`);
            assertError(await c.get('/logged-models/nope'), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await c.get('/logged-models/m-%00%ff'), 404, 'RESOURCE_DOES_NOT_EXIST');
            const info = await create();
            assertError(await c.get(`/logged-models/${info.model_id}/whatever`), 404, 'ENDPOINT_NOT_FOUND');
            assertOk(await del(`/logged-models/${info.model_id}`, { model_id: info.model_id }));
            assertError(await c.get(`/logged-models/${info.model_id}`), 404, 'RESOURCE_DOES_NOT_EXIST');
            const m = await get(info.model_id, { allow_deleted: 'true' });
            assert.equal(m.info.model_id, info.model_id);
            assert.ok(m.info.last_updated_timestamp_ms >= info.last_updated_timestamp_ms);
            assertError(await c.get(`/logged-models/${info.model_id}`, { allow_deleted: 'maybe' }), 400, 'INVALID_PARAMETER_VALUE', 'allow_deleted');
            assertError(await del(`/logged-models/${info.model_id}`), 404, 'RESOURCE_DOES_NOT_EXIST', [], 'deleting twice: gone');
            assertError(await del(`/logged-models/${missing}`), 404, 'RESOURCE_DOES_NOT_EXIST');
        });

        test('finalize: status by name or number, any transition, body id must match, deleted models too', async () => {
            const info = await create();
            const fin = async (status, extra = {}) => assertOk(await patch(`/logged-models/${info.model_id}`, { model_id: info.model_id, status, ...extra })).model;
            let m = await fin('LOGGED_MODEL_READY');
            assert.equal(m.info.status, 'LOGGED_MODEL_READY');
            assert.ok(m.info.last_updated_timestamp_ms >= info.last_updated_timestamp_ms);
            m = await fin(3);
            assert.equal(m.info.status, 'LOGGED_MODEL_UPLOAD_FAILED');
            m = await fin('LOGGED_MODEL_PENDING');
            assert.equal(m.info.status, 'LOGGED_MODEL_PENDING');
            assertOk(await patch(`/logged-models/${info.model_id}`, { status: 2 }), 'body model_id may be absent');
            assertError(await patch(`/logged-models/${info.model_id}`, { model_id: 'm-' + '1'.repeat(32), status: 2 }), 400, 'INVALID_PARAMETER_VALUE', 'model_id');
            assertError(await patch(`/logged-models/${info.model_id}`, { model_id: info.model_id }), 400, 'INVALID_PARAMETER_VALUE', `${MISSING} 'status'`);
            for (const bad of ['DONE', 7, -1, true, 2.5]) {
                assertError(await patch(`/logged-models/${info.model_id}`, { status: bad }), 400, 'INVALID_PARAMETER_VALUE', 'status');
            }
            assertError(await patch('/logged-models/m-' + 'a'.repeat(32), { status: 2 }), 404, 'RESOURCE_DOES_NOT_EXIST');
            await c.ok('DELETE', `/logged-models/${info.model_id}`);
            assertOk(await patch(`/logged-models/${info.model_id}`, { status: 'LOGGED_MODEL_READY' }), 'finalize works on a deleted model');
            assert.equal(sql(`SELECT status FROM logged_models WHERE model_id = '${info.model_id}'`), '2');
        });

        test('tags: upsert answers {}, delete-tag 404s, mlflow.modelVersions de-duplicated', async () => {
            const info = await create({ tags: [{ key: 'a', value: '1' }] });
            const r = assertOk(await patch(`/logged-models/${info.model_id}/tags`, { tags: [{ key: 'a', value: '2' }, { key: 'b', value: 'x' }] }));
            assert.deepEqual(r, {});
            assert.deepEqual((await get(info.model_id)).info.tags, [{ key: 'a', value: '2' }, { key: 'b', value: 'x' }]);
            assert.equal((await get(info.model_id)).info.last_updated_timestamp_ms, info.last_updated_timestamp_ms, 'tags do not bump the time');
            assertOk(await del(`/logged-models/${info.model_id}/tags/b`));
            assert.deepEqual((await get(info.model_id)).info.tags, [{ key: 'a', value: '2' }]);
            assertError(await del(`/logged-models/${info.model_id}/tags/b`), 404, 'RESOURCE_DOES_NOT_EXIST', `No tag with key 'b' found for model with ID '${info.model_id}'.`);
            assertError(await del(`/logged-models/m-${'0'.repeat(32)}/tags/a`), 404, 'RESOURCE_DOES_NOT_EXIST', 'Logged model with ID');
            assertError(await patch(`/logged-models/m-${'0'.repeat(32)}/tags`, { tags: [] }), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await patch(`/logged-models/${info.model_id}/tags`, { tags: [{ key: '', value: 'x' }] }), 400, 'INVALID_PARAMETER_VALUE', 'key');
            assertError(await patch(`/logged-models/${info.model_id}/tags`, { tags: { key: 'x' } }), 400, 'INVALID_PARAMETER_VALUE', 'tags');

            // the server wrote [{name, version: 1}]; the client appends {name, version: "1"}
            const value = JSON.stringify([{ name: 'iris', version: 1 }, { name: 'iris', version: '1' }, { name: 'iris', version: '2' }, { name: 'other', version: 1 }]);
            assertOk(await patch(`/logged-models/${info.model_id}/tags`, { tags: [{ key: 'mlflow.modelVersions', value }] }));
            const tag = (await get(info.model_id)).info.tags.find((t) => t.key === 'mlflow.modelVersions');
            assert.deepEqual(JSON.parse(tag.value), [{ name: 'iris', version: '1' }, { name: 'iris', version: '2' }, { name: 'other', version: '1' }]);
            assert.equal(tag.value, '[{"name": "iris", "version": "1"}, {"name": "iris", "version": "2"}, {"name": "other", "version": "1"}]', 'Python json.dumps spacing');
            assertOk(await patch(`/logged-models/${info.model_id}/tags`, { tags: [{ key: 'mlflow.modelVersions', value: 'not json' }] }));
            assert.equal((await get(info.model_id)).info.tags.find((t) => t.key === 'mlflow.modelVersions').value, 'not json', 'non-lists stored as given');
            // delete-tag on a deleted model still works (MLflow)
            await c.ok('DELETE', `/logged-models/${info.model_id}`);
            assertOk(await del(`/logged-models/${info.model_id}/tags/a`));
        });

        test('params: log, existing key 400, duplicate in request 400, body id must match', async () => {
            const info = await create({ params: [{ key: 'a', value: '1' }] });
            assertOk(await c.post(`/logged-models/${info.model_id}/params`, { model_id: info.model_id, params: [{ key: 'b', value: '2' }] }));
            assert.deepEqual((await get(info.model_id)).data.params, [{ key: 'a', value: '1' }, { key: 'b', value: '2' }]);
            assertError(await c.post(`/logged-models/${info.model_id}/params`, { model_id: info.model_id, params: [{ key: 'a', value: '1' }] }), 400, 'BAD_REQUEST');
            assertError(await c.post(`/logged-models/${info.model_id}/params`, { params: [{ key: 'c', value: '1' }, { key: 'c', value: '2' }] }), 400, 'BAD_REQUEST');
            assertError(await c.post(`/logged-models/${info.model_id}/params`, { model_id: 'x', params: [] }), 400, 'INVALID_PARAMETER_VALUE', 'model_id');
            assertError(await c.post(`/logged-models/m-${'0'.repeat(32)}/params`, { params: [{ key: 'c', value: '1' }] }), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await c.post(`/logged-models/${info.model_id}/other`, {}), 404, 'ENDPOINT_NOT_FOUND');
            assert.equal(sql(`SELECT count(*) FROM logged_model_params WHERE model_id = '${info.model_id}'`), '2', 'failed calls wrote nothing');
        });

        test('metrics: every row of the model, with run_id and dataset fields when set', async () => {
            const info = await create();
            seedMetric(info, { key: 'acc', value: 0.5, step: 0 });
            seedMetric(info, { key: 'acc', value: 0.9, step: 1, runId: 'r1', dataset: 'train', digest: 'd1' });
            const { metrics } = (await get(info.model_id)).data;
            assert.deepEqual(metrics, [
                { key: 'acc', value: 0.5, timestamp: 1000, step: 0, model_id: info.model_id },
                { key: 'acc', value: 0.9, timestamp: 1000, step: 1, model_id: info.model_id, run_id: 'r1', dataset_name: 'train', dataset_digest: 'd1' },
            ]);
        });

        test('search: filter grammar, ordering, paging bound to the query', async () => {
            const e = await c.createExperiment(uniqueName('lms'));
            const s = (body) => c.post('/logged-models/search', { experiment_ids: [e], ...body });
            const names = async (body) => (assertOk(await s(body)).models || []).map((m) => m.info.name);
            const a = await create({ name: 'alpha', model_type: 'sk', params: [{ key: 'lr', value: '0.1' }], tags: [{ key: 'team', value: 'x' }] }, e);
            const b = await create({ name: 'beta', params: [{ key: 'lr', value: '0.2' }] }, e);
            const g = await create({ name: 'gamma' }, e);
            const d = await create({ name: 'deleted' }, e);
            await c.ok('DELETE', `/logged-models/${d.model_id}`);
            assertOk(await patch(`/logged-models/${b.model_id}`, { status: 'LOGGED_MODEL_READY' }));
            seedMetric(a, { key: 'acc', value: 0.7, timestamp: 1, dataset: 'eval' });
            seedMetric(a, { key: 'acc', value: 0.95, timestamp: 2, step: 1, dataset: 'train' });
            seedMetric(b, { key: 'acc', value: 0.8, timestamp: 5, dataset: 'eval', digest: 'v2' });
            seedMetric(d, { key: 'acc', value: 0.99 });

            assert.deepEqual(await names({}), ['gamma', 'beta', 'alpha'], 'creation DESC, deleted never');
            assert.deepEqual(await names({ filter: "name = 'beta'" }), ['beta']);
            assert.deepEqual(await names({ filter: "attributes.name LIKE 'a%'" }), ['alpha']);
            assert.deepEqual(await names({ filter: "name ILIKE '%A'" }), ['gamma', 'beta', 'alpha']);
            assert.deepEqual(await names({ filter: "name IN ('alpha', 'gamma')" }), ['gamma', 'alpha']);
            assert.deepEqual(await names({ filter: "name NOT IN ('alpha')" }), ['gamma', 'beta']);
            assert.deepEqual(await names({ filter: 'metrics.acc > 0.9' }), ['alpha'], 'any metric row matches');
            assert.deepEqual(await names({ filter: 'metrics.acc >= 0.7 AND metrics.acc < 0.75' }), ['alpha']);
            assert.deepEqual(await names({ filter: "params.lr = '0.2'" }), ['beta']);
            assert.deepEqual(await names({ filter: 'params.lr = 0.1' }), ['alpha'], 'a bare number compares as text');
            assert.deepEqual(await names({ filter: "params.lr != '0.1'" }), ['beta'], 'the key must exist');
            assert.deepEqual(await names({ filter: "tags.`team` = 'x' and model_type = 'sk'" }), ['alpha']);
            for (const st of ["'LOGGED_MODEL_READY'", "'READY'", "'2'", '2']) {
                assert.deepEqual(await names({ filter: `status = ${st}` }), ['beta'], st);
            }
            assert.deepEqual(await names({ filter: "status IN ('PENDING')" }), ['gamma', 'alpha']);
            assert.deepEqual(await names({ filter: `creation_timestamp_ms >= ${g.creation_timestamp_ms}` }).then((x) => x.includes('gamma')), true);
            assert.deepEqual(await names({ filter: 'creation_time > 0 AND attributes.last_updated_timestamp > 0' }), ['gamma', 'beta', 'alpha']);
            assert.deepEqual(await names({ filter: `model_id = '${a.model_id}'` }), ['alpha']);
            assert.deepEqual(await names({ filter: `experiment_id = '${e}'` }), ['gamma', 'beta', 'alpha']);
            assert.deepEqual(await names({ filter: 'name = "alpha"' }), [], 'double quotes are part of the value');

            // datasets [3.10]
            assert.deepEqual(await names({ datasets: [{ dataset_name: 'eval' }] }), ['beta', 'alpha']);
            assert.deepEqual(await names({ datasets: [{ dataset_name: 'eval', dataset_digest: 'v2' }] }), ['beta']);
            assert.deepEqual(await names({ filter: 'metrics.acc > 0.9', datasets: [{ dataset_name: 'eval' }] }), [], 'only rows of those datasets');
            assert.deepEqual(await names({ filter: 'metrics.acc > 0.9', datasets: [{ dataset_name: 'train' }] }), ['alpha']);
            assertError(await s({ datasets: [{ dataset_digest: 'x' }] }), 400, 'INVALID_PARAMETER_VALUE', '`dataset_name` in the `datasets` clause must be specified.');

            // order_by objects; metric order uses the latest row, missing last both ways
            assert.deepEqual(await names({ order_by: [{ field_name: 'metrics.acc', ascending: false }] }), ['alpha', 'beta', 'gamma']);
            assert.deepEqual(await names({ order_by: [{ field_name: 'metrics.acc' }] }), ['beta', 'alpha', 'gamma']);
            assert.deepEqual(await names({ order_by: [{ field_name: 'metrics.acc', ascending: false, dataset_name: 'eval' }] }), ['beta', 'alpha', 'gamma']);
            assert.deepEqual(await names({ order_by: [{ field_name: 'name' }] }), ['alpha', 'beta', 'gamma']);
            assert.deepEqual(await names({ order_by: [{ field_name: 'creation_timestamp_ms', ascending: true }] }), ['alpha', 'beta', 'gamma']);
            assertError(await s({ order_by: [{ field_name: 'nope' }] }), 400, 'INVALID_PARAMETER_VALUE', 'Invalid order by field name: nope');
            assertError(await s({ order_by: [{ field_name: 'params.lr' }] }), 400, 'INVALID_PARAMETER_VALUE', 'Only metrics are supported.');
            assertError(await s({ order_by: ['name'] }), 400, 'INVALID_PARAMETER_VALUE', 'order_by');
            assertError(await s({ order_by: [{ field_name: 'name', ascending: 'up' }] }), 400, 'INVALID_PARAMETER_VALUE', 'ascending');

            // paging
            const p1 = assertOk(await s({ max_results: 2 }));
            assert.deepEqual(p1.models.map((m) => m.info.name), ['gamma', 'beta']);
            assert.ok(p1.next_page_token);
            const p2 = assertOk(await s({ max_results: 2, page_token: p1.next_page_token }));
            assert.deepEqual(p2.models.map((m) => m.info.name), ['alpha']);
            assert.ok(!('next_page_token' in p2));
            assertError(await s({ max_results: 2, filter: "name != 'x'", page_token: p1.next_page_token }), 400, 'INVALID_PARAMETER_VALUE', 'Filter string in the page token do not match');
            assertError(await c.post('/logged-models/search', { experiment_ids: [exp], max_results: 2, page_token: p1.next_page_token }), 400, 'INVALID_PARAMETER_VALUE', 'Experiment IDs in the page token do not match');
            assertError(await s({ max_results: 2, order_by: [{ field_name: 'name' }], page_token: p1.next_page_token }), 400, 'INVALID_PARAMETER_VALUE', 'Order by in the page token');
            assertError(await s({ page_token: 'garbage!' }), 400, 'INVALID_PARAMETER_VALUE', 'page token');
            assertError(await s({ page_token: Buffer.from('{"offset": -1}').toString('base64') }), 400, 'INVALID_PARAMETER_VALUE', 'page token');
            assertError(await s({ page_token: Buffer.from(`{"experiment_ids": [${e}], "offset": 9223372036854775807}`).toString('base64') }), 400, 'INVALID_PARAMETER_VALUE', 'page token');
            // several experiments in the default order: merged per experiment, paged alike
            const e2 = await c.createExperiment(uniqueName('lms2'));
            const z = await create({ name: 'zeta' }, e2);
            const both = async (body) => (assertOk(await c.post('/logged-models/search', { experiment_ids: [e, e2], ...body })).models || []).map((m) => m.info.name);
            assert.deepEqual(await both({}), ['zeta', 'gamma', 'beta', 'alpha']);
            const q1 = assertOk(await c.post('/logged-models/search', { experiment_ids: [e, e2], max_results: 3 }));
            assert.deepEqual(q1.models.map((m) => m.info.name), ['zeta', 'gamma', 'beta']);
            const q2 = assertOk(await c.post('/logged-models/search', { experiment_ids: [e, e2], max_results: 3, page_token: q1.next_page_token }));
            assert.deepEqual(q2.models.map((m) => m.info.name), ['alpha']);
            assert.deepEqual(await both({ filter: "name != 'gamma'", order_by: [{ field_name: 'name', ascending: false }] }), ['zeta', 'beta', 'alpha']);
            assert.equal(z.experiment_id, e2);
            assert.equal((assertOk(await s({ max_results: 0 })).models || []).length, 3, '0 means 100');
            assertError(await s({ max_results: 1001 }), 400, 'INVALID_PARAMETER_VALUE', 'max_results');
            assertError(await s({ max_results: -1 }), 400, 'INVALID_PARAMETER_VALUE', 'max_results');
            assertError(await s({ max_results: '99999999999999999999' }), 400, 'INVALID_PARAMETER_VALUE', 'max_results');
            assertOk(await s({ max_results: 1000 }));
            assert.deepEqual(assertOk(await c.post('/logged-models/search', { experiment_ids: [] })), {}, 'no experiments: no results');
            assertError(await c.post('/logged-models/search', {}), 400, 'INVALID_PARAMETER_VALUE', `${MISSING} 'experiment_ids'`);
            assertError(await c.post('/logged-models/search', { experiment_ids: ['x1'] }), 400, 'INVALID_PARAMETER_VALUE', 'experiment');
            assertError(await c.post('/logged-models/search', { experiment_ids: ['99999999999999999999'] }), 400, 'INVALID_PARAMETER_VALUE', 'experiment');
            assert.deepEqual((assertOk(await c.post('/logged-models/search', { experiment_ids: [Number(e), exp] })).models || []).length >= 3, true, 'numeric ids accepted');
        });

        test('search: bad filters are 400 with the rule', async () => {
            const bad = {
                "name = 'a' OR name = 'b'": 'Expected a list of comparisons separated by',
                'metric.acc > 1': "Invalid entity type 'metric'",
                "tag.a = 'x'": "Invalid entity type 'tag'",
                "attribute.name = 'x'": "Invalid entity type 'attribute'",
                "foo = 'x'": "Invalid attribute name 'foo'",
                "attributes.foo = 'x'": "Invalid attribute name 'foo'",
                "name like 'x'": "Invalid comparison operator 'like'",
                "name < 'x'": 'Invalid comparison operator for string field',
                "metrics.acc LIKE '1'": 'Invalid comparison operator for numeric field',
                "metrics.acc > 'abc'": "Invalid numeric value 'abc'",
                "status = 'DONE'": "Invalid status 'DONE'",
                "status LIKE 'R%'": 'status compares with',
                "name = 'x": 'Expected a list of comparisons',
                'name =': 'Expected a list of comparisons',
                "name IN 'x'": 'IN expects a list',
                "name IN ('x'": 'IN expects a list',
                "name = 'x' AND": 'Expected a list of comparisons',
                'metrics. > 1': 'a key must follow',
                "name NOT 'x'": "Invalid comparison operator 'NOT",
                '(name = 1)': 'Expected a list of comparisons',
            };
            for (const [filter, words] of Object.entries(bad)) {
                assertError(await search({ filter }), 400, 'INVALID_PARAMETER_VALUE', words, filter);
            }
            assertError(await search({ filter: 5 }), 400, 'INVALID_PARAMETER_VALUE', 'filter');
        });

        test('artifacts: upload, download, list and delete through the proxy at the model path, deduplicated', async () => {
            const info = await create();
            const base = `/api/2.0/mlflow-artifacts/artifacts/${exp}/models/${info.model_id}/artifacts`;
            const body = Buffer.from(`model bytes ${info.model_id}`);
            assertOk(await api(stack.base, 'PUT', `${base}/MLmodel`, undefined, { raw: body }));
            assertOk(await api(stack.base, 'PUT', `${base}/sub/model.pkl`, undefined, { raw: body }));
            const down = await api(stack.base, 'GET', `${base}/sub/model.pkl`);
            assert.equal(down.status, 200);
            assert.equal(down.text, body.toString());
            assert.equal(sql(`SELECT count(DISTINCT blob_id) FROM logged_model_artifact_files WHERE model_id = '${info.model_id}'`), '1', 'same bytes, one blob');
            // the same bytes in a run share the blob too
            const run = await c.createRun(exp);
            assertOk(await api(stack.base, 'PUT', `/api/2.0/mlflow-artifacts/artifacts/${exp}/${run.info.run_id}/artifacts/copy`, undefined, { raw: body }));
            assert.equal(sql(`SELECT count(DISTINCT b.id) FROM artifact_blobs b WHERE b.id IN (SELECT blob_id FROM logged_model_artifact_files WHERE model_id = '${info.model_id}') OR b.id IN (SELECT f.blob_id FROM artifact_files f JOIN runs r ON r.id = f.run_id WHERE r.run_uuid = '${run.info.run_id}')`), '1');

            const list = assertOk(await api(stack.base, 'GET', '/api/2.0/mlflow-artifacts/artifacts', { path: `${exp}/models/${info.model_id}/artifacts` }));
            assert.deepEqual(list.files, [{ path: 'MLmodel', is_dir: false, file_size: body.length }, { path: 'sub', is_dir: true }]);
            const top = assertOk(await api(stack.base, 'GET', '/api/2.0/mlflow-artifacts/artifacts', { path: `${exp}/models/${info.model_id}` }));
            assert.deepEqual(top.files, [{ path: 'artifacts', is_dir: true }]);

            // the model's own routes
            const dirs = assertOk(await c.get(`/logged-models/${info.model_id}/artifacts/directories`));
            assert.equal(dirs.root_uri, info.artifact_uri);
            assert.deepEqual(dirs.files, [{ path: 'MLmodel', is_dir: false, file_size: body.length }, { path: 'sub', is_dir: true }]);
            const sub = assertOk(await c.get(`/logged-models/${info.model_id}/artifacts/directories`, { artifact_directory_path: 'sub' }));
            assert.deepEqual(sub.files, [{ path: 'sub/model.pkl', is_dir: false, file_size: body.length }]);
            assertError(await c.get(`/logged-models/${info.model_id}/artifacts/directories`, { artifact_directory_path: '../x' }), 400, 'INVALID_PARAMETER_VALUE');
            assertError(await c.get(`/logged-models/m-${'0'.repeat(32)}/artifacts/directories`), 404, 'RESOURCE_DOES_NOT_EXIST');
            const file = await c.get(`/logged-models/${info.model_id}/artifacts/files`, { artifact_file_path: 'sub/model.pkl' });
            assert.equal(file.status, 200);
            assert.equal(file.text, body.toString());
            assertError(await c.get(`/logged-models/${info.model_id}/artifacts/files`), 400, 'BAD_REQUEST', 'Request must include the "artifact_file_path" query parameter.');
            assertError(await c.get(`/logged-models/${info.model_id}/artifacts/files`, { artifact_file_path: 'nope' }), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await c.get(`/logged-models/${info.model_id}/artifacts/files`, { artifact_file_path: '/etc/passwd' }), 400, 'INVALID_PARAMETER_VALUE');

            // the model must exist in that experiment
            const other = await c.createExperiment(uniqueName('other'));
            assertError(await api(stack.base, 'PUT', `/api/2.0/mlflow-artifacts/artifacts/${other}/models/${info.model_id}/artifacts/x`, undefined, { raw: body }), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await api(stack.base, 'PUT', `/api/2.0/mlflow-artifacts/artifacts/${exp}/models/m-${'0'.repeat(32)}/artifacts/x`, undefined, { raw: body }), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await api(stack.base, 'PUT', `/api/2.0/mlflow-artifacts/artifacts/${exp}/models/nope/artifacts/x`, undefined, { raw: body }), 400, 'INVALID_PARAMETER_VALUE');
            assertError(await api(stack.base, 'GET', `/api/2.0/mlflow-artifacts/artifacts/${other}/models/${info.model_id}/artifacts/MLmodel`), 404, 'RESOURCE_DOES_NOT_EXIST');

            // a deleted model keeps its files (MLflow never deletes model artifacts)
            await c.ok('DELETE', `/logged-models/${info.model_id}`);
            assert.equal((await api(stack.base, 'GET', `${base}/MLmodel`)).status, 200);
            assertOk(await api(stack.base, 'DELETE', `${base}/sub`));
            assert.equal(sql(`SELECT count(*) FROM logged_model_artifact_files WHERE model_id = '${info.model_id}'`), '1');
        });

        test('hostile input: NUL, lone surrogates, huge numbers, wrong shapes', async () => {
            const raw = (p, text, method = 'POST') => c.req(method, p, undefined, { raw: text, headers: { 'content-type': 'application/json' } });
            assertError(await raw('/logged-models', `{"experiment_id": "${exp}", "name": "a\\u0000b"}`), 400);
            assertError(await raw('/logged-models', `{"experiment_id": "${exp}", "name": "\\ud800"}`), 400);
            assertError(await raw('/logged-models', `{"experiment_id": "99999999999999999999999"}`), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await raw('/logged-models', '[1, 2]'), 400);
            assertError(await raw('/logged-models/search', `{"experiment_ids": ["${exp}"], "filter": "name = '\\u0000'"}`), 400);
            assertError(await raw('/logged-models/search', `{"experiment_ids": ["${exp}"], "max_results": 1e300}`), 400, 'INVALID_PARAMETER_VALUE');
            assertError(await c.post('/logged-models/search', { experiment_ids: [exp], filter: `name = '${'x'.repeat(100000)}` }), 400, 'INVALID_PARAMETER_VALUE');
            assertOk(await c.post('/logged-models/search', { experiment_ids: [exp], filter: `name = '${'x'.repeat(100000)}'` }));
            assertOk(await c.post('/logged-models/search', { experiment_ids: [exp], filter: `params.\`a'); DROP TABLE logged_models; --\` = 'x'` }));
            assert.equal(sql("SELECT count(*) > 0 FROM logged_models"), 't');
            const info = await create();
            assertError(await raw(`/logged-models/${info.model_id}`, `{"status": "\\udfff"}`, 'PATCH'), 400);
            assertError(await c.req('PATCH', `/logged-models/${info.model_id}/tags`, { tags: [{ key: 'k', value: 5 }] }), 400, 'INVALID_PARAMETER_VALUE', 'value');
            assertError(await c.req('DELETE', `/logged-models/${info.model_id}/tags/%ff%fe`), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await c.req('PUT', `/logged-models/${info.model_id}`, {}), 405);
        });
    });
}
