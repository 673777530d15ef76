// The experiment chart view A/B of two dashboards on one server binary:
// the same exptrackd started twice on one PostgreSQL and one seeded sweep,
// `--web-dir BENCH_BASE_WEB` (e.g. `git archive <base> web | tar -x -C /tmp/base`,
// with web/node_modules linked in) and `--web-dir web/` of this tree, so only
// web/ differs. Cold loads (fresh browser context each), alternated, of
// panel=charts with the sweep's metrics; ready = every chart drawn. Prints
// per load and as medians: wall clock, navigation start to ready, when the
// runs/search and the first history request were sent, and the page's
// main-thread time (CDP Performance.getMetrics TaskDuration) at ready, the
// figure least moved by other load on the machine.
//
// usage: BENCH_BASE_WEB=/tmp/base/web EXPTRACKD=build-rel/bin/exptrackd node tests/bench/browser_web_ab.mjs
// environment: BENCH_REPEAT=7 BENCH_SWEEP_RUNS=300 BENCH_SWEEP_METRICS=3 BENCH_SWEEP_STEPS=10000
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startPostgres, startServer, client, REPO_ROOT } from '../api/harness.mjs';
import { CHROMIUM } from '../browser/helpers.mjs';
import { seedSweep } from '../browser/sweep.mjs';

const BASE_WEB = process.env.BENCH_BASE_WEB;
if (!BASE_WEB) throw new Error('set BENCH_BASE_WEB to the base commit\'s web/ directory');
const REPEAT = Number(process.env.BENCH_REPEAT || 7);
const RUNS = Number(process.env.BENCH_SWEEP_RUNS || 300);
const STEPS = Number(process.env.BENCH_SWEEP_STEPS || 10000);
const KEYS = ['loss', 'acc', 'val_loss', 'val_acc', 'lr'].slice(0, Number(process.env.BENCH_SWEEP_METRICS || 3));
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

/** In the page before its scripts: the moment every chart is drawn, and the end of that frame, told through __seen. */
function watch(n) {
    const ready = () => document.querySelectorAll('.runs-panel .chart-card[data-drawn="1"]').length === n;
    const mo = new MutationObserver(() => {
        if (window.__ready !== undefined || !ready()) return;
        window.__ready = performance.now();
        mo.disconnect();
        requestAnimationFrame(() => {
            const ch = new MessageChannel();
            ch.port1.onmessage = () => window.__seen();
            ch.port2.postMessage(0);
        });
    });
    mo.observe(document, { subtree: true, childList: true, attributes: true });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pg = await startPostgres();
let browser;
const servers = {};
try {
    servers.base = await startServer({ databaseUrl: pg.url, args: ['--web-dir', BASE_WEB] });
    servers.this = await startServer({ databaseUrl: pg.url, args: ['--web-dir', path.join(REPO_ROOT, 'web')] });
    const t0 = Date.now();
    const sweep = await seedSweep(client(servers.this.url), { name: 'bench-sweep', runs: RUNS, steps: STEPS, live: 0, keys: KEYS, concurrency: 8 });
    console.log(`seeded ${RUNS} runs x ${KEYS.length} metrics x ${STEPS} steps in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const hash = `/#/runs?exp=${sweep.expId}&panel=charts${KEYS.map((k) => `&cm=${k}`).join('')}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 60000 });
    const res = { base: [], this: [] };
    for (let r = 0; r < REPEAT; r++) {
        for (const side of ['base', 'this']) {
            const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
            try {
                const page = await ctx.newPage();
                const cdp = await ctx.newCDPSession(page);
                await cdp.send('Performance.enable');
                let seen;
                const shown = new Promise((resolve) => { seen = resolve; });
                await page.exposeFunction('__seen', () => seen(Date.now()));
                await page.addInitScript(watch, KEYS.length);
                const start = Date.now();
                await page.goto(servers[side].url + hash, { waitUntil: 'commit' });
                let timer;
                const end = await Promise.race([shown, new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('not ready after 60 s')), 60000); })])
                    .finally(() => clearTimeout(timer));
                const m = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((x) => [x.name, x.value]));
                const t = await page.evaluate(() => {
                    const res = performance.getEntriesByType('resource');
                    return {
                        ready: window.__ready,
                        search: res.find((e) => e.name.includes('/runs/search'))?.startTime,
                        history: Math.min(...res.filter((e) => e.name.includes('/metrics/history')).map((e) => e.startTime)),
                    };
                });
                const row = { wall: end - start, nav: t.ready, search: t.search, history: t.history, main: m.TaskDuration * 1000 };
                res[side].push(row);
                console.log(`  ${side} ${r + 1}: ${Object.entries(row).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ')} ms`);
            } finally {
                await ctx.close();
            }
        }
    }
    for (const side of ['base', 'this']) {
        const col = (k) => `${k} ${Math.round(median(res[side].map((x) => x[k])))} [${res[side].map((x) => Math.round(x[k])).join(', ')}]`;
        console.log(`${side === 'base' ? `base (${BASE_WEB})` : 'this tree'}: medians ${['wall', 'nav', 'search', 'history', 'main'].map(col).join('; ')} ms`);
    }
} finally {
    if (browser) await browser.close();
    for (const s of Object.values(servers)) await s.stop();
    await pg.destroy();
}
