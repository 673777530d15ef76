// metrics/get-history in pages (issue 21): keyset page tokens. Every point
// comes exactly once across pages and in (step, timestamp, value) order, for
// every page size around the server's internal read sizes, with
// NaN, infinities, ties and duplicate writes; points logged between pages
// neither shift nor repeat what was paged past; old offset tokens still
// work; tampered tokens and out-of-range max_results are 400s naming the
// field.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, client, assertOk, assertError, uniqueName } from './harness.mjs';

const stack = useStack({ before, after });

const fromWire = (v) => (v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v);
const toWire = (v) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v);
// (step, timestamp, value) order with NaN above everything, as PostgreSQL orders it
const cmpValue = (a, b) => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : Number.isNaN(b) ? -1 : a - b);
const cmp = (a, b) => (a.step - b.step) || (a.timestamp - b.timestamp) || cmpValue(a.value, b.value);
const same = (a, b) => a.step === b.step && a.timestamp === b.timestamp && Object.is(a.value, b.value);
const b64 = (s) => Buffer.from(s).toString('base64');

describe('metrics/get-history page tokens', () => {
    let c;
    let exp;
    before(async () => {
        c = client(stack.base);
        exp = await c.createExperiment(uniqueName('paging'));
    });

    async function logAll(run_id, points) {
        for (let i = 0; i < points.length; i += 1000) {
            await c.ok('POST', '/runs/log-batch', { run_id, metrics: points.slice(i, i + 1000) });
        }
    }

    // One page: its points (values decoded) and its token (or undefined).
    async function page(run_id, metric_key, max_results, page_token) {
        const q = { run_id, metric_key, max_results, ...(page_token ? { page_token } : {}) };
        const r = assertOk(await c.get('/metrics/get-history', q, { timeoutMs: 60000 }));
        const pts = (r.metrics || []).map((m) => {
            assert.equal(m.key, metric_key);
            return { step: m.step, timestamp: m.timestamp, value: fromWire(m.value) };
        });
        assert.ok(pts.length <= max_results, `a page of ${pts.length} > ${max_results}`);
        if (r.next_page_token !== undefined) {
            assert.equal(typeof r.next_page_token, 'string');
            assert.equal(pts.length, max_results, 'a page with a token is full');
        }
        return { pts, token: r.next_page_token };
    }

    async function readAll(run_id, key, size) {
        const got = [];
        let token;
        let pages = 0;
        do {
            const p = await page(run_id, key, size, token);
            got.push(...p.pts);
            token = p.token;
            pages += 1;
            assert.ok(pages < 100000, 'paging ends');
        } while (token);
        return { got, pages };
    }

    function assertSeries(got, want, what) {
        assert.equal(got.length, want.length, `${what}: ${got.length} points, want ${want.length}`);
        for (let i = 0; i < want.length; i++) {
            assert.ok(same(got[i], want[i]), `${what}: point ${i}: got ${JSON.stringify({ ...got[i], value: toWire(got[i].value) })}, ` +
                `want ${JSON.stringify({ ...want[i], value: toWire(want[i].value) })}`);
        }
    }

    test('NaN, infinities, ties and duplicate writes: every point once, in order, for every page size', async () => {
        const values = [NaN, Infinity, -Infinity, 0, -1, 1.5, 5e-324, -1.7976931348623157e308, 1.7976931348623157e308];
        const points = [];
        for (let step = -2; step < 4; step++) {
            for (const timestamp of [7, 3]) {
                for (const v of values) points.push({ key: 'm', value: toWire(v), timestamp, step });
            }
        }
        const id = (await c.createRun(exp)).info.run_id;
        await logAll(id, points);
        await logAll(id, points.slice(0, 40)); // exact duplicates are stored once
        const want = points.map((p) => ({ step: p.step, timestamp: p.timestamp, value: fromWire(p.value) })).sort(cmp);
        const whole = await readAll(id, 'm', 1000000);
        assertSeries(whole.got, want, 'one page');
        assert.equal(whole.pages, 1);
        for (const size of [1, 2, 8, 9, 10, want.length - 1, want.length, want.length + 1]) {
            const { got, pages } = await readAll(id, 'm', size);
            assertSeries(got, want, `max_results ${size}`);
            assert.equal(pages, Math.ceil(want.length / size), `max_results ${size}: no empty trailing page`);
        }
    });

    test('pages across the internal read sizes (1024, then 4096, then 16384) and the client page of 25000', { timeout: 180000 }, async () => {
        const n = 40000;
        const points = Array.from({ length: n }, (_, i) => ({ key: 'big', value: i % 1000 === 0 ? 'NaN' : i / 3, timestamp: 1000 + (i % 2), step: i >> 1 }));
        const id = (await c.createRun(exp)).info.run_id;
        await logAll(id, points);
        const want = points.map((p) => ({ step: p.step, timestamp: p.timestamp, value: fromWire(p.value) })).sort(cmp);
        // a read's pages are 1024, 4096, then 16384 points (ends at 1024,
        // 5120, 21504, 37888); a page of max_results reads one point more
        for (const size of [1023, 1024, 1025, 5119, 5120, 16383, 16384, 16385, 21503, 21504, 25000, 37887, 39999]) {
            const { got, pages } = await readAll(id, 'big', size);
            assertSeries(got, want, `max_results ${size}`);
            assert.equal(pages, Math.ceil(n / size));
        }
        const whole = assertOk(await c.get('/metrics/get-history', { run_id: id, metric_key: 'big' }, { timeoutMs: 60000 }));
        assertSeries(whole.metrics.map((m) => ({ step: m.step, timestamp: m.timestamp, value: fromWire(m.value) })), want, 'unpaged');
    });

    test('points logged between pages neither shift nor repeat what was paged past', async () => {
        const id = (await c.createRun(exp)).info.run_id;
        const even = Array.from({ length: 30 }, (_, i) => ({ key: 'live', value: i, timestamp: 10, step: 2 * i }));
        await logAll(id, even);
        const first = await page(id, 'live', 10);
        assert.deepEqual(first.pts.map((p) => p.step), Array.from({ length: 10 }, (_, i) => 2 * i));
        // before the place reached: never shown by this read; a repeat of a
        // point already read: stored once; after it: shown once, in order
        await logAll(id, [
            { key: 'live', value: 0, timestamp: 10, step: 0 },
            { key: 'live', value: 5, timestamp: 10, step: 1 },
            { key: 'live', value: 9, timestamp: 9, step: 18 },
            { key: 'live', value: 'NaN', timestamp: 10, step: 18 }, // same step and time, above 9
            { key: 'live', value: 7, timestamp: 10, step: 21 },
            { key: 'live', value: 8, timestamp: 10, step: 1000 },
        ]);
        const rest = [];
        let token = first.token;
        while (token) {
            const p = await page(id, 'live', 10, token);
            rest.push(...p.pts);
            token = p.token;
            // and one more point logged after every page, past the end
            await c.ok('POST', '/runs/log-metric', { run_id: id, key: 'live', value: 1, timestamp: 10, step: 2000 + rest.length });
        }
        const all = [...first.pts, ...rest];
        for (let i = 1; i < all.length; i++) assert.ok(cmp(all[i - 1], all[i]) < 0, `strictly ascending at ${i}: ${JSON.stringify(all.slice(i - 1, i + 1))}`);
        const steps = all.map((p) => p.step);
        assert.ok(!steps.includes(1), 'a point logged behind the read is not shown');
        assert.equal(steps.filter((s) => s === 0).length, 1, 'the repeated point is not shown twice');
        assert.equal(all.filter((p) => p.step === 18 && Number.isNaN(p.value)).length, 1, 'NaN at the page edge once');
        assert.ok(!all.some((p) => p.step === 18 && p.timestamp === 9), 'a point just behind the page edge is not shown');
        assert.equal(steps.filter((s) => s === 21).length, 1);
        assert.equal(steps.filter((s) => s === 1000).length, 1);
        for (const p of even) assert.equal(all.filter((q) => same(q, p)).length, 1, `step ${p.step} once`);
        assert.ok(steps.some((s) => s >= 2000), 'points logged past the end while paging are read');
    });

    test('offset tokens of the earlier format still read on, and continue with keyset tokens', async () => {
        const id = (await c.createRun(exp)).info.run_id;
        await logAll(id, Array.from({ length: 25 }, (_, i) => ({ key: 'o', value: i, timestamp: 1, step: i })));
        const p = await page(id, 'o', 5, b64('{"offset": 5}'));
        assert.deepEqual(p.pts.map((x) => x.step), [5, 6, 7, 8, 9]);
        assert.ok(p.token);
        assert.ok(!('offset' in JSON.parse(Buffer.from(p.token, 'base64').toString())), 'the next token is a keyset token');
        const q = await page(id, 'o', 100, p.token);
        assert.deepEqual(q.pts.map((x) => x.step), Array.from({ length: 15 }, (_, i) => 10 + i));
        assert.equal(q.token, undefined);
        // an offset past the end, and a position past the end: nothing left
        assert.deepEqual(assertOk(await c.get('/metrics/get-history', { run_id: id, metric_key: 'o', max_results: 5, page_token: b64('{"offset": 500}') })), {});
        const past = b64(JSON.stringify({ step: 1e15, timestamp: 0, value: '0000000000000000' }));
        assert.deepEqual(assertOk(await c.get('/metrics/get-history', { run_id: id, metric_key: 'o', max_results: 5, page_token: past })), {});
        // a token is only a place in the series: a changed one reads on from there
        const at = b64(JSON.stringify({ step: 20, timestamp: 1, value: Buffer.from(new Float64Array([20]).buffer).reverse().toString('hex') }));
        assert.deepEqual((await page(id, 'o', 100, at)).pts.map((x) => x.step), [21, 22, 23, 24]);
        // and without max_results a token reads to the end
        const r = assertOk(await c.get('/metrics/get-history', { run_id: id, metric_key: 'o', page_token: at }));
        assert.deepEqual(r.metrics.map((x) => x.step), [21, 22, 23, 24]);
        assert.ok(!('next_page_token' in r));
    });

    test('tampered tokens and bad max_results are 400s naming the field', async () => {
        const id = (await c.createRun(exp)).info.run_id;
        await c.ok('POST', '/runs/log-metric', { run_id: id, key: 'x', value: 1, timestamp: 1, step: 1 });
        const good = { step: 1, timestamp: 1, value: '3ff0000000000000' };
        const bad = [
            'garbage!!', '%%%', b64('not json'), b64('[1,2,3]'), b64('{}'), b64('{"offset": 0}'), b64('{"offset": -3}'),
            b64('{"offset": "5"}'),
            b64(JSON.stringify({ ...good, value: '3FF0000000000000' })),
            b64(JSON.stringify({ ...good, value: '3ff000000000000' })),
            b64(JSON.stringify({ ...good, value: '3ff00000000000000' })),
            b64(JSON.stringify({ ...good, value: '3ff000000000000g' })),
            b64(JSON.stringify({ ...good, value: 1 })),
            b64(JSON.stringify({ ...good, step: '1' })),
            b64(JSON.stringify({ ...good, step: 1.5 })),
            b64(JSON.stringify({ ...good, timestamp: null })),
            b64(JSON.stringify({ ...good, extra: 1 })),
            b64(JSON.stringify({ step: 1, timestamp: 1 })),
            b64('{"step": 9223372036854775808, "timestamp": 1, "value": "3ff0000000000000"}'),
            b64('{"step": 1, "step": 2, "timestamp": 1, "value": "3ff0000000000000"}'),
            b64(JSON.stringify({ ...good, pad: 'x'.repeat(300) })),
            'A'.repeat(5000),
        ];
        for (const page_token of bad) {
            assertError(await c.get('/metrics/get-history', { run_id: id, metric_key: 'x', max_results: 1, page_token }), 400,
                'INVALID_PARAMETER_VALUE', 'page_token', `token ${page_token.slice(0, 80)}`);
        }
        // the untampered token shape is accepted
        assert.deepEqual(assertOk(await c.get('/metrics/get-history', { run_id: id, metric_key: 'x', max_results: 1, page_token: b64(JSON.stringify(good)) })), {});
        for (const max_results of [-1, 1000001, '9223372036854775808', 1.5, 'ten']) {
            assertError(await c.get('/metrics/get-history', { run_id: id, metric_key: 'x', max_results }), 400, 'INVALID_PARAMETER_VALUE', 'max_results', `max_results ${max_results}`);
        }
        assert.equal(assertOk(await c.get('/metrics/get-history', { run_id: id, metric_key: 'x', max_results: 1000000 })).metrics.length, 1);
    });
});
