// Per-registered-model permissions with --auth (mlflow-models-api.md 6.1):
// the creator's MANAGE grant, the --default-permission fallback (READ here),
// grants through registered-models/permissions, rename carrying the records
// along, delete removing them, and search filtering.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useAuthStack, api, assertOk, assertError, uniqueName } from './harness.mjs';

const stack = useAuthStack({ before, after });
const ADMIN = stack.admin;
const RM = '/api/2.0/mlflow/registered-models';
const MV = '/api/2.0/mlflow/model-versions';

const newUser = stack.newUser;

describe('registered-model permissions', () => {
    let owner, other;
    before(async () => {
        owner = await newUser('owner');
        other = await newUser('other');
    });

    test('a non-admin creates a model and gets MANAGE: edits, versions, deletes it', async () => {
        const b = stack.base, O = owner.headers;
        const name = uniqueName('mine');
        assertOk(await api(b, 'POST', `${RM}/create`, { name }, { headers: O }));
        const u = assertOk(await api(b, 'GET', '/api/2.0/mlflow/users/get', { username: owner.name }, { headers: O })).user;
        assert.deepEqual(u.registered_model_permissions.filter((p) => p.name === name).map((p) => p.permission), ['MANAGE']);
        assertOk(await api(b, 'PATCH', `${RM}/update`, { name, description: 'd' }, { headers: O }));
        assertOk(await api(b, 'POST', `${RM}/set-tag`, { name, key: 'k', value: 'v' }, { headers: O }));
        assertOk(await api(b, 'POST', `${MV}/create`, { name, source: 's3://b/p' }, { headers: O }));
        assertOk(await api(b, 'POST', `${RM}/alias`, { name, alias: 'champ', version: '1' }, { headers: O }));
        assertOk(await api(b, 'DELETE', `${RM}/alias`, { name, alias: 'champ' }, { headers: O }));
        assertOk(await api(b, 'DELETE', `${MV}/delete`, { name, version: '1' }, { headers: O }));
        assertOk(await api(b, 'DELETE', `${RM}/delete`, { name }, { headers: O }));
        // deleting the model removed its permission records
        const after = assertOk(await api(b, 'GET', '/api/2.0/mlflow/users/get', { username: owner.name }, { headers: O })).user;
        assert.ok(!after.registered_model_permissions.some((p) => p.name === name));
    });

    test('another user with the default READ can read but not edit; EDIT and MANAGE grants widen that', async () => {
        const b = stack.base, O = owner.headers, X = other.headers;
        const name = uniqueName('shared');
        assertOk(await api(b, 'POST', `${RM}/create`, { name }, { headers: O }));
        assertOk(await api(b, 'POST', `${MV}/create`, { name, source: 's3://b/p' }, { headers: O }));
        assertOk(await api(b, 'GET', `${RM}/get`, { name }, { headers: X }));
        assertOk(await api(b, 'GET', `${MV}/get`, { name, version: '1' }, { headers: X }));
        assertOk(await api(b, 'POST', `${RM}/get-latest-versions`, { name }, { headers: X }));
        assertError(await api(b, 'PATCH', `${RM}/update`, { name, description: 'x' }, { headers: X }), 403, 'PERMISSION_DENIED', name);
        assertError(await api(b, 'POST', `${MV}/create`, { name, source: 's3://b/p' }, { headers: X }), 403, 'PERMISSION_DENIED');
        assertError(await api(b, 'DELETE', `${RM}/delete`, { name }, { headers: X }), 403, 'PERMISSION_DENIED');
        // only MANAGE may grant
        assertError(await api(b, 'POST', `${RM}/permissions/create`, { name, username: other.name, permission: 'MANAGE' }, { headers: X }),
            403, 'PERMISSION_DENIED');
        const g = assertOk(await api(b, 'POST', `${RM}/permissions/create`, { name, username: other.name, permission: 'EDIT' }, { headers: O }));
        assert.deepEqual(g.registered_model_permission, { name, user_id: g.registered_model_permission.user_id, permission: 'EDIT' });
        assertOk(await api(b, 'PATCH', `${RM}/update`, { name, description: 'x' }, { headers: X }));
        assertError(await api(b, 'DELETE', `${RM}/delete`, { name }, { headers: X }), 403, 'PERMISSION_DENIED');
        assertOk(await api(b, 'PATCH', `${RM}/permissions/update`, { name, username: other.name, permission: 'MANAGE' }, { headers: O }));
        const got = assertOk(await api(b, 'GET', `${RM}/permissions/get`, { name, username: other.name }, { headers: O }));
        assert.equal(got.registered_model_permission.permission, 'MANAGE');
        assertOk(await api(b, 'DELETE', `${RM}/delete`, { name }, { headers: X }));
    });

    test('permission endpoints: duplicate, missing record, unknown model', async () => {
        const b = stack.base, O = owner.headers;
        const name = uniqueName('perms');
        assertOk(await api(b, 'POST', `${RM}/create`, { name }, { headers: O }));
        assertOk(await api(b, 'POST', `${RM}/permissions/create`, { name, username: other.name, permission: 'READ' }, { headers: O }));
        assertError(await api(b, 'POST', `${RM}/permissions/create`, { name, username: other.name, permission: 'READ' }, { headers: O }),
            400, 'RESOURCE_ALREADY_EXISTS');
        assertError(await api(b, 'POST', `${RM}/permissions/create`, { name, username: other.name, permission: 'OWNER' }, { headers: O }),
            400, 'INVALID_PARAMETER_VALUE');
        assertOk(await api(b, 'DELETE', `${RM}/permissions/delete`, { name, username: other.name }, { headers: O }));
        assertError(await api(b, 'GET', `${RM}/permissions/get`, { name, username: other.name }, { headers: O }), 404, 'RESOURCE_DOES_NOT_EXIST');
        assertError(await api(b, 'POST', `${RM}/permissions/create`, { name: uniqueName('ghost'), username: other.name, permission: 'READ' }, { headers: ADMIN }),
            404, 'RESOURCE_DOES_NOT_EXIST');
    });

    test('rename moves the grants to the new name', async () => {
        const b = stack.base, O = owner.headers, X = other.headers;
        const name = uniqueName('old'), renamed = uniqueName('new');
        assertOk(await api(b, 'POST', `${RM}/create`, { name }, { headers: O }));
        assertOk(await api(b, 'POST', `${RM}/permissions/create`, { name, username: other.name, permission: 'NO_PERMISSIONS' }, { headers: O }));
        assertError(await api(b, 'GET', `${RM}/get`, { name }, { headers: X }), 403, 'PERMISSION_DENIED');
        assertOk(await api(b, 'POST', `${RM}/rename`, { name, new_name: renamed }, { headers: O }));
        // the owner still manages it, the other user still cannot read it
        assertOk(await api(b, 'PATCH', `${RM}/update`, { name: renamed, description: 'moved' }, { headers: O }));
        assertError(await api(b, 'GET', `${RM}/get`, { name: renamed }, { headers: X }), 403, 'PERMISSION_DENIED');
        const got = assertOk(await api(b, 'GET', `${RM}/permissions/get`, { name: renamed, username: owner.name }, { headers: O }));
        assert.equal(got.registered_model_permission.permission, 'MANAGE');
        assertError(await api(b, 'GET', `${RM}/permissions/get`, { name, username: owner.name }, { headers: ADMIN }), 404, 'RESOURCE_DOES_NOT_EXIST');
    });

    test('search hides unreadable models and their versions; model pages are refilled', async () => {
        const b = stack.base, O = owner.headers, X = other.headers;
        const prefix = uniqueName('srch');
        const names = [];
        for (let i = 0; i < 6; i++) {
            const name = `${prefix}-${i}`;
            names.push(name);
            assertOk(await api(b, 'POST', `${RM}/create`, { name }, { headers: O }));
            assertOk(await api(b, 'POST', `${MV}/create`, { name, source: 's3://b/p' }, { headers: O }));
            // every other model hidden from `other`
            if (i % 2 === 0) {
                assertOk(await api(b, 'POST', `${RM}/permissions/create`, { name, username: other.name, permission: 'NO_PERMISSIONS' }, { headers: O }));
            }
        }
        const visible = names.filter((_, i) => i % 2 === 1);
        const filter = `name LIKE '${prefix}-%'`;
        // pages of two: each is full, then the token ends
        const seen = [];
        let token;
        for (let page = 0; page < 5; page++) {
            const r = assertOk(await api(b, 'GET', `${RM}/search`, { filter, max_results: 2, order_by: ['name ASC'], ...(token ? { page_token: token } : {}) }, { headers: X }));
            const got = (r.registered_models || []).map((m) => m.name);
            seen.push(...got);
            token = r.next_page_token;
            if (!token) break;
            assert.equal(got.length, 2, 'a page with a token is full');
        }
        assert.deepEqual(seen, visible);
        // the owner and the admin see all six
        const all = assertOk(await api(b, 'GET', `${RM}/search`, { filter, max_results: 100 }, { headers: O }));
        assert.equal(all.registered_models.length, 6);
        const versions = assertOk(await api(b, 'GET', `${MV}/search`, { filter: `name LIKE '${prefix}-%'` }, { headers: X }));
        assert.deepEqual((versions.model_versions || []).map((v) => v.name).sort(), visible);
        const allv = assertOk(await api(b, 'GET', `${MV}/search`, { filter: `name LIKE '${prefix}-%'` }, { headers: ADMIN }));
        assert.equal(allv.model_versions.length, 6);
    });
});

describe('model-versions/get-artifact needs READ on the model (6.1)', () => {
    test('NO_PERMISSIONS -> 403, READ -> the file, no credentials -> 401', async () => {
        const b = stack.base;
        const owner = await newUser('artowner');
        const reader = await newUser('artreader');
        const O = owner.headers;
        const exp = assertOk(await api(b, 'POST', '/api/2.0/mlflow/experiments/create', { name: uniqueName('mvart') }, { headers: O })).experiment_id;
        const run = assertOk(await api(b, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp, start_time: Date.now() }, { headers: O })).run;
        const root = run.info.artifact_uri;
        const up = await fetch(`${b}/api/2.0/mlflow-artifacts/artifacts/${root.slice('mlflow-artifacts:/'.length)}/model/MLmodel`,
            { method: 'PUT', body: 'flavors: {}\n', headers: O });
        assert.equal(up.status, 200, await up.text());
        const name = uniqueName('artmodel');
        assertOk(await api(b, 'POST', `${RM}/create`, { name }, { headers: O }));
        assertOk(await api(b, 'POST', `${MV}/create`, { name, source: `${root}/model` }, { headers: O }));
        const query = { name, version: '1', path: 'MLmodel' };
        for (const mount of ['/model-versions/get-artifact', '/ajax-api/2.0/mlflow/model-versions/get-artifact']) {
            const ok = await api(b, 'GET', mount, query, { headers: O });
            assert.equal(ok.status, 200, ok.text);
            assert.equal(ok.text, 'flavors: {}\n');
            assert.equal((await api(b, 'GET', mount, query)).status, 401);
        }
        assertOk(await api(b, 'POST', `${RM}/permissions/create`, { name, username: reader.name, permission: 'NO_PERMISSIONS' }, { headers: O }));
        assertError(await api(b, 'GET', '/ajax-api/2.0/mlflow/model-versions/get-artifact', query, { headers: reader.headers }), 403, 'PERMISSION_DENIED');
        assertOk(await api(b, 'PATCH', `${RM}/permissions/update`, { name, username: reader.name, permission: 'READ' }, { headers: O }));
        const read = await api(b, 'GET', '/model-versions/get-artifact', query, { headers: reader.headers });
        assert.equal(read.status, 200, read.text);
        assert.equal(read.text, 'flavors: {}\n');
    });
});
