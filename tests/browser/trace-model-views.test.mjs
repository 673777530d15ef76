// The trace and model pages as a user reads them (issue 17, part 2): the
// trace page shows its span tree and waterfall first at desktop and phone
// width in both themes, its assessments one button away; spans with
// megabyte attributes open at once with few DOM nodes and each opens at its
// top; the version page names the experiment of its run and of its logged
// model (one experiments/get for both), its id when the name cannot be read.
// Data made through the real API.
import { test, describe, before, after } from 'node:test';
import { useBrowserStack, screenshot, assert } from './helpers.mjs';
import { api, assertOk } from '../api/harness.mjs';
import { chatTrace, wideTrace, otlpBody, hex } from './traces-data.mjs';
import { payloadTrace } from './traces-payload.mjs';
import { seedModels } from './models-data.mjs';

const SIZES = { desktop: { width: 1440, height: 900 }, phone: { width: 390, height: 844 } };

describe('trace and model pages', () => {
    const s = useBrowserStack({ before, after });
    let exp, chat, wide, heavy, models;
    before(async () => {
        exp = await s.api.createExperiment('genai-views');
        const runId = (await s.api.createRun(exp, { run_name: 'rag-eval' })).info.run_id;
        chat = await chatTrace(s.base, exp, { runId, bigChars: 1000 });
        wide = await wideTrace(s.base, exp, 300);
        heavy = await payloadTrace(s.base, exp);
        models = await seedModels(s.api, s.base, { bigVersions: 0 });
    }, { timeout: 240000 });

    /** Where the page's parts are, in CSS pixels of the viewport. */
    const boxes = (page) => page.evaluate(() => {
        const top = (sel) => document.querySelector(sel)?.getBoundingClientRect().top ?? null;
        return {
            row: top('.span-row'), tree: top('.span-pane'), detailHead: top('.span-detail .span-head'),
            assess: top('.trace-assessments'), overview: top('.trace-overview'),
            overflow: document.documentElement.scrollWidth - window.innerWidth, height: window.innerHeight,
        };
    });

    for (const [size, viewport] of Object.entries(SIZES)) {
        for (const scheme of ['light', 'dark']) {
            test(`trace page, ${size} ${scheme}: the span tree and the chosen span come first`, async () => {
                const page = await s.page();
                await page.setViewportSize(viewport);
                await page.emulateMedia({ colorScheme: scheme });
                await page.goto(`${s.base}/#/trace/${chat.id}?span=${chat.spans.tool}`);
                await page.waitForSelector('#view[data-ready="1"] .span-row');
                const b = await boxes(page);
                // every span row of the chat trace (5) is in the first screen, and the head of the chosen span too
                assert.ok(b.row + 5 * 26 <= b.height, `the span rows end at ${b.row + 5 * 26} px of ${b.height}`);
                assert.ok(b.detailHead < b.height, `the chosen span's head at ${b.detailHead} px of ${b.height}`);
                assert.ok(b.tree < b.assess && b.tree < b.overview, `tree ${b.tree}, assessments ${b.assess}, overview ${b.overview}`);
                assert.ok(b.overflow <= 1, `the page scrolls sideways by ${b.overflow} px`);
                // desktop: the assessments under the short tree, beside the details, in the first screen too
                if (size === 'desktop') assert.ok(b.assess < b.height, `the assessments at ${b.assess} px of ${b.height}`);
                // the figures stay in the first screen, above the tree
                const fig = await page.$eval('.trace-rollups .figure.latency', (e) => e.getBoundingClientRect().bottom);
                assert.ok(fig <= b.tree, `latency figure ends at ${fig}, the tree starts at ${b.tree}`);
                assert.equal(await page.textContent('.trace-rollups .figure.latency .figure-value'), '1.4 s');
                await screenshot(page, `trace-first-${size}-${scheme}`);
                await page.close();
            });
        }
    }

    test('phone: a long span tree leaves the chosen span\'s head in the first screen', async () => {
        const page = await s.page();
        await page.setViewportSize(SIZES.phone);
        await page.goto(`${s.base}/#/trace/${wide}`);
        await page.waitForSelector('#view[data-ready="1"] .span-row');
        const b = await boxes(page);
        assert.ok(b.detailHead < b.height - 20, `the details' head at ${b.detailHead} px of ${b.height}`);
        // and the tree still shows a good part of itself
        const treeH = await page.$eval('.span-scroll', (e) => e.clientHeight);
        assert.ok(treeH >= 0.4 * b.height - 2, `the tree is ${treeH} px high`);
        await page.close();
    });

    test('"Feedback" goes to the feedback form, focused, and the form still records feedback', async () => {
        const page = await s.page();
        await page.setViewportSize(SIZES.desktop);
        await page.goto(`${s.base}/#/trace/${chat.id}`);
        await page.waitForSelector('#view[data-ready="1"] .feedback-form');
        assert.equal(await page.getAttribute('button.to-feedback', 'aria-controls'), 'trace-assessments');
        await page.focus('button.to-feedback');
        await page.keyboard.press('Enter');
        assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'thumbs up');
        const form = await page.$eval('.feedback-form', (f) => { const r = f.getBoundingClientRect(); return { top: r.top, bottom: r.bottom }; });
        assert.ok(form.top >= 0 && form.top < 900, `the form at ${form.top}`);
        await page.keyboard.press('Space');
        assert.equal(await page.getAttribute('button.thumb-up', 'aria-pressed'), 'true');
        await page.fill('.feedback-form textarea', 'right answer');
        await page.click('.feedback-form button[type=submit]');
        await page.waitForSelector('.assessment-list table.assessments tr[data-assessment]');
        assert.match(await page.textContent('.assessment-list'), /right answer/);
        await page.close();
    });

    test('spans of a megabyte of attributes: shown at once, a few hundred nodes, each from its top', async () => {
        const page = await s.page();
        await page.setViewportSize(SIZES.desktop);
        await page.goto(`${s.base}/#/trace/${heavy.id}`);
        await page.waitForSelector('#view[data-ready="1"] .span-row');
        const scrolled = [];
        for (const [kind, sid] of Object.entries(heavy.spans)) {
            if (kind === 'root') continue;
            const r = await page.evaluate(async (id) => {
                const painted = new Promise((res) => requestAnimationFrame(() => setTimeout(res, 0)));
                const s0 = performance.now();
                document.querySelector(`.span-row[data-span="${id}"]`).click();
                await painted;
                const d = document.querySelector('.span-detail');
                return { ms: performance.now() - s0, span: d.dataset.span, nodes: d.querySelectorAll('*').length, text: d.textContent.length, top: d.scrollTop };
            }, sid);
            assert.equal(r.span, sid, kind);
            // lazy: about 1 MB of values, but a bounded DOM (200 members a level, 400 characters a string)
            assert.ok(r.nodes < 3000, `${kind}: ${r.nodes} elements`);
            assert.ok(r.text < 200000, `${kind}: ${r.text} characters of text`);
            // generous under a loaded machine; the bench measures the real figure (goal 50 ms)
            assert.ok(r.ms < 1500, `${kind}: shown in ${Math.round(r.ms)} ms`);
            assert.equal(r.top, 0, `${kind}: the details start at their top`);
            // scrolled down in these details, the next span still opens at its top
            scrolled.push(await page.$eval('.span-detail', (d) => { d.scrollTop = d.scrollHeight; return d.scrollTop; }));
        }
        assert.ok(scrolled.some((y) => y > 0), `the details did scroll: ${scrolled}`);
        // the 18,000 keys: a screenful (40) drawn in the click, before the paint; the count known at once,
        // the scan of an earlier visit being kept with the span. The visits above may leave before the
        // scan ends (it stops when the span is left, "14,990+ keys" on a fast machine), so one visit
        // waits here for the whole count before leaving.
        await page.click(`.span-row[data-span="${heavy.spans.wide}"]`);
        await page.waitForFunction(() => document.querySelector('.span-outputs .j-summary')?.textContent === ' 18,000 keys ');
        await page.click(`.span-row[data-span="${heavy.spans.nested}"]`);
        await page.waitForFunction((id) => location.hash.includes(`span=${id}`), heavy.spans.nested); // not the wide span's
        const first = await page.evaluate((id) => {
            document.querySelector(`.span-row[data-span="${id}"]`).click();
            return { members: document.querySelectorAll('.span-outputs .j-body > .j-member').length, summary: document.querySelector('.span-outputs .j-summary').textContent, url: location.hash.includes(id) };
        }, heavy.spans.wide);
        assert.deepEqual(first, { members: 40, summary: ' 18,000 keys ', url: false });
        await page.waitForFunction((id) => location.hash.includes(`span=${id}`), heavy.spans.wide); // written after the paint
        // then 200 listed, the rest one click away
        await page.click(`.span-row[data-span="${heavy.spans.nested}"]`);
        await page.click(`.span-row[data-span="${heavy.spans.wide}"]`);
        // a screenful (40) drawn before the first paint, the rest of the 200 in the frames after it
        await page.waitForFunction(() => document.querySelector('.span-outputs .j-more-members'));
        assert.equal(await page.locator('.span-outputs .j-body > .j-member').count(), 200);
        // the count is known once the rest of the text is scanned, between frames ("400+" until then)
        await page.waitForFunction(() => document.querySelector('.span-outputs .j-more-members')?.textContent === 'show 200 more of 18,000');
        assert.match(await page.textContent('.span-outputs .j-summary'), /^ 18,000 keys $/);
        assert.match(await page.textContent('.span-outputs .j-body > .j-member:first-child'), /^"feature_00000": "\w/);
        await page.click('.span-outputs .j-more-members');
        assert.equal(await page.locator('.span-outputs .j-body > .j-member').count(), 400);
        assert.match(await page.textContent('.span-outputs .j-body > .j-member:nth-child(400)'), /^"feature_00399": /);
        // 1,800 documents (parsed as far as drawn): the first one opened shows its fields
        await page.click(`.span-row[data-span="${heavy.spans.nested}"]`);
        assert.match(await page.textContent('.span-inputs .json-view'), /"query": "corpus"/);
        await page.waitForFunction(() => /"documents": ▸?\[ 1,800 items/.test(document.querySelector('.span-inputs .json-view')?.textContent));
        await page.click('.span-inputs .j-member:has(> .j-key:text-is("\\"documents\\"")) > .j-container > .j-toggle');
        await page.click('.span-inputs .j-member:has(> .j-key:text-is("\\"documents\\"")) .j-body > .j-member:first-child > .j-container > .j-toggle');
        assert.match(await page.textContent('.span-inputs .json-view'), /"id": "doc-0"[^]*"score": 1,?[^]*"metadata": ▸\{ 2 keys \}[^]*"text": "/);
        // the plain 0.9 MB attribute: its head, the rest on demand
        await page.click(`.span-row[data-span="${heavy.spans.raw}"]`);
        assert.match(await page.textContent('.span-attributes .j-rest'), /899,600 more characters/);
        await page.close();
    });

    test('a long JSON attribute that breaks off: the members before the break, then says so; not JSON at all: its text', async () => {
        const t = hex(16), root = hex(8), cut = hex(8), bad = hex(8);
        const long = 'y'.repeat(70000);
        assertOk(await api(s.base, 'POST', '/v1/traces', otlpBody(t, Date.UTC(2025, 5, 3), [
            { id: root, name: 'root', start: 0, end: 100, attrs: { 'mlflow.spanInputs': `{"a": "${long}", "b": [1, 2], "c": {"d": tru` } },
            { id: cut, parent: root, name: 'array', start: 1, end: 50, attrs: { 'mlflow.spanOutputs': `[${Array.from({ length: 5000 }, (_, i) => `{"i": ${i}, "pad": "zzzzzzzzzzzzzzzzzzzz"}`).join(', ')}, "unterminated` } },
            { id: bad, parent: root, name: 'bad', start: 50, end: 90, attrs: { 'mlflow.spanInputs': `{${long}` } },
        ]), { headers: { 'x-mlflow-experiment-id': exp } }));
        const page = await s.page();
        await page.goto(`${s.base}/#/trace/tr-${t}?span=${root}`);
        await page.waitForSelector(`.span-detail[data-span="${root}"] .span-inputs .j-broken`);
        const text = await page.textContent('.span-inputs .json-view');
        assert.match(text, /"a": "yyyy[^]*"b": ▸\[ 2 items \][^]*the rest is not valid JSON/);
        // an array whose 5,001st member is a string that never ends: 5,000 counted in the background, then the note
        await page.click(`.span-row[data-span="${cut}"]`);
        await page.waitForSelector(`.span-detail[data-span="${cut}"] .span-outputs .j-broken`);
        assert.match(await page.textContent('.span-outputs .j-summary'), /^ 5,000 items $/);
        await page.click(`.span-row[data-span="${bad}"]`);
        await page.waitForSelector(`.span-detail[data-span="${bad}"] .span-inputs .j-long`);
        assert.match(await page.textContent('.span-inputs .j-long'), /^"\{yyyy/);
        await page.close();
    });

    test('version page: the experiment by its name, linked; one read for the run\'s and the logged model\'s', async () => {
        const page = await s.page();
        await page.setViewportSize(SIZES.desktop);
        const reads = [];
        page.on('request', (r) => { if (r.url().includes('/experiments/get')) reads.push(r.url()); });
        await page.goto(`${s.base}/#/model/${models.churn}/2`);
        await page.waitForFunction(() => [...document.querySelectorAll('a.exp-name')].length === 2
            && [...document.querySelectorAll('a.exp-name')].every((a) => a.textContent === 'churn-training'));
        const links = await page.$$eval('a.exp-name', (as) => as.map((a) => a.getAttribute('href')));
        assert.deepEqual(links.sort(), [`#/logged-models?exp=${models.expId}`, `#/runs?exp=${models.expId}`]);
        assert.equal(reads.length, 1, reads.join(' '));
        // the logged model's id leads to its page
        assert.equal(await page.getAttribute('.lineage-model a.logged-model-link', 'href'), `#/logged-model/${models.models[1]}`);
        await screenshot(page, 'version-experiment-name');
        await page.close();
    });

    test('version diff: the comparison asked for is in the first screen, at both widths', async () => {
        const page = await s.page();
        for (const viewport of Object.values(SIZES)) {
            await page.setViewportSize(viewport);
            await page.goto(`${s.base}/#/model/${models.churn}/2?diff=1`);
            await page.waitForSelector('.diff-box[data-ready="1"] table.diff');
            const top = await page.$eval('.version-compare', (e) => e.getBoundingClientRect().top);
            assert.ok(top < viewport.height / 2, `the comparison starts at ${top} px of ${viewport.height}`);
            assert.equal(await page.$eval('.version-compare select', (e) => e.value), '1');
            await page.goto('about:blank');
        }
        // without diff= the page reads top down: lineage first, the compare card last
        await page.goto(`${s.base}/#/model/${models.churn}/2`);
        await page.waitForSelector('.version-compare');
        assert.equal(await page.$eval('#view', (v) => [...v.children].at(-1).classList.contains('version-compare')), true);
        await page.close();
    });

    test('version page: an experiment that cannot be read keeps its id', async () => {
        const page = await s.page();
        await page.setViewportSize(SIZES.desktop);
        // the server answers the page's experiments/get as it would for an experiment that is gone
        await page.route('**/api/2.0/mlflow/experiments/get?*', (route) => route.fulfill({
            status: 404, contentType: 'application/json', body: JSON.stringify({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'No Experiment with id' }),
        }));
        await page.goto(`${s.base}/#/model/${models.churn}/1`);
        await page.waitForSelector('a.exp-name[data-unnamed="1"]');
        assert.deepEqual(await page.$$eval('a.exp-name', (as) => as.map((a) => a.textContent)), [models.expId, models.expId]);
        await page.close();
        // the refused read is the one console error this test causes
        s.errors.splice(0, s.errors.length, ...s.errors.filter((e) => !/status of 404/.test(e)));
    });

    test('logged model page: the experiment by its name, linked to its Models tab', async () => {
        const page = await s.page();
        await page.setViewportSize(SIZES.phone);
        await page.goto(`${s.base}/#/logged-model/${models.models[0]}`);
        await page.waitForSelector('.lm-overview a.exp-name:text-is("churn-training")');
        assert.equal(await page.getAttribute('.lm-overview a.exp-name', 'href'), `#/logged-models?exp=${models.expId}`);
        await page.close();
    });

    test('no console errors', () => {
        assert.deepEqual(s.errors, []);
    });
});
