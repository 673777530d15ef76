// Browser timing benchmark: time to a populated runs table for an experiment
// of BENCH_RUNS runs, and to a drawn chart of a BENCH_POINTS-point metric,
// in headless chromium against a real exptrackd + PostgreSQL. Goal: < 1 s each.
// Data is created through the API (log-batch), in parallel.
import { startPostgres, startServer, client } from '../api/harness.mjs';
import { launchBrowser } from '../browser/helpers.mjs';

const RUNS = Number(process.env.BENCH_RUNS || 10000);
const POINTS = Number(process.env.BENCH_POINTS || 1000000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY || 8);
const REPEAT = Number(process.env.BENCH_REPEAT || 3);
const GOAL_MS = 1000;

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

const pg = await startPostgres();
let srv, browser;
try {
    srv = await startServer({ databaseUrl: pg.url });
    const api = client(srv.url);
    const t0 = Date.now();
    const exp = await api.createExperiment('bench-wide');
    await pool(CONCURRENCY, RUNS, async (i) => {
        const run = await api.createRun(exp, { run_name: `run-${i}`, start_time: 1700000000000 + i * 1000 });
        await api.ok('POST', '/runs/log-batch', {
            run_id: run.info.run_id,
            params: [{ key: 'lr', value: String(10 ** -(i % 5)) }, { key: 'seed', value: String(i) }, { key: 'model', value: `m${i % 7}` }],
            metrics: ['loss', 'acc', 'val/loss', 'val/acc', 'lr'].map((key, k) => ({ key, value: Math.sin(i + k), timestamp: 1700000000000 + i, step: 100 })),
        });
    });
    console.log(`created ${RUNS} runs in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const t1 = Date.now();
    const big = await api.createRun(exp, { run_name: 'million', start_time: 1600000000000 });
    const per = 1000;
    await pool(CONCURRENCY, Math.ceil(POINTS / per), async (b) => {
        const metrics = [];
        for (let j = 0; j < per && b * per + j < POINTS; j++) {
            const step = b * per + j;
            metrics.push({ key: 'big', value: Math.exp(-step / POINTS * 5) + 0.05 * Math.sin(step / 50), timestamp: 1600000000000 + step, step });
        }
        await api.ok('POST', '/runs/log-batch', { run_id: big.info.run_id, metrics });
    });
    console.log(`logged ${POINTS} points in ${((Date.now() - t1) / 1000).toFixed(1)} s`);

    browser = await launchBrowser();
    const table = [], chart = [];
    for (let r = 0; r < REPEAT; r++) {
        const page = await browser.context.newPage();
        const start = Date.now();
        await page.goto(`${srv.url}/#/runs?exp=${exp}&size=100`);
        // a full page: 100 rows, or every run (+ the million-point one) of a small experiment
        await page.waitForFunction((n) => document.querySelectorAll('table.runs tr[data-run]').length === n, Math.min(100, RUNS + 1), { timeout: 60000 });
        table.push(Date.now() - start);
        await page.close();

        const page2 = await browser.context.newPage();
        const historyRequests = [];
        page2.on('request', (q) => { if (/metrics\/(history|get-history)/.test(q.url())) historyRequests.push(q.url()); });
        const start2 = Date.now();
        await page2.goto(`${srv.url}/#/run/${big.info.run_id}`);
        await page2.waitForSelector('.chart-card[data-metric="big"][data-drawn="1"]', { timeout: 60000 });
        chart.push(Date.now() - start2);
        // the client's share: one history request, for the chart's pixel width
        const maxPoints = historyRequests.map((u) => new URL(u).searchParams.get('max_points'));
        const plotWidth = await page2.$eval('.chart-card[data-metric="big"] .plot', (p) => p.clientWidth);
        console.log(`  chart page ${r + 1}: ${historyRequests.length} history request(s), max_points ${maxPoints.join(',')} for a ${plotWidth} px wide chart${historyRequests.length === 1 ? '' : ' (REDUNDANT REQUESTS)'}`);
        const timing = await page2.evaluate(() => [
            ...performance.getEntriesByType('mark').filter((m) => m.name.startsWith('exptrack:')).map((m) => `${m.name} @${Math.round(m.startTime)}ms`),
            ...performance.getEntriesByType('resource')
                .filter((e) => /metrics\/history|runs\/get|experiments\/get|uPlot|app\.js/.test(e.name))
                .map((e) => `${e.name.replace(/^.*\/(api\/2\.0|static)\//, '').slice(0, 40)} @${Math.round(e.startTime)}+${Math.round(e.duration)}ms`)]);
        if (process.env.BENCH_VERBOSE) console.log(`  chart page: ${timing.join(' | ')}`);
        await page2.close();
    }
    // the server's share of the chart: the downsampled history request alone
    const apiMs = [];
    for (let r = 0; r < REPEAT; r++) {
        const s0 = Date.now();
        const res = await fetch(`${srv.url}/api/2.0/exptrack/metrics/history?run_id=${big.info.run_id}&metric_key=big&max_points=1200`);
        await res.text();
        apiMs.push(res.ok ? Date.now() - s0 : NaN);
    }
    console.log(`downsampled history request alone (${POINTS} -> 1200 points): median ${median(apiMs)} ms of [${apiMs.join(', ')}]`);
    const t = median(table), c = median(chart);
    console.log(`runs table (${RUNS} runs, page of 100, cold page load): median ${t} ms of [${table.join(', ')}] ${t < GOAL_MS ? 'OK' : 'SLOWER THAN GOAL'} (goal ${GOAL_MS} ms)`);
    console.log(`chart of ${POINTS} points (cold page load): median ${c} ms of [${chart.join(', ')}] ${c < GOAL_MS ? 'OK' : 'SLOWER THAN GOAL'} (goal ${GOAL_MS} ms)`);
} finally {
    if (browser) await browser.close();
    if (srv) await srv.stop();
    await pg.destroy();
}
