// Look and feel: the dark theme follows the system, a phone-sized window
// stays usable, keyboard navigation works, empty and error states show words.
import { test, describe, before, after } from 'node:test';
import { useBrowserStack, seed, screenshot, assert, coloredPixels } from './helpers.mjs';

describe('look and feel', () => {
    const s = useBrowserStack({ before, after });
    let data;
    before(async () => { data = await seed(s.api); }, { timeout: 60000 });

    test('dark theme when the system prefers it', async () => {
        const page = await s.page();
        await page.emulateMedia({ colorScheme: 'dark' });
        await page.goto(`${s.base}/#/run/${data.runs.fast}`);
        await page.waitForSelector('.chart-card[data-metric="loss"][data-drawn="1"]');
        const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
        const [r, g, b] = bg.match(/\d+/g).map(Number);
        assert.ok(r + g + b < 150, `dark background, got ${bg}`);
        assert.ok(await coloredPixels(page, '.chart-card[data-metric="loss"]') > 200);
        await screenshot(page, 'run-dark');
        await page.goto(`${s.base}/#/runs?exp=${data.expId}`);
        await page.waitForSelector('table.runs tr[data-run]');
        await screenshot(page, 'runs-dark');
        await page.goto(`${s.base}/#/experiments`);
        await page.waitForSelector('table.experiments tr[data-exp] .run-count .badge');
        await screenshot(page, 'experiments-dark');
        await page.goto(`${s.base}/#/compare?runs=${data.runs.fast},${data.runs.medium},${data.runs.slow}&gb=params.model`);
        await page.waitForSelector('.chart-card[data-metric="loss"][data-drawn="1"]');
        assert.ok(await coloredPixels(page, '.chart-card[data-metric="loss"]') > 200);
        await screenshot(page, 'compare-dark');
        await page.close();
    });

    test('a phone-sized window shows the runs and a run without overflowing the page', async () => {
        const page = await s.page();
        await page.setViewportSize({ width: 390, height: 844 });
        await page.goto(`${s.base}/#/runs?exp=${data.expId}`);
        await page.waitForSelector('table.runs tr[data-run]');
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 1, `page scrolls sideways by ${overflow}px (the table may scroll inside its box)`);
        await screenshot(page, 'runs-phone');
        await page.goto(`${s.base}/#/run/${data.runs.fast}`);
        await page.waitForSelector('.chart-card[data-metric="acc"]');
        await page.locator('.chart-card[data-metric="acc"]').scrollIntoViewIfNeeded(); // below the fold here
        await page.waitForSelector('.chart-card[data-metric="acc"][data-drawn="1"]');
        const width = await page.$eval('.chart-card[data-metric="acc"]', (c) => c.getBoundingClientRect().width);
        assert.ok(width <= 390 && width > 300, `chart card width ${width}`);
        assert.ok(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth) <= 1);
        await screenshot(page, 'run-phone');
        await page.close();
    });

    test('long breadcrumbs at phone width end in an ellipsis, whole in their title', async () => {
        const long = `a-very-long-experiment-name-that-cannot-fit-${'x'.repeat(60)}`;
        const exp = await s.api.createExperiment(long);
        const run = (await s.api.createRun(exp, { run_name: `an-equally-long-run-name-${'y'.repeat(60)}` })).info.run_id;
        const page = await s.page();
        await page.setViewportSize({ width: 390, height: 844 });
        await page.goto(`${s.base}/#/run/${run}`);
        await page.waitForFunction((n) => document.querySelector(`#crumbs a.crumb[title="${n}"]`), long);
        const crumbs = await page.$$eval('#crumbs .crumb', (els) => els.map((e) => ({
            text: e.textContent, title: e.title, cut: e.scrollWidth > e.clientWidth, ellipsis: getComputedStyle(e).textOverflow, right: e.getBoundingClientRect().right,
        })));
        const exCrumb = crumbs.find((c) => c.title === long);
        assert.equal(exCrumb.text, long, 'the text is whole; CSS cuts it');
        assert.ok(exCrumb.cut, 'the long crumb is cut');
        assert.equal(exCrumb.ellipsis, 'ellipsis');
        const box = await page.$eval('#crumbs', (e) => e.getBoundingClientRect().right);
        for (const c of crumbs) assert.ok(c.right <= box + 1, `${c.title.slice(0, 20)} ends inside the bar`);
        assert.ok(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth) <= 1);
        await screenshot(page, 'crumbs-phone');
        await page.close();
    });

    test('a phone-sized window shows the experiments and the compare view without overflowing', async () => {
        const page = await s.page();
        await page.setViewportSize({ width: 390, height: 844 });
        const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        await page.goto(`${s.base}/#/experiments`);
        await page.waitForSelector('table.experiments tr[data-exp] .run-count .badge');
        assert.ok(await overflow() <= 1, `experiments page scrolls sideways by ${await overflow()}px`);
        await screenshot(page, 'experiments-phone');
        await page.goto(`${s.base}/#/compare?runs=${data.runs.fast},${data.runs.medium}`);
        await page.waitForSelector('.chart-card[data-metric="loss"]');
        await page.locator('.chart-card[data-metric="loss"]').scrollIntoViewIfNeeded(); // below the table here
        await page.waitForSelector('.chart-card[data-metric="loss"][data-drawn="1"]');
        assert.ok(await overflow() <= 1, `compare view scrolls sideways by ${await overflow()}px`);
        await screenshot(page, 'compare-phone');
        await page.close();
    });

    test('phone width: search and filter boxes get a whole line, the panel tabs one line each', async () => {
        const page = await s.page();
        await page.setViewportSize({ width: 390, height: 844 });
        await page.goto(`${s.base}/#/experiments`);
        await page.waitForSelector('table.experiments tr[data-exp]');
        const width = (sel) => page.$eval(sel, (e) => e.getBoundingClientRect().width);
        assert.ok(await width('input[aria-label="search experiments"]') > 300, 'the experiment search box is wide enough to read');
        assert.ok(await width('input[aria-label="new experiment name"]') > 200, 'the new-name box too');
        await page.goto(`${s.base}/#/runs?exp=${data.expId}&panel=parcoords`);
        await page.waitForSelector('table.runs tr[data-run]');
        assert.ok(await width('.filter-form .filter') > 250, 'the filter box is wide enough to read a filter');
        const tabs = await page.$$eval('.panel-tabs .tab', (ts) => ts.map((t) => { const r = t.getBoundingClientRect(); return { h: r.height, right: r.right, text: t.textContent }; }));
        assert.equal(tabs.length, 3);
        for (const t of tabs) {
            assert.ok(t.h < 30, `tab "${t.text}" on one line (${t.h}px high)`);
            assert.ok(t.right <= 390, `tab "${t.text}" inside the window`);
        }
        assert.ok(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth) <= 1);
        await screenshot(page, 'runs-tabs-phone');
        await page.close();
    });

    test('keyboard on the experiments page: j/k move, Enter opens the runs', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/experiments`);
        await page.waitForSelector('table.experiments tr[data-exp]');
        const order = await page.$$eval('table.experiments tr[data-exp]', (trs) => trs.map((t) => t.dataset.exp));
        await page.keyboard.press('/');
        assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'search experiments');
        await page.evaluate(() => document.activeElement.blur());
        await page.keyboard.press('j');
        await page.keyboard.press('j');
        await page.keyboard.press('k');
        assert.equal(await page.$eval('table.experiments tr.cursor', (tr) => tr.dataset.exp), order[0]);
        await page.keyboard.press('Enter');
        await page.waitForURL(new RegExp(`#/runs\\?exp=${order[0]}$`));
        await page.close();
    });

    test('keyboard: / focuses the filter, j/k move, x selects, Enter opens', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/runs?exp=${data.expId}`);
        await page.waitForSelector('table.runs tr[data-run]');
        await page.keyboard.press('/');
        assert.equal(await page.evaluate(() => document.activeElement.classList.contains('filter')), true);
        await page.keyboard.press('Escape');
        await page.evaluate(() => document.activeElement.blur());
        await page.keyboard.press('j');
        await page.keyboard.press('j');
        await page.keyboard.press('k');
        await page.keyboard.press('j');
        assert.equal(await page.$eval('tr.cursor', (tr) => tr.dataset.run), data.runs.medium);
        await page.keyboard.press('x');
        assert.equal(await page.$eval('tr.cursor input[type=checkbox]', (c) => c.checked), true);
        await page.keyboard.press('Enter');
        await page.waitForURL(new RegExp(`#/run/${data.runs.medium}$`));
        await page.waitForSelector('table.overview');
        await page.close();
    });

    test('empty states and unknown pages say what is going on', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/runs?exp=${data.exp2Id}&filter=${encodeURIComponent("params.nothing = 'x'")}`);
        await page.waitForSelector('table.runs td.empty, .filter-error:not([hidden])');
        await page.goto(`${s.base}/#/nowhere`);
        await page.waitForSelector('.error');
        assert.match(await page.textContent('.error'), /No page/);
        await page.goto(`${s.base}/#/compare`);
        await page.waitForSelector('.empty');
        assert.match(await page.textContent('.empty'), /No runs to compare/);
        await page.close();
    });
});
