// The registry read cache (get-by-alias, model-versions/get,
// registered-models/get): read-your-writes in one process, other processes'
// writes visible as soon as their NOTIFY arrives, the cache bypassed while
// the LISTEN connection is down and resumed after it is back, no stale
// answer after deletes, renames and tag changes, and --registry-cache off.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPostgres, startServer, client, api, assertOk, assertError, uniqueName, sleep, waitUntil } from './harness.mjs';

let pg, a, b, off, solo;
before(async () => {
    pg = await startPostgres();
    a = await startServer({ databaseUrl: pg.url });
    // one request thread each: during the outage test every request runs on
    // a thread whose database connection is already open
    b = await startServer({ databaseUrl: pg.url, args: ['--threads', '1'] });
    solo = await startServer({ databaseUrl: pg.url, args: ['--threads', '1'] });
    off = await startServer({ databaseUrl: pg.url, args: ['--registry-cache', 'off'] });
}, { timeout: 120000 });
after(async () => {
    for (const s of [a, b, solo, off]) if (s) await s.stop();
    if (pg) await pg.destroy();
}, { timeout: 60000 });

/** The value of a counter in srv's /metrics. */
async function counter(srv, name) {
    const m = await api(srv.url, 'GET', '/metrics');
    const line = m.text.split('\n').find((l) => l.startsWith(`${name} `));
    assert.ok(line, `${name} in /metrics`);
    return Number(line.split(' ')[1]);
}
const hits = (srv) => counter(srv, 'exptrack_registry_cache_hits_total');
const bypassed = (srv) => counter(srv, 'exptrack_registry_cache_bypassed_total');

/** Repeats read() until srv's cache answers one of them (a notification of
 * an earlier write may invalidate the first fill); returns its result. */
async function untilHit(srv, read) {
    for (let i = 0; i < 50; i++) {
        const h0 = await hits(srv);
        const res = await read();
        if ((await hits(srv)) > h0) return res;
        await sleep(10);
    }
    assert.fail('the cache never answered');
}

/** A model with n versions; returns its name. */
async function modelWithVersions(c, n) {
    const name = uniqueName('cache');
    assertOk(await c.post('/registered-models/create', { name }));
    for (let i = 0; i < n; i++) assertOk(await c.post('/model-versions/create', { name, source: `s3://b/m/${i}` }));
    return name;
}
const setAlias = (c, name, alias, version) => c.post('/registered-models/alias', { name, alias, version: String(version) });
const byAlias = (c, name, alias) => c.get('/registered-models/alias', { name, alias });
const versionOf = async (c, name, alias) => assertOk(await byAlias(c, name, alias)).model_version.version;

test('same process: every read after an acknowledged move sees it; concurrent readers stay linearizable', async () => {
    const c = client(a.url);
    const name = await modelWithVersions(c, 5);
    assertOk(await setAlias(c, name, 'champion', 1));
    const hits0 = await hits(a);
    const moves = []; // {sent, acked, version}
    const reads = []; // {start, end, version, aliases}
    let done = false;
    const reader = async () => {
        while (!done) {
            const start = performance.now();
            const r = await byAlias(c, name, 'champion');
            const end = performance.now();
            const mv = assertOk(r).model_version;
            reads.push({ start, end, version: mv.version, aliases: mv.aliases });
        }
    };
    const readers = [reader(), reader(), reader(), reader()];
    for (let i = 0; i < 200; i++) {
        const version = String((i % 5) + 1);
        const sent = performance.now();
        assertOk(await setAlias(c, name, 'champion', version));
        const acked = performance.now();
        moves.push({ sent, acked, version });
        // read-your-writes: read twice (the second one may come from the cache)
        assert.equal(await versionOf(c, name, 'champion'), version, `round ${i}: first read after the move`);
        assert.equal(await versionOf(c, name, 'champion'), version, `round ${i}: second read after the move`);
    }
    done = true;
    await Promise.all(readers);
    assert.ok(reads.length > 200, `readers ran (${reads.length} reads)`);
    let checked = 0;
    for (const rd of reads) {
        assert.ok(rd.aliases.includes('champion'), `version ${rd.version} returned for champion holds it`);
        // allowed: the last move acknowledged before the read started, or any
        // move in flight (sent before the read ended) after it
        let k = -1;
        for (let j = 0; j < moves.length; j++) if (moves[j].acked < rd.start) k = j;
        const allowed = new Set(k >= 0 ? [moves[k].version] : ['1']);
        for (let j = k + 1; j < moves.length && moves[j].sent < rd.end; j++) allowed.add(moves[j].version);
        assert.ok(allowed.has(rd.version), `read [${rd.start.toFixed(1)}, ${rd.end.toFixed(1)}] got ${rd.version}, allowed ${[...allowed]}`);
        checked++;
    }
    assert.ok(checked > 0);
    assert.ok((await hits(a)) > hits0, 'the cache answered some of these reads');
});

test('two processes: a move through one is seen by the other within 1 s', async () => {
    const ca = client(a.url);
    const cb = client(b.url);
    const name = await modelWithVersions(ca, 2);
    assertOk(await setAlias(ca, name, 'prod', 1));
    const delays = [];
    for (let round = 0; round < 10; round++) {
        const version = String((round % 2) + 1);
        const other = version === '1' ? '2' : '1';
        assertOk(await setAlias(ca, name, 'prod', other));
        // b reads the old state until it is cached there
        await waitUntil(async () => (await versionOf(cb, name, 'prod')) === other, 1000, 'b sees the setup');
        assert.equal(await untilHit(b, () => versionOf(cb, name, 'prod')), other, 'b answered from its cache');
        assertOk(await setAlias(ca, name, 'prod', version));
        const t0 = performance.now();
        let seen;
        for (;;) {
            seen = await versionOf(cb, name, 'prod');
            if (seen === version || performance.now() - t0 > 1000) break;
        }
        const delay = performance.now() - t0;
        assert.equal(seen, version, `b saw the move within 1 s (waited ${delay.toFixed(1)} ms)`);
        delays.push(delay);
    }
    delays.sort((x, y) => x - y);
    console.log(`cross-process visibility delay over ${delays.length} moves: median ${delays[delays.length >> 1].toFixed(2)} ms, max ${delays[delays.length - 1].toFixed(2)} ms`);
});

test('never stale after a version tag, a version delete, a rename or a model delete (same and other process)', async () => {
    const ca = client(a.url);
    const cb = client(b.url);
    for (const [writer, reader] of [[ca, ca], [cb, ca]]) {
        const name = await modelWithVersions(ca, 2);
        assertOk(await setAlias(ca, name, 'a1', 1));
        assertOk(await setAlias(ca, name, 'a2', 2));
        const sameProcess = writer === reader;
        const fresh = async (fn, what) => {
            if (sameProcess) return assert.ok(await fn(), `${what}: at once`);
            await waitUntil(fn, 1000, `${what}: within 1 s`, 5);
        };
        // fill every kind of entry
        for (let i = 0; i < 2; i++) {
            assertOk(await byAlias(reader, name, 'a1'));
            assertOk(await reader.get('/model-versions/get', { name, version: '1' }));
            assertOk(await reader.get('/registered-models/get', { name }));
        }

        assertOk(await writer.post('/model-versions/set-tag', { name, version: '1', key: 'k', value: 'v1' }));
        await fresh(async () => (assertOk(await byAlias(reader, name, 'a1')).model_version.tags || []).some((t) => t.key === 'k' && t.value === 'v1'), 'tag via alias');
        await fresh(async () => (assertOk(await reader.get('/model-versions/get', { name, version: '1' })).model_version.tags || []).some((t) => t.key === 'k'), 'tag via get');

        assertOk(await writer.req('PATCH', '/registered-models/update', { name, description: 'described' }));
        await fresh(async () => assertOk(await reader.get('/registered-models/get', { name })).registered_model.description === 'described', 'model update');

        assertOk(await writer.req('DELETE', '/model-versions/delete', { name, version: '2' }));
        await fresh(async () => (await byAlias(reader, name, 'a2')).status === 400, 'alias of a deleted version');
        assertError(await byAlias(reader, name, 'a2'), 400, 'INVALID_PARAMETER_VALUE', 'a2');
        await fresh(async () => (await reader.get('/model-versions/get', { name, version: '2' })).status === 404, 'deleted version');

        const renamed = `${name}-renamed`;
        assertOk(await writer.post('/registered-models/rename', { name, new_name: renamed }));
        await fresh(async () => (await byAlias(reader, name, 'a1')).status === 404, 'old name after rename');
        assertError(await byAlias(reader, name, 'a1'), 404, 'RESOURCE_DOES_NOT_EXIST');
        assertError(await reader.get('/registered-models/get', { name }), 404, 'RESOURCE_DOES_NOT_EXIST');
        assert.equal(assertOk(await byAlias(reader, renamed, 'a1')).model_version.name, renamed);

        assertOk(await writer.req('DELETE', '/registered-models/delete', { name: renamed }));
        await fresh(async () => (await byAlias(reader, renamed, 'a1')).status === 404, 'deleted model');
        assertError(await reader.get('/model-versions/get', { name: renamed, version: '1' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    }
});

test('keys do not mix: alias case, model vs version reads, hostile names', async () => {
    const c = client(a.url);
    const name = await modelWithVersions(c, 2);
    assertOk(await setAlias(c, name, 'Champ', 1));
    assertOk(await setAlias(c, name, 'champ', 2));
    for (let i = 0; i < 3; i++) {
        assert.equal(await versionOf(c, name, 'Champ'), '1');
        assert.equal(await versionOf(c, name, 'champ'), '2');
        assert.equal(assertOk(await c.get('/model-versions/get', { name, version: '2' })).model_version.version, '2');
        assert.equal(assertOk(await c.get('/model-versions/get', { name, version: '02' })).model_version.version, '2');
        assertError(await byAlias(c, name, 'nope'), 400, 'INVALID_PARAMETER_VALUE', 'nope');
    }
    // read paths do not check name rules: an unknown name is a 404, cached or not
    for (let i = 0; i < 2; i++) {
        assertError(await byAlias(c, `${name}\u0000champ`, 'champ'), 404, 'RESOURCE_DOES_NOT_EXIST');
        assertError(await byAlias(c, 'n'.repeat(300), 'champ'), 404, 'RESOURCE_DOES_NOT_EXIST');
    }
    assertError(await byAlias(c, name, 'x'.repeat(300)), 400, 'INVALID_PARAMETER_VALUE', 'alias');
    assertError(await byAlias(c, name, 'bad alias!'), 400, 'INVALID_PARAMETER_VALUE');
    assertError(await c.get('/model-versions/get', { name, version: '99999999999999999999' }), 400, 'INVALID_PARAMETER_VALUE');
});

test('LISTEN connection lost: the cache is bypassed, other processes\' writes are seen, and it resumes after reconnect', async () => {
    const cs = client(solo.url);
    const cb = client(b.url);
    const name = await modelWithVersions(cs, 2);
    assertOk(await setAlias(cs, name, 'live', 1));
    assertOk(await byAlias(cb, name, 'live')); // b's one thread has its connection
    assert.equal(await untilHit(solo, () => versionOf(cs, name, 'live')), '1', 'cached before the outage');

    const listeners = () => Number(pg.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'exptrackd-notify'", 'postgres').trim());
    const total = listeners();
    assert.equal(total, 4, 'one LISTEN connection per exptrackd');
    // keep the hubs from reconnecting while the listeners are cut
    pg.psql('ALTER DATABASE exptrack ALLOW_CONNECTIONS false', 'postgres');
    try {
        pg.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'exptrackd-notify'", 'postgres');
        await waitUntil(() => listeners() === 0, 5000, 'listeners gone', 20);
        const by0 = await bypassed(solo);
        // no notification can reach solo now: only bypassing shows b's move
        await waitUntil(async () => {
            assertOk(await setAlias(cb, name, 'live', 2));
            return (await versionOf(cs, name, 'live')) === '2';
        }, 1000, 'solo sees b\'s move while not listening', 20);
        assert.ok((await bypassed(solo)) > by0, 'solo bypassed its cache');
        const hitsDown = await hits(solo);
        assertOk(await setAlias(cb, name, 'live', 1));
        assert.equal(await versionOf(cs, name, 'live'), '1', 'and the next move at once');
        assert.equal(await versionOf(cs, name, 'live'), '1');
        assert.equal(await hits(solo), hitsDown, 'no hit while not listening');
    } finally {
        pg.psql('ALTER DATABASE exptrack ALLOW_CONNECTIONS true', 'postgres');
    }
    await waitUntil(() => listeners() === total, 10000, 'every hub listens again', 50);
    // listening again: cross-process moves arrive by NOTIFY and the cache answers again
    assertOk(await setAlias(cb, name, 'live', 2));
    await waitUntil(async () => (await versionOf(cs, name, 'live')) === '2', 1000, 'move after reconnect', 5);
    assert.equal(await untilHit(solo, () => versionOf(cs, name, 'live')), '2', 'the cache resumed');
    assertOk(await setAlias(cb, name, 'live', 1));
    await waitUntil(async () => (await versionOf(cs, name, 'live')) === '1', 1000, 'and sees the next move', 5);
});

test('--registry-cache off: reads are right and never counted', async () => {
    const co = client(off.url);
    const ca = client(a.url);
    const name = await modelWithVersions(co, 2);
    for (let i = 0; i < 20; i++) {
        const version = String((i % 2) + 1);
        assertOk(await setAlias(i % 4 < 2 ? co : ca, name, 'x', version));
        assert.equal(await versionOf(co, name, 'x'), version);
        assert.equal(await versionOf(co, name, 'x'), version);
    }
    assert.equal(await hits(off), 0);
    assert.equal(await counter(off, 'exptrack_registry_cache_misses_total'), 0);
    const h = await api(off.url, 'GET', '/version');
    assert.equal(h.status, 200);
});

test('--auth: the permission check runs before every cached read', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exptrack-cache-auth-'));
    const pwFile = path.join(dir, 'admin-password');
    fs.writeFileSync(pwFile, 'admin-password-for-tests\n', { mode: 0o600 });
    const srv = await startServer({ databaseUrl: pg.url,
        args: ['--auth', '--admin-password-file', pwFile, '--default-permission', 'NO_PERMISSIONS'] });
    try {
        const basic = (u, p) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
        const admin = basic('admin', 'admin-password-for-tests');
        const as = (h) => ({
            get: (p, q) => api(srv.url, 'GET', `/api/2.0/mlflow${p}`, q, { headers: h }),
            post: (p, b) => api(srv.url, 'POST', `/api/2.0/mlflow${p}`, b, { headers: h }),
            req: (m, p, b) => api(srv.url, m, `/api/2.0/mlflow${p}`, b, { headers: h }),
        });
        const ca = as(admin);
        const name = await modelWithVersions(ca, 1);
        assertOk(await setAlias(ca, name, 'p', 1));
        const users = {};
        for (const u of ['reader', 'outsider']) {
            users[u] = basic(`${u}-${process.pid}`, `${u}-password-123`);
            assertOk(await ca.post('/users/create', { username: `${u}-${process.pid}`, password: `${u}-password-123` }));
        }
        assertOk(await ca.post('/registered-models/permissions/create', { name, username: `reader-${process.pid}`, permission: 'READ' }));
        // the admin fills the cache
        assert.equal(await untilHit(srv, () => versionOf(ca, name, 'p')), '1');
        const reader = as(users.reader);
        const outsider = as(users.outsider);
        for (let i = 0; i < 3; i++) {
            assert.equal(assertOk(await byAlias(reader, name, 'p')).model_version.version, '1');
            assertError(await byAlias(outsider, name, 'p'), 403, 'PERMISSION_DENIED');
            assertError(await outsider.get('/model-versions/get', { name, version: '1' }), 403, 'PERMISSION_DENIED');
            assertError(await outsider.get('/registered-models/get', { name }), 403, 'PERMISSION_DENIED');
            assertError(await byAlias(as({}), name, 'p'), 401, 'UNAUTHENTICATED');
        }
        assertOk(await ca.req('DELETE', '/registered-models/permissions/delete', { name, username: `reader-${process.pid}` }));
        assertError(await byAlias(reader, name, 'p'), 403, 'PERMISSION_DENIED');
        assert.equal(await versionOf(ca, name, 'p'), '1');
    } finally {
        await srv.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    }
});
