// The runs table's column widths (grid.js): measured from the page's data on
// a canvas, headers in the header's font and values in the body's, with the
// canvas's font switched only between the two. Every header and every value
// shorter than the column cap must show whole (no ellipsis), whichever of
// the two sets a column's width, and the widths must not depend on the
// order in which pages were drawn before (the canvas keeps its font).
import { test, describe, before, after } from 'node:test';
import { useBrowserStack, assert } from './helpers.mjs';

describe('runs table column widths', () => {
    const s = useBrowserStack({ before, after });
    let expId;
    before(async () => {
        expId = await s.api.createExperiment('widths');
        const runs = [
            // a long run name and a long value: the body text sets these widths
            { name: 'WWWWWWWWWWWWWWWW-long-run-name', params: { WIDEKEY: '1', opt: 'adamw-with-decoupled-weight-decay' }, loss: 0.5 },
            // short texts: the headers (bold, 12px) set the widths
            { name: 'r', params: { WIDEKEY: '2', opt: 'sgd' }, loss: 0.25 },
        ];
        for (const [i, r] of runs.entries()) {
            const run = await s.api.createRun(expId, { run_name: r.name, start_time: Date.UTC(2024, 0, 1) + i * 1000 });
            await s.api.ok('POST', '/runs/log-batch', {
                run_id: run.info.run_id,
                params: Object.entries(r.params).map(([key, value]) => ({ key, value })),
                metrics: [{ key: 'a_metric_with_a_long_header_name', value: r.loss, timestamp: Date.UTC(2024, 0, 1), step: 0 }],
            });
        }
    }, { timeout: 60000 });

    /** Texts cut by their cell: [header or value, shown width, needed width]. */
    const cut = (page) => page.$$eval('table.runs thead th, table.runs tr[data-run] td', (cells) => cells
        .filter((c) => c.scrollWidth > c.clientWidth + 1 && c.clientWidth < 300)
        .map((c) => [c.textContent.trim(), c.clientWidth, c.scrollWidth]));
    const widths = (page) => page.$$eval('table.runs col', (cs) => cs.map((c) => c.style.width));

    test('every header and value fits its column, in its own font', async () => {
        const page = await s.page();
        // narrower than the table: its columns keep their measured widths (not stretched to the page)
        await page.setViewportSize({ width: 480, height: 700 });
        const cols = '&col=params.WIDEKEY&col=params.opt&col=metrics.a_metric_with_a_long_header_name';
        await page.goto(`${s.base}/#/runs?exp=${expId}${cols}`);
        await page.waitForSelector('table.runs[data-rows="2"] tr[data-run]');
        assert.deepEqual(await cut(page), []);
        assert.ok(await page.$eval('table.runs', (t) => t.getBoundingClientRect().width > innerWidth), 'the table is wider than the page');
        const first = await widths(page);
        // the header's font is not the body's: a header of wide capitals measured
        // in the body's font would differ from the one measured in its own
        const fonts = await page.evaluate(() => [getComputedStyle(document.querySelector('table.runs')).font,
            getComputedStyle(document.querySelector('table.runs thead th')).font]);
        assert.notEqual(fonts[0], fonts[1]);
        // another page of the same table drawn after a different one: same widths
        await page.goto(`${s.base}/#/runs?exp=${expId}&col=params.opt`);
        await page.waitForSelector('table.runs[data-rows="2"] th:has-text("opt")');
        await page.waitForFunction(() => !document.querySelector('table.runs th:has(.coltype.metrics)'));
        assert.deepEqual(await cut(page), []);
        await page.goto(`${s.base}/#/runs?exp=${expId}${cols}`);
        await page.waitForSelector('table.runs[data-rows="2"] th .coltype.metrics');
        assert.deepEqual(await widths(page), first);
        await page.close();
    });

    test('no console errors', () => {
        assert.deepEqual(s.errors, []);
    });
});
