// The run page: overview, params, tags, latest metrics, and one chart per
// metric grouped by prefix, drawn lazily; x axis, log scale and smoothing
// controls live in the URL.
import { test, describe, before, after } from 'node:test';
import { useBrowserStack, seed, seedArtifacts, screenshot, assert, coloredPixels, holdStreams, writeSeenByHub } from './helpers.mjs';

describe('run page', () => {
    const s = useBrowserStack({ before, after });
    let data;
    before(async () => { data = await seed(s.api); }, { timeout: 60000 });

    test('shows the overview, params, tags and latest metrics', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/run/${data.runs.medium}`);
        await page.waitForSelector('table.overview a.exp-name[data-loaded="1"]');
        assert.equal(await page.textContent('h1'), 'medium');
        const overview = Object.fromEntries(await page.$$eval('table.overview tr', (trs) => trs.map((tr) => [tr.querySelector('th').textContent, tr.querySelector('td').textContent])));
        assert.equal(overview['Run ID'], data.runs.medium);
        assert.equal(overview.Status, 'FAILED');
        assert.equal(overview.Experiment, 'vision');
        assert.equal(overview.Duration, '1 min 45 s');
        assert.equal(overview.User, 'alice');
        assert.equal(overview.Source, 'train.py');
        assert.equal(overview['Git commit'], 'abc1def01234');
        const params = await page.$$eval('table.params tr', (trs) => trs.map((tr) => tr.textContent));
        assert.deepEqual(params, ['batch_size32', 'lr0.01', 'modelresnet']);
        const metrics = await page.$$eval('table.metrics th', (ths) => ths.map((t) => t.textContent));
        assert.deepEqual(metrics, ['acc', 'loss', 'train/acc', 'train/loss', 'val/loss']);
        assert.match(await page.textContent('table.metrics'), /@ step 99/);
        await page.close();
    });

    test('draws a chart per metric, grouped by prefix, as they scroll into view', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/run/${data.runs.fast}`);
        await page.waitForSelector('.chart-group');
        const groups = await page.$$eval('.chart-group > summary', (ss) => ss.map((x) => x.firstChild.textContent));
        assert.deepEqual(groups, ['Metrics', 'train', 'val']);
        await page.waitForSelector('.chart-card[data-metric="loss"][data-drawn="1"]');
        assert.ok(await coloredPixels(page, '.chart-card[data-metric="loss"]') > 200, 'loss chart has a drawn series');
        // val/loss is below the fold at 1280x800: drawn only once scrolled to
        assert.equal(await page.getAttribute('.chart-card[data-metric="val/loss"]', 'data-drawn'), null);
        await page.locator('.chart-card[data-metric="val/loss"]').scrollIntoViewIfNeeded();
        await page.waitForSelector('.chart-card[data-metric="val/loss"][data-drawn="1"]');
        assert.ok(await coloredPixels(page, '.chart-card[data-metric="val/loss"]') > 200);
        await screenshot(page, 'run');
        await page.close();
    });

    test('falls back to get-history on a server without the downsampling extension', async () => {
        const page = await s.page();
        const missing = { status: 404, contentType: 'application/json', body: JSON.stringify({ error_code: 'ENDPOINT_NOT_FOUND', message: 'no API endpoint' }) };
        await page.route('**/api/2.0/exptrack/**', (route) => route.fulfill(missing));
        const used = [];
        page.on('request', (r) => { if (r.url().includes('get-history')) used.push(r.url()); });
        await page.goto(`${s.base}/#/run/${data.runs.medium}`);
        await page.waitForSelector('.chart-card[data-metric="loss"][data-points="100"]');
        assert.ok(used.length > 0, 'get-history was used');
        assert.ok(await coloredPixels(page, '.chart-card[data-metric="loss"]') > 200);
        // and the runs table picks its columns from the page's runs
        await page.goto(`${s.base}/#/runs?exp=${data.expId}`);
        await page.waitForSelector('table.runs tr[data-run]');
        const heads = await page.$$eval('table.runs thead th', (ths) => ths.map((t) => t.textContent.replace(/[▲▼]/g, '').trim()));
        assert.ok(heads.some((t) => t.endsWith('lr')) && heads.some((t) => t.endsWith('val/loss')), `columns: ${heads}`);
        await page.close();
    });

    test('x axis, log scale and smoothing are in the URL and redraw the charts', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/run/${data.runs.fast}?x=rel&log=1&smooth=0.8`);
        await page.waitForSelector('.chart-card[data-metric="acc"][data-drawn="1"]');
        assert.equal(await page.$eval('select[aria-label="x axis"]', (s) => s.value), 'rel');
        assert.equal(await page.$eval('input[aria-label="log scale"]', (c) => c.checked), true);
        // smoothing adds the smoothed series next to the faint raw one
        const legend = await page.$$eval('.chart-card[data-metric="acc"] .u-legend .u-series', (xs) => xs.length);
        assert.equal(legend, 3); // x + raw + smoothed
        assert.ok(await coloredPixels(page, '.chart-card[data-metric="acc"]') > 200);
        await page.selectOption('select[aria-label="x axis"]', 'wall');
        await page.waitForFunction(() => location.hash.includes('x=wall'));
        await page.waitForSelector('.chart-card[data-metric="acc"][data-drawn="1"][data-x="wall"]');
        assert.ok(await coloredPixels(page, '.chart-card[data-metric="acc"]') > 200);
        await screenshot(page, 'run-options');
        await page.close();
    });

    test('browses and previews the artifacts', async (t) => {
        if (!(await seedArtifacts(s.base, data.expId, data.runs.slow))) { t.skip('no artifact API on this server'); return; }
        const page = await s.page();
        await page.goto(`${s.base}/#/run/${data.runs.slow}`);
        // the artifact tree is listed when it comes near the viewport
        await page.waitForSelector('.artifacts-section');
        await page.locator('.artifacts-section').scrollIntoViewIfNeeded();
        await page.waitForSelector('.art-tree');
        const top = await page.$$eval('.art-tree > li > button', (bs) => bs.map((b) => b.textContent));
        assert.deepEqual(top, ['▸ eval/', '▸ plots/', 'notes.txt', 'README.md']); // folders first, then by name
        // Markdown is rendered as DOM, its HTML kept as text
        await page.click('.art-file[data-path="README.md"]');
        await page.waitForSelector('.art-preview .markdown h3');
        assert.equal(await page.textContent('.art-preview .markdown strong'), 'lr 0.1');
        assert.equal(await page.$$eval('.art-preview .markdown li', (l) => l.length), 2);
        assert.equal(await page.$$eval('.art-preview script', (x) => x.length), 0);
        assert.match(await page.textContent('.art-preview .markdown'), /<script>alert\(1\)<\/script>/);
        // CSV as a table
        await page.click('.art-dir[data-path="eval"]');
        await page.click('.art-file[data-path="eval/metrics.csv"]');
        await page.waitForSelector('.art-preview table.csv');
        assert.deepEqual(await page.$$eval('.art-preview table.csv th', (x) => x.map((t) => t.textContent)), ['epoch', 'loss', 'acc']);
        assert.deepEqual(await page.$$eval('.art-preview table.csv tbody tr:last-child td', (x) => x.map((t) => t.textContent)), ['3', '0.25', '0,9']);
        // JSON pretty-printed
        await page.click('.art-file[data-path="eval/config.json"]');
        await page.waitForSelector('.art-preview pre.json');
        assert.match(await page.textContent('.art-preview pre.json'), /"layers": \[\n {4}64,/);
        // an image, loaded
        await page.click('.art-dir[data-path="plots"]');
        await page.click('.art-file[data-path="plots/loss.png"]');
        await page.waitForFunction(() => document.querySelector('.art-preview img')?.naturalWidth === 1);
        // text, with a download link that serves the bytes
        await page.click('.art-file[data-path="notes.txt"]');
        await page.waitForSelector('.art-preview pre.art-text');
        assert.equal(await page.textContent('.art-preview pre.art-text'), 'plain text notes\nline two\n');
        const link = await page.getAttribute('.art-preview a:text("Download")', 'href');
        const r = await fetch(s.base + link);
        assert.equal(await r.text(), 'plain text notes\nline two\n');
        await page.locator('.artifacts-section').scrollIntoViewIfNeeded();
        await screenshot(page, 'run-artifacts');
        await page.close();
    });

    // live.js (the event-stream client) may be missing on older servers: then the page polls
    const streamExpected = async () => (await fetch(`${s.base}/static/js/live.js`)).status === 200;

    test('a running run updates live while points are logged, fetching only the new points', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/run/${data.runs.slow}`);
        await page.waitForSelector('.chart-card[data-metric="loss"][data-points="100"]');
        await page.waitForSelector('.chart-card[data-metric="acc"][data-points="100"]');
        assert.equal(await page.textContent('.page-head .live'), 'live');
        await page.waitForSelector('.page-head .live[data-mode]');
        const mode = await page.getAttribute('.page-head .live', 'data-mode');
        assert.equal(mode, (await streamExpected()) ? 'stream' : 'poll');
        const requests = [];
        page.on('request', (r) => { if (r.url().includes('/api/2.0/')) requests.push(decodeURIComponent(r.url())); });
        const metrics = [];
        for (let step = 100; step < 150; step++) metrics.push({ key: 'loss', value: 0.3 - step / 1000, timestamp: Date.now(), step });
        const logged = Date.now();
        await s.api.ok('POST', '/runs/log-batch', { run_id: data.runs.slow, metrics });
        await page.waitForSelector('.chart-card[data-metric="loss"][data-points="150"]', { timeout: 5000 });
        const took = Date.now() - logged;
        assert.ok(took < (mode === 'stream' ? 2000 : 4000), `chart updated after ${took} ms (${mode})`);
        assert.match(await page.textContent('table.metrics'), /@ step 149/);
        assert.ok(await coloredPixels(page, '.chart-card[data-metric="loss"]') > 200);
        // only the new points of the metric that moved were read: from step 100 on
        const delta = requests.filter((u) => u.includes('get-history-bulk-interval'));
        assert.ok(delta.length >= 1 && delta.every((u) => u.includes('metric_key=loss') && u.includes('start_step=100')), `delta requests: ${delta}`);
        assert.deepEqual(requests.filter((u) => u.includes('exptrack/metrics/history')), [], 'no full history refetch');
        assert.equal(await page.getAttribute('.chart-card[data-metric="acc"]', 'data-points'), '100');
        await screenshot(page, 'run-live');
        // a new param shows in place, and reads no history (nothing else moved since)
        const seen = requests.length;
        await s.api.ok('POST', '/runs/log-parameter', { run_id: data.runs.slow, key: 'late_param', value: 'yes' });
        await page.waitForFunction(() => document.querySelector('table.params')?.textContent.includes('late_paramyes'), null, { timeout: 5000 });
        assert.doesNotMatch(await page.textContent('.run-grid'), /null|undefined/);
        assert.deepEqual(requests.slice(seen).filter((u) => /history/.test(u)), [], 'no history read for a param change');
        // the end of the run shows too
        await s.api.ok('POST', '/runs/update', { run_id: data.runs.slow, status: 'FINISHED', end_time: Date.now() });
        await page.waitForSelector('.page-head .badge.status-finished', { timeout: 5000 });
        assert.equal(await page.$('.page-head .live'), null);
        await page.close();
    });

    test('points logged before the stream opened are shown once it opens', async () => {
        const run = await s.api.createRun(data.expId, { run_name: 'gap' });
        const id = run.info.run_id;
        const points = (steps) => steps.map((step) => ({ key: 'loss', value: 1 / (step + 1), timestamp: Date.now(), step }));
        await s.api.ok('POST', '/runs/log-batch', { run_id: id, metrics: points([0, 1, 2]) });
        const page = await s.page();
        const release = await holdStreams(page);
        await page.goto(`${s.base}/#/run/${id}`);
        await page.waitForSelector('.chart-card[data-metric="loss"][data-points="3"]');
        await page.waitForSelector('.page-head .live[data-mode="stream"]');
        await writeSeenByHub(s.base, { run_id: id }, 'run',
            () => s.api.ok('POST', '/runs/log-batch', { run_id: id, metrics: points([3, 4]) }));
        release();
        await page.waitForSelector('.chart-card[data-metric="loss"][data-points="5"]', { timeout: 5000 });
        await page.close();
    });

    test('without live.js the page falls back to polling', async () => {
        const run = await s.api.createRun(data.expId, { run_name: 'polled' });
        const id = run.info.run_id;
        await s.api.ok('POST', '/runs/log-batch', { run_id: id, metrics: [0, 1, 2].map((step) => ({ key: 'loss', value: 1 / (step + 1), timestamp: Date.now(), step })) });
        const page = await s.page();
        await page.route('**/static/js/live.js', (route) => route.fulfill({ status: 404, body: 'no such file' }));
        await page.goto(`${s.base}/#/run/${id}`);
        await page.waitForSelector('.chart-card[data-metric="loss"][data-points="3"]');
        await page.waitForSelector('.page-head .live[data-mode="poll"]');
        await s.api.ok('POST', '/runs/log-batch', { run_id: id, metrics: [3, 4].map((step) => ({ key: 'loss', value: 0.2, timestamp: Date.now(), step })) });
        await page.waitForSelector('.chart-card[data-metric="loss"][data-points="5"]', { timeout: 5000 });
        await page.close();
    });

    test('an unknown run shows the server error, not a blank page', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/run/${'0'.repeat(32)}`);
        await page.waitForSelector('.error');
        assert.match(await page.textContent('.error'), /RESOURCE_DOES_NOT_EXIST/);
        await page.close();
    });
});
