// PostgreSQL outage under a running exptrackd: requests get 503 with
// Retry-After and an MLflow error body (TEMPORARILY_UNAVAILABLE), never hang
// and never crash the server; after PostgreSQL comes back, service resumes
// without restarting exptrackd.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, client, PREFIXES, assertOk, assertError, uniqueName, waitUntil } from './harness.mjs';

const stack = useStack({ before, after });

async function timed(fn) {
    const t0 = Date.now();
    const r = await fn();
    return { r, ms: Date.now() - t0 };
}

function assertUnavailable(r, what) {
    assertError(r, 503, 'TEMPORARILY_UNAVAILABLE', [], what);
    const ra = r.headers.get('retry-after');
    assert.ok(ra !== null, `${what}: Retry-After header missing`);
    assert.match(ra, /^\d+$/, `${what}: Retry-After must be delay-seconds, got ${ra}`);
    assert.ok(Number(ra) >= 1 && Number(ra) <= 120, `${what}: Retry-After ${ra}`);
}

test('503 + Retry-After while PostgreSQL is down; resumes after it restarts', { timeout: 120000 }, async () => {
    const c = client(stack.base);
    const name = uniqueName('outage');
    const exp = await c.createExperiment(name);
    const run = (await c.createRun(exp)).info.run_id;
    await c.ok('POST', '/runs/log-metric', { run_id: run, key: 'm', value: 1, timestamp: 1, step: 1 });
    // warm several pool connections so that each has to notice the outage
    await Promise.all(Array.from({ length: 16 }, () => c.ok('GET', '/experiments/get', { experiment_id: exp })));

    await stack.pg.stop();

    const requests = [];
    for (const prefix of PREFIXES) {
        const p = client(stack.base, prefix);
        requests.push(
            [`${prefix} experiments/get`, () => p.get('/experiments/get', { experiment_id: exp })],
            [`${prefix} experiments/get-by-name`, () => p.get('/experiments/get-by-name', { experiment_name: name })],
            [`${prefix} experiments/create`, () => p.post('/experiments/create', { name: uniqueName('during') })],
            [`${prefix} runs/get`, () => p.get('/runs/get', { run_id: run })],
            [`${prefix} runs/log-metric`, () => p.post('/runs/log-metric', { run_id: run, key: 'm', value: 99, timestamp: 99, step: 99 })],
            [`${prefix} runs/log-batch`, () => p.post('/runs/log-batch', { run_id: run, metrics: [{ key: 'm', value: 98, timestamp: 98, step: 98 }] })],
            [`${prefix} runs/search`, () => p.post('/runs/search', { experiment_ids: [exp] })],
            [`${prefix} metrics/get-history`, () => p.get('/metrics/get-history', { run_id: run, metric_key: 'm' })],
            [`${prefix} experiments/search`, () => p.post('/experiments/search', { max_results: 10 })],
        );
    }
    // every request, repeated so that every pool thread meets the outage, and concurrently
    for (let round = 0; round < 2; round++) {
        for (const [what, fn] of requests) {
            const { r, ms } = await timed(fn);
            assertUnavailable(r, `${what} (round ${round})`);
            assert.ok(ms < 10000, `${what}: answered in ${ms} ms, must not hang`);
        }
    }
    const burst = await Promise.all(Array.from({ length: 16 }, () => c.get('/runs/get', { run_id: run })));
    burst.forEach((r, i) => assertUnavailable(r, `concurrent runs/get #${i}`));
    assert.ok(!stack.srv.exited(), 'exptrackd still running');

    // validation errors that need no database are still plain client errors, not 503
    assertError(await c.post('/experiments/create', {}), 400, 'INVALID_PARAMETER_VALUE', 'name');

    await stack.pg.start();

    // service resumes without restarting exptrackd (bounded poll)
    await waitUntil(async () => (await c.get('/experiments/get', { experiment_id: exp })).status === 200, 30000, 'first success after restart');
    await waitUntil(async () => {
        const rs = await Promise.all(Array.from({ length: 16 }, () => c.get('/runs/get', { run_id: run })));
        return rs.every((r) => r.status === 200);
    }, 30000, 'all pool connections recovered');
    assert.ok(!stack.srv.exited(), 'same exptrackd process');

    for (const prefix of PREFIXES) {
        const p = client(stack.base, prefix);
        assert.equal((await p.getExperiment(exp)).name, name, 'data from before the outage');
        assertOk(await p.post('/runs/log-metric', { run_id: run, key: 'm', value: 2, timestamp: 2, step: 2 }));
    }
    const h = assertOk(await c.get('/metrics/get-history', { run_id: run, metric_key: 'm' })).metrics;
    assert.deepEqual(h.map((x) => x.step), [1, 2], 'points refused during the outage were not written; new writes work');
    assert.equal(h.length, 2);
    const created = assertOk(await c.post('/experiments/create', { name: uniqueName('after') }));
    assert.match(created.experiment_id, /^\d+$/);
});
