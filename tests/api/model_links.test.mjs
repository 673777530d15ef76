// Links between runs, metrics, logged models and the registry (MLflow 3,
// mlflow-models-api.md 1.5, 2.3 runs/outputs, 2.4, 2.7 steps 3-4 and 10-11,
// quirks 16, 17, 24-27): metrics with model_id written to the run and the
// model in one commit, runs/outputs and model inputs in the run JSON,
// create-version from models:/<model_id> and the mlflow.modelVersions tag,
// the run-artifact fallback of a 3.x model, hostile input, and kill -9.
//
// Logged models are made by INSERTing rows: their entity endpoints
// (/logged-models...) come from the logged-models work, not from here.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { useStack, client, startServer, PREFIXES, assertOk, assertError, uniqueName, waitUntil } from './harness.mjs';

const stack = useStack({ before, after });
let srv2;
after(async () => { if (srv2) await srv2.stop(); });

const BAD = 'INVALID_PARAMETER_VALUE';
const sqlText = (s) => `'${String(s).replace(/'/g, "''")}'`;
const newModelId = () => `m-${crypto.randomBytes(16).toString('hex')}`;

/** A logged model row, as POST /logged-models would make it. */
function insertLoggedModel(expId, { sourceRunId = '', deleted = false, tags = {} } = {}) {
    const id = newModelId();
    const location = `mlflow-artifacts:/${expId}/models/${id}/artifacts`;
    stack.pg.psql(`INSERT INTO logged_models (model_id, experiment_id, name, source_run_id, status,
        artifact_location, lifecycle_stage, creation_time, last_updated_time)
        VALUES (${sqlText(id)}, ${Number(expId)}, 'model', ${sqlText(sourceRunId)}, 1, ${sqlText(location)},
        ${deleted ? "'deleted'" : "'active'"}, 1748000000000, 1748000000000)`);
    for (const [k, v] of Object.entries(tags)) {
        stack.pg.psql(`INSERT INTO logged_model_tags VALUES (${sqlText(id)}, ${sqlText(k)}, ${sqlText(v)})`);
    }
    return { id, location };
}

/** Rows of logged_model_metrics for a model, ordered, as objects. */
function modelMetrics(modelId) {
    const out = stack.pg.psql(`SELECT json_agg(row_to_json(m) ORDER BY key, step, timestamp, run_id, dataset_name)
        FROM logged_model_metrics m WHERE model_id = ${sqlText(modelId)}`).trim();
    return out ? JSON.parse(out) : [];
}
const count = (sql) => Number(stack.pg.psql(sql).trim());
const modelTag = (modelId, key) =>
    stack.pg.psql(`SELECT value FROM logged_model_tags WHERE model_id = ${sqlText(modelId)} AND key = ${sqlText(key)}`).replace(/\n$/, '');

describe('metrics with model_id', () => {
    let c, exp, run;
    before(async () => {
        c = client(stack.base);
        exp = await c.createExperiment(uniqueName('linked'));
        run = (await c.createRun(exp)).info.run_id;
    });

    test('log-metric: the point goes to the run and to the model, once', async () => {
        const m = insertLoggedModel(exp, { sourceRunId: run });
        const point = { key: 'acc', value: 0.97, timestamp: 1748000001000, step: 0 };
        const body = { run_id: run, ...point, model_id: m.id, dataset_name: 'iris-train', dataset_digest: 'a1b2c3d4', run_id_ignored: 1 };
        assertOk(await c.post('/runs/log-metric', body));
        assertOk(await c.post('/runs/log-metric', body)); // a retry: nothing new anywhere
        // run_id inside the point is ignored (the request's run wins)
        assertOk(await c.post('/runs/log-metric', { ...body, run_id: run }));
        const rows = modelMetrics(m.id);
        assert.deepEqual(rows, [{
            model_id: m.id, key: 'acc', timestamp: 1748000001000, step: 0, run_id: run, value: 0.97,
            experiment_id: Number(exp), dataset_name: 'iris-train', dataset_digest: 'a1b2c3d4',
        }]);
        const h = assertOk(await c.get('/metrics/get-history', { run_id: run, metric_key: 'acc' })).metrics;
        assert.deepEqual(h, [point], 'run side: one point, no model fields echoed');
        const got = await c.getRun(run);
        assert.deepEqual(got.data.metrics.find((x) => x.key === 'acc'), point);
    });

    test('log-batch (group commit path): only points with model_id reach the model; run-side twins still add model rows', async () => {
        const m = insertLoggedModel(exp);
        const r2 = (await c.createRun(exp)).info.run_id;
        const pts = Array.from({ length: 6 }, (_, i) => ({ key: `k${i % 2}`, value: i + 0.5, timestamp: 1000 + i, step: i }));
        // the run's own points first, without a model
        assertOk(await c.post('/runs/log-batch', { run_id: r2, metrics: pts }));
        assert.equal(modelMetrics(m.id).length, 0);
        // log_model step 4: the same step-0..5 points again, now with model_id
        const linked = pts.map((p, i) => (i < 4 ? { ...p, model_id: m.id } : p));
        assertOk(await c.post('/runs/log-batch', { run_id: r2, metrics: linked }));
        assertOk(await c.post('/runs/log-batch', { run_id: r2, metrics: linked }));
        const rows = modelMetrics(m.id);
        assert.equal(rows.length, 4, 'four linked points, each once');
        assert.deepEqual(rows.map((r) => [r.key, r.step, r.value, r.run_id, r.dataset_name, r.dataset_digest]),
            [['k0', 0, 0.5, r2, '', ''], ['k0', 2, 2.5, r2, '', ''], ['k1', 1, 1.5, r2, '', ''], ['k1', 3, 3.5, r2, '', '']]);
        assert.equal(count(`SELECT count(*) FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.run_uuid = '${r2}'`), 6,
            'run side unchanged by the repeats');
        // same point, another dataset: a distinct model row
        assertOk(await c.post('/runs/log-metric', { run_id: r2, ...pts[0], model_id: m.id, dataset_name: 'test', dataset_digest: 'd' }));
        assert.equal(modelMetrics(m.id).length, 5);
        // an empty model_id is no link
        const before = count('SELECT count(*) FROM logged_model_metrics');
        assertOk(await c.post('/runs/log-metric', { run_id: r2, key: 'plain', value: 1, timestamp: 1, model_id: '' }));
        assert.equal(count('SELECT count(*) FROM logged_model_metrics'), before);
    });

    test('log-batch over the group size (one transaction): both tables', async () => {
        const m = insertLoggedModel(exp);
        const r3 = (await c.createRun(exp)).info.run_id;
        const pts = Array.from({ length: 500 }, (_, i) => ({ key: 'big', value: i, timestamp: 5000 + i, step: i, model_id: m.id }));
        assertOk(await c.post('/runs/log-batch', { run_id: r3, metrics: pts, params: [{ key: 'p', value: 'v' }] }));
        assertOk(await c.post('/runs/log-batch', { run_id: r3, metrics: pts }));
        assert.equal(modelMetrics(m.id).length, 500);
        assert.equal(count(`SELECT count(*) FROM logged_model_metrics WHERE model_id = '${m.id}' AND run_id = '${r3}' AND experiment_id = ${exp}`), 500);
        const h = assertOk(await c.get('/metrics/get-history', { run_id: r3, metric_key: 'big' })).metrics;
        assert.equal(h.length, 500);
    });

    test('concurrent log-metric, mixed with and without model_id, across runs: every acknowledged point in both tables', async () => {
        const models = [insertLoggedModel(exp), insertLoggedModel(exp)];
        const runs = [];
        for (let i = 0; i < 4; i++) runs.push((await c.createRun(exp)).info.run_id);
        const N = 200;
        const results = await Promise.all(Array.from({ length: N }, (_, i) => {
            const body = { run_id: runs[i % 4], key: 'conc', value: i, timestamp: 9000 + i, step: i };
            if (i % 2 === 0) body.model_id = models[(i / 2) % 2].id;
            return c.post(i % 3 === 0 ? '/runs/log-batch' : '/runs/log-metric',
                i % 3 === 0 ? { run_id: body.run_id, metrics: [body] } : body);
        }));
        results.forEach((r, i) => assertOk(r, `request ${i}`));
        const runSide = count(`SELECT count(*) FROM metrics m JOIN runs r ON r.id = m.run_id
            JOIN metric_keys k ON k.id = m.key_id WHERE k.name = 'conc' AND r.run_uuid = ANY(ARRAY[${runs.map(sqlText).join(',')}]::uuid[])`);
        assert.equal(runSide, N);
        const a = modelMetrics(models[0].id), b = modelMetrics(models[1].id);
        assert.equal(a.length + b.length, N / 2);
        for (const row of [...a, ...b]) {
            assert.equal(row.step % 2, 0);
            assert.equal(row.run_id, runs[row.step % 4]);
            assert.equal(row.value, row.step);
        }
        // a failing item in a group does not take linked neighbours with it
        const bad = await Promise.all([
            c.post('/runs/log-metric', { run_id: 'f'.repeat(32), key: 'x', value: 1, timestamp: 1, model_id: models[0].id }),
            c.post('/runs/log-metric', { run_id: runs[0], key: 'neighbour', value: 1, timestamp: 1, model_id: models[0].id }),
        ]);
        assertError(bad[0], 404, 'RESOURCE_DOES_NOT_EXIST');
        assertOk(bad[1]);
        assert.equal(count(`SELECT count(*) FROM logged_model_metrics WHERE key = 'neighbour'`), 1);
        assert.equal(count(`SELECT count(*) FROM logged_model_metrics WHERE key = 'x'`), 0);
    });

    test('a deleted run takes no linked point (400), and nothing reaches the model', async () => {
        const m = insertLoggedModel(exp);
        const r4 = (await c.createRun(exp)).info.run_id;
        assertOk(await c.post('/runs/delete', { run_id: r4 }));
        assertError(await c.post('/runs/log-metric', { run_id: r4, key: 'a', value: 1, timestamp: 1, model_id: m.id }), 400, BAD, 'active');
        assertError(await c.post('/runs/log-batch', { run_id: r4, metrics: [{ key: 'a', value: 1, timestamp: 1, model_id: m.id }] }), 400, BAD);
        assert.equal(modelMetrics(m.id).length, 0);
    });

    test('hostile input in the new fields: 400 naming the field, nothing written', async () => {
        const m = insertLoggedModel(exp);
        const r5 = (await c.createRun(exp)).info.run_id;
        const base = { key: 'h', value: 1, timestamp: 1, step: 0 };
        const cases = [
            [{ model_id: 'm-ABCDEF0123456789abcdef0123456789' }, 'model_id'],
            [{ model_id: `m-${'a'.repeat(31)}` }, 'model_id'],
            [{ model_id: `m-${'a'.repeat(33)}` }, 'model_id'],
            [{ model_id: 'x'.repeat(34) }, 'model_id'],
            [{ model_id: 'm-' + 'g'.repeat(32) }, 'model_id'],
            [{ model_id: `${m.id} ` }, 'model_id'],
            [{ model_id: 5 }, 'model_id'],
            [{ model_id: { id: m.id } }, 'model_id'],
            [{ model_id: [m.id] }, 'model_id'],
            [{ model_id: m.id, dataset_name: 'n'.repeat(501) }, 'dataset_name'],
            [{ model_id: m.id, dataset_digest: 'd'.repeat(37) }, 'dataset_digest'],
            [{ model_id: m.id, dataset_name: 7 }, 'dataset_name'],
            [{ model_id: m.id, dataset_digest: true }, 'dataset_digest'],
            [{ model_id: m.id, run_id: 12 }, 'run_id'],
        ];
        for (const [extra, field] of cases) {
            const what = JSON.stringify(extra).slice(0, 80);
            assertError(await c.post('/runs/log-metric', { run_id: r5, ...base, ...extra }), 400, BAD, field, `log-metric ${what}`);
            assertError(await c.post('/runs/log-batch', { run_id: r5, metrics: [base, { ...base, step: 1, ...extra }] }), 400, BAD,
                `metrics[1].${field}`, `log-batch ${what}`);
        }
        // limits are inclusive
        assertOk(await c.post('/runs/log-metric', { run_id: r5, ...base, model_id: m.id, dataset_name: 'n'.repeat(500), dataset_digest: 'd'.repeat(36) }));
        // NUL and a lone surrogate never reach the database
        for (const raw of [`"m-\\u0000${'a'.repeat(31)}"`, '"\\ud800"']) {
            const r = await c.post('/runs/log-metric', undefined,
                { raw: `{"run_id":"${r5}","key":"h","value":1,"timestamp":1,"model_id":${raw}}`, headers: { 'content-type': 'application/json' } });
            assert.equal(r.status, 400, `raw ${raw}: ${r.text}`);
            const r2 = await c.post('/runs/log-metric', undefined,
                { raw: `{"run_id":"${r5}","key":"h","value":1,"timestamp":1,"model_id":"${m.id}","dataset_name":${raw}}`, headers: { 'content-type': 'application/json' } });
            assert.equal(r2.status, 400, `raw dataset_name ${raw}: ${r2.text}`);
        }
        assert.equal(count(`SELECT count(*) FROM logged_model_metrics WHERE run_id = '${r5}'`), 1, 'only the valid point');
        assert.equal(count(`SELECT count(*) FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.run_uuid = '${r5}'`), 1);
    });
});

for (const prefix of PREFIXES) {
    describe(`runs/outputs and model inputs under ${prefix}`, () => {
        let c, exp;
        before(async () => {
            c = client(stack.base, prefix);
            exp = await c.createExperiment(uniqueName('outputs'));
        });

        test('outputs: appended in order, duplicates kept, shown by runs/get and runs/search', async () => {
            const run = (await c.createRun(exp)).info.run_id;
            const a = newModelId(), b = newModelId(); // not checked for existence (2.3)
            assert.deepEqual(assertOk(await c.post('/runs/outputs', { run_id: run, models: [{ model_id: a, step: 0 }, { model_id: b, step: 7 }] })), {});
            assertOk(await c.post('/runs/outputs', { run_id: run, models: [{ model_id: a, step: 0 }] }));
            assertOk(await c.post('/runs/outputs', { run_id: run, models: [{ model_id: b }] })); // step defaults to 0
            const want = [{ model_id: a, step: 0 }, { model_id: b, step: 7 }, { model_id: a, step: 0 }, { model_id: b, step: 0 }];
            const got = await c.getRun(run);
            assert.deepEqual(got.outputs, { model_outputs: want });
            const other = (await c.createRun(exp)).info.run_id;
            const s = assertOk(await c.post('/runs/search', { experiment_ids: [exp], max_results: 10 }));
            const byId = Object.fromEntries(s.runs.map((r) => [r.info.run_id, r]));
            assert.deepEqual(byId[run].outputs, { model_outputs: want });
            assert.ok(!('outputs' in byId[other]), 'no outputs: field omitted');
            assert.deepEqual(byId[other].inputs, {});
            assert.ok(!('outputs' in (await c.getRun(other))));
        });

        test('outputs: errors', async () => {
            const run = (await c.createRun(exp)).info.run_id;
            const id = newModelId();
            assertError(await c.post('/runs/outputs', { models: [{ model_id: id, step: 0 }] }), 400, BAD, 'run_id');
            assertError(await c.post('/runs/outputs', { run_id: 'f'.repeat(32), models: [{ model_id: id, step: 0 }] }), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await c.post('/runs/outputs', { run_id: 'not-a-run', models: [{ model_id: id, step: 0 }] }), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await c.post('/runs/outputs', { run_id: 'bad id!', models: [{ model_id: id }] }), 400, BAD, 'run_id');
            assertError(await c.post('/runs/outputs', { run_id: run }), 400, BAD, 'models');
            assertError(await c.post('/runs/outputs', { run_id: run, models: [] }), 400, BAD, 'models');
            assertError(await c.post('/runs/outputs', { run_id: run, models: { model_id: id } }), 400, BAD, 'models');
            assertError(await c.post('/runs/outputs', { run_id: run, models: [id] }), 400, BAD, 'models[0]');
            assertError(await c.post('/runs/outputs', { run_id: run, models: [{ step: 1 }] }), 400, BAD, 'models[0].model_id');
            assertError(await c.post('/runs/outputs', { run_id: run, models: [{ model_id: id }, { model_id: 'm-1' }] }), 400, BAD, 'models[1].model_id');
            assertError(await c.post('/runs/outputs', { run_id: run, models: [{ model_id: 3 }] }), 400, BAD, 'models[0].model_id');
            assertError(await c.post('/runs/outputs', { run_id: run, models: [{ model_id: id, step: 'x' }] }), 400, BAD, 'models[0].step');
            assertError(await c.post('/runs/outputs', { run_id: run, models: [{ model_id: id, step: 1.5 }] }), 400, BAD, 'models[0].step');
            assertError(await c.post('/runs/outputs', { run_id: run, models: [{ model_id: id, step: '9223372036854775808' }] }), 400, BAD, 'models[0].step');
            // a bare integer past int64 fails the body's parse: still a 400, never a 500
            const overflow = await c.post('/runs/outputs', undefined, {
                raw: `{"run_id":"${run}","models":[{"model_id":"${id}","step":9223372036854775808}]}`,
                headers: { 'content-type': 'application/json' },
            });
            assertError(overflow, 400, BAD);
            const tooMany = Array.from({ length: 1001 }, () => ({ model_id: id }));
            assertError(await c.post('/runs/outputs', { run_id: run, models: tooMany }), 400, BAD, 'models');
            assert.ok(!('outputs' in (await c.getRun(run))), 'nothing written by a bad request');
            // int64 extremes are fine
            assertOk(await c.post('/runs/outputs', { run_id: run, models: [{ model_id: id, step: '9223372036854775807' }, { model_id: id, step: -5 }] }));
            assert.equal(stack.pg.psql(`SELECT string_agg(o.step::text, ',' ORDER BY o.seq) FROM run_model_outputs o
                JOIN runs r ON r.id = o.run_id WHERE r.run_uuid = '${run}'`).trim(), '9223372036854775807,-5');
            assert.match((await c.get('/runs/get', { run_id: run })).text, /"step":9223372036854775807\b/);
            // a deleted run: 400
            assertOk(await c.post('/runs/delete', { run_id: run }));
            assertError(await c.post('/runs/outputs', { run_id: run, models: [{ model_id: id, step: 0 }] }), 400, BAD, 'active');
            // GET is not the method
            const g = await c.get('/runs/outputs', { run_id: run });
            assert.equal(g.status, 405);
        });

        test('log-inputs with models: inputs.model_inputs in get and search; repeats are no-ops', async () => {
            const run = (await c.createRun(exp)).info.run_id;
            const ids = [newModelId(), newModelId()].sort();
            assertOk(await c.post('/runs/log-inputs', { run_id: run, models: [{ model_id: ids[1] }, { model_id: ids[0] }, { model_id: ids[1] }] }));
            assertOk(await c.post('/runs/log-inputs', { run_id: run, models: [{ model_id: ids[0] }] }));
            const ds = { name: 'train', digest: 'abc', source_type: 'local', source: '/data' };
            assertOk(await c.post('/runs/log-inputs', { run_id: run, datasets: [{ dataset: ds }] }));
            const want = ids.map((model_id) => ({ model_id }));
            const got = await c.getRun(run);
            assert.deepEqual(got.inputs.model_inputs, want);
            assert.equal(got.inputs.dataset_inputs.length, 1);
            const s = assertOk(await c.post('/runs/search', { experiment_ids: [exp], filter: `attributes.run_id = '${run}'` }));
            assert.deepEqual(s.runs[0].inputs.model_inputs, want);
            assert.deepEqual(s.runs[0].inputs.dataset_inputs, got.inputs.dataset_inputs);
            assert.deepEqual(Object.keys(s.runs[0].inputs).sort(), ['dataset_inputs', 'model_inputs']);
            // bad model inputs: 400, nothing written (not even the valid dataset of the same request)
            const ds2 = { ...ds, name: 'other' };
            assertError(await c.post('/runs/log-inputs', { run_id: run, datasets: [{ dataset: ds2 }], models: [{ model_id: 'nope' }] }), 400, BAD, 'models[0].model_id');
            assertError(await c.post('/runs/log-inputs', { run_id: run, models: [{}] }), 400, BAD, 'models[0].model_id');
            assertError(await c.post('/runs/log-inputs', { run_id: run, models: 'x' }), 400, BAD, 'models');
            assert.equal((await c.getRun(run)).inputs.dataset_inputs.length, 1);
            assertError(await c.post('/runs/log-inputs', { run_id: 'e'.repeat(32), models: [{ model_id: ids[0] }] }), 404, 'RESOURCE_DOES_NOT_EXIST');
        });

        test('a page of many runs with outputs and inputs: each run gets its own, in order', async () => {
            const e2 = await c.createExperiment(uniqueName('page'));
            const expect = new Map();
            for (let i = 0; i < 12; i++) {
                const run = (await c.createRun(e2)).info.run_id;
                if (i % 3 === 0) { expect.set(run, null); continue; }
                const outs = Array.from({ length: (i % 4) + 1 }, (_, k) => ({ model_id: newModelId(), step: k * 10 + i }));
                assertOk(await c.post('/runs/outputs', { run_id: run, models: outs }));
                const ins = i % 2 ? [{ model_id: newModelId() }] : [];
                if (ins.length) assertOk(await c.post('/runs/log-inputs', { run_id: run, models: ins }));
                expect.set(run, { outs, ins });
            }
            const s = assertOk(await c.post('/runs/search', { experiment_ids: [e2], max_results: 5 }));
            let runs = s.runs, token = s.next_page_token;
            while (token) {
                const p = assertOk(await c.post('/runs/search', { experiment_ids: [e2], max_results: 5, page_token: token }));
                runs = runs.concat(p.runs);
                token = p.next_page_token;
            }
            assert.equal(runs.length, 12);
            for (const r of runs) {
                const e = expect.get(r.info.run_id);
                if (e === null) {
                    assert.ok(!('outputs' in r));
                    assert.ok(!('model_inputs' in r.inputs));
                    continue;
                }
                assert.deepEqual(r.outputs.model_outputs, e.outs);
                if (e.ins.length) assert.deepEqual(r.inputs.model_inputs, e.ins);
                else assert.ok(!('model_inputs' in r.inputs));
            }
        });
    });
}

describe('model-versions/create from logged models', () => {
    let c, exp, run;
    const createModel = async () => {
        const name = uniqueName('reg');
        assertOk(await c.post('/registered-models/create', { name }));
        return name;
    };
    const createVersion = (body) => c.post('/model-versions/create', body);
    const downloadUri = async (name, version) =>
        assertOk(await c.get('/model-versions/get-download-uri', { name, version })).artifact_uri;

    before(async () => {
        c = client(stack.base);
        exp = await c.createExperiment(uniqueName('registry-links'));
        run = (await c.createRun(exp)).info.run_id;
    });

    test('source models:/<model_id>: storage location is the model\'s, run_id defaults to its source run, source echoed', async () => {
        const m = insertLoggedModel(exp, { sourceRunId: run });
        const name = await createModel();
        const v = assertOk(await createVersion({ name, source: `models:/${m.id}`, model_id: m.id })).model_version;
        assert.equal(v.version, '1');
        assert.equal(v.source, `models:/${m.id}`);
        assert.equal(v.run_id, run);
        assert.equal(v.status, 'READY');
        assert.equal(await downloadUri(name, '1'), m.location);
        assert.equal(assertOk(await c.get('/model-versions/get', { name, version: '1' })).model_version.run_id, run);
        // an explicit run_id wins
        const v2 = assertOk(await createVersion({ name, source: `models:/${m.id}`, run_id: 'abc' })).model_version;
        assert.equal(v2.run_id, 'abc');
        assert.equal(await downloadUri(name, v2.version), m.location);
        // a model with no source run: run_id stays empty
        const bare = insertLoggedModel(exp);
        const v3 = assertOk(await createVersion({ name, source: `models:/${bare.id}` })).model_version;
        assert.equal(v3.run_id, '');
        assert.equal(await downloadUri(name, v3.version), bare.location);
    });

    test('model_id without run_id (3.10): run_id from the model; the location stays the source', async () => {
        const m = insertLoggedModel(exp, { sourceRunId: run });
        const name = await createModel();
        const v = assertOk(await createVersion({ name, source: 's3://bucket/model', model_id: m.id })).model_version;
        assert.equal(v.run_id, run);
        assert.equal(await downloadUri(name, v.version), 's3://bucket/model');
        assert.deepEqual(JSON.parse(modelTag(m.id, 'mlflow.modelVersions')), [{ name, version: v.version }]);
    });

    test('unknown or deleted logged model -> 404; bad forms -> 400; nothing created', async () => {
        const name = await createModel();
        const gone = insertLoggedModel(exp, { sourceRunId: run, deleted: true });
        const unknown = newModelId();
        for (const body of [
            { name, source: `models:/${unknown}` },
            { name, source: `models:/${gone.id}` },
            { name, source: 's3://b/m', model_id: unknown },
            { name, source: 's3://b/m', model_id: gone.id },
            { name, source: 'models:/iris' }, // one segment: a logged model id (quirk 16), none of that shape exists
        ]) {
            assertError(await createVersion(body), 404, 'RESOURCE_DOES_NOT_EXIST', 'Logged model', JSON.stringify(body));
        }
        for (const source of ['models:/iris@champion', 'models:/iris/Production', 'models:/iris/latest', 'models:/a/1/extra', 'models:/']) {
            assertError(await createVersion({ name, source }), 400, BAD, 'models:/', source);
        }
        for (const model_id of ['m-1', 'M-' + 'a'.repeat(32), 7, ['x']]) {
            assertError(await createVersion({ name, source: 's3://b/m', model_id }), 400, BAD, 'model_id', JSON.stringify(model_id));
        }
        assertError(await c.get('/model-versions/get', { name, version: '1' }), 404, 'RESOURCE_DOES_NOT_EXIST');
        assert.equal(modelTag(gone.id, 'mlflow.modelVersions'), '');
        // registered model missing: 404 for the model, and the logged model's tag untouched
        const m = insertLoggedModel(exp);
        assertError(await createVersion({ name: uniqueName('absent'), source: `models:/${m.id}`, model_id: m.id }), 404, 'RESOURCE_DOES_NOT_EXIST', 'Registered Model');
        assert.equal(modelTag(m.id, 'mlflow.modelVersions'), '');
        // models:/<name>/<version> still resolves to that version's location
        const src = insertLoggedModel(exp);
        const v = assertOk(await createVersion({ name, source: `models:/${src.id}` })).model_version;
        const copy = await createModel();
        const cv = assertOk(await createVersion({ name: copy, source: `models:/${name}/${v.version}` })).model_version;
        assert.equal(await downloadUri(copy, cv.version), src.location);
    });

    test('mlflow.modelVersions: versions as strings, one entry per (name, version), also over a client-written duplicate', async () => {
        const m = insertLoggedModel(exp, { sourceRunId: run });
        const iris = await createModel();
        const other = await createModel();
        const tag = () => JSON.parse(modelTag(m.id, 'mlflow.modelVersions'));
        assertOk(await createVersion({ name: iris, source: `models:/${m.id}`, model_id: m.id }));
        assert.equal(modelTag(m.id, 'mlflow.modelVersions'), `[{"name": "${iris}", "version": "1"}]`, 'the text MLflow writes');
        assertOk(await createVersion({ name: iris, source: `models:/${m.id}`, model_id: m.id }));
        assertOk(await createVersion({ name: other, source: `models:/${m.id}` })); // id from the source
        assert.deepEqual(tag(), [{ name: iris, version: '1' }, { name: iris, version: '2' }, { name: other, version: '1' }]);
        // what MLflow's client PATCHes afterwards: the list plus a duplicate with a number
        const dup = JSON.stringify([...tag(), { name: iris, version: 2 }, { name: other, version: '1' }, 'junk']);
        stack.pg.psql(`UPDATE logged_model_tags SET value = ${sqlText(dup)} WHERE model_id = '${m.id}' AND key = 'mlflow.modelVersions'`);
        assertOk(await createVersion({ name: other, source: `models:/${m.id}`, model_id: m.id }));
        // entries that are not {name, version} stay, as on the PATCH path
        assert.deepEqual(tag(), [{ name: iris, version: '1' }, { name: iris, version: '2' }, { name: other, version: '1' }, 'junk', { name: other, version: '2' }]);
        // a value that is not a JSON list starts over
        stack.pg.psql(`UPDATE logged_model_tags SET value = 'not json' WHERE model_id = '${m.id}' AND key = 'mlflow.modelVersions'`);
        assertOk(await createVersion({ name: iris, source: `models:/${m.id}` }));
        assert.deepEqual(tag(), [{ name: iris, version: '3' }]);
        // other tags of the model are left alone; prompts do not link
        const p = insertLoggedModel(exp, { tags: { 'mlflow.user': 'alice' } });
        const prompt = uniqueName('prompt');
        assertOk(await c.post('/registered-models/create', { name: prompt, tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] }));
        assertOk(await createVersion({ name: prompt, source: 'dummy-source', model_id: p.id, tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] }));
        assert.equal(modelTag(p.id, 'mlflow.modelVersions'), '');
        assert.equal(modelTag(p.id, 'mlflow.user'), 'alice');
    });

    test('concurrent registrations of one logged model: every version in the tag', async () => {
        const m = insertLoggedModel(exp, { sourceRunId: run });
        const names = [];
        for (let i = 0; i < 4; i++) names.push(await createModel());
        const rs = await Promise.all(Array.from({ length: 16 }, (_, i) =>
            createVersion({ name: names[i % 4], source: `models:/${m.id}`, model_id: m.id })));
        rs.forEach((r) => assertOk(r));
        const tag = JSON.parse(modelTag(m.id, 'mlflow.modelVersions'));
        assert.equal(tag.length, 16);
        for (const n of names) {
            assert.deepEqual(tag.filter((e) => e.name === n).map((e) => e.version).sort(), ['1', '2', '3', '4']);
        }
    });
});

describe('run artifacts of a 3.x model (quirk 26)', () => {
    test('runs:/<run>/model: the listing is {} and the file GET is 404 RESOURCE_DOES_NOT_EXIST', async () => {
        const c = client(stack.base);
        const exp = await c.createExperiment(uniqueName('fallback'));
        const run = (await c.createRun(exp)).info.run_id;
        for (const mount of ['/api/2.0', '/ajax-api/2.0']) {
            const list = await fetch(`${stack.base}${mount}/mlflow-artifacts/artifacts?path=${encodeURIComponent(`${exp}/${run}/artifacts/model`)}`);
            assert.equal(list.status, 200);
            assert.deepEqual(await list.json(), {});
            const get = await fetch(`${stack.base}${mount}/mlflow-artifacts/artifacts/${exp}/${run}/artifacts/model`);
            const body = await get.json();
            assert.equal(get.status, 404, JSON.stringify(body));
            assert.equal(body.error_code, 'RESOURCE_DOES_NOT_EXIST');
        }
    });
});

// Last: it kills the shared server.
test('kill -9 under linked log-batch load, restart: every acknowledged point is in both tables', { timeout: 120000 }, async () => {
    const c = client(stack.base);
    const exp = await c.createExperiment(uniqueName('durable-links'));
    const run = (await c.createRun(exp)).info.run_id;
    const m = insertLoggedModel(exp, { sourceRunId: run });
    const WRITERS = 4;
    const acked = [];
    let ackedBatches = 0;
    let failures = 0;
    const writer = async (w) => {
        for (let b = 0; ; b++) {
            // small batches (group commit) and large ones (one transaction), in turns
            const size = b % 2 ? 20 : 150;
            const steps = Array.from({ length: size }, (_, i) => w * 10000000 + b * 1000 + i);
            const body = { run_id: run, metrics: steps.map((s) => ({ key: 'dur', value: s, timestamp: 1, step: s, model_id: m.id })) };
            let r;
            try {
                r = await c.post('/runs/log-batch', body, { timeoutMs: 10000 });
            } catch {
                failures += 1;
                return;
            }
            if (r.status !== 200) {
                failures += 1;
                return;
            }
            acked.push(...steps);
            ackedBatches += 1;
        }
    };
    const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
    await waitUntil(() => ackedBatches >= 40 || stack.srv.exited(), 60000, '40 acknowledged batches', 20);
    assert.ok(!stack.srv.exited(), `exptrackd died on its own:\n${stack.srv.log()}`);
    await stack.srv.kill9();
    await Promise.all(writers);
    assert.equal(failures, WRITERS);

    srv2 = await startServer({ databaseUrl: stack.pg.url });
    const runSteps = new Set(stack.pg.psql(`SELECT m.step FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.run_uuid = '${run}'`)
        .trim().split('\n').map(Number));
    const modelSteps = stack.pg.psql(`SELECT step FROM logged_model_metrics WHERE model_id = '${m.id}'`).trim().split('\n').map(Number);
    assert.equal(new Set(modelSteps).size, modelSteps.length, 'no model point twice');
    const modelSet = new Set(modelSteps);
    const lostRun = acked.filter((s) => !runSteps.has(s));
    const lostModel = acked.filter((s) => !modelSet.has(s));
    assert.equal(lostRun.length, 0, `${lostRun.length} acknowledged points lost on the run side`);
    assert.equal(lostModel.length, 0, `${lostModel.length} acknowledged points lost on the model side`);
    // and the two sides agree: a batch lands in both or neither
    assert.deepEqual([...modelSet].sort((a, b) => a - b), [...runSteps].sort((a, b) => a - b));
    assertOk(await client(srv2.url).post('/runs/log-metric', { run_id: run, key: 'after', value: 1, timestamp: 1, model_id: m.id }));
});
