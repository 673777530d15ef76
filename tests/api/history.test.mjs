// metrics/get-history: ordering, paging to the end, unknown run/key, errors,
// and 8 concurrent writers to one run (every point present exactly once).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, client, PREFIXES, assertOk, assertError, uniqueName } from './harness.mjs';

const stack = useStack({ before, after });

const cmpPoint = (a, b) => (a.step - b.step) || (a.timestamp - b.timestamp) || (a.value - b.value);

// Reads a whole history by pages of `size` and checks the token rules.
async function readAllPages(c, run_id, metric_key, size, extra = {}) {
    const got = [];
    let token;
    let pages = 0;
    for (;;) {
        const q = { run_id, metric_key, max_results: size, ...extra, ...(token ? { page_token: token } : {}) };
        const r = assertOk(await c.get('/metrics/get-history', q));
        pages += 1;
        assert.ok(pages <= 100000, 'paging terminates');
        const page = r.metrics || [];
        assert.ok(page.length <= size, `page of ${page.length} > max_results ${size}`);
        got.push(...page);
        if (!('next_page_token' in r)) break;
        assert.equal(typeof r.next_page_token, 'string', 'page tokens are opaque strings');
        assert.ok(r.next_page_token.length > 0);
        assert.equal(page.length, size, 'a page with a token is full');
        token = r.next_page_token;
    }
    return { got, pages };
}

for (const prefix of PREFIXES) {
    describe(`metrics/get-history under ${prefix}`, () => {
        let c;
        let exp;
        before(async () => {
            c = client(stack.base, prefix);
            exp = await c.createExperiment(uniqueName('hist'));
        });

        test('absent max_results returns ALL points ordered by (step, timestamp, value); key isolation', async () => {
            const id = (await c.createRun(exp)).info.run_id;
            const points = [];
            // scrambled order, ties on step and timestamp, negative steps
            for (let i = 0; i < 1500; i++) {
                const step = (i * 7919) % 300 - 50;
                const timestamp = 1000 + ((i * 104729) % 5);
                points.push({ key: 'loss', value: (i % 11) - 5 + i / 1e6, timestamp, step });
            }
            for (let i = 0; i < points.length; i += 1000) {
                await c.ok('POST', '/runs/log-batch', { run_id: id, metrics: points.slice(i, i + 1000) });
            }
            await c.ok('POST', '/runs/log-metric', { run_id: id, key: 'other', value: 1, timestamp: 1, step: 0 });
            const r = assertOk(await c.get('/metrics/get-history', { run_id: id, metric_key: 'loss' }));
            assert.ok(!('next_page_token' in r), 'no token when everything is returned');
            assert.equal(r.metrics.length, points.length);
            const want = [...points].sort(cmpPoint);
            assert.deepEqual(r.metrics.map(({ key, value, timestamp, step }) => ({ key, value, timestamp, step })), want);
            // run_uuid alias, and max_results 0 treated as absent
            const viaUuid = assertOk(await c.get('/metrics/get-history', { run_uuid: id, metric_key: 'loss' }));
            assert.equal(viaUuid.metrics.length, points.length);
            const zero = assertOk(await c.get('/metrics/get-history', { run_id: id, metric_key: 'loss', max_results: 0 }));
            assert.equal((zero.metrics || []).length, points.length, 'max_results=0 means all');
        });

        test('max_results paginates; token only when more rows exist; paging to the end', async () => {
            const id = (await c.createRun(exp)).info.run_id;
            const n = 103;
            const pts = Array.from({ length: n }, (_, i) => ({ key: 'acc', value: i % 3 ? i : 'NaN', timestamp: 500 - i, step: n - i }));
            await c.ok('POST', '/runs/log-batch', { run_id: id, metrics: pts });
            const want = assertOk(await c.get('/metrics/get-history', { run_id: id, metric_key: 'acc' })).metrics;
            assert.equal(want.length, n);
            assert.deepEqual(want.map((p) => p.step), Array.from({ length: n }, (_, i) => i + 1));
            for (const size of [1, 10, 50, 102, 103, 104, 25000]) {
                const { got, pages } = await readAllPages(c, id, 'acc', size);
                assert.deepEqual(got, want, `max_results ${size}`);
                assert.equal(pages, Math.ceil(n / size), `max_results ${size}: pages (no empty trailing page)`);
            }
            // page size as a numeric string, and the Python client's shape (run_uuid + run_id + 25000)
            assert.equal(assertOk(await c.get('/metrics/get-history', { run_id: id, metric_key: 'acc', max_results: '10' })).metrics.length, 10);
            assert.equal(assertOk(await c.get('/metrics/get-history', { run_uuid: id, run_id: id, metric_key: 'acc', max_results: 25000 })).metrics.length, n);
        });

        test('unknown run or key -> 200 {}; errors name the field', async () => {
            const id = (await c.createRun(exp)).info.run_id;
            assert.deepEqual(assertOk(await c.get('/metrics/get-history', { run_id: 'a'.repeat(32), metric_key: 'x' })), {});
            assert.deepEqual(assertOk(await c.get('/metrics/get-history', { run_id: id, metric_key: 'never-logged' })), {});
            assert.deepEqual(assertOk(await c.get('/metrics/get-history', { run_id: id, metric_key: 'never-logged', max_results: 5 })), {});
            assertError(await c.get('/metrics/get-history', { run_id: id }), 400, 'INVALID_PARAMETER_VALUE', 'metric_key');
            assertError(await c.get('/metrics/get-history', { metric_key: 'x' }), 400, 'INVALID_PARAMETER_VALUE', 'run_id');
            assertError(await c.get('/metrics/get-history', { run_id: id, metric_key: 'x', max_results: 'ten' }), 400, 'INVALID_PARAMETER_VALUE', 'max_results');
            await c.ok('POST', '/runs/log-metric', { run_id: id, key: 'x', value: 1, timestamp: 1 });
            for (const tok of ['garbage!!', 'eyJmb28iOiAxfQ==']) {
                assertError(await c.get('/metrics/get-history', { run_id: id, metric_key: 'x', max_results: 1, page_token: tok }), 400, 'INVALID_PARAMETER_VALUE', 'page_token', `token ${tok}`);
            }
        });

        test('history of a deleted run is still readable', async () => {
            const id = (await c.createRun(exp)).info.run_id;
            await c.ok('POST', '/runs/log-metric', { run_id: id, key: 'k', value: 2, timestamp: 3, step: 4 });
            await c.ok('POST', '/runs/delete', { run_id: id });
            assert.deepEqual(assertOk(await c.get('/metrics/get-history', { run_id: id, metric_key: 'k' })).metrics.map(({ key, value, timestamp, step }) => ({ key, value, timestamp, step })),
                [{ key: 'k', value: 2, timestamp: 3, step: 4 }]);
        });
    });
}

describe('concurrency', () => {
    test('8 writers logging to one run concurrently: every point present exactly once', { timeout: 90000 }, async () => {
        const c = client(stack.base);
        const exp = await c.createExperiment(uniqueName('conc'));
        const id = (await c.createRun(exp)).info.run_id;
        const WRITERS = 8;
        const BATCHES = 6;
        const PER_BATCH = 100;
        const SINGLES_PER_BATCH = 3;
        const writer = async (w) => {
            for (let b = 0; b < BATCHES; b++) {
                const metrics = Array.from({ length: PER_BATCH }, (_, i) => {
                    const step = w * 100000 + b * 1000 + i;
                    return { key: 'shared', value: step / 2, timestamp: 1700000000000 + step, step };
                });
                const r = await c.post('/runs/log-batch', { run_id: id, metrics, params: [{ key: `w${w}b${b}`, value: String(b) }] });
                assertOk(r, `writer ${w} batch ${b}`);
                // interleave single-point writes and tag upserts
                for (let s = 0; s < SINGLES_PER_BATCH; s++) {
                    const step = w * 100000 + 900 + b * 10 + s;
                    assertOk(await c.post('/runs/log-metric', { run_id: id, key: 'shared', value: step / 2, timestamp: 1700000000000 + step, step }));
                }
                assertOk(await c.post('/runs/set-tag', { run_id: id, key: 'progress', value: `${w}:${b}` }));
            }
        };
        await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));

        const expected = new Set();
        for (let w = 0; w < WRITERS; w++) {
            for (let b = 0; b < BATCHES; b++) {
                for (let i = 0; i < PER_BATCH; i++) expected.add(w * 100000 + b * 1000 + i);
                for (let s = 0; s < SINGLES_PER_BATCH; s++) expected.add(w * 100000 + 900 + b * 10 + s);
            }
        }
        const h = assertOk(await c.get('/metrics/get-history', { run_id: id, metric_key: 'shared' })).metrics;
        const steps = h.map((p) => p.step);
        assert.equal(new Set(steps).size, steps.length, 'no point twice');
        assert.equal(steps.length, expected.size, 'every point present');
        for (const p of h) {
            assert.ok(expected.has(p.step), `unexpected step ${p.step}`);
            assert.equal(p.value, p.step / 2);
            assert.equal(p.timestamp, 1700000000000 + p.step);
        }
        assert.deepEqual(steps, [...steps].sort((a, b) => a - b), 'ordered by step');
        const run = await c.getRun(id);
        const maxStep = Math.max(...expected);
        assert.deepEqual(run.data.metrics, [{ key: 'shared', value: maxStep / 2, timestamp: 1700000000000 + maxStep, step: maxStep }], 'latest = max step');
        assert.equal(run.data.params.length, WRITERS * BATCHES);
        assert.equal(run.data.tags.filter((t) => t.key === 'progress').length, 1);
    });
});
