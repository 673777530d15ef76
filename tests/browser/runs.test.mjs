// The runs table: rows and values, status badges, columns, server-side sort,
// a filter and a filter error shown inline, paging, selection to compare,
// delete and restore.
import { test, describe, before, after } from 'node:test';
import { useBrowserStack, seed, screenshot, assert, serverFilters, columnTexts } from './helpers.mjs';

describe('runs table', () => {
    const s = useBrowserStack({ before, after });
    let data, filters;
    before(async () => { data = await seed(s.api); filters = await serverFilters(s.api); }, { timeout: 60000 });

    const headerIndex = (page, text) => page.$$eval('table.runs thead th', (ths, t) => ths.findIndex((th) => th.textContent.replace(/[▲▼]/g, '').trim().endsWith(t)), text);

    test('shows every run with status, duration and chosen columns', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/runs?exp=${data.expId}`);
        await page.waitForSelector('table.runs tr[data-run]');
        const names = await page.$$eval('table.runs a.run-link', (as) => as.map((a) => a.textContent));
        assert.deepEqual(names, ['slow', 'medium', 'fast']); // default order: newest start first
        const badges = await page.$$eval('table.runs .badge', (bs) => bs.map((b) => b.textContent));
        assert.deepEqual(badges, ['RUNNING', 'FAILED', 'FINISHED']);
        const lr = await columnTexts(page, await headerIndex(page, 'lr'));
        assert.deepEqual(lr, ['0.001', '0.01', '0.1']);
        const dur = await columnTexts(page, await headerIndex(page, 'Duration'));
        assert.equal(dur[2], '1 min 40 s');
        assert.equal(dur[1], '1 min 45 s');
        const loss = await columnTexts(page, await headerIndex(page, 'loss'));
        assert.equal(loss.length, 3);
        assert.ok(loss.every((v) => Number.isFinite(Number(v))), `loss column: ${loss}`);
        await screenshot(page, 'runs');
        await page.close();
    });

    test('column picker chooses the columns and keeps them in the URL', async () => {
        const page = await s.page();
        const searches = [];
        page.on('request', (r) => { if (r.url().endsWith('/runs/search')) searches.push(r.postDataJSON()); });
        await page.goto(`${s.base}/#/runs?exp=${data.expId}&col=params.model`);
        await page.waitForSelector('table.runs tr[data-run]');
        assert.ok(await headerIndex(page, 'model') > 0);
        // only the chosen columns' values are asked for
        assert.deepEqual([searches.at(-1).metric_keys, searches.at(-1).param_keys], [[], ['model']]);
        assert.equal(await headerIndex(page, 'lr'), -1);
        await page.click('button.cols-button');
        await page.click('.picker label:has-text("val/loss") input');
        await page.click('.picker button:text("Apply")');
        await page.waitForFunction(() => decodeURIComponent(location.hash).includes('col=metrics.val/loss'));
        // the old table stays up until the new page of runs arrives: wait for the new header
        await page.waitForFunction(() => [...document.querySelectorAll('table.runs thead th')].some((th) => th.textContent.includes('val/loss')));
        await page.waitForSelector('table.runs tr[data-run]');
        assert.ok(await headerIndex(page, 'val/loss') > 0);
        assert.ok(await headerIndex(page, 'model') > 0);
        assert.deepEqual([searches.at(-1).metric_keys, searches.at(-1).param_keys], [['val/loss'], ['model']]);
        await page.close();
    });

    test('sorts by a metric on the server when the header is clicked', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/runs?exp=${data.expId}&col=metrics.loss&col=params.lr`);
        await page.waitForSelector('table.runs tr[data-run]');
        await page.click('table.runs th.sortable a:has-text("loss")');
        await page.waitForFunction(() => location.hash.includes('order='));
        const hashParams = new URLSearchParams(new URL(page.url()).hash.split('?')[1]);
        assert.equal(hashParams.get('order'), 'metrics.loss DESC');
        if (!filters) {
            // a server without order_by support says so inline
            await page.waitForSelector('.filter-error:not([hidden])');
            return;
        }
        await page.waitForSelector('th.sorted-desc');
        assert.deepEqual(await page.$$eval('table.runs a.run-link', (as) => as.map((a) => a.textContent)), ['slow', 'medium', 'fast']);
        await page.click('table.runs th.sortable a:has-text("loss")');
        await page.waitForSelector('th.sorted-asc');
        assert.deepEqual(await page.$$eval('table.runs a.run-link', (as) => as.map((a) => a.textContent)), ['fast', 'medium', 'slow']);
        await page.click('table.runs th.sortable a:has-text("Run")');
        await page.waitForSelector('th.sorted-desc a:has-text("Run")');
        assert.deepEqual(await page.$$eval('table.runs a.run-link', (as) => as.map((a) => a.textContent)), ['slow', 'medium', 'fast']);
        await page.close();
    });

    test('filters with the MLflow language and shows the server error inline', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/runs?exp=${data.expId}`);
        await page.waitForSelector('table.runs tr[data-run]');
        await page.fill('input.filter', "params.model = 'resnet'");
        await page.press('input.filter', 'Enter');
        await page.waitForFunction(() => location.hash.includes('filter='));
        if (filters) {
            await page.waitForFunction(() => document.querySelectorAll('table.runs tr[data-run]').length === 2);
            assert.deepEqual(await page.$$eval('table.runs a.run-link', (as) => as.map((a) => a.textContent)), ['medium', 'fast']);
        }
        // a malformed filter: the server's own message appears under the box
        await page.fill('input.filter', 'metrics.loss <<< 1');
        await page.press('input.filter', 'Enter');
        await page.waitForSelector('.filter-error:not([hidden])');
        const direct = await s.api.post('/runs/search', { experiment_ids: [data.expId], filter: 'metrics.loss <<< 1' });
        assert.equal(direct.status, 400, direct.text);
        const shown = await page.textContent('.filter-error .server-message');
        assert.equal(shown, direct.json.message);
        assert.ok(await page.$eval('input.filter', (i) => i.classList.contains('invalid')));
        const col = Number(direct.json.message.match(/at column (\d+)/)?.[1]);
        if (col) assert.equal(await page.textContent('.filter-caret'), `metrics.loss <<< 1\n${' '.repeat(col - 1)}^`);
        await screenshot(page, 'runs-filter-error');
        await page.close();
    });

    test('pages through runs', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/runs?exp=${data.expId}&size=25`);
        await page.waitForSelector('table.runs tr[data-run]');
        assert.equal(await page.$eval('.pager .next', (b) => b.disabled), true);
        // more runs than a page: 30 quick ones
        const exp = await s.api.createExperiment('many');
        for (let i = 0; i < 30; i++) await s.api.createRun(exp, { run_name: `r${String(i).padStart(2, '0')}`, start_time: 1700000000000 + i });
        await page.goto(`${s.base}/#/runs?exp=${exp}&size=25`);
        await page.waitForFunction(() => document.querySelectorAll('table.runs tr[data-run]').length === 25);
        assert.equal(await page.textContent('.status-line'), 'Runs 1–25');
        assert.equal(await page.textContent('table.runs a.run-link'), 'r29');
        await page.click('.pager .next');
        await page.waitForFunction(() => document.querySelectorAll('table.runs tr[data-run]').length === 5);
        assert.equal(await page.textContent('table.runs a.run-link'), 'r04');
        assert.equal(await page.textContent('.status-line'), 'Runs 26–30');
        await page.click('.pager button:text("Previous")');
        await page.waitForFunction(() => document.querySelectorAll('table.runs tr[data-run]').length === 25);
        await page.close();
    });

    test('a long page draws the rows near the viewport and keeps widths and selection while scrolling', async () => {
        const exp = await s.api.createExperiment('long-page');
        const names = [];
        for (let i = 0; i < 120; i++) names.push((await s.api.createRun(exp, { run_name: `w${String(i).padStart(3, '0')}`, start_time: 1700000000000 + i })).info.run_name);
        const page = await s.page();
        await page.goto(`${s.base}/#/runs?exp=${exp}`); // pages of 100
        await page.waitForSelector('table.runs[data-rows="100"] tr[data-run]');
        const drawn = () => page.$$eval('table.runs a.run-link', (as) => as.map((a) => a.textContent));
        const widths = () => page.$$eval('table.runs thead th', (ths) => ths.map((t) => Math.round(t.getBoundingClientRect().width)));
        const before = await widths();
        // after the first frame the rows beyond the viewport's edge follow, not all 100
        await page.waitForFunction(() => document.querySelectorAll('table.runs tr[data-run]').length > 25);
        let shown = await drawn();
        assert.equal(shown[0], 'w119');
        assert.ok(shown.length < 80, `${shown.length} rows drawn of 100`);
        // the page is as tall as 100 rows: the scroll bar is honest
        const rowHeight = await page.$eval('table.runs tr[data-run]', (tr) => tr.getBoundingClientRect().height);
        const tbodyHeight = await page.$eval('table.runs tbody', (b) => b.getBoundingClientRect().height);
        assert.ok(Math.abs(tbodyHeight - 100 * rowHeight) < 100 * 2, `tbody ${tbodyHeight}px for 100 rows of ${rowHeight}px`);
        await page.check('input[aria-label="select all runs"]');
        assert.equal(await page.textContent('.bulk strong'), '100 selected');
        // to the bottom: the last rows are drawn, the first ones are gone
        await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
        await page.waitForFunction(() => [...document.querySelectorAll('table.runs a.run-link')].some((a) => a.textContent === 'w020'));
        shown = await drawn();
        assert.ok(!shown.includes('w119'), 'the top rows left the DOM');
        assert.equal(shown.at(-1), 'w020');
        // assistive technology hears of all 100 rows and where a drawn one sits
        assert.equal(await page.getAttribute('table.runs', 'aria-rowcount'), '101');
        assert.equal(await page.$$eval('table.runs tbody tr[data-run]', (trs) => trs.at(-1).getAttribute('aria-rowindex')), '101');
        assert.ok(await page.$eval('tr[data-run] input[type=checkbox]', (c) => c.checked), 'a row drawn after select all shows it selected');
        assert.deepEqual(await widths(), before, 'column widths do not move');
        // j/k bring the cursor's row back into view from anywhere
        await page.evaluate(() => window.scrollTo(0, 0));
        await page.waitForFunction(() => [...document.querySelectorAll('table.runs a.run-link')].some((a) => a.textContent === 'w119'));
        await page.evaluate(() => document.activeElement.blur()); // keys typed in a checkbox are not commands
        for (let i = 0; i < 70; i++) await page.keyboard.press('j');
        assert.equal(await page.$eval('tr.cursor a.run-link', (a) => a.textContent), 'w050');
        const y = await page.$eval('tr.cursor', (tr) => tr.getBoundingClientRect().bottom);
        assert.ok(y <= await page.evaluate(() => innerHeight) + 1, `cursor row in view (bottom ${y})`);
        await page.keyboard.press('x');
        assert.equal(await page.textContent('.bulk strong'), '99 selected');
        await screenshot(page, 'runs-long-page');
        await page.close();
    });

    test('selects runs to compare, deletes and restores them', async () => {
        const page = await s.page();
        page.on('dialog', (d) => d.accept());
        await page.goto(`${s.base}/#/runs?exp=${data.expId}`);
        await page.waitForSelector('table.runs tr[data-run]');
        await page.check(`tr[data-run="${data.runs.fast}"] input[type=checkbox]`);
        await page.check(`tr[data-run="${data.runs.slow}"] input[type=checkbox]`);
        const compareHref = await page.getAttribute('a.compare-link', 'href');
        assert.equal(compareHref, `#/compare?runs=${encodeURIComponent(`${data.runs.fast},${data.runs.slow}`)}`);
        await page.click('button:text("Delete")');
        await page.waitForFunction(() => document.querySelectorAll('table.runs tr[data-run]').length === 1);
        assert.equal((await s.api.getRun(data.runs.fast)).info.lifecycle_stage, 'deleted');
        await page.selectOption('select[aria-label=lifecycle]', 'deleted');
        await page.waitForFunction(() => document.querySelectorAll('table.runs tr[data-run]').length === 2);
        await page.check('input[aria-label="select all runs"]');
        await page.click('button:text("Restore")');
        await page.waitForFunction(() => document.querySelectorAll('table.runs tr[data-run]').length === 0);
        assert.equal((await s.api.getRun(data.runs.slow)).info.lifecycle_stage, 'active');
        await page.close();
    });

    test('an admin purges deleted runs from the deleted view; others see no Purge', async () => {
        {
            const exp = await s.api.createExperiment('to-purge');
            const ids = [];
            for (let i = 0; i < 3; i++) {
                const id = (await s.api.createRun(exp, { run_name: `p${i}`, start_time: 1700000000000 + i })).info.run_id;
                await s.api.ok('POST', '/runs/log-metric', { run_id: id, key: 'loss', value: i, timestamp: 1, step: 0 });
                ids.push(id);
            }
            for (const id of ids.slice(0, 2)) await s.api.ok('POST', '/runs/delete', { run_id: id });
            const page = await s.page();
            page.on('dialog', (d) => d.accept());
            await page.goto(`${s.base}/#/runs?exp=${exp}&view=deleted`);
            await page.waitForFunction(() => document.querySelectorAll('table.runs tr[data-run]').length === 2);
            await page.check('input[aria-label="select all runs"]');
            await page.waitForSelector('button.purge');
            await screenshot(page, 'runs-deleted-purge');
            await page.click('button.purge');
            await page.waitForSelector('table.runs td.empty');
            for (const id of ids.slice(0, 2)) {
                const r = await s.api.get('/runs/get', { run_id: id });
                assert.equal(r.status, 404, `${id} purged`);
            }
            assert.equal((await s.api.getRun(ids[2])).info.lifecycle_stage, 'active');
            await page.close();
        }
        // a non-admin (the admin-only audit listing answers 403): no Purge button
        const exp = await s.api.createExperiment('not-purgeable');
        const id = (await s.api.createRun(exp)).info.run_id;
        await s.api.ok('POST', '/runs/delete', { run_id: id });
        const page = await s.page();
        await page.route('**/api/2.0/exptrack/audit**', (route) => route.fulfill({ status: 403, contentType: 'application/json', body: JSON.stringify({ error_code: 'PERMISSION_DENIED', message: 'admins only' }) }));
        await page.goto(`${s.base}/#/runs?exp=${exp}&view=deleted`);
        await page.waitForSelector('table.runs tr[data-run]');
        await page.check('input[aria-label="select all runs"]');
        await page.waitForSelector('.bulk button:text("Restore")');
        assert.equal(await page.$('button.purge'), null);
        await page.close();
    });

    test('shift-click selects a range of runs; bulk tag applies to each', async () => {
        const exp = await s.api.createExperiment('ranges');
        for (let i = 0; i < 6; i++) await s.api.createRun(exp, { run_name: `q${i}`, start_time: 1700000000000 + i });
        const page = await s.page();
        await page.goto(`${s.base}/#/runs?exp=${exp}`);
        await page.waitForFunction(() => document.querySelectorAll('table.runs tr[data-run]').length === 6);
        const boxes = page.locator('table.runs tbody input[type=checkbox]');
        await boxes.nth(1).click();
        await boxes.nth(4).click({ modifiers: ['Shift'] });
        assert.equal(await page.textContent('.bulk strong'), '4 selected');
        assert.deepEqual(await page.$$eval('table.runs tr.selected a.run-link', (as) => as.map((a) => a.textContent)), ['q4', 'q3', 'q2', 'q1']);
        await page.fill('.bulk input[aria-label="tag to set"]', 'batch=b1');
        await page.click('.bulk button:text("Tag")');
        await page.waitForFunction(() => !document.querySelector('table.runs tr.selected'));
        const tagged = (await s.api.post('/runs/search', { experiment_ids: [exp], filter: "tags.batch = 'b1'" })).json.runs || [];
        assert.deepEqual(tagged.map((r) => r.info.run_name).sort(), ['q1', 'q2', 'q3', 'q4']);
        await page.close();
    });
});
