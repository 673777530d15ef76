// Trace permissions with --auth (mlflow-models-api.md 6.3): every trace
// route is judged by the permission on the trace's experiment (create and
// search: the request's experiments; OTLP: the x-mlflow-experiment-id
// header); delete-traces needs MANAGE; batchGet and link-to-run check every
// trace they name.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { useAuthStack, api, assertOk, assertError, uniqueName } from './harness.mjs';

const stack = useAuthStack({ before, after });
const V3 = '/api/3.0/mlflow/traces';
const V2 = '/api/2.0/mlflow/traces';
const hex = (n) => crypto.randomBytes(n).toString('hex');

const newUser = stack.newUser;

describe('trace permissions', () => {
    let owner, other, exp, secret;
    const grant = (e, permission) => api(stack.base, 'POST', '/api/2.0/mlflow/experiments/permissions/create',
        { experiment_id: e, username: other.name, permission }, { headers: owner.headers });
    const regrant = (e, permission) => api(stack.base, 'PATCH', '/api/2.0/mlflow/experiments/permissions/update',
        { experiment_id: e, username: other.name, permission }, { headers: owner.headers });
    const loc = (e) => ({ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: e } });
    const create = (e, headers, id = `tr-${hex(16)}`) => api(stack.base, 'POST', V3, { trace: { trace_info: { trace_id: id, trace_location: loc(e) } } }, { headers });
    const otlp = (e, headers) => api(stack.base, 'POST', '/v1/traces',
        { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: hex(16), spanId: hex(8), name: 's', startTimeUnixNano: 1, endTimeUnixNano: 2 }] }] }] },
        { headers: { ...headers, 'x-mlflow-experiment-id': e } });

    before(async () => {
        owner = await newUser('owner');
        other = await newUser('other');
        exp = assertOk(await api(stack.base, 'POST', '/api/2.0/mlflow/experiments/create', { name: uniqueName('tr') }, { headers: owner.headers })).experiment_id;
        secret = assertOk(await api(stack.base, 'POST', '/api/2.0/mlflow/experiments/create', { name: uniqueName('secret') }, { headers: owner.headers })).experiment_id;
        assertOk(await grant(secret, 'NO_PERMISSIONS'));
    });

    test('READ reads, EDIT writes, MANAGE deletes; the owner does all', async () => {
        const b = stack.base, O = owner.headers, X = other.headers;
        const id = assertOk(await create(exp, O)).trace.trace_info.trace_id;
        assertOk(await grant(exp, 'READ'));
        assertOk(await api(b, 'GET', `${V3}/${id}`, undefined, { headers: X }));
        assertOk(await api(b, 'GET', `${V3}/get`, { trace_id: id, allow_partial: 'true' }, { headers: X }));
        assertOk(await api(b, 'GET', `${V3}/batchGet`, { trace_ids: [id] }, { headers: X }));
        assertOk(await api(b, 'POST', `${V3}/search`, { locations: [loc(exp)] }, { headers: X }));
        assertOk(await api(b, 'GET', V2, { experiment_ids: [exp] }, { headers: X }));
        assertOk(await api(b, 'GET', '/api/2.0/exptrack/traces/stats', { experiment_id: exp }, { headers: X }));
        assertError(await create(exp, X), 403, 'PERMISSION_DENIED');
        assertError(await otlp(exp, X), 403, 'PERMISSION_DENIED');
        assertError(await api(b, 'PATCH', `${V2}/${id}/tags`, { key: 'k', value: 'v' }, { headers: X }), 403, 'PERMISSION_DENIED');
        assertError(await api(b, 'POST', `${V3}/${id}/assessments`, { assessment: { assessment_name: 'a', feedback: { value: 1 } } }, { headers: X }), 403, 'PERMISSION_DENIED');
        assertError(await api(b, 'POST', V2, { experiment_id: exp }, { headers: X }), 403, 'PERMISSION_DENIED');
        assertOk(await regrant(exp, 'EDIT'));
        assertOk(await create(exp, X));
        assertOk(await otlp(exp, X));
        assertOk(await api(b, 'PATCH', `${V2}/${id}/tags`, { key: 'k', value: 'v' }, { headers: X }));
        assertOk(await api(b, 'DELETE', `${V2}/${id}/tags`, { key: 'k' }, { headers: X }));
        assertError(await api(b, 'POST', `${V2}/delete-traces`, { experiment_id: exp, request_ids: [id] }, { headers: X }), 403, 'PERMISSION_DENIED');
        assertOk(await regrant(exp, 'MANAGE'));
        assert.deepEqual(assertOk(await api(b, 'POST', '/api/3.0/mlflow/traces/delete-traces', { experiment_id: exp, request_ids: [id] }, { headers: X })), { traces_deleted: 1 });
    });

    test('the UI mount (/ajax-api/3.0/mlflow) applies the same rules to every trace route', async () => {
        const b = stack.base, O = owner.headers, X = other.headers;
        const UI = '/ajax-api/3.0/mlflow/traces';
        const hidden = assertOk(await api(b, 'POST', UI, { trace: { trace_info: { trace_id: `tr-${hex(16)}`, trace_location: loc(secret) } } }, { headers: O })).trace.trace_info.trace_id;
        assertError(await api(b, 'POST', UI, { trace: { trace_info: { trace_id: `tr-${hex(16)}`, trace_location: loc(secret) } } }, { headers: X }), 403, 'PERMISSION_DENIED');
        assertError(await api(b, 'GET', `/ajax-api/3.0/mlflow/traces/${hidden}`, undefined, { headers: X }), 403, 'PERMISSION_DENIED');
        assertError(await api(b, 'GET', '/ajax-api/3.0/mlflow/traces/get', { trace_id: hidden, allow_partial: 'true' }, { headers: X }), 403, 'PERMISSION_DENIED');
        assertError(await api(b, 'GET', '/ajax-api/3.0/mlflow/traces/batchGet', { trace_ids: [hidden] }, { headers: X }), 403, 'PERMISSION_DENIED');
        assertError(await api(b, 'POST', '/ajax-api/3.0/mlflow/traces/search', { locations: [loc(secret)] }, { headers: X }), 403, 'PERMISSION_DENIED');
        assertError(await api(b, 'POST', '/ajax-api/3.0/mlflow/traces/delete-traces', { experiment_id: secret, request_ids: [hidden] }, { headers: X }), 403, 'PERMISSION_DENIED');
        assertError(await api(b, 'GET', `/ajax-api/3.0/mlflow/traces/${hidden}`), 401, 'UNAUTHENTICATED');
        // hostile input on the same mount: a malformed id and a NUL in the experiment id
        assertError(await api(b, 'GET', '/ajax-api/3.0/mlflow/traces/not-a-trace-id', undefined, { headers: O }), 404, 'RESOURCE_DOES_NOT_EXIST');
        assertError(await api(b, 'POST', '/ajax-api/3.0/mlflow/traces/delete-traces', { experiment_id: '1\u0000', request_ids: [hidden] }, { headers: O }), 400);
        assertOk(await api(b, 'GET', `/ajax-api/3.0/mlflow/traces/${hidden}`, undefined, { headers: O }));
        assert.deepEqual(assertOk(await api(b, 'POST', '/ajax-api/3.0/mlflow/traces/delete-traces', { experiment_id: secret, request_ids: [hidden] }, { headers: O })), { traces_deleted: 1 });
    });

    test('a trace of an unreadable experiment stays hidden, however it is named', async () => {
        const b = stack.base, O = owner.headers, X = other.headers;
        const hidden = assertOk(await create(secret, O)).trace.trace_info.trace_id;
        const mine = assertOk(await create(exp, O)).trace.trace_info.trace_id;
        assertError(await api(b, 'GET', `${V3}/${hidden}`, undefined, { headers: X }), 403, 'PERMISSION_DENIED');
        assertError(await api(b, 'GET', `${V2}/${hidden}/info`, undefined, { headers: X }), 403, 'PERMISSION_DENIED');
        assertError(await api(b, 'GET', `${V3}/batchGet`, { trace_ids: [mine, hidden] }, { headers: X }), 403, 'PERMISSION_DENIED');
        assertError(await api(b, 'POST', `${V3}/search`, { locations: [loc(exp), loc(secret)] }, { headers: X }), 403, 'PERMISSION_DENIED');
        assertError(await api(b, 'GET', '/api/2.0/mlflow/get-trace-artifact', { request_id: hidden }, { headers: X }), 403, 'PERMISSION_DENIED');
        const run = assertOk(await api(b, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp, start_time: 1 }, { headers: O })).run.info.run_id;
        assertError(await api(b, 'POST', `${V2}/link-to-run`, { trace_ids: [mine, hidden], run_id: run }, { headers: X }), 403, 'PERMISSION_DENIED');
        // taking over a hidden trace by re-creating its id in a writable experiment is refused
        const r = await create(exp, X, hidden);
        assertError(r, 400, 'INVALID_PARAMETER_VALUE', 'another experiment');
        assertError(await api(b, 'GET', '/api/2.0/exptrack/traces/stats', { experiment_id: secret }, { headers: X }), 403, 'PERMISSION_DENIED');
        assertError(await otlp(secret, X), 403, 'PERMISSION_DENIED');
        assertError(await api(b, 'GET', `${V3}/${hidden}`), 401, 'UNAUTHENTICATED');
    });
});
