// metrics/get-history: ordering, paging to the end, unknown run/key, errors,
// and 8 concurrent writers to one run (every point present exactly once);
// the streamed whole series across page boundaries with every kind of double,
// and the downsample and bulk interval at their edges, checked against
// answers computed here.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, client, api, PREFIXES, assertOk, assertError, uniqueName, startServer } from './harness.mjs';

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

// The streamed whole-series reply, the downsample and the bulk interval at
// their edges; expected answers are computed here from the logged points.
describe('streamed history, downsample and bulk-interval edges', () => {
    const HIST = '/api/2.0/exptrack/metrics/history';
    const BULK = '/metrics/get-history-bulk-interval';
    let c;
    let exp;
    before(async () => {
        c = client(stack.base);
        exp = await c.createExperiment(uniqueName('edges'));
    });

    async function logAll(run_id, points) {
        for (let i = 0; i < points.length; i += 1000) {
            await c.ok('POST', '/runs/log-batch', { run_id, metrics: points.slice(i, i + 1000) });
        }
    }

    // A small deterministic PRNG.
    function rng(seed) {
        let s = seed >>> 0;
        return () => {
            s = (s * 1664525 + 1013904223) >>> 0;
            return s / 4294967296;
        };
    }

    const toWire = (v) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v);
    const fromWire = (v) => (v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v);
    // (step, timestamp, value) order with NaN above everything, as stored
    const cmpValue = (a, b) => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : Number.isNaN(b) ? -1 : a - b);
    const cmp = (a, b) => (a.step - b.step) || (a.timestamp - b.timestamp) || cmpValue(a.value, b.value);

    test('whole series streamed across page boundaries, every double exact', { timeout: 120000 }, async () => {
        const special = [NaN, Infinity, -Infinity, 5e-324, 1.7976931348623157e308, -1.7976931348623157e308, 1e21, 1e-7,
            0.1, 0.30000000000000004, 2 ** 53, -1, 0, 123456789.125, 2.2250738585072014e-308];
        const rand = rng(7);
        // 65537 points: several full pages of the reader (16384) and one more point
        const points = [];
        for (let i = 0; i < 65537; i++) {
            const v = i < special.length ? special[i] : (rand() - 0.5) * 10 ** Math.floor(rand() * 40 - 20);
            points.push({ key: 'big key/with:colons.and-dashes', value: toWire(v), timestamp: 1700000000000 + (i % 3), step: Math.floor(i / 3) });
        }
        const id = (await c.createRun(exp)).info.run_id;
        await logAll(id, points);
        const r = await c.get('/metrics/get-history', { run_id: id, metric_key: 'big key/with:colons.and-dashes' }, { timeoutMs: 60000 });
        const got = assertOk(r).metrics;
        assert.equal(got.length, points.length);
        const want = points.map((p) => ({ ...p, value: fromWire(p.value) })).sort(cmp);
        for (let i = 0; i < want.length; i++) {
            const g = got[i];
            const w = want[i];
            assert.ok(g.key === w.key && g.step === w.step && g.timestamp === w.timestamp && Object.is(fromWire(g.value), w.value),
                `point ${i}: got ${JSON.stringify(g)}, want ${JSON.stringify({ ...w, value: toWire(w.value) })}`);
        }
        assert.ok(!/[^"]NaN|[^"]Infinity/.test(r.text.replace(/"-?Infinity"|"NaN"/g, '')), 'NaN and infinities only as strings');

        // a whole number of pages (2 x 16384): the empty page after a full one ends the body
        for (const n of [32768]) {
            const run = (await c.createRun(exp)).info.run_id;
            await logAll(run, Array.from({ length: n }, (_, i) => ({ key: 'p', value: i / 7, timestamp: 5, step: i })));
            const all = assertOk(await c.get('/metrics/get-history', { run_id: run, metric_key: 'p' }, { timeoutMs: 60000 })).metrics;
            assert.equal(all.length, n);
            assert.ok(all.every((p, i) => p.step === i && p.value === i / 7), `${n} points in order`);
        }
    });

    // The downsample the server must produce, computed from the points: at
    // most max_points / 4 buckets of equal step width w; from each, its first
    // and last point and the first point at its lowest and highest non-NaN
    // value. Buckets under 256 steps wide start at the first step; wider
    // ones start at the first step's block of 256 steps and are made of
    // whole blocks: from 1,024 steps on w is rounded up to whole blocks,
    // under it a block goes to the bucket of width w its first step falls in
    // (so the buckets are as many as with width w, one block wider or not).
    function expectedDownsample(points, maxPoints) {
        const pts = points.map((p) => ({ ...p, value: fromWire(p.value) })).sort(cmp);
        if (pts.length <= maxPoints) return pts;
        const nb = Math.floor(maxPoints / 4);
        const lo = pts[0].step;
        const hi = pts.at(-1).step;
        let a = lo;
        let w = Math.floor((hi - lo) / nb) + 1;
        const blocks = w >= 256;
        if (blocks) {
            const whole = w >= 1024;
            a = Math.floor(lo / 256) * 256;
            w = Math.floor((hi - a) / nb) + 1;
            if (whole) w = Math.ceil(w / 256) * 256;
        }
        const buckets = new Map();
        for (const p of pts) {
            const b = Math.floor(((blocks ? Math.floor(p.step / 256) * 256 : p.step) - a) / w);
            if (!buckets.has(b)) buckets.set(b, []);
            buckets.get(b).push(p);
        }
        assert.ok(buckets.size <= nb, `reference: ${buckets.size} buckets for max_points ${maxPoints}`);
        const out = [];
        for (const b of [...buckets.keys()].sort((x, y) => x - y)) {
            const bp = buckets.get(b);
            const pick = new Set([bp[0], bp.at(-1)]);
            const vals = bp.filter((p) => !Number.isNaN(p.value));
            if (vals.length) {
                const min = Math.min(...vals.map((p) => p.value));
                const max = Math.max(...vals.map((p) => p.value));
                pick.add(vals.find((p) => p.value === min));
                pick.add(vals.find((p) => p.value === max));
            }
            out.push(...[...pick].sort(cmp));
        }
        return out;
    }

    function seriesPoints(s) {
        return s.steps.map((step, i) => ({ step, timestamp: s.timestamps[i], value: fromWire(s.values[i]) }));
    }

    function assertSame(got, want, what) {
        assert.equal(got.length, want.length, `${what}: ${got.length} points, want ${want.length}`);
        for (let i = 0; i < want.length; i++) {
            assert.ok(got[i].step === want[i].step && got[i].timestamp === want[i].timestamp && Object.is(got[i].value, want[i].value),
                `${what}: point ${i}: got ${JSON.stringify(got[i])}, want ${JSON.stringify(want[i])}`);
        }
    }

    test('downsample: buckets match a reference, NaN and infinities, equal steps', { timeout: 60000 }, async () => {
        const rand = rng(11);
        const points = [];
        for (let i = 0; i < 3000; i++) {
            const step = Math.floor(rand() * 5000) - 1000; // duplicates and negative steps
            let v = Math.round((rand() - 0.5) * 1000) / 8 || 0; // ties on value (never -0: JSON sends it as 0)
            if (i % 97 === 0) v = NaN;
            if (i === 500) v = Infinity;
            if (i === 1500) v = -Infinity;
            points.push({ key: 'd', value: toWire(v), timestamp: 1000 + i, step });
        }
        // a bucket of NaN only: its first and last point, nothing else
        for (let i = 0; i < 5; i++) points.push({ key: 'd', value: 'NaN', timestamp: 9000 + i, step: 10000 });
        const id = (await c.createRun(exp)).info.run_id;
        await logAll(id, points);
        for (const maxPoints of [4, 8, 100, 1000, 3005, 5000]) {
            const r = assertOk(await api(stack.base, 'GET', HIST, { run_id: id, metric_key: 'd', max_points: maxPoints }));
            assert.equal(r.series.length, 1);
            assert.equal(r.series[0].total_points, points.length);
            assert.ok(r.series[0].steps.length <= maxPoints, `max_points ${maxPoints}`);
            assertSame(seriesPoints(r.series[0]), expectedDownsample(points, maxPoints), `max_points ${maxPoints}`);
        }
        const few = assertOk(await api(stack.base, 'GET', HIST, { run_id: id, metric_key: 'd', max_points: 40 })).series[0];
        assert.ok(few.values.includes('Infinity') && few.values.includes('-Infinity'), 'the extremes are kept');

        // every point at one step: first, last, lowest, highest
        const eq = (await c.createRun(exp)).info.run_id;
        const same = Array.from({ length: 100 }, (_, i) => ({ key: 'e', value: ((i + 50) * 37) % 101, timestamp: 500 - i, step: 7 }));
        await logAll(eq, same);
        const s = assertOk(await api(stack.base, 'GET', HIST, { run_id: eq, metric_key: 'e', max_points: 4 })).series[0];
        assertSame(seriesPoints(s), expectedDownsample(same, 4), 'equal steps');
        assert.equal(s.steps.length, 4);
    });

    // The step blocks behind wide buckets are kept exact by every write
    // path: batches by COPY, a batch that repeats stored points (the INSERT
    // that skips them), single points through the group commit, and
    // concurrent writers to one series.
    test('downsample: wide buckets exact after repeats, single points and concurrent writers', { timeout: 60000 }, async () => {
        const rand = rng(23);
        const id = (await c.createRun(exp)).info.run_id;
        const points = [];
        for (let i = 0; i < 6000; i++) {
            let v = Math.round((rand() - 0.5) * 4000) / 4 || 0;
            if (i % 211 === 0) v = NaN;
            points.push({ key: 'w', value: toWire(v), timestamp: 7 + (i % 5), step: i * 3 - 2500 });
        }
        // every block of steps 20000..20255 is NaN: no lowest or highest value there
        for (let i = 0; i < 10; i++) points.push({ key: 'w', value: 'NaN', timestamp: i, step: 20000 + i * 20 });
        // eight writers at once, batches interleaved over the same blocks
        const batches = Array.from({ length: 8 }, (_, k) => points.filter((_, i) => i % 8 === k));
        await Promise.all(batches.map((b) => logAll(id, b)));
        // a repeated batch with new points among stored ones: only the new count
        const extra = [{ key: 'w', value: -5000, timestamp: 1, step: 4000 }, { key: 'w', value: 5000, timestamp: 1, step: 9001 }];
        await c.ok('POST', '/runs/log-batch', { run_id: id, metrics: [...points.slice(100, 600), ...extra] });
        points.push(...extra);
        // single points (group commit), one of them a repeat
        for (const p of [{ value: -6000, timestamp: 2, step: 12000 }, { value: 6000, timestamp: 2, step: -2400 }, points[3]]) {
            await c.ok('POST', '/runs/log-metric', { run_id: id, key: 'w', ...p });
        }
        points.push({ key: 'w', value: -6000, timestamp: 2, step: 12000 }, { key: 'w', value: 6000, timestamp: 2, step: -2400 });
        for (const maxPoints of [4, 8, 16, 40, 400]) {
            const r = assertOk(await api(stack.base, 'GET', HIST, { run_id: id, metric_key: 'w', max_points: maxPoints }));
            assert.equal(r.series[0].total_points, points.length, `total_points (${maxPoints})`);
            assert.ok(r.series[0].steps.length <= maxPoints, `max_points ${maxPoints}`);
            assertSame(seriesPoints(r.series[0]), expectedDownsample(points, maxPoints), `max_points ${maxPoints}`);
        }
        const four = seriesPoints(assertOk(await api(stack.base, 'GET', HIST, { run_id: id, metric_key: 'w', max_points: 4 })).series[0]);
        assert.ok(four.some((p) => p.value === -6000) && four.some((p) => p.value === 6000), 'the single points are the extremes');
    });

    // Bucket widths on both sides of where the layout turns from every point
    // to block runs (256 steps: 258, 402 and 515 become runs of one to three
    // blocks, as many buckets as asked for; from 1,024 steps w is rounded up
    // to whole 256-step blocks: 1029 -> 1280); the series starts and ends
    // inside blocks, has a block of NaN only, negative steps, ties on value
    // and a block whose extremes sit at its first and last step.
    test('downsample: buckets of 255 to 1,029 steps, every point read under 256 and block runs from it', { timeout: 60000 }, async () => {
        const rand = rng(31);
        const id = (await c.createRun(exp)).info.run_id;
        const points = [];
        for (let step = -3001; step < 22700; step += 3) {
            let v = Math.round((rand() - 0.5) * 200) / 4 || 0;
            if (step % 127 === 0) v = NaN;
            if (step >= 5120 && step < 5376) v = NaN; // block 20: NaN only
            points.push({ key: 'm', value: toWire(v), timestamp: 1 + (step & 3), step });
        }
        points.push({ key: 'm', value: 1e6, timestamp: 0, step: 7680 }, { key: 'm', value: -1e6, timestamp: 9, step: 7935 });
        await logAll(id, points);
        const span = 22699 - -3001; // last step - first step
        // bucket widths 255 (every point), 258, 402 and 515 (block runs), 1029 (blocks: 1280)
        const sizes = [404, 400, 256, 200, 100];
        for (const maxPoints of sizes) {
            const nb = Math.floor(maxPoints / 4);
            const w = Math.floor(span / nb) + 1;
            const r = assertOk(await api(stack.base, 'GET', HIST, { run_id: id, metric_key: 'm', max_points: maxPoints }));
            assert.equal(r.series[0].total_points, points.length);
            assert.ok(r.series[0].steps.length <= maxPoints, `max_points ${maxPoints}`);
            assert.ok(r.series[0].steps.length >= maxPoints / 2, `max_points ${maxPoints}: ${r.series[0].steps.length} points, not even half`);
            assertSame(seriesPoints(r.series[0]), expectedDownsample(points, maxPoints), `max_points ${maxPoints} (w ${w})`);
        }
        const widths = sizes.map((m) => Math.floor(span / Math.floor(m / 4)) + 1);
        assert.deepEqual(widths, [255, 258, 402, 515, 1029], 'the widths this test means to cover');
    });

    // The downsample is a prepared statement on a generic plan, cached per
    // connection and reused from its first execution: the same request again
    // and again (past PostgreSQL's five custom plans), with series in many of
    // metrics' sixteen partitions, whole and sampled series in one answer, an
    // unknown run and an unknown key, must keep giving the reference answer.
    test('downsample: many runs over the partitions, repeated, unknown run and key', { timeout: 60000 }, async () => {
        const runs = [];
        const logged = new Map(); // run/key -> points
        for (let r = 0; r < 24; r++) {
            const id = (await c.createRun(exp)).info.run_id;
            runs.push(id);
            for (const key of ['pa', 'pb']) {
                if (key === 'pb' && r % 3 === 0) continue; // some runs lack a key
                const n = 50 + ((r * 37) % 7) * 60; // 50 (whole) to 410 points
                const pts = Array.from({ length: n }, (_, i) => ({ key, value: Math.sin(i / 9 + r) * (key === 'pa' ? 1 : 3), timestamp: 10 + i, step: i * (r + 1) }));
                await logAll(id, pts);
                logged.set(`${id}/${key}`, pts);
            }
        }
        const unknownRun = 'f'.repeat(32);
        const ask = [runs[0], unknownRun, ...runs.slice(1)];
        const keys = ['pa', 'no-such-key-anywhere', 'pb'];
        for (let round = 0; round < 8; round++) {
            const maxPoints = round % 2 ? 100 : 200;
            const r = assertOk(await api(stack.base, 'GET', HIST, { run_id: ask, metric_key: keys, max_points: maxPoints }));
            const want = [];
            for (const id of runs) for (const key of ['pa', 'pb']) if (logged.has(`${id}/${key}`)) want.push([id, key]);
            assert.deepEqual(r.series.map((x) => `${x.run_id}/${x.key}`), want.map(([id, key]) => `${id}/${key}`), `round ${round}: series in request order`);
            for (const x of r.series) {
                const pts = logged.get(`${x.run_id}/${x.key}`);
                assert.equal(x.total_points, pts.length);
                assertSame(seriesPoints(x), expectedDownsample(pts, maxPoints), `round ${round}: ${x.run_id}/${x.key}`);
            }
        }
        // the bulk interval again and again (its settings ride in the same pipeline)
        const first = assertOk(await c.get(BULK, { run_ids: runs.slice(0, 10), metric_key: 'pa', max_results: 30 }));
        for (let round = 0; round < 7; round++) {
            assert.deepEqual(assertOk(await c.get(BULK, { run_ids: runs.slice(0, 10), metric_key: 'pa', max_results: 30 })), first, `bulk round ${round}`);
        }
        assert.deepEqual(new Set(first.metrics.map((m) => m.run_id)), new Set(runs.slice(0, 10)), 'every run in the bulk interval');
        assert.deepEqual(assertOk(await c.get(BULK, { run_ids: [unknownRun], metric_key: 'pa' })), {});
    });

    test('downsample: empty, one point, max_points above the series, extreme steps', async () => {
        const id = (await c.createRun(exp)).info.run_id;
        const other = (await c.createRun(exp)).info.run_id;
        await c.ok('POST', '/runs/log-metric', { run_id: other, key: 'only-elsewhere', value: 1, timestamp: 1, step: 1 });
        assert.deepEqual(assertOk(await api(stack.base, 'GET', HIST, { run_id: id, metric_key: 'only-elsewhere' })), { series: [] });
        assert.deepEqual(assertOk(await api(stack.base, 'GET', HIST, { run_id: id, metric_key: 'never-logged-anywhere' })), { series: [] });

        await c.ok('POST', '/runs/log-metric', { run_id: id, key: 'one', value: 'NaN', timestamp: 3, step: -4 });
        const one = assertOk(await api(stack.base, 'GET', HIST, { run_id: id, metric_key: 'one', max_points: 4 })).series;
        assert.deepEqual(one, [{ run_id: id, key: 'one', total_points: 1, steps: [-4], timestamps: [3], values: ['NaN'] }]);

        const pts = Array.from({ length: 50 }, (_, i) => ({ key: 'small', value: i % 5, timestamp: i, step: i * 3 }));
        await logAll(id, pts);
        const whole = assertOk(await api(stack.base, 'GET', HIST, { run_id: id, metric_key: 'small', max_points: 1000000 })).series[0];
        assertSame(seriesPoints(whole), expectedDownsample(pts, 1000000), 'max_points above the series');
        const both = assertOk(await api(stack.base, 'GET', HIST, { run_id: [id, other], metric_key: ['small', 'one', 'only-elsewhere'], max_points: 30 })).series;
        assert.deepEqual(both.map((x) => `${x.run_id === id ? 'id' : 'other'}/${x.key}`), ['id/small', 'id/one', 'other/only-elsewhere'], 'request order');

        // steps at both ends of int64: the bucket width must not overflow
        const ext = (await c.createRun(exp)).info.run_id;
        const steps = ['-9223372036854775808', '-4611686018427387904', '-1', '0', '1', '4611686018427387904', '9223372036854775806', '9223372036854775807'];
        const raw = `{"run_id":"${ext}","metrics":[${steps.map((s, i) => `{"key":"x","value":${i},"timestamp":${i},"step":${s}}`).join(',')}]}`;
        assertOk(await api(stack.base, 'POST', '/api/2.0/mlflow/runs/log-batch', undefined, { raw, headers: { 'content-type': 'application/json' } }));
        for (const maxPoints of [4, 8, 16]) {
            const r = await api(stack.base, 'GET', HIST, { run_id: ext, metric_key: 'x', max_points: maxPoints });
            const s = assertOk(r).series[0];
            assert.equal(s.total_points, 8);
            assert.ok(s.steps.length <= maxPoints && s.steps.length >= Math.min(8, 2));
            assert.ok(r.text.includes('-9223372036854775808') && r.text.includes('9223372036854775807'), `first and last step kept exactly (${maxPoints})`);
        }
        const full = await c.get('/metrics/get-history', { run_id: ext, metric_key: 'x' });
        for (const s of steps) assert.ok(full.text.includes(`"step":${s}}`), `streamed step ${s}`);
    });

    // The bulk interval's sampling, computed from the points of all runs.
    function expectedBulk(runs, maxResults) {
        const all = [...new Set(runs.flatMap((r) => r.points.map((p) => p.step)))].sort((a, b) => a - b);
        const n = all.length;
        const k = Math.ceil(n / maxResults);
        const sampled = new Set(all.filter((s, i) => n <= maxResults || i % k === 0 || i === n - 1));
        for (const r of runs) {
            if (r.points.length === 0) continue;
            sampled.add(Math.min(...r.points.map((p) => p.step)));
            sampled.add(Math.max(...r.points.map((p) => p.step)));
        }
        return runs.flatMap((r) => r.points.filter((p) => sampled.has(p.step)).sort(cmp).map((p) => ({ ...p, run_id: r.id })));
    }

    test('bulk interval: one run and several runs sample the same way', async () => {
        const rand = rng(5);
        const runs = [];
        for (let r = 0; r < 3; r++) {
            const id = (await c.createRun(exp)).info.run_id;
            const points = [];
            for (let i = 0; i < 400; i++) points.push({ key: 'b', value: rand(), timestamp: 10 + (i % 2), step: Math.floor(rand() * (300 + r * 200)) + r * 50 });
            const uniq = [...new Map(points.map((p) => [`${p.step}/${p.timestamp}/${p.value}`, p])).values()];
            await logAll(id, uniq);
            runs.push({ id, points: uniq });
        }
        for (const subset of [[runs[1]], runs]) {
            for (const maxResults of [1, 7, 100, 2500]) {
                const r = assertOk(await c.get(BULK, { run_ids: subset.map((x) => x.id), metric_key: 'b', max_results: maxResults }));
                const want = expectedBulk(subset, maxResults);
                assert.deepEqual(r.metrics.map(({ run_id, step, timestamp, value }) => ({ run_id, step, timestamp, value })),
                    want.map(({ run_id, step, timestamp, value }) => ({ run_id, step, timestamp, value })), `${subset.length} runs, max_results ${maxResults}`);
            }
        }
        // a step range keeps the same rule inside it
        const inRange = runs.map((x) => ({ ...x, points: x.points.filter((p) => p.step >= 100 && p.step <= 200) }));
        const r = assertOk(await c.get(BULK, { run_ids: runs.map((x) => x.id), metric_key: 'b', start_step: 100, end_step: 200, max_results: 9 }));
        assert.deepEqual(r.metrics.map(({ run_id, step, timestamp, value }) => ({ run_id, step, timestamp, value })),
            expectedBulk(inRange, 9).map(({ run_id, step, timestamp, value }) => ({ run_id, step, timestamp, value })));
    });

    test('bulk interval: repeated and unknown runs, NaN and infinities in order, the per-run cap', { timeout: 60000 }, async () => {
        const rand = rng(11);
        const special = [NaN, Infinity, -Infinity, 0, -1e308, 5e-324];
        const a = { id: (await c.createRun(exp)).info.run_id, points: [] };
        for (let i = 0; i < 600; i++) {
            const v = i % 5 === 0 ? special[(i / 5) % special.length] : rand();
            a.points.push({ key: 'x', value: v, timestamp: 100 + (i % 3), step: Math.floor(i / 4) * 3 });
        }
        a.points = [...new Map(a.points.map((p) => [`${p.step}/${p.timestamp}/${p.value}`, p])).values()];
        await logAll(a.id, a.points.map((p) => ({ ...p, value: toWire(p.value) })));
        const b = { id: (await c.createRun(exp)).info.run_id, points: [] };
        for (let i = 0; i < 50; i++) b.points.push({ key: 'x', value: i, timestamp: 1, step: 1000 + i * 7 });
        await logAll(b.id, b.points);
        const unknown = { id: 'f'.repeat(32), points: [] };
        const shape = (ms) => ms.map(({ run_id, step, timestamp, value }) => ({ run_id, step, timestamp, value: String(fromWire(value)) }));
        for (const list of [[a, unknown, b, a], [b, a], [unknown, a]]) {
            for (const maxResults of [1, 13, 2500]) {
                const r = await c.get(BULK, { run_ids: list.map((x) => x.id), metric_key: 'x', max_results: maxResults });
                assert.deepEqual(shape(assertOk(r).metrics), shape(expectedBulk(list, maxResults)),
                    `runs ${list.map((x) => x.id.slice(0, 4)).join(',')}, max_results ${maxResults}`);
            }
        }
        assert.deepEqual(assertOk(await c.get(BULK, { run_ids: [unknown.id, unknown.id], metric_key: 'x' })), {});
        assert.deepEqual(assertOk(await c.get(BULK, { run_ids: [a.id, b.id], metric_key: 'nosuch' })), {});

        // 26,000 points at two steps: each run gives at most 25,000, the first in order
        const big = { id: (await c.createRun(exp)).info.run_id, points: [] };
        for (let i = 0; i < 26000; i++) big.points.push({ key: 'x', value: i % 10, timestamp: i, step: i < 13000 ? 0 : 5 });
        await logAll(big.id, big.points);
        const r = assertOk(await c.get(BULK, { run_ids: [b.id, big.id], metric_key: 'x', max_results: 10 }, { timeoutMs: 60000 }));
        const mine = r.metrics.filter((m) => m.run_id === big.id);
        assert.equal(mine.length, 25000, 'capped at 25,000 points a run');
        assert.deepEqual(mine.slice(-2).map((m) => [m.step, m.timestamp]), [[5, 24998], [5, 24999]], 'the first 25,000 in order');
        assert.equal(r.metrics.filter((m) => m.run_id === b.id).length, expectedBulk([b, big], 10).filter((m) => m.run_id === b.id).length);
    });
});

describe('bulk interval walks within the statement timeout', () => {
    // Several runs are walked page by page in exptrackd (store_bulk_walk.c):
    // the walks together get the time one statement gets, then a 503. 100
    // runs of 10,000 points: each statement is a few ms, well inside 100 ms,
    // but the walks of a million points are not.
    test('a walk past --statement-timeout answers 503 TEMPORARILY_UNAVAILABLE; the server goes on', { timeout: 180000 }, async (t) => {
        const c = client(stack.base);
        const exp = await c.createExperiment(uniqueName('walk-timeout'));
        const ids = [];
        for (let r = 0; r < 100; r++) ids.push((await c.createRun(exp)).info.run_id);
        for (let g = 0; g < ids.length; g += 10) {
            await Promise.all(ids.slice(g, g + 10).map(async (id) => {
                for (let b = 0; b < 10; b++) {
                    const metrics = Array.from({ length: 1000 }, (_, i) => ({ key: 'w', value: i, timestamp: 1, step: b * 1000 + i }));
                    await c.ok('POST', '/runs/log-batch', { run_id: id, metrics });
                }
            }));
        }
        // no compaction thread: its first pass could meet the 100 ms timeout itself
        const srv = await startServer({ databaseUrl: stack.pg.url, args: ['--statement-timeout', '100', '--compact-delay', '-1'] });
        t.after(() => srv.stop());
        const slow = await api(srv.url, 'GET', '/api/2.0/mlflow/metrics/get-history-bulk-interval',
            { run_ids: ids, metric_key: 'w', max_results: 2500 });
        assertError(slow, 503, 'TEMPORARILY_UNAVAILABLE');
        assert.doesNotMatch(srv.log(), /statement timeout during/, 'the walk\'s budget ran out, not one statement');
        const quick = await api(srv.url, 'GET', '/api/2.0/mlflow/metrics/get-history-bulk-interval',
            { run_ids: ids.slice(0, 2), metric_key: 'w', start_step: 10, end_step: 20 });
        assert.equal(assertOk(quick).metrics.length, 22, 'a small walk on the same server is answered');
        // the default timeout (30 s) walks the whole request: every 4th step and the last, a run
        const whole = assertOk(await api(stack.base, 'GET', '/api/2.0/mlflow/metrics/get-history-bulk-interval',
            { run_ids: ids, metric_key: 'w', max_results: 2500 }, { timeoutMs: 60000 }));
        assert.equal(whole.metrics.length, 100 * 2501);
    });
});
