// A/B of the trace page's span click (issue 17): two exptrackd on one
// database, one serving WEB_A's dashboard (--web-dir), the other WEB_B's,
// the same binary; one chromium; in turns, each side opens the trace page
// of traces-payload.mjs (five spans of ~0.9 MB of attributes) and of a
// 10,000-span trace, then clicks each span. Per click: the handler's own
// time (sync), time to the next frame's requestAnimationFrame (timers and
// tasks run before it), time to the first task after that frame (style,
// layout, paint; the frame callback is asked for before the click, so what
// the page defers past its paint comes after this task, not in it), and the
// main thread's CPU time over the click and the 300 ms after it, deferred
// work included (CDP Performance.getMetrics TaskDuration; with
// BENCH_SETTLE_MS=0 the clicks come back to back, as in
// browser_traces_bench.mjs, and the CPU column is the click's alone). Median of
// BENCH_REPEAT (5) rounds, A and B in turns.
//
// usage: EXPTRACKD=BUILD/bin/exptrackd WEB_A=dir WEB_B=dir node tests/bench/browser_traces_click_ab.mjs
import os from 'node:os';
import { startPostgres, startServer, client } from '../api/harness.mjs';
import { launchChromium } from '../browser/helpers.mjs';
import { wideTrace } from '../browser/traces-data.mjs';
import { payloadTrace } from '../browser/traces-payload.mjs';

const REPEAT = Number(process.env.BENCH_REPEAT || 5);
const SPANS = Number(process.env.BENCH_SPANS || 10000);
const SETTLE = Number(process.env.BENCH_SETTLE_MS ?? 300); // ms the page is left alone after its load and after each click
const WEB = { A: process.env.WEB_A, B: process.env.WEB_B };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (!WEB.A || !WEB.B) throw new Error('set WEB_A and WEB_B to the two web/ directories');
const pg = await startPostgres();
const srv = {};
let browser;
try {
    srv.A = await startServer({ databaseUrl: pg.url, args: ['--web-dir', WEB.A] });
    srv.B = await startServer({ databaseUrl: pg.url, args: ['--web-dir', WEB.B] });
    const exp = await client(srv.A.url).createExperiment('click-ab');
    const pay = await payloadTrace(srv.A.url, exp);
    const big = await wideTrace(srv.A.url, exp, SPANS);
    browser = await launchChromium();
    const res = { A: new Map(), B: new Map() };
    const add = (side, kind, r) => { const m = res[side]; if (!m.has(kind)) m.set(kind, []); m.get(kind).push(r); };
    const clickIn = async (page, cdp, sel) => {
        const before = (await cdp.send('Performance.getMetrics')).metrics.find((x) => x.name === 'TaskDuration').value;
        const r = await page.evaluate(async (q) => {
            const row = document.querySelector(q);
            // asked for before the click: the first frame callback and the first task after the
            // frame, ahead of what the page defers past its paint
            let s2 = 0;
            const painted = new Promise((res) => requestAnimationFrame(() => { s2 = performance.now(); setTimeout(() => res(performance.now()), 0); }));
            const s0 = performance.now();
            row.click();
            const s1 = performance.now();
            if (document.querySelector('.span-detail')?.dataset.span !== row.dataset.span) throw new Error('the span was not shown');
            const s3 = await painted;
            return { sync: s1 - s0, raf: s2 - s1, frame: s3 - s2, total: s3 - s0, nodes: document.querySelector('.span-detail').getElementsByTagName('*').length };
        }, sel);
        // the background work a click leaves (member scans between frames) counts to its CPU too
        await page.evaluate((ms) => new Promise((res) => setTimeout(res, ms)), SETTLE);
        const after = (await cdp.send('Performance.getMetrics')).metrics.find((x) => x.name === 'TaskDuration').value;
        r.cpu = (after - before) * 1000; // includes the evaluate calls' own small cost
        return r;
    };
    for (let round = 0; round < REPEAT; round++) {
        for (const side of round % 2 ? ['B', 'A'] : ['A', 'B']) {
            const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
            const page = await ctx.newPage();
            const cdp = await ctx.newCDPSession(page);
            await cdp.send('Performance.enable');
            await page.goto(`${srv[side].url}/#/trace/${pay.id}`);
            await page.waitForSelector('#view[data-ready="1"] .span-row');
            await page.waitForTimeout(SETTLE);
            for (const kind of ['string', 'messages', 'wide', 'nested', 'raw']) {
                add(side, kind, await clickIn(page, cdp, `.span-row[data-span="${pay.spans[kind]}"]`));
            }
            await page.goto(`${srv[side].url}/#/trace/${big}`);
            await page.waitForSelector('#view[data-ready="1"] .span-row');
            await page.waitForTimeout(SETTLE);
            add(side, 'normal', await clickIn(page, cdp, `.span-row:nth-child(${4 + round})`));
            await ctx.close();
        }
        console.log(`round ${round + 1} done, load ${os.loadavg()[0].toFixed(1)}`);
    }
    const f = (xs, k) => median(xs.map((x) => x[k])).toFixed(1);
    console.log('kind      side  total  (sync  to-rAF  frame)  CPU ms  nodes   all totals');
    for (const kind of res.A.keys()) {
        for (const side of ['A', 'B']) {
            const xs = res[side].get(kind);
            console.log(`${kind.padEnd(9)} ${side}  ${f(xs, 'total').padStart(7)}  (${f(xs, 'sync').padStart(5)} ${f(xs, 'raf').padStart(6)} ${f(xs, 'frame').padStart(6)})  ${f(xs, 'cpu').padStart(6)}  ${f(xs, 'nodes').padStart(5)}   [${xs.map((x) => Math.round(x.total)).join(', ')}]`);
        }
    }
    const all = (side) => [...res[side].entries()].filter(([k]) => k !== 'normal').flatMap(([, v]) => v.map((x) => x.total));
    console.log(`megabyte spans, all clicks: A median ${median(all('A')).toFixed(1)} max ${Math.max(...all('A')).toFixed(0)}; B median ${median(all('B')).toFixed(1)} max ${Math.max(...all('B')).toFixed(0)}`);
    console.log(`machine: load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
} finally {
    if (browser) await browser.close();
    for (const s of Object.values(srv)) await s.stop();
    await pg.destroy();
}
