// The traces views in chromium: an experiment's Traces tab (columns, the
// trace search language and its refusals, paging, column choice, a new
// trace appearing while the tab is open), the trace page (span tree beside
// the waterfall, an error span highlighted, rollups, a 1 MB input opened
// without freezing the page, feedback added and stored), the links between
// a trace and its run, and refusals under --auth shown in words. Data made
// through the real API (V3 create, OTLP/JSON spans).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, describe, before, after } from 'node:test';
import { useBrowserStack, screenshot, holdStreams, writeSeenByHub, assert } from './helpers.mjs';
import { api, assertOk } from '../api/harness.mjs';
import { createTrace, chatTrace, wideTrace, otlpBody, hex } from './traces-data.mjs';

const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);
/** The parameters of the page's hash route. */
const hashParams = (page) => new URLSearchParams(new URL(page.url()).hash.split('?')[1] || '');

describe('traces views', () => {
    const s = useBrowserStack({ before, after });
    let exp, runId, chat, many;
    before(async () => {
        exp = await s.api.createExperiment('genai');
        runId = (await s.api.createRun(exp, { run_name: 'rag-eval', start_time: T0 })).info.run_id;
        many = [];
        for (let i = 0; i < 30; i++) {
            many.push(await createTrace(s.base, exp, {
                name: i % 2 ? 'summarize' : 'classify', when: T0 + i * 1000, ms: 100 + i * 10,
                request: `{"text": "request ${i}"}`, response: `"answer ${i}"`, tags: { env: i % 3 ? 'dev' : 'prod' },
                metadata: { 'mlflow.trace.tokenUsage': JSON.stringify({ input_tokens: i, output_tokens: 1, total_tokens: i + 1 }) },
            }));
        }
        chat = await chatTrace(s.base, exp, { runId });
    }, { timeout: 120000 });

    const rowIds = (page) => page.$$eval('table.traces tbody tr[data-trace]', (trs) => trs.map((t) => t.dataset.trace));

    test('the Traces tab: newest first, the columns, a row per trace', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/runs?exp=${exp}`);
        await page.click('#subnav a:has-text("Traces")');
        await page.waitForSelector('table.traces tbody tr[data-trace]');
        assert.match(page.url(), new RegExp(`#/traces\\?exp=${exp}$`));
        assert.equal(await page.getAttribute('#subnav a:has-text("Traces")', 'aria-current'), 'page');
        const ids = await rowIds(page);
        assert.equal(ids.length, 31);
        assert.equal(ids[0], chat.id, 'newest first');
        const heads = await page.$$eval('table.traces thead th', (ths) => ths.map((t) => t.textContent.replace(/[▲▼]/g, '').trim()));
        assert.deepEqual(heads, ['Name', 'Time', 'Status', 'Latency', 'Tokens', 'Request', 'Response', 'Tags', 'Assessments', 'Run']);
        const row = `tr[data-trace="${chat.id}"]`;
        assert.equal(await page.textContent(`${row} td.name`), 'chat');
        assert.equal(await page.textContent(`${row} td.col-status`), 'ERROR');
        assert.equal(await page.textContent(`${row} td.col-latency`), '1.4 s');
        assert.equal(await page.textContent(`${row} td.col-tokens`), '42', 'token usage computed from the spans');
        assert.equal(await page.textContent(`${row} td.col-request`), '{"question": "What is exptrack?"}');
        assert.equal(await page.getAttribute(`${row} td.col-run a`, 'href'), `#/run/${runId}`);
        // the Run column names the run (one runs/search for the page), its id in the title
        await page.waitForSelector(`${row} td.col-run a:text-is("rag-eval")`);
        assert.equal(await page.getAttribute(`${row} td.col-run a`, 'title'), runId);
        assert.equal(await page.textContent(`tr[data-trace="${many[3]}"] td.col-tags`), 'env=prod');
        await screenshot(page, 'traces-table');
        // keyboard: j j Enter opens the second trace
        await page.keyboard.press('j');
        await page.keyboard.press('j');
        assert.deepEqual(await page.$$eval('table.traces tr.cursor', (trs) => trs.map((t) => t.dataset.trace)), [ids[1]]);
        await page.keyboard.press('Enter');
        await page.waitForSelector('#view[data-ready="1"]');
        assert.match(page.url(), new RegExp(`#/trace/${ids[1]}$`));
        await page.close();
    });

    test('search: the trace language, a refusal in words, sorting; state in the URL', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/traces?exp=${exp}`);
        await page.waitForSelector('table.traces tbody tr[data-trace]');
        await page.keyboard.press('/');
        await page.keyboard.type("name = 'summarize' AND execution_time_ms > 300");
        await page.keyboard.press('Enter');
        await page.waitForFunction(() => document.querySelector('table.traces')?.dataset.rows === '5');
        assert.equal(hashParams(page).get('filter'), "name = 'summarize' AND execution_time_ms > 300");
        for (const n of await page.$$eval('table.traces tbody td.name', (tds) => tds.map((t) => t.textContent))) assert.equal(n, 'summarize');
        // a reload shows the same
        await page.reload();
        await page.waitForFunction(() => document.querySelector('table.traces')?.dataset.rows === '5');
        // sort by latency, ascending
        await page.click('table.traces th.col-latency a');
        await page.waitForFunction(() => /order=execution_time_ms\+DESC/.test(location.hash) && document.querySelector('table.traces th.col-latency.sorted-desc'));
        await page.click('table.traces th.col-latency a');
        await page.waitForFunction(() => /order=execution_time_ms\+ASC/.test(location.hash) && document.querySelector('table.traces th.col-latency.sorted-asc'));
        const lat = await page.$$eval('table.traces tbody td.col-latency', (tds) => tds.map((t) => t.textContent));
        assert.deepEqual(lat, ['310 ms', '330 ms', '350 ms', '370 ms', '390 ms']);
        // refused: the server's words under the box, no table
        await page.fill('input[aria-label="search traces"]', 'span.name = "x"');
        await page.press('input[aria-label="search traces"]', 'Enter');
        await page.waitForSelector('.filter-error:not([hidden])');
        const msg = await page.textContent('.filter-error');
        assert.match(msg, /^The server refused this filter or sort: /);
        assert.match(msg, /span/);
        assert.equal(await page.locator('table.traces tbody tr').count(), 0);
        s.errors.splice(0, s.errors.length, ...s.errors.filter((e) => !/status of 400/.test(e)));
        await page.close();
    });

    test('paging by the server\'s tokens, and column choice', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/traces?exp=${exp}&size=25`);
        await page.waitForFunction(() => document.querySelector('table.traces')?.dataset.rows === '25');
        const first = await rowIds(page);
        assert.equal(await page.textContent('.status-line'), 'Traces 1–25');
        await page.click('.pager button.next');
        await page.waitForFunction(() => document.querySelector('table.traces')?.dataset.rows === '6');
        assert.match(page.url(), /tok=/);
        assert.equal(await page.textContent('.status-line'), 'Traces 26–31');
        const second = await rowIds(page);
        assert.equal(new Set([...first, ...second]).size, 31, 'no trace twice');
        await page.click('.pager button:has-text("Previous")');
        await page.waitForFunction(() => document.querySelector('table.traces')?.dataset.rows === '25');
        // columns: drop Request and Response, add the tag env
        await page.click('button.cols-button');
        await page.uncheck('.picker input[data-col="request"]');
        await page.uncheck('.picker input[data-col="response"]');
        await page.check('.picker input[data-col="tag.env"]');
        await page.click('.picker button:has-text("Apply")');
        await page.waitForSelector('table.traces th.col-tag_env');
        assert.ok(hashParams(page).getAll('col').includes('tag.env'));
        assert.equal(await page.locator('table.traces th.col-request').count(), 0);
        assert.equal(await page.textContent(`tr[data-trace="${many[27]}"] td.col-tag_env`), 'prod');
        await page.close();
    });

    test('a new trace appears while the tab is open, driven by the stream\'s trace events', async () => {
        const page = await s.page();
        const streams = [];
        page.on('request', (r) => { if (r.url().includes('/api/2.0/exptrack/stream')) streams.push(new URL(r.url()).searchParams); });
        await page.goto(`${s.base}/#/traces?exp=${exp}`);
        await page.waitForSelector('table.traces tbody tr[data-trace]');
        assert.equal(await page.isVisible('.page-head .live'), true);
        assert.ok(streams.some((q) => q.get('experiment_id') === exp && q.get('traces') === 'true'), 'the tab watches its experiment with traces=true');
        const id = await createTrace(s.base, exp, { name: 'fresh', when: Date.now(), ms: 5 });
        await page.waitForSelector(`table.traces tr[data-trace="${id}"].new-trace`, { timeout: 10000 });
        assert.equal((await rowIds(page))[0], id);
        await page.close();
    });

    test('a trace written before the tab\'s stream opened appears once it opens', async () => {
        const page = await s.page();
        const release = await holdStreams(page);
        await page.goto(`${s.base}/#/traces?exp=${exp}`);
        await page.waitForSelector('table.traces tbody tr[data-trace]');
        let id;
        await writeSeenByHub(s.base, { experiment_id: exp, traces: 'true' }, 'traces', async () => {
            id = await createTrace(s.base, exp, { name: 'in-the-gap', when: Date.now(), ms: 5 });
        });
        assert.equal(await page.$(`table.traces tr[data-trace="${id}"]`), null, 'not shown before the stream opens');
        release();
        await page.waitForSelector(`table.traces tr[data-trace="${id}"]`, { timeout: 10000 });
        assert.equal((await rowIds(page))[0], id);
        await page.close();
    });

    test('the trace page: span tree beside the waterfall, the error span, rollups', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/traces?exp=${exp}`);
        await page.click(`tr[data-trace="${chat.id}"] a.trace-link`);
        await page.waitForSelector('.span-row');
        assert.match(page.url(), new RegExp(`#/trace/${chat.id}$`));
        const rows = await page.$$eval('.span-row', (rs) => rs.map((r) => `${r.getAttribute('aria-level')}:${r.querySelector('.span-name').textContent}`));
        assert.deepEqual(rows, ['1:chat', '2:retrieve', '2:llm', '3:tool', '2:big']);
        // the waterfall: each bar where its span lies on the trace's time axis
        const bar = (sid) => page.$eval(`.span-row[data-span="${sid}"] .span-bar`, (b) => [parseFloat(b.style.left), parseFloat(b.style.width)]);
        assert.deepEqual(await bar(chat.spans.root), [0, 100]);
        const [l, w] = await bar(chat.spans.llm);
        assert.ok(Math.abs(l - (320 / 1400) * 100) < 0.01 && Math.abs(w - (880 / 1400) * 100) < 0.01, `${l} ${w}`);
        const box = async (sel) => page.$eval(sel, (e) => { const r = e.getBoundingClientRect(); return { x: r.x, w: r.width }; });
        const label = await box(`.span-row[data-span="${chat.spans.llm}"] .span-label`);
        const time = await box(`.span-row[data-span="${chat.spans.llm}"] .span-time`);
        assert.ok(time.x >= label.x + label.w - 1, 'the timeline is beside the tree');
        // the error span stands out, and says what went wrong
        assert.deepEqual(await page.$$eval('.span-row.span-error', (rs) => rs.map((r) => r.dataset.span)), [chat.spans.tool]);
        const color = (sid) => page.$eval(`.span-row[data-span="${sid}"] .span-bar`, (b) => getComputedStyle(b).backgroundColor);
        assert.notEqual(await color(chat.spans.tool), await color(chat.spans.llm), 'the error bar has its own colour');
        assert.equal(await page.$eval(`.span-row[data-span="${chat.spans.tool}"] .span-name`, (e) => getComputedStyle(e).fontWeight), '600');
        await page.click(`.span-row[data-span="${chat.spans.tool}"]`);
        await page.waitForSelector(`.span-detail[data-span="${chat.spans.tool}"] .span-error-msg`);
        assert.match(await page.textContent('.span-error-msg'), /tool failed: timeout.*TimeoutError search took too long/s);
        // the URL follows once the span is painted
        await page.waitForFunction((sid) => location.hash.includes(`span=${sid}`), chat.spans.tool);
        assert.match(page.url(), new RegExp(`span=${chat.spans.tool}`));
        // rollups
        assert.equal(await page.textContent('.trace-rollups .figure.tokens .figure-value'), '42');
        assert.equal(await page.textContent('.trace-rollups .figure.latency .figure-value'), '1.4 s');
        assert.equal(await page.textContent('.trace-rollups .figure.spans .figure-value'), '5');
        assert.equal(await page.textContent('.trace-rollups .figure.errors .figure-value'), '1');
        assert.equal(await page.textContent('.span-types tr[data-type="LLM"] td:nth-child(3)'), '880 ms');
        // keyboard: up moves to the LLM span, left goes to its parent, a fold hides the children
        await page.focus('.span-scroll');
        await page.keyboard.press('ArrowUp');
        await page.waitForSelector(`.span-detail[data-span="${chat.spans.llm}"]`);
        await page.keyboard.press('ArrowLeft');
        assert.equal(await page.locator('.span-row').count(), 4, 'the LLM span folded');
        await page.keyboard.press('ArrowRight');
        assert.equal(await page.locator('.span-row').count(), 5);
        // inputs of the selected span in the JSON viewer
        await page.click(`.span-row[data-span="${chat.spans.retrieve}"]`);
        await page.waitForSelector(`.span-detail[data-span="${chat.spans.retrieve}"]`);
        assert.match(await page.textContent('.span-inputs .json-view'), /"query": "exptrack"/);
        assert.match(await page.textContent('.span-outputs .json-view'), /1 item/);
        await screenshot(page, 'trace-page');
        await page.close();
    });

    test('an IN_PROGRESS trace is followed live until it ends, then the page stops watching', async () => {
        const t = hex(16), id = `tr-${t}`, when = Date.now();
        const root = hex(8), child = hex(8);
        assertOk(await api(s.base, 'POST', '/api/3.0/mlflow/traces', { trace: { trace_info: {
            trace_id: id, trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: exp } },
            request_time: new Date(when).toISOString(), execution_duration: '0s', state: 'IN_PROGRESS', tags: { 'mlflow.traceName': 'agent' },
        } } }));
        const spans = async (list) => assertOk(await api(s.base, 'POST', '/v1/traces', otlpBody(t, when, list), { headers: { 'x-mlflow-experiment-id': exp } }));
        const page = await s.page();
        const streams = [];
        let closed = 0; // streams the page closed (an EventSource's close() aborts its request)
        page.on('request', (r) => { if (r.url().includes('/api/2.0/exptrack/stream')) streams.push(r.url()); });
        page.on('requestfailed', (r) => { if (r.url().includes('/api/2.0/exptrack/stream')) closed++; });
        await page.goto(`${s.base}/#/trace/${id}`);
        await page.waitForSelector('#view[data-ready="1"] .page-head .live');
        await page.evaluate(() => { window.__sameDocument = 1; });
        assert.ok(streams.some((u) => new URL(u).searchParams.get('traces') === 'true' && new URL(u).searchParams.get('experiment_id') === exp), streams.join(' '));
        assert.match(await page.textContent('.page-head'), /IN_PROGRESS|in progress/i);
        // spans arrive as OpenTelemetry exports them, children first: the tree grows without a reload
        await spans([{ id: child, parent: root, name: 'plan', start: 10, end: 200 }]);
        await page.waitForSelector(`.span-row[data-span="${child}"]`, { timeout: 10000 });
        assert.equal(await page.isVisible('.page-head .live'), true, 'still followed while IN_PROGRESS');
        await page.click(`.span-row[data-span="${child}"]`);
        await page.waitForFunction((c) => location.hash.includes(`span=${c}`), child);
        // the root span ends the trace: its state shows it, the selection stays, the live marker goes
        await spans([{ id: root, name: 'agent', start: 0, end: 500 }]);
        await page.waitForFunction(() => !document.querySelector('.page-head .live') && /OK/.test(document.querySelector('.page-head')?.textContent || ''), null, { timeout: 10000 });
        await page.waitForSelector(`.span-row[data-span="${root}"]`);
        assert.equal(await page.getAttribute('.span-detail', 'data-span'), child);
        for (let i = 0; i < 50 && closed < streams.length; i++) await page.waitForTimeout(100);
        assert.equal(closed, streams.length, 'the page stopped watching once the trace ended');
        assert.equal(await page.evaluate(() => window.__sameDocument), 1, 'no reload');
        await page.close();
    });

    test('a 1 MB span input opens without freezing the page; long strings show more on demand', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/trace/${chat.id}`);
        await page.waitForSelector(`.span-row[data-span="${chat.spans.big}"]`);
        const t0 = Date.now();
        await page.click(`.span-row[data-span="${chat.spans.big}"]`);
        await page.waitForSelector(`.span-detail[data-span="${chat.spans.big}"] .span-inputs .j-long`);
        const ms = Date.now() - t0;
        assert.ok(ms < 3000, `the span opened in ${ms} ms`);
        // the page still answers at once
        const t1 = Date.now();
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
        assert.ok(Date.now() - t1 < 1000);
        const shown = () => page.$eval('.span-inputs .j-long .j-text', (e) => e.textContent.length);
        assert.ok(await shown() < 1000, 'truncated');
        assert.match(await page.textContent('.span-inputs .j-rest'), /999,600 more characters/);
        await page.click('.span-inputs .j-more');
        assert.equal(await shown(), 1 + 400 + 20000);
        const t2 = Date.now();
        await page.click('.span-inputs .j-all');
        assert.equal(await shown(), 1 + 1000000);
        assert.ok(Date.now() - t2 < 3000, `show all took ${Date.now() - t2} ms`);
        // shown whole, the text is blocks laid out only near the view (content-visibility: auto)
        const chunks = await page.$$eval('.span-inputs .j-text > .j-chunk', (cs) => ({ n: cs.length, cv: getComputedStyle(cs[0]).contentVisibility }));
        assert.ok(chunks.n >= 90, `${chunks.n} blocks`);
        assert.equal(chunks.cv, 'auto');
        // a copy of a selection across the blocks is the string's characters, without the line breaks between blocks
        const copied = await page.$eval('.span-inputs .j-text', (box) => {
            const texts = [...box.querySelectorAll('.j-chunk')].map((c) => c.firstChild);
            const r = document.createRange();
            r.setStart(texts[0], 1); // after the opening quote
            r.setEnd(texts[texts.length - 1], texts[texts.length - 1].data.length);
            getSelection().removeAllRanges();
            getSelection().addRange(r);
            const dt = new DataTransfer();
            texts[0].parentNode.dispatchEvent(new ClipboardEvent('copy', { clipboardData: dt, bubbles: true, cancelable: true }));
            return { data: dt.getData('text/plain'), text: box.textContent.slice(1), plain: getSelection().toString() };
        });
        assert.equal(copied.data.length, 1000000);
        assert.equal(copied.data, copied.text);
        assert.ok(copied.plain.length > copied.data.length, 'the browser alone would add line breaks between the blocks');
        await page.close();
    });

    test('feedback: thumbs down with a comment, stored through the assessments API', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/trace/${chat.id}`);
        await page.waitForSelector('.feedback-form');
        assert.equal(await page.textContent('.assessment-list'), 'No assessments yet.');
        await page.click('button.thumb-down');
        await page.fill('.feedback-form textarea', 'the tool timed out');
        await page.click('.feedback-form button[type=submit]');
        await page.waitForSelector('.feedback-msg:has-text("Feedback saved.")');
        assert.equal(await page.textContent('.assessment-list tbody tr td.value'), '✗ no');
        const info = assertOk(await api(s.base, 'GET', `/api/3.0/mlflow/traces/${chat.id}`)).trace.trace_info;
        assert.equal(info.assessments.length, 1);
        const a = info.assessments[0];
        assert.equal(a.assessment_name, 'user_feedback');
        assert.deepEqual(a.feedback, { value: false });
        assert.equal(a.rationale, 'the tool timed out');
        assert.equal(a.source.source_type, 'HUMAN');
        // the table shows it too
        await page.goto(`${s.base}/#/traces?exp=${exp}`);
        await page.waitForSelector(`tr[data-trace="${chat.id}"] td.col-assessments .chip`);
        assert.equal(await page.textContent(`tr[data-trace="${chat.id}"] td.col-assessments`), 'user_feedback ✗ no');
        await page.close();
    });

    test('assessments: edited in place, overridden, deleted after a confirmation', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/trace/${chat.id}`);
        await page.waitForSelector('.assessment-list tbody tr[data-assessment]');
        const stored = async () => (assertOk(await api(s.base, 'GET', `/api/3.0/mlflow/traces/${chat.id}`)).trace.trace_info.assessments || [])
            .slice().sort((a, b) => a.create_time.localeCompare(b.create_time));
        const [first] = await stored();
        assert.equal(first.source.source_id, 'exptrack dashboard', 'without --auth the dashboard names itself');
        const row = (aid) => `.assessment-list tr[data-assessment="${aid}"]`;
        // edit: thumbs up instead of down, a new comment; the same assessment changes
        await page.click(`${row(first.assessment_id)} button.edit-assessment`);
        await page.waitForSelector(`tr.assessment-editor[data-editing="${first.assessment_id}"]`);
        assert.equal(await page.getAttribute(`${row(first.assessment_id)} button.edit-assessment`, 'aria-expanded'), 'true');
        assert.equal(await page.getAttribute('tr.assessment-editor button.thumb-down', 'aria-pressed'), 'true', 'the editor starts from the stored value');
        assert.equal(await page.inputValue('tr.assessment-editor textarea'), 'the tool timed out');
        await page.click('tr.assessment-editor button.thumb-up');
        await page.fill('tr.assessment-editor textarea', 'fine after the retry');
        await page.click('tr.assessment-editor button.save-assessment');
        await page.waitForSelector('.assess-msg:has-text("user_feedback changed.")');
        assert.equal(await page.locator('tr.assessment-editor').count(), 0, 'the editor closes');
        assert.equal(await page.textContent(`${row(first.assessment_id)} td.value`), '✓ yes');
        assert.equal(await page.textContent(`${row(first.assessment_id)} td.rationale`), 'fine after the retry');
        let list = await stored();
        assert.equal(list.length, 1);
        assert.equal(list[0].assessment_id, first.assessment_id);
        assert.deepEqual(list[0].feedback, { value: true });
        assert.equal(list[0].rationale, 'fine after the retry');
        // Escape closes an editor without saving
        await page.click(`${row(first.assessment_id)} button.edit-assessment`);
        await page.fill('tr.assessment-editor textarea', 'not saved');
        await page.keyboard.press('Escape');
        assert.equal(await page.locator('tr.assessment-editor').count(), 0);
        assert.equal((await stored())[0].rationale, 'fine after the retry');
        // override: a new assessment replaces it; the old one stays, marked
        await page.click(`${row(first.assessment_id)} button.edit-assessment`);
        await page.click('tr.assessment-editor button.thumb-down');
        await page.fill('tr.assessment-editor textarea', 'second opinion: wrong');
        await page.click('tr.assessment-editor button.override-assessment');
        await page.waitForSelector('.assess-msg:has-text("user_feedback overridden.")');
        list = await stored();
        assert.equal(list.length, 2);
        const second = list.find((a) => a.assessment_id !== first.assessment_id);
        assert.equal(list.find((a) => a.assessment_id === first.assessment_id).valid, false);
        assert.deepEqual(second.feedback, { value: false });
        assert.equal(second.rationale, 'second opinion: wrong');
        assert.equal(second.source.source_type, 'HUMAN');
        assert.match(await page.getAttribute(row(first.assessment_id), 'class'), /overridden/);
        assert.equal(await page.textContent(`${row(second.assessment_id)} td.value`), '✗ no');
        // delete: a dialog names what goes; Cancel keeps it, Delete removes it
        await page.click(`${row(second.assessment_id)} button.delete-assessment`);
        await page.waitForSelector('dialog.confirm[open]');
        assert.match(await page.textContent('dialog.confirm .dialog-body'), /^user_feedback \(✗ no, by exptrack dashboard\) is removed from this trace for good\./);
        await page.click('dialog.confirm button:has-text("Cancel")');
        assert.equal((await stored()).length, 2);
        await page.click(`${row(second.assessment_id)} button.delete-assessment`);
        await page.click('dialog.confirm button:has-text("Delete")');
        await page.waitForSelector('.assess-msg:has-text("user_feedback deleted.")');
        assert.equal(await page.locator(row(second.assessment_id)).count(), 0);
        list = await stored();
        assert.deepEqual(list.map((a) => a.assessment_id), [first.assessment_id]);
        assert.equal(await page.getAttribute('.trace-assessments', 'data-count'), '1');
        await screenshot(page, 'trace-assessments');
        await page.close();
    });

    test('links: trace -> its run -> the run\'s traces', async () => {
        // runs linked by link-to-run: one of this experiment, one of another (named by runs/get), the source run too
        const judge = (await s.api.createRun(exp, { run_name: 'judge-run', start_time: T0 })).info.run_id;
        const otherExp = await s.api.createExperiment('genai-elsewhere');
        const far = (await s.api.createRun(otherExp, { run_name: 'far-run', start_time: T0 })).info.run_id;
        for (const r of [judge, far, runId]) assertOk(await api(s.base, 'POST', '/api/2.0/mlflow/traces/link-to-run', { trace_ids: [chat.id], run_id: r }));
        const page = await s.page();
        const requests = [];
        page.on('request', (r) => requests.push(r.url()));
        await page.goto(`${s.base}/#/trace/${chat.id}`);
        await page.waitForSelector('.linked-runs[data-count="2"]');
        const linked = await page.$$eval('.linked-runs a.linked-run', (as) => as.map((a) => [a.textContent, a.getAttribute('href')]));
        assert.deepEqual(linked.sort(), [['far-run', `#/run/${far}`], ['judge-run', `#/run/${judge}`]]);
        assert.equal(requests.filter((u) => u.includes('/runs/get')).length, 1, 'only the run of the other experiment is read by runs/get');
        // the linked run's page lists the trace as linked, the source run's as its source
        await page.click('.linked-runs a.linked-run:text-is("judge-run")');
        await page.waitForSelector(`.run-trace-list tr[data-trace="${chat.id}"]`);
        assert.equal(await page.textContent(`.run-trace-list tr[data-trace="${chat.id}"] .trace-kind`), 'linked');
        await page.goto(`${s.base}/#/trace/${chat.id}`);
        // the source run by its name, its id in the title
        await page.waitForSelector('a.source-run[data-run-name="rag-eval"]');
        assert.equal(await page.textContent('a.source-run'), `rag-eval (${runId.slice(0, 8)})`);
        assert.equal(await page.getAttribute('a.source-run', 'title'), runId);
        assert.equal(await page.textContent('.page-head a.source-run-button'), 'Run: rag-eval');
        await page.click('a.source-run');
        await page.waitForSelector('a.run-traces');
        assert.match(page.url(), new RegExp(`#/run/${runId}$`));
        await page.waitForSelector(`.run-trace-list tr[data-trace="${chat.id}"]`);
        assert.equal(await page.textContent(`.run-trace-list tr[data-trace="${chat.id}"] .trace-kind`), 'source run');
        assert.equal(await page.getAttribute('.run-trace-list', 'data-count'), '1');
        await page.click('a.run-traces');
        await page.waitForFunction(() => document.querySelector('table.traces')?.dataset.rows === '1');
        assert.deepEqual(await rowIds(page), [chat.id]);
        assert.equal(await page.inputValue('input[aria-label="search traces"]'), `run_id = '${runId}'`);
        await page.close();
    });

    test('a trace of 10,000 spans: ready, and only the rows in view are in the DOM', async () => {
        const id = await wideTrace(s.base, exp, 10000);
        const page = await s.page();
        const t0 = Date.now();
        await page.goto(`${s.base}/#/trace/${id}`);
        await page.waitForSelector('#view[data-ready="1"] .span-row');
        const ms = Date.now() - t0;
        assert.ok(ms < 15000, `ready in ${ms} ms`);
        assert.equal(await page.getAttribute('.span-scroll', 'data-rows'), '10000');
        assert.ok(await page.locator('.span-row').count() < 120);
        await page.$eval('.span-scroll', (e) => { e.scrollTop = 26 * 5000; });
        await page.waitForSelector('.span-row[data-index="5000"]');
        const t1 = Date.now();
        await page.click('.span-row[data-index="5000"]');
        await page.waitForSelector('.span-detail h2:has-text("step-5000")');
        assert.ok(Date.now() - t1 < 2000);
        await page.close();
    });

    test('phone width and the dark theme: no sideways scroll, the error span still marked', async () => {
        const page = await s.page();
        await page.setViewportSize({ width: 390, height: 844 });
        await page.emulateMedia({ colorScheme: 'dark' });
        const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        await page.goto(`${s.base}/#/traces?exp=${exp}`);
        await page.waitForSelector('table.traces tbody tr[data-trace]');
        assert.ok(await overflow() <= 1, `the traces page scrolls sideways by ${await overflow()}px`);
        await screenshot(page, 'traces-phone-dark');
        await page.goto(`${s.base}/#/trace/${chat.id}?span=${chat.spans.tool}`);
        await page.waitForSelector(`.span-detail[data-span="${chat.spans.tool}"]`);
        assert.ok(await overflow() <= 1, `the trace page scrolls sideways by ${await overflow()}px`);
        const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
        assert.ok(bg.match(/\d+/g).slice(0, 3).map(Number).reduce((a, b) => a + b) < 150, `dark background, got ${bg}`);
        // the assessments stack, so their actions are in view without scrolling sideways
        const edit = await page.locator('.assessment-list button.edit-assessment').first().boundingBox();
        assert.ok(edit && edit.x >= 0 && edit.x + edit.width <= 390, `the Edit button at ${JSON.stringify(edit)}`);
        const pane = await page.$eval('.span-pane', (e) => e.getBoundingClientRect().width);
        assert.ok(pane <= 390 && pane > 300, `the span pane is ${pane}px wide`);
        await screenshot(page, 'trace-phone-dark');
        await page.close();
    });

    test('no console errors', () => {
        assert.deepEqual(s.errors, []);
    });
});

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exptrack-traces-auth-'));
const PW = 'admin-password-for-traces-ui';
fs.writeFileSync(path.join(dir, 'pw'), `${PW}\n`, { mode: 0o600 });
const basic = (u, p) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe('traces views with --auth', () => {
    const s = useBrowserStack({ before, after }, { serverArgs: ['--auth', '--admin-password-file', path.join(dir, 'pw')] });
    const users = {};
    let exp, secret, chat, hidden;
    before(async () => {
        const admin = { authorization: basic('admin', PW) };
        for (const u of ['owner', 'reader']) {
            assertOk(await api(s.base, 'POST', '/api/2.0/mlflow/users/create', { username: u, password: `${u}-pw-12345` }, { headers: admin }));
            users[u] = { authorization: basic(u, `${u}-pw-12345`) };
        }
        const O = { headers: users.owner };
        exp = assertOk(await api(s.base, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'shared-genai' }, O)).experiment_id;
        secret = assertOk(await api(s.base, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'secret-genai' }, O)).experiment_id;
        assertOk(await api(s.base, 'POST', '/api/2.0/mlflow/experiments/permissions/create', { experiment_id: secret, username: 'reader', permission: 'NO_PERMISSIONS' }, O));
        chat = await chatTrace(s.base, exp, { headers: users.owner, bigChars: 10 });
        hidden = await createTrace(s.base, secret, { name: 'hidden', headers: users.owner });
    }, { timeout: 60000 });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    async function pageAs(user) {
        const page = await s.page();
        await page.setExtraHTTPHeaders(users[user]);
        return page;
    }

    test('a reader sees the trace; feedback is refused in words and nothing is stored', async () => {
        const page = await pageAs('reader');
        await page.goto(`${s.base}/#/trace/${chat.id}`);
        await page.waitForSelector('.feedback-form');
        await page.click('button.thumb-up');
        await page.click('.feedback-form button[type=submit]');
        await page.waitForSelector('.feedback-msg.error');
        assert.match(await page.textContent('.feedback-msg'), /^You do not have permission to add feedback to this trace\. Ask the experiment's owner for EDIT on it\. \(.+\)$/);
        assert.equal(await page.locator('.span-row').count(), 5, 'the page stays whole');
        const info = assertOk(await api(s.base, 'GET', `/api/3.0/mlflow/traces/${chat.id}`, undefined, { headers: users.owner })).trace.trace_info;
        assert.equal((info.assessments || []).length, 0);
        await screenshot(page, 'trace-403');
        await page.close();
    });

    test('an experiment the user may not read: the Traces tab says so', async () => {
        const page = await pageAs('reader');
        await page.goto(`${s.base}/#/traces?exp=${secret}`);
        await page.waitForSelector('.error[role=alert]');
        assert.match(await page.textContent('.error[role=alert]'), /^You do not have permission to read the traces of this experiment\./);
        await page.goto(`${s.base}/#/trace/${hidden}`);
        await page.waitForFunction(() => /permission to read this trace/.test(document.querySelector('.error[role=alert]')?.textContent || ''));
        assert.match(await page.textContent('.error[role=alert]'), /^You do not have permission to read this trace\. Ask the owner of its experiment for READ on it\. \(.+\)$/);
        await page.close();
    });

    test('the owner adds feedback', async () => {
        const page = await pageAs('owner');
        await page.goto(`${s.base}/#/trace/${chat.id}`);
        await page.click('button.thumb-up');
        await page.click('.feedback-form button[type=submit]');
        await page.waitForSelector('.feedback-msg:has-text("Feedback saved.")');
        assert.equal(await page.textContent('.feedback-form .feedback-as'), 'as owner');
        const info = assertOk(await api(s.base, 'GET', `/api/3.0/mlflow/traces/${chat.id}`, undefined, { headers: users.owner })).trace.trace_info;
        assert.deepEqual(info.assessments.map((a) => a.feedback.value), [true]);
        assert.deepEqual(info.assessments[0].source, { source_type: 'HUMAN', source_id: 'owner' }, 'recorded as the signed-in user');
        assert.equal(await page.textContent('.assessment-list tbody tr td.source'), 'owner');
        await page.close();
    });

    test('a reader may not edit or delete the owner\'s feedback: refused in words, nothing changes', async () => {
        const page = await pageAs('reader');
        await page.goto(`${s.base}/#/trace/${chat.id}`);
        await page.waitForSelector('.assessment-list tbody tr[data-assessment]');
        await page.click('.assessment-list button.delete-assessment');
        await page.click('dialog.confirm button:has-text("Delete")');
        await page.waitForSelector('dialog.confirm .dialog-msg .error');
        assert.match(await page.textContent('dialog.confirm .dialog-msg'), /^You do not have permission to change the assessments of this trace\. Ask the experiment's owner for EDIT on it\. \(.+\)$/);
        await page.click('dialog.confirm button:has-text("Cancel")');
        await page.click('.assessment-list button.edit-assessment');
        await page.click('tr.assessment-editor button.thumb-down');
        await page.click('tr.assessment-editor button.save-assessment');
        await page.waitForSelector('tr.assessment-editor .assess-msg.error');
        assert.match(await page.textContent('tr.assessment-editor .assess-msg'), /^You do not have permission to change the assessments of this trace\./);
        const info = assertOk(await api(s.base, 'GET', `/api/3.0/mlflow/traces/${chat.id}`, undefined, { headers: users.owner })).trace.trace_info;
        assert.deepEqual(info.assessments.map((a) => [a.feedback.value, a.valid]), [[true, true]]);
        await page.close();
    });

    test('no console errors besides the refused requests', () => {
        const rest = s.errors.filter((e) => !/status of 403/.test(e));
        assert.deepEqual(rest, []);
        assert.ok(s.errors.length >= 5, 'the five refusals were seen');
    });
});
