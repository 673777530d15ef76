// exptrack import / export against real exptrackd servers: an mlruns
// directory written here in MLflow's file-store layout (.trash, NaN/inf
// lines, params with newlines, nested keys and artifacts, a 100k-point
// history, the file registry) imported and checked value by value; a rerun
// and a kill -9 mid-import resumed with exact counts; export -> import into
// a second server compared run by run, point by point, file by file; the
// REST import from one exptrackd into another; peak RSS; MLflow 3 logged
// models (metadata, params, tags, metric rows, artifacts, run links) in
// both directions; and the admin import API's hostile input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useStack, startServer, api, assertOk, assertError, sleep, SANITIZER_RE } from '../api/harness.mjs';

const BIN = process.env.EXPTRACK_BIN_DIR || path.resolve('build', 'bin');
// No compaction thread: the test counts the rows imports write into
// metrics, and the fixture's runs ended long ago (a thread would pack them).
const NO_COMPACT = ['--compact-delay', '-1'];
const stack = useStack({ before, after }, { server: { args: NO_COMPACT } });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'exptrack-import-'));
const extra = [];
after(async () => {
    for (const s of extra) await s.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
}, { timeout: 60000 });

async function secondServer(db) {
    stack.pg.psql(`CREATE DATABASE ${db}`);
    const srv = await startServer({ databaseUrl: stack.pg.url.replace('/exptrack?', `/${db}?`), args: NO_COMPACT });
    extra.push(srv);
    return srv;
}
const sqlIn = (db, q) => stack.pg.psql(q, db).trim();
// AddressSanitizer's shadow memory and quarantine inflate RSS many times.
const SANITIZED = /detect_leaks|halt_on_error/.test(process.env.ASAN_OPTIONS || '');
const RSS_LIMIT_KIB = SANITIZED ? 1024 * 1024 : 64 * 1024;

// Asynchronous: a spawnSync would stop this process from draining the
// servers' stderr pipes (their access logs), and a full pipe stalls them.
function cli(url, args, env = {}) {
    return new Promise((resolve) => {
        const child = spawn(path.join(BIN, 'exptrack'), ['--url', url, ...args], {
            env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '', err = '';
        child.stdout.on('data', (d) => { out += d; });
        child.stderr.on('data', (d) => { err += d; });
        const timer = setTimeout(() => child.kill('SIGKILL'), 600000);
        child.on('close', (code) => { clearTimeout(timer); resolve({ code, out, err }); });
    });
}
async function cliOk(url, args) {
    const r = await cli(url, args);
    assert.equal(r.code, 0, `exptrack ${args.join(' ')}: ${r.err}`);
    assert.doesNotMatch(r.err, SANITIZER_RE);
    return r;
}

// ---- the fixture, in MLflow's file-store layout -------------------------
const hex = () => crypto.randomBytes(16).toString('hex');
function put(file, content) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
}
function meta(obj) {
    return Object.entries(obj).map(([k, v]) => `${k}: ${v}`).join('\n') + '\n';
}
const T0 = 1700000000000;
function writeRun(expDir, expId, runId, o) {
    const d = path.join(expDir, runId);
    put(path.join(d, 'meta.yaml'), meta({
        artifact_uri: `file://${d}/artifacts`, end_time: o.end ?? 'null', entry_point_name: "''",
        experiment_id: `'${expId}'`, lifecycle_stage: o.stage ?? 'active', run_id: runId,
        run_name: o.name, run_uuid: runId, source_name: "''", source_type: 4, source_version: "''",
        start_time: o.start, status: o.status ?? 3, tags: '[]', user_id: o.user ?? 'alice',
    }));
    for (const [k, v] of Object.entries(o.params || {})) put(path.join(d, 'params', k), v);
    for (const [k, v] of Object.entries(o.tags || {})) put(path.join(d, 'tags', k), v);
    for (const [k, lines] of Object.entries(o.metrics || {})) put(path.join(d, 'metrics', k), lines);
    for (const [k, v] of Object.entries(o.files || {})) put(path.join(d, 'artifacts', k), v);
    fs.mkdirSync(path.join(d, 'artifacts'), { recursive: true });
    return d;
}
function history(n, f = (i) => i * 0.5) {
    const out = [];
    for (let i = 0; i < n; i++) out.push(`${T0 + i} ${f(i)} ${i}`);
    return out.join('\n') + '\n';
}

const F = {
    expId: '7', expName: `imp-${hex().slice(0, 8)}`, trashId: '8',
    run1: hex(), run2: hex(), run3: hex(), trashRun: hex(),
    bin: crypto.randomBytes(300000),
    model1: `m-${hex()}`, model2: `m-${hex()}`, pkl: crypto.randomBytes(70000),
};
// An MLflow 3 logged model in the file store's layout (<exp>/models/<id>/).
function writeModel(e, id, o) {
    const d = path.join(e, 'models', id);
    put(path.join(d, 'meta.yaml'), meta({
        artifact_location: `file://${d}/artifacts`, creation_timestamp: o.created,
        experiment_id: `'${F.expId}'`, last_updated_timestamp: o.created + 1,
        lifecycle_stage: o.stage ?? 'active', model_id: id, model_type: "''", name: o.name,
        source_run_id: o.run ?? "''", status: o.status ?? 2, status_message: 'null',
    }));
    for (const [k, v] of Object.entries(o.params || {})) put(path.join(d, 'params', k), v);
    for (const [k, v] of Object.entries(o.tags || {})) put(path.join(d, 'tags', k), v);
    for (const [k, v] of Object.entries(o.metrics || {})) put(path.join(d, 'metrics', k), v);
    for (const [k, v] of Object.entries(o.files || {})) put(path.join(d, 'artifacts', k), v);
}
function writeFixture(root) {
    const e = path.join(root, F.expId);
    put(path.join(e, 'meta.yaml'), meta({
        artifact_location: `file://${e}`, creation_time: T0, experiment_id: `'${F.expId}'`,
        last_update_time: T0 + 5, lifecycle_stage: 'active', name: F.expName,
    }));
    put(path.join(e, 'tags', 'team'), 'vision');
    writeRun(e, F.expId, F.run1, {
        name: 'first', start: T0 + 10, end: T0 + 20, status: 3, user: 'alice',
        params: { lr: '0.01', 'multi': 'line one\nline two\n' },
        tags: { 'mlflow.runName': 'first', 'mlflow.user': 'alice', note: 'x: "quoted"' },
        metrics: {
            loss: '1700000000000 1.5 0\n1700000000001 nan 1\n1700000000002 inf 2\n1700000000003 -inf 3\n',
            'train/acc': '1700000000000 0.25 0\n1700000000000 0.5 1\n',
            // int64 ends and doubles at the edges: read back exactly, not through a JS number
            'edge/extremes': '0 5e-324 9223372036854775807\n' +
                '9223372036854775807 1.7976931348623157e+308 -9223372036854775808\n' +
                '1 -0 2\n2 0.1 3\n3 -2.2250738585072014e-308 4\n',
        },
        files: { 'model/weights.bin': F.bin, 'model/sub/deep/readme.txt': 'hello\n', 'top.txt': '' },
    });
    // a dataset input of run 1: the input names a dataset of the experiment
    put(path.join(e, 'datasets', 'ds1', 'meta.yaml'), meta({
        digest: "'abc123'", name: 'iris', profile: "'{\"num_rows\": 150}'", schema: "''",
        source: "'{\"uri\": \"s3://b/iris.csv\"}'", source_type: 'http',
    }));
    put(path.join(e, F.run1, 'inputs', 'in1', 'meta.yaml'),
        `destination_id: ${F.run1}\ndestination_type: RUN\nsource_id: ds1\nsource_type: DATASET\ntags:\n  mlflow.data.context: train\n`);
    writeRun(e, F.expId, F.run2, {
        name: 'long', start: T0 + 30, status: 4, user: 'bob',
        metrics: { big: history(100000) },
    });
    writeRun(e, F.expId, F.run3, { name: 'gone', start: T0 + 40, stage: 'deleted' });
    // logged models: one produced by run 1 (its output at step 0) and used by
    // run 2 (a model input), one deleted
    writeModel(e, F.model1, {
        name: 'model', created: T0 + 60, run: F.run1, params: { C: '1.0' },
        tags: { 'mlflow.user': 'alice', note: 'two words' },
        metrics: {
            accuracy: `${T0 + 1} 0.97 0 ${F.run1} iris-train a1b2c3d4\n${T0 + 2} 0.98 1 ${F.run1}\n`,
            'eval/loss': `${T0 + 3} nan 0 None\n`,
        },
        files: { MLmodel: 'artifact_path: model\n', 'sub/model.pkl': F.pkl },
    });
    writeModel(e, F.model2, { name: 'dropped', created: T0 + 70, stage: 'deleted', status: 3 });
    put(path.join(e, F.run1, 'outputs', F.model1, 'meta.yaml'),
        `destination_id: ${F.model1}\ndestination_type: MODEL_OUTPUT\nsource_id: ${F.model1}\nsource_type: RUN_OUTPUT\nstep: 0\ntags: {}\n`);
    put(path.join(e, F.run2, 'inputs', 'mi1', 'meta.yaml'),
        `destination_id: ${F.run2}\ndestination_type: RUN\nsource_id: ${F.model1}\nsource_type: MODEL\ntags: {}\n`);
    const t = path.join(root, '.trash', F.trashId);
    put(path.join(t, 'meta.yaml'), meta({
        artifact_location: `file://${t}`, creation_time: T0, experiment_id: `'${F.trashId}'`,
        last_update_time: T0, lifecycle_stage: 'deleted', name: `${F.expName}-trashed`,
    }));
    writeRun(t, F.trashId, F.trashRun, { name: 'trashed', start: T0 + 50, params: { a: '1' } });
    // the file registry
    const m = path.join(root, 'models', `${F.expName}-model`);
    put(path.join(m, 'meta.yaml'), meta({
        creation_timestamp: T0, description: "'the model'", last_updated_timestamp: T0,
        name: `${F.expName}-model`,
    }));
    put(path.join(m, 'tags', 'owner'), 'alice');
    put(path.join(m, 'aliases', 'champion'), '2');
    for (const v of [1, 2]) {
        put(path.join(m, `version-${v}`, 'meta.yaml'), meta({
            creation_timestamp: T0 + v, current_stage: v === 2 ? 'Production' : 'None',
            description: "''", last_updated_timestamp: T0 + v, name: `${F.expName}-model`,
            run_id: F.run1, run_link: "''",
            source: `file://${root}/${F.expId}/${F.run1}/artifacts/model`, status: 'READY',
            status_message: 'null', user_id: 'null', version: v,
        }));
    }
    put(path.join(m, 'version-1', 'tags', 'stage'), 'candidate');
}

async function getRun(base, runId) {
    const r = await api(base, 'GET', '/api/2.0/mlflow/runs/get', { run_id: runId });
    assertOk(r, 'runs/get');
    return r.json.run;
}
async function historyOf(base, runId, key) {
    const r = await api(base, 'GET', '/api/2.0/mlflow/metrics/get-history', { run_id: runId, metric_key: key });
    assertOk(r, 'get-history');
    return r.json.metrics || [];
}
async function download(base, rel) {
    const res = await fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/${rel}`);
    assert.equal(res.status, 200, rel);
    return Buffer.from(await res.arrayBuffer());
}
const kv = (arr) => Object.fromEntries((arr || []).map((x) => [x.key, x.value]));

test('import mlruns: every field of the fixture arrives, and a rerun adds nothing', { timeout: 600000 }, async () => {
    const root = path.join(tmp, 'mlruns');
    writeFixture(root);
    const dry = JSON.parse((await cliOk(stack.base, ['--json', 'import', 'mlruns', root, '--dry-run'])).out);
    assert.equal(dry.import.runs, 2, 'deleted run and trashed experiment skipped');
    assert.equal(dry.import.points, 100011);
    assert.equal(dry.import.logged_models, 1, 'the deleted model skipped');
    assert.equal(dry.import.files, 5, "three files of runs, two of the model");
    assert.equal((await api(stack.base, 'GET', '/api/2.0/mlflow/runs/get', { run_id: F.run1 })).status, 404,
        'dry run wrote nothing');

    const r = await cliOk(stack.base, ['--json', 'import', 'mlruns', root, '--jobs', '2']);
    const sum = JSON.parse(r.out).import;
    assert.equal(sum.runs, 2);
    assert.equal(sum.points, 100011);
    assert.equal(sum.files, 5);
    assert.equal(sum.logged_models, 1);
    assert.match(r.err, /deleted \(use --include-deleted\)/);

    const exp = (await api(stack.base, 'GET', '/api/2.0/mlflow/experiments/get', { experiment_id: F.expId })).json.experiment;
    assert.equal(exp.name, F.expName);
    assert.equal(String(exp.creation_time), String(T0));
    assert.equal(kv(exp.tags).team, 'vision');

    const run = await getRun(stack.base, F.run1);
    assert.equal(run.info.experiment_id, F.expId);
    assert.equal(run.info.status, 'FINISHED');
    assert.equal(run.info.user_id, 'alice');
    assert.equal(run.info.run_name, 'first');
    assert.equal(String(run.info.start_time), String(T0 + 10));
    assert.equal(String(run.info.end_time), String(T0 + 20));
    assert.deepEqual(kv(run.data.params), { lr: '0.01', multi: 'line one\nline two\n' });
    assert.equal(kv(run.data.tags).note, 'x: "quoted"');
    const din = run.inputs.dataset_inputs;
    assert.equal(din.length, 1);
    assert.equal(din[0].dataset.name, 'iris');
    assert.equal(din[0].dataset.digest, 'abc123');
    assert.equal(din[0].dataset.source, '{"uri": "s3://b/iris.csv"}');
    assert.equal(din[0].dataset.profile, '{"num_rows": 150}');
    assert.equal(kv(din[0].tags)['mlflow.data.context'], 'train');
    const loss = await historyOf(stack.base, F.run1, 'loss');
    assert.deepEqual(loss.map((m) => String(m.value)), ['1.5', 'NaN', 'Infinity', '-Infinity']);
    assert.deepEqual(loss.map((m) => Number(m.step)), [0, 1, 2, 3]);
    assert.equal((await historyOf(stack.base, F.run1, 'train/acc')).length, 2);
    assert.deepEqual(await download(stack.base, `${F.expId}/${F.run1}/artifacts/model/weights.bin`), F.bin);
    assert.equal((await download(stack.base, `${F.expId}/${F.run1}/artifacts/model/sub/deep/readme.txt`)).toString(), 'hello\n');
    assert.equal((await download(stack.base, `${F.expId}/${F.run1}/artifacts/top.txt`)).length, 0);
    const run2 = await getRun(stack.base, F.run2);
    assert.equal(run2.info.status, 'FAILED');
    assert.equal(run2.info.end_time, undefined);
    assert.equal((await historyOf(stack.base, F.run2, 'big')).length, 100000);
    assert.equal((await api(stack.base, 'GET', '/api/2.0/mlflow/runs/get', { run_id: F.run3 })).status, 404);

    // the logged model, its metric rows, artifacts and run links
    const lm = await api(stack.base, 'GET', `/api/2.0/mlflow/logged-models/${F.model1}`);
    assertOk(lm, 'logged model');
    const li = lm.json.model.info;
    assert.equal(li.experiment_id, F.expId);
    assert.equal(li.name, 'model');
    assert.equal(li.status, 'LOGGED_MODEL_READY');
    assert.equal(li.source_run_id, F.run1);
    assert.equal(String(li.creation_timestamp_ms), String(T0 + 60));
    assert.equal(String(li.last_updated_timestamp_ms), String(T0 + 61));
    assert.equal(li.artifact_uri, `mlflow-artifacts:/${F.expId}/models/${F.model1}/artifacts`);
    assert.deepEqual(kv(li.tags), { 'mlflow.user': 'alice', note: 'two words' });
    assert.deepEqual(kv(lm.json.model.data.params), { C: '1.0' });
    const rows = lm.json.model.data.metrics.map((m) => `${m.key} ${m.value} ${m.step} ${m.timestamp} ${m.run_id ?? ''} ${m.dataset_name ?? ''} ${m.dataset_digest ?? ''}`).sort();
    assert.deepEqual(rows, [
        `accuracy 0.97 0 ${T0 + 1} ${F.run1} iris-train a1b2c3d4`,
        `accuracy 0.98 1 ${T0 + 2} ${F.run1}  `,
        `eval/loss NaN 0 ${T0 + 3}   `,
    ]);
    assert.deepEqual(await download(stack.base, `${F.expId}/models/${F.model1}/artifacts/sub/model.pkl`), F.pkl);
    assert.equal((await download(stack.base, `${F.expId}/models/${F.model1}/artifacts/MLmodel`)).toString(), 'artifact_path: model\n');
    assert.equal((await api(stack.base, 'GET', `/api/2.0/mlflow/logged-models/${F.model2}`, { allow_deleted: 'true' })).status, 404);
    assert.deepEqual((await getRun(stack.base, F.run1)).outputs.model_outputs.map((o) => [o.model_id, Number(o.step)]), [[F.model1, 0]]);
    assert.deepEqual((await getRun(stack.base, F.run2)).inputs.model_inputs, [{ model_id: F.model1 }]);

    // registry
    const mname = `${F.expName}-model`;
    const v2 = await api(stack.base, 'GET', '/api/2.0/mlflow/registered-models/alias', { name: mname, alias: 'champion' });
    assertOk(v2, 'alias');
    assert.equal(v2.json.model_version.version, '2');
    assert.equal(v2.json.model_version.current_stage, 'Production');
    assert.equal(v2.json.model_version.run_id, F.run1);
    assert.equal(v2.json.model_version.source, `mlflow-artifacts:/${F.expId}/${F.run1}/artifacts/model`);
    const v1 = await api(stack.base, 'GET', '/api/2.0/mlflow/model-versions/get', { name: mname, version: '1' });
    assert.equal(kv(v1.json.model_version.tags).stage, 'candidate');

    const count = () => stack.pg.psql('SELECT count(*) FROM metrics').trim();
    const before = count();
    const again = JSON.parse((await cliOk(stack.base, ['--json', 'import', 'mlruns', root])).out).import;
    assert.equal(again.runs, 0);
    assert.equal(again.runs_skipped, 2);
    assert.equal(count(), before);
    // Without the state file every run is written again: the server keeps one copy.
    fs.rmSync(path.join(root, '.exptrack-import-state'));
    const third = JSON.parse((await cliOk(stack.base, ['--json', 'import', 'mlruns', root])).out).import;
    assert.equal(third.runs, 2);
    assert.equal(third.files_skipped, 5, 'same size + sha256: not uploaded again');
    assert.equal(count(), before);
    assert.equal(sqlIn('exptrack', `SELECT count(*) FROM logged_model_metrics WHERE model_id = '${F.model1}'`), '3');
    assert.equal(sqlIn('exptrack', `SELECT count(*) FROM run_model_outputs WHERE model_id = '${F.model1}'`), '1', 'no link twice');
    assert.equal((await api(stack.base, 'GET', '/api/2.0/mlflow/model-versions/search', { filter: `name='${mname}'` })).json.model_versions.length, 2);

    // --include-deleted brings the trashed experiment and the deleted run, deleted.
    await cliOk(stack.base, ['import', 'mlruns', root, '--include-deleted']);
    const t = (await api(stack.base, 'GET', '/api/2.0/mlflow/experiments/get', { experiment_id: F.trashId })).json.experiment;
    assert.equal(t.lifecycle_stage, 'deleted');
    assert.equal((await getRun(stack.base, F.run3)).info.lifecycle_stage, 'deleted');
    assert.equal(kv((await getRun(stack.base, F.trashRun)).data.params).a, '1');
    const gone = await api(stack.base, 'GET', `/api/2.0/mlflow/logged-models/${F.model2}`, { allow_deleted: 'true' });
    assertOk(gone, 'deleted model imported');
    assert.equal(gone.json.model.info.status, 'LOGGED_MODEL_UPLOAD_FAILED');
    assert.equal((await api(stack.base, 'GET', `/api/2.0/mlflow/logged-models/${F.model2}`)).status, 404, 'and deleted');
});

let killSource = null; // the server the kill test filled: 6 runs x 80,000 points
test('import mlruns: kill -9 mid-import, then a rerun completes with exact counts; RSS bounded', { timeout: 600000 }, async () => {
    const root = path.join(tmp, 'kill');
    const expDir = path.join(root, '21');
    put(path.join(expDir, 'meta.yaml'), meta({
        artifact_location: `file://${expDir}`, creation_time: T0, experiment_id: "'21'",
        last_update_time: T0, lifecycle_stage: 'active', name: `kill-${hex().slice(0, 8)}`,
    }));
    const runs = [];
    for (let i = 0; i < 6; i++) {
        const id = hex();
        runs.push(id);
        writeRun(expDir, '21', id, {
            name: `r${i}`, start: T0 + i, params: { i: String(i) },
            metrics: { a: history(40000), b: history(40000, (k) => -k) },
            files: { 'f.bin': crypto.randomBytes(100000) },
        });
    }
    const srv = await secondServer('exptrack_kill');
    killSource = { url: srv.url, runs };
    const child = spawn(path.join(BIN, 'exptrack'), ['--url', srv.url, 'import', 'mlruns', root, '--jobs', '1'],
        { stdio: ['ignore', 'pipe', 'pipe'] });
    let hwm = 0;
    const poll = setInterval(() => {
        try {
            const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m) hwm = Math.max(hwm, Number(m[1]));
        } catch { /* exited */ }
    }, 20);
    // Kill once some but not all points are in.
    for (let i = 0; i < 600; i++) {
        const n = Number(sqlIn('exptrack_kill', 'SELECT count(*) FROM metrics'));
        if (n > 90000) break;
        await sleep(50);
    }
    child.kill('SIGKILL');
    await new Promise((res) => child.on('exit', res));
    clearInterval(poll);
    const partial = Number(sqlIn('exptrack_kill', 'SELECT count(*) FROM metrics'));
    assert.ok(partial > 0 && partial < 480000, `killed mid-import (${partial} points)`);
    assert.ok(hwm > 0 && hwm < RSS_LIMIT_KIB, `peak RSS ${hwm} kB < ${RSS_LIMIT_KIB} kB`);

    const r = JSON.parse((await cliOk(srv.url, ['--json', 'import', 'mlruns', root])).out).import;
    assert.ok(r.runs_skipped >= 1 || r.runs === 6, JSON.stringify(r));
    assert.equal(Number(sqlIn('exptrack_kill', 'SELECT count(*) FROM metrics')), 6 * 80000);
    assert.equal(Number(sqlIn('exptrack_kill', 'SELECT count(*) FROM runs')), 6);
    assert.equal(Number(sqlIn('exptrack_kill', 'SELECT count(*) FROM params')), 6);
    for (const id of runs) {
        const h = await historyOf(srv.url, id, 'b');
        assert.equal(h.length, 40000);
        assert.equal(new Set(h.map((m) => m.step)).size, 40000);
    }
});

test('import mlflow streams server to server: kill -9 mid-import, a rerun resends nothing finished', { timeout: 600000 }, async () => {
    assert.ok(killSource, 'runs after the kill test');
    const dst = await secondServer('exptrack_stream');
    const state = path.join(tmp, 'stream-state');
    const work = path.join(tmp, 'stream-work');
    const args = ['--url', dst.url, '--json', 'import', 'mlflow', '--from', killSource.url, '--state', state,
        '--work-dir', work, '--jobs', '2'];
    const child = spawn(path.join(BIN, 'exptrack'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let hwm = 0;
    const poll = setInterval(() => {
        try {
            const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m) hwm = Math.max(hwm, Number(m[1]));
        } catch { /* exited */ }
    }, 20);
    // Kill once one run is finished and more points are in, before the end.
    for (let i = 0; i < 1200; i++) {
        const n = Number(sqlIn('exptrack_stream', 'SELECT count(*) FROM metrics'));
        const done = fs.existsSync(state) ? fs.readFileSync(state, 'utf8').split('\n').filter((l) => l.startsWith('run\t')).length : 0;
        if (done >= 1 && n > 200000) break;
        await sleep(25);
    }
    child.kill('SIGKILL');
    await new Promise((res) => child.on('exit', res));
    clearInterval(poll);
    const partial = Number(sqlIn('exptrack_stream', 'SELECT count(*) FROM metrics'));
    assert.ok(partial > 0 && partial < 480000, `killed mid-import (${partial} points)`);
    assert.ok(hwm > 0 && hwm < RSS_LIMIT_KIB, `peak RSS ${hwm} kB < ${RSS_LIMIT_KIB} kB`);
    assert.ok(!fs.existsSync(path.join(work, '21')) || fs.readdirSync(path.join(work, '21')).every((d) => d === 'models'),
        'runs are streamed, not exported to the work directory');
    const finished = fs.readFileSync(state, 'utf8').split('\n').filter((l) => l.startsWith('run\t')).length;
    assert.ok(finished >= 1 && finished < 6, `${finished} runs finished before the kill`);

    // Only unfinished runs are read and written again.
    const r = JSON.parse((await cliOk(dst.url, args.slice(2))).out).import;
    assert.equal(r.runs_skipped, finished, JSON.stringify(r));
    assert.equal(r.runs, 6 - finished);
    assert.ok(r.points <= (6 - finished) * 80000, `rerun sent ${r.points} points`);
    assert.equal(Number(sqlIn('exptrack_stream', 'SELECT count(*) FROM metrics')), 6 * 80000);
    assert.equal(Number(sqlIn('exptrack_stream', 'SELECT count(*) FROM runs')), 6);
    assert.equal(Number(sqlIn('exptrack_stream', 'SELECT count(*) FROM params')), 6);
    for (const id of killSource.runs) {
        const h = await historyOf(dst.url, id, 'a');
        assert.equal(h.length, 40000);
        assert.equal(new Set(h.map((m) => m.step)).size, 40000);
        const rel = `21/${id}/artifacts/f.bin`;
        assert.deepEqual(await download(dst.url, rel), await download(killSource.url, rel));
    }
    const third = JSON.parse((await cliOk(dst.url, args.slice(2))).out).import;
    assert.equal(third.runs_skipped, 6);
    assert.equal(third.points, 0, 'nothing read or sent again');
});

test('import mlflow: the destination exptrackd killed mid-import and restarted; a rerun completes with exact counts', { timeout: 600000 }, async () => {
    assert.ok(killSource, 'runs after the kill test');
    stack.pg.psql('CREATE DATABASE exptrack_restart');
    const dbUrl = stack.pg.url.replace('/exptrack?', '/exptrack_restart?');
    let dst = await startServer({ databaseUrl: dbUrl, args: NO_COMPACT });
    extra.push(dst);
    const state = path.join(tmp, 'restart-state');
    const common = ['--json', 'import', 'mlflow', '--from', killSource.url, '--state', state,
        '--work-dir', path.join(tmp, 'restart-work'), '--jobs', '2'];
    const child = spawn(path.join(BIN, 'exptrack'), ['--url', dst.url, ...common], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exit = new Promise((res) => child.on('exit', (code, signal) => res({ code, signal })));
    for (let i = 0; i < 1200; i++) {
        if (Number(sqlIn('exptrack_restart', 'SELECT count(*) FROM metrics')) > 100000) break;
        await sleep(25);
    }
    await dst.kill9(); // the server goes away under the import's open requests
    const partial = Number(sqlIn('exptrack_restart', 'SELECT count(*) FROM metrics'));
    assert.ok(partial > 0 && partial < 480000, `killed mid-import (${partial} points)`);
    // The import cannot finish without its destination: it fails (or, while
    // it retries, is stopped as a lost network would leave it).
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
    const ended = await exit;
    clearTimeout(timer);
    assert.ok(ended.code !== 0, `the import did not report success without its server (${JSON.stringify(ended)})`);

    dst = await startServer({ databaseUrl: dbUrl, args: NO_COMPACT });
    extra.push(dst);
    const r = JSON.parse((await cliOk(dst.url, common)).out).import;
    assert.equal(r.runs + r.runs_skipped, 6, JSON.stringify(r));
    assert.equal(Number(sqlIn('exptrack_restart', 'SELECT count(*) FROM metrics')), 6 * 80000, 'every point once');
    assert.equal(Number(sqlIn('exptrack_restart', 'SELECT count(*) FROM runs')), 6);
    assert.equal(Number(sqlIn('exptrack_restart', 'SELECT count(*) FROM params')), 6);
    for (const id of killSource.runs) {
        const h = await historyOf(dst.url, id, 'a');
        assert.equal(h.length, 40000);
        assert.equal(new Set(h.map((m) => m.step)).size, 40000, 'no step twice');
    }
});

test('import into a server where the ids are taken: new ids, listed in the mapping file', { timeout: 300000 }, async () => {
    const srv = await secondServer('exptrack_remap');
    assertOk(await api(srv.url, 'POST', '/api/2.0/exptrack/import/experiments', { experiment_id: F.expId, name: `squatter-${hex()}` }));
    assertOk(await api(srv.url, 'POST', '/api/2.0/exptrack/import/runs', { run_id: F.run1, experiment_id: '0', start_time: 1 }));
    assertOk(await api(srv.url, 'POST', '/api/2.0/exptrack/import/logged-models', { model_id: F.model1, experiment_id: '0', name: 'squatter' }));
    const mapping = path.join(tmp, 'remap.tsv');
    const r = await cliOk(srv.url, ['--json', 'import', 'mlruns', path.join(tmp, 'mlruns'), '--state', path.join(tmp, 'remap-state'),
        '--mapping', mapping]);
    assert.equal(JSON.parse(r.out).import.remapped, 3);
    const lines = fs.readFileSync(mapping, 'utf8').trim().split('\n').map((l) => l.split('\t'));
    const expLine = lines.find((l) => l[0] === 'experiment');
    const runLine = lines.find((l) => l[0] === 'run');
    assert.equal(expLine[1], F.expId);
    assert.notEqual(expLine[2], F.expId);
    assert.equal(runLine[1], F.run1);
    assert.match(runLine[2], /^[0-9a-f]{32}$/);
    assert.notEqual(runLine[2], F.run1);
    const moved = await getRun(srv.url, runLine[2]);
    assert.equal(moved.info.experiment_id, expLine[2]);
    assert.equal(moved.info.run_name, 'first');
    assert.equal((await historyOf(srv.url, runLine[2], 'loss')).length, 4);
    assert.equal((await getRun(srv.url, F.run2)).info.experiment_id, expLine[2], 'a free run id is kept');
    // the squatter's run is untouched
    assert.equal((await getRun(srv.url, F.run1)).info.experiment_id, '0');
    // the logged model got a new id; its run ids and the run's link follow
    const lmLine = lines.find((l) => l[0] === 'logged_model');
    assert.equal(lmLine[1], F.model1);
    assert.match(lmLine[2], /^m-[0-9a-f]{32}$/);
    const lm = (await api(srv.url, 'GET', `/api/2.0/mlflow/logged-models/${lmLine[2]}`)).json.model;
    assert.equal(lm.info.experiment_id, expLine[2]);
    assert.equal(lm.info.source_run_id, runLine[2]);
    assert.ok(lm.data.metrics.some((m) => m.run_id === runLine[2]));
    assert.deepEqual(moved.outputs.model_outputs.map((o) => o.model_id), [lmLine[2]]);
    assert.equal((await api(srv.url, 'GET', `/api/2.0/mlflow/logged-models/${F.model1}`)).json.model.info.name, 'squatter');
    // the registry follows the remapped run
    const v = await api(srv.url, 'GET', '/api/2.0/mlflow/model-versions/get', { name: `${F.expName}-model`, version: '1' });
    assert.equal(v.json.model_version.run_id, runLine[2]);
});

async function compareModels(a, b, e) {
    const search = async (base) => (await api(base, 'POST', '/api/2.0/mlflow/logged-models/search', { experiment_ids: [e], max_results: 100 })).json.models || [];
    const ma = await search(a), mb = await search(b);
    assert.equal(mb.length, ma.length, `logged models of experiment ${e}`);
    const byId = Object.fromEntries(mb.map((m) => [m.info.model_id, m]));
    const rows = (m) => (m.data.metrics || []).map((x) => `${x.key} ${x.value} ${x.step} ${x.timestamp} ${x.run_id ?? ''} ${x.dataset_name ?? ''} ${x.dataset_digest ?? ''}`).sort();
    for (const x of ma) {
        const y = byId[x.info.model_id];
        assert.ok(y, `model ${x.info.model_id}`);
        for (const f of ['name', 'status', 'source_run_id', 'model_type', 'creation_timestamp_ms', 'last_updated_timestamp_ms', 'artifact_uri'])
            assert.equal(String(y.info[f]), String(x.info[f]), f);
        assert.deepEqual(kv(y.info.tags), kv(x.info.tags));
        assert.deepEqual(kv(y.data.params), kv(x.data.params));
        assert.deepEqual(rows(y), rows(x));
        const l = async (base) => (await api(base, 'GET', '/api/2.0/mlflow-artifacts/artifacts', { path: `${e}/models/${x.info.model_id}/artifacts/sub` })).json.files;
        assert.deepEqual(await l(b), await l(a));
    }
    return ma.length;
}

async function compareServers(a, b, expIds) {
    for (const e of expIds) {
        assert.ok(await compareModels(a, b, e) > 0, 'the fixture has a logged model');
        const runsA = (await api(a, 'POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [e], max_results: 1000 })).json.runs || [];
        const runsB = (await api(b, 'POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [e], max_results: 1000 })).json.runs || [];
        assert.equal(runsB.length, runsA.length, `runs of experiment ${e}`);
        const byId = Object.fromEntries(runsB.map((r) => [r.info.run_id, r]));
        for (const ra of runsA) {
            const rb = byId[ra.info.run_id];
            assert.ok(rb, `run ${ra.info.run_id} exported and imported`);
            for (const f of ['run_name', 'user_id', 'status', 'start_time', 'end_time', 'lifecycle_stage'])
                assert.equal(String(rb.info[f]), String(ra.info[f]), f);
            assert.deepEqual(kv(rb.data.params), kv(ra.data.params));
            assert.deepEqual(kv(rb.data.tags), kv(ra.data.tags));
            const ds = (r) => (r.inputs?.dataset_inputs || []).map((d) => JSON.stringify([d.dataset, kv(d.tags)])).sort();
            assert.deepEqual(ds(rb), ds(ra), 'dataset inputs');
            assert.deepEqual(rb.outputs?.model_outputs, ra.outputs?.model_outputs, 'model outputs');
            assert.deepEqual(rb.inputs?.model_inputs, ra.inputs?.model_inputs, 'model inputs');
            for (const m of ra.data.metrics || []) {
                const ha = await historyOf(a, ra.info.run_id, m.key);
                const hb = await historyOf(b, ra.info.run_id, m.key);
                const norm = (h) => h.map((p) => `${p.step} ${p.timestamp} ${p.value}`).sort();
                assert.deepEqual(norm(hb), norm(ha), `history ${m.key}`);
            }
            const files = async (base, rel) => {
                const l = await api(base, 'GET', '/api/2.0/mlflow-artifacts/artifacts', { path: rel });
                const out = {};
                for (const f of l.json.files || []) {
                    if (f.is_dir) Object.assign(out, await files(base, `${rel}/${f.path}`));
                    else out[`${rel}/${f.path}`] = crypto.createHash('sha256').update(await download(base, `${rel}/${f.path}`)).digest('hex');
                }
                return out;
            };
            const rel = `${e}/${ra.info.run_id}/artifacts`;
            assert.deepEqual(await files(b, rel), await files(a, rel));
        }
    }
}

test('export -> import mlruns into a fresh server: every run, point and file the same', { timeout: 600000 }, async () => {
    const out = path.join(tmp, 'export');
    const e = JSON.parse((await cliOk(stack.base, ['--json', 'export', out, '--jobs', '3'])).out).export;
    assert.equal(e.logged_models, 1);
    assert.ok(e.points >= 100011, `exported ${e.points} points`);
    assert.ok(fs.existsSync(path.join(out, F.expId, F.run1, 'metrics', 'train', 'acc')));
    assert.equal(fs.readFileSync(path.join(out, F.expId, F.run1, 'params', 'multi'), 'utf8'), 'line one\nline two\n');
    assert.match(fs.readFileSync(path.join(out, F.expId, F.run1, 'metrics', 'loss'), 'utf8'), / nan 1\n.* inf 2\n.* -inf 3\n/s);
    assert.ok(fs.existsSync(path.join(out, 'models', `${F.expName}-model`, 'version-2', 'meta.yaml')));
    const md = path.join(out, F.expId, 'models', F.model1);
    assert.match(fs.readFileSync(path.join(md, 'meta.yaml'), 'utf8'), new RegExp(`model_id: "${F.model1}"[\\s\\S]*status: 2`));
    assert.equal(fs.readFileSync(path.join(md, 'metrics', 'eval', 'loss'), 'utf8'), `${T0 + 3} nan 0 None\n`);
    assert.match(fs.readFileSync(path.join(md, 'metrics', 'accuracy'), 'utf8'), new RegExp(`${T0 + 1} 0.96999999999999997 0 ${F.run1} iris-train a1b2c3d4\n`));
    assert.deepEqual(fs.readFileSync(path.join(md, 'artifacts', 'sub', 'model.pkl')), F.pkl);
    assert.match(fs.readFileSync(path.join(out, F.expId, F.run1, 'outputs', F.model1, 'meta.yaml'), 'utf8'), /step: 0/);
    const srv = await secondServer('exptrack_roundtrip');
    await cliOk(srv.url, ['import', 'mlruns', out]);
    await compareServers(stack.base, srv.url, [F.expId]);
    const v = await api(srv.url, 'GET', '/api/2.0/mlflow/registered-models/alias', { name: `${F.expName}-model`, alias: 'champion' });
    assert.equal(v.json.model_version.version, '2');
});

test('import mlflow --from another exptrackd (REST)', { timeout: 600000 }, async () => {
    const srv = await secondServer('exptrack_rest');
    const dry = JSON.parse((await cliOk(srv.url, ['--json', 'import', 'mlflow', '--from', stack.base, '--experiment', F.expName,
        '--dry-run'])).out).import;
    assert.equal(dry.runs, 2);
    assert.equal(dry.points, 100011);
    assert.equal(dry.files, 5);
    assert.equal(sqlIn('exptrack_rest', 'SELECT count(*) FROM runs'), '0', 'a dry run writes nothing');
    const r = await cliOk(srv.url, ['--json', 'import', 'mlflow', '--from', stack.base, '--experiment', F.expName,
        '--work-dir', path.join(tmp, 'rest-work')]);
    const got = JSON.parse(r.out.trim().split('\n').pop()).import;
    assert.equal(got.runs, 2);
    assert.equal(got.files, 5, 'each file counted once');
    assert.equal(got.logged_models, 1);
    await compareServers(stack.base, srv.url, [F.expId]);
    // PostgreSQL's text of every point: exact int64 ends and shortest doubles
    // (through metric_points: the compaction thread may have packed a
    // finished run's points into chunks by now)
    const edge = `SELECT string_agg(m.step || ' ' || m.timestamp || ' ' || m.value::text, ',' ORDER BY m.step)
        FROM runs r CROSS JOIN metric_keys k
        CROSS JOIN LATERAL metric_points(r.id, k.id, '-9223372036854775808', '9223372036854775807', NULL) m
        WHERE k.name = 'edge/extremes'`;
    assert.equal(sqlIn('exptrack', edge), '-9223372036854775808 9223372036854775807 1.7976931348623157e+308,' +
        '2 1 -0,3 2 0.1,4 3 -2.2250738585072014e-308,9223372036854775807 0 5e-324');
    assert.equal(sqlIn('exptrack_rest', edge), sqlIn('exptrack', edge));
});

test('import API: admin only, collisions, hostile input', async () => {
    const P = '/api/2.0/exptrack/import';
    const e = await api(stack.base, 'POST', `${P}/experiments`, { experiment_id: '900', name: `api-${hex()}` });
    assertOk(e, 'import experiment');
    assert.equal(e.json.experiment_id, '900');
    // the sequence moved past the imported id
    const made = await api(stack.base, 'POST', '/api/2.0/mlflow/experiments/create', { name: `api-${hex()}` });
    assert.ok(Number(made.json.experiment_id) > 900);
    assertError(await api(stack.base, 'POST', `${P}/experiments`, { experiment_id: '900', name: `api-${hex()}` }),
        400, 'RESOURCE_ALREADY_EXISTS', ['900']);
    const bad = [
        [{ name: 'x' }, 'experiment_id'],
        [{ experiment_id: '-1', name: 'x' }, 'experiment_id'],
        [{ experiment_id: '99999999999999999999', name: 'x' }, 'experiment_id'],
        [{ experiment_id: [], name: 'x' }, 'experiment_id'],
        [{ experiment_id: '901' }, 'name'],
        [{ experiment_id: '901', name: 5 }, 'name'],
        [{ experiment_id: '901', name: 'x'.repeat(501) }, 'name'],
        [{ experiment_id: '901', name: 'x', creation_time: -5 }, 'creation_time'],
        [{ experiment_id: '901', name: 'x', creation_time: 'soon' }, 'creation_time'],
    ];
    for (const [body, field] of bad)
        assertError(await api(stack.base, 'POST', `${P}/experiments`, body), 400, 'INVALID_PARAMETER_VALUE', [field], JSON.stringify(body));
    const nul = await api(stack.base, 'POST', `${P}/experiments`, null, { raw: '{"experiment_id":"902","name":"a\\u0000b"}' });
    assert.equal(nul.status, 400);
    const sur = await api(stack.base, 'POST', `${P}/experiments`, null, { raw: '{"experiment_id":"902","name":"a\\ud800"}' });
    assert.equal(sur.status, 400);

    const id = hex();
    const ok = await api(stack.base, 'POST', `${P}/runs`, { run_id: id, experiment_id: '900', run_name: 'r', user_id: 'u',
        status: 'KILLED', start_time: 5, end_time: 9 });
    assertOk(ok, 'import run');
    const run = await getRun(stack.base, id);
    assert.equal(run.info.status, 'KILLED');
    assert.equal(String(run.info.start_time), '5');
    assert.equal(run.info.artifact_uri, `mlflow-artifacts:/900/${id}/artifacts`);
    assertError(await api(stack.base, 'POST', `${P}/runs`, { run_id: id, experiment_id: '900', start_time: 1 }),
        400, 'RESOURCE_ALREADY_EXISTS', [id]);
    assertError(await api(stack.base, 'POST', `${P}/runs`, { run_id: hex(), experiment_id: '123456', start_time: 1 }),
        404, 'RESOURCE_DOES_NOT_EXIST');
    const runBad = [
        [{ experiment_id: '900', start_time: 1 }, 'run_id'],
        [{ run_id: 'ABC', experiment_id: '900', start_time: 1 }, 'run_id'],
        [{ run_id: id.toUpperCase(), experiment_id: '900', start_time: 1 }, 'run_id'],
        [{ run_id: hex(), experiment_id: '900' }, 'start_time'],
        [{ run_id: hex(), experiment_id: '900', start_time: -1 }, 'start_time'],
        [{ run_id: hex(), experiment_id: '900', start_time: '9223372036854775808' }, 'start_time'],
        [{ run_id: hex(), experiment_id: '900', start_time: 1, status: 'DONE' }, 'status'],
        [{ run_id: hex(), experiment_id: '900', start_time: 1, end_time: {} }, 'end_time'],
        [{ run_id: hex(), experiment_id: '900', start_time: 1, run_name: 'n'.repeat(251) }, 'run_name'],
        [{ run_id: hex(), experiment_id: '900', start_time: 1, user_id: 7 }, 'user_id'],
    ];
    for (const [body, field] of runBad)
        assertError(await api(stack.base, 'POST', `${P}/runs`, body), 400, 'INVALID_PARAMETER_VALUE', [field], JSON.stringify(body));
    // logged models: ids, times, status and lifecycle kept; a repeat adds
    // only what is missing; hostile input named
    const LM = `${P}/logged-models`;
    const mid = `m-${hex()}`;
    const full = {
        model_id: mid, experiment_id: '900', name: 'net', model_type: 'sklearn', source_run_id: id,
        status: 'LOGGED_MODEL_UPLOAD_FAILED', creation_timestamp_ms: 11, last_updated_timestamp_ms: 12,
        params: [{ key: 'C', value: '1' }], tags: [{ key: 't', value: 'a' }, { key: 't', value: 'b' }],
        metrics: [{ key: 'acc', value: 'NaN', timestamp: 3, step: 2, run_id: id, dataset_name: 'd', dataset_digest: 'x' },
            { key: 'acc', value: 0.5, timestamp: '4' }],
    };
    const lmOk = await api(stack.base, 'POST', LM, full);
    assertOk(lmOk, 'import logged model');
    assert.deepEqual(lmOk.json, { model_id: mid, created: true });
    const got = (await api(stack.base, 'GET', `/api/2.0/mlflow/logged-models/${mid}`)).json.model;
    assert.equal(got.info.status, 'LOGGED_MODEL_UPLOAD_FAILED');
    assert.equal(String(got.info.creation_timestamp_ms), '11');
    assert.equal(String(got.info.last_updated_timestamp_ms), '12');
    assert.equal(got.info.model_type, 'sklearn');
    assert.equal(got.info.source_run_id, id);
    assert.equal(got.info.artifact_uri, `mlflow-artifacts:/900/models/${mid}/artifacts`);
    assert.deepEqual(kv(got.info.tags), { t: 'b' }, 'a repeated tag keeps its last value');
    assert.equal(got.data.metrics.length, 2);
    const again = await api(stack.base, 'POST', LM, { ...full, params: [{ key: 'C', value: '1' }, { key: 'D', value: '2' }],
        metrics: [...full.metrics, { key: 'acc', value: 1, timestamp: 5, step: 3 }] });
    assert.deepEqual(again.json, { model_id: mid, created: false });
    const got2 = (await api(stack.base, 'GET', `/api/2.0/mlflow/logged-models/${mid}`)).json.model;
    assert.deepEqual(kv(got2.data.params), { C: '1', D: '2' });
    assert.equal(got2.data.metrics.length, 3, 'identical rows not doubled');
    // the same id in another experiment or with another creation time is taken
    assertError(await api(stack.base, 'POST', LM, { ...full, creation_timestamp_ms: 99 }), 400, 'RESOURCE_ALREADY_EXISTS', [mid]);
    assertError(await api(stack.base, 'POST', LM, { model_id: `m-${hex()}`, experiment_id: '123456', name: 'x' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    const status0 = await api(stack.base, 'POST', LM, { model_id: `m-${hex()}`, experiment_id: '900', name: 'x', status: 0, lifecycle_stage: 'deleted' });
    assertOk(status0, 'status 0, deleted');
    assert.equal((await api(stack.base, 'GET', `/api/2.0/mlflow/logged-models/${status0.json.model_id}`)).status, 404, 'imported deleted');
    const lmBad = [
        [{ experiment_id: '900', name: 'x' }, 'model_id'],
        [{ model_id: hex(), experiment_id: '900', name: 'x' }, 'model_id'],
        [{ model_id: `m-${hex().toUpperCase()}`, experiment_id: '900', name: 'x' }, 'model_id'],
        [{ model_id: `m-${hex()}0`, experiment_id: '900', name: 'x' }, 'model_id'],
        [{ model_id: `m-${hex()}`, name: 'x' }, 'experiment_id'],
        [{ model_id: `m-${hex()}`, experiment_id: '900' }, 'name'],
        [{ model_id: `m-${hex()}`, experiment_id: '900', name: 'a/b' }, 'name'],
        [{ model_id: `m-${hex()}`, experiment_id: '900', name: 'x'.repeat(501) }, 'name'],
        [{ model_id: `m-${hex()}`, experiment_id: '900', name: 'x', status: 'DONE' }, 'status'],
        [{ model_id: `m-${hex()}`, experiment_id: '900', name: 'x', status: 7 }, 'status'],
        [{ model_id: `m-${hex()}`, experiment_id: '900', name: 'x', lifecycle_stage: 'gone' }, 'lifecycle_stage'],
        [{ model_id: `m-${hex()}`, experiment_id: '900', name: 'x', creation_timestamp_ms: -1 }, 'creation_timestamp_ms'],
        [{ model_id: `m-${hex()}`, experiment_id: '900', name: 'x', last_updated_timestamp_ms: 'later' }, 'last_updated_timestamp_ms'],
        [{ model_id: `m-${hex()}`, experiment_id: '900', name: 'x', model_type: 'm'.repeat(501) }, 'model_type'],
        [{ model_id: `m-${hex()}`, experiment_id: '900', name: 'x', params: [{ key: 'a' }, { key: 'a' }] }, 'params'],
        [{ model_id: `m-${hex()}`, experiment_id: '900', name: 'x', params: [{ value: 'v' }] }, 'key'],
        [{ model_id: `m-${hex()}`, experiment_id: '900', name: 'x', tags: [{ key: 'k'.repeat(256) }] }, 'key'],
        [{ model_id: `m-${hex()}`, experiment_id: '900', name: 'x', tags: {} }, 'tags'],
        [{ model_id: `m-${hex()}`, experiment_id: '900', name: 'x', params: Array.from({ length: 1001 }, (_, i) => ({ key: `k${i}`, value: 'v' })) }, 'params'],
        [{ model_id: `m-${hex()}`, experiment_id: '900', name: 'x', metrics: [{ key: 'a', timestamp: 1 }] }, 'metrics[0]'],
        [{ model_id: `m-${hex()}`, experiment_id: '900', name: 'x', metrics: [{ key: 'a', value: 'much', timestamp: 1 }] }, 'value'],
        [{ model_id: `m-${hex()}`, experiment_id: '900', name: 'x', metrics: [{ key: 'a', value: 1, timestamp: 1, step: 'x' }] }, 'step'],
        [{ model_id: `m-${hex()}`, experiment_id: '900', name: 'x', metrics: [{ key: 'a', value: 1, timestamp: 1, run_id: 'r'.repeat(33) }] }, 'run_id'],
        [{ model_id: `m-${hex()}`, experiment_id: '900', name: 'x', metrics: [{ key: 'a', value: 1, timestamp: 1, dataset_digest: 'd'.repeat(37) }] }, 'dataset_digest'],
        [{ model_id: `m-${hex()}`, experiment_id: '900', name: 'x', metrics: [7] }, 'metrics'],
    ];
    for (const [body, field] of lmBad)
        assertError(await api(stack.base, 'POST', LM, body), 400, 'INVALID_PARAMETER_VALUE', [field], JSON.stringify(body).slice(0, 200));
    const nulName = await api(stack.base, 'POST', LM, null, { raw: `{"model_id":"m-${hex()}","experiment_id":"900","name":"a\\u0000b"}` });
    assert.equal(nulName.status, 400);
    assert.equal(Number(stack.pg.psql("SELECT count(*) FROM logged_models WHERE experiment_id = 900").trim()), 2, 'nothing written by a refusal');
    // a deleted experiment takes no runs
    assertOk(await api(stack.base, 'POST', '/api/2.0/mlflow/experiments/delete', { experiment_id: '900' }));
    const del = await api(stack.base, 'POST', `${P}/runs`, { run_id: hex(), experiment_id: '900', start_time: 1 });
    assert.equal(del.status, 400);
    assert.equal(del.json.error_code, 'INVALID_STATE');
    const delLm = await api(stack.base, 'POST', LM, { model_id: `m-${hex()}`, experiment_id: '900', name: 'x' });
    assert.equal(delLm.status, 400);
    assert.equal(delLm.json.error_code, 'INVALID_STATE');
});

test('with --auth: the import API is for admins; the CLI signs in with $EXPTRACK_USERNAME', { timeout: 300000 }, async () => {
    const pw = 'admin-password-for-import-tests';
    const pwFile = path.join(tmp, 'admin-pw');
    fs.writeFileSync(pwFile, `${pw}\n`, { mode: 0o600 });
    stack.pg.psql('CREATE DATABASE exptrack_auth');
    const srv = await startServer({ databaseUrl: stack.pg.url.replace('/exptrack?', '/exptrack_auth?'),
        args: ['--auth', '--admin-password-file', pwFile] });
    extra.push(srv);
    const basic = (u, p) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
    const ADMIN = basic('admin', pw);
    assertOk(await api(srv.url, 'POST', '/api/2.0/mlflow/users/create', { username: 'bob', password: 'bob-password-123' }, { headers: ADMIN }));
    const BOB = basic('bob', 'bob-password-123');
    for (const [p, body] of [['experiments', { experiment_id: '55', name: 'x' }], ['runs', { run_id: hex(), experiment_id: '0', start_time: 1 }],
        ['logged-models', { model_id: `m-${hex()}`, experiment_id: '0', name: 'x' }]]) {
        assert.equal((await api(srv.url, 'POST', `/api/2.0/exptrack/import/${p}`, body, { headers: BOB })).status, 403, p);
        assert.equal((await api(srv.url, 'POST', `/api/2.0/exptrack/import/${p}`, body)).status, 401, p);
    }
    const root = path.join(tmp, 'mlruns');
    const denied = await cli(srv.url, ['import', 'mlruns', root, '--state', path.join(tmp, 'auth-state-1')],
        { EXPTRACK_USERNAME: 'bob', EXPTRACK_PASSWORD: 'bob-password-123' });
    assert.equal(denied.code, 1);
    assert.match(denied.err, /403|PERMISSION_DENIED/);
    const ok = await cli(srv.url, ['--json', 'import', 'mlruns', root, '--state', path.join(tmp, 'auth-state-2')],
        { EXPTRACK_USERNAME: 'admin', EXPTRACK_PASSWORD: pw });
    assert.equal(ok.code, 0, ok.err);
    assert.equal(JSON.parse(ok.out).import.runs, 2);
    const run = await api(srv.url, 'GET', '/api/2.0/mlflow/runs/get', { run_id: F.run1 }, { headers: ADMIN });
    assert.equal(run.json.run.info.run_name, 'first');
});
