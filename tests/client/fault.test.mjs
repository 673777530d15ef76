// Exactly-once delivery under faults, with real processes: exptrackd is
// kill -9'd and restarted twice and PostgreSQL restarted once while one
// process logs 100,000 points; the same with 8 runs, so that several
// requests are in flight when exptrackd dies, and down long enough that
// batches go to the spool and are replayed; a run started while the server is down
// completes once it comes up; a spool left by a kill -9'd logger is replayed
// by `exptrack sync`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPostgres, startServer, uniqueName, sleep, waitUntil } from '../api/harness.mjs';

const BIN = process.env.EXPTRACK_BIN_DIR || path.resolve('build', 'bin');
let pg;
let srv;
let port;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'exptrack-fault-'));

before(async () => {
    pg = await startPostgres();
    srv = await startServer({ databaseUrl: pg.url });
    port = new URL(srv.url).port;
}, { timeout: 120000 });
after(async () => {
    if (srv) await srv.stop();
    if (pg) await pg.destroy();
    fs.rmSync(tmp, { recursive: true, force: true });
}, { timeout: 60000 });

// A promise resolving to {timeout: true} after ms, not keeping node alive.
const deadline = (ms) => new Promise((resolve) => setTimeout(() => resolve({ timeout: true }), ms).unref());

const url = () => `http://127.0.0.1:${port}`;

async function restartServer() {
    srv = await startServer({ databaseUrl: pg.url, args: ['--port', port] });
}

// Starts the logger; resolves lines as they arrive.
function startLogger(args) {
    const proc = spawn(path.join(BIN, 'client_fault_logger'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { text: '', err: '' };
    proc.stdout.setEncoding('utf8').on('data', (d) => { out.text += d; });
    proc.stderr.setEncoding('utf8').on('data', (d) => { out.err += d; });
    const done = new Promise((resolve) => proc.once('exit', (code, sig) => resolve({ code, sig })));
    process.once('exit', () => { try { proc.kill('SIGKILL'); } catch { /* gone */ } });
    return { proc, out, done, runId: () => (out.text.match(/^run ([0-9a-f]{32})$/m) || [])[1] };
}

function points(runId) {
    const row = pg.psql(`SELECT count(*), count(DISTINCT step), coalesce(min(step), -1), coalesce(max(step), -1)
        FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.run_uuid = '${runId}'`).trim();
    const [total, distinct, min, max] = row.split('|').map(Number);
    return { total, distinct, min, max };
}

test('100,000 points, exptrackd killed twice, PostgreSQL restarted once: each point once',
    { timeout: 600000 }, async () => {
        const N = 100000;
        const spool = path.join(tmp, 'spool-a');
        const lg = startLogger([url(), uniqueName('fault'), String(N), '24000', spool, '60000', 'end']);
        await waitUntil(() => lg.runId(), 30000, 'run id');
        await sleep(4000);
        await srv.kill9();
        await sleep(1500);
        await restartServer();
        await sleep(4000);
        await pg.stop();
        await sleep(1500);
        await pg.start();
        await sleep(4000);
        await srv.kill9();
        await sleep(1500);
        await restartServer();
        const res = await Promise.race([lg.done, deadline(240000)]);
        assert.equal(res.code, 0, `logger: ${JSON.stringify(res)}\n${lg.out.text}\n${lg.out.err}`);
        const p = points(lg.runId());
        assert.deepEqual(p, { total: N, distinct: N, min: 0, max: N - 1 }, lg.out.text);
        const status = pg.psql(`SELECT status FROM runs WHERE run_uuid = '${lg.runId()}'`).trim();
        assert.equal(status, '3'); // FINISHED
        const stats = JSON.parse(lg.out.text.match(/^ended (.*)$/m)[1]);
        assert.equal(stats.dropped, 0);
        assert.ok(stats.retries > 0, 'the faults were seen by the client');
    });

test('8 runs with requests in flight: exptrackd killed mid-flight, then down past spool_after_ms: each point once',
    { timeout: 600000 }, async () => {
        const N = 15000; // per run
        const RUNS = 8;
        const spool = path.join(tmp, 'spool-inflight');
        const lg = startLogger([url(), uniqueName('inflight'), String(N), '12000', spool, '1500', 'end',
            String(RUNS)]);
        const runIds = () => [...lg.out.text.matchAll(/^run ([0-9a-f]{32})$/gm)].map((m) => m[1]);
        await waitUntil(() => runIds().length === RUNS, 30000, 'run ids');
        await sleep(2500);
        await srv.kill9(); // requests of several runs in flight: retried with their keys
        await sleep(300);
        await restartServer();
        await sleep(2500);
        await srv.kill9(); // down past spool_after_ms: in-flight and queued batches spool
        await sleep(4000);
        await restartServer();
        const res = await Promise.race([lg.done, deadline(240000)]);
        assert.equal(res.code, 0, `logger: ${JSON.stringify(res)}\n${lg.out.text}\n${lg.out.err}`);
        for (const id of runIds())
            assert.deepEqual(points(id), { total: N, distinct: N, min: 0, max: N - 1 }, id);
        const stats = JSON.parse(lg.out.text.match(/^ended (.*)$/m)[1]);
        assert.equal(stats.dropped, 0);
        // printed after et_run_end, before et_client_free replays the rest of
        // the spool: the replay may all come after it (replayed 0 here), and
        // the spooled points are in the database above only if it replayed
        assert.equal(stats.delivered + stats.spooled, N * RUNS, JSON.stringify(stats));
        assert.ok(stats.spooled > 0, JSON.stringify(stats));
        assert.ok(stats.retries > 0, 'the faults were seen by the client');
    });

test('a run started while the server is down completes after it comes up', { timeout: 300000 }, async () => {
    await srv.stop();
    const spool = path.join(tmp, 'spool-b');
    const lg = startLogger([url(), uniqueName('late'), '5000', '500', spool, '60000', 'end']);
    await sleep(3000);
    assert.equal(lg.runId(), undefined, 'no run while the server is down');
    await restartServer();
    const res = await Promise.race([lg.done, deadline(120000)]);
    assert.equal(res.code, 0, `${JSON.stringify(res)} ${lg.out.err}`);
    assert.deepEqual(points(lg.runId()), { total: 5000, distinct: 5000, min: 0, max: 4999 });
});

test('a second process replays the spool of a killed one (exptrack sync)', { timeout: 300000 }, async () => {
    const spool = path.join(tmp, 'spool-c');
    const N = 20000;
    const lg = startLogger([url(), uniqueName('spool'), String(N), '1000', spool, '300', 'hold']);
    await waitUntil(() => lg.runId(), 30000, 'run id');
    await srv.kill9(); // the server goes away; points go to the spool after 300 ms
    await waitUntil(() => /^flushed /m.test(lg.out.text), 120000, 'logger flushed to spool');
    const stats = JSON.parse(lg.out.text.match(/^flushed (.*)$/m)[1]);
    assert.ok(stats.spooled > 0, lg.out.text);
    lg.proc.kill('SIGKILL');
    await lg.done;
    assert.ok(fs.readdirSync(spool).some((f) => f.endsWith('.etspool')), 'spool file left behind');
    await restartServer();
    const r = spawnSync(path.join(BIN, 'exptrack'), ['--url', url(), 'sync', spool],
        { encoding: 'utf8', timeout: 120000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(points(lg.runId()), { total: N, distinct: N, min: 0, max: N - 1 });
    assert.ok(!fs.readdirSync(spool).some((f) => f.endsWith('.etspool')), 'spool emptied');
    // A second sync has nothing left to do.
    const again = spawnSync(path.join(BIN, 'exptrack'), ['--url', url(), '--json', 'sync', spool], { encoding: 'utf8' });
    assert.equal(again.status, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).records, 0);
});
