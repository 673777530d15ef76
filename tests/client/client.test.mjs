// libexptrack + exptrack CLI against a real exptrackd and PostgreSQL: the
// example training run arrives complete, every CLI subcommand's happy path
// (text and --json), usage errors (exit 2), and the server's Idempotency-Key
// handling of log-batch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useStack, client, uniqueName, api, assertOk } from '../api/harness.mjs';

const BIN = process.env.EXPTRACK_BIN_DIR || path.resolve('build', 'bin');
const stack = useStack({ before, after });
const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'exptrack-client-spool-'));
after(() => fs.rmSync(spoolDir, { recursive: true, force: true }));

function cli(args, opts = {}) {
    const r = spawnSync(path.join(BIN, 'exptrack'), ['--url', stack.base, ...args], {
        encoding: 'utf8', timeout: 60000,
        env: { ...process.env, EXPTRACK_SPOOL_DIR: spoolDir, ...(opts.env || {}) },
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
}
function cliOk(args) {
    const r = cli(args);
    assert.equal(r.code, 0, `exptrack ${args.join(' ')}: ${r.err}`);
    return r.out;
}
const cliJson = (args) => JSON.parse(cliOk(['--json', ...args]));
const hasArtifacts = async () =>
    (await api(stack.base, 'GET', '/api/2.0/mlflow-artifacts/artifacts', { path: '0' })).status !== 404;

test('the example training run arrives complete', { timeout: 180000 }, async () => {
    const exp = uniqueName('train');
    const r = spawnSync(path.join(BIN, 'exptrack_train'), [stack.base, exp], {
        encoding: 'utf8', timeout: 120000, env: { ...process.env, EXPTRACK_SPOOL_DIR: spoolDir },
    });
    assert.equal(r.status, 0, r.stderr);
    const runId = r.stdout.trim();
    const c = client(stack.base);
    const run = await c.getRun(runId);
    assert.equal(run.info.status, 'FINISHED');
    assert.deepEqual(Object.fromEntries(run.data.params.map((p) => [p.key, p.value])),
        { lr: '0.01', steps: '10000', model: 'linear' });
    for (const key of ['loss', 'w', 'b']) {
        const h = await c.ok('GET', '/metrics/get-history', { run_id: runId, metric_key: key });
        assert.equal(h.metrics.length, 10000, key);
        assert.equal(new Set(h.metrics.map((m) => m.step)).size, 10000, key);
    }
    if (await hasArtifacts()) {
        const csv = cliOk(['artifacts', 'ls', runId, 'model']);
        assert.match(csv, /model\.txt/);
    }
});

test('CLI: experiments', () => {
    const name = uniqueName('cli-exp');
    const id = cliOk(['experiments', 'create', name]).trim();
    assert.match(id, /^\d+$/);
    assert.equal(cliJson(['experiments', 'get', name]).experiment_id, id);
    assert.equal(cliJson(['experiments', 'get', id]).name, name);
    assert.ok(cliJson(['experiments', 'list']).some((e) => e.name === name));
    assert.match(cliOk(['experiments', 'list']), new RegExp(`^ID\\s+NAME[\\s\\S]*${name}`));
    cliOk(['experiments', 'rename', id, `${name}-b`]);
    assert.equal(cliJson(['experiments', 'get', id]).name, `${name}-b`);
    cliOk(['experiments', 'delete', id]);
    assert.equal(cliJson(['experiments', 'get', id]).lifecycle_stage, 'deleted');
    assert.equal(cli(['experiments', 'get', 'no-such-experiment-x']).code, 1);
});

test('CLI: runs, log, history', () => {
    const exp = uniqueName('cli-runs');
    cliOk(['experiments', 'create', exp]);
    const created = cliJson(['runs', 'create', '--experiment', exp, '--name', 'r1', '--tag', 'team=ml']);
    const run = created.run_id;
    assert.match(run, /^[0-9a-f]{32}$/);
    cliOk(['log', 'param', run, 'lr', '0.5']);
    cliOk(['log', 'tag', run, 'stage', 'dev']);
    for (const [step, v] of [[2, '0.25'], [0, '1'], [1, '0.5']]) cliOk(['log', 'metric', run, 'loss', v, '--step', String(step)]);
    const got = cliJson(['runs', 'get', run]);
    assert.equal(got.run_name, 'r1');
    assert.equal(got.params.lr, '0.5');
    assert.equal(got.tags.team, 'ml');
    assert.equal(got.tags.stage, 'dev');
    assert.equal(got.metrics.loss.value, 0.25);
    const csv = cliOk(['history', run, 'loss', '--csv']).trim().split('\n');
    assert.equal(csv[0], 'step,timestamp,value');
    assert.deepEqual(csv.slice(1).map((l) => l.split(',')[0]), ['0', '1', '2']);
    assert.deepEqual(csv.slice(1).map((l) => Number(l.split(',')[2])), [1, 0.5, 0.25]);
    assert.equal(cliJson(['history', run, 'loss']).length, 3);
    assert.match(cliOk(['history', run, 'loss']), /^STEP\s+TIMESTAMP\s+VALUE/);

    const second = cliJson(['runs', 'create', '--experiment', exp]).run_id;
    let found = cliJson(['runs', 'search', '--experiment', exp]);
    assert.deepEqual(new Set(found.map((r) => r.run_id)), new Set([run, second]));
    found = cliJson(['runs', 'search', '--experiment', exp, '--filter', "params.lr = '0.5'"]);
    assert.deepEqual(found.map((r) => r.run_id), [run]);
    found = cliJson(['runs', 'search', '--experiment', exp, '--max', '1']);
    assert.equal(found.length, 1);
    // without --experiment: every active experiment
    found = cliJson(['runs', 'search']);
    assert.ok(found.some((r) => r.run_id === run));
    assert.match(cliOk(['runs', 'search', '--experiment', exp]), /^RUN ID\s+NAME/);

    cliOk(['runs', 'end', run, '--status', 'FAILED']);
    assert.equal(cliJson(['runs', 'get', run]).status, 'FAILED');
    cliOk(['runs', 'delete', second]);
    assert.equal(cliJson(['runs', 'get', second]).lifecycle_stage, 'deleted');
    cliOk(['runs', 'restore', second]);
    assert.equal(cliJson(['runs', 'get', second]).lifecycle_stage, 'active');
});

test('CLI: artifacts upload, ls, download', { skip: false }, async (t) => {
    if (!(await hasArtifacts())) { t.skip('server has no artifact proxy yet'); return; }
    const run = cliJson(['runs', 'create']).run_id;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exptrack-art-'));
    const src = path.join(dir, 'weights.bin');
    const data = Buffer.alloc(3 * 1024 * 1024 + 7, 0);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    fs.writeFileSync(src, data);
    cliOk(['artifacts', 'upload', run, src, 'ckpt/weights.bin']);
    const ls = cliJson(['artifacts', 'ls', run, 'ckpt']);
    assert.deepEqual(ls, [{ path: 'weights.bin', is_dir: false, file_size: data.length }]);
    const out = path.join(dir, 'back.bin');
    cliOk(['artifacts', 'download', run, 'ckpt/weights.bin', out]);
    assert.ok(fs.readFileSync(out).equals(data));
    assert.equal(cli(['artifacts', 'download', run, 'ckpt/missing.bin', out + '2']).code, 1);
    fs.rmSync(dir, { recursive: true, force: true });
});

test('CLI: usage errors exit 2, help exits 0', () => {
    for (const args of [[], ['bogus'], ['experiments'], ['experiments', 'create'],
        ['runs', 'get'], ['runs', 'search', '--bogus'], ['log', 'metric', 'a', 'b'],
        ['history', 'x'], ['sync'], ['runs', 'end', 'x', '--status', 'DONE'],
        ['log', 'metric', 'r', 'k', 'notanumber']]) {
        assert.equal(cli(args).code, 2, `exptrack ${args.join(' ')}`);
    }
    for (const args of [['--help'], ['runs', '--help'], ['experiments', 'list', '--help'],
        ['history', '--help'], ['sync', '--help'], ['log', '--help'], ['artifacts', '--help']]) {
        const r = cli(args);
        assert.equal(r.code, 0, `exptrack ${args.join(' ')}`);
        assert.match(r.out, /usage: exptrack/);
    }
    assert.equal(cli(['runs', 'get', 'f'.repeat(32)]).code, 1);
});

test('log-batch Idempotency-Key: a repeat is not applied again', async () => {
    const c = client(stack.base);
    const run = (await c.createRun('0')).info.run_id;
    const key = `k-${uniqueName('idem')}`;
    const body = (v) => ({ run_id: run, metrics: [{ key: 'm', value: v, timestamp: 1, step: 0 }] });
    const send = (v, k = key) => api(stack.base, 'POST', '/api/2.0/mlflow/runs/log-batch', body(v),
        { headers: { 'idempotency-key': k } });
    assertOk(await send(1));
    assertOk(await send(2)); // same key, different content: answered, not applied
    const h = await c.ok('GET', '/metrics/get-history', { run_id: run, metric_key: 'm' });
    assert.deepEqual(h.metrics.map((m) => m.value), [1]);
    assertOk(await send(3, `${key}-other`));
    // concurrent twins: exactly one applies
    const k2 = `${key}-twin`;
    const rs = await Promise.all([5, 6, 7, 8].map((v) => send(v, k2)));
    for (const r of rs) assertOk(r);
    const h2 = await c.ok('GET', '/metrics/get-history', { run_id: run, metric_key: 'm' });
    assert.equal(h2.metrics.length, 3);
    const bad = await send(1, 'bad key with spaces');
    assert.equal(bad.status, 400);
    const rows = stack.pg.psql("SELECT count(*) FROM idempotency_keys");
    assert.ok(Number(rows) >= 3);
});
