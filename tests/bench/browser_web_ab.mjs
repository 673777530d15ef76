// The experiment chart view A/B of two dashboards on one server binary:
// the same exptrackd started twice on one PostgreSQL and one seeded sweep,
// `--web-dir BENCH_BASE_WEB` (e.g. `git archive <base> web | tar -x -C /tmp/base`,
// with web/node_modules linked in) and `--web-dir web/` of this tree, so only
// web/ differs. Cold loads (fresh browser context each), alternated, of
// panel=charts with the sweep's metrics; ready = every chart drawn. Prints
// per load and as medians: wall clock, navigation start to ready, when the
// runs/search and the first history request were sent, the page's
// main-thread time (CDP Performance.getMetrics TaskDuration, a wall-clock
// sum: it grows when the machine is loaded) and its main thread's CPU time
// (the thread time of the top-level trace events of the renderer's main
// thread from navigation to ready, CDP Tracing), the figure least moved by
// other load on the machine. BENCH_TRACE=0 leaves the trace out.
// The sweep is seeded through a third exptrackd, stopped before the loads,
// so that neither side's server did the writes, and then compacted at once
// (`exptrackd compact --compact-delay 0`): every server packs the runs that
// ended --compact-delay (600 s) before, in the background, and seeding takes
// about that long, so without it the packing ran during the loads.
//
// Each load's CPU time by process is printed too (from /proc, including
// what the processes reaped): chromium's (the browser process and every
// process under it: renderers, GPU, utility), PostgreSQL's (the cluster)
// and the side's exptrackd, each from the context's creation to ready
// (ready*) and to the end of the context's close (cpu*: with the detailed
// reads that follow ready, and the trace when it is taken).
//
// usage: BENCH_BASE_WEB=/tmp/base/web EXPTRACKD=build-rel/bin/exptrackd node tests/bench/browser_web_ab.mjs
// environment: BENCH_REPEAT=7 BENCH_SWEEP_RUNS=300 BENCH_SWEEP_METRICS=3 BENCH_SWEEP_STEPS=10000
//   BENCH_BASE_EXPTRACKD=<another binary for the base side> (server A/B; then
//   BENCH_BASE_WEB may be the same web/ as this tree's)
//   BENCH_PG_DIR=<a running cluster's directory (PG_DIR/data/postmaster.pid,
//   socket in PG_DIR)> and BENCH_EXP_ID=<its seeded sweep>: no seeding
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startPostgres, startServer, client, exptrackdPath, REPO_ROOT } from '../api/harness.mjs';
import { launchChromium } from '../browser/helpers.mjs';
import { seedSweep } from '../browser/sweep.mjs';
import fs from 'node:fs';
import { treeCpu, clusterCpu, cpuOf, childrenOf } from './ab_util.mjs';

const BASE_WEB = process.env.BENCH_BASE_WEB;
if (!BASE_WEB) throw new Error('set BENCH_BASE_WEB to the base commit\'s web/ directory');
const REPEAT = Number(process.env.BENCH_REPEAT || 7);
const TRACE = process.env.BENCH_TRACE !== '0';
const RUNS = Number(process.env.BENCH_SWEEP_RUNS || 300);
const STEPS = Number(process.env.BENCH_SWEEP_STEPS || 10000);
const KEYS = ['loss', 'acc', 'val_loss', 'val_acc', 'lr'].slice(0, Number(process.env.BENCH_SWEEP_METRICS || 3));

/** In the page before its scripts: the moment every chart is drawn (also a performance mark), and the end of that frame, told through __seen. */
function watch(n) {
    const ready = () => document.querySelectorAll('.runs-panel .chart-card[data-drawn="1"]').length === n;
    const mo = new MutationObserver(() => {
        if (window.__ready !== undefined || !ready()) return;
        window.__ready = performance.now();
        performance.mark('bench:ready');
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

/**
 * CPU time in ms of the main thread of the renderer that made the mark
 * bench:ready, from the trace's start to that mark: the sum of the thread
 * time (tdur) of its outermost complete events.
 */
function mainThreadCpu(events) {
    const mark = events.find((e) => e.name === 'bench:ready');
    if (!mark) return NaN;
    let cpu = 0, end = -Infinity;
    const main = events.filter((e) => e.pid === mark.pid && e.tid === mark.tid && e.ph === 'X' && e.tdur !== undefined && e.ts <= mark.ts)
        .sort((a, b) => a.ts - b.ts || b.dur - a.dur);
    for (const e of main) {
        if (e.ts < end) continue; // nested in the last outermost event
        end = e.ts + e.dur;
        cpu += e.tdur;
    }
    return cpu / 1000;
}
const TRACE_CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'blink', 'toplevel', 'loading', 'blink.user_timing'];
const PG_DIR = process.env.BENCH_PG_DIR;
const pg = PG_DIR ? { url: `postgresql:///exptrack?host=${encodeURIComponent(PG_DIR)}&user=postgres`, dataDir: path.join(PG_DIR, 'data'), destroy: async () => {} } : await startPostgres();
let browser;
const servers = {};
try {
    let sweep;
    if (PG_DIR) {
        sweep = { expId: process.env.BENCH_EXP_ID };
    } else {
        const seeder = await startServer({ databaseUrl: pg.url });
        const t0 = Date.now();
        try {
            sweep = await seedSweep(client(seeder.url), { name: 'bench-sweep', runs: RUNS, steps: STEPS, live: 0, keys: KEYS, concurrency: 8 });
        } finally {
            await seeder.stop();
        }
        console.log(`seeded ${RUNS} runs x ${KEYS.length} metrics x ${STEPS} steps in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        const t1 = Date.now();
        execFileSync(exptrackdPath(), ['compact', '--database-url', pg.url, '--compact-delay', '0'], { stdio: ['ignore', 'ignore', 'inherit'] });
        console.log(`compacted in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
    }
    const postmaster = Number(fs.readFileSync(path.join(pg.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const baseBin = process.env.BENCH_BASE_EXPTRACKD;
    const thisBin = process.env.EXPTRACKD;
    if (baseBin) process.env.EXPTRACKD = baseBin; // (startServer runs exptrackdPath()'s binary)
    try {
        servers.base = await startServer({ databaseUrl: pg.url, args: ['--web-dir', BASE_WEB] });
    } finally {
        process.env.EXPTRACKD = thisBin;
    }
    servers.this = await startServer({ databaseUrl: pg.url, args: ['--web-dir', path.join(REPO_ROOT, 'web')] });
    const hash = `/#/runs?exp=${sweep.expId}&panel=charts${KEYS.map((k) => `&cm=${k}`).join('')}`;
    browser = await launchChromium();
    // chromium's browser process: this script's child named chrom*
    const chromiumPid = childrenOf(process.pid).find((c) => /^chrom/.test(fs.readFileSync(`/proc/${c}/comm`, 'utf8')));
    const res = { base: [], this: [] };
    for (let r = 0; r < REPEAT; r++) {
        for (const side of ['base', 'this']) {
            const c0 = { chromium: chromiumPid ? treeCpu(chromiumPid) : NaN, pg: clusterCpu(postmaster), server: cpuOf(servers[side].proc.pid) };
            const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
            let row;
            try {
                const page = await ctx.newPage();
                const cdp = await ctx.newCDPSession(page);
                await cdp.send('Performance.enable');
                const events = [];
                cdp.on('Tracing.dataCollected', (d) => events.push(...d.value));
                const traced = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
                if (TRACE) await cdp.send('Tracing.start', { traceConfig: { includedCategories: TRACE_CATEGORIES }, transferMode: 'ReportEvents' });
                let seen;
                const shown = new Promise((resolve) => { seen = resolve; });
                await page.exposeFunction('__seen', () => seen(Date.now()));
                await page.addInitScript(watch, KEYS.length);
                const start = Date.now();
                await page.goto(servers[side].url + hash, { waitUntil: 'commit' });
                let timer;
                const end = await Promise.race([shown, new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('not ready after 60 s')), 60000); })])
                    .finally(() => clearTimeout(timer));
                const cpuReady = { chromium: treeCpu(chromiumPid), pg: clusterCpu(postmaster), server: cpuOf(servers[side].proc.pid) };
                const m = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((x) => [x.name, x.value]));
                if (TRACE) { await cdp.send('Tracing.end'); await traced; }
                const t = await page.evaluate(() => {
                    const res = performance.getEntriesByType('resource');
                    return {
                        ready: window.__ready,
                        search: res.find((e) => e.name.includes('/runs/search'))?.startTime,
                        history: Math.min(...res.filter((e) => e.name.includes('/metrics/history')).map((e) => e.startTime)),
                    };
                });
                row = { wall: end - start, nav: t.ready, search: t.search, history: t.history, main: m.TaskDuration * 1000 };
                if (TRACE) row.cpu = mainThreadCpu(events);
                row.readyChromium = cpuReady.chromium - c0.chromium;
                row.readyPg = cpuReady.pg - c0.pg;
                row.readyServer = cpuReady.server - c0.server;
            } finally {
                await ctx.close();
            }
            row.cpuChromium = treeCpu(chromiumPid) - c0.chromium;
            row.cpuPg = clusterCpu(postmaster) - c0.pg;
            row.cpuServer = cpuOf(servers[side].proc.pid) - c0.server;
            res[side].push(row);
            console.log(`  ${side} ${r + 1}: ${Object.entries(row).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ')} ms`);
        }
    }
    for (const side of ['base', 'this']) {
        const col = (k) => `${k} ${Math.round(median(res[side].map((x) => x[k])))} [${res[side].map((x) => Math.round(x[k])).join(', ')}]`;
        console.log(`${side === 'base' ? `base (${BASE_WEB})` : 'this tree'}: medians ${['wall', 'nav', 'search', 'history', 'main', ...(TRACE ? ['cpu'] : []), 'readyChromium', 'readyPg', 'readyServer', 'cpuChromium', 'cpuPg', 'cpuServer'].map(col).join('; ')} ms`);
    }
} finally {
    if (browser) await browser.close();
    for (const s of Object.values(servers)) await s.stop();
    await pg.destroy();
}
