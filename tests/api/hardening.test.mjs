// Conformance and hardening round 2 (issue 18): malformed bodies, query
// strings, every field of every write validated where it is accepted,
// MLflow's answers where they are right, and no 500 a client's own input
// can cause. Framing is in framing.test.mjs.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, client, api, assertOk, assertError, uniqueName } from './harness.mjs';

const stack = useStack({ before, after });
const JSON_H = { 'content-type': 'application/json' };
let c;
let exp;
let run;
/** Every suite's first step: a client, an experiment and a run. */
async function setup() {
    if (c) return;
    c = client(stack.base);
    exp = await c.createExperiment(uniqueName('hard'));
    run = (await c.createRun(exp)).info.run_id;
}

// Every route that reads a JSON body (routes.c), with the method it takes.
const BODY_ROUTES = [
    ['POST', '/api/2.0/mlflow/experiments/create'], ['POST', '/api/2.0/mlflow/experiments/update'],
    ['POST', '/api/2.0/mlflow/experiments/delete'], ['POST', '/api/2.0/mlflow/experiments/restore'],
    ['POST', '/api/2.0/mlflow/experiments/search'], ['POST', '/api/2.0/mlflow/experiments/set-experiment-tag'],
    ['POST', '/api/2.0/mlflow/experiments/delete-experiment-tag'], ['POST', '/api/2.0/mlflow/runs/create'],
    ['POST', '/api/2.0/mlflow/runs/update'], ['POST', '/api/2.0/mlflow/runs/delete'],
    ['POST', '/api/2.0/mlflow/runs/restore'], ['POST', '/api/2.0/mlflow/runs/search'],
    ['POST', '/api/2.0/mlflow/runs/set-tag'], ['POST', '/api/2.0/mlflow/runs/delete-tag'],
    ['POST', '/api/2.0/mlflow/runs/log-parameter'], ['POST', '/api/2.0/mlflow/runs/log-metric'],
    ['POST', '/api/2.0/mlflow/runs/log-batch'], ['POST', '/api/2.0/mlflow/runs/log-inputs'],
    ['POST', '/api/2.0/exptrack/runs/purge'], ['POST', '/api/2.0/mlflow/registered-models/create'],
    ['POST', '/api/2.0/mlflow/registered-models/rename'], ['PATCH', '/api/2.0/mlflow/registered-models/update'],
    ['DELETE', '/api/2.0/mlflow/registered-models/delete'], ['POST', '/api/2.0/mlflow/registered-models/get-latest-versions'],
    ['POST', '/api/2.0/mlflow/registered-models/set-tag'], ['DELETE', '/api/2.0/mlflow/registered-models/delete-tag'],
    ['POST', '/api/2.0/mlflow/registered-models/alias'], ['DELETE', '/api/2.0/mlflow/registered-models/alias'],
    ['POST', '/api/2.0/mlflow/model-versions/create'], ['PATCH', '/api/2.0/mlflow/model-versions/update'],
    ['POST', '/api/2.0/mlflow/model-versions/transition-stage'], ['DELETE', '/api/2.0/mlflow/model-versions/delete'],
    ['POST', '/api/2.0/mlflow/model-versions/set-tag'], ['DELETE', '/api/2.0/mlflow/model-versions/delete-tag'],
    ['POST', '/api/2.0/mlflow/users/create'], ['PATCH', '/api/2.0/mlflow/users/update-password'],
    ['POST', '/api/2.0/mlflow/experiments/permissions/create'], ['POST', '/api/2.0/exptrack/tokens/create'],
    ['POST', '/api/2.0/exptrack/session/login'], ['POST', '/ajax-api/2.0/mlflow/runs/search'],
];

describe('malformed bodies are a 400 on every endpoint', () => {
    before(setup);
    test('a truncated runs/search body is a 400, not an empty 200', async () => {
        const r = await c.post('/runs/search', undefined, { raw: `{"experiment_ids": ["${exp}"], "max_res`, headers: JSON_H });
        assertError(r, 400, 'INVALID_PARAMETER_VALUE', 'not valid JSON');
    });
    test('every route that reads a body refuses broken JSON and non-objects', async () => {
        for (const [method, p] of BODY_ROUTES) {
            for (const raw of ['{"name": ', 'not json', '[1,2]', '"{\\"a\\":"', '{"a":1}}', '\u0000{}']) {
                const r = await api(stack.base, method, p, undefined, { raw, headers: JSON_H });
                assertError(r, 400, undefined, [], `${method} ${p} ${JSON.stringify(raw)}`);
                assert.match(r.json.message, /not valid JSON|not a JSON object/, `${method} ${p}`);
            }
        }
    });
    test('an empty body still reads as {} (the required field is named)', async () => {
        assertError(await c.post('/experiments/create', undefined, { raw: '', headers: JSON_H }), 400, 'INVALID_PARAMETER_VALUE', 'name');
        assertError(await c.post('/runs/log-metric', undefined, { raw: ' \n', headers: JSON_H }), 400, 'INVALID_PARAMETER_VALUE', 'run_id');
    });
    test('a broken body changes nothing', async () => {
        const name = uniqueName('broken');
        assertError(await c.post('/experiments/create', undefined, { raw: `{"name": "${name}"`, headers: JSON_H }), 400);
        assertError(await c.get('/experiments/get-by-name', { experiment_name: name }), 404, 'RESOURCE_DOES_NOT_EXIST');
    });
});

describe('query strings', () => {
    before(setup);
    const BAD_IDS = ['abc', 'f'.repeat(31), 'f'.repeat(33), 'F'.repeat(32), `${'f'.repeat(31)}g`, `${'f'.repeat(16)}%00${'f'.repeat(15)}`, '../x', ' '];
    test('a run id that cannot be one is a 400 on every GET that takes one', async () => {
        for (const id of BAD_IDS) {
            const q = `run_id=${id.includes('%') ? id : encodeURIComponent(id)}`;
            for (const p of ['/api/2.0/mlflow/runs/get', '/ajax-api/2.0/mlflow/runs/get', '/api/2.0/mlflow/metrics/get-history',
                '/api/2.0/mlflow/artifacts/list']) {
                const extra = p.includes('history') ? '&metric_key=m' : '';
                const r = await api(stack.base, 'GET', `${p}?${q}${extra}`);
                assertError(r, 400, 'INVALID_PARAMETER_VALUE', 'run_id', `${p} ${JSON.stringify(id)}`);
            }
            const u = `?run_uuid=${encodeURIComponent(id)}&metric_key=m`;
            assertError(await api(stack.base, 'GET', `/api/2.0/mlflow/metrics/get-history${u}`), 400, 'INVALID_PARAMETER_VALUE', 'run_uuid');
            const b = await api(stack.base, 'GET', `/api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids=${run}&run_ids=${encodeURIComponent(id)}&metric_key=m`);
            assertError(b, 400, 'INVALID_PARAMETER_VALUE', 'run_ids', `bulk ${JSON.stringify(id)}`);
        }
    });
    test('a real run id still works, and an unknown well-formed one is a 404', async () => {
        assertOk(await c.get('/metrics/get-history', { run_id: run, metric_key: 'm' }));
        assertError(await c.get('/runs/get', { run_id: 'f'.repeat(32) }), 404, 'RESOURCE_DOES_NOT_EXIST');
    });
    test('a query value or name that is not UTF-8 once decoded is a 400, not dropped', async () => {
        for (const q of [`run_id=${run}&metric_key=%ff`, `run_id=${run}&metric_key=%c3%28`, `run_id=${run}&metric_key=m&%ff=1`,
            `run_id=${run}&metric_key=%ed%a0%80`]) {
            const r = await api(stack.base, 'GET', `/api/2.0/mlflow/metrics/get-history?${q}`);
            assertError(r, 400, 'INVALID_PARAMETER_VALUE', 'UTF-8', q);
        }
        assertError(await api(stack.base, 'GET', `/api/2.0/mlflow/artifacts/list?run_id=${run}&path=%ff`), 400, 'INVALID_PARAMETER_VALUE', 'path');
        assertError(await api(stack.base, 'GET', '/api/2.0/mlflow/experiments/get-by-name?experiment_name=%fe%ff'), 400, 'INVALID_PARAMETER_VALUE', 'experiment_name');
        assertError(await api(stack.base, 'GET', `/api/2.0/mlflow-artifacts/artifacts/${exp}/x?p=%ff`), 400, 'INVALID_PARAMETER_VALUE');
    });
});
