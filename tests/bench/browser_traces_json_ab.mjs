// A/B of the trace page's JSON viewer on megabyte span attributes (issue
// 17), in one chromium page, the two ways in turns: A parses the attribute
// whole (JSON.parse, then jsonView of the value: the viewer before
// lazyJson), B keeps it as text (jsonView of lazyJson(text): members found
// by one scan, parsed as drawn). Each draws into the page's span details box
// and forces layout; the time is the main thread's, click-free, so a loaded
// machine's frame scheduling does not enter it. Median of BENCH_REPEAT (9)
// per span of tests/browser/traces-payload.mjs.
//
// usage: EXPTRACKD=BUILD_DIR/bin/exptrackd node tests/bench/browser_traces_json_ab.mjs
import os from 'node:os';
import { startPostgres, startServer, client } from '../api/harness.mjs';
import { launchBrowser } from '../browser/helpers.mjs';
import { payloadTrace } from '../browser/traces-payload.mjs';

const REPEAT = Number(process.env.BENCH_REPEAT || 9);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const pg = await startPostgres();
let srv, browser;
try {
    srv = await startServer({ databaseUrl: pg.url });
    const exp = await client(srv.url).createExperiment('json-ab');
    const t = await payloadTrace(srv.url, exp);
    browser = await launchBrowser(); // 1280x800, as the tests
    const page = await browser.context.newPage();
    await page.goto(`${srv.url}/#/trace/${t.id}`);
    await page.waitForSelector('#view[data-ready="1"] .span-row');
    console.log('span (attribute)           A: parse whole   B: lazyJson   A / B');
    for (const [kind, sid] of Object.entries(t.spans)) {
        if (kind === 'root') continue;
        const r = await page.evaluate(async ({ id, sid, repeat }) => {
            const { jsonView, lazyJson } = await import('/static/js/json-view.js');
            const res = await (await fetch(`/api/3.0/mlflow/traces/get?trace_id=${id}&allow_partial=true`)).json();
            const b64 = (h) => btoa(String.fromCharCode(...h.match(/../g).map((x) => parseInt(x, 16))));
            const span = res.trace.spans.find((s) => s.span_id === b64(sid) || s.span_id === sid);
            const attr = span.attributes.filter((a) => (a.value.string_value || '').length > 100000).sort((x, y) => y.value.string_value.length - x.value.string_value.length)[0];
            const text = attr.value.string_value;
            const box = document.querySelector('.span-detail');
            const run = (value) => {
                const s = performance.now();
                const v = value();
                box.replaceChildren(jsonView(v));
                void box.offsetHeight; // layout
                return performance.now() - s;
            };
            const parseWhole = () => { try { return JSON.parse(text); } catch { return text; } };
            const a = [], b = [];
            for (let i = 0; i < repeat; i++) {
                a.push(run(parseWhole));
                b.push(run(() => lazyJson(text)));
            }
            return { key: attr.key, chars: text.length, a, b };
        }, { id: t.id, sid, repeat: REPEAT });
        const ma = median(r.a), mb = median(r.b);
        console.log(`${`${kind} (${r.key}, ${(r.chars / 1e6).toFixed(2)} M chars)`.padEnd(44)} ${ma.toFixed(1).padStart(6)} ms ${mb.toFixed(1).padStart(9)} ms ${(ma / mb).toFixed(1).padStart(7)}`);
    }
    console.log(`machine: load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
} finally {
    if (browser) await browser.close();
    if (srv) await srv.stop();
    await pg.destroy();
}
