// Logged-model permissions with --auth (mlflow-models-api.md 6.2): every
// call is judged by the permission on the model's experiment (create: the
// body's experiment); delete and delete-tag need MANAGE; search leaves out
// models of unreadable experiments; the artifact proxy at a model's path
// checks the path's experiment and the model's.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useAuthStack, api, assertOk, assertError, uniqueName } from './harness.mjs';

const stack = useAuthStack({ before, after });
const LM = '/api/2.0/mlflow/logged-models';
const ART = '/api/2.0/mlflow-artifacts/artifacts';

const newUser = stack.newUser;

describe('logged-model permissions', () => {
    let owner, other, exp;
    const grant = (experimentId, permission) => api(stack.base, 'POST', '/api/2.0/mlflow/experiments/permissions/create',
        { experiment_id: experimentId, username: other.name, permission }, { headers: owner.headers });
    const regrant = (experimentId, permission) => api(stack.base, 'PATCH', '/api/2.0/mlflow/experiments/permissions/update',
        { experiment_id: experimentId, username: other.name, permission }, { headers: owner.headers });

    before(async () => {
        owner = await newUser('owner');
        other = await newUser('other');
        exp = assertOk(await api(stack.base, 'POST', '/api/2.0/mlflow/experiments/create', { name: uniqueName('lm') }, { headers: owner.headers })).experiment_id;
    });

    test('READ reads; EDIT creates, finalizes, tags and logs params; MANAGE deletes', async () => {
        const b = stack.base, O = owner.headers, X = other.headers;
        const id = assertOk(await api(b, 'POST', LM, { experiment_id: exp, tags: [{ key: 't', value: '1' }] }, { headers: O })).model.info.model_id;
        assertOk(await grant(exp, 'READ'));
        assertOk(await api(b, 'GET', `${LM}/${id}`, undefined, { headers: X }));
        assertOk(await api(b, 'GET', `${LM}/${id}/artifacts/directories`, undefined, { headers: X }));
        assertError(await api(b, 'POST', LM, { experiment_id: exp }, { headers: X }), 403, 'PERMISSION_DENIED', String(exp));
        assertError(await api(b, 'PATCH', `${LM}/${id}`, { status: 'LOGGED_MODEL_READY' }, { headers: X }), 403, 'PERMISSION_DENIED');
        assertError(await api(b, 'PATCH', `${LM}/${id}/tags`, { tags: [{ key: 'a', value: 'b' }] }, { headers: X }), 403, 'PERMISSION_DENIED');
        assertError(await api(b, 'POST', `${LM}/${id}/params`, { params: [{ key: 'a', value: 'b' }] }, { headers: X }), 403, 'PERMISSION_DENIED');
        assertError(await api(b, 'DELETE', `${LM}/${id}/tags/t`, undefined, { headers: X }), 403, 'PERMISSION_DENIED');
        assertError(await api(b, 'DELETE', `${LM}/${id}`, undefined, { headers: X }), 403, 'PERMISSION_DENIED');

        assertOk(await regrant(exp, 'EDIT'));
        const mine = assertOk(await api(b, 'POST', LM, { experiment_id: exp }, { headers: X })).model.info.model_id;
        assertOk(await api(b, 'PATCH', `${LM}/${id}`, { status: 'LOGGED_MODEL_READY' }, { headers: X }));
        assertOk(await api(b, 'PATCH', `${LM}/${id}/tags`, { tags: [{ key: 'a', value: 'b' }] }, { headers: X }));
        assertOk(await api(b, 'POST', `${LM}/${id}/params`, { params: [{ key: 'a', value: 'b' }] }, { headers: X }));
        assertError(await api(b, 'DELETE', `${LM}/${id}/tags/t`, undefined, { headers: X }), 403, 'PERMISSION_DENIED', 'MANAGE');
        assertError(await api(b, 'DELETE', `${LM}/${mine}`, undefined, { headers: X }), 403, 'PERMISSION_DENIED', 'MANAGE');

        assertOk(await regrant(exp, 'MANAGE'));
        assertOk(await api(b, 'DELETE', `${LM}/${id}/tags/t`, undefined, { headers: X }));
        assertOk(await api(b, 'DELETE', `${LM}/${mine}`, undefined, { headers: X }));
        // an unknown model is the handler's 404, not a permission error
        assertError(await api(b, 'GET', `${LM}/m-${'0'.repeat(32)}`, undefined, { headers: X }), 404, 'RESOURCE_DOES_NOT_EXIST');
    });

    test('search leaves out models of experiments the caller cannot read', async () => {
        const b = stack.base, O = owner.headers, X = other.headers;
        const open = assertOk(await api(b, 'POST', '/api/2.0/mlflow/experiments/create', { name: uniqueName('open') }, { headers: O })).experiment_id;
        const closed = assertOk(await api(b, 'POST', '/api/2.0/mlflow/experiments/create', { name: uniqueName('closed') }, { headers: O })).experiment_id;
        assertOk(await api(b, 'POST', LM, { experiment_id: open, name: 'visible' }, { headers: O }));
        assertOk(await api(b, 'POST', LM, { experiment_id: closed, name: 'hidden' }, { headers: O }));
        assertOk(await grant(closed, 'NO_PERMISSIONS'));
        const seen = assertOk(await api(b, 'POST', `${LM}/search`, { experiment_ids: [open, closed] }, { headers: X }));
        assert.deepEqual(seen.models.map((m) => m.info.name), ['visible']);
        const all = assertOk(await api(b, 'POST', `${LM}/search`, { experiment_ids: [open, closed] }, { headers: O }));
        assert.deepEqual(all.models.map((m) => m.info.name).sort(), ['hidden', 'visible']);
        assert.deepEqual(assertOk(await api(b, 'POST', `${LM}/search`, { experiment_ids: [closed] }, { headers: X })), {});
    });

    test('the artifact proxy at a model path: GET needs READ, PUT EDIT, on the path\'s and the model\'s experiment', async () => {
        const b = stack.base, O = owner.headers, X = other.headers;
        const readable = assertOk(await api(b, 'POST', '/api/2.0/mlflow/experiments/create', { name: uniqueName('r') }, { headers: O })).experiment_id;
        const secret = assertOk(await api(b, 'POST', '/api/2.0/mlflow/experiments/create', { name: uniqueName('s') }, { headers: O })).experiment_id;
        const pub = assertOk(await api(b, 'POST', LM, { experiment_id: readable }, { headers: O })).model.info.model_id;
        const priv = assertOk(await api(b, 'POST', LM, { experiment_id: secret }, { headers: O })).model.info.model_id;
        assertOk(await grant(secret, 'NO_PERMISSIONS'));
        const put = (e, id, h) => api(b, 'PUT', `${ART}/${e}/models/${id}/artifacts/f.txt`, undefined, { raw: 'x', headers: { ...h, 'content-type': 'text/plain' } });
        assertOk(await put(readable, pub, O));
        assertOk(await put(secret, priv, O));
        assert.equal((await api(b, 'GET', `${ART}/${readable}/models/${pub}/artifacts/f.txt`, undefined, { headers: X })).status, 200);
        assertError(await put(readable, pub, X), 403, 'PERMISSION_DENIED', 'EDIT');
        assertError(await api(b, 'GET', `${ART}/${secret}/models/${priv}/artifacts/f.txt`, undefined, { headers: X }), 403, 'PERMISSION_DENIED');
        // naming a readable experiment does not open a model of another one
        assertError(await api(b, 'GET', `${ART}/${readable}/models/${priv}/artifacts/f.txt`, undefined, { headers: X }), 403, 'PERMISSION_DENIED');
        assertError(await api(b, 'GET', `${ART}`, { path: `${readable}/models/${priv}/artifacts` }, { headers: X }), 403, 'PERMISSION_DENIED');
        assertError(await api(b, 'GET', `${LM}/${priv}/artifacts/files`, { artifact_file_path: 'f.txt' }, { headers: X }), 403, 'PERMISSION_DENIED');
    });
});
