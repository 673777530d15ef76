// The registry's audit trail (docs/api-extensions.md): every registry change
// writes one audit_log row in its own transaction with the model, version,
// field and the value before and after; GET /api/2.0/exptrack/registered-
// models/audit reads a model's rows newest first (READ on the model), a
// rename keeps the history reachable, and with --auth the rows name the user.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useStack, startServer, api, assertOk, assertError, uniqueName } from './harness.mjs';

const stack = useStack({ before, after });
const AUDIT = '/api/2.0/exptrack/registered-models/audit';
const RM = '/api/2.0/mlflow/registered-models';
const MV = '/api/2.0/mlflow/model-versions';

// The rows of a model, oldest first, as [action, version, field, old, new].
async function trail(base, name, query = {}, headers = {}) {
    const r = assertOk(await api(base, 'GET', AUDIT, { name, max_results: 1000, ...query }, { headers }));
    return r.entries.reverse().map((e) => [e.action, e.version ?? null, e.field ?? null, e.old_value ?? null, e.new_value ?? null]);
}

describe('registry audit trail (authentication off)', () => {
    test('every change kind, with from and to values, newest first', async () => {
        const b = stack.base, name = uniqueName('audited');
        assertOk(await api(b, 'POST', `${RM}/create`, { name, description: 'first' }));
        assertOk(await api(b, 'PATCH', `${RM}/update`, { name, description: 'second' }));
        assertOk(await api(b, 'POST', `${RM}/set-tag`, { name, key: 'team', value: 'a' }));
        assertOk(await api(b, 'POST', `${RM}/set-tag`, { name, key: 'team', value: 'b' }));
        assertOk(await api(b, 'DELETE', `${RM}/delete-tag`, { name, key: 'team' }));
        for (let i = 0; i < 3; i++) assertOk(await api(b, 'POST', `${MV}/create`, { name, source: `s3://b/v${i + 1}` }));
        assertOk(await api(b, 'PATCH', `${MV}/update`, { name, version: '1', description: 'v1 notes' }));
        assertOk(await api(b, 'POST', `${MV}/transition-stage`, { name, version: '1', stage: 'staging' }));
        assertOk(await api(b, 'POST', `${MV}/transition-stage`, { name, version: '2', stage: 'Production' }));
        assertOk(await api(b, 'POST', `${MV}/transition-stage`, { name, version: '3', stage: 'Production', archive_existing_versions: true }));
        assertOk(await api(b, 'POST', `${RM}/alias`, { name, alias: 'champion', version: '2' }));
        assertOk(await api(b, 'POST', `${RM}/alias`, { name, alias: 'champion', version: '3' }));
        assertOk(await api(b, 'POST', `${RM}/alias`, { name, alias: 'old', version: '1' }));
        assertOk(await api(b, 'DELETE', `${RM}/alias`, { name, alias: 'champion' }));
        assertOk(await api(b, 'POST', `${MV}/set-tag`, { name, version: '3', key: 'q', value: 'ok' }));
        assertOk(await api(b, 'DELETE', `${MV}/delete-tag`, { name, version: '3', key: 'q' }));
        assertOk(await api(b, 'DELETE', `${MV}/delete`, { name, version: '1' }));
        const r = assertOk(await api(b, 'GET', AUDIT, { name }));
        assert.ok(r.entries.every((e, i) => i === 0 || e.id < r.entries[i - 1].id), 'newest first');
        assert.ok(r.entries.every((e) => e.username === '' && e.model === name && typeof e.time === 'number'));
        assert.deepEqual(await trail(b, name), [
            ['model.create', null, 'name', null, name],
            ['model.update', null, 'description', 'first', 'second'],
            ['model.tag.set', null, 'tags.team', null, 'a'],
            ['model.tag.set', null, 'tags.team', 'a', 'b'],
            ['model.tag.delete', null, 'tags.team', 'b', null],
            ['version.create', '1', 'source', null, 's3://b/v1'],
            ['version.create', '2', 'source', null, 's3://b/v2'],
            ['version.create', '3', 'source', null, 's3://b/v3'],
            ['version.update', '1', 'description', '', 'v1 notes'],
            ['version.stage', '1', 'stage', 'None', 'Staging'],
            ['version.stage', '2', 'stage', 'None', 'Production'],
            ['version.stage', '3', 'stage', 'None', 'Production'],
            ['version.stage', '2', 'stage', 'Production', 'Archived'],
            ['alias.set', '2', 'aliases.champion', null, '2'],
            ['alias.set', '3', 'aliases.champion', '2', '3'],
            ['alias.set', '1', 'aliases.old', null, '1'],
            ['alias.delete', '3', 'aliases.champion', '3', null],
            ['version.tag.set', '3', 'tags.q', null, 'ok'],
            ['version.tag.delete', '3', 'tags.q', 'ok', null],
            ['version.delete', '1', 'stage', 'Staging', null],
            ['alias.delete', '1', 'aliases.old', '1', null],
        ]);
        // "who promoted version 3 to Production, and when"
        const v3 = assertOk(await api(b, 'GET', AUDIT, { name, version: '3' })).entries;
        assert.ok(v3.every((e) => e.version === '3'));
        const promo = v3.find((e) => e.field === 'stage' && e.new_value === 'Production');
        assert.equal(promo.old_value, 'None');
        assert.ok(Math.abs(promo.time - Date.now()) < 60000);
        // the admin listing shows the same fields
        const all = assertOk(await api(b, 'GET', '/api/2.0/exptrack/audit', { max_results: 1000 })).entries;
        const row = all.find((e) => e.id === promo.id);
        assert.equal(row.model, name);
        assert.equal(row.version, 3);
        assert.equal(row.field, 'stage');
        assert.equal(row.new_value, 'Production');
        // deleting the model is recorded, and the history stays readable
        assertOk(await api(b, 'DELETE', `${RM}/delete`, { name }));
        assert.deepEqual((await trail(b, name)).at(-1), ['model.delete', null, 'name', name, null]);
    });

    test('a failed change writes nothing; a rename keeps the history under the new name', async () => {
        const b = stack.base, name = uniqueName('old'), renamed = uniqueName('new');
        assertOk(await api(b, 'POST', `${RM}/create`, { name }));
        assertOk(await api(b, 'POST', `${MV}/create`, { name, source: 's3://b/x' }));
        assertError(await api(b, 'POST', `${MV}/transition-stage`, { name, version: '9', stage: 'Production' }), 404, 'RESOURCE_DOES_NOT_EXIST');
        assertError(await api(b, 'POST', `${RM}/alias`, { name, alias: 'a', version: '9' }), 404, 'RESOURCE_DOES_NOT_EXIST');
        assert.equal((await trail(b, name)).length, 2);
        assertOk(await api(b, 'POST', `${RM}/rename`, { name, new_name: renamed }));
        assertOk(await api(b, 'POST', `${MV}/transition-stage`, { name: renamed, version: '1', stage: 'Staging' }));
        assert.deepEqual(await trail(b, renamed), [
            ['model.create', null, 'name', null, name],
            ['version.create', '1', 'source', null, 's3://b/x'],
            ['model.rename', null, 'name', name, renamed],
            ['version.stage', '1', 'stage', 'None', 'Staging'],
        ]);
        assert.deepEqual(await trail(b, renamed, { version: 1 }), [
            ['version.create', '1', 'source', null, 's3://b/x'],
            ['version.stage', '1', 'stage', 'None', 'Staging'],
        ]);
        assert.deepEqual(await trail(b, name), [], 'nothing left under the old name');
    });

    test('paging: max_results and offset tokens, only when more rows exist', async () => {
        const b = stack.base, name = uniqueName('paged');
        assertOk(await api(b, 'POST', `${RM}/create`, { name }));
        for (let i = 0; i < 4; i++) assertOk(await api(b, 'POST', `${RM}/set-tag`, { name, key: 'k', value: String(i) }));
        const ids = [];
        let token, pages = 0;
        do {
            const r = assertOk(await api(b, 'GET', AUDIT, { name, max_results: 2, page_token: token }));
            assert.ok(r.entries.length <= 2);
            ids.push(...r.entries.map((e) => e.id));
            token = r.next_page_token;
            pages++;
        } while (token);
        assert.equal(pages, 3);
        assert.equal(ids.length, 5);
        assert.deepEqual(ids, [...ids].sort((x, y) => y - x));
        const exact = assertOk(await api(b, 'GET', AUDIT, { name, max_results: 5 }));
        assert.equal(exact.next_page_token, undefined);
    });

    test('hostile inputs answer 400 and never 500', async () => {
        const b = stack.base;
        assertError(await api(b, 'GET', AUDIT, {}), 400, 'INVALID_PARAMETER_VALUE', ['name']);
        assertError(await api(b, 'GET', AUDIT, { name: '' }), 400, 'INVALID_PARAMETER_VALUE', ['name']);
        for (const version of ['abc', '0', '-1', '1.5', '99999999999999999999', ' 1']) {
            assertError(await api(b, 'GET', AUDIT, { name: 'm', version }), 400, 'INVALID_PARAMETER_VALUE', ['version'], version);
        }
        for (const max_results of ['0', '1001', 'x', '-5', '18446744073709551616']) {
            assertError(await api(b, 'GET', AUDIT, { name: 'm', max_results }), 400, 'INVALID_PARAMETER_VALUE', ['max_results'], max_results);
        }
        assertError(await api(b, 'GET', AUDIT, { name: 'm', page_token: 'nope' }), 400, 'INVALID_PARAMETER_VALUE', ['page token']);
        for (const raw of ['name=a%00b', 'name=%ED%A0%80', 'name=%FF', `name=${'x'.repeat(5000)}`]) {
            const r = await api(b, 'GET', `${AUDIT}?${raw}`);
            assert.ok(r.status === 400 || (r.status === 200 && r.json.entries.length === 0), `${raw.slice(0, 20)}: ${r.status}`);
        }
        // a name that was never a model: an empty trail
        assert.deepEqual(assertOk(await api(b, 'GET', AUDIT, { name: uniqueName('never') })).entries, []);
    });
});

describe('registry audit trail (--auth)', () => {
    let srv, dir;
    const basic = (u, p) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
    const ADMIN = basic('admin', 'admin-password-for-audit');
    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exptrack-audit-'));
        fs.writeFileSync(path.join(dir, 'pw'), 'admin-password-for-audit\n', { mode: 0o600 });
        srv = await startServer({ databaseUrl: stack.pg.url, args: ['--auth', '--admin-password-file', path.join(dir, 'pw')] });
    });
    after(async () => {
        if (srv) await srv.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    async function newUser() {
        const name = uniqueName('u');
        assertOk(await api(srv.url, 'POST', '/api/2.0/mlflow/users/create', { username: name, password: `${name}-pw-1234` }, { headers: ADMIN }));
        return { name, headers: basic(name, `${name}-pw-1234`) };
    }

    test('rows name the user; READ on the model is needed; one row per change in the admin listing', async () => {
        const owner = await newUser(), other = await newUser(), blocked = await newUser();
        const b = srv.url, O = owner.headers, name = uniqueName('secured');
        assertOk(await api(b, 'POST', `${RM}/create`, { name }, { headers: O }));
        assertOk(await api(b, 'POST', `${MV}/create`, { name, source: 's3://b/x' }, { headers: O }));
        assertOk(await api(b, 'POST', `${MV}/transition-stage`, { name, version: '1', stage: 'Production' }, { headers: ADMIN }));
        const rows = assertOk(await api(b, 'GET', AUDIT, { name }, { headers: O })).entries;
        assert.deepEqual(rows.map((e) => [e.username, e.action]), [
            ['admin', 'version.stage'], [owner.name, 'version.create'], [owner.name, 'model.create']]);
        // the default permission (READ) lets another user read it
        assert.equal(assertOk(await api(b, 'GET', AUDIT, { name }, { headers: other.headers })).entries.length, 3);
        // NO_PERMISSIONS on the model: 403, and anonymous: 401
        assertOk(await api(b, 'POST', `${RM}/permissions/create`, { name, username: blocked.name, permission: 'NO_PERMISSIONS' }, { headers: O }));
        assertError(await api(b, 'GET', AUDIT, { name }, { headers: blocked.headers }), 403, 'PERMISSION_DENIED');
        assert.equal((await api(b, 'GET', AUDIT, { name })).status, 401);
        // a refused change is not in the trail
        assertError(await api(b, 'POST', `${MV}/transition-stage`, { name, version: '1', stage: 'Archived' }, { headers: blocked.headers }), 403, 'PERMISSION_DENIED');
        assert.equal(assertOk(await api(b, 'GET', AUDIT, { name }, { headers: O })).entries.length, 3);
        const all = assertOk(await api(b, 'GET', '/api/2.0/exptrack/audit', { max_results: 1000 }, { headers: ADMIN })).entries;
        // (the permissions grant above is not a registry change: it keeps its generic row)
        const mine = all.filter((e) => (e.model === name || (e.target || '').includes(name)) && !e.action.includes('/permissions/'));
        assert.equal(mine.filter((e) => e.status === 200).length, 3, 'one row per successful change, not two');
        assert.ok(!mine.some((e) => e.username === blocked.name), 'the refused change left no row');
        assert.deepEqual(mine.filter((e) => e.model === name).map((e) => e.username).sort(), ['admin', owner.name, owner.name].sort());
    });
});
