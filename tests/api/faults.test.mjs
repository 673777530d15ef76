// Faults from below and from outside: the database's disk filling up (a tiny
// tmpfs tablespace under the metric points table) and slowloris connections
// that trickle request headers and never finish them.
//
// Disk full: every log-batch acknowledged before the disk filled is stored and
// readable; the failing writes get 507 RESOURCE_EXHAUSTED saying the database
// is out of disk space (never a 500) and store nothing; once space is freed,
// writes work again in the same exptrackd process. Needs root (to mount the
// tmpfs; CI runs as root) and is skipped with the reason otherwise.
//
// Slowloris: 200 connections sending one header byte a second do not slow the
// API down, and with --header-timeout 2 such a connection is closed within a
// few seconds.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { useStack, client, api, assertOk, assertError, uniqueName, startServer, sleep } from './harness.mjs';

const stack = useStack({ before, after });

// ---------------------------------------------------------------------------
// disk full

const TABLESPACE = 'exptrack_faults_ts';
const BATCH = 1000; // points per log-batch while filling

// Mount points this process made and has not unmounted yet: unmounted (lazily
// if busy) even when the test process dies half-way.
const mounts = new Set();
process.on('exit', () => {
    for (const m of mounts) unmount(m);
});

function isMounted(dir) {
    const real = fs.realpathSync(dir);
    return fs.readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === real);
}

// Unmounts dir (lazily when something still holds it) and removes it.
function unmount(dir) {
    try {
        if (isMounted(dir)) {
            const r = spawnSync('umount', [dir], { encoding: 'utf8' });
            if (r.status !== 0) spawnSync('umount', ['-l', dir], { encoding: 'utf8' });
        }
        if (!isMounted(dir)) {
            fs.rmSync(dir, { recursive: true, force: true });
            mounts.delete(dir);
        }
    } catch { /* best effort: reported by the test's own assertion */ }
}

// Why the disk-full test cannot run here, or null when it can.
function diskFullSkipReason() {
    if (process.platform !== 'linux') return 'needs Linux (tmpfs mount)';
    if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
        return 'needs root to mount a tmpfs for the tablespace (CI runs as root)';
    }
    return null;
}

// A size-limited tmpfs with an empty directory owned by the cluster's account.
function mountTinyDisk(sizeMiB, owner) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exptrack-faults-disk-'));
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0755`, 'tmpfs', dir], { encoding: 'utf8' });
    if (r.status !== 0) {
        fs.rmSync(dir, { recursive: true, force: true });
        return { error: `mount -t tmpfs failed: ${(r.stderr || String(r.error)).trim()}` };
    }
    mounts.add(dir);
    const location = path.join(dir, 'ts');
    fs.mkdirSync(location, { mode: 0o700 });
    fs.chownSync(location, owner.uid, owner.gid);
    return { dir, location };
}

function metricsText(base) {
    return api(base, 'GET', '/metrics').then((r) => {
        assert.equal(r.status, 200);
        return r.text;
    });
}

function counterValue(text, series) {
    const line = text.split('\n').find((l) => l.startsWith(series + ' '));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function assertDiskFull(r, what) {
    assert.notEqual(r.status, 500, `${what}: a full disk must not be a 500: ${r.text}`);
    assertError(r, 507, 'RESOURCE_EXHAUSTED', ['out of disk space'], what);
    assert.equal(r.headers.get('retry-after'), null, `${what}: 507 carries no Retry-After`);
}

/**
 * Writes points of metric 'fill' with steps no write reused, and keeps the
 * books: acked[step] = 1 for every point of a write answered 200. A write
 * that is not answered 200 must be a 507 (the caller says whether a 507 is
 * expected at all); its points must never show up.
 */
function ledger(c, run) {
    const L = { next: 0, acked: new Uint8Array(1 << 20), nacked: 0, lastAcked: -1, fails: 0 };
    L.write = async (n, how = 'batch') => {
        const first = L.next;
        L.next += n;
        const pts = [];
        for (let step = first; step < first + n; step++) {
            pts.push({ key: 'fill', value: step / 3, timestamp: 1700000000000 + step, step });
        }
        const r = how === 'metric'
            ? await c.post('/runs/log-metric', { run_id: run, ...pts[0] })
            : await c.post('/runs/log-batch', { run_id: run, metrics: pts }, { timeoutMs: 60000 });
        if (r.status === 200) {
            for (let step = first; step < first + n; step++) L.acked[step] = 1;
            L.nacked += n;
            L.lastAcked = first + n - 1;
            return true;
        }
        assertDiskFull(r, `${how} of ${n} point(s) at step ${first}`);
        L.fails += 1;
        return false;
    };
    // Writes n-point requests until one fails (at most `limit` tries); true if one did.
    L.untilFull = async (n, how, limit) => {
        for (let i = 0; i < limit; i++) if (!(await L.write(n, how))) return true;
        return false;
    };
    // The stored series is exactly the acknowledged points.
    L.check = async (what) => {
        const r = await api(c.base, 'GET', `${c.prefix}/metrics/get-history`, { run_id: run, metric_key: 'fill' }, { timeoutMs: 120000 });
        const history = assertOk(r, `${what}: get-history`).metrics ?? [];
        const seen = new Uint8Array(L.next);
        for (const m of history) {
            assert.ok(m.step < L.next && L.acked[m.step] === 1, `${what}: point at step ${m.step} was never acknowledged`);
            assert.equal(seen[m.step], 0, `${what}: step ${m.step} stored twice`);
            assert.equal(m.value, m.step / 3, `${what}: value at step ${m.step}`);
            seen[m.step] = 1;
        }
        assert.equal(history.length, L.nacked, `${what}: ${history.length} points stored, ${L.nacked} acknowledged`);
        const latest = (await c.getRun(run)).data.metrics.find((m) => m.key === 'fill');
        assert.equal(latest.step, L.lastAcked, `${what}: latest metric is the last acknowledged point`);
    };
    return L;
}

describe('database disk full', () => {
    const reason = diskFullSkipReason();

    test('507 RESOURCE_EXHAUSTED when the disk fills; acknowledged points kept; writes resume once space is freed',
        { skip: reason ?? false, timeout: 300000 }, async (t) => {
            const st = fs.statSync(stack.pg.dataDir); // the account the cluster runs as
            const disk = mountTinyDisk(8, { uid: st.uid, gid: st.gid });
            if (disk.error) {
                t.skip(`cannot simulate a full disk here: ${disk.error}`);
                return;
            }
            let moved = false;
            try {
                const psql = (sql) => stack.pg.psql(sql);
                psql(`CREATE TABLESPACE ${TABLESPACE} LOCATION '${disk.location}'`);
                // metrics is partitioned (schema 0020): every partition and its
                // primary key index move, whichever one holds the run's points
                const parts = psql("SELECT string_agg(relid::regclass::text, ' ') FROM pg_partition_tree('metrics') WHERE isleaf").trim().split(' ');
                assert.equal(parts.length, 16, 'metrics has its 16 partitions');
                const moveMetrics = (space) => psql(parts.map((p) => `ALTER TABLE ${p} SET TABLESPACE ${space}; ALTER INDEX ${p}_pkey SET TABLESPACE ${space};`).join(' '));
                moveMetrics(TABLESPACE);
                moved = true;
                assert.equal(psql(`SELECT count(*) FROM pg_class WHERE relname LIKE 'metrics\\_p%'
                    AND reltablespace = (SELECT oid FROM pg_tablespace WHERE spcname = '${TABLESPACE}')`).trim(), '32');

                const c = client(stack.base);
                const exp = await c.createExperiment(uniqueName('diskfull'));
                const run = (await c.createRun(exp)).info.run_id;
                const errorsBefore = counterValue(await metricsText(stack.base), 'exptrack_db_errors_total{status="disk_full"}');
                assert.equal(typeof errorsBefore, 'number', 'disk_full errors counter exported');

                // Fill with 1000-point batches (8 MiB holds roughly 60k points), then
                // with smaller writes down to single points, which go through the
                // group commit, until each kind has failed. Space freed by the
                // failed writes' dead rows may let a later small write fit: that
                // one is then acknowledged and must be kept like the others.
                const L = ledger(c, run);
                assert.ok(await L.untilFull(BATCH, 'batch', 1000), 'the tablespace never filled up');
                assert.ok(L.nacked >= 10 * BATCH, `only ${L.nacked} points fitted before the first failure`);
                assert.ok(await L.untilFull(100, 'batch', 2000), '100-point batches never failed');
                assert.ok(await L.untilFull(10, 'batch', 2000), '10-point batches never failed');
                assert.ok(await L.untilFull(1, 'metric', 2000), 'log-metric never failed');
                assert.ok(await L.untilFull(BATCH, 'batch', 20), '1000-point batches kept succeeding on the full disk');
                // writes that do not touch the full tablespace, and reads, carry on
                assertOk(await c.post('/runs/set-tag', { run_id: run, key: 'while-full', value: 'yes' }));
                assert.equal((await c.getRun(run)).data.tags.find((x) => x.key === 'while-full')?.value, 'yes');
                const errorsAfter = counterValue(await metricsText(stack.base), 'exptrack_db_errors_total{status="disk_full"}');
                assert.ok(errorsAfter >= errorsBefore + L.fails, `disk_full errors counted: ${errorsBefore} -> ${errorsAfter}, ${L.fails} failed writes`);
                t.diagnostic(`${L.nacked} points acknowledged, ${L.fails} writes failed with 507 while full`);

                // every acknowledged point is there and readable; nothing of the failed writes is
                await L.check('while full');

                // free space: the table goes back to the main disk; same exptrackd process
                moveMetrics('pg_default');
                moved = false;
                psql(`DROP TABLESPACE ${TABLESPACE}`);
                assert.ok(!stack.srv.exited(), 'exptrackd kept running');
                for (let i = 0; i < 3; i++) assert.ok(await L.write(BATCH), 'log-batch after space was freed');
                assert.ok(await L.write(10), 'small log-batch after space was freed');
                assert.ok(await L.write(1, 'metric'), 'log-metric after space was freed');
                await L.check('after space was freed');
                assert.equal(psql(`SELECT count(*) FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.run_uuid = '${run}'`).trim(),
                    String(L.nacked));

                // no corruption: the table and its index check clean (amcheck, when installed)
                let checked = false;
                try {
                    psql('CREATE EXTENSION IF NOT EXISTS amcheck');
                    checked = true;
                } catch { /* contrib not installed: the row counts above are the check */ }
                if (checked) {
                    for (const p of parts) {
                        psql(`SELECT bt_index_parent_check('${p}_pkey'::regclass, true)`);
                        assert.equal(psql(`SELECT count(*) FROM verify_heapam('${p}'::regclass)`).trim(), '0', `heap check of ${p}`);
                    }
                }
            } finally {
                if (moved) {
                    let leaves = [];
                    try {
                        leaves = stack.pg.psql("SELECT string_agg(relid::regclass::text, ' ') FROM pg_partition_tree('metrics') WHERE isleaf").trim().split(' ');
                    } catch { /* PostgreSQL gone */ }
                    for (const p of leaves) {
                        try { stack.pg.psql(`ALTER TABLE ${p} SET TABLESPACE pg_default`); } catch { /* full, or PostgreSQL gone */ }
                        try { stack.pg.psql(`ALTER INDEX ${p}_pkey SET TABLESPACE pg_default`); } catch { /* same */ }
                    }
                }
                try { stack.pg.psql(`DROP TABLESPACE IF EXISTS ${TABLESPACE}`); } catch { /* still in use: the unmount is lazy then */ }
                unmount(disk.dir);
            }
            assert.ok(!mounts.has(disk.dir), `tmpfs at ${disk.dir} left mounted`);
        });
});

// ---------------------------------------------------------------------------
// slowloris

const SLOW_HEADER = 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slowloris\r\n' +
    'X-Padding: ' + 'a'.repeat(200);

/**
 * Opens n connections that send SLOW_HEADER one byte per interval and never
 * finish it. Returns {sockets, closedAt[], opened[], stop()}.
 */
async function slowConnections(base, n, intervalMs = 1000) {
    const u = new URL(base);
    const state = { sockets: [], opened: [], closedAt: [], sent: [] };
    const connects = [];
    for (let i = 0; i < n; i++) {
        connects.push(new Promise((resolve) => {
            const s = net.connect({ host: u.hostname, port: Number(u.port) });
            state.sockets[i] = s;
            state.sent[i] = 0;
            state.closedAt[i] = null;
            s.setNoDelay(true);
            s.on('error', () => { /* a reset is a close here */ });
            s.on('close', () => { state.closedAt[i] = Date.now(); resolve(); });
            s.on('data', () => { /* a 408 or similar may come before the close */ });
            s.on('connect', () => {
                state.opened[i] = Date.now();
                s.write(SLOW_HEADER[0]);
                state.sent[i] = 1;
                resolve();
            });
        }));
    }
    await Promise.all(connects);
    const timer = setInterval(() => {
        for (let i = 0; i < n; i++) {
            const s = state.sockets[i];
            if (state.closedAt[i] !== null || s.destroyed) continue;
            s.write(SLOW_HEADER[state.sent[i] % SLOW_HEADER.length]);
            state.sent[i] += 1;
        }
    }, intervalMs);
    state.open = () => state.closedAt.filter((x) => x === null).length;
    state.stop = () => {
        clearInterval(timer);
        for (const s of state.sockets) s.destroy();
    };
    return state;
}

describe('slowloris', () => {
    test('200 connections trickling headers: the API still answers promptly', { timeout: 120000 }, async () => {
        const c = client(stack.base);
        const exp = await c.createExperiment(uniqueName('slow'));
        const run = (await c.createRun(exp)).info.run_id;
        const slow = await slowConnections(stack.base, 200);
        try {
            await sleep(1500); // every slow connection has sent a few bytes
            const lat = [];
            for (let i = 0; i < 24; i++) {
                const calls = [
                    () => c.post('/runs/log-batch', { run_id: run, metrics: [{ key: 'm', value: i, timestamp: i, step: i }] }),
                    () => c.get('/runs/get', { run_id: run }),
                    () => c.post('/runs/search', { experiment_ids: [exp], filter: 'metrics.m >= 0' }),
                    () => api(stack.base, 'GET', '/health'),
                ];
                const t0 = Date.now();
                const r = await calls[i % calls.length]();
                lat.push(Date.now() - t0);
                assert.equal(r.status, 200, `request ${i}: ${r.text}`);
                await sleep(250);
            }
            lat.sort((a, b) => a - b);
            const max = lat[lat.length - 1];
            assert.ok(max < 3000, `slowest API request took ${max} ms with 200 slow connections open (latencies ${lat.join(',')})`);
            // the test really held them open (default --header-timeout is 30 s)
            assert.ok(slow.open() >= 190, `only ${slow.open()} of 200 slow connections were still open`);
            assert.equal((await c.get('/metrics/get-history', { run_id: run, metric_key: 'm' })).json.metrics.length, 6);
        } finally {
            slow.stop();
        }
    });

    test('--header-timeout 2 closes a connection whose headers never complete', { timeout: 60000 }, async () => {
        const srv = await startServer({ databaseUrl: stack.pg.url, args: ['--header-timeout', '2'] });
        try {
            const slow = await slowConnections(srv.url, 5);
            try {
                const deadline = Date.now() + 10000;
                while (slow.open() > 0 && Date.now() < deadline) await sleep(50);
                for (let i = 0; i < 5; i++) {
                    assert.notEqual(slow.closedAt[i], null, `slow connection ${i} still open 10 s after it opened (sent ${slow.sent[i]} bytes)`);
                    const s = (slow.closedAt[i] - slow.opened[i]) / 1000;
                    assert.ok(s <= 2 + 3, `slow connection ${i} closed after ${s} s, header timeout is 2 s`);
                    assert.ok(s >= 1.5, `slow connection ${i} closed after ${s} s, before its header timeout of 2 s`);
                }
            } finally {
                slow.stop();
            }
            // a prompt client on the same server is unaffected
            assert.equal((await api(srv.url, 'GET', '/health')).status, 200);
            assert.ok(!srv.exited());
        } finally {
            await srv.stop();
        }
    });
});
