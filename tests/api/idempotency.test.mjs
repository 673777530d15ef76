// Idempotency-Key on metric-only log-batch requests, which share group
// commits like unkeyed small writes (issue 20's fleet benchmark: libexptrack
// keys every batch, and its batches had each paid a transaction of their
// own). A key applies once: a repeat is answered 200 and writes nothing,
// also when its twin is in the same group or arrives at the same moment; a
// request that fails does not keep its key, so its retry is applied.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, client, api, assertOk, assertError, uniqueName } from './harness.mjs';

const stack = useStack({ before, after });

const points = (n, base) => Array.from({ length: n }, (_, i) => ({ key: 'loss', value: base + i, timestamp: 1000 + i, step: i }));

async function groupCounters() {
    const text = (await api(stack.base, 'GET', '/metrics')).text;
    const num = (name) => Number((text.match(new RegExp(`^${name} (\\d+)`, 'm')) || [])[1] || 0);
    return { groups: num('exptrack_group_commit_batch_size_count'), requests: num('exptrack_group_commit_batch_size_sum') };
}

describe('Idempotency-Key on metric-only batches', () => {
    let c;
    let exp;
    before(async () => {
        c = client(stack.base);
        exp = await c.createExperiment(uniqueName('idem'));
    });

    const history = async (run_id) =>
        assertOk(await c.get('/metrics/get-history', { run_id, metric_key: 'loss' })).metrics || [];
    const keyRows = (key) => stack.pg.psql(`SELECT count(*) FROM idempotency_keys WHERE key = '${key.replace(/'/g, "''")}'`).trim();

    test('a keyed small batch goes through the group commit and stores its key', async () => {
        const run = (await c.createRun(exp)).info.run_id;
        const key = uniqueName('k1');
        const before = await groupCounters();
        assertOk(await c.post('/runs/log-batch', { run_id: run, metrics: points(50, 0) }, { headers: { 'Idempotency-Key': key } }));
        const after = await groupCounters();
        assert.ok(after.requests > before.requests, `group commit took the keyed request (${before.requests} -> ${after.requests})`);
        assert.equal((await history(run)).length, 50);
        assert.equal(keyRows(key), '1');
    });

    test('a repeat of a key is answered 200 and writes nothing, even with other points', async () => {
        const run = (await c.createRun(exp)).info.run_id;
        const key = uniqueName('k2');
        assertOk(await c.post('/runs/log-batch', { run_id: run, metrics: points(10, 0) }, { headers: { 'Idempotency-Key': key } }));
        // same key, different points: the server must take it as the
        // request it already applied
        assertOk(await c.post('/runs/log-batch', { run_id: run, metrics: points(20, 100) }, { headers: { 'Idempotency-Key': key } }));
        const h = await history(run);
        assert.equal(h.length, 10);
        assert.ok(h.every((p) => p.value < 100));
    });

    test('twins sent at the same moment apply once', async () => {
        const run = (await c.createRun(exp)).info.run_id;
        const key = uniqueName('k3');
        const sends = Array.from({ length: 16 }, (_, i) =>
            c.post('/runs/log-batch', { run_id: run, metrics: [{ key: 'loss', value: i, timestamp: 7, step: i }] }, { headers: { 'Idempotency-Key': key } }));
        for (const r of await Promise.all(sends)) assertOk(r);
        assert.equal((await history(run)).length, 1);
        assert.equal(keyRows(key), '1');
    });

    test('keyed and unkeyed batches of many runs at once are all applied', async () => {
        const runs = [];
        for (let i = 0; i < 8; i++) runs.push((await c.createRun(exp)).info.run_id);
        const sends = [];
        for (let round = 0; round < 5; round++) {
            runs.forEach((run, i) => {
                const body = { run_id: run, metrics: points(20, round * 1000).map((p) => ({ ...p, step: round * 20 + p.step })) };
                const headers = i % 2 ? { 'Idempotency-Key': uniqueName(`k4-${round}-${i}`) } : {};
                sends.push(c.post('/runs/log-batch', body, { headers }));
            });
        }
        for (const r of await Promise.all(sends)) assertOk(r);
        for (const run of runs) assert.equal((await history(run)).length, 100);
    });

    test('a keyed batch that fails keeps no key, so its retry is applied', async () => {
        const run = (await c.createRun(exp)).info.run_id;
        await c.ok('POST', '/runs/delete', { run_id: run });
        const key = uniqueName('k5');
        const body = { run_id: run, metrics: points(5, 0) };
        assertError(await c.post('/runs/log-batch', body, { headers: { 'Idempotency-Key': key } }), 400, 'INVALID_PARAMETER_VALUE', ["'active' state"]);
        assert.equal(keyRows(key), '0');
        await c.ok('POST', '/runs/restore', { run_id: run });
        assertOk(await c.post('/runs/log-batch', body, { headers: { 'Idempotency-Key': key } }));
        assert.equal((await history(run)).length, 5);
        assert.equal(keyRows(key), '1');
    });

    test('a repeat within a group whose other items are new', async () => {
        const run = (await c.createRun(exp)).info.run_id;
        const key = uniqueName('k6');
        assertOk(await c.post('/runs/log-batch', { run_id: run, metrics: points(3, 0) }, { headers: { 'Idempotency-Key': key } }));
        const sends = [c.post('/runs/log-batch', { run_id: run, metrics: points(3, 50) }, { headers: { 'Idempotency-Key': key } })];
        for (let i = 0; i < 10; i++) {
            sends.push(c.post('/runs/log-batch', { run_id: run, metrics: [{ key: 'loss', value: 500 + i, timestamp: 9, step: 100 + i }] },
                { headers: { 'Idempotency-Key': uniqueName(`k6-${i}`) } }));
        }
        for (const r of await Promise.all(sends)) assertOk(r);
        const h = await history(run);
        assert.equal(h.length, 13);
        assert.ok(!h.some((p) => p.value >= 50 && p.value < 53), 'the repeat wrote nothing');
    });

    test('an invalid Idempotency-Key is still a 400 naming the header', async () => {
        const run = (await c.createRun(exp)).info.run_id;
        const r = await c.post('/runs/log-batch', { run_id: run, metrics: points(1, 0) }, { headers: { 'Idempotency-Key': 'x'.repeat(256) } });
        assertError(r, 400, 'INVALID_PARAMETER_VALUE');
        assert.match(r.json.message, /Idempotency-Key/);
    });
});
