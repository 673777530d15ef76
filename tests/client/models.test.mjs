// libexptrack's Model Registry calls through the exptrack CLI against a real
// exptrackd and PostgreSQL: every `exptrack models` subcommand (text and
// --json), alias and models:/ resolution, stage transitions, downloading a
// registered version's files byte for byte, and the exit codes (1 for a
// missing model, 2 for bad usage), and the exptrack_register example program.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useStack, client, uniqueName, api, assertOk } from '../api/harness.mjs';

const BIN = process.env.EXPTRACK_BIN_DIR || path.resolve('build', 'bin');
const stack = useStack({ before, after });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'exptrack-models-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function cli(args) {
    const r = spawnSync(path.join(BIN, 'exptrack'), ['--url', stack.base, ...args], {
        encoding: 'utf8', timeout: 60000,
        env: { ...process.env, EXPTRACK_SPOOL_DIR: path.join(tmp, 'spool') },
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

// A run with model/weights.bin and model/sub/config.json logged through the
// artifact proxy's HTTP API (not through the code under test).
const weights = Buffer.alloc(300 * 1024 + 3);
for (let i = 0; i < weights.length; i++) weights[i] = (i * 131 + 7) & 0xff;
const config = Buffer.from('{"layers": 3}\n');
async function runWithModel() {
    const c = client(stack.base);
    const run = (await c.createRun('0')).info;
    const put = async (rel, data) => assertOk(await api(stack.base, 'PUT',
        `/api/2.0/mlflow-artifacts/artifacts/${run.experiment_id}/${run.run_id}/artifacts/${rel}`,
        undefined, { raw: data, headers: { 'content-type': 'application/octet-stream' } }));
    await put('model/weights.bin', weights);
    await put('model/sub/config.json', config);
    return run;
}

test('models: create, get, list, register, versions', async (t) => {
    if (!(await hasArtifacts())) { t.skip('server has no artifact proxy'); return; }
    const run = await runWithModel();
    const name = uniqueName('cli-model');
    assert.equal(cliOk(['models', 'create', name]).trim(), name);
    assert.equal(cli(['models', 'create', name]).code, 1); // already exists
    assert.equal(cliOk(['models', 'register', name, run.run_id, 'model']).trim(), '1');
    const v2 = cliJson(['models', 'register', name, run.run_id, 'model']);
    assert.equal(v2.version, '2');
    assert.equal(v2.name, name);
    assert.equal(v2.run_id, run.run_id);
    assert.equal(v2.source, `${run.artifact_uri}/model`);
    assert.equal(v2.current_stage, 'None');
    assert.equal(v2.status, 'READY');

    // register creates a missing model, as mlflow.register_model does
    const fresh = uniqueName('cli-model-auto');
    assert.equal(cliJson(['models', 'register', fresh, run.run_id, '/model/']).version, '1');
    assert.equal(cliJson(['models', 'get', fresh]).name, fresh);
    // ...but not for a run that does not exist
    const ghost = uniqueName('cli-model-ghost');
    assert.equal(cli(['models', 'register', ghost, 'f'.repeat(32), 'model']).code, 1);
    assert.equal(cli(['models', 'get', ghost]).code, 1);

    const got = cliJson(['models', 'get', name]);
    assert.equal(got.name, name);
    assert.deepEqual(got.latest_versions.map((v) => v.version), ['2']);
    assert.match(cliOk(['models', 'get', name]), new RegExp(`^name\\s+${name}\\n`));

    assert.ok(cliJson(['models', 'list']).some((m) => m.name === name));
    const only = cliJson(['models', 'list', '--filter', `name = '${name}'`]);
    assert.deepEqual(only.map((m) => m.name), [name]);
    assert.match(cliOk(['models', 'list']), new RegExp(`^NAME\\s+LATEST\\s+DESCRIPTION\\n[\\s\\S]*${name}\\s+2`));

    const vs = cliJson(['models', 'versions', name]);
    assert.deepEqual(vs.map((v) => v.version).sort(), ['1', '2']);
    for (const v of vs) {
        assert.equal(v.source, `${run.artifact_uri}/model`);
        assert.equal(v.run_id, run.run_id);
    }
    assert.match(cliOk(['models', 'versions', name]), /^VERSION\s+STAGE\s+STATUS\s+RUN ID\s+SOURCE\n/);
});

test('models: aliases, resolution, stages', async (t) => {
    if (!(await hasArtifacts())) { t.skip('server has no artifact proxy'); return; }
    const run = await runWithModel();
    const name = uniqueName('cli-alias');
    cliOk(['models', 'register', name, run.run_id, 'model']);
    cliOk(['models', 'register', name, run.run_id, 'model/weights.bin']);

    assert.deepEqual(cliJson(['models', 'alias', name, 'champion', '1']),
        { name, alias: 'champion', version: '1' });
    const v = cliJson(['models', 'resolve', `${name}@champion`]);
    assert.equal(v.version, '1');
    assert.equal(v.source, `${run.artifact_uri}/model`);
    assert.equal(v.run_id, run.run_id);
    assert.equal(v.current_stage, 'None');
    assert.equal(v.status, 'READY');
    assert.deepEqual(v.aliases, ['champion']);
    assert.equal(cliJson(['models', 'resolve', `models:/${name}@champion`]).version, '1');
    // moving the alias
    cliOk(['models', 'alias', name, 'champion', '2']);
    assert.equal(cliJson(['models', 'resolve', `${name}@champion`]).version, '2');
    assert.equal(cliJson(['models', 'get', name]).aliases.champion, '2');
    assert.match(cliOk(['models', 'resolve', `${name}@champion`]), /^name\s+\S+\nversion\s+2\n/);

    assert.equal(cliJson(['models', 'resolve', `${name}/1`]).source, `${run.artifact_uri}/model`);
    assert.equal(cliJson(['models', 'resolve', `models:/${name}/2`]).source,
        `${run.artifact_uri}/model/weights.bin`);
    assert.equal(cliJson(['models', 'resolve', `models:/${name}/latest`]).version, '2');
    assert.equal(cli(['models', 'resolve', `${name}/3`]).code, 1);
    assert.equal(cli(['models', 'resolve', `${name}@nobody`]).code, 1);
    assert.equal(cli(['models', 'resolve', name]).code, 1); // neither @ALIAS nor /VERSION

    assert.deepEqual(cliJson(['models', 'alias', '--delete', name, 'champion']),
        { name, alias: 'champion', deleted: true });
    assert.equal(cli(['models', 'resolve', `${name}@champion`]).code, 1);

    // stages
    assert.equal(cliJson(['models', 'stage', name, '1', 'Production']).current_stage, 'Production');
    assert.equal(cliJson(['models', 'resolve', `${name}/production`]).version, '1');
    assert.equal(cliJson(['models', 'stage', name, '2', 'production', '--archive-existing'])
        .current_stage, 'Production');
    const stages = Object.fromEntries(cliJson(['models', 'versions', name]).map((x) => [x.version, x.current_stage]));
    assert.deepEqual(stages, { 1: 'Archived', 2: 'Production' });
    assert.equal(cliJson(['models', 'resolve', `models:/${name}/Production`]).version, '2');
    assert.equal(cli(['models', 'resolve', `${name}/Staging`]).code, 1); // none in stage
    assert.equal(cli(['models', 'stage', name, '1', 'Shipped']).code, 1);
    assert.match(cliOk(['models', 'stage', name, '1', 'Staging']), /current_stage\s+Staging/);
});

test('models download: a version\'s files, byte for byte', async (t) => {
    if (!(await hasArtifacts())) { t.skip('server has no artifact proxy'); return; }
    const run = await runWithModel();
    const name = uniqueName('cli-dl');
    cliOk(['models', 'register', name, run.run_id, 'model']);
    cliOk(['models', 'register', name, run.run_id, 'model/weights.bin']);
    cliOk(['models', 'alias', name, 'prod', '1']);

    const dir = path.join(tmp, 'dl', 'nested'); // parents are created
    const res = cliJson(['models', 'download', `${name}@prod`, dir]);
    assert.deepEqual(res, { model: `${name}@prod`, dir, files: 2 });
    assert.ok(fs.readFileSync(path.join(dir, 'weights.bin')).equals(weights));
    assert.ok(fs.readFileSync(path.join(dir, 'sub', 'config.json')).equals(config));
    assert.deepEqual(fs.readdirSync(dir).sort(), ['sub', 'weights.bin']); // no temporary files left

    // a version whose source is a single file
    const one = path.join(tmp, 'dl-one');
    assert.match(cliOk(['models', 'download', `models:/${name}/2`, one]), /^1 file\(s\) of /);
    assert.deepEqual(fs.readdirSync(one), ['weights.bin']);
    assert.ok(fs.readFileSync(path.join(one, 'weights.bin')).equals(weights));

    assert.equal(cli(['models', 'download', `${name}/9`, path.join(tmp, 'dl-none')]).code, 1);
    assert.equal(cli(['models', 'download', `${name}@nobody`, path.join(tmp, 'dl-none')]).code, 1);
});

test('example: exptrack_register registers, aliases, resolves and downloads', async (t) => {
    if (!(await hasArtifacts())) { t.skip('server has no artifact proxy'); return; }
    const run = await runWithModel();
    const name = uniqueName('example-model');
    const dir = path.join(tmp, 'example');
    const r = spawnSync(path.join(BIN, 'exptrack_register'),
        [stack.base, run.run_id, name, 'model', 'champion', dir], {
            encoding: 'utf8', timeout: 60000,
            env: { ...process.env, EXPTRACK_SPOOL_DIR: path.join(tmp, 'spool') },
        });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'),
        [`${name} 1 ${run.run_id} ${run.artifact_uri}/model`, '2']);
    assert.ok(fs.readFileSync(path.join(dir, 'weights.bin')).equals(weights));
    assert.ok(fs.readFileSync(path.join(dir, 'sub', 'config.json')).equals(config));
    assert.equal(cliJson(['models', 'resolve', `${name}@champion`]).version, '1');
});

test('models: a missing model exits 1, bad usage exits 2, help exits 0', () => {
    const missing = uniqueName('no-such-model');
    for (const args of [['get', missing], ['versions', missing], ['resolve', `${missing}@a`],
        ['resolve', `${missing}/1`], ['alias', missing, 'a', '1'], ['stage', missing, '1', 'Staging'],
        ['download', `${missing}/1`, path.join(tmp, 'x')]]) {
        const r = cli(['models', ...args]);
        assert.equal(r.code, 1, `exptrack models ${args.join(' ')}`);
        assert.match(r.err, /^exptrack: models \w+: /);
    }
    for (const args of [[], ['bogus'], ['get'], ['get', 'a', 'b'], ['create'], ['versions'],
        ['register', 'a'], ['resolve'], ['alias', 'a', 'b'], ['alias', '--delete', 'a'],
        ['stage', 'a', '1'], ['stage', 'a', '1', 'Staging', '--bogus'], ['download', 'a/1'],
        ['list', 'extra'], ['list', '--filter']]) {
        assert.equal(cli(['models', ...args]).code, 2, `exptrack models ${args.join(' ')}`);
    }
    for (const args of [['models', '--help'], ['models', 'alias', '--help']]) {
        const r = cli(args);
        assert.equal(r.code, 0);
        assert.match(r.out, /usage: exptrack models list/);
    }
    assert.match(cliOk(['--help']), /models \{list,get,create/);
});
