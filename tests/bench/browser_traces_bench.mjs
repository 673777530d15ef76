// Browser timing of the traces views (issue 17): an experiment with
// BENCH_TRACES traces (default 1,000,000, seeded with SQL as the traces
// bench does) and one trace of BENCH_SPANS spans (default 10,000, sent by
// OTLP/JSON). Cold loads in a fresh browser context each, median of
// BENCH_REPEAT (5):
//   table: #/traces?exp=<id> ready when its first page (100 rows) is painted;
//   trace: #/trace/<id> ready when the span rows are painted;
//   span:  a click on a span row until its details are drawn and painted
//          (to the first task after that frame: work the page defers past
//          its paint, json-view.js afterPaint, comes after it);
//   payload span: the same on a trace whose spans carry about 1 MB of
//          attributes each (0.9 MB of values, what fits in the server's
//          1 MiB a span: one long string, 2,000 chat messages, an object of
//          18,000 keys, 1,800 retrieved documents, a plain text attribute:
//          traces-payload.mjs), each span of it once per run.
// BENCH_WEB_DIR: serve that web/ (--web-dir) instead of the binary's own.
// Baselines in the same run: the API's traces/search of the table's first
// page and traces/get of the big trace, from node (the page cannot be ready
// before its request is answered).
import { startPostgres, startServer, client, api, assertOk } from '../api/harness.mjs';
import { launchChromium } from '../browser/helpers.mjs';
import { wideTrace } from '../browser/traces-data.mjs';
import { payloadTrace } from '../browser/traces-payload.mjs';

const TRACES = Number(process.env.BENCH_TRACES || 1000000);
const SPANS = Number(process.env.BENCH_SPANS || 10000);
const REPEAT = Number(process.env.BENCH_REPEAT || 5);

function median(xs) {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)];
}

/** In the page before its scripts: tells the bench when selector matches n elements and a frame is painted. */
function watchReady({ selector, n }) {
    const mo = new MutationObserver(() => {
        if (window.__benchReady !== undefined || document.querySelectorAll(selector).length < n) return;
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

/** One cold load of url in a new context; returns {wall, painted, page, ctx}. */
async function coldLoad(browser, url, selector, n) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    let seen;
    const shown = new Promise((resolve) => { seen = resolve; });
    await page.exposeFunction('__benchSeen', () => seen(Date.now()));
    await page.addInitScript(watchReady, { selector, n });
    const start = Date.now();
    await page.goto(url, { waitUntil: 'commit' });
    let timer;
    const end = await Promise.race([shown, new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${url}: not ready after 120 s`)), 120000);
    })]).finally(() => clearTimeout(timer));
    return { wall: end - start, painted: Math.round(await page.evaluate(() => window.__benchFrame)), page, ctx };
}

/** BENCH_VERBOSE: the page's requests, its exptrack:* marks and the ready time, in ms from navigation start. */
function waterfall(page) {
    return page.evaluate(() => ['    document', ...performance.getEntriesByType('navigation').map((e) => `    html @0+${Math.round(e.responseEnd)} dcl @${Math.round(e.domContentLoadedEventEnd)}`),
        ...performance.getEntriesByType('resource').map((e) => `    ${e.name.replace(/^.*\/(api\/[23]\.0|static)\//, '').slice(0, 60)} @${Math.round(e.startTime)}+${Math.round(e.duration)} ${e.encodedBodySize}B`),
        ...performance.getEntriesByType('mark').map((m) => `    ${m.name} @${Math.round(m.startTime)}`), `    ready @${Math.round(window.__benchReady)}`].join('\n'));
}

const pg = await startPostgres();
let srv, browser;
try {
    srv = await startServer({ databaseUrl: pg.url, args: process.env.BENCH_WEB_DIR ? ['--web-dir', process.env.BENCH_WEB_DIR] : [] });
    const c = client(srv.url);
    const exp = await c.createExperiment('bench-traces');
    let t0 = Date.now();
    // in steps of 100,000 (psql calls of the harness time out after 30 s)
    for (let a = 1; a <= TRACES; a += 100000) {
        const g = `generate_series(${a}, ${Math.min(TRACES, a + 99999)}) g`;
        pg.psql(`INSERT INTO traces (trace_id, experiment_id, request_time, execution_duration, state, created, updated)
             SELECT 'tr-' || lpad(to_hex(g), 32, '0'), ${exp}, 1700000000000 + g * 1000, g % 5000, CASE WHEN g % 10 = 0 THEN 2 ELSE 1 END, 0, 0 FROM ${g};
             INSERT INTO trace_tags (trace_id, key, value)
             SELECT 'tr-' || lpad(to_hex(g), 32, '0'), k, v FROM ${g},
               LATERAL (VALUES ('mlflow.traceName', 'chain-' || (g % 20)), ('env', CASE WHEN g % 3 = 0 THEN 'prod' ELSE 'dev' END)) AS x(k, v);
             INSERT INTO trace_metadata (trace_id, key, value)
             SELECT 'tr-' || lpad(to_hex(g), 32, '0'), 'mlflow.trace.tokenUsage', '{"input_tokens": ' || (g % 100) || ', "output_tokens": 7}' FROM ${g};`);
    }
    pg.psql('ANALYZE traces; ANALYZE trace_tags; ANALYZE trace_metadata;');
    console.log(`seeded ${TRACES} traces in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const bigExp = await c.createExperiment('bench-trace-big');
    t0 = Date.now();
    const big = await wideTrace(srv.url, bigExp, SPANS);
    console.log(`sent a trace of ${SPANS} spans in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const payload = await payloadTrace(srv.url, bigExp);
    const payloadSpans = Object.entries(payload.spans).filter(([k]) => k !== 'root');

    // the baseline: the API's read of the big trace, from node
    const apiMs = [];
    for (let i = 0; i < REPEAT; i++) {
        const s = performance.now();
        assertOk(await api(srv.url, 'GET', '/api/3.0/mlflow/traces/get', { trace_id: big, allow_partial: 'true' }, { timeoutMs: 60000 }));
        apiMs.push(Math.round(performance.now() - s));
    }

    // and of the table's first page (the search the Traces tab sends)
    const searchMs = [];
    for (let i = 0; i < REPEAT; i++) {
        const s = performance.now();
        assertOk(await api(srv.url, 'POST', '/api/3.0/mlflow/traces/search', {
            locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: exp } }], max_results: 100 }, { timeoutMs: 60000 }));
        searchMs.push(Math.round(performance.now() - s));
    }

    browser = await launchChromium();
    const table = [], trace = [], span = [], heavy = [], heavyBy = new Map();
    for (let r = 0; r < REPEAT; r++) {
        const t = await coldLoad(browser, `${srv.url}/#/traces?exp=${exp}`, 'table.traces tbody tr[data-trace]', 100);
        table.push(t.wall);
        if (process.env.BENCH_VERBOSE) console.log(await waterfall(t.page));
        console.log(`  traces table ${r + 1} cold: wall ${t.wall} ms (navigation start to painted ${t.painted} ms)`);
        await t.ctx.close();
        const p = await coldLoad(browser, `${srv.url}/#/trace/${big}`, '#view[data-ready="1"] .span-row', 1);
        trace.push(p.wall);
        if (process.env.BENCH_VERBOSE) console.log(await waterfall(p.page));
        // a span: the click's handler draws the details; then one frame
        const ms = await p.page.evaluate(async (i) => {
            const row = document.querySelectorAll('.span-row')[i];
            // the frame's callback is asked for before the click, so the task timed after the
            // paint is the first after it, not after the work the page defers past its paint
            const painted = new Promise((res) => requestAnimationFrame(() => setTimeout(res, 0)));
            const s = performance.now();
            row.click();
            if (document.querySelector('.span-detail')?.dataset.span !== row.dataset.span) throw new Error('the span was not shown');
            await painted;
            return performance.now() - s;
        }, 3 + r);
        span.push(Math.round(ms));
        console.log(`  trace page ${r + 1} cold: wall ${p.wall} ms (navigation start to painted ${p.painted} ms); a span shown in ${Math.round(ms)} ms`);
        await p.ctx.close();
        // the megabyte spans, each once, starting from the root (selected by default)
        const q = await coldLoad(browser, `${srv.url}/#/trace/${payload.id}`, '#view[data-ready="1"] .span-row', 1);
        const times = [];
        for (const [kind, sid] of payloadSpans) {
            const t = await q.page.evaluate(async (id) => {
                const row = document.querySelector(`.span-row[data-span="${id}"]`);
                const painted = new Promise((res) => requestAnimationFrame(() => setTimeout(res, 0)));
                const s = performance.now();
                row.click();
                if (document.querySelector('.span-detail')?.dataset.span !== id) throw new Error('the span was not shown');
                await painted;
                return performance.now() - s;
            }, sid);
            heavy.push(Math.round(t));
            heavyBy.set(kind, [...(heavyBy.get(kind) || []), Math.round(t)]);
            times.push(`${kind} ${Math.round(t)}`);
        }
        console.log(`  megabyte spans ${r + 1}: ${times.join(', ')} ms`);
        await q.ctx.close();
    }
    const verdict = (v, goal) => (v < goal ? 'OK' : 'SLOWER THAN GOAL');
    console.log(`traces table (${TRACES} traces, first page of 100, cold): median ${median(table)} ms of [${table.join(', ')}] ${verdict(median(table), 1000)} (goal 1000 ms)`);
    console.log(`baseline: the same traces/search from node: median ${median(searchMs)} ms of [${searchMs.join(', ')}]; page / API = ${(median(table) / median(searchMs)).toFixed(2)}`);
    console.log(`trace page (${SPANS} spans, cold): median ${median(trace)} ms of [${trace.join(', ')}] ${verdict(median(trace), 1000)} (goal 1000 ms)`);
    console.log(`baseline: traces/get of the same trace from node: median ${median(apiMs)} ms of [${apiMs.join(', ')}]; page / API = ${(median(trace) / median(apiMs)).toFixed(2)}`);
    console.log(`a span shown (click to painted): median ${median(span)} ms of [${span.join(', ')}] ${verdict(median(span), 50)} (goal 50 ms)`);
    console.log(`a span of ~0.9 MB of attributes shown (click to painted): median ${median(heavy)} ms, max ${Math.max(...heavy)} ms of ${heavy.length} ${verdict(median(heavy), 50)} (goal 50 ms); by kind: ${[...heavyBy].map(([k, v]) => `${k} ${median(v)}`).join(', ')}`);
    console.log(`machine: load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
} finally {
    if (browser) await browser.close();
    if (srv) await srv.stop();
    await pg.destroy();
}
