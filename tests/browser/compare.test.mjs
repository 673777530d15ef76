// The compare view: a table that highlights differing values, overlaid
// charts with one series per run, and the param/metric scatter plot.
import { test, describe, before, after } from 'node:test';
import { useBrowserStack, seed, screenshot, assert, coloredPixels } from './helpers.mjs';

describe('compare view', () => {
    const s = useBrowserStack({ before, after });
    let data;
    before(async () => { data = await seed(s.api); }, { timeout: 60000 });

    test('compares three runs: differences, overlaid charts, scatter', async () => {
        const page = await s.page();
        const ids = [data.runs.fast, data.runs.medium, data.runs.slow];
        await page.goto(`${s.base}/#/compare?runs=${ids.join(',')}`);
        await page.waitForSelector('table.compare');
        assert.equal(await page.textContent('h1'), 'Comparing 3 runs');
        const heads = await page.$$eval('table.compare thead th a', (as) => as.map((a) => a.textContent));
        assert.deepEqual(heads, ['fast', 'medium', 'slow']);
        const row = (key) => page.$eval(`xpath=//table[contains(@class,"compare")]//tr[th[text()="${key}"]]`,
            (tr) => ({ diff: tr.classList.contains('diff'), cells: [...tr.querySelectorAll('td')].map((td) => td.textContent) }));
        assert.deepEqual(await row('lr'), { diff: true, cells: ['0.1', '0.01', '0.001'] });
        assert.deepEqual(await row('batch_size'), { diff: false, cells: ['32', '32', '32'] });
        assert.equal((await row('model')).diff, true);

        await page.waitForSelector('.chart-card[data-metric="loss"][data-drawn="1"]');
        const series = await page.$$eval('.chart-card[data-metric="loss"] .u-legend .u-series .u-label', (xs) => xs.slice(1).map((x) => x.textContent.trim()));
        assert.deepEqual(series, ['fast', 'medium', 'slow']);
        assert.ok(await coloredPixels(page, '.chart-card[data-metric="loss"]') > 300);
        // the scatter picks a param that differs (lr) against the first metric
        assert.equal(await page.$eval('select[aria-label=sx]', (x) => x.value), 'lr');
        assert.ok(await coloredPixels(page, '.scatter') > 20, 'scatter has points');
        await screenshot(page, 'compare');

        await page.check('text=Only differences');
        await page.waitForFunction(() => location.hash.includes('diff=1'));
        // the hash changes before the table is drawn again: wait for the new one
        await page.waitForFunction(() => {
            const ths = [...document.querySelectorAll('table.compare tbody tr:not(.section) th')];
            return ths.length > 0 && !ths.some((t) => t.textContent === 'batch_size');
        }, null, { timeout: 10000 }).catch(() => {});
        const keys = await page.$$eval('table.compare tbody tr:not(.section) th', (ths) => ths.map((t) => t.textContent));
        assert.ok(keys.includes('lr') && !keys.includes('batch_size'), `rows: ${keys}`);
        await page.close();
    });

    test('groups runs by a param: a mean line and a band per group', async () => {
        const page = await s.page();
        const ids = [data.runs.fast, data.runs.medium, data.runs.slow];
        await page.goto(`${s.base}/#/compare?runs=${ids.join(',')}&gb=params.model`);
        await page.waitForSelector('.chart-card[data-metric="loss"][data-drawn="1"]');
        const labels = await page.$$eval('.chart-card[data-metric="loss"] .u-legend .u-series .u-label', (xs) => xs.slice(1).map((x) => x.textContent.trim()));
        assert.deepEqual(labels, ['model=resnet max', 'model=resnet min', 'model=resnet (2)', 'model=vit max', 'model=vit min', 'model=vit (1)']);
        assert.ok(await coloredPixels(page, '.chart-card[data-metric="loss"]') > 300);
        await screenshot(page, 'compare-grouped');
        await page.selectOption('select[aria-label=band]', 'std');
        await page.waitForFunction(() => location.hash.includes('band=std'));
        // the page draws again: wait for the new chart's legend
        await page.waitForFunction(() => document.querySelectorAll('.chart-card[data-metric="loss"] .u-legend .u-series .u-label')[1]?.textContent.trim() === 'model=resnet +σ');
        await page.close();
    });

    test('a running run updates live in the compare view', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/compare?runs=${data.runs.fast},${data.runs.slow}`);
        await page.waitForSelector('.chart-card[data-metric="loss"][data-points="200"]');
        const streamed = (await fetch(`${s.base}/static/js/live.js`)).status === 200;
        const requests = [];
        page.on('request', (r) => { if (r.url().includes('/metrics/history')) requests.push(decodeURIComponent(r.url())); });
        const metrics = [];
        for (let step = 100; step < 130; step++) metrics.push({ key: 'loss', value: 0.2, timestamp: Date.now(), step });
        const logged = Date.now();
        await s.api.ok('POST', '/runs/log-batch', { run_id: data.runs.slow, metrics });
        await page.waitForSelector('.chart-card[data-metric="loss"][data-points="230"]', { timeout: 5000 });
        const took = Date.now() - logged;
        assert.ok(took < (streamed ? 2000 : 4000), `compare chart updated after ${took} ms`);
        // only the run that moved had its history read again
        assert.ok(requests.length >= 1 && requests.every((u) => u.includes(`run_id=${data.runs.slow}`) && !u.includes(data.runs.fast)), `requests: ${requests}`);
        await page.close();
    });

    test('the runs table leads to the compare view', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/runs?exp=${data.expId}`);
        await page.waitForSelector('table.runs tr[data-run]');
        await page.check('input[aria-label="select all runs"]');
        await page.click('a.compare-link');
        await page.waitForSelector('.chart-card[data-drawn="1"]');
        assert.equal(await page.$$eval('table.compare thead th a', (as) => as.length), 3);
        await page.close();
    });
});
