// Browser timing of the model page (issue 17): a registered model with
// BENCH_VERSIONS versions (default 500), cold loads of #/model/<name> in a
// fresh browser context each (empty cache, new connections), median of
// BENCH_REPEAT (5). Ready = the first page of versions (100 rows) is in the
// table and its first frame painted. Goal: < 1 s.
// Data is created through the API (tests/browser/models-data.mjs).
import { startPostgres, startServer, client } from '../api/harness.mjs';
import { launchChromium } from '../browser/helpers.mjs';
import { seedModels } from '../browser/models-data.mjs';

const VERSIONS = Number(process.env.BENCH_VERSIONS || 500);
const REPEAT = Number(process.env.BENCH_REPEAT || 5);
const GOAL_MS = 1000;

function median(xs) {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)];
}

/** In the page before its scripts: tells the bench when n version rows are shown and painted. */
function watchReady({ n }) {
    const mo = new MutationObserver(() => {
        if (window.__benchReady !== undefined || document.querySelectorAll('table.versions tr[data-version]').length < n) return;
        window.__benchReady = performance.now();
        mo.disconnect();
        requestAnimationFrame(() => {
            const ch = new MessageChannel();
            ch.port1.onmessage = () => { window.__benchFrame = performance.now(); window.__benchSeen(); };
            ch.port2.postMessage(0);
        });
    });
    mo.observe(document, { subtree: true, childList: true });
}

const pg = await startPostgres();
let srv, browser;
try {
    srv = await startServer({ databaseUrl: pg.url });
    const api = client(srv.url);
    const t0 = Date.now();
    const data = await seedModels(api, srv.url, { bigVersions: VERSIONS });
    console.log(`created a model with ${VERSIONS} versions (and the test models) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    browser = await launchChromium();
    const url = `${srv.url}/#/model/${data.big}`;
    const rows = Math.min(100, VERSIONS);
    const walls = [], navs = [];
    for (let r = 0; r < REPEAT; r++) {
        const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
        try {
            const page = await ctx.newPage();
            let seen;
            const shown = new Promise((resolve) => { seen = resolve; });
            await page.exposeFunction('__benchSeen', () => seen(Date.now()));
            await page.addInitScript(watchReady, { n: rows });
            const start = Date.now();
            await page.goto(url, { waitUntil: 'commit' });
            let timer;
            const end = await Promise.race([shown, new Promise((_, reject) => {
                timer = setTimeout(() => reject(new Error(`${url}: not ready after 60 s`)), 60000);
            })]).finally(() => clearTimeout(timer));
            const nav = await page.evaluate(() => window.__benchFrame);
            if (process.env.BENCH_VERBOSE) {
                console.log(await page.evaluate(() => performance.getEntriesByType('resource').map((e) => `${e.name.replace(/^.*\/(api\/2\.0|static)\//, '').slice(0, 60)} @${Math.round(e.startTime)}+${Math.round(e.duration)}`)
                    .concat(performance.getEntriesByType('mark').map((m) => `${m.name} @${Math.round(m.startTime)}`)).join('\n    ')));
            }
            walls.push(end - start);
            navs.push(Math.round(nav));
            console.log(`  model page ${r + 1} cold: wall ${end - start} ms (navigation start to painted ${Math.round(nav)} ms)`);
        } finally {
            await ctx.close();
        }
    }
    const w = median(walls);
    console.log(`model page (${VERSIONS} versions, first page of ${rows}, cold page load): median ${w} ms of [${walls.join(', ')}] `
        + `${w < GOAL_MS ? 'OK' : 'SLOWER THAN GOAL'} (goal ${GOAL_MS} ms); navigation start to painted median ${median(navs)} ms`);
} finally {
    if (browser) await browser.close();
    if (srv) await srv.stop();
    await pg.destroy();
}
