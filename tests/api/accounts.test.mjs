// Behaviour of the account and permission-management routes with --auth
// (mlflow-api.md section 12, mlflow-models-api.md 6.1): session logout,
// experiments/permissions and registered-models/permissions get|update|delete,
// users/update-admin and users/delete. auth.test.mjs only runs them through
// the generic permission matrix; here each one's answers, errors, who may
// call it, and hostile input (never a 500, the server keeps answering).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useAuthStack, api, assertOk, assertError, uniqueName } from './harness.mjs';

const stack = useAuthStack({ before, after });
const ADMIN = stack.admin;

const LOGIN = '/api/2.0/exptrack/session/login';
const LOGOUT = '/api/2.0/exptrack/session/logout';
const EXP_PERM_GET = '/api/2.0/mlflow/experiments/permissions/get';
const EXP_PERM_UPDATE = '/api/2.0/mlflow/experiments/permissions/update';
const EXP_PERM_DELETE = '/api/2.0/mlflow/experiments/permissions/delete';
const EXP_PERM_CREATE = '/api/2.0/mlflow/experiments/permissions/create';
const RM_PERM_GET = '/api/2.0/mlflow/registered-models/permissions/get';
const RM_PERM_UPDATE = '/api/2.0/mlflow/registered-models/permissions/update';
const RM_PERM_DELETE = '/api/2.0/mlflow/registered-models/permissions/delete';
const RM_PERM_CREATE = '/api/2.0/mlflow/registered-models/permissions/create';
const USERS_DELETE = '/api/2.0/mlflow/users/delete';
const USERS_UPDATE_ADMIN = '/api/2.0/mlflow/users/update-admin';
const USERS_GET = '/api/2.0/mlflow/users/get';

const newUser = stack.newUser;

const call = (method, p, body, headers) => api(stack.base, method, p, body, headers ? { headers } : {});

async function assertHealthy() {
    const r = await api(stack.base, 'GET', '/health');
    assert.equal(r.status, 200, `/health after hostile input: HTTP ${r.status} ${r.text}`);
}

describe('POST /api/2.0/exptrack/session/logout', () => {
    test('after a login, logout answers {} and clears both cookies', async () => {
        const u = await newUser('logout');
        const login = await call('POST', LOGIN, { username: u.name, password: u.password });
        assert.deepEqual(assertOk(login), { username: u.name });
        const set = login.headers.getSetCookie();
        const cookie = set.map((c) => c.split(';')[0]).join('; ');
        const csrf = set.find((c) => c.startsWith('exptrack_csrf=')).split(';')[0].split('=')[1];
        const r = await call('POST', LOGOUT, {}, { cookie, 'x-csrf-token': csrf });
        assert.deepEqual(assertOk(r), {});
        const cleared = r.headers.getSetCookie();
        assert.equal(cleared.length, 2, `two Set-Cookie headers: ${JSON.stringify(cleared)}`);
        const session = cleared.find((c) => c.startsWith('exptrack_session='));
        const csrfCookie = cleared.find((c) => c.startsWith('exptrack_csrf='));
        assert.ok(session && csrfCookie, JSON.stringify(cleared));
        for (const c of [session, csrfCookie]) {
            assert.match(c, /^exptrack_(session|csrf)=;/, 'empty value');
            assert.match(c, /; Max-Age=0(;|$)/);
            assert.match(c, /; Path=\/(;|$)/);
            assert.match(c, /; SameSite=Strict/);
        }
        assert.match(session, /; HttpOnly/);
    });

    test('is public: an anonymous logout also answers {} and clears the cookies', async () => {
        const r = await call('POST', LOGOUT, {});
        assert.deepEqual(assertOk(r), {});
        const names = r.headers.getSetCookie().map((c) => c.split('=')[0]).sort();
        assert.deepEqual(names, ['exptrack_csrf', 'exptrack_session']);
    });
});

describe('experiment permissions: get, update, delete', () => {
    let owner, other, exp;
    before(async () => {
        owner = await newUser('eowner');
        other = await newUser('eother');
        exp = assertOk(await call('POST', '/api/2.0/mlflow/experiments/create', { name: uniqueName('exp') }, owner.headers)).experiment_id;
    });

    test('happy path: the exact JSON of get, update then get, delete then get is 404', async () => {
        const O = owner.headers;
        // the creator holds MANAGE
        assert.deepEqual(assertOk(await call('GET', EXP_PERM_GET, { experiment_id: exp, username: owner.name }, O)),
            { experiment_permission: { experiment_id: exp, user_id: owner.id, permission: 'MANAGE' } });
        assertOk(await call('POST', EXP_PERM_CREATE, { experiment_id: exp, username: other.name, permission: 'READ' }, O));
        assert.deepEqual(assertOk(await call('PATCH', EXP_PERM_UPDATE, { experiment_id: exp, username: other.name, permission: 'EDIT' }, O)), {});
        assert.deepEqual(assertOk(await call('GET', EXP_PERM_GET, { experiment_id: exp, username: other.name }, O)),
            { experiment_permission: { experiment_id: exp, user_id: other.id, permission: 'EDIT' } });
        // an int64 may come as a JSON number too (mlflow-api.md, protobuf JSON)
        assert.deepEqual(assertOk(await call('PATCH', EXP_PERM_UPDATE, { experiment_id: Number(exp), username: other.name, permission: 'READ' }, O)), {});
        assert.equal(assertOk(await call('GET', EXP_PERM_GET, { experiment_id: exp, username: other.name }, O)).experiment_permission.permission, 'READ');
        assert.deepEqual(assertOk(await call('DELETE', EXP_PERM_DELETE, { experiment_id: exp, username: other.name }, O)), {});
        assertError(await call('GET', EXP_PERM_GET, { experiment_id: exp, username: other.name }, O), 404, 'RESOURCE_DOES_NOT_EXIST', [exp, other.name]);
        assertError(await call('DELETE', EXP_PERM_DELETE, { experiment_id: exp, username: other.name }, O), 404, 'RESOURCE_DOES_NOT_EXIST');
        assertError(await call('PATCH', EXP_PERM_UPDATE, { experiment_id: exp, username: other.name, permission: 'READ' }, O), 404, 'RESOURCE_DOES_NOT_EXIST');
    });

    test('missing fields, bad permission, unknown user and experiment', async () => {
        const A = ADMIN;
        assertError(await call('GET', EXP_PERM_GET, { username: owner.name }, A), 400, 'INVALID_PARAMETER_VALUE', 'experiment_id');
        assertError(await call('GET', EXP_PERM_GET, { experiment_id: exp }, A), 400, 'INVALID_PARAMETER_VALUE', 'username');
        assertError(await call('PATCH', EXP_PERM_UPDATE, { username: owner.name, permission: 'READ' }, A), 400, 'INVALID_PARAMETER_VALUE', 'experiment_id');
        assertError(await call('PATCH', EXP_PERM_UPDATE, { experiment_id: exp, permission: 'READ' }, A), 400, 'INVALID_PARAMETER_VALUE', 'username');
        assertError(await call('PATCH', EXP_PERM_UPDATE, { experiment_id: exp, username: owner.name }, A), 400, 'INVALID_PARAMETER_VALUE', 'permission');
        assertError(await call('PATCH', EXP_PERM_UPDATE, { experiment_id: exp, username: owner.name, permission: 'OWNER' }, A), 400, 'INVALID_PARAMETER_VALUE', 'OWNER');
        assertError(await call('PATCH', EXP_PERM_UPDATE, { experiment_id: exp, username: owner.name, permission: 'read' }, A), 400, 'INVALID_PARAMETER_VALUE');
        assertError(await call('DELETE', EXP_PERM_DELETE, { username: owner.name }, A), 400, 'INVALID_PARAMETER_VALUE', 'experiment_id');
        assertError(await call('DELETE', EXP_PERM_DELETE, { experiment_id: exp }, A), 400, 'INVALID_PARAMETER_VALUE', 'username');
        const ghost = uniqueName('ghost');
        assertError(await call('GET', EXP_PERM_GET, { experiment_id: exp, username: ghost }, A), 404, 'RESOURCE_DOES_NOT_EXIST', ghost);
        assertError(await call('PATCH', EXP_PERM_UPDATE, { experiment_id: exp, username: ghost, permission: 'READ' }, A), 404, 'RESOURCE_DOES_NOT_EXIST', ghost);
        assertError(await call('DELETE', EXP_PERM_DELETE, { experiment_id: exp, username: ghost }, A), 404, 'RESOURCE_DOES_NOT_EXIST', ghost);
        const noExp = '987654321';
        assertError(await call('GET', EXP_PERM_GET, { experiment_id: noExp, username: owner.name }, A), 404, 'RESOURCE_DOES_NOT_EXIST', noExp);
        assertError(await call('PATCH', EXP_PERM_UPDATE, { experiment_id: noExp, username: owner.name, permission: 'READ' }, A), 404, 'RESOURCE_DOES_NOT_EXIST', noExp);
        assertError(await call('DELETE', EXP_PERM_DELETE, { experiment_id: noExp, username: owner.name }, A), 404, 'RESOURCE_DOES_NOT_EXIST', noExp);
        // the owner's grant is untouched by all that
        assert.equal(assertOk(await call('GET', EXP_PERM_GET, { experiment_id: exp, username: owner.name }, A)).experiment_permission.permission, 'MANAGE');
    });

    test('only MANAGE (or an admin) may call them; anonymous is 401', async () => {
        const X = other.headers;
        const routes = [
            ['GET', EXP_PERM_GET, { experiment_id: exp, username: owner.name }],
            ['PATCH', EXP_PERM_UPDATE, { experiment_id: exp, username: owner.name, permission: 'READ' }],
            ['DELETE', EXP_PERM_DELETE, { experiment_id: exp, username: owner.name }],
        ];
        for (const grant of [null, 'READ', 'EDIT']) {
            if (grant) {
                assertOk(await call('POST', EXP_PERM_CREATE, { experiment_id: exp, username: other.name, permission: grant }, ADMIN));
            }
            for (const [m, p, body] of routes) {
                assertError(await call(m, p, body, X), 403, 'PERMISSION_DENIED', [], `${m} ${p} with ${grant ?? 'the default'}`);
            }
            if (grant) assertOk(await call('DELETE', EXP_PERM_DELETE, { experiment_id: exp, username: other.name }, ADMIN));
        }
        for (const [m, p, body] of routes) assertError(await call(m, p, body), 401, 'UNAUTHENTICATED', [], `${m} ${p} anonymous`);
        // the owner is still MANAGE: nothing above changed it
        assert.equal(assertOk(await call('GET', EXP_PERM_GET, { experiment_id: exp, username: owner.name }, ADMIN)).experiment_permission.permission, 'MANAGE');
        // with MANAGE granted, the other user may read and change grants
        assertOk(await call('POST', EXP_PERM_CREATE, { experiment_id: exp, username: other.name, permission: 'MANAGE' }, owner.headers));
        assert.equal(assertOk(await call('GET', EXP_PERM_GET, { experiment_id: exp, username: owner.name }, X)).experiment_permission.permission, 'MANAGE');
        assert.deepEqual(assertOk(await call('PATCH', EXP_PERM_UPDATE, { experiment_id: exp, username: other.name, permission: 'READ' }, X)), {});
        // now only READ: refused again
        assertError(await call('GET', EXP_PERM_GET, { experiment_id: exp, username: owner.name }, X), 403, 'PERMISSION_DENIED');
        assertOk(await call('DELETE', EXP_PERM_DELETE, { experiment_id: exp, username: other.name }, owner.headers));
    });
});

describe('registered-model permissions: get, update, delete', () => {
    let owner, other, model;
    before(async () => {
        owner = await newUser('mowner');
        other = await newUser('mother');
        model = uniqueName('model');
        assertOk(await call('POST', '/api/2.0/mlflow/registered-models/create', { name: model }, owner.headers));
    });

    test('happy path: the exact JSON of get, update then get, delete then get is 404', async () => {
        const O = owner.headers;
        assert.deepEqual(assertOk(await call('GET', RM_PERM_GET, { name: model, username: owner.name }, O)),
            { registered_model_permission: { name: model, user_id: owner.id, permission: 'MANAGE' } });
        assertOk(await call('POST', RM_PERM_CREATE, { name: model, username: other.name, permission: 'READ' }, O));
        assert.deepEqual(assertOk(await call('PATCH', RM_PERM_UPDATE, { name: model, username: other.name, permission: 'NO_PERMISSIONS' }, O)), {});
        assert.deepEqual(assertOk(await call('GET', RM_PERM_GET, { name: model, username: other.name }, O)),
            { registered_model_permission: { name: model, user_id: other.id, permission: 'NO_PERMISSIONS' } });
        assert.deepEqual(assertOk(await call('DELETE', RM_PERM_DELETE, { name: model, username: other.name }, O)), {});
        assertError(await call('GET', RM_PERM_GET, { name: model, username: other.name }, O), 404, 'RESOURCE_DOES_NOT_EXIST', [model, other.name]);
        assertError(await call('DELETE', RM_PERM_DELETE, { name: model, username: other.name }, O), 404, 'RESOURCE_DOES_NOT_EXIST');
        assertError(await call('PATCH', RM_PERM_UPDATE, { name: model, username: other.name, permission: 'READ' }, O), 404, 'RESOURCE_DOES_NOT_EXIST');
    });

    test('missing fields, bad permission, unknown user and model', async () => {
        const A = ADMIN;
        assertError(await call('GET', RM_PERM_GET, { username: owner.name }, A), 400, 'INVALID_PARAMETER_VALUE', 'name');
        assertError(await call('GET', RM_PERM_GET, { name: model }, A), 400, 'INVALID_PARAMETER_VALUE', 'username');
        assertError(await call('PATCH', RM_PERM_UPDATE, { username: owner.name, permission: 'READ' }, A), 400, 'INVALID_PARAMETER_VALUE', 'name');
        assertError(await call('PATCH', RM_PERM_UPDATE, { name: model, permission: 'READ' }, A), 400, 'INVALID_PARAMETER_VALUE', 'username');
        assertError(await call('PATCH', RM_PERM_UPDATE, { name: model, username: owner.name }, A), 400, 'INVALID_PARAMETER_VALUE', 'permission');
        assertError(await call('PATCH', RM_PERM_UPDATE, { name: model, username: owner.name, permission: 'OWNER' }, A), 400, 'INVALID_PARAMETER_VALUE', 'OWNER');
        assertError(await call('DELETE', RM_PERM_DELETE, { username: owner.name }, A), 400, 'INVALID_PARAMETER_VALUE', 'name');
        assertError(await call('DELETE', RM_PERM_DELETE, { name: model }, A), 400, 'INVALID_PARAMETER_VALUE', 'username');
        const ghost = uniqueName('ghost');
        assertError(await call('GET', RM_PERM_GET, { name: model, username: ghost }, A), 404, 'RESOURCE_DOES_NOT_EXIST', ghost);
        assertError(await call('PATCH', RM_PERM_UPDATE, { name: model, username: ghost, permission: 'READ' }, A), 404, 'RESOURCE_DOES_NOT_EXIST', ghost);
        assertError(await call('DELETE', RM_PERM_DELETE, { name: model, username: ghost }, A), 404, 'RESOURCE_DOES_NOT_EXIST', ghost);
        const noModel = uniqueName('nomodel');
        assertError(await call('GET', RM_PERM_GET, { name: noModel, username: owner.name }, A), 404, 'RESOURCE_DOES_NOT_EXIST', noModel);
        assertError(await call('PATCH', RM_PERM_UPDATE, { name: noModel, username: owner.name, permission: 'READ' }, A), 404, 'RESOURCE_DOES_NOT_EXIST', noModel);
        assertError(await call('DELETE', RM_PERM_DELETE, { name: noModel, username: owner.name }, A), 404, 'RESOURCE_DOES_NOT_EXIST', noModel);
        assert.equal(assertOk(await call('GET', RM_PERM_GET, { name: model, username: owner.name }, A)).registered_model_permission.permission, 'MANAGE');
    });

    test('only MANAGE (or an admin) may call them; anonymous is 401', async () => {
        const X = other.headers;
        const routes = [
            ['GET', RM_PERM_GET, { name: model, username: owner.name }],
            ['PATCH', RM_PERM_UPDATE, { name: model, username: owner.name, permission: 'READ' }],
            ['DELETE', RM_PERM_DELETE, { name: model, username: owner.name }],
        ];
        for (const grant of [null, 'READ', 'EDIT']) {
            if (grant) assertOk(await call('POST', RM_PERM_CREATE, { name: model, username: other.name, permission: grant }, ADMIN));
            for (const [m, p, body] of routes) {
                assertError(await call(m, p, body, X), 403, 'PERMISSION_DENIED', [], `${m} ${p} with ${grant ?? 'the default'}`);
            }
            if (grant) assertOk(await call('DELETE', RM_PERM_DELETE, { name: model, username: other.name }, ADMIN));
        }
        for (const [m, p, body] of routes) assertError(await call(m, p, body), 401, 'UNAUTHENTICATED', [], `${m} ${p} anonymous`);
        assert.equal(assertOk(await call('GET', RM_PERM_GET, { name: model, username: owner.name }, ADMIN)).registered_model_permission.permission, 'MANAGE');
        assertOk(await call('POST', RM_PERM_CREATE, { name: model, username: other.name, permission: 'MANAGE' }, owner.headers));
        assert.equal(assertOk(await call('GET', RM_PERM_GET, { name: model, username: owner.name }, X)).registered_model_permission.permission, 'MANAGE');
        assert.deepEqual(assertOk(await call('PATCH', RM_PERM_UPDATE, { name: model, username: other.name, permission: 'EDIT' }, X)), {});
        assertError(await call('GET', RM_PERM_GET, { name: model, username: owner.name }, X), 403, 'PERMISSION_DENIED');
        assertOk(await call('DELETE', RM_PERM_DELETE, { name: model, username: other.name }, owner.headers));
    });
});

describe('PATCH /api/2.0/mlflow/users/update-admin', () => {
    test('makes a user an admin (users/get shows is_admin, admin-only calls work) and back', async () => {
        const u = await newUser('promote');
        const before = assertOk(await call('GET', USERS_GET, { username: u.name }, ADMIN)).user;
        assert.equal(before.is_admin, false);
        assertError(await call('GET', '/api/2.0/exptrack/audit', undefined, u.headers), 403, 'PERMISSION_DENIED');
        assert.deepEqual(assertOk(await call('PATCH', USERS_UPDATE_ADMIN, { username: u.name, is_admin: true }, ADMIN)), {});
        const got = assertOk(await call('GET', USERS_GET, { username: u.name }, ADMIN));
        assert.deepEqual(got, { user: { ...before, is_admin: true } });
        assertOk(await call('GET', '/api/2.0/exptrack/audit', undefined, u.headers));
        assert.deepEqual(assertOk(await call('PATCH', USERS_UPDATE_ADMIN, { username: u.name, is_admin: false }, ADMIN)), {});
        assert.equal(assertOk(await call('GET', USERS_GET, { username: u.name }, ADMIN)).user.is_admin, false);
        assertError(await call('GET', '/api/2.0/exptrack/audit', undefined, u.headers), 403, 'PERMISSION_DENIED');
    });

    test('missing fields, unknown user; admin-only, anonymous is 401', async () => {
        const u = await newUser('noadmin');
        assertError(await call('PATCH', USERS_UPDATE_ADMIN, { is_admin: true }, ADMIN), 400, 'INVALID_PARAMETER_VALUE', 'username');
        assertError(await call('PATCH', USERS_UPDATE_ADMIN, { username: u.name }, ADMIN), 400, 'INVALID_PARAMETER_VALUE', 'is_admin');
        const ghost = uniqueName('ghost');
        assertError(await call('PATCH', USERS_UPDATE_ADMIN, { username: ghost, is_admin: true }, ADMIN), 404, 'RESOURCE_DOES_NOT_EXIST', ghost);
        // a non-admin cannot promote anyone, itself included
        assertError(await call('PATCH', USERS_UPDATE_ADMIN, { username: u.name, is_admin: true }, u.headers), 403, 'PERMISSION_DENIED');
        assertError(await call('PATCH', USERS_UPDATE_ADMIN, { username: u.name, is_admin: true }), 401, 'UNAUTHENTICATED');
        assert.equal(assertOk(await call('GET', USERS_GET, { username: u.name }, ADMIN)).user.is_admin, false);
    });
});

describe('DELETE /api/2.0/mlflow/users/delete', () => {
    test('a deleted user can no longer sign in and users/get is 404', async () => {
        const u = await newUser('gone');
        assertOk(await call('GET', USERS_GET, { username: u.name }, u.headers));
        assert.deepEqual(assertOk(await call('DELETE', USERS_DELETE, { username: u.name }, ADMIN)), {});
        assertError(await call('GET', USERS_GET, { username: u.name }, u.headers), 401, 'UNAUTHENTICATED');
        assertError(await call('GET', '/api/2.0/mlflow/experiments/get', { experiment_id: '0' }, u.headers), 401, 'UNAUTHENTICATED');
        assertError(await call('POST', LOGIN, { username: u.name, password: u.password }), 401, 'UNAUTHENTICATED');
        assertError(await call('GET', USERS_GET, { username: u.name }, ADMIN), 404, 'RESOURCE_DOES_NOT_EXIST', u.name);
        assertError(await call('DELETE', USERS_DELETE, { username: u.name }, ADMIN), 404, 'RESOURCE_DOES_NOT_EXIST', u.name);
    });

    test('missing username, unknown user, yourself; admin-only, anonymous is 401', async () => {
        const u = await newUser('stays');
        const victim = await newUser('victim');
        assertError(await call('DELETE', USERS_DELETE, {}, ADMIN), 400, 'INVALID_PARAMETER_VALUE', 'username');
        const ghost = uniqueName('ghost');
        assertError(await call('DELETE', USERS_DELETE, { username: ghost }, ADMIN), 404, 'RESOURCE_DOES_NOT_EXIST', ghost);
        assertError(await call('DELETE', USERS_DELETE, { username: 'admin' }, ADMIN), 400, 'INVALID_PARAMETER_VALUE');
        assertError(await call('DELETE', USERS_DELETE, { username: victim.name }, u.headers), 403, 'PERMISSION_DENIED');
        assertError(await call('DELETE', USERS_DELETE, { username: u.name }, u.headers), 403, 'PERMISSION_DENIED');
        assertError(await call('DELETE', USERS_DELETE, { username: victim.name }), 401, 'UNAUTHENTICATED');
        // all still there
        assertOk(await call('GET', USERS_GET, { username: victim.name }, victim.headers));
        assertOk(await call('GET', USERS_GET, { username: u.name }, u.headers));
        assertOk(await call('GET', USERS_GET, { username: 'admin' }, ADMIN));
    });
});

describe('hostile input: a 4xx with {error_code, message}, never a 500', () => {
    let user, exp, model;
    before(async () => {
        user = await newUser('hostile');
        exp = assertOk(await call('POST', '/api/2.0/mlflow/experiments/create', { name: uniqueName('hexp') }, ADMIN)).experiment_id;
        model = uniqueName('hmodel');
        assertOk(await call('POST', '/api/2.0/mlflow/registered-models/create', { name: model }, ADMIN));
    });

    // Each route with the fields that make a valid call besides the username.
    const routes = () => [
        ['GET', EXP_PERM_GET, { experiment_id: exp }],
        ['PATCH', EXP_PERM_UPDATE, { experiment_id: exp, permission: 'READ' }],
        ['DELETE', EXP_PERM_DELETE, { experiment_id: exp }],
        ['GET', RM_PERM_GET, { name: model }],
        ['PATCH', RM_PERM_UPDATE, { name: model, permission: 'READ' }],
        ['DELETE', RM_PERM_DELETE, { name: model }],
        ['PATCH', USERS_UPDATE_ADMIN, { is_admin: true }],
        ['DELETE', USERS_DELETE, {}],
    ];
    // Bodies go as raw JSON text (GET too: the contract reads a GET's body when there is no query).
    const send = (m, p, text) => api(stack.base, m, p, undefined, { raw: text, headers: { ...ADMIN, 'content-type': 'application/json' } });
    const json = (rest, username) => JSON.stringify({ ...rest, username });

    // [what, body, what the message names]; every one is 400 INVALID_PARAMETER_VALUE
    const cases = [
        ['NUL in username', (rest) => json(rest, 'a\u0000b'), 'not valid JSON'],
        ['lone surrogate in username', (rest) => JSON.stringify(rest).replace(/^\{/, '{"username":"\\uD800"' + (Object.keys(rest).length ? ',' : '')), 'not valid JSON'],
        ['over-long username', (rest) => json(rest, 'u'.repeat(8192)), 'at most 255 bytes'],
        ['number for username', (rest) => json(rest, 12345), 'username'],
        ['malformed JSON', () => '{"username": "x", ', 'not valid JSON'],
    ];

    for (const [what, body, mention] of cases) {
        test(what, async () => {
            for (const [m, p, rest] of routes()) {
                const r = await send(m, p, body(rest));
                assertError(r, 400, 'INVALID_PARAMETER_VALUE', mention, `${what}: ${m} ${p}`);
            }
            await assertHealthy();
            // the user the hostile calls could have hit is intact
            assert.equal(assertOk(await call('GET', USERS_GET, { username: user.name }, ADMIN)).user.is_admin, false);
        });
    }

    test('NUL in a query-string username: "%00" is kept literal (server/core/url_query.c), so no such user', async () => {
        for (const [p, rest] of [[EXP_PERM_GET, { experiment_id: exp }], [RM_PERM_GET, { name: model }]]) {
            const r = await call('GET', p, { ...rest, username: 'a\u0000b' }, ADMIN);
            assertError(r, 404, 'RESOURCE_DOES_NOT_EXIST', 'a%00b', `GET ${p}`);
        }
        await assertHealthy();
    });

    test('wrong JSON types: non-digit experiment_id, is_admin as a string', async () => {
        for (const [m, p] of [['GET', EXP_PERM_GET], ['PATCH', EXP_PERM_UPDATE], ['DELETE', EXP_PERM_DELETE]]) {
            const r = await send(m, p, JSON.stringify({ experiment_id: 'abc', username: user.name, permission: 'READ' }));
            // as experiments/get (mlflow-api.md section 5: non-numeric id, prefer 404) and badinput.test.mjs
            assertError(r, 404, 'RESOURCE_DOES_NOT_EXIST', 'id=abc', `${m} ${p}`);
        }
        // ("true" and "false" as strings are read as booleans, as protobuf's JSON parser does)
        for (const v of ['yes', '1', 1, 0, null, {}, []]) {
            const r = await send('PATCH', USERS_UPDATE_ADMIN, JSON.stringify({ username: user.name, is_admin: v }));
            assertError(r, 400, 'INVALID_PARAMETER_VALUE', 'is_admin', `is_admin ${JSON.stringify(v)}`);
        }
        assert.equal(assertOk(await call('GET', USERS_GET, { username: user.name }, ADMIN)).user.is_admin, false);
        await assertHealthy();
    });

    test('session/logout: a malformed body is a 400 like everywhere (docs/api.md); an empty one clears the cookies', async () => {
        const bad = await api(stack.base, 'POST', LOGOUT, undefined, { raw: '{"a": ', headers: { 'content-type': 'application/json' } });
        assertError(bad, 400, 'INVALID_PARAMETER_VALUE', 'not valid JSON');
        const r = await api(stack.base, 'POST', LOGOUT, undefined, { raw: '', headers: { 'content-type': 'application/json' } });
        assert.deepEqual(assertOk(r), {});
        const names = r.headers.getSetCookie().map((c) => c.split('=')[0]).sort();
        assert.deepEqual(names, ['exptrack_csrf', 'exptrack_session']);
        await assertHealthy();
    });
});
