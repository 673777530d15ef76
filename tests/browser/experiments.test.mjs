// The experiments page: the list with last activity, name search, create,
// rename and delete through the UI, checked against the API.
import { test, describe, before, after } from 'node:test';
import { useBrowserStack, seed, screenshot, assert } from './helpers.mjs';

describe('experiments page', () => {
    const s = useBrowserStack({ before, after });
    let data;
    before(async () => { data = await seed(s.api); }, { timeout: 60000 });

    test('lists experiments with their last run, and searches by name', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/`);
        await page.waitForSelector('table.experiments tr[data-exp]');
        const names = await page.$$eval('table.experiments tr[data-exp] a.exp-link', (as) => as.map((a) => a.textContent));
        assert.deepEqual([...names].sort(), ['Default', 'nlp', 'vision']);
        // the last-run column fills in from the newest run (seeded in January 2024)
        await page.waitForFunction(() => document.querySelector('tr[data-exp="1"] .last-run')?.textContent.includes('2024-01-15'));
        // run counts from exptrack/experiments/stats: vision has 3 runs, one of them RUNNING
        const count = (id) => page.$eval(`tr[data-exp="${id}"] .run-count`, (td) => ({ text: td.querySelector('.active-count')?.textContent, running: td.querySelector('.badge')?.textContent ?? null, all: td.textContent }));
        assert.deepEqual(await count(data.expId), { text: '3', running: '1', all: '13' });
        assert.deepEqual(await count(data.exp2Id), { text: '1', running: '1', all: '11' }); // bert-base never ended
        assert.deepEqual(await count('0'), { text: '0', running: null, all: '0' });
        assert.notEqual((await page.textContent(`tr[data-exp="${data.expId}"] .last-activity`)).trim(), '');
        // the counts line up on the right whether or not a running badge stands beside them
        const rights = await page.$$eval('table.experiments tr[data-exp] .active-count', (els) => els.map((e) => e.getBoundingClientRect().right));
        assert.equal(rights.length, 3);
        assert.ok(Math.max(...rights) - Math.min(...rights) <= 1, `count right edges ${rights}`);
        // the top bar's Experiments link is the page's crumb: no second "Experiments" beside it
        assert.equal(await page.$$eval('#crumbs .crumb', (cs) => cs.length), 0);
        await screenshot(page, 'experiments');

        await page.fill('input[type=search]', 'vis');
        const shown = await page.$$eval('table.experiments tr[data-exp] a.exp-link', (as) => as.map((a) => a.textContent));
        assert.deepEqual(shown, ['vision']);
        // the experiment link leads to its runs table
        await page.click('a.exp-link:text("vision")');
        await page.waitForSelector('table.runs tr[data-run]');
        assert.match(page.url(), new RegExp(`#/runs\\?exp=${data.expId}$`));
        await page.close();
    });

    test('counts deleted runs; without the stats extension the last run still shows', async () => {
        const exp = await s.api.createExperiment('counted');
        const runs = [];
        for (let i = 0; i < 3; i++) runs.push((await s.api.createRun(exp, { start_time: Date.UTC(2024, 1, 1) + i })).info.run_id);
        await s.api.ok('POST', '/runs/delete', { run_id: runs[0] });
        const page = await s.page();
        await page.goto(`${s.base}/#/experiments?q=counted`);
        await page.waitForFunction((id) => document.querySelector(`tr[data-exp="${id}"] .deleted-count`), exp);
        assert.equal(await page.$eval(`tr[data-exp="${exp}"] .run-count .active-count`, (td) => td.textContent), '2');
        assert.match(await page.textContent(`tr[data-exp="${exp}"] .deleted-count`), /\+1 deleted/);
        await page.close();

        const old = await s.page();
        await old.route('**/api/2.0/exptrack/experiments/stats**', (route) => route.fulfill({ status: 404, contentType: 'application/json', body: JSON.stringify({ error_code: 'ENDPOINT_NOT_FOUND', message: 'no API endpoint' }) }));
        await old.goto(`${s.base}/#/experiments`);
        await old.waitForFunction((id) => document.querySelector(`tr[data-exp="${id}"] .last-run`)?.textContent.includes('2024-02-01'), exp);
        await old.close();
    });

    test('creates, renames and deletes an experiment', async () => {
        const page = await s.page();
        page.on('dialog', (d) => d.accept());
        await page.goto(`${s.base}/#/experiments`);
        await page.fill('input[aria-label="new experiment name"]', 'made-in-browser');
        await page.click('button:text("Create")');
        await page.waitForURL(/#\/runs\?exp=\d+/);
        const id = new URL(page.url()).hash.match(/exp=(\d+)/)[1];
        assert.equal((await s.api.getExperiment(id)).name, 'made-in-browser');
        await page.waitForSelector('td.empty');

        await page.goto(`${s.base}/#/experiments`);
        const row = `tr[data-exp="${id}"]`;
        await page.click(`${row} button:text("Rename")`);
        await page.fill(`${row} input[aria-label="new name"]`, 'renamed-in-browser');
        await page.click(`${row} button:text("Save")`);
        await page.waitForSelector(`${row} a.exp-link:text("renamed-in-browser")`);
        assert.equal((await s.api.getExperiment(id)).name, 'renamed-in-browser');

        await page.click(`${row} button:text("Delete")`);
        await page.waitForSelector(row, { state: 'detached' });
        assert.equal((await s.api.getExperiment(id)).lifecycle_stage, 'deleted');

        await page.goto(`${s.base}/#/experiments?view=deleted`);
        await page.click(`${row} button:text("Restore")`);
        await page.waitForSelector(row, { state: 'detached' });
        assert.equal((await s.api.getExperiment(id)).lifecycle_stage, 'active');
        assert.deepEqual(s.errors.filter((e) => !/Failed to load resource/.test(e)), []);
        await page.close();
    });
});
