// Browser timing benchmark: time to a populated runs table for an experiment
// of BENCH_RUNS runs, and to a drawn chart of a BENCH_POINTS-point metric,
// in headless chromium against a real exptrackd + PostgreSQL. Goal: < 1 s each.
// Then the experiment chart view (the runs page's panel=charts): every run
// of a sweep of BENCH_SWEEP_RUNS runs x BENCH_SWEEP_METRICS metrics x
// BENCH_SWEEP_STEPS steps overlaid, one chart per metric. Goal: < 1.5 s.
// BENCH_PARTS (default "table,chart,sweep") chooses what is measured.
// Data is created through the API (log-batch), in parallel.
// BENCH_BASELINE=<another exptrackd binary> (e.g. a Release build of main)
// measures it too, A/B in one sitting: a second server of that binary on the
// same PostgreSQL and data (its own dashboard is compiled into it), each
// part's loads alternating between the two, and a summary for each.
//
// Every cold load runs in a fresh browser context (empty HTTP cache, no
// compiled-code cache, new connections); a warm load follows in the same
// context (a second tab: static files revalidated from its cache). The
// headline figure is the cold wall clock: Date.now() before page.goto() to
// the moment the bench sees the page ready. It is printed split into
//   pre-nav   before page.goto() -> the page's navigation start (timeOrigin)
//   nav       navigation start -> the page ready (seen in the page itself)
//   paint     the page ready -> the end of the frame that shows it
//   detect    that frame -> the bench told so (a CDP binding call)
import { startPostgres, startServer, client } from '../api/harness.mjs';
import { launchChromium } from '../browser/helpers.mjs';
import { seedSweep } from '../browser/sweep.mjs';

const RUNS = Number(process.env.BENCH_RUNS || 10000);
const POINTS = Number(process.env.BENCH_POINTS || 1000000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY || 8);
const REPEAT = Number(process.env.BENCH_REPEAT || 5);
const VERBOSE = !!process.env.BENCH_VERBOSE;
const SWEEP_RUNS = Number(process.env.BENCH_SWEEP_RUNS || 300);
const SWEEP_METRICS = Number(process.env.BENCH_SWEEP_METRICS || 3);
const SWEEP_STEPS = Number(process.env.BENCH_SWEEP_STEPS || 10000);
const PARTS = new Set((process.env.BENCH_PARTS || 'table,chart,sweep').split(','));
const BASELINE = process.env.BENCH_BASELINE || '';
const GOAL_MS = 1000;
const SWEEP_GOAL_MS = 1500;
// as tests/browser/helpers.mjs sizes its pages
const VIEWPORT = { width: 1280, height: 800 };

async function pool(n, count, fn) {
    let next = 0;
    await Promise.all(Array.from({ length: n }, async () => {
        while (next < count) await fn(next++);
    }));
}

function median(xs) {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)];
}

/**
 * Installed in the page before its scripts: records (performance.now()) the
 * first moment the ready condition holds and the end of the frame after it,
 * then tells the bench through a binding (no polling script in the page).
 * kind 'table': the runs table's page of n runs, rows filling the viewport;
 * 'chart': the big metric drawn.
 */
function watchReady({ kind, n }) {
    // the table holds the page of n runs and its rows fill the viewport (the
    // dashboard draws rows as they scroll near it; all n when they fit)
    const tableReady = () => {
        const rows = document.querySelectorAll('table.runs[data-rows="' + n + '"] tr[data-run]');
        if (!rows.length) return false;
        window.__benchRowsDrawn = rows.length;
        return rows.length === n || rows[rows.length - 1].getBoundingClientRect().bottom >= innerHeight;
    };
    const ready = () => (kind === 'table'
        ? tableReady()
        : kind === 'sweep' // the chart view: its n charts drawn
            ? document.querySelectorAll('.runs-panel .chart-card[data-drawn="1"]').length === n
            : !!document.querySelector('.chart-card[data-metric="big"][data-drawn="1"]'));
    const mo = new MutationObserver(() => {
        if (window.__benchReady !== undefined || !ready()) return;
        window.__benchReady = performance.now();
        mo.disconnect();
        // the frame that shows it: a message posted from its animation frame
        // callback is handled after that frame's style, layout and paint
        requestAnimationFrame(() => {
            const ch = new MessageChannel();
            ch.port1.onmessage = () => {
                window.__benchFrame = performance.now();
                window.__benchSeen();
            };
            ch.port2.postMessage(0);
        });
    });
    mo.observe(document, { subtree: true, childList: true, attributes: true });
    window.__benchLong = [];
    try {
        new PerformanceObserver((l) => window.__benchLong.push(...l.getEntries().map((e) => [e.startTime, e.duration])))
            .observe({ type: 'longtask', buffered: true });
    } catch { /* no long task timing */ }
}

/**
 * Opens url in a new page of ctx and waits until it is ready (see
 * watchReady). Returns {wall, preNav, nav, paint, detect, page} in ms.
 */
async function load(ctx, url, kind, n) {
    const page = await ctx.newPage();
    let seen;
    const shown = new Promise((resolve) => { seen = resolve; });
    await page.exposeFunction('__benchSeen', () => seen(Date.now()));
    await page.addInitScript(watchReady, { kind, n });
    const start = Date.now();
    await page.goto(url, { waitUntil: 'commit' });
    let timer;
    const end = await Promise.race([shown, new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${url}: not ready after 60 s`)), 60000);
    })]).finally(() => clearTimeout(timer));
    const t = await page.evaluate(() => ({ origin: performance.timeOrigin, ready: window.__benchReady, frame: window.__benchFrame, rows: window.__benchRowsDrawn }));
    return {
        rows: t.rows, page, wall: end - start, preNav: t.origin - start, nav: t.ready, paint: t.frame - t.ready, detect: end - (t.origin + t.frame),
    };
}

const fmt = (x) => Math.round(x);
const split = (m) => `wall ${m.wall} ms = pre-nav ${fmt(m.preNav)} + nav ${fmt(m.nav)} + paint ${fmt(m.paint)} + detect ${fmt(m.detect)}`
    + (m.rows ? ` (${m.rows} rows drawn)` : '');

/** The page's performance marks and resource timings, one line. */
async function waterfall(page) {
    const parts = await page.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0];
        return [
            `document @${Math.round(nav.requestStart)}-${Math.round(nav.responseEnd)} dcl @${Math.round(nav.domContentLoadedEventEnd)} load @${Math.round(nav.loadEventEnd)}`,
            `long tasks ${(window.__benchLong || []).map(([t, d]) => `@${Math.round(t)}+${Math.round(d)}`).join(' ') || 'none'}`,
            ...performance.getEntriesByType('mark').filter((m) => m.name.startsWith('exptrack:')).map((m) => `${m.name} @${Math.round(m.startTime)}`),
            ...performance.getEntriesByType('resource').map((e) => {
                const name = e.name.replace(/^.*\/(api\/2\.0|static)\//, '').slice(0, 40);
                const size = e.transferSize ? ` ${(e.transferSize / 1024).toFixed(1)}kB` : e.encodedBodySize ? ' cached' : '';
                return `${name} @${Math.round(e.startTime)}+${Math.round(e.duration)}${size}`;
            })];
    });
    return parts.join(' | ');
}

const pg = await startPostgres();
let srv, base, browser;
try {
    srv = await startServer({ databaseUrl: pg.url });
    if (BASELINE) {
        const own = process.env.EXPTRACKD;
        process.env.EXPTRACKD = BASELINE;
        try {
            base = await startServer({ databaseUrl: pg.url });
        } finally {
            if (own === undefined) delete process.env.EXPTRACKD; else process.env.EXPTRACKD = own;
        }
        console.log(`A/B: this build at ${srv.url}, the baseline (${BASELINE}) at ${base.url}, loads alternated`);
    }
    const api = client(srv.url);
    const t0 = Date.now();
    const exp = await api.createExperiment('bench-wide');
    const runs = PARTS.has('table') || PARTS.has('chart') ? RUNS : 0;
    const points = PARTS.has('chart') ? POINTS : 0;
    await pool(CONCURRENCY, runs, async (i) => {
        const run = await api.createRun(exp, { run_name: `run-${i}`, start_time: 1700000000000 + i * 1000 });
        await api.ok('POST', '/runs/log-batch', {
            run_id: run.info.run_id,
            params: [{ key: 'lr', value: String(10 ** -(i % 5)) }, { key: 'seed', value: String(i) }, { key: 'model', value: `m${i % 7}` }],
            metrics: ['loss', 'acc', 'val/loss', 'val/acc', 'lr'].map((key, k) => ({ key, value: Math.sin(i + k), timestamp: 1700000000000 + i, step: 100 })),
        });
    });
    if (runs) console.log(`created ${RUNS} runs in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const t1 = Date.now();
    const big = await api.createRun(exp, { run_name: 'million', start_time: 1600000000000 });
    const per = 1000;
    await pool(CONCURRENCY, Math.ceil(points / per), async (b) => {
        const metrics = [];
        for (let j = 0; j < per && b * per + j < POINTS; j++) {
            const step = b * per + j;
            metrics.push({ key: 'big', value: Math.exp(-step / POINTS * 5) + 0.05 * Math.sin(step / 50), timestamp: 1600000000000 + step, step });
        }
        await api.ok('POST', '/runs/log-batch', { run_id: big.info.run_id, metrics });
    });
    if (points) console.log(`logged ${POINTS} points in ${((Date.now() - t1) / 1000).toFixed(1)} s`);

    browser = await launchChromium();
    const rows = Math.min(100, RUNS + 1); // a full page: 100 rows, or every run (+ the million-point one)
    const tableUrl = `${srv.url}/#/runs?exp=${exp}&size=100`;
    const chartUrl = `${srv.url}/#/run/${big.info.run_id}`;
    const res = {};
    for (const what of ['table', 'chart', 'sweep']) for (const side of ['', '@baseline']) res[what + side] = { cold: [], warm: [] };
    let sweepUrl = null;
    const metricKeys = ['loss', 'acc', 'val_loss', 'val_acc', 'lr'].slice(0, SWEEP_METRICS);
    if (PARTS.has('sweep')) {
        const t2 = Date.now();
        const sweep = await seedSweep(api, { name: 'bench-sweep', runs: SWEEP_RUNS, steps: SWEEP_STEPS, live: 0, keys: metricKeys, concurrency: CONCURRENCY });
        console.log(`created a sweep of ${SWEEP_RUNS} runs x ${SWEEP_METRICS} metrics x ${SWEEP_STEPS} steps in ${((Date.now() - t2) / 1000).toFixed(1)} s`);
        sweepUrl = `${srv.url}/#/runs?exp=${sweep.expId}&panel=charts${metricKeys.map((k) => `&cm=${k}`).join('')}`;
    }
    const parts = [['table', tableUrl, 'table', rows], ['chart', chartUrl, 'chart', rows], ['sweep', sweepUrl, 'sweep', metricKeys.length]]
        .filter(([what]) => PARTS.has(what))
        .flatMap((p) => (base ? [p, [`${p[0]}@baseline`, base.url + p[1].slice(srv.url.length), ...p.slice(2)]] : [p]));
    for (let r = 0; r < REPEAT; r++) {
        for (const [what, url, kind, n] of parts) {
            const ctx = await browser.newContext({ viewport: VIEWPORT });
            try {
                for (const temp of ['cold', 'warm']) {
                    const historyRequests = [];
                    ctx.on('request', (q) => { if (/metrics\/(history|get-history)/.test(q.url())) historyRequests.push(q.url()); });
                    const m = await load(ctx, url, kind, n);
                    ctx.removeAllListeners('request');
                    res[what][temp].push(m);
                    console.log(`  ${what} ${r + 1} ${temp}: ${split(m)}`);
                    if (kind === 'chart') {
                        // the client's share: one history request, for the chart's pixel width
                        const maxPoints = historyRequests.map((u) => new URL(u).searchParams.get('max_points'));
                        const plotWidth = await m.page.$eval('.chart-card[data-metric="big"] .plot', (p) => p.clientWidth);
                        console.log(`    ${historyRequests.length} history request(s), max_points ${maxPoints.join(',')} for a ${plotWidth} px wide chart${historyRequests.length === 1 ? '' : ' (REDUNDANT REQUESTS)'}`);
                    }
                    if (kind === 'sweep') {
                        // drawn from the coarse read first (300 runs): then the detail, ms after navigation start
                        m.detail = await m.page.evaluate((count) => new Promise((resolve) => {
                            const check = () => (document.querySelectorAll('.runs-panel .chart-card[data-detail="1"]').length === count
                                ? resolve(performance.now()) : setTimeout(check, 20));
                            check();
                        }), n);
                        console.log(`    every chart in detail ${fmt(m.detail)} ms after navigation start`);
                        // the client's share: requests per metric and 100 runs (coarse, then detailed)
                        const series = await m.page.$$eval('.runs-panel .chart-card', (cs) => cs.map((c) => `${c.dataset.metric} ${c.dataset.series} runs ${c.dataset.points} points`));
                        console.log(`    ${historyRequests.length} history request(s); ${series.join('; ')}`);
                    }
                    if (VERBOSE) console.log(`    ${await waterfall(m.page)}`);
                    await m.page.close();
                }
            } finally {
                await ctx.close();
            }
        }
    }
    // the server's share of the chart: the downsampled history request alone
    const apiMs = [];
    for (let r = 0; r < (PARTS.has('chart') ? REPEAT : 0); r++) {
        const s0 = Date.now();
        const resp = await fetch(`${srv.url}/api/2.0/exptrack/metrics/history?run_id=${big.info.run_id}&metric_key=big&max_points=1200`);
        await resp.text();
        apiMs.push(resp.ok ? Date.now() - s0 : NaN);
    }
    if (apiMs.length) console.log(`downsampled history request alone (${POINTS} -> 1200 points): median ${median(apiMs)} ms of [${apiMs.join(', ')}]`);
    const summary = (label, ms, headline, goal = GOAL_MS) => {
        if (!ms.length) return;
        const w = median(ms.map((m) => m.wall));
        const verdict = headline ? ` ${w < goal ? 'OK' : 'SLOWER THAN GOAL'} (goal ${goal} ms)` : '';
        console.log(`${label}: median ${w} ms of [${ms.map((m) => m.wall).join(', ')}]${verdict}; `
            + `navigation start to ready median ${fmt(median(ms.map((m) => m.nav)))} ms [${ms.map((m) => fmt(m.nav)).join(', ')}]; `
            + `medians pre-nav ${fmt(median(ms.map((m) => m.preNav)))}, paint ${fmt(median(ms.map((m) => m.paint)))}, detect ${fmt(median(ms.map((m) => m.detect)))} ms`);
    };
    for (const side of base ? ['', '@baseline'] : ['']) {
        if (base) console.log(side ? `baseline (${BASELINE}):` : 'this build:');
        const r = (what) => res[what + side];
        summary(`runs table (${RUNS} runs, page of 100, cold page load)`, r('table').cold, true);
        summary(`runs table (warm: second tab, same browser context)`, r('table').warm, false);
        summary(`chart of ${POINTS} points (cold page load)`, r('chart').cold, true);
        summary(`chart of ${POINTS} points (warm: second tab, same browser context)`, r('chart').warm, false);
        summary(`experiment chart view (${SWEEP_RUNS} runs x ${SWEEP_METRICS} metrics x ${SWEEP_STEPS} steps, cold page load)`, r('sweep').cold, true, SWEEP_GOAL_MS);
        summary(`experiment chart view (warm: second tab, same browser context)`, r('sweep').warm, false, SWEEP_GOAL_MS);
        if (r('sweep').cold.length) {
            const d = r('sweep').cold.map((m) => fmt(m.detail));
            console.log(`experiment chart view in detail (cold): navigation start to every chart detailed median ${median(d)} ms of [${d.join(', ')}]`);
        }
    }
} finally {
    if (browser) await browser.close();
    if (base) await base.stop();
    if (srv) await srv.stop();
    await pg.destroy();
}
