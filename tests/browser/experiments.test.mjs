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
