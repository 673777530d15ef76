// Read replicas (issue 20 point 3): a real primary and a streaming hot
// standby (pg_basebackup -R), exptrackd with --read-database-url. Reads go
// to the standby, writes to the primary; a client that just wrote reads its
// write through the LSN header or cookie; a standby killed under load costs
// no read (the primary serves them), /metrics shows it down, and it comes
// back into rotation by itself once restarted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

import { api, assertError, exptrackdPath, assertOk, client, sleep, startPostgres, startServer, uniqueName, waitUntil } from './harness.mjs';

const P = '/api/2.0/mlflow';

function metric(text, name) {
    const esc = name.replace(/[{}"]/g, (c) => `\\${c}`);
    const m = text.match(new RegExp(`^${esc} (\\S+)$`, 'm'));
    return m ? Number(m[1]) : undefined;
}

describe('read replicas', () => {
    let pg, sb, srv, c, exp;
    const metrics = async () => (await api(srv.url, 'GET', '/metrics')).text;
    const replicaUp = async () => metric(await metrics(), 'exptrack_replica_up{replica="0"}');
    const replicaReads = async () => metric(await metrics(), 'exptrack_replica_reads_total{replica="0"}');

    before(async () => {
        pg = await startPostgres();
        sb = await pg.startStandby();
        srv = await startServer({
            databaseUrl: pg.url,
            args: ['--read-database-url', sb.url, '--replica-check-interval', '100', '--threads', '4'],
        });
        c = client(srv.url);
        exp = await c.createExperiment(uniqueName('replicas'));
        await waitUntil(async () => (await replicaUp()) === 1, 20000, 'replica in rotation');
    }, { timeout: 180000 });

    after(async () => {
        if (srv) await srv.stop();
        if (sb) await sb.destroy();
        if (pg) await pg.destroy();
    }, { timeout: 60000 });

    test('writes answer their WAL position as a header and a cookie', async () => {
        const r = await c.post('/runs/create', { experiment_id: exp, start_time: Date.now() });
        assertOk(r);
        const lsn = r.headers.get('x-exptrack-lsn');
        assert.match(lsn, /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/);
        assert.match(r.headers.get('set-cookie'), new RegExp(`^exptrack_lsn=${lsn.replace('/', '\\/')}; Path=/;`));
        // the primary is at or past it
        const cmp = pg.psql(`SELECT pg_current_wal_lsn() >= '${lsn}'::pg_lsn`).trim();
        assert.equal(cmp, 't');
        // a read does not hand one out
        const g = await c.get('/runs/get', { run_id: r.json.run.info.run_id });
        assertOk(g);
        assert.equal(g.headers.get('x-exptrack-lsn'), null);
    });

    test('reads go to the standby: its connections serve them, and a paused replay shows stale reads', { timeout: 60000 }, async () => {
        const run = await c.createRun(exp);
        await waitUntil(async () => (await c.get('/runs/get', { run_id: run.info.run_id })).status === 200, 5000, 'run replicated');
        const before0 = await replicaReads();
        for (let i = 0; i < 20; i++) assertOk(await c.get('/runs/get', { run_id: run.info.run_id }));
        assertOk(await c.post('/runs/search', { experiment_ids: [exp] }));
        assert.ok((await replicaReads()) >= before0 + 21, 'the replica counted the reads');
        const onStandby = Number(sb.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'exptrackd'").trim());
        assert.ok(onStandby >= 1, 'exptrackd holds connections to the standby');

        // With replay paused the standby cannot see a new run: a plain read
        // (no position) is served by the standby and does not find it, the
        // same read carrying the write's position is served by the primary.
        sb.psql('SELECT pg_wal_replay_pause()');
        try {
            const w = await c.post('/runs/create', { experiment_id: exp, start_time: Date.now() });
            assertOk(w);
            const id = w.json.run.info.run_id;
            const lsn = w.headers.get('x-exptrack-lsn');
            assertError(await c.get('/runs/get', { run_id: id }), 404, 'RESOURCE_DOES_NOT_EXIST', [], 'read on the paused standby');
            const fallbacks0 = metric(await metrics(), 'exptrack_replica_read_fallbacks_total');
            const t0 = Date.now();
            const mine = await c.get('/runs/get', { run_id: id }, { headers: { 'x-exptrack-lsn': lsn } });
            assertOk(mine, 'read your write by header');
            assert.equal(mine.json.run.info.run_id, id);
            assert.ok(Date.now() - t0 >= 150, 'the read waited for the replica first');
            const cookie = w.headers.get('set-cookie').split(';')[0];
            assertOk(await c.get('/runs/get', { run_id: id }, { headers: { cookie: `theme=dark; ${cookie}` } }), 'read your write by cookie');
            assert.ok(metric(await metrics(), 'exptrack_replica_read_fallbacks_total') >= fallbacks0 + 2);
        } finally {
            sb.psql('SELECT pg_wal_replay_resume()');
        }
    });

    test('read-your-writes: each write read back at once through a fresh connection', { timeout: 60000 }, async () => {
        for (let i = 0; i < 40; i++) {
            const w = await c.post('/runs/create', { experiment_id: exp, start_time: Date.now(), run_name: `ryw-${i}` });
            assertOk(w);
            const id = w.json.run.info.run_id;
            const lsn = w.headers.get('x-exptrack-lsn');
            const t = await c.post('/runs/set-tag', { run_id: id, key: 'k', value: `v${i}` });
            assertOk(t);
            const g = await api(srv.url, 'GET', `${P}/runs/get`, { run_id: id },
                { headers: { 'x-exptrack-lsn': t.headers.get('x-exptrack-lsn'), connection: 'close' } });
            assertOk(g, `read ${i}`);
            assert.deepEqual(g.json.run.data.tags.filter((x) => x.key === 'k'), [{ key: 'k', value: `v${i}` }]);
            assert.ok(lsn);
        }
    });

    test('a bad position header is refused; a bad cookie is ignored', async () => {
        const run = await c.createRun(exp);
        for (const bad of ['garbage', '0/', '/1', '1/2/3', '123456789/0', '0/123456789', 'G/0', '0x1/0', '-1/0', '1/+2']) {
            assertError(await c.get('/runs/get', { run_id: run.info.run_id }, { headers: { 'x-exptrack-lsn': bad } }),
                400, 'INVALID_PARAMETER_VALUE', ['X-Exptrack-Lsn'], `header ${JSON.stringify(bad)}`);
        }
        assertError(await c.post('/runs/search', { experiment_ids: [exp] }, { headers: { 'x-exptrack-lsn': 'x'.repeat(5000) } }),
            400, 'INVALID_PARAMETER_VALUE', ['X-Exptrack-Lsn']);
        // a read whose cookie is ignored may go to a replica that has not
        // replayed the create yet (a 404, not the refusal checked here):
        // wait for the replica first
        await waitUntil(async () => (await c.get('/runs/get', { run_id: run.info.run_id }, { headers: { cookie: 'exptrack_lsn=nope' } })).status === 200,
            10000, 'the run replicated');
        for (const bad of ['exptrack_lsn=nope', 'exptrack_lsn=', 'exptrack_lsn=FFFFFFFF/FFFFFFFF0', `exptrack_lsn=${'9'.repeat(300)}`]) {
            assertOk(await c.get('/runs/get', { run_id: run.info.run_id }, { headers: { cookie: bad } }), `cookie ${bad}`);
        }
        // a position far in the future: bounded wait, then the primary
        const t0 = Date.now();
        assertOk(await c.get('/runs/get', { run_id: run.info.run_id }, { headers: { 'x-exptrack-lsn': 'FFFFFFFF/0' } }));
        assert.ok(Date.now() - t0 < 3000, `waited ${Date.now() - t0} ms`);
    });

    test('the standby killed under load: no read fails, it leaves rotation, and returns after a restart', { timeout: 120000 }, async () => {
        const run = await c.createRun(exp);
        const id = run.info.run_id;
        for (let s = 0; s < 50; s++) await c.ok('POST', '/runs/log-metric', { run_id: id, key: 'loss', value: s / 10, timestamp: Date.now(), step: s });
        await waitUntil(async () => ((await c.get('/metrics/get-history', { run_id: id, metric_key: 'loss' })).json.metrics || []).length === 50, 5000, 'history replicated');

        let stop = false;
        const failures = [];
        let reads = 0, writes = 0;
        const reader = async (k) => {
            while (!stop) {
                const which = (reads + k) % 3;
                const r = which === 0 ? await c.get('/runs/get', { run_id: id })
                    : which === 1 ? await c.post('/runs/search', { experiment_ids: [exp], max_results: 10 })
                        : await c.get('/metrics/get-history', { run_id: id, metric_key: 'loss' });
                if (r.status !== 200) failures.push(`${which}: ${r.status} ${r.text.slice(0, 200)}`);
                else if (which === 2 && r.json.metrics.length < 50) failures.push(`history of ${r.json.metrics.length} points`);
                reads++;
            }
        };
        const writer = async () => {
            let step = 50;
            while (!stop) {
                const r = await c.post('/runs/log-metric', { run_id: id, key: 'loss', value: 1, timestamp: Date.now(), step: step++ });
                if (r.status !== 200) failures.push(`write: ${r.status} ${r.text.slice(0, 200)}`);
                writes++;
            }
        };
        const load = [reader(0), reader(1), reader(2), reader(3), writer()];
        try {
            await sleep(500);
            const readsBeforeKill = await replicaReads();
            assert.ok(readsBeforeKill > 0);
            await sb.kill();
            // the health thread marks the replica down, then records its lag as
            // unknown: wait for both before reading them
            await waitUntil(async () => (await replicaUp()) === 0 &&
                metric(await metrics(), 'exptrack_replica_lag_bytes{replica="0"}') === -1, 10000, 'replica out of rotation');
            const m = await metrics();
            assert.equal(metric(m, 'exptrack_replica_lag_bytes{replica="0"}'), -1);
            assert.ok(metric(m, 'exptrack_replica_taken_out_total{replica="0"}') >= 1);
            const readsWhileDown = reads;
            await sleep(1000);
            assert.ok(reads > readsWhileDown + 5, 'reads went on while the standby was down');
            await sb.start();
            await waitUntil(async () => (await replicaUp()) === 1, 30000, 'replica back in rotation');
            const back = await replicaReads();
            await waitUntil(async () => (await replicaReads()) > back + 10, 10000, 'the replica serves reads again');
        } finally {
            stop = true;
            await Promise.all(load);
        }
        assert.deepEqual(failures, []);
        assert.ok(reads > 50 && writes > 10, `${reads} reads, ${writes} writes`);
    });
});

test('bad replica settings are refused at start, naming the flag', () => {
    const nine = Array.from({ length: 9 }, (_, i) => ['--read-database-url', `postgresql:///r${i}`]).flat();
    for (const args of [['--read-database-url', ''], nine, ['--read-wait', '-1'], ['--read-wait', '10001'],
        ['--replica-max-lag', '-5'], ['--replica-max-lag', '1e9'], ['--replica-check-interval', '5'],
        ['--replica-check-interval', '60001']]) {
        const r = spawnSync(exptrackdPath(), ['--port', '0', ...args], { encoding: 'utf8', timeout: 10000 });
        assert.equal(r.status, 2, `${args.slice(0, 2).join(' ')}: ${r.stderr}`);
        assert.ok(r.stderr.includes(args[0]), r.stderr);
    }
    const env = spawnSync(exptrackdPath(), ['--port', '0'], {
        encoding: 'utf8', timeout: 10000,
        env: { ...process.env, EXPTRACK_READ_DATABASE_URL: Array.from({ length: 9 }, (_, i) => `postgresql:///r${i}`).join(' ') },
    });
    assert.equal(env.status, 2);
    assert.ok(env.stderr.includes('EXPTRACK_READ_DATABASE_URL'), env.stderr);
});
