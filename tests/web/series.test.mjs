// Unit tests of web/js/series.js, the dashboard's pure series math: known
// inputs and the exact outputs expected, plus the edge cases (no points, one
// point, NaN and infinite values). Runs in node: the module has no DOM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
    emptySeries, toSeries, thin, concatSeries, smooth, xValues, align, withAlpha, groupData,
    overlayPoints, lastStep,
} from '../../web/js/series.js';

/** A series from plain arrays (typed arrays inside, as the module makes them). */
function series(step, time, value) {
    return { step: Float64Array.from(step), time: Float64Array.from(time), value: Float64Array.from(value) };
}
const plain = (s) => ({ step: [...s.step], time: [...s.time], value: [...s.value] });

test('emptySeries has three empty typed arrays', () => {
    const s = emptySeries();
    for (const k of ['step', 'time', 'value']) {
        assert.ok(s[k] instanceof Float64Array, k);
        assert.equal(s[k].length, 0, k);
    }
});

test('toSeries sorts by step, then timestamp, and reads MLflow\'s number strings', () => {
    const s = toSeries([
        { step: 2, timestamp: 20, value: 'NaN' },
        { step: 1, timestamp: 15, value: 1.5 },
        { step: 1, timestamp: 10, value: 'Infinity' },
        { step: 3, timestamp: 30, value: '-Infinity' },
        { step: 4, timestamp: 40, value: '0.25' },
    ]);
    assert.deepEqual(plain(s), {
        step: [1, 1, 2, 3, 4],
        time: [10, 15, 20, 30, 40],
        value: [Infinity, 1.5, NaN, -Infinity, 0.25],
    });
});

test('toSeries: missing step and timestamp are 0; no points give an empty series', () => {
    assert.deepEqual(plain(toSeries([{ value: 7 }])), { step: [0], time: [0], value: [7] });
    assert.deepEqual(plain(toSeries([])), { step: [], time: [], value: [] });
});

test('thin keeps first, min, max and last of each bucket, in order', () => {
    const value = Array.from({ length: 16 }, (_, i) => i);
    value[3] = 100; // the first bucket's max
    value[5] = -100; // and its min
    const s = series(value.map((_, i) => i * 10), value.map((_, i) => i * 1000), value);
    const out = thin(s, 8); // 2 buckets of 8 points
    assert.deepEqual(plain(out), {
        step: [0, 30, 50, 70, 80, 150],
        time: [0, 3000, 5000, 7000, 8000, 15000],
        value: [0, 100, -100, 7, 8, 15],
    });
});

test('thin returns the series itself when it is short enough or max is below 8', () => {
    const s = series([1, 2, 3], [1, 2, 3], [5, 6, 7]);
    assert.equal(thin(s, 3), s);
    assert.equal(thin(s, 100), s);
    const long = series(Array.from({ length: 50 }, (_, i) => i), new Array(50).fill(0), new Array(50).fill(1));
    assert.equal(thin(long, 7), long);
    assert.equal(thin(emptySeries(), 8).value.length, 0);
    const one = series([4], [40], [0.5]);
    assert.equal(thin(one, 8), one);
});

test('concatSeries appends b to a and counts a\'s total (downsampled) plus b\'s points', () => {
    const a = series([1, 2], [10, 20], [0.5, 0.25]);
    const b = series([3], [30], [NaN]);
    const out = concatSeries(a, b);
    assert.deepEqual(plain(out), { step: [1, 2, 3], time: [10, 20, 30], value: [0.5, 0.25, NaN] });
    assert.equal(out.total, 3);
    a.total = 1000; // the server had 1000 points and sent 2
    assert.equal(concatSeries(a, b).total, 1001);
    const none = concatSeries(emptySeries(), emptySeries());
    assert.deepEqual(plain(none), { step: [], time: [], value: [] });
    assert.equal(none.total, 0);
});

test('smooth is the debiased EMA: the first value stays, gaps and non-finite values pass through', () => {
    assert.deepEqual(smooth([1, 3], 0.5), [1, 1.75 / 0.75]);
    assert.deepEqual(smooth([1, null, 3], 0.5), [1, null, 1.75 / 0.75]);
    assert.deepEqual(smooth([NaN, 2, Infinity, 2], 0.5), [NaN, 2, Infinity, 2]);
    assert.deepEqual(smooth([4], 0.9), [4]);
    assert.deepEqual(smooth([], 0.5), []);
});

test('smooth with weight 0 returns the values unchanged (the same array)', () => {
    const v = [1, 2, 3];
    assert.equal(smooth(v, 0), v);
});

test('xValues: steps, wall seconds, or seconds since the earliest point', () => {
    const s = series([0, 1, 2], [5000, 3000, 9000], [1, 2, 3]);
    assert.deepEqual(xValues(s, 'step'), [0, 1, 2]);
    assert.deepEqual(xValues(s, 'wall'), [5, 3, 9]);
    assert.deepEqual(xValues(s, 'rel'), [2, 0, 6]);
    assert.deepEqual(xValues(emptySeries(), 'rel'), []);
});

test('align joins series on the union of their x values, null where one has none', () => {
    assert.deepEqual(align([{ x: [1, 2], y: [10, 20] }, { x: [3, 2], y: [6, 5] }]),
        [[1, 2, 3], [10, 20, null], [null, 5, 6]]);
    assert.deepEqual(align([{ x: [7], y: [NaN] }]), [[7], [NaN]]);
    assert.deepEqual(align([]), [[]]);
});

test('withAlpha turns hsl() into hsla() and leaves other colors alone', () => {
    assert.equal(withAlpha('hsl(10, 50%, 40%)', 0.5), 'hsla(10, 50%, 40%, 0.5)');
    assert.equal(withAlpha('#ffffff', 0.5), '#ffffff');
});

const color = () => 'hsl(0, 0%, 0%)';
const series3 = [{}, {}, {}];
const byIndex = (i) => (i < 2 ? 'a' : 'b');

test('groupData: min/max band and mean per group, skipping nulls', () => {
    const aligned = [[1, 2], [1, 3], [3, null], [10, 20]];
    const g = groupData(aligned, series3, { of: byIndex, kind: 'minmax', color }, false);
    assert.deepEqual(g.data, [[1, 2], [3, 3], [1, 3], [2, 3], [10, 20], [10, 20], [10, 20]]);
    assert.deepEqual(g.cfg.map((c) => c.label), ['a max', 'a min', 'a (2)', 'b max', 'b min', 'b (1)']);
    assert.deepEqual(g.bands, [
        { series: [1, 2], fill: 'hsla(0, 0%, 0%, 0.15)' },
        { series: [4, 5], fill: 'hsla(0, 0%, 0%, 0.15)' },
    ]);
});

test('groupData: std band is mean ± population standard deviation; no values give nulls', () => {
    const aligned = [[1, 2], [1, null], [3, NaN]];
    const g = groupData(aligned, [{}, {}], { of: () => 'g', kind: 'std', color }, false);
    assert.deepEqual(g.data, [[1, 2], [3, null], [1, null], [2, null]]);
    assert.deepEqual(g.cfg.map((c) => c.label), ['g +σ', 'g −σ', 'g (2)']);
});

test('groupData with smoothing uses each run\'s smoothed column, not its raw one', () => {
    // per run: raw column, then smoothed column
    const aligned = [[1], [100], [2], [100], [4]];
    const g = groupData(aligned, [{}, {}], { of: () => 'g', kind: 'minmax', color }, true);
    assert.deepEqual(g.data, [[1], [4], [2], [3]]);
});

test('overlayPoints: buckets of at least one 256-step block, within the budget', () => {
    // 10,000 steps (0..9999): 39 buckets, of floor(9999 / 39) + 1 = 257 steps
    assert.equal(overlayPoints(400, 9999), 156);
    assert.ok(Math.floor(9999 / (156 / 4)) + 1 >= 256);
    // one bucket more would be narrower than a block
    assert.ok(Math.floor(9999 / (160 / 4)) + 1 < 256);
    for (const last of [16320, 25000, 99999, 1e6]) {
        const p = overlayPoints(1e9, last);
        assert.ok(Math.floor(last / (p / 4)) + 1 >= 256, `last step ${last}: ${p} points`);
        assert.ok(Math.floor(last / (p / 4 + 1)) + 1 < 256, `last step ${last}: ${p} points is the most`);
    }
    assert.equal(overlayPoints(120, 1e6), 120, 'the budget when it is smaller');
    assert.equal(overlayPoints(400, 199), 400, 'a short series: the budget');
    assert.equal(overlayPoints(400, 4079), 400, 'under 64 points: the budget');
    assert.equal(overlayPoints(400, 4080), 64);
    assert.equal(overlayPoints(400, 0), 400);
});

test('lastStep: the highest latest step of a key among runs', () => {
    const run = (metrics) => ({ info: {}, data: { metrics } });
    const runs = [run([{ key: 'loss', value: 1, step: 9999 }, { key: 'acc', value: 1, step: 5 }]), run([{ key: 'loss', value: 1, step: '12000' }]), run(undefined), { info: {} }];
    assert.equal(lastStep(runs, 'loss'), 12000);
    assert.equal(lastStep(runs, 'acc'), 5);
    assert.equal(lastStep(runs, 'none'), 0);
    assert.equal(lastStep([], 'loss'), 0);
});
