// Unit tests of web/js/chart-options.js: metric keys grouped into chart
// sections, and the chart options read from the URL (pure functions, no DOM).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupKeys, chartOptions } from '../../web/js/chart-options.js';

test('groupKeys groups by the prefix before the first /, ungrouped keys first', () => {
    assert.deepEqual(groupKeys(['val/loss', 'loss', 'train/acc', 'val/acc', 'acc', 'train/a/b']), [
        ['', ['acc', 'loss']],
        ['train', ['train/a/b', 'train/acc']],
        ['val', ['val/acc', 'val/loss']],
    ]);
});

test('groupKeys: a key starting with / has no prefix; no keys give no groups', () => {
    assert.deepEqual(groupKeys(['/x', 'y']), [['', ['/x', 'y']]]);
    assert.deepEqual(groupKeys([]), []);
    assert.deepEqual(groupKeys(new Set(['b/1'])), [['b', ['b/1']]]);
});

test('chartOptions reads x, log and smooth', () => {
    assert.deepEqual(chartOptions(new URLSearchParams('x=rel&log=1&smooth=0.6')), { xmode: 'rel', log: true, smoothing: 0.6 });
    assert.deepEqual(chartOptions(new URLSearchParams('x=wall')), { xmode: 'wall', log: false, smoothing: 0 });
});

test('chartOptions falls back to step, and clamps smoothing to [0, 0.99]', () => {
    assert.deepEqual(chartOptions(new URLSearchParams('')), { xmode: 'step', log: false, smoothing: 0 });
    assert.deepEqual(chartOptions(new URLSearchParams('x=bogus&log=true&smooth=5')), { xmode: 'step', log: false, smoothing: 0.99 });
    assert.equal(chartOptions(new URLSearchParams('smooth=-1')).smoothing, 0);
    assert.equal(chartOptions(new URLSearchParams('smooth=abc')).smoothing, 0);
});
