// Scale-out: two exptrackd processes on one PostgreSQL. Writes through one
// are visible through the other as soon as they are acknowledged (the
// servers keep no state of their own); concurrent writers through both
// converge; an Idempotency-Key applies once whichever instance gets it;
// live updates of writes through one arrive on a stream opened on the other
// (PostgreSQL LISTEN/NOTIFY).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useServers, client, api, assertOk, uniqueName, openStream, isRunEvent } from './harness.mjs';

const stack = useServers({ before, after }, [{}, { args: ['--group-commit', 'off'] }]);
// the two instances: a (group commit on) and b (off), once before() ran
const a = () => stack.servers[0];
const b = () => stack.servers[1];

test('write through one instance, read through the other, point by point', async () => {
    const ca = client(a().url);
    const cb = client(b().url);
    const exp = await ca.createExperiment(uniqueName('scale'));
    assert.equal((await cb.getExperiment(exp)).experiment_id, exp);
    const run = (await ca.createRun(exp)).info.run_id;
    for (let step = 0; step < 20; step++) {
        assertOk(await ca.post('/runs/log-metric', { run_id: run, key: 'loss', value: 1 / (step + 1), timestamp: 1000 + step, step }));
        // live: the acknowledged point is already there for the other instance
        const latest = (await cb.getRun(run)).data.metrics.find((m) => m.key === 'loss');
        assert.equal(latest.step, step);
        const h = assertOk(await cb.get('/metrics/get-history', { run_id: run, metric_key: 'loss' })).metrics;
        assert.equal(h.length, step + 1);
    }
    assertOk(await cb.post('/runs/set-tag', { run_id: run, key: 'via', value: 'b' }));
    const tags = (await ca.getRun(run)).data.tags;
    assert.ok(tags.some((t) => t.key === 'via' && t.value === 'b'));
    const found = assertOk(await cb.post('/runs/search', { experiment_ids: [exp], filter: 'metrics.loss < 0.1' }));
    assert.equal(found.runs.length, 1);
});

test('concurrent batches through both instances into one run: every point, one latest', async () => {
    const ca = client(a().url);
    const cb = client(b().url);
    const exp = await ca.createExperiment(uniqueName('scale2'));
    const run = (await ca.createRun(exp)).info.run_id;
    const calls = [];
    for (let r = 0; r < 20; r++) {
        const metrics = [];
        for (let i = 0; i < 50; i++) metrics.push({ key: `k${i % 5}`, value: r * 50 + i, timestamp: 1, step: r * 50 + i });
        calls.push((r % 2 ? ca : cb).post('/runs/log-batch', { run_id: run, metrics }));
        calls.push((r % 2 ? cb : ca).post('/runs/log-metric', { run_id: run, key: 'single', value: r, timestamp: 1, step: r }));
    }
    for (const r of await Promise.all(calls)) assertOk(r);
    for (const c of [ca, cb]) {
        const h = await api(c.base, 'GET', '/api/2.0/mlflow/metrics/get-history', { run_id: run, metric_key: 'k0' });
        assert.equal(h.json.metrics.length, 200);
        const single = assertOk(await c.get('/metrics/get-history', { run_id: run, metric_key: 'single' })).metrics;
        assert.equal(single.length, 20);
        const latest = (await c.getRun(run)).data.metrics;
        assert.equal(latest.find((m) => m.key === 'k4').step, 999);
        assert.equal(latest.find((m) => m.key === 'single').step, 19);
    }
});

test('an Idempotency-Key applies once across instances', async () => {
    const ca = client(a().url);
    const cb = client(b().url);
    const exp = await ca.createExperiment(uniqueName('scale3'));
    const run = (await ca.createRun(exp)).info.run_id;
    const body = { run_id: run, metrics: [{ key: 'm', value: 1, timestamp: 5, step: 1 }], params: [{ key: 'p', value: 'v' }] };
    const key = uniqueName('idem');
    const [ra, rb] = await Promise.all([
        ca.post('/runs/log-batch', body, { headers: { 'Idempotency-Key': key } }),
        cb.post('/runs/log-batch', body, { headers: { 'Idempotency-Key': key } }),
    ]);
    assertOk(ra);
    assertOk(rb);
    const h = assertOk(await cb.get('/metrics/get-history', { run_id: run, metric_key: 'm' })).metrics;
    assert.equal(h.length, 1);
});

test('both instances are ready and count their own requests', async () => {
    for (const s of [a(), b()]) {
        assert.equal((await api(s.url, 'GET', '/ready')).status, 200);
        const m = await api(s.url, 'GET', '/metrics');
        assert.match(m.text, /http_server_requests_total\{method="GET",route="\/api\/2\.0\/mlflow\/runs\/get",status="200"\} [1-9]/);
    }
    assert.match((await api(a().url, 'GET', '/metrics')).text, /exptrack_group_commit_enabled 1/);
    assert.match((await api(b().url, 'GET', '/metrics')).text, /exptrack_group_commit_enabled 0/);
});

test('live updates: writes through one instance stream out of the other within 2 s', async () => {
    const ca = client(a().url);
    const cb = client(b().url);
    const exp = await ca.createExperiment(uniqueName('scale-live'));
    const onB = await openStream(b().url, { experiment_id: exp });
    assert.equal(onB.status, 200);
    let onA;
    try {
        const run = (await ca.createRun(exp)).info.run_id;
        await onB.waitFor(isRunEvent(run, 'created'));
        onA = await openStream(a().url, { run_id: run });
        assert.equal(onA.status, 200);
        const t0 = Date.now();
        assertOk(await ca.post('/runs/log-batch', { run_id: run, metrics: [{ key: 'loss', value: 1, timestamp: 1, step: 1 }], params: [{ key: 'lr', value: '0.1' }] }));
        const m = await onB.waitFor(isRunEvent(run, 'metrics'));
        assert.ok(m.at - t0 < 2000, `${m.at - t0} ms`);
        assert.equal(m.data.experiment_id, exp);
        await onB.waitFor(isRunEvent(run, 'params'));
        // and the other way round, through b (group commit off there)
        assertOk(await cb.post('/runs/set-tag', { run_id: run, key: 'via', value: 'b' }));
        await onA.waitFor(isRunEvent(run, 'tags'));
        await onB.waitFor(isRunEvent(run, 'tags'));
        assertOk(await cb.post('/runs/update', { run_id: run, status: 'FINISHED', end_time: Date.now() }));
        await onA.waitFor(isRunEvent(run, 'status'));
        await onB.waitFor(isRunEvent(run, 'status'));
    } finally {
        onB.close();
        if (onA) onA.close();
    }
});
