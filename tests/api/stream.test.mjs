// Live updates: GET /api/2.0/exptrack/stream (server-sent events fed by
// PostgreSQL LISTEN/NOTIFY). Events arrive within 2 s of a write, only for
// the watched runs and experiments; bad input is a 400 naming the field; 50
// open streams on a server with 2 worker threads leave the API answering (no
// stream holds a thread); a PostgreSQL restart turns into a resync; the
// server stops promptly with streams open.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPostgres, startServer, client, api, assertOk, assertError, uniqueName, sleep, waitUntil, REPO_ROOT, openStream, isRunEvent as isRun } from './harness.mjs';

const STREAM = '/api/2.0/exptrack/stream';
let pg, srv, c;

before(async () => {
    pg = await startPostgres();
    srv = await startServer({ databaseUrl: pg.url, args: ['--threads', '2'] });
    c = client(srv.url);
}, { timeout: 120000 });
after(async () => {
    if (srv) await srv.stop();
    if (pg) await pg.destroy();
}, { timeout: 60000 });


async function newRun(exp) {
    return (await c.createRun(exp)).info.run_id;
}

test('a stream starts with retry and gets metrics, params, tags and status events within 2 s', async () => {
    const exp = await c.createExperiment(uniqueName('live'));
    const run = await newRun(exp);
    const s = await openStream(srv.url, { run_id: run });
    try {
        assert.equal(s.status, 200);
        assert.match(s.headers.get('content-type'), /^text\/event-stream/);
        assert.equal(s.headers.get('cache-control'), 'no-store');
        const first = await s.waitFor(() => true);
        assert.equal(first.retry, 2000);

        let t0 = Date.now();
        assertOk(await c.post('/runs/log-batch', {
            run_id: run,
            metrics: [{ key: 'loss', value: 1, timestamp: 1, step: 1 }, { key: 'acc', value: 0.5, timestamp: 1, step: 1 }],
            params: [{ key: 'lr', value: '0.1' }],
            tags: [{ key: 'team', value: 'a' }],
        }));
        const m = await s.waitFor(isRun(run, 'metrics'));
        assert.ok(m.at - t0 < 2000);
        assert.deepEqual(m.data, { run_id: run, experiment_id: exp, kind: 'metrics' });
        await s.waitFor(isRun(run, 'params'));
        await s.waitFor(isRun(run, 'tags'));
        // one event per run and kind per write, however many keys it touched
        assert.equal(s.events().filter((e) => e.kind === 'metrics').length, 1);

        let n = s.items.length;
        t0 = Date.now();
        assertOk(await c.post('/runs/set-tag', { run_id: run, key: 'note', value: 'x' }));
        assert.ok((await s.waitFor(isRun(run, 'tags'), 2000, n)).at - t0 < 2000);

        n = s.items.length;
        assertOk(await c.post('/runs/log-metric', { run_id: run, key: 'loss', value: 0.5, timestamp: 2, step: 2 }));
        await s.waitFor(isRun(run, 'metrics'), 2000, n);

        n = s.items.length;
        assertOk(await c.post('/runs/update', { run_id: run, status: 'FINISHED', end_time: Date.now() }));
        await s.waitFor(isRun(run, 'status'), 2000, n);

        n = s.items.length;
        assertOk(await c.post('/runs/delete-tag', { run_id: run, key: 'note' }));
        await s.waitFor(isRun(run, 'tags'), 2000, n);

        n = s.items.length;
        assertOk(await c.post('/runs/delete', { run_id: run }));
        await s.waitFor(isRun(run, 'deleted'), 2000, n);
        assertOk(await c.post('/runs/restore', { run_id: run }));
        await s.waitFor(isRun(run, 'restored'), 2000, n);
        assert.equal(s.items.filter((x) => x.event === 'resync').length, 0);
    } finally {
        s.close();
    }
});

test('filtering: a run stream sees only its run, an experiment stream every run of it', async () => {
    const expA = await c.createExperiment(uniqueName('liveA'));
    const expB = await c.createExperiment(uniqueName('liveB'));
    const a1 = await newRun(expA);
    const b1 = await newRun(expB);
    const byRun = await openStream(srv.url, { run_id: a1 });
    // the ajax-api mount, as the dashboard's MLflow-style clients use
    const byExp = await openStream(srv.url, { experiment_id: expA }, { path: '/ajax-api/2.0/exptrack/stream' });
    try {
        assert.equal(byExp.status, 200);
        // writes elsewhere first: they must not show up on either stream
        assertOk(await c.post('/runs/log-metric', { run_id: b1, key: 'x', value: 1, timestamp: 1, step: 0 }));
        const a2 = await newRun(expA); // a new run of the watched experiment
        await byExp.waitFor(isRun(a2, 'created'));
        assertOk(await c.post('/runs/log-metric', { run_id: a2, key: 'x', value: 1, timestamp: 1, step: 0 }));
        assertOk(await c.post('/runs/log-metric', { run_id: a1, key: 'x', value: 1, timestamp: 1, step: 0 }));
        await byExp.waitFor(isRun(a2, 'metrics'));
        await byExp.waitFor(isRun(a1, 'metrics'));
        await byRun.waitFor(isRun(a1, 'metrics'));
        await sleep(300);
        assert.deepEqual(byRun.events().map((e) => e.run_id).filter((r) => r !== a1), []);
        assert.deepEqual(byExp.events().filter((e) => e.experiment_id !== expA), []);
        assert.ok(!byExp.events().some((e) => e.run_id === b1));
    } finally {
        byRun.close();
        byExp.close();
    }
});

// Runs web/js/live.js's watch() in a node child (its EventSource resolves
// the dashboard's relative URL against the server); every onEvent argument
// comes back as one JSON line.
function liveChild(base, spec) {
    const liveUrl = 'file://' + path.join(REPO_ROOT, 'web', 'js', 'live.js');
    const code = `
        const Base = globalThis.EventSource;
        globalThis.EventSource = class extends Base { constructor(u, o) { super(new URL(u, ${JSON.stringify(base)}), o); } };
        const { watch } = await import(${JSON.stringify(liveUrl)});
        watch(${JSON.stringify(spec)}, (ev) => console.log(JSON.stringify(ev)));`;
    const proc = spawn(process.execPath, ['--experimental-eventsource', '--no-warnings', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    const child = { events: [], proc };
    let buf = '';
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) { child.events.push(JSON.parse(buf.slice(0, i))); buf = buf.slice(i + 1); }
    });
    child.stop = () => proc.kill('SIGKILL');
    return child;
}

test('web/js/live.js: watch() delivers parsed events, and retries a refused stream with resyncs', { timeout: 60000 }, async () => {
    const exp = await c.createExperiment(uniqueName('livejs'));
    const run = await newRun(exp);
    const ok = liveChild(srv.url, { runIds: [run], experimentIds: [] });
    const refused = liveChild(srv.url, { runIds: ['0'.repeat(32)] }); // 404: not a stream
    try {
        // the child's stream opens at some point: write until an event comes back
        await waitUntil(async () => {
            assertOk(await c.post('/runs/set-tag', { run_id: run, key: 'k', value: String(Date.now()) }));
            await sleep(300);
            return ok.events.some((e) => e.run_id === run && e.kind === 'tags');
        }, 15000, 'a tags event through live.js');
        const ev = ok.events.find((e) => e.kind === 'tags');
        assert.deepEqual(ev, { run_id: run, experiment_id: exp, kind: 'tags' });
        await waitUntil(() => refused.events.some((e) => e.kind === 'resync'), 10000, 'a resync from the retry of a refused stream');
        assert.ok(!ok.events.some((e) => e.kind === 'resync'), JSON.stringify(ok.events));
    } finally {
        ok.stop();
        refused.stop();
    }
});

test('bad input is a 400 naming the field; unknown runs and experiments 404', async () => {
    const exp = await c.createExperiment(uniqueName('livebad'));
    const run = await newRun(exp);
    const check = async (query, status, code, mention) => {
        const s = await openStream(srv.url, query);
        assert.equal(s.status, status, `${JSON.stringify(query)}: ${s.text}`);
        assertError({ status: s.status, json: s.json, text: s.text, headers: s.headers }, status, code, mention);
    };
    await check({}, 400, 'INVALID_PARAMETER_VALUE', 'run_id');
    await check({ run_id: 'not-a-run' }, 400, 'INVALID_PARAMETER_VALUE', 'run_id');
    await check({ run_id: run.toUpperCase() }, 400, 'INVALID_PARAMETER_VALUE', 'run_id');
    await check({ experiment_id: 'abc' }, 400, 'INVALID_PARAMETER_VALUE', 'experiment_id');
    await check({ experiment_id: '-1' }, 400, 'INVALID_PARAMETER_VALUE', 'experiment_id');
    await check({ run_id: Array.from({ length: 101 }, () => run) }, 400, 'INVALID_PARAMETER_VALUE', 'run_id');
    await check({ experiment_id: Array.from({ length: 101 }, () => exp) }, 400, 'INVALID_PARAMETER_VALUE', 'experiment_id');
    await check({ run_id: '0'.repeat(32) }, 404, 'RESOURCE_DOES_NOT_EXIST', '0'.repeat(32));
    await check({ experiment_id: '987654321' }, 404, 'RESOURCE_DOES_NOT_EXIST', '987654321');
    // 100 of each is fine
    const ok = await openStream(srv.url, { run_id: Array.from({ length: 100 }, () => run), experiment_id: exp });
    assert.equal(ok.status, 200);
    ok.close();
    // POST is not a stream
    const r = await api(srv.url, 'POST', STREAM, {});
    assert.equal(r.status, 405);
});

test('50 open streams hold no worker thread (--threads 2): the API answers, every stream gets its event', { timeout: 60000 }, async () => {
    const exp = await c.createExperiment(uniqueName('live50'));
    const run = await newRun(exp);
    const streams = [];
    try {
        for (let i = 0; i < 50; i++) streams.push(await openStream(srv.url, i % 2 ? { run_id: run } : { experiment_id: exp }));
        for (const s of streams) assert.equal(s.status, 200);
        const t0 = Date.now();
        for (let i = 0; i < 10; i++) assert.equal((await c.getRun(run)).info.run_id, run);
        assertOk(await c.post('/runs/log-metric', { run_id: run, key: 'm', value: 1, timestamp: 1, step: 1 }));
        assert.ok(Date.now() - t0 < 5000, `API took ${Date.now() - t0} ms with 50 streams open`);
        await Promise.all(streams.map((s) => s.waitFor(isRun(run, 'metrics'), 3000)));
        // paused, not polled: 50 idle streams cost the server (almost) no CPU
        const ticks = () => { const f = fs.readFileSync(`/proc/${srv.proc.pid}/stat`, 'utf8').split(') ')[1].split(' '); return Number(f[11]) + Number(f[12]); };
        const before = ticks();
        await sleep(2000);
        const used = ticks() - before; // clock ticks, usually 100 per second
        assert.ok(used < 40, `exptrackd used ${used} ticks of CPU in 2 s with 50 idle streams`);
    } finally {
        for (const s of streams) s.close();
    }
    // closed streams are gone: the server still answers
    assert.equal((await c.getRun(run)).info.run_id, run);
});

test('registry=true: a registry change (new version, alias move) is a registry event; other streams get none', async () => {
    const name = uniqueName('livereg');
    const reg = await openStream(srv.url, { registry: 'true' });
    const exp = await c.createExperiment(uniqueName('liveregexp'));
    const runOnly = await openStream(srv.url, { experiment_id: exp });
    try {
        assert.equal(reg.status, 200);
        await reg.waitFor((x) => x.retry === 2000);
        const isReg = (x) => x.event === 'registry';
        let n = reg.items.length;
        assertOk(await c.post('/registered-models/create', { name }));
        assertOk(await c.post('/model-versions/create', { name, source: 's3://b/m' }));
        const ev = await reg.waitFor(isReg, 3000, n);
        assert.deepEqual(ev.data, { kind: 'registry' });
        n = reg.items.length;
        assertOk(await c.post('/registered-models/alias', { name, alias: 'champion', version: '1' }));
        await reg.waitFor(isReg, 3000, n);
        await sleep(200);
        assert.ok(!runOnly.items.some(isReg), 'a run stream carries no registry events');
    } finally {
        reg.close();
        runOnly.close();
    }
    // bad values of the flag are a 400 naming it
    const bad = await openStream(srv.url, { registry: 'maybe' });
    assertError({ status: bad.status, json: bad.json, text: bad.text, headers: bad.headers }, 400, 'INVALID_PARAMETER_VALUE', 'registry');
    const off = await openStream(srv.url, { registry: 'false' });
    assertError({ status: off.status, json: off.json, text: off.text, headers: off.headers }, 400, 'INVALID_PARAMETER_VALUE', 'run_id');
});

test('traces=true: a trace created, ended or sent over OTLP is a traces event of its experiment only', async () => {
    const exp = await c.createExperiment(uniqueName('livetraces'));
    const other = await c.createExperiment(uniqueName('livetraces-other'));
    const tr = await openStream(srv.url, { experiment_id: exp, traces: 'true' });
    const plain = await openStream(srv.url, { experiment_id: exp });
    const elsewhere = await openStream(srv.url, { experiment_id: other, traces: 'true' });
    const isTraces = (x) => x.event === 'traces';
    try {
        for (const s of [tr, plain, elsewhere]) {
            assert.equal(s.status, 200);
            await s.waitFor((x) => x.retry === 2000);
        }
        // V2 start, then end: one event each
        let n = tr.items.length;
        const started = assertOk(await c.post('/traces', { experiment_id: exp, timestamp_ms: Date.now(), request_metadata: [], tags: [] }));
        const ev = await tr.waitFor(isTraces, 3000, n);
        assert.deepEqual(ev.data, { experiment_id: exp, kind: 'traces' });
        n = tr.items.length;
        const id = started.trace_info.request_id;
        assertOk(await c.req('PATCH', `/traces/${id}`, { request_id: id, timestamp_ms: Date.now(), status: 'OK' }));
        await tr.waitFor(isTraces, 3000, n);
        // OTLP spans into the experiment
        n = tr.items.length;
        const now = BigInt(Date.now()) * 1000000n;
        const otlp = await fetch(`${srv.url}/v1/traces`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', 'x-mlflow-experiment-id': exp },
            body: JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{
                traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', name: 'root',
                startTimeUnixNano: String(now), endTimeUnixNano: String(now + 1000000n) }] }] }] }),
        });
        assert.equal(otlp.status, 200, await otlp.text());
        await tr.waitFor(isTraces, 3000, n);
        await sleep(200);
        assert.ok(!plain.items.some(isTraces), 'a stream without traces=true carries no trace events');
        assert.ok(!elsewhere.items.some(isTraces), 'another experiment\'s stream carries none');
    } finally {
        tr.close();
        plain.close();
        elsewhere.close();
    }
    // trace events are per experiment: the flag needs one, and a bad value is a 400 naming it
    for (const [query, mention] of [[{ traces: 'true' }, 'traces'], [{ run_id: '0'.repeat(32), traces: 'true' }, 'traces'], [{ experiment_id: exp, traces: 'maybe' }, 'traces']]) {
        const bad = await openStream(srv.url, query);
        assertError({ status: bad.status, json: bad.json, text: bad.text, headers: bad.headers }, 400, 'INVALID_PARAMETER_VALUE', mention);
    }
});

test('models=true: a logged model created, finalized, tagged, untagged or deleted is a models event of its experiment only', async () => {
    const exp = await c.createExperiment(uniqueName('livemodels'));
    const other = await c.createExperiment(uniqueName('livemodels-other'));
    const st = await openStream(srv.url, { experiment_id: exp, models: 'true' });
    const plain = await openStream(srv.url, { experiment_id: exp, traces: 'true' });
    const elsewhere = await openStream(srv.url, { experiment_id: other, models: 'true' });
    const isModels = (x) => x.event === 'models';
    try {
        for (const s of [st, plain, elsewhere]) {
            assert.equal(s.status, 200);
            await s.waitFor((x) => x.retry === 2000);
        }
        const step = async (what, call) => {
            const n = st.items.length;
            assertOk(await call(), what);
            const ev = await st.waitFor(isModels, 3000, n);
            assert.deepEqual(ev.data, { experiment_id: exp, kind: 'models' }, what);
        };
        let id;
        await step('create', async () => {
            const r = await c.post('/logged-models', { experiment_id: exp, name: 'live-model' });
            id = r.json?.model?.info?.model_id;
            return r;
        });
        const m = `/logged-models/${id}`;
        await step('finalize', () => c.req('PATCH', m, { status: 'LOGGED_MODEL_READY' }));
        await step('set tags', () => c.req('PATCH', `${m}/tags`, { tags: [{ key: 'stage', value: 'candidate' }] }));
        await step('delete tag', () => c.req('DELETE', `${m}/tags/stage`));
        await step('delete', () => c.req('DELETE', m));
        // a refused change announces nothing
        const n = st.items.length;
        assert.equal((await c.req('PATCH', `/logged-models/m-${'0'.repeat(32)}`, { status: 'LOGGED_MODEL_READY' })).status, 404);
        await sleep(300);
        assert.ok(!st.items.slice(n).some(isModels), 'a 404 sends no event');
        assert.ok(!plain.items.some(isModels), 'a stream without models=true carries no model events');
        assert.ok(!elsewhere.items.some(isModels), 'another experiment\'s stream carries none');
    } finally {
        st.close();
        plain.close();
        elsewhere.close();
    }
    for (const [query, mention] of [[{ models: 'true' }, 'models'], [{ run_id: '0'.repeat(32), models: 'true' }, 'models'], [{ experiment_id: exp, models: 'maybe' }, 'models']]) {
        const bad = await openStream(srv.url, query);
        assertError({ status: bad.status, json: bad.json, text: bad.text, headers: bad.headers }, 400, 'INVALID_PARAMETER_VALUE', mention);
    }
});

test('exptrackd stops promptly with streams open, ending them', { timeout: 60000 }, async () => {
    const other = await startServer({ databaseUrl: pg.url, args: ['--threads', '2'] });
    try {
        const oc = client(other.url);
        const exp = await oc.createExperiment(uniqueName('livestop'));
        const streams = [];
        for (let i = 0; i < 5; i++) streams.push(await openStream(other.url, { experiment_id: exp }));
        await Promise.all(streams.map((s) => s.waitFor((x) => x.retry === 2000)));
        const t0 = Date.now();
        other.proc.kill('SIGTERM');
        const ended = await Promise.all(streams.map((s) => s.waitEnd(5000)));
        assert.deepEqual(ended, streams.map(() => true));
        await waitUntil(() => other.exited(), 5000, 'exptrackd exit', 50);
        assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
        assert.equal(other.proc.exitCode, 0, other.log());
        for (const s of streams) assert.equal(s.error, null, String(s.error));
    } finally {
        await other.stop();
    }
});

test('a PostgreSQL restart turns into a resync, then events flow again', { timeout: 90000 }, async () => {
    const exp = await c.createExperiment(uniqueName('liverestart'));
    const run = await newRun(exp);
    const s = await openStream(srv.url, { run_id: run });
    try {
        await s.waitFor((x) => x.retry === 2000);
        await pg.stop();
        await pg.start();
        await s.waitFor((x) => x.event === 'resync', 20000);
        assert.equal(s.ended, false);
        const n = s.items.length;
        // the request threads reconnect with backoff: retry until a write lands
        await waitUntil(async () => (await c.post('/runs/log-metric', { run_id: run, key: 'after', value: 1, timestamp: 1, step: 1 })).status === 200, 20000, 'a write after the restart');
        await s.waitFor(isRun(run, 'metrics'), 2000, n);
    } finally {
        s.close();
    }
});

