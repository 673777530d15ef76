// Transport rules of the contract: /health, /version, routing (404/405 JSON),
// Content-Type rules, body parsing (empty = {}, broken = 400), GET query parsing (repeated params,
// GET with a JSON body), int64/enum encodings, the error body shape.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, client, api, startServer, PREFIXES, assertOk, assertError, uniqueName } from './harness.mjs';

const stack = useStack({ before, after });
let small; // a second exptrackd on the same database with a small body limit
after(async () => { if (small) await small.stop(); });

describe('health and version', () => {
    test('GET /health -> 200 OK', async () => {
        const r = await api(stack.base, 'GET', '/health');
        assert.equal(r.status, 200);
        assert.equal(r.text.trim(), 'OK');
    });
    test('GET /version -> 200 bare version string', async () => {
        const r = await api(stack.base, 'GET', '/version');
        assert.equal(r.status, 200);
        assert.match(r.text.trim(), /^\d+\.\d+\.\d+\S*$/);
        assert.ok(!r.text.trim().startsWith('{'), 'not JSON');
        // MLflow 3 clients send spans to /v1/traces only from 3.4 on
        const [major, minor] = r.text.trim().split('.').map(Number);
        assert.ok(major > 3 || (major === 3 && minor >= 4), `reports >= 3.4: ${r.text}`);
    });
});

describe('routing', () => {
    test('unknown paths -> 404 JSON ENDPOINT_NOT_FOUND', async () => {
        for (const p of ['/api/2.0/mlflow/no-such-thing', '/ajax-api/2.0/mlflow/runs/nope', '/api/2.0/mlflow/experiments/create/extra',
            '/api/2.0/mlflow/experimentsset-experiment-tag', '/api/9.9/mlflow/runs/get', '/api/2.0/mlflow/experiments/list']) {
            for (const method of ['GET', 'POST']) {
                const r = await api(stack.base, method, p, method === 'POST' ? {} : undefined);
                assertError(r, 404, 'ENDPOINT_NOT_FOUND', [], `${method} ${p}`);
            }
        }
        // outside the API (the dashboard may own GET paths, but not POST)
        assertError(await api(stack.base, 'POST', '/definitely/not/here', {}), 404, 'ENDPOINT_NOT_FOUND');
    });

    test('wrong method on a known path -> 405 JSON error', async () => {
        const cases = [
            ['GET', '/experiments/create'], ['PUT', '/experiments/create'], ['DELETE', '/runs/delete'],
            ['POST', '/runs/get'], ['POST', '/metrics/get-history'], ['PATCH', '/runs/log-batch'],
            ['GET', '/runs/log-metric'], ['PUT', '/experiments/search'], ['POST', '/experiments/get-by-name'],
        ];
        for (const prefix of PREFIXES) {
            for (const [method, p] of cases) {
                const r = await api(stack.base, method, prefix + p, method === 'GET' ? undefined : {});
                assertError(r, 405, undefined, [], `${method} ${prefix}${p}`);
            }
        }
    });

    test('both prefixes reach the same handlers and the same data', async () => {
        const a = client(stack.base, PREFIXES[0]);
        const b = client(stack.base, PREFIXES[1]);
        const name = uniqueName('both');
        const id = await a.createExperiment(name);
        assert.equal((await b.getExperiment(id)).name, name);
        const run = await b.createRun(id);
        await a.ok('POST', '/runs/log-metric', { run_id: run.info.run_id, key: 'm', value: 1, timestamp: 1 });
        assert.equal(assertOk(await b.get('/metrics/get-history', { run_id: run.info.run_id, metric_key: 'm' })).metrics.length, 1);
    });
});

for (const prefix of PREFIXES) {
    describe(`request parsing under ${prefix}`, () => {
        let c;
        before(() => { c = client(stack.base, prefix); });

        test('success: HTTP 200, JSON object, application/json', async () => {
            const r = await c.get('/experiments/get', { experiment_id: '0' });
            assertOk(r);
            assert.match(r.headers.get('content-type') || '', /^application\/json/i);
            const w = await c.post('/experiments/set-experiment-tag', { experiment_id: '0', key: 'k', value: 'v' });
            assert.deepEqual(assertOk(w), {});
            assert.match(w.headers.get('content-type') || '', /^application\/json/i);
        });

        test('POST Content-Type: missing -> 400, other type -> 400, parameters ignored, case-insensitive', async () => {
            const body = JSON.stringify({ name: uniqueName('ct') });
            const missing = await c.post('/experiments/create', undefined, { raw: Buffer.from(body) });
            assertError(missing, 400, 'INVALID_PARAMETER_VALUE', 'Content-Type');
            for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx']) {
                assertError(await c.post('/experiments/create', undefined, { raw: body, headers: { 'content-type': ct } }), 400, 'INVALID_PARAMETER_VALUE', [], ct);
            }
            // nothing was created by the refused requests
            assertError(await c.get('/experiments/get-by-name', { experiment_name: JSON.parse(body).name }), 404, 'RESOURCE_DOES_NOT_EXIST');
            for (const ct of ['application/json; charset=utf-8', 'Application/JSON', 'application/json;charset=UTF-8']) {
                const r = await c.post('/experiments/create', undefined, { raw: JSON.stringify({ name: uniqueName('ct-ok') }), headers: { 'content-type': ct } });
                assertOk(r, ct);
            }
        });

        test('an empty body = {} (required-field error names the field); invalid JSON or a non-object is a 400 of its own', async () => {
            const h = { 'content-type': 'application/json' };
            assertError(await c.post('/experiments/create', undefined, { raw: '{"name": ', headers: h }), 400, 'INVALID_PARAMETER_VALUE', 'not valid JSON');
            assertError(await c.post('/experiments/create', undefined, { raw: '', headers: h }), 400, 'INVALID_PARAMETER_VALUE', 'name');
            assertError(await c.post('/experiments/create', undefined, { raw: '[1,2]', headers: h }), 400, 'INVALID_PARAMETER_VALUE', 'not a JSON object');
            assertError(await c.post('/runs/log-metric', undefined, { raw: 'not json', headers: h }), 400, 'INVALID_PARAMETER_VALUE', 'not valid JSON');
        });

        test('double-encoded JSON body (a JSON string holding JSON) is decoded again', async () => {
            const name = uniqueName('double');
            const r = await c.post('/experiments/create', undefined, { raw: JSON.stringify(JSON.stringify({ name })), headers: { 'content-type': 'application/json' } });
            const id = assertOk(r).experiment_id;
            assert.equal((await c.getExperiment(id)).name, name);
        });

        test('unknown fields ignored; null means not set; experiment_id as a JSON number', async () => {
            const name = uniqueName('extra');
            const id = assertOk(await c.post('/experiments/create', { name, whatever: [1, { a: 2 }], artifact_location: null, tags: null })).experiment_id;
            const e = await c.getExperiment(Number(id));
            assert.equal(e.name, name);
            assert.equal(e.artifact_location, `mlflow-artifacts:/${id}`);
            assert.equal(assertOk(await c.get('/experiments/get', { experiment_id: id, bogus: 'x' })).experiment.name, name);
            const run = assertOk(await c.post('/runs/create', { experiment_id: Number(id), start_time: 5, run_name: null, tags: [] })).run;
            assert.equal(run.info.experiment_id, id);
            const s = assertOk(await c.post('/runs/search', { experiment_ids: [Number(id)], max_results: 10 }));
            assert.equal(s.runs.length, 1);
        });

        test('GET with repeated params: scalars take the first occurrence', async () => {
            const name = uniqueName('rep');
            const id = await c.createExperiment(name);
            const r = assertOk(await c.get('/experiments/get', { experiment_id: [id, '0'] }));
            assert.equal(r.experiment.experiment_id, id);
            const r2 = assertOk(await c.get('/experiments/get', { experiment_id: ['0', id] }));
            assert.equal(r2.experiment.experiment_id, '0');
            const run = (await c.createRun(id)).info.run_id;
            await c.ok('POST', '/runs/log-metric', { run_id: run, key: 'a', value: 1, timestamp: 1 });
            await c.ok('POST', '/runs/log-metric', { run_id: run, key: 'b', value: 2, timestamp: 1 });
            const h = assertOk(await c.get('/metrics/get-history', { run_id: run, metric_key: ['b', 'a'] }));
            assert.deepEqual(h.metrics.map((m) => m.key), ['b']);
            const s = assertOk(await c.get('/experiments/search', { max_results: [1, 50000] }));
            assert.equal(s.experiments.length, 1);
        });

        test('GET query values are URL-decoded (UTF-8, spaces, reserved characters)', async () => {
            const name = `${uniqueName('q')} a+b&c=d/é ☃ %20`;
            const id = await c.createExperiment(name);
            assert.equal(assertOk(await c.get('/experiments/get-by-name', { experiment_name: name })).experiment.experiment_id, id);
            // the helper sent spaces as '+'; now the same with %20
            const raw = await api(stack.base, 'GET', `${prefix}/experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`);
            assert.equal(assertOk(raw).experiment.experiment_id, id, '%20 decodes to space');
        });

        test('GET without a query string parses a JSON body instead', async () => {
            const name = uniqueName('getbody');
            const id = await c.createExperiment(name);
            const r = await c.get('/experiments/get', undefined, { raw: JSON.stringify({ experiment_id: id }), headers: { 'content-type': 'application/json' } });
            assert.equal(assertOk(r).experiment.name, name);
            const r2 = await c.get('/experiments/get-by-name', undefined, { raw: JSON.stringify({ experiment_name: name }) });
            assert.equal(assertOk(r2).experiment.experiment_id, id, 'GET bodies are not content-type checked');
        });

        test('enums accept names, numbers and numeric strings; responses use names', async () => {
            const id = await c.createExperiment(uniqueName('enum'));
            const run = (await c.createRun(id)).info.run_id;
            for (const [status, name] of [['FAILED', 'FAILED'], [3, 'FINISHED'], ['2', 'SCHEDULED'], ['KILLED', 'KILLED']]) {
                const r = assertOk(await c.post('/runs/update', { run_id: run, status }));
                assert.equal(r.run_info.status, name);
            }
            assert.match((await c.get('/runs/get', { run_id: run })).text, /"status"\s*:\s*"KILLED"/);
            assertError(await c.post('/runs/update', { run_id: run, status: 6 }), 400, 'INVALID_PARAMETER_VALUE', 'status');
            assertError(await c.post('/runs/update', { run_id: run, status: true }), 400, 'INVALID_PARAMETER_VALUE', 'status');
            for (const vt of ['DELETED_ONLY', 2, '2']) {
                assertOk(await c.get('/experiments/search', { max_results: 5, view_type: vt }), `GET view_type ${vt}`);
            }
            assertError(await c.get('/experiments/search', { max_results: 5, view_type: '7' }), 400, 'INVALID_PARAMETER_VALUE', 'view_type');
        });

        test('int64 fields are JSON numbers in responses, accepted as numbers or numeric strings', async () => {
            const id = await c.createExperiment(uniqueName('i64'));
            const a = assertOk(await c.post('/runs/create', { experiment_id: id, start_time: '1700000000001' })).run.info;
            const b = assertOk(await c.post('/runs/create', { experiment_id: id, start_time: 1700000000002 })).run.info;
            assert.equal(a.start_time, 1700000000001);
            assert.equal(b.start_time, 1700000000002);
            const text = (await c.get('/runs/get', { run_id: a.run_id })).text;
            assert.match(text, /"start_time"\s*:\s*1700000000001\b/);
            const e = (await c.get('/experiments/get', { experiment_id: id })).text;
            assert.match(e, /"creation_time"\s*:\s*\d+/);
            assert.match(e, /"experiment_id"\s*:\s*"\d+"/, 'experiment_id is a string');
            assertOk(await c.post('/experiments/search', { max_results: '3' }));
            assertError(await c.post('/experiments/search', { max_results: '3.5' }), 400, 'INVALID_PARAMETER_VALUE', 'max_results');
            assertError(await c.post('/experiments/search', { max_results: 2.5 }), 400, 'INVALID_PARAMETER_VALUE', 'max_results');
        });

        test('run_uuid alias accepted on every run endpoint and echoed equal to run_id', async () => {
            const id = await c.createExperiment(uniqueName('uuid'));
            const run = (await c.createRun(id)).info.run_id;
            const u = { run_uuid: run };
            assertOk(await c.post('/runs/log-metric', { ...u, key: 'm', value: 1, timestamp: 1 }));
            assertOk(await c.post('/runs/log-parameter', { ...u, key: 'p', value: 'v' }));
            assertOk(await c.post('/runs/set-tag', { ...u, key: 't', value: 'v' }));
            assertOk(await c.post('/runs/delete-tag', { ...u, key: 't' }));
            assertOk(await c.post('/runs/log-batch', { ...u, metrics: [{ key: 'm', value: 2, timestamp: 2 }] }));
            assertOk(await c.post('/runs/update', { ...u, status: 'FINISHED' }));
            assertOk(await c.post('/runs/delete', u));
            assertOk(await c.post('/runs/restore', u));
            const g = assertOk(await c.get('/runs/get', u)).run;
            assert.equal(g.info.run_uuid, g.info.run_id);
            assert.equal(g.info.status, 'FINISHED');
            assert.deepEqual(g.data.params, [{ key: 'p', value: 'v' }]);
            assert.equal(assertOk(await c.get('/metrics/get-history', { ...u, metric_key: 'm' })).metrics.length, 2);
            // both given: run_id wins
            const other = (await c.createRun(id)).info.run_id;
            assertOk(await c.post('/runs/set-tag', { run_id: other, run_uuid: run, key: 'who', value: 'other' }));
            assert.ok((await c.getRun(other)).data.tags.some((t) => t.key === 'who'));
            assert.ok(!(await c.getRun(run)).data.tags.some((t) => t.key === 'who'));
        });

        test('error bodies: {error_code, message} for 400 and 404 on every endpoint family', async () => {
            const checks = [
                ['POST', '/experiments/create', {}, 400, 'name'],
                ['GET', '/experiments/get', { experiment_id: '424242' }, 404, '424242'],
                ['GET', '/experiments/get-by-name', {}, 400, 'experiment_name'],
                ['POST', '/experiments/update', { experiment_id: '0' }, 400, 'new_name'],
                ['POST', '/experiments/delete', {}, 400, 'experiment_id'],
                ['POST', '/experiments/restore', {}, 400, 'experiment_id'],
                ['POST', '/experiments/search', { max_results: 0 }, 400, 'max_results'],
                ['POST', '/experiments/set-experiment-tag', { experiment_id: '0' }, 400, 'key'],
                ['POST', '/experiments/delete-experiment-tag', { experiment_id: '0' }, 400, 'key'],
                ['POST', '/runs/create', { experiment_id: '424242' }, 404, '424242'],
                ['GET', '/runs/get', {}, 400, 'run_id'],
                ['POST', '/runs/update', {}, 400, 'run_id'],
                ['POST', '/runs/delete', {}, 400, 'run_id'],
                ['POST', '/runs/restore', {}, 400, 'run_id'],
                ['POST', '/runs/set-tag', { key: 'k', value: 'v' }, 400, 'run_id'],
                ['POST', '/runs/delete-tag', { key: 'k' }, 400, 'run_id'],
                ['POST', '/runs/log-parameter', { key: 'k', value: 'v' }, 400, 'run_id'],
                ['POST', '/runs/log-metric', { key: 'k', value: 1, timestamp: 1 }, 400, 'run_id'],
                ['POST', '/runs/log-batch', {}, 400, 'run_id'],
                ['POST', '/runs/log-inputs', {}, 400, 'run_id'],
                ['POST', '/runs/search', { max_results: 50001 }, 400, 'max_results'],
                ['GET', '/metrics/get-history', { run_id: 'a'.repeat(32) }, 400, 'metric_key'],
            ];
            for (const [method, p, body, status, mention] of checks) {
                const r = await c.req(method, p, body);
                const j = assertError(r, status, status === 404 ? 'RESOURCE_DOES_NOT_EXIST' : 'INVALID_PARAMETER_VALUE', mention, `${method} ${p}`);
                assert.ok(j.message.length > 0);
            }
        });
    });
}

describe('request body limit', () => {
    test('a JSON body over --max-body-size is refused with 400 and nothing is written', async () => {
        small = await startServer({ databaseUrl: stack.pg.url, args: ['--max-body-size', '4096'] });
        const c = client(small.url);
        const run = (await c.createRun('0')).info.run_id;
        const metrics = (n) => Array.from({ length: n }, (_, i) => ({ key: 'lim', value: i, timestamp: 1, step: i }));
        const fits = { run_id: run, metrics: metrics(20) };
        assert.ok(JSON.stringify(fits).length < 4096);
        assertOk(await c.post('/runs/log-batch', fits));
        const over = { run_id: run, metrics: metrics(200).map((m) => ({ ...m, step: m.step + 1000 })) };
        assert.ok(JSON.stringify(over).length > 4096);
        assertError(await c.post('/runs/log-batch', over), 400, undefined, [], 'body over the limit');
        const h = assertOk(await c.get('/metrics/get-history', { run_id: run, metric_key: 'lim' })).metrics;
        assert.equal(h.length, 20, 'nothing of the refused body was written');
        assert.ok(!small.exited(), 'server still up');
        assertOk(await c.post('/runs/log-batch', fits), 'still serving after a refused body');
    });
});
