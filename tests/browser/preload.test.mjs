// What the runs page and its chart view fetch before they are drawn: the
// modules app.js asks for at once (modulepreload) are the view's static
// import graph, no more and no less, and index.html's are app.js's own
// graph; and the chart view's first (coarse) reads of several metrics are
// one request per 100 runs, for all of them.
import { test, describe, before, after } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { useBrowserStack, assert } from './helpers.mjs';
import { seedSweep } from './sweep.mjs';
import { REPO_ROOT } from '../api/harness.mjs';

const WEB = path.join(REPO_ROOT, 'web');
const UPLOT = '/static/vendor/uplot/uPlot.esm.js';

/** The file on disk of a /static/ path (uPlot's is the npm package's, without imports). */
function source(p) {
    if (p === UPLOT) return path.join(WEB, 'node_modules/uplot/dist/uPlot.esm.js');
    return path.join(WEB, p.replace(/^\/static\//, ''));
}

/** The /static/ paths of the modules that entry imports statically, itself included. */
function staticGraph(entry) {
    const seen = new Set();
    const queue = [entry];
    while (queue.length) {
        const p = queue.pop();
        if (seen.has(p)) continue;
        seen.add(p);
        const text = fs.readFileSync(source(p), 'utf8');
        for (const m of text.matchAll(/^import [^'"]*['"](\.[^'"]+)['"]/gm)) queue.push(new URL(m[1], `http://x${p}`).pathname);
    }
    return seen;
}

const minus = (a, b) => [...a].filter((x) => !b.has(x)).sort();

/**
 * In the page before its scripts: the paths of the modulepreload links that
 * app.js's route() adds for the first view, in one batch of DOM changes (the
 * page's own are index.html's, with relative hrefs; app.js's are absolute).
 */
function recordPreloads() {
    window.__preloads = null;
    const mo = new MutationObserver((records) => {
        const links = records.flatMap((r) => [...r.addedNodes])
            .filter((n) => n.nodeName === 'LINK' && n.rel === 'modulepreload' && /^https?:/.test(n.getAttribute('href')));
        if (!links.length || window.__preloads) return;
        window.__preloads = links.map((l) => new URL(l.href).pathname);
        mo.disconnect();
    });
    mo.observe(document, { childList: true, subtree: true });
}

describe('the runs page: modules and first reads before it is drawn', () => {
    const s = useBrowserStack({ before, after });
    let sweep;
    before(async () => {
        sweep = await seedSweep(s.api, { name: 'preload-sweep', runs: 60, steps: 200, live: 0, keys: ['loss', 'acc'], concurrency: 6 });
    }, { timeout: 180000 });

    test('index.html preloads exactly the modules app.js imports', async () => {
        const index = fs.readFileSync(path.join(WEB, 'index.html'), 'utf8');
        const listed = new Set([...index.matchAll(/<link rel="modulepreload" href="([^"]+)"/g)].map((m) => m[1]));
        const graph = staticGraph('/static/js/app.js');
        graph.delete('/static/js/app.js');
        assert.deepEqual([...listed].sort(), [...graph].sort());
    });

    for (const [what, query, entries] of [
        ['the runs table', '', ['/static/js/runs.js']],
        ['the chart view', '&panel=charts', ['/static/js/runs.js', '/static/js/runs-panel.js']],
    ]) {
        test(`${what} asks at once for its whole import graph and nothing else`, async () => {
            const page = await s.page();
            await page.addInitScript(recordPreloads);
            await page.goto(`${s.base}/#/runs?exp=${sweep.expId}${query}`);
            await page.waitForSelector('table.runs tbody tr');
            const asked = await page.evaluate(() => window.__preloads);
            assert.ok(asked, 'app.js added modulepreload links');
            const loaded = staticGraph('/static/js/app.js');
            const graph = new Set(entries.flatMap((e) => [...staticGraph(e)]));
            // what app.js asked for and the page does not import before its
            // first drawing, and what it imports that app.js did not ask for
            assert.deepEqual(minus(new Set(asked), graph), [], 'preloaded but not in the graph');
            assert.deepEqual(minus(graph, new Set([...asked, ...loaded])), [], 'in the graph but not preloaded');
            await page.close();
        });
    }

    test('the chart view reads every metric of 100 runs in one coarse request, then each in detail', async () => {
        const page = await s.page();
        const reqs = [];
        page.on('request', (r) => {
            if (!r.url().includes('/metrics/history')) return;
            const q = new URL(r.url()).searchParams;
            reqs.push({ points: q.get('max_points'), keys: q.getAll('metric_key').sort().join(','), runs: q.getAll('run_id').length });
        });
        await page.goto(`${s.base}/#/runs?exp=${sweep.expId}&panel=charts&cm=loss&cm=acc`);
        for (const key of ['loss', 'acc']) {
            const card = `.runs-panel .chart-card[data-metric="${key}"]`;
            await page.waitForSelector(`${card}[data-detail="1"]`);
            assert.equal(await page.getAttribute(card, 'data-series'), '60');
            // the detail: every point of 200 steps a run
            assert.equal(Number(await page.getAttribute(card, 'data-points')), 60 * 200);
        }
        const coarse = reqs.filter((r) => r.points === '36');
        assert.deepEqual(coarse, [{ points: '36', keys: 'acc,loss', runs: 60 }]);
        // each chart's detailed read, one per metric
        assert.deepEqual(reqs.filter((r) => r.points !== '36').map((r) => r.keys).sort(), ['acc', 'loss']);
        assert.deepEqual(s.errors, []);
        await page.close();
    });
});
