// The UI's model-versions/get-artifact (mlflow-models-api.md 1.1, 6.1): one
// file of a model version, read from its storage location through the
// artifact proxy when that location is an mlflow-artifacts: URI. Served at
// /model-versions/get-artifact (MLflow's static-prefix path) and under
// /ajax-api/2.0/mlflow. Paths may not leave the version's location.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, client, api, assertOk, assertError, uniqueName } from './harness.mjs';

const stack = useStack({ before, after });
const c = {
    get: (...a) => client(stack.base).get(...a),
    post: (...a) => client(stack.base).post(...a),
};
const MOUNTS = ['/model-versions/get-artifact', '/ajax-api/2.0/mlflow/model-versions/get-artifact'];

async function put(rel, body) {
    const r = await fetch(`${stack.base}/api/2.0/mlflow-artifacts/artifacts/${rel}`, { method: 'PUT', body });
    assert.equal(r.status, 200, await r.text());
}

// A run with files under artifacts/model and a version registered from there.
async function setup() {
    const c0 = client(stack.base);
    const exp = await c0.createExperiment(uniqueName('mvart'));
    const run = await c0.createRun(exp);
    const root = run.info.artifact_uri;
    assert.match(root, /^mlflow-artifacts:\/\d+\/[0-9a-f]{32}\/artifacts$/);
    const rel = root.slice('mlflow-artifacts:/'.length);
    const binary = Buffer.from(Array.from({ length: 70000 }, (_, i) => (i * 31) % 256));
    await put(`${rel}/model/MLmodel`, 'flavors:\n  python_function: {}\n');
    await put(`${rel}/model/data/weights.bin`, binary);
    await put(`${rel}/secret.txt`, 'outside the model');
    const name = uniqueName('mvart');
    assertOk(await c.post('/registered-models/create', { name }));
    const mv = assertOk(await c.post('/model-versions/create', { name, source: `${root}/model`, run_id: run.info.run_id })).model_version;
    return { name, version: mv.version, rel, binary, runId: run.info.run_id };
}

const get = (mount, query, opts) => api(stack.base, 'GET', mount, query, opts);

test('streams a file of the version from its mlflow-artifacts: location, on both mounts', async () => {
    const { name, version, binary } = await setup();
    for (const mount of MOUNTS) {
        const r = await get(mount, { name, version, path: 'MLmodel' });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.text, 'flavors:\n  python_function: {}\n');
        const raw = await fetch(`${stack.base}${mount}?name=${encodeURIComponent(name)}&version=${version}&path=data/weights.bin`);
        assert.equal(raw.status, 200);
        assert.deepEqual(Buffer.from(await raw.arrayBuffer()), binary);
        assert.match(raw.headers.get('content-disposition') || '', /weights\.bin/);
        // the proxy's Range support comes along
        const part = await fetch(`${stack.base}${mount}?name=${encodeURIComponent(name)}&version=${version}&path=data/weights.bin`, { headers: { range: 'bytes=10-19' } });
        assert.equal(part.status, 206);
        assert.deepEqual(Buffer.from(await part.arrayBuffer()), binary.subarray(10, 20));
    }
});

test('an mlflow-artifacts:// location with an authority maps the same way', async () => {
    const { name, rel } = await setup();
    const mv = assertOk(await c.post('/model-versions/create', { name, source: `mlflow-artifacts://example.com:5000/${rel}/model/` })).model_version;
    const r = await get(MOUNTS[0], { name, version: mv.version, path: 'MLmodel' });
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /python_function/);
});

test('path traversal and unsafe paths are refused with 400 before anything is read', async () => {
    const { name, version, runId } = await setup();
    const evil = [
        '../secret.txt', 'data/../../secret.txt', '/etc/passwd', '..', '.', 'data/./weights.bin',
        '%2e%2e/secret.txt', '..%2fsecret.txt', 'data\\..\\..\\secret.txt', 'C:/windows', 'a//b',
        `../../../${runId}/artifacts/secret.txt`, 'data/\u2024\u2024/x', 'ok\u0001',
    ];
    for (const mount of MOUNTS) {
        for (const path of evil) {
            assertError(await get(mount, { name, version, path }), 400, 'INVALID_PARAMETER_VALUE', [], `${mount} ${JSON.stringify(path)}`);
        }
    }
});

test('errors: missing fields, bad version, unknown model or version, missing file, a location not served here', async () => {
    const { name, version } = await setup();
    const m = MOUNTS[1];
    assertError(await get(m, { version, path: 'MLmodel' }), 400, 'INVALID_PARAMETER_VALUE', "'name'");
    assertError(await get(m, { name, path: 'MLmodel' }), 400, 'INVALID_PARAMETER_VALUE', "'version'");
    assertError(await get(m, { name, version }), 400, 'INVALID_PARAMETER_VALUE', "'path'");
    assertError(await get(m, { name, version, path: '' }), 400, 'INVALID_PARAMETER_VALUE', "'path'");
    assertError(await get(m, { name, version: 'one', path: 'MLmodel' }), 400, 'INVALID_PARAMETER_VALUE', "Parameter 'version' must be an integer, got 'one'.");
    assertError(await get(m, { name, version: '99999999999999999999', path: 'MLmodel' }), 400, 'INVALID_PARAMETER_VALUE');
    assertError(await get(m, { name, version: '42', path: 'MLmodel' }), 404, 'RESOURCE_DOES_NOT_EXIST', `Model Version (name=${name}, version=42) not found`);
    assertError(await get(m, { name: uniqueName('none'), version: '1', path: 'MLmodel' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    assertError(await get(m, { name, version, path: 'no/such/file' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    assertError(await get(m, { name, version, path: 'data' }), 404, 'RESOURCE_DOES_NOT_EXIST', [], 'a directory is not a file');

    const s3 = assertOk(await c.post('/model-versions/create', { name, source: 's3://bucket/model' })).model_version;
    assertError(await get(m, { name, version: s3.version, path: 'MLmodel' }), 400, 'INVALID_PARAMETER_VALUE', ["s3://bucket/model", 'does not serve']);

    // a deleted version is gone for get-artifact too
    const del = await api(stack.base, 'DELETE', '/api/2.0/mlflow/model-versions/delete', { name, version });
    assertOk(del);
    assertError(await get(m, { name, version, path: 'MLmodel' }), 404, 'RESOURCE_DOES_NOT_EXIST');
});
