// The points each 256-step block keeps for the downsample (schema/0028):
// a bucket of whole blocks is answered from its block rows alone, so every
// write path must keep each block's lowest and highest point (the first by
// step and timestamp among equal values), first and last point exact,
// whatever the order and grouping of the writes. Checked two ways: the
// downsample against an answer computed here from every point, and the
// stored block rows against the rebuild from metrics that the migration
// runs (its own statement, read from the schema file).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { useStack, client, api, assertOk, uniqueName } from './harness.mjs';

const stack = useStack({ before, after });
const HIST = '/api/2.0/exptrack/metrics/history';
const here = path.dirname(fileURLToPath(import.meta.url));

const toWire = (v) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v);
const fromWire = (v) => (v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v);
// (step, timestamp, value) order with NaN above everything, as stored
const cmpValue = (a, b) => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : Number.isNaN(b) ? -1 : a - b);
const cmp = (a, b) => (a.step - b.step) || (a.timestamp - b.timestamp) || cmpValue(a.value, b.value);

function rng(seed) {
    let s = seed >>> 0;
    return () => {
        s = (s * 1664525 + 1013904223) >>> 0;
        return s / 4294967296;
    };
}

// The downsample as docs/api-extensions.md defines it, from every point:
// at most max_points / 4 buckets of width w; buckets of 256 steps or more
// are runs of whole blocks (from 1,024 steps w rounded up to whole blocks);
// from each bucket its first and last point and the first point (by step,
// timestamp) at its lowest and highest non-NaN value.
function expectedDownsample(points, maxPoints) {
    const pts = points.map((p) => ({ step: p.step, timestamp: p.timestamp, value: fromWire(p.value) })).sort(cmp);
    if (pts.length <= maxPoints) return pts;
    const nb = Math.floor(maxPoints / 4);
    const lo = pts[0].step;
    const hi = pts.at(-1).step;
    let a = lo;
    let w = Math.floor((hi - lo) / nb) + 1;
    const blocks = w >= 256;
    if (blocks) {
        a = Math.floor(lo / 256) * 256;
        w = Math.floor((hi - a) / nb) + 1;
        if (w >= 1024) w = Math.ceil(w / 256) * 256;
    }
    const buckets = new Map();
    for (const p of pts) {
        const b = Math.floor(((blocks ? Math.floor(p.step / 256) * 256 : p.step) - a) / w);
        if (!buckets.has(b)) buckets.set(b, []);
        buckets.get(b).push(p);
    }
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

function assertSame(s, want, what) {
    const got = s.steps.map((step, i) => ({ step, timestamp: s.timestamps[i], value: fromWire(s.values[i]) }));
    assert.equal(got.length, want.length, `${what}: ${got.length} points, want ${want.length}`);
    for (let i = 0; i < want.length; i++) {
        assert.ok(got[i].step === want[i].step && got[i].timestamp === want[i].timestamp && Object.is(got[i].value, want[i].value),
            `${what}: point ${i}: got ${JSON.stringify(got[i])}, want ${JSON.stringify(want[i])}`);
    }
}

function shuffle(a, rand) {
    for (let i = a.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
}

// The migration's rebuild of the blocks from metrics (its SELECT), as text.
function rebuildSelect() {
    const sql = fs.readFileSync(path.join(here, '../../schema/0028_block_points.sql'), 'utf8');
    const from = sql.indexOf('SELECT run_id, key_id, block, n, lo[1]');
    const to = sql.indexOf('GROUP BY 1, 2, 3) g') + 'GROUP BY 1, 2, 3) g'.length;
    assert.ok(from > 0 && to > from, 'the rebuild statement is in schema/0028');
    return sql.slice(from, to);
}

describe('downsample from the points kept by each block', () => {
    let c;
    let exp;
    const sql = (q) => stack.pg.psql(q).trim();
    before(async () => {
        c = client(stack.base);
        exp = await c.createExperiment(uniqueName('blocks'));
    });

    // batches of up to 1,000 points (the API's limit; over 256 they go by COPY)
    async function logAll(run_id, points) {
        for (let i = 0; i < points.length; i += 1000) {
            await c.ok('POST', '/runs/log-batch', { run_id, metrics: points.slice(i, i + 1000) });
        }
    }

    async function check(run, key, points, what) {
        // span 6,700 steps: 400 points are buckets of 67 steps (every point
        // read), 100 of 269 and 40 of 671 (block runs), 20 of 1,341 (whole
        // blocks, 1,536), 8 and 4 of a few thousand
        for (const maxPoints of [4, 8, 12, 20, 40, 100, 400]) {
            const r = assertOk(await api(stack.base, 'GET', HIST, { run_id: run, metric_key: key, max_points: maxPoints }));
            assert.equal(r.series.length, 1);
            assert.equal(r.series[0].total_points, points.length, `${what}: total_points`);
            assertSame(r.series[0], expectedDownsample(points, maxPoints), `${what}, max_points ${maxPoints}`);
        }
    }

    test('ties, NaN and infinities, out of order, duplicate steps, blocks filled by every write path', { timeout: 120000 }, async () => {
        const rand = rng(41);
        const run = (await c.createRun(exp)).info.run_id;
        const all = [];
        const pt = (step, timestamp, value) => ({ key: 'b', step, timestamp, value: toWire(value) });
        // values from a small set: many ties on the lowest and highest value
        const val = () => [-3, -1, 0, 2, 5, 5, 7][Math.floor(rand() * 7)];

        // 1. 2,000 points in two batches (COPY), in a shuffled order:
        // steps -700..5999 with gaps, several points at a step
        const first = [];
        for (let i = 0; i < 2000; i++) {
            const step = Math.floor(rand() * 6700) - 700;
            let v = val();
            if (i % 53 === 0) v = NaN;
            first.push(pt(step, 1000 + Math.floor(rand() * 50), v));
        }
        first.push(pt(-700, 0, 1), pt(5999, 0, 1)); // the series' ends
        for (let s = 1280; s < 1536; s += 16) first.push(pt(s, 5, NaN)); // block 5: NaN only
        const seen = new Set();
        const once = first.filter((p) => {
            const k = `${p.step}/${p.timestamp}/${p.value}`;
            return !seen.has(k) && seen.add(k);
        });
        shuffle(once, rand);
        await logAll(run, once);
        all.push(...once);
        await check(run, 'b', all, 'shuffled batches');

        // 2. the batch again with new points among its stored twins (the
        // INSERT that skips them): ties at the lowest and highest value at
        // earlier steps of the same blocks, and at the same step with an
        // earlier timestamp; infinities; a point before a block's first
        const more = [];
        for (let b = -2; b < 23; b++) {
            const base = b * 256;
            more.push(pt(base + 200, 999, -3), pt(base + 201, 3, 7), pt(base + 7, 1, -3), pt(base + 7, 0, 7));
        }
        more.push(pt(3000, 2000, Infinity), pt(3001, 2000, -Infinity), pt(4100, 1, -Infinity), pt(4099, 1, Infinity));
        const repeat = shuffle([...once.slice(0, 300), ...more], rand);
        await c.ok('POST', '/runs/log-batch', { run_id: run, metrics: repeat });
        all.push(...more);
        await check(run, 'b', all, 'a repeated batch with new points');

        // 3. small batches (the one-statement log-batch), newest blocks
        // first: a NaN after a block's last point (a NaN is the last point at
        // its step and timestamp), points before its first, new ties
        const small = [];
        for (let b = 22; b >= -2; b--) {
            const base = b * 256;
            small.push(pt(base + 255, 5000, NaN), pt(base, 0, 5), pt(base + 100, 0, -3), pt(base + 100, 0, 7));
            small.push(pt(base + 255, 5000, 1e300), pt(base, 0, -1e300));
        }
        for (let i = 0; i < small.length; i += 20) {
            await c.ok('POST', '/runs/log-batch', { run_id: run, metrics: small.slice(i, i + 20) });
        }
        all.push(...small);
        await check(run, 'b', all, 'small batches, newest first');

        // 4. single points (the group commit), one after another and then
        // concurrently into the same blocks: the same step and timestamp with
        // a lower value (the block's first point by value), ties at an
        // earlier step, a stored twin again
        const singles = [pt(-700, 0, 0.5), pt(2, 1000, -1e300), pt(2, 999, 1e300), pt(600, 0, 1e300), pt(601, 0, -1e300)];
        for (const p of singles) await c.ok('POST', '/runs/log-metric', { run_id: run, ...p });
        await c.ok('POST', '/runs/log-metric', { run_id: run, ...once[0] });
        const burst = [];
        for (let i = 0; i < 40; i++) burst.push(pt(3 * 256 + (i * 7) % 256, 7000 + (i % 3), i % 5 === 0 ? NaN : [-1e300, 1e300, 4][i % 3]));
        await Promise.all(burst.map((p) => c.ok('POST', '/runs/log-metric', { run_id: run, ...p })));
        all.push(...singles, ...burst);
        await check(run, 'b', all, 'single points');

        // the blocks kept by the writes are the migration's rebuild of them
        const diff = sql(`SELECT count(*) FROM ((SELECT (b.*)::text FROM (SELECT run_id, key_id, block, n, vmin, vmax,
            min_step, min_ts, max_step, max_ts, first_step, first_ts, first_value, last_step, last_ts, last_value
            FROM metric_blocks) b EXCEPT SELECT (r.*)::text FROM (${rebuildSelect()}) r)
            UNION ALL (SELECT (r.*)::text FROM (${rebuildSelect()}) r EXCEPT SELECT (b.*)::text FROM (SELECT run_id, key_id,
            block, n, vmin, vmax, min_step, min_ts, max_step, max_ts, first_step, first_ts, first_value, last_step, last_ts,
            last_value FROM metric_blocks) b)) d`);
        assert.equal(diff, '0', 'stored blocks equal the rebuild from metrics');
        const blocks = sql(`SELECT count(*) FROM metric_blocks b JOIN runs r ON r.id = b.run_id WHERE r.run_uuid = '${run}'`);
        assert.equal(blocks, '27', 'blocks -3..23 hold points');
    });

    test('extremes at a block edge and at extreme steps and timestamps', { timeout: 60000 }, async () => {
        const run = (await c.createRun(exp)).info.run_id;
        const big = 2 ** 53 - 1;
        // timestamps up to the end of JSON's exact integers and across the
        // 32-bit halves the blocks keep them in, steps far from 0 both ways
        const far = 2 ** 40;
        const pts = [];
        for (let i = 0; i < 600; i++) {
            pts.push({ key: 'x', step: -far + i, timestamp: (i % 7) * 2 ** 32 + (i % 3) * (2 ** 32 - 1), value: (i * 37) % 11 });
            pts.push({ key: 'x', step: far - i, timestamp: big - (i % 5), value: (i * 41) % 13 });
        }
        await logAll(run, pts);
        for (const maxPoints of [4, 8, 1000]) {
            const r = assertOk(await api(stack.base, 'GET', HIST, { run_id: run, metric_key: 'x', max_points: maxPoints }));
            assertSame(r.series[0], expectedDownsample(pts, maxPoints), `max_points ${maxPoints}`);
        }
        const singles = [{ key: 'y', step: 10, timestamp: 5, value: 1 }, { key: 'y', step: 10, timestamp: 4, value: 1 },
            { key: 'y', step: 3, timestamp: 9, value: 1 }, { key: 'y', step: 3, timestamp: 9, value: 'NaN' }];
        for (const p of singles) await c.ok('POST', '/runs/log-metric', { run_id: run, ...p });
        const row = sql(`SELECT min_step, min_ts, max_step, max_ts, first_step, first_ts, first_value, last_step, last_ts, last_value
            FROM metric_blocks b JOIN metric_keys k ON k.id = b.key_id JOIN runs r ON r.id = b.run_id
            WHERE r.run_uuid = '${run}' AND k.name = 'y'`);
        assert.equal(row, '3|9|3|9|3|9|1|10|5|1', 'ties go to the first by step and timestamp; NaN sorts last at its step');
    });
});
