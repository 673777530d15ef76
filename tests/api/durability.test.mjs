// Durability: log batches from several writers, kill -9 exptrackd in the
// middle, restart a new exptrackd on the same database: every acknowledged
// point (and param and tag) is there, nothing unsent appears, nothing twice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, client, startServer, assertOk, uniqueName, waitUntil } from './harness.mjs';

const stack = useStack({ before, after });
let srv2;
after(async () => { if (srv2) await srv2.stop(); });

test('kill -9 under write load, restart: every acknowledged write is there', { timeout: 120000 }, async () => {
    const c = client(stack.base);
    const exp = await c.createExperiment(uniqueName('durable'));
    const run = (await c.createRun(exp)).info.run_id;

    const WRITERS = 4;
    const PER_BATCH = 200;
    const sent = new Set(); // every step ever sent
    const acked = new Set(); // steps of 200-acknowledged batches
    const ackedParams = new Map();
    const ackedTags = new Map();
    let ackedBatches = 0;
    let failures = 0;

    const writer = async (w) => {
        for (let b = 0; ; b++) {
            const steps = Array.from({ length: PER_BATCH }, (_, i) => w * 10000000 + b * 1000 + i);
            steps.forEach((s) => sent.add(s));
            const body = {
                run_id: run,
                metrics: steps.map((s) => ({ key: 'dur', value: s + 0.25, timestamp: 1700000000000 + s, step: s })),
                params: [{ key: `w${w}-b${b}`, value: `v${b}` }],
                tags: [{ key: `writer-${w}`, value: `batch-${b}` }],
            };
            let r;
            try {
                r = await c.post('/runs/log-batch', body, { timeoutMs: 10000 });
            } catch {
                failures += 1;
                return; // connection refused/reset: the server is gone
            }
            if (r.status !== 200) {
                failures += 1;
                return;
            }
            for (const s of steps) acked.add(s);
            ackedParams.set(`w${w}-b${b}`, `v${b}`);
            ackedTags.set(`writer-${w}`, `batch-${b}`);
            ackedBatches += 1;
        }
    };
    const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));

    await waitUntil(() => ackedBatches >= 40 || stack.srv.exited(), 60000, '40 acknowledged batches', 20);
    assert.ok(!stack.srv.exited(), `exptrackd died on its own:\n${stack.srv.log()}`);
    await stack.srv.kill9();
    await Promise.all(writers);
    assert.equal(failures, WRITERS, 'every writer stopped on the killed server');
    assert.ok(acked.size >= 40 * PER_BATCH);

    srv2 = await startServer({ databaseUrl: stack.pg.url });
    const c2 = client(srv2.url);
    const g = await c2.getRun(run);
    assert.equal(g.info.experiment_id, exp);

    const h = assertOk(await c2.get('/metrics/get-history', { run_id: run, metric_key: 'dur' })).metrics || [];
    const steps = h.map((p) => p.step);
    assert.equal(new Set(steps).size, steps.length, 'no point stored twice');
    const have = new Set(steps);
    const missing = [...acked].filter((s) => !have.has(s));
    assert.equal(missing.length, 0, `${missing.length} acknowledged points lost, e.g. ${missing.slice(0, 5)}`);
    for (const p of h) {
        assert.ok(sent.has(p.step), `point ${p.step} was never sent`);
        assert.equal(p.value, p.step + 0.25);
        assert.equal(p.timestamp, 1700000000000 + p.step);
    }
    // batches are atomic: the unacknowledged in-flight batches are whole or absent
    const byBatch = new Map();
    for (const s of steps) {
        const k = Math.floor(s / 1000);
        byBatch.set(k, (byBatch.get(k) || 0) + 1);
    }
    for (const [k, n] of byBatch) assert.equal(n, PER_BATCH, `batch ${k} partially written (${n} of ${PER_BATCH})`);

    const params = Object.fromEntries((g.data.params || []).map((p) => [p.key, p.value]));
    for (const [k, v] of ackedParams) assert.equal(params[k], v, `acknowledged param ${k}`);
    const tags = Object.fromEntries((g.data.tags || []).map((t) => [t.key, t.value]));
    for (const [k] of ackedTags) assert.ok(k in tags, `acknowledged tag ${k}`);

    // latest metric is consistent with the history
    const maxStep = Math.max(...steps);
    assert.deepEqual(g.data.metrics.find((m) => m.key === 'dur'),
        { key: 'dur', value: maxStep + 0.25, timestamp: 1700000000000 + maxStep, step: maxStep });

    // and the restarted server takes writes
    assertOk(await c2.post('/runs/log-metric', { run_id: run, key: 'after', value: 1, timestamp: 1 }));
});
