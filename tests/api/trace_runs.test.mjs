// GET /api/2.0/exptrack/traces/runs (docs/api-extensions.md): the runs a
// trace names, its source run and the runs linked by link-to-run, with names
// for runs of the trace's own experiment; hostile input refused in the
// contract's error shape; under --auth the trace's experiment's READ decides.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { useAuthStack, basicAuth as basic, api, client, assertOk, assertError, uniqueName } from './harness.mjs';

const stack = useAuthStack({ before, after });
const ADMIN = stack.admin;
const PATH = '/api/2.0/exptrack/traces/runs';
const hex = (n) => crypto.randomBytes(n).toString('hex');

describe('exptrack/traces/runs', () => {
    let exp, other, source, linked, both, foreign, trace, bare;
    const c = () => {
        const k = client(stack.base);
        const wrap = (m) => (p, b) => api(stack.base, m, `/api/2.0/mlflow${p}`, b, { headers: ADMIN });
        return { ...k, get: wrap('GET'), post: wrap('POST') };
    };
    const get = (query, headers = ADMIN) => api(stack.base, 'GET', PATH, query, { headers });
    const newRun = async (e, name) => assertOk(await c().post('/runs/create', { experiment_id: e, run_name: name, start_time: 1 })).run.info.run_id;
    const newTrace = async (e, metadata = {}) => {
        const id = `tr-${hex(16)}`;
        assertOk(await api(stack.base, 'POST', '/api/3.0/mlflow/traces', {
            trace: { trace_info: { trace_id: id, trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: e } },
                request_time: '2025-06-01T12:00:00Z', state: 'OK', trace_metadata: metadata } },
        }, { headers: ADMIN }));
        return id;
    };
    const link = async (ids, run) => assertOk(await c().post('/traces/link-to-run', { trace_ids: ids, run_id: run }));

    before(async () => {
        exp = assertOk(await c().post('/experiments/create', { name: uniqueName('trr') })).experiment_id;
        other = assertOk(await c().post('/experiments/create', { name: uniqueName('trr-other') })).experiment_id;
        source = await newRun(exp, 'the-source');
        linked = await newRun(exp, 'a-judge');
        both = await newRun(exp, 'both-ways');
        foreign = await newRun(other, 'elsewhere');
        trace = await newTrace(exp, { 'mlflow.sourceRun': source });
        bare = await newTrace(exp);
        await link([trace], linked);
        await link([trace], foreign);
        await link([trace], source); // the source run linked too: listed once
        await link([trace], linked); // idempotent
    });

    test('source first, then the linked runs; names only for the trace\'s experiment', async () => {
        const r = assertOk(await get({ trace_id: trace }));
        assert.equal(r.trace_id, trace);
        assert.deepEqual(r.runs[0], { run_id: source, source: true, linked: true, experiment_id: exp, lifecycle_stage: 'active', run_name: 'the-source' });
        const rest = r.runs.slice(1);
        assert.deepEqual(rest.map((x) => x.run_id), [linked, foreign].sort());
        const byId = Object.fromEntries(rest.map((x) => [x.run_id, x]));
        assert.deepEqual(byId[linked], { run_id: linked, source: false, linked: true, experiment_id: exp, lifecycle_stage: 'active', run_name: 'a-judge' });
        assert.deepEqual(byId[foreign], { run_id: foreign, source: false, linked: true, experiment_id: other, lifecycle_stage: 'active' });
        assert.equal(r.runs.some((x) => x.run_id === both), false);
    });

    test('a trace without runs; a deleted run is marked; the reverse search matches linked traces', async () => {
        assert.deepEqual(assertOk(await get({ trace_id: bare })), { trace_id: bare, runs: [] });
        await link([bare], both);
        assertOk(await c().post('/runs/delete', { run_id: both }));
        const r = assertOk(await get({ trace_id: bare }));
        assert.deepEqual(r.runs, [{ run_id: both, source: false, linked: true, experiment_id: exp, lifecycle_stage: 'deleted', run_name: 'both-ways' }]);
        const found = assertOk(await api(stack.base, 'POST', '/api/3.0/mlflow/traces/search', {
            locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: exp } }], filter: `run_id = '${linked}'`,
        }, { headers: ADMIN }));
        assert.deepEqual(found.traces.map((t) => t.trace_id), [trace]);
    });

    test('a source-run value that is no run id', async () => {
        const odd = await newTrace(exp, { 'mlflow.sourceRun': 'not-a-run' });
        assert.deepEqual(assertOk(await get({ trace_id: odd })).runs, [{ run_id: 'not-a-run', source: true, linked: false }]);
    });

    test('hostile input: 4xx in the error shape naming the field', async () => {
        assertError(await get({}), 400, 'INVALID_PARAMETER_VALUE', ['trace_id']);
        assertError(await get({ trace_id: `tr-${hex(16)}` }), 404, 'RESOURCE_DOES_NOT_EXIST');
        assertError(await get({ trace_id: 'tr-\u0000abc' }), 400, undefined, ['trace_id']);
        for (const bad of ['x'.repeat(5000), "tr-'; DROP TABLE traces --", '9223372036854775808', '-1', `TR-${hex(16)}`, '']) {
            assertError(await get({ trace_id: bad }), 400, 'INVALID_PARAMETER_VALUE', ['trace_id'], bad.slice(0, 20));
        }
        // a lone surrogate in the query text (percent-encoded UTF-16 half is not UTF-8)
        const r = await api(stack.base, 'GET', `${PATH}?trace_id=%ED%A0%80`, undefined, { headers: ADMIN });
        assertError(r, r.status, undefined, [], 'lone surrogate');
        assert.ok(r.status >= 400 && r.status < 500, r.text);
        // a JSON body of the wrong type (GET with a body is read as the input)
        for (const body of [{ trace_id: 12 }, { trace_id: [trace] }, { trace_id: null }, { trace_id: { a: 1 } }]) {
            const w = await api(stack.base, 'GET', PATH, undefined, { headers: { ...ADMIN, 'content-type': 'application/json' }, raw: JSON.stringify(body) });
            assertError(w, 400, 'INVALID_PARAMETER_VALUE', ['trace_id'], JSON.stringify(body));
        }
    });

    test('--auth: READ on the trace\'s experiment decides; no READ is 403', async () => {
        const name = uniqueName('reader');
        const pw = `${name}-password-123`;
        assertOk(await api(stack.base, 'POST', '/api/2.0/mlflow/users/create', { username: name, password: pw }, { headers: ADMIN }));
        const X = basic(name, pw);
        const secret = assertOk(await c().post('/experiments/create', { name: uniqueName('secret') })).experiment_id;
        const hidden = await newTrace(secret);
        assertOk(await api(stack.base, 'POST', '/api/2.0/mlflow/experiments/permissions/create',
            { experiment_id: secret, username: name, permission: 'NO_PERMISSIONS' }, { headers: ADMIN }));
        assertError(await get({ trace_id: hidden }, X), 403, 'PERMISSION_DENIED');
        assertOk(await api(stack.base, 'PATCH', '/api/2.0/mlflow/experiments/permissions/update',
            { experiment_id: secret, username: name, permission: 'READ' }, { headers: ADMIN }));
        assert.deepEqual(assertOk(await get({ trace_id: hidden }, X)), { trace_id: hidden, runs: [] });
        assertError(await api(stack.base, 'GET', PATH, { trace_id: hidden }), 401, undefined, [], 'no credentials');
    });
});
