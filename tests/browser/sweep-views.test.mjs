// The runs views of round 2, tried as a new user would: a server without
// runs shows how to log one (and the copy button copies it); then a 24-run
// sweep (params lr, batch, dropout; loss and acc over 1,000 steps; three
// runs still RUNNING) in the experiment chart view (the table's filter, hide
// and highlight from the table, state in the URL, live points), the
// parallel coordinates (brushing an axis filters the table), compare with a
// pinned baseline, and the chart grids using a wide screen.
import { test, describe, before, after } from 'node:test';
import { useBrowserStack, screenshot, assert, coloredPixels } from './helpers.mjs';
import { seedSweep, sweepParams } from './sweep.mjs';

describe('runs views: first run, experiment charts, parallel coordinates, baseline', () => {
    const s = useBrowserStack({ before, after });
    let sweep;
    // the sweep is made after the first test (which needs a server without runs), once
    let seeding = null;
    const seeded = async () => { sweep = await (seeding ??= seedSweep(s.api, { name: 'sweep', runs: 24, steps: 1000, live: 3 })); };

    test('a server without runs shows how to log the first one, with a working copy button', async () => {
        await s.browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: s.base });
        const page = await s.page();
        await page.goto(`${s.base}/#/experiments`);
        const panel = await page.waitForSelector('.first-run');
        const text = await panel.textContent();
        assert.ok(text.includes(`MLFLOW_TRACKING_URI=${s.base}`), text);
        // the only experiment is Default: the snippets log to it
        assert.ok(text.includes('mlflow.set_experiment("Default")'), text);
        const cli = await page.$eval('.first-run', (el) => [...el.querySelectorAll('pre')].map((p) => p.textContent).find((t) => t.includes('exptrack runs create')));
        assert.ok(cli.includes(`export EXPTRACK_URL=${s.base}`) && cli.includes('--experiment Default --name first-run'), cli);
        await page.click('button[aria-label="copy: MLflow clients (Python, R, Java, JavaScript)"]');
        await page.waitForSelector('.first-run .copy-msg:text("Copied")');
        assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `MLFLOW_TRACKING_URI=${s.base}`);
        // every copy button is a labelled, keyboard-reachable button
        const labels = await page.$$eval('.first-run button.copy', (bs) => bs.map((b) => b.getAttribute('aria-label')));
        assert.equal(labels.length, 5);
        await screenshot(page, 'first-run');
        await page.setViewportSize({ width: 390, height: 800 });
        await screenshot(page, 'first-run-phone');
        // an empty experiment's runs page shows it too, with that experiment's name
        const exp = await s.api.createExperiment("it's new");
        await page.setViewportSize({ width: 1280, height: 800 });
        await page.goto(`${s.base}/#/runs?exp=${exp}`);
        // (a hash change: wait for the runs page's panel, not the experiments page's)
        await page.waitForSelector('.first-run + .table-wrap table.runs');
        const cli2 = await page.$eval('.first-run', (el) => [...el.querySelectorAll('pre')].map((p) => p.textContent).find((t) => t.includes('exptrack runs create')));
        assert.ok(cli2.includes("--experiment 'it'\\''s new'"), cli2);
        // once a run exists, the experiments page no longer shows it
        await s.api.createRun(exp, { run_name: 'one' });
        await page.goto(`${s.base}/#/experiments`);
        await page.waitForSelector('tr[data-exp] .run-count:not(:has(.muted))');
        assert.equal(await page.$('.first-run'), null);
        await page.close();
    });

    test('the experiment chart view overlays every run of the table, with its filter', async () => {
        await seeded();
        const page = await s.page();
        await page.setViewportSize({ width: 1920, height: 1080 });
        await page.goto(`${s.base}/#/runs?exp=${sweep.expId}&panel=charts`);
        await page.waitForSelector('.runs-panel .chart-card[data-metric="loss"][data-drawn="1"]');
        await page.waitForSelector('.runs-panel .chart-card[data-metric="acc"][data-drawn="1"]');
        assert.equal(await page.getAttribute('.runs-panel .chart-card[data-metric="loss"]', 'data-series'), '24');
        assert.equal(await page.$$eval('table.runs tr[data-run]', (rs) => rs.length), 24);
        assert.ok(await coloredPixels(page, '.runs-panel .chart-card[data-metric="loss"]') > 2000);
        // the charts share the width: side by side on a wide screen
        const boxes = await page.$$eval('.runs-panel .chart-card', (cs) => cs.map((c) => c.getBoundingClientRect()).map((r) => ({ top: r.top, width: r.width })));
        assert.equal(boxes[0].top, boxes[1].top);
        assert.ok(boxes[0].width > 700, `chart width ${boxes[0].width}`);
        // the table's colors: every row has its swatch, in its run's color
        assert.equal(await page.$$eval('table.runs .swatch-toggle[aria-pressed="true"]', (bs) => bs.length), 24);
        await screenshot(page, 'sweep-charts-wide');

        // the table's filter is the charts' filter
        await page.fill('input.filter', "params.lr = '0.1'");
        await page.press('input.filter', 'Enter');
        await page.waitForFunction(() => document.querySelector('.runs-panel .chart-card[data-metric="loss"]')?.dataset.series === '6');
        assert.equal(await page.$$eval('table.runs tr[data-run]', (rs) => rs.length), 6);
        assert.ok(page.url().includes('panel=charts'));
        await page.close();
    });

    test('hiding and highlighting a run from the table; the state is in the URL', async () => {
        await seeded();
        const page = await s.page();
        await page.goto(`${s.base}/#/runs?exp=${sweep.expId}&panel=charts`);
        const card = '.runs-panel .chart-card[data-metric="loss"]';
        await page.waitForSelector(`${card}[data-drawn="1"]`);
        const id = sweep.runIds[0];
        const before = await coloredPixels(page, card);
        // hover: the row and the chart highlight the run
        await page.hover(`tr[data-run="${id}"] td:nth-child(5)`);
        await page.waitForSelector(`${card}[data-lit="${id}"]`);
        assert.ok(await page.$eval(`tr[data-run="${id}"]`, (tr) => tr.classList.contains('lit')));
        await page.mouse.move(5, 5);
        await page.waitForSelector(`${card}[data-lit=""]`);
        // hide, from the keyboard: focus the swatch, press space
        const toggle = `tr[data-run="${id}"] .swatch-toggle`;
        await page.focus(toggle);
        await page.keyboard.press('Space');
        await page.waitForSelector(`${card}[data-hidden="1"]`);
        assert.equal(await page.getAttribute(toggle, 'aria-pressed'), 'false');
        assert.match(await page.getAttribute(toggle, 'aria-label'), /^show sweep-000 in the charts$/);
        assert.ok(page.url().includes(`hide=${id.slice(0, 8)}`), page.url());
        await page.mouse.move(5, 5);
        await page.waitForTimeout(100);
        assert.ok(await coloredPixels(page, card) < before, 'a hidden run is not drawn');
        // a reload keeps it hidden
        await page.reload();
        await page.waitForSelector(`${card}[data-drawn="1"][data-hidden="1"]`);
        assert.equal(await page.getAttribute(toggle, 'aria-pressed'), 'false');
        await page.close();
    });

    test('the charts follow the RUNNING runs', async () => {
        await seeded();
        const page = await s.page();
        await page.goto(`${s.base}/#/runs?exp=${sweep.expId}&panel=charts`);
        const card = '.runs-panel .chart-card[data-metric="loss"]';
        await page.waitForSelector(`${card}[data-drawn="1"]`);
        const points = Number(await page.getAttribute(card, 'data-points'));
        const live = sweep.runIds[23]; // the last three stay RUNNING
        const metrics = [];
        for (let step = 1000; step < 1040; step++) metrics.push({ key: 'loss', value: 0.05, timestamp: Date.now(), step });
        await s.api.ok('POST', '/runs/log-batch', { run_id: live, metrics });
        await page.waitForSelector(`${card}[data-updated]`, { timeout: 8000 });
        // the series was read again: the chart now ends at step 1039
        const last = await page.evaluate(async (id) => {
            const r = await fetch(`/api/2.0/exptrack/metrics/history?run_id=${id}&metric_key=loss&max_points=4`);
            return (await r.json()).series[0].total_points;
        }, live);
        assert.equal(last, 1040);
        assert.ok(Number(await page.getAttribute(card, 'data-points')) >= points - 50);
        await page.close();
    });

    test('parallel coordinates: brushing an axis filters the table', async () => {
        await seeded();
        const page = await s.page();
        await page.goto(`${s.base}/#/runs?exp=${sweep.expId}&panel=parcoords&pm=loss`);
        const plot = await page.waitForSelector('.parcoords canvas');
        assert.equal(await page.getAttribute('.parcoords', 'data-axes'), 'params.batch,params.dropout,params.lr,metrics.loss');
        assert.equal(await plot.getAttribute('role'), 'img');
        assert.ok(await coloredPixels(page, '.parcoords') > 1000);
        await screenshot(page, 'sweep-parcoords');
        // drag along the lr axis (the third of four) over its top half: lr 0.1 only
        const box = await plot.boundingBox();
        const x = box.x + 56 + 2 * (box.width - 112) / 3;
        const top = box.y + 34, bottom = box.y + box.height - 26;
        await page.mouse.move(x, top - 2);
        await page.mouse.down();
        await page.mouse.move(x, (top + bottom) / 2, { steps: 5 });
        await page.mouse.up();
        await page.waitForFunction(() => location.hash.includes('brush=params.lr'));
        await page.waitForFunction(() => document.querySelectorAll('table.runs tr[data-run]').length === 6);
        const lrs = await page.$$eval('table.runs tr[data-run]', (rs) => rs.map((r) => r.dataset.run));
        const expected = sweep.runIds.filter((_, i) => sweepParams(i).lr === '0.1');
        assert.deepEqual(new Set(lrs), new Set(expected));
        assert.match(await page.textContent('.brush-bar'), /params\.lr 0\.0[0-9]+ – 0\.1/);
        assert.match(await page.textContent('.status-line[role=status]:last-of-type, .toolbar .status-line'), /6 in the brushed ranges/);
        // hovering a row highlights its line
        await page.hover(`tr[data-run="${expected[0]}"] td:nth-child(5)`);
        await page.waitForSelector(`.parcoords[data-lit="${expected[0]}"]`);
        // the chip removes the brush
        await page.click('button[aria-label="remove the brush of params.lr"]');
        await page.waitForFunction(() => document.querySelectorAll('table.runs tr[data-run]').length === 24);
        assert.ok(!page.url().includes('brush='));
        await page.close();
    });

    test('parallel coordinates at desktop width keep full tick labels', async () => {
        await seeded();
        const page = await s.page();
        await page.goto(`${s.base}/#/runs?exp=${sweep.expId}&panel=parcoords`);
        await page.waitForSelector('.parcoords canvas');
        assert.equal(await page.getAttribute('.parcoords canvas', 'data-narrow'), '');
        await page.close();
    });

    test('parallel coordinates by keyboard: Tab to an axis, arrows brush it, Escape clears', async () => {
        await seeded();
        const page = await s.page();
        await page.goto(`${s.base}/#/runs?exp=${sweep.expId}&panel=parcoords&pm=loss`);
        await page.waitForSelector('.parcoords canvas');
        await page.waitForFunction(() => document.querySelectorAll('table.runs tr[data-run]').length === 24);
        const active = () => page.evaluate(() => document.activeElement?.dataset?.axis || document.activeElement?.tagName);
        // the axes follow the canvas in the tab order: batch, dropout, lr
        await page.focus('.parcoords canvas');
        for (let i = 0; i < 3; i++) await page.keyboard.press('Tab');
        assert.equal(await active(), 'params.lr');
        assert.match(await page.getAttribute('.pc-axis[data-axis="params.lr"]', 'aria-label'), /^axis lr: no brush\. Arrow keys/);
        // ArrowDown starts at the top value: lr 0.1, 6 runs; the focus stays on the axis after the page applies it
        await page.keyboard.press('ArrowDown');
        await page.waitForFunction(() => location.hash.includes('brush=params.lr%3A0.1%3A0.1'));
        await page.waitForFunction(() => document.querySelectorAll('table.runs tr[data-run]').length === 6);
        const only = sweep.runIds.filter((_, i) => sweepParams(i).lr === '0.1');
        assert.deepEqual(new Set(await page.$$eval('table.runs tr[data-run]', (rs) => rs.map((r) => r.dataset.run))), new Set(only));
        await page.waitForFunction(() => document.activeElement?.dataset?.axis === 'params.lr');
        assert.match(await page.getAttribute('.pc-axis[data-axis="params.lr"]', 'aria-label'), /^axis lr: 0\.1\./);
        // Shift+ArrowDown widens it down to 0.03: 12 runs; ArrowDown then moves the pair to 0.01 – 0.03
        await page.keyboard.press('Shift+ArrowDown');
        await page.waitForFunction(() => document.querySelectorAll('table.runs tr[data-run]').length === 12);
        await page.waitForFunction(() => document.activeElement?.dataset?.axis === 'params.lr');
        await page.keyboard.press('ArrowDown');
        await page.waitForFunction(() => location.hash.includes('brush=params.lr%3A0.01%3A0.03'));
        await page.waitForFunction(() => document.activeElement?.dataset?.axis === 'params.lr');
        assert.match(await page.getAttribute('.pc-axis[data-axis="params.lr"]', 'aria-label'), /: 0\.01 – 0\.03\./);
        await screenshot(page, 'sweep-parcoords-keyboard');
        // Escape clears the brush: every run again
        await page.keyboard.press('Escape');
        await page.waitForFunction(() => !location.hash.includes('brush='));
        await page.waitForFunction(() => document.querySelectorAll('table.runs tr[data-run]').length === 24);
        await page.close();
    });

    test('compare: a pinned baseline, deltas in the table, its line drawn wide', async () => {
        await seeded();
        const page = await s.page();
        const ids = sweep.runIds.slice(0, 3);
        await page.goto(`${s.base}/#/compare?runs=${ids.join(',')}`);
        await page.waitForSelector('table.compare');
        assert.equal(await page.$$eval('table.compare .delta', (d) => d.length), 0);
        await page.click('button[aria-label="pin sweep-001 as the baseline"]');
        await page.waitForFunction((id) => location.hash.includes(`base=${id}`), ids[1]);
        await page.waitForSelector('table.compare th.baseline');
        const row = (key) => page.$eval(`xpath=//table[contains(@class,"compare")]//tr[th[text()="${key}"]]`,
            (tr) => [...tr.querySelectorAll('td')].map((td) => td.querySelector('.delta')?.textContent ?? null));
        // lr: 0.1 and 0.01 against the baseline's 0.03
        assert.deepEqual(await row('lr'), ['+0.07 (+233%)', null, '−0.02 (−66.7%)']);
        // an equal value gets no "±0 (±0%)": dropout is 0 in all three
        assert.deepEqual(await row('dropout'), [null, null, null]);
        assert.equal((await row('loss'))[1], null);
        assert.ok((await row('loss'))[0].startsWith('+'));
        assert.equal(await page.getAttribute('button[aria-label="unpin sweep-001 as the baseline"]', 'aria-pressed'), 'true');
        await page.waitForSelector('.chart-card[data-metric="loss"][data-drawn="1"]');
        const labels = await page.$$eval('.chart-card[data-metric="loss"] .u-legend .u-series .u-label', (xs) => xs.slice(1).map((x) => x.textContent.trim()));
        assert.deepEqual(labels, ['sweep-000', 'sweep-001 (baseline)', 'sweep-002']);
        await page.setViewportSize({ width: 1920, height: 1080 });
        await screenshot(page, 'compare-baseline-wide');
        await page.setViewportSize({ width: 390, height: 800 });
        await screenshot(page, 'compare-baseline-phone');
        await page.close();
    });

    test('a sweep of 60 runs is drawn from a coarse read first, then in detail', async () => {
        const big = await seedSweep(s.api, { name: 'wide-sweep', runs: 60, steps: 200, live: 0, keys: ['loss'], concurrency: 6 });
        const page = await s.page();
        const sizes = [];
        page.on('request', (r) => { if (r.url().includes('/metrics/history')) sizes.push(new URL(r.url()).searchParams.get('max_points')); });
        await page.goto(`${s.base}/#/runs?exp=${big.expId}&panel=charts`);
        const card = '.runs-panel .chart-card[data-metric="loss"]';
        await page.waitForSelector(`${card}[data-detail="1"]`);
        assert.equal(await page.getAttribute(card, 'data-series'), '60');
        // one coarse request of 36 points a run per 100 runs, then the detailed one
        assert.equal(sizes[0], '36');
        assert.equal(sizes.length, 2);
        assert.ok(Number(sizes[1]) > 36, `max_points ${sizes}`);
        assert.equal(Number(await page.getAttribute(card, 'data-points')), 60 * 200);
        assert.ok(await coloredPixels(page, card) > 2000);
        // the coarse read went out with the page (runs-query.js, from app.js), before the chart view was set up
        const t = await page.evaluate(() => ({
            sent: performance.getEntriesByType('resource').find((e) => e.name.includes('/metrics/history'))?.startTime,
            panel: performance.getEntriesByName('exptrack:sweep-start:loss')[0]?.startTime,
        }));
        assert.ok(t.sent < t.panel, `coarse read sent at ${t.sent} ms, the chart view set up at ${t.panel} ms`);
        await page.close();
    });

    test('phone width: the panels stack and nothing overflows the page', async () => {
        await seeded();
        const page = await s.page();
        await page.setViewportSize({ width: 390, height: 800 });
        for (const panel of ['charts', 'parcoords']) {
            await page.goto(`${s.base}/#/runs?exp=${sweep.expId}&panel=${panel}`);
            await page.waitForSelector(panel === 'charts' ? '.runs-panel .chart-card[data-drawn="1"]' : '.parcoords canvas');
            const overflow = await page.evaluate(() => document.querySelector('.runs-panel').scrollWidth - document.querySelector('.runs-panel').clientWidth);
            assert.ok(overflow <= 1, `${panel} panel overflows by ${overflow}px`);
            // the axes are close together here: their tick labels are cut to 3 digits, the last axis's on its right
            if (panel === 'parcoords') assert.equal(await page.getAttribute('.parcoords canvas', 'data-narrow'), '1');
            await screenshot(page, `sweep-${panel}-phone`);
        }
        await page.close();
    });

    test('no console errors on any of these pages', () => {
        assert.deepEqual(s.errors, []);
    });
});
