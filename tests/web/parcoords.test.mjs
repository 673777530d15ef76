// The parallel coordinates' pure parts (web/js/parcoords.js): axes from
// values, brushes in the URL and the runs a set of brushes keeps, the
// keyboard's stops and moves; and the first-run panel's shell quoting
// (web/js/first-run.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeAxis, brushFilter, parseBrush, brushParam, keyStops, keyBrush } from '../../web/js/parcoords.js';
import { shellWord } from '../../web/js/first-run.js';

const values = (obj) => new Map(Object.entries(obj));

test('numeric axes are linear, or logarithmic over more than two decades', () => {
    const lin = makeAxis('params.batch', 'batch', values({ a: '32', b: '64', c: '128' }));
    assert.equal(lin.numeric, true);
    assert.equal(lin.log, false);
    assert.equal(lin.pos('32'), 0);
    assert.equal(lin.pos('128'), 1);
    assert.equal(lin.pos('80'), 0.5);
    const log = makeAxis('params.lr', 'lr', values({ a: '0.0001', b: '0.01', c: '0.1', d: undefined }));
    assert.equal(log.log, true);
    assert.ok(Math.abs(log.pos('0.001') - 1 / 3) < 1e-12);
    assert.ok(Math.abs(log.valueAt(2 / 3) - 0.01) < 1e-12);
});

test('an axis with a value that is not a number is an axis of sorted categories', () => {
    const a = makeAxis('params.model', 'model', values({ a: 'vit', b: 'cnn', c: 'resnet', d: '3' }));
    assert.equal(a.numeric, false);
    assert.deepEqual(a.cats, ['3', 'cnn', 'resnet', 'vit']);
    assert.equal(a.pos('cnn'), 1 / 3);
    assert.equal(a.num('vit'), 3);
    const one = makeAxis('params.x', 'x', values({ a: 'only' }));
    assert.equal(one.pos('only'), 0.5);
});

test('brushFilter keeps the runs inside every brush; a run without the value is out', () => {
    const lr = makeAxis('params.lr', 'lr', values({ a: '0.1', b: '0.01', c: '0.001', d: undefined }));
    const model = makeAxis('params.model', 'model', values({ a: 'cnn', b: 'vit', c: 'cnn', d: 'vit' }));
    const ids = ['a', 'b', 'c', 'd'];
    assert.deepEqual(brushFilter([lr, model], new Map(), ids), ids);
    assert.deepEqual(brushFilter([lr, model], new Map([['params.lr', [0.005, 1]]]), ids), ['a', 'b']);
    assert.deepEqual(brushFilter([lr, model], new Map([['params.lr', [0.005, 1]], ['params.model', [1, 1]]]), ids), ['b']);
    // a brush of an axis that is not given filters nothing
    assert.deepEqual(brushFilter([model], new Map([['params.lr', [5, 6]]]), ids), ids);
});

test('brushes survive the URL: key:lo:hi, keys with dots and colons, malformed ones refused', () => {
    assert.deepEqual(parseBrush('params.lr:0.001:0.01'), ['params.lr', [0.001, 0.01]]);
    assert.deepEqual(parseBrush('metrics.val:loss:-1e-3:2.5'), ['metrics.val:loss', [-0.001, 2.5]]);
    assert.deepEqual(parseBrush('params.lr:0.5:0.1'), ['params.lr', [0.1, 0.5]]); // in order
    for (const bad of ['', 'params.lr', 'params.lr:1', 'params.lr:a:b', 'params.lr:1:NaN']) assert.equal(parseBrush(bad), null, bad);
    assert.equal(brushParam('params.lr', [0.0012345678, 0.1]), 'params.lr:0.00123457:0.1');
    assert.deepEqual(parseBrush(brushParam('metrics.loss', [1 / 3, 2 / 3])), ['metrics.loss', [0.333333, 0.666667]]);
});

test('shellWord quotes what the shell would split or expand', () => {
    assert.equal(shellWord('Default'), 'Default');
    assert.equal(shellWord('my-exp_1.0'), 'my-exp_1.0');
    assert.equal(shellWord('two words'), "'two words'");
    assert.equal(shellWord("it's"), "'it'\\''s'");
    assert.equal(shellWord('$HOME;rm'), "'$HOME;rm'");
});

test('keyboard stops: each value of a sweep axis, each category, or ten slices of a long axis', () => {
    const lr = makeAxis('params.lr', 'lr', values({ a: '0.1', b: '0.03', c: '0.01', d: '0.003', e: '0.1' }));
    const st = keyStops(lr);
    assert.equal(st.n, 4);
    assert.deepEqual(st.brush(2, 3), [0.03, 0.1]);
    assert.deepEqual(st.of([0.02, 0.1]), [2, 3]);
    assert.deepEqual(st.of([0.04, 0.05]), null, 'a brush between two values holds no stop');
    assert.deepEqual(brushFilter([lr], new Map([['params.lr', st.brush(3, 3)]]), ['a', 'b', 'c', 'd', 'e']), ['a', 'e']);
    const model = keyStops(makeAxis('params.model', 'model', values({ a: 'vit', b: 'cnn', c: 'resnet' })));
    assert.equal(model.n, 3);
    assert.deepEqual(model.brush(1, 1), [1, 1]);
    assert.deepEqual(model.of([0.5, 2]), [1, 2]);
    const many = {};
    for (let i = 0; i <= 100; i++) many[`r${i}`] = String(i);
    const loss = makeAxis('metrics.loss', 'loss', values(many));
    const ls = keyStops(loss);
    assert.equal(ls.n, 10);
    assert.deepEqual(ls.brush(0, 0), [0, 10]);
    assert.deepEqual(ls.brush(9, 9), [90, 100]);
    assert.deepEqual(ls.of([0, 10]), [0, 0]);
    assert.deepEqual(ls.of([25, 55]), [2, 5]);
});

test('keyboard moves: arrows start at an end and move, Shift widens, Escape clears, the ends hold', () => {
    assert.deepEqual(keyBrush('ArrowUp', false, null, 4), [0, 0]);
    assert.deepEqual(keyBrush('ArrowDown', false, null, 4), [3, 3]);
    assert.deepEqual(keyBrush('ArrowUp', false, [0, 0], 4), [1, 1]);
    assert.deepEqual(keyBrush('ArrowDown', false, [1, 2], 4), [0, 1]);
    assert.deepEqual(keyBrush('ArrowUp', false, [2, 3], 4), [2, 3], 'the top holds');
    assert.deepEqual(keyBrush('ArrowDown', false, [0, 1], 4), [0, 1], 'the bottom holds');
    assert.deepEqual(keyBrush('ArrowUp', true, [1, 1], 4), [1, 2]);
    assert.deepEqual(keyBrush('ArrowDown', true, [1, 2], 4), [0, 2]);
    assert.deepEqual(keyBrush('ArrowUp', true, [0, 3], 4), [0, 3]);
    assert.equal(keyBrush('Escape', false, [1, 2], 4), null);
    assert.equal(keyBrush('Enter', false, [1, 2], 4), undefined);
    assert.equal(keyBrush('ArrowLeft', false, null, 4), undefined);
});
