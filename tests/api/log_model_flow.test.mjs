// The whole MLflow 3 model lifecycle as the Python client drives it
// (mlflow-models-api.md sections 2.7 and 1.6), replayed call by call over
// HTTP: log_model inside a run (logged model, run output, step-0 metrics,
// artifact upload, finalize), registration with the server-side link tag,
// an alias, and then every way a client turns a models:/ or runs:/ URI into
// the files it downloads. Each step checks what the next one relies on.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, client, api, assertOk, assertError, uniqueName } from './harness.mjs';

const stack = useStack({ before, after });

const FILES = {
    MLmodel: 'artifact_path: placeholder\nflavors:\n  sklearn: {}\n',
    'conda.yaml': 'name: env\n',
    'model.pkl': Buffer.from([0x80, 0x04, 0x95, 0x00, 0xff, 0x10, 0x2e]),
    'python_env.yaml': 'python: 3.11\n',
    'requirements.txt': 'scikit-learn\n',
};

const proxy = (base, method, path, raw) =>
    api(base, method, `/api/2.0/mlflow-artifacts/artifacts/${path}`, undefined,
        raw === undefined ? {} : { raw, headers: { 'content-type': 'application/octet-stream' } });

// The client's recursive download: list, then GET each file (section 16 of mlflow-api.md).
async function download(base, dir) {
    const out = {};
    const listing = assertOk(await api(base, 'GET', '/api/2.0/mlflow-artifacts/artifacts', { path: dir }));
    for (const f of listing.files || []) {
        const child = `${dir}/${f.path}`;
        if (f.is_dir) Object.assign(out, Object.fromEntries(Object.entries(await download(base, child)).map(([k, v]) => [`${f.path}/${k}`, v])));
        else {
            const r = await fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/${child}`);
            assert.equal(r.status, 200, `GET ${child}`);
            out[f.path] = Buffer.from(await r.arrayBuffer());
        }
    }
    return out;
}

const proxyPath = (uri) => {
    assert.match(uri, /^mlflow-artifacts:\//, 'a proxied location');
    return uri.replace(/^mlflow-artifacts:\/+/, '');
};

describe('the MLflow 3 model lifecycle, call by call', () => {
    let c, exp, run, modelId, model, registered;

    before(async () => {
        c = client(stack.base);
        exp = await c.createExperiment(uniqueName('lifecycle'));
        run = await c.createRun(exp);
        await c.ok('POST', '/runs/log-batch', {
            run_id: run.info.run_id,
            params: [{ key: 'C', value: '1.0' }, { key: 'solver', value: 'lbfgs' }],
            metrics: [{ key: 'accuracy', value: 0.97, timestamp: 1748000001000, step: 0 },
                { key: 'accuracy', value: 0.98, timestamp: 1748000002000, step: 1 }],
        });
    });

    test('log_model: create, outputs, step-0 metrics, upload, finalize', async () => {
        const runId = run.info.run_id;
        const got = await c.getRun(runId);
        const created = await c.ok('POST', '/logged-models', {
            experiment_id: exp, name: 'model', source_run_id: runId,
            params: got.data.params, tags: [{ key: 'mlflow.user', value: 'alice' }, { key: 'mlflow.source.type', value: 'LOCAL' }],
        });
        model = created.model;
        modelId = model.info.model_id;
        assert.match(modelId, /^m-[0-9a-f]{32}$/);
        assert.equal(model.info.status, 'LOGGED_MODEL_PENDING');
        assert.equal(model.info.artifact_uri, `mlflow-artifacts:/${exp}/models/${modelId}/artifacts`);

        await c.ok('POST', '/runs/outputs', { run_id: runId, models: [{ model_id: modelId, step: 0 }] });
        assert.deepEqual((await c.getRun(runId)).outputs.model_outputs, [{ model_id: modelId, step: 0 }]);

        const history = await c.ok('GET', '/metrics/get-history', { run_id: runId, run_uuid: runId, metric_key: 'accuracy', max_results: 25000 });
        const step0 = history.metrics.filter((m) => m.step === 0);
        assert.equal(step0.length, 1);
        await c.ok('POST', '/runs/log-batch', { run_id: runId, metrics: step0.map((m) => ({ ...m, model_id: modelId })) });
        const again = await c.ok('GET', '/metrics/get-history', { run_id: runId, metric_key: 'accuracy' });
        assert.equal(again.metrics.length, 2, 'the re-sent run point is a duplicate and ignored');

        assertOk(await c.get(`/logged-models/${modelId}`));
        const root = proxyPath(model.info.artifact_uri);
        for (const [name, body] of Object.entries(FILES)) {
            assertOk(await proxy(stack.base, 'PUT', `${root}/${name}`, body), `PUT ${name}`);
        }
        const done = await c.ok('PATCH', `/logged-models/${modelId}`, { model_id: modelId, status: 'LOGGED_MODEL_READY' });
        assert.equal(done.model.info.status, 'LOGGED_MODEL_READY');
        const data = (await c.ok('GET', `/logged-models/${modelId}`)).model.data;
        assert.deepEqual(data.params, [{ key: 'C', value: '1.0' }, { key: 'solver', value: 'lbfgs' }]);
        assert.equal(data.metrics.length, 1);
        assert.equal(data.metrics[0].model_id, modelId);
        assert.equal(data.metrics[0].run_id, runId);
        assert.equal(data.metrics[0].value, 0.97);
    });

    test('registration: create-version from models:/<id>, link tag written by the server', async () => {
        registered = uniqueName('iris');
        await c.ok('POST', '/registered-models/create', { name: registered });
        assertError(await c.post('/registered-models/create', { name: registered }), 400, 'RESOURCE_ALREADY_EXISTS');
        const v = (await c.ok('POST', '/model-versions/create', { name: registered, source: `models:/${modelId}`, model_id: modelId })).model_version;
        assert.equal(v.version, '1');
        assert.equal(v.source, `models:/${modelId}`);
        assert.equal(v.run_id, run.info.run_id, 'run_id comes from the logged model');
        assert.equal(v.status, 'READY');
        const tags = (await c.ok('GET', `/logged-models/${modelId}`)).model.info.tags;
        const link = tags.find((t) => t.key === 'mlflow.modelVersions');
        assert.ok(link, 'mlflow.modelVersions set by the server');
        assert.deepEqual(JSON.parse(link.value), [{ name: registered, version: '1' }]);

        // the Python client then appends its own entry; it must not be doubled
        const appended = JSON.stringify([...JSON.parse(link.value), { name: registered, version: '1' }]);
        assertOk(await c.req('PATCH', `/logged-models/${modelId}/tags`, { tags: [{ key: 'mlflow.modelVersions', value: appended }] }));
        const after = (await c.ok('GET', `/logged-models/${modelId}`)).model.info.tags.find((t) => t.key === 'mlflow.modelVersions');
        assert.deepEqual(JSON.parse(after.value), [{ name: registered, version: '1' }]);
    });

    test('models:/ URIs resolve to the uploaded files', async () => {
        await c.ok('POST', '/registered-models/alias', { name: registered, alias: 'champion', version: '1' });
        await c.ok('POST', '/model-versions/transition-stage', { name: registered, version: '1', stage: 'Production', archive_existing_versions: false });

        const expected = Object.fromEntries(Object.entries(FILES).map(([k, v]) => [k, Buffer.from(v)]));
        const check = async (uri, what) => assert.deepEqual(await download(stack.base, proxyPath(uri)), expected, what);

        // models:/<model_id>
        await check((await c.ok('GET', `/logged-models/${modelId}`)).model.info.artifact_uri, 'models:/m-…');
        // models:/name/1
        await c.ok('GET', '/registered-models/get', { name: registered });
        const byNumber = (await c.ok('GET', '/model-versions/get-download-uri', { name: registered, version: '1' })).artifact_uri;
        assert.equal(byNumber, `mlflow-artifacts:/${exp}/models/${modelId}/artifacts`);
        await check(byNumber, 'models:/name/1');
        // the UI reads one file of the version through its storage location
        const one = await fetch(`${stack.base}/ajax-api/2.0/mlflow/model-versions/get-artifact?name=${encodeURIComponent(registered)}&version=1&path=model.pkl`);
        assert.equal(one.status, 200, 'model-versions/get-artifact of a logged model\'s version');
        assert.deepEqual(Buffer.from(await one.arrayBuffer()), Buffer.from(FILES['model.pkl']));
        // models:/name@champion
        const alias = (await c.ok('GET', '/registered-models/alias', { name: registered, alias: 'champion' })).model_version;
        assert.equal(alias.version, '1');
        // models:/name/Production
        const latest = (await c.ok('POST', '/registered-models/get-latest-versions', { name: registered, stages: ['Production'] })).model_versions;
        assert.deepEqual(latest.map((v) => v.version), ['1']);
        // models:/name/latest
        const all = (await c.ok('POST', '/registered-models/get-latest-versions', { name: registered })).model_versions;
        assert.equal(Math.max(...all.map((v) => Number(v.version))), 1);
    });

    test('runs:/R/model of a 3.x model: the run path fails, logged-models/search finds it', async () => {
        const runId = run.info.run_id;
        const listing = assertOk(await api(stack.base, 'GET', '/api/2.0/mlflow-artifacts/artifacts', { path: `${exp}/${runId}/artifacts/model` }));
        assert.ok(!listing.files || listing.files.length === 0, 'nothing in the run artifact dir');
        assertError(await proxy(stack.base, 'GET', `${exp}/${runId}/artifacts/model`), 404, 'RESOURCE_DOES_NOT_EXIST');
        const found = await c.ok('POST', '/logged-models/search', { experiment_ids: [exp], filter: "name = 'model'" });
        const mine = found.models.filter((m) => m.info.source_run_id === runId);
        assert.equal(mine.length, 1);
        assert.equal(mine[0].info.model_id, modelId);

        // register_model("runs:/R/model") then goes to create-version with run_id and the models:/ source
        const v2 = (await c.ok('POST', '/model-versions/create', { name: registered, source: `models:/${modelId}`, run_id: runId, model_id: modelId })).model_version;
        assert.equal(v2.version, '2');
        const link = (await c.ok('GET', `/logged-models/${modelId}`)).model.info.tags.find((t) => t.key === 'mlflow.modelVersions');
        assert.deepEqual(JSON.parse(link.value), [{ name: registered, version: '1' }, { name: registered, version: '2' }]);
    });
});
