// The zero-config start: without --database-url exptrackd creates, starts and
// stops its own PostgreSQL cluster in --data-dir, listening on a Unix socket
// only. A second start reuses it; after kill -9 (of exptrackd alone, or of
// exptrackd and the postmaster) the next start comes up without help and
// every acknowledged write is there. Also: two servers starting together on
// one empty external database both come up (migrations are serialized).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, startPostgres, client, assertOk, uniqueName, waitUntil } from './harness.mjs';

const dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'exptrack-embedded-'));
const dataDir = path.join(dataRoot, 'data');
const servers = [];
let pg;

after(async () => {
    for (const s of servers) await s.kill9();
    // a postmaster left by a test that failed half-way
    const pid = postmasterPid();
    if (pid) {
        try { process.kill(pid, 'SIGQUIT'); } catch { /* already gone */ }
    }
    if (pg) await pg.stop();
    fs.rmSync(dataRoot, { recursive: true, force: true });
});

async function startEmbedded() {
    const srv = await startServer({ args: ['--data-dir', dataDir], timeoutMs: 120000 });
    servers.push(srv);
    return srv;
}

// postmaster.pid: pid, data dir, start time, port, socket dir, listen address, ...
function postmasterFile() {
    const file = path.join(dataDir, 'pg', 'postmaster.pid');
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n') : null;
}

function postmasterPid() {
    const lines = postmasterFile();
    return lines ? Number(lines[0]) : 0;
}

function alive(pid) {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

const POINTS = 1000;
let runId;

test('first start creates a cluster on a Unix socket only and serves', { timeout: 180000 }, async () => {
    const srv = await startEmbedded();
    assert.ok(fs.existsSync(path.join(dataDir, 'pg', 'PG_VERSION')), 'cluster created under the data dir');
    const lines = postmasterFile();
    assert.ok(lines, 'postmaster.pid present while running');
    assert.equal(lines[5].trim(), '', 'no TCP listen address');
    if (process.getuid() === 0) assert.match(srv.log(), /runs as user|as user/i, 'the log says which user runs PostgreSQL');

    const c = client(srv.url);
    const exp = await c.createExperiment(uniqueName('embedded'));
    runId = (await c.createRun(exp)).info.run_id;
    const metrics = Array.from({ length: POINTS }, (_, i) => ({ key: 'loss', value: 1 / (i + 1), timestamp: 1700000000000 + i, step: i }));
    assertOk(await c.post('/runs/log-batch', { run_id: runId, metrics }));
    assertOk(await c.post('/runs/log-parameter', { run_id: runId, key: 'lr', value: '0.1' }));
});

test('kill -9 of exptrackd: the next start recovers the orphaned cluster, data intact', { timeout: 180000 }, async () => {
    const first = servers[servers.length - 1];
    await first.kill9();
    const srv = await startEmbedded();
    const c = client(srv.url);
    const run = assertOk(await c.get('/runs/get', { run_id: runId })).run;
    assert.equal(run.data.params[0].value, '0.1');
    const hist = assertOk(await c.get('/metrics/get-history', { run_id: runId, metric_key: 'loss' }));
    assert.equal(hist.metrics.length, POINTS);
    assert.deepEqual(hist.metrics.map((m) => m.step), Array.from({ length: POINTS }, (_, i) => i));
});

test('kill -9 of exptrackd and the postmaster (stale pid file): next start comes up', { timeout: 180000 }, async () => {
    const srv = servers[servers.length - 1];
    const pid = postmasterPid();
    assert.ok(pid > 0 && alive(pid), 'a postmaster is running');
    await srv.kill9();
    try { process.kill(pid, 'SIGKILL'); } catch { /* exited on its own already */ }
    await waitUntil(() => !alive(pid), 10000, 'postmaster gone');
    const again = await startEmbedded();
    const hist = assertOk(await client(again.url).get('/metrics/get-history', { run_id: runId, metric_key: 'loss' }));
    assert.equal(hist.metrics.length, POINTS);
});

test('SIGTERM stops exptrackd and its PostgreSQL', { timeout: 120000 }, async () => {
    const srv = servers[servers.length - 1];
    const pid = postmasterPid();
    assert.ok(pid > 0 && alive(pid));
    await srv.stop();
    assert.equal(srv.proc.exitCode, 0, `clean exit\n${srv.log()}`);
    await waitUntil(() => !alive(pid), 30000, 'postmaster stopped with exptrackd');
});

test('two servers starting together on one empty database both come up', { timeout: 180000 }, async () => {
    pg = await startPostgres();
    const [a, b] = await Promise.all([
        startServer({ databaseUrl: pg.url }),
        startServer({ databaseUrl: pg.url }),
    ]);
    servers.push(a, b);
    for (const s of [a, b]) {
        const r = await client(s.url).get('/experiments/get', { experiment_id: '0' });
        assert.equal(assertOk(r).experiment.name, 'Default');
    }
    const id = await client(a.url).createExperiment(uniqueName('shared'));
    assert.equal(assertOk(await client(b.url).get('/experiments/get', { experiment_id: id })).experiment.experiment_id, id);
});
