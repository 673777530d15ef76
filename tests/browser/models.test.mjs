// The model registry views: the models list (search, aliases, latest
// versions, paging), a model page (versions with badges and safe Markdown,
// alias move and stage transition behind a confirmation, the audit history,
// 500 versions paged), the version page (lineage, files, signature,
// requirements, a diff against another version), the run page's models, the
// experiment's Models tab, prompts (versions, aliases, a line diff), live
// updates, keyboard and phone width; and no console errors anywhere.
import { test, describe, before, after } from 'node:test';
import { useBrowserStack, screenshot, coloredPixels, holdStreams, writeSeenByHub, assert } from './helpers.mjs';
import { seedModels } from './models-data.mjs';

describe('models, versions, prompts, logged models', () => {
    const s = useBrowserStack({ before, after });
    let data;
    before(async () => { data = await seedModels(s.api, s.base); }, { timeout: 180000 });
    after(() => { assert.deepEqual(s.errors, [], 'no console errors or failed pages'); });

    test('the top bar links to Models and Prompts, reachable by keyboard', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/experiments`);
        await page.waitForSelector('#mainnav a[aria-current=page][data-section=experiments]');
        const links = await page.$$eval('#mainnav a', (as) => as.map((a) => a.textContent));
        assert.deepEqual(links, ['Experiments', 'Models', 'Prompts']);
        // Tab from the brand reaches the Models link; Enter opens it
        await page.focus('.brand');
        await page.keyboard.press('Tab');
        await page.keyboard.press('Tab');
        assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Models');
        await page.keyboard.press('Enter');
        await page.waitForSelector('table.models tr[data-model]');
        assert.equal(await page.getAttribute('#mainnav a[data-section=models]', 'aria-current'), 'page');
        await page.close();
    });

    test('models list: latest versions, aliases, tags, search, no prompts', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/models`);
        await page.waitForSelector('table.models tr[data-model]');
        const names = await page.$$eval('table.models tr[data-model]', (trs) => trs.map((t) => t.dataset.model));
        assert.deepEqual(names, ['big-model', 'churn'], 'prompts are not models');
        const churn = page.locator('tr[data-model="churn"]');
        assert.match(await churn.locator('td').nth(1).textContent(), /v2\s*None.*v1\s*Production|v2None/);
        assert.equal(await churn.locator('.badge.alias').textContent(), '@champion');
        assert.match(await churn.locator('td.tags').textContent(), /team=growth/);
        await screenshot(page, 'models-list');
        // typed key by key: the list follows, the box keeps the focus
        await page.click('input[type=search]');
        await page.keyboard.type('ch', { delay: 30 });
        await page.waitForFunction(() => location.hash.includes('q=ch'));
        await page.waitForFunction(() => document.querySelectorAll('table.models tr[data-model]').length === 1);
        await page.keyboard.type('u');
        await page.waitForFunction(() => location.hash.includes('q=chu'));
        assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'search models by name');
        assert.equal(await page.inputValue('input[type=search]'), 'chu');
        // the URL holds the query: a reload shows the same list
        await page.reload();
        await page.waitForFunction(() => document.querySelectorAll('table.models tr[data-model]').length === 1);
        assert.equal(await page.inputValue('input[type=search]'), 'chu');
        await page.fill('input[type=search]', 'zzz-none');
        await page.waitForSelector('.empty');
        assert.match(await page.textContent('.empty'), /zzz-none/);
        await page.close();
    });

    test('model page: versions with aliases, stages, run links, creators and safe Markdown', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/model/churn`);
        await page.waitForSelector('table.versions tr[data-version="1"]');
        const v1 = page.locator('tr[data-version="1"]');
        assert.equal(await v1.locator('.badge.alias').textContent(), '@champion');
        assert.equal(await v1.locator('.badge.stage').textContent(), 'Production');
        assert.equal(await v1.locator('td').nth(3).textContent(), 'READY');
        assert.equal(await v1.locator(`a[href="#/run/${data.runs[0]}"]`).count(), 1);
        assert.equal(await v1.locator('td.desc strong').count(), 1, 'description as Markdown');
        assert.match(await page.locator('tr[data-version="2"] td.tags').textContent(), /validated=yes/);
        // the model description: Markdown rendered, HTML and javascript: links left as text
        assert.equal(await page.textContent('.markdown.description h3'), 'Churn model');
        assert.equal(await page.locator('.markdown.description a[href="https://example.com/team"]').count(), 1);
        assert.equal(await page.locator('.markdown.description script').count(), 0);
        assert.equal(await page.locator('.markdown.description a[href^="javascript"]').count(), 0);
        assert.match(await page.textContent('.markdown.description'), /<script>window.__pwned = 1<\/script>/);
        assert.equal(await page.evaluate(() => window.__pwned), undefined);
        await screenshot(page, 'model-page');
        await page.close();
    });

    test('alias move: the confirmation names the move; confirmed, the badge moves', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/model/churn`);
        await page.waitForSelector('tr[data-version="2"] button.set-alias');
        await page.click('tr[data-version="2"] button.set-alias');
        await page.waitForSelector('dialog.confirm[open]');
        await page.fill('dialog.confirm input', 'champion');
        assert.equal(await page.textContent('dialog.confirm .change'), '@champion moves from version 1 to version 2 of churn.');
        // cancel changes nothing
        await page.click('dialog.confirm button:has-text("Cancel")');
        assert.equal(await page.locator('dialog.confirm').count(), 0);
        let r = await s.api.ok('GET', '/registered-models/alias', { name: 'churn', alias: 'champion' });
        assert.equal(r.model_version.version, '1');
        await page.click('tr[data-version="2"] button.set-alias');
        await page.fill('dialog.confirm input', 'champion');
        await page.click('dialog.confirm button.primary');
        await page.waitForSelector('tr[data-version="2"] .badge.alias');
        assert.equal(await page.locator('tr[data-version="1"] .badge.alias').count(), 0);
        r = await s.api.ok('GET', '/registered-models/alias', { name: 'churn', alias: 'champion' });
        assert.equal(r.model_version.version, '2');
        await page.close();
    });

    test('stage transition: the confirmation names both stages and can archive the others', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/model/churn`);
        await page.waitForSelector('tr[data-version="2"] button.set-stage');
        await page.click('tr[data-version="2"] button.set-stage');
        await page.waitForSelector('dialog.confirm[open]');
        // the current stage is not offered; the text follows the choice
        assert.deepEqual(await page.$$eval('dialog.confirm select option', (os) => os.map((o) => o.value)), ['Staging', 'Production', 'Archived']);
        assert.equal(await page.textContent('dialog.confirm .change'), 'Version 2 of churn moves from None to Staging.');
        await page.selectOption('dialog.confirm select', 'Archived');
        assert.ok(await page.locator('dialog.confirm label.archive').isHidden(), 'no archiving offered for Archived');
        await page.selectOption('dialog.confirm select', 'Production');
        assert.equal(await page.textContent('dialog.confirm .change'), 'Version 2 of churn moves from None to Production.');
        assert.match(await page.textContent('dialog.confirm label.archive'), /on this page: v1/);
        await page.check('dialog.confirm input[type=checkbox]');
        await page.click('dialog.confirm button.primary');
        await page.waitForFunction(() => document.querySelector('tr[data-version="2"] .badge.stage')?.textContent === 'Production');
        await page.waitForFunction(() => document.querySelector('tr[data-version="1"] .badge.stage')?.textContent === 'Archived');
        const v1 = await s.api.ok('GET', '/model-versions/get', { name: 'churn', version: '1' });
        assert.equal(v1.model_version.current_stage, 'Archived');
        await page.close();
    });

    test('alias delete: the confirmation names the version that loses it; confirmed, the badge goes', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/model/churn`);
        await page.waitForSelector('tr[data-version="2"] .badge.alias');
        await page.click('tr[data-version="2"] button.set-alias');
        await page.waitForSelector('dialog.confirm[open]');
        // an alias the model does not have cannot be deleted
        await page.fill('dialog.confirm input[type=text]', 'no-such-alias');
        assert.equal(await page.isDisabled('dialog.confirm input.delete-alias'), true);
        await page.fill('dialog.confirm input[type=text]', 'champion');
        assert.equal(await page.isDisabled('dialog.confirm input.delete-alias'), false);
        assert.equal(await page.textContent('dialog.confirm button.primary'), 'Move alias');
        // chosen by keyboard: the text and the button say what happens
        await page.focus('dialog.confirm input.delete-alias');
        await page.keyboard.press('Space');
        assert.equal(await page.textContent('dialog.confirm .change'), '@champion is deleted: version 2 of churn loses it; the version itself stays.');
        assert.equal(await page.textContent('dialog.confirm button.primary'), 'Delete alias');
        await screenshot(page, 'alias-delete');
        await page.click('dialog.confirm button.primary');
        await page.waitForFunction(() => !document.querySelector('dialog.confirm') && !document.querySelector('tr[data-version="2"] .badge.alias'));
        const r = await s.api.get('/registered-models/alias', { name: 'churn', alias: 'champion' });
        assert.equal(r.status, 400, 'the alias is gone');
        assert.match(r.json.message, /alias champion not found/);
        const v2 = await s.api.ok('GET', '/model-versions/get', { name: 'churn', version: '2' });
        assert.equal(v2.model_version.version, '2', 'the version stays');
        // put it back for the tests that follow
        await s.api.ok('POST', '/registered-models/alias', { name: 'churn', alias: 'champion', version: '2' });
        await page.close();
    });

    test('the history tab shows the audit trail, newest first', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/model/churn?tab=audit`);
        await page.waitForSelector('table.audit tr[data-action]');
        const actions = await page.$$eval('table.audit tr[data-action]', (trs) => trs.map((t) => t.dataset.action));
        assert.equal(actions.at(-1), 'model.create');
        assert.ok(actions.includes('alias.set') && actions.includes('version.stage'), actions.join(','));
        assert.equal(await page.getAttribute('.tabs a:has-text("History")', 'aria-current'), 'page');
        await screenshot(page, 'model-history');
        await page.close();
    });

    test('a model with 500 versions: first page of 100 fast, next page by token', async () => {
        const page = await s.page();
        const t0 = Date.now();
        await page.goto(`${s.base}/#/model/big-model`);
        await page.waitForSelector('.tab-body[data-versions="100"]');
        const ms = Date.now() - t0;
        assert.ok(ms < 5000, `ready in ${ms} ms`);
        const first = await page.$$eval('tr[data-version]', (trs) => trs.map((t) => t.dataset.version));
        assert.equal(first[0], '500');
        assert.equal(first.at(-1), '401');
        assert.equal(await page.locator('tr[data-version="500"] .badge.alias').textContent(), '@prod');
        await page.click('a[rel=next]');
        await page.waitForFunction(() => document.querySelector('tr[data-version]')?.dataset.version === '400');
        await page.close();
    });

    test('a logged model naming 50 versions: one search per registered model, not a read per version', async () => {
        // versions named only by the model's tag (no source run to search by): 48 of big-model
        // (one of them @prod), one of churn (staged by the tests above), and one that does not exist
        const named = [...Array.from({ length: 48 }, (_, i) => ({ name: 'big-model', version: String(500 - 2 * i) })),
            { name: 'churn', version: '1' }, { name: 'big-model', version: '501' }];
        const expId = await s.api.createExperiment('tagged-models');
        const tagged = async (name, list) => {
            const { model } = await s.api.ok('POST', '/logged-models', { experiment_id: expId, name });
            await s.api.ok('PATCH', `/logged-models/${model.info.model_id}/tags`, { tags: [{ key: 'mlflow.modelVersions', value: JSON.stringify(list) }] });
            return model.info.model_id;
        };
        const page = await s.page();
        // the streams stay closed: the page's reads are counted, and an open
        // stream makes it read everything once more (live: openResync)
        await holdStreams(page);
        let reads = [];
        page.on('request', (r) => { if (/\/model-versions\/(get|search)\?/.test(r.url())) reads.push(new URL(r.url())); });
        await page.goto(`${s.base}/#/logged-model/${await tagged('tagged-only', named)}`);
        await page.waitForSelector('#view[data-ready="1"] .lm-versions ul.run-versions');
        assert.deepEqual(reads.filter((u) => u.pathname.endsWith('/get')).map(String), []);
        assert.deepEqual(reads.map((u) => u.searchParams.get('filter')).sort(), [
            "name = 'big-model' AND version_number >= 406 AND version_number <= 501",
            "name = 'churn' AND version_number >= 1 AND version_number <= 1"]);
        const shown = await page.$$eval('.lm-versions li[data-version]', (lis) => lis.map((l) => l.dataset.version));
        assert.equal(shown.length, 50);
        assert.equal(await page.textContent('.lm-versions li[data-version="big-model/500"] .badge.alias'), '@prod');
        assert.equal(await page.textContent('.lm-versions li[data-version="big-model/406"] .badge.stage'), 'None');
        const churn1 = (await s.api.ok('GET', '/model-versions/get', { name: 'churn', version: '1' })).model_version;
        assert.equal(await page.textContent('.lm-versions li[data-version="churn/1"] .badge.stage'), churn1.current_stage);
        assert.match(await page.textContent('.lm-versions li[data-version="big-model/501"]'), /not readable/);
        // numbers too far apart for one search are read one by one
        reads = [];
        await page.goto(`${s.base}/#/logged-model/${await tagged('tagged-wide', [{ name: 'big-model', version: '1' }, { name: 'big-model', version: '5000' }])}`);
        await page.waitForSelector('#view[data-ready="1"] .lm-versions li[data-version="big-model/1"] .badge.stage');
        assert.deepEqual(reads.map((u) => u.pathname.split('/').pop()), ['get', 'get']);
        assert.match(await page.textContent('.lm-versions li[data-version="big-model/5000"]'), /not readable/);
        // the read of the missing version is the one failed request the browser logs here
        const missing = s.errors.filter((e) => /status of 404/.test(e));
        assert.equal(missing.length, 1, s.errors.join('\n'));
        s.errors.splice(s.errors.indexOf(missing[0]), 1);
        await page.close();
    });

    test('version page: lineage, logged model, files, signature table, requirements', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/model/churn/2`);
        await page.waitForSelector('.card.files table.signature');
        assert.equal(await page.getAttribute('.lineage-run a.run-link', 'href'), `#/run/${data.runs[1]}`);
        const params = await page.$$eval('.lineage-run table.params tr', (trs) => trs.map((t) => t.textContent));
        assert.deepEqual(params, ['C0.5', 'penaltyl2']);
        assert.match(await page.textContent('.lineage-run table.datasets'), /churn-train.*a1b2c3d4/);
        assert.match(await page.textContent('.lineage-model'), new RegExp(data.models[1]));
        assert.match(await page.textContent('.lineage-model'), /accuracy \(churn-eval\)0\.86/);
        const files = await page.$$eval('.file-list tbody td:first-child', (tds) => tds.map((t) => t.textContent));
        assert.deepEqual(files, ['MLmodel', 'model.pkl', 'requirements.txt']);
        const inputs = await page.$$eval('table.signature[data-part=inputs] tbody tr', (trs) => trs.map((t) => [...t.cells].map((c) => c.textContent)));
        assert.deepEqual(inputs, [['tenure', 'double', '', 'required', ''], ['plan', 'string', '', 'required', ''], ['region', 'long', '', 'optional', '']]);
        assert.match(await page.textContent('table.signature[data-part=outputs]'), /tensor int64\[-1\]/);
        const reqs = await page.$$eval('ul.requirements li', (lis) => lis.map((l) => l.textContent));
        assert.deepEqual(reqs, ['mlflow==3.1.0', 'scikit-learn==1.4.2', 'numpy<2']);
        await page.click('details.mlmodel summary');
        assert.match(await page.textContent('details.mlmodel pre'), /sklearn_version: 1\.4\.2/);
        // a file downloads through the registry's get-artifact
        const href = await page.getAttribute('.file-list a:has-text("model.pkl")', 'href');
        const body = await page.evaluate(async (u) => (await fetch(u)).text(), href);
        assert.equal(body, 'pickle-bytes-b');
        await screenshot(page, 'version-page');
        await page.close();
    });

    test('version diff: params, metrics, signature and files by hash', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/model/churn/2`);
        await page.waitForSelector('select[aria-label="compare with version"]');
        await page.selectOption('select[aria-label="compare with version"]', '1');
        await page.waitForSelector('.diff-box[data-ready="1"]');
        assert.match(await page.evaluate(() => location.hash), /diff=1/);
        // the version's tag chip is even on both sides (the brush chips' room for a × is theirs alone)
        const pad = await page.$eval('.chip[title="validated=yes"]', (e) => [getComputedStyle(e).paddingLeft, getComputedStyle(e).paddingRight]);
        assert.equal(pad[0], pad[1]);
        const row = (part, key) => page.locator(`.diff-section[data-part="${part}"] tr[data-key="${key}"]`);
        assert.equal(await row('parameters', 'C').getAttribute('class'), 'change-changed');
        assert.equal(await row('parameters', 'penalty').getAttribute('class'), 'change-same');
        assert.equal(await row('metrics', 'accuracy').getAttribute('class'), 'change-changed');
        assert.equal(await row('signature', 'inputs.region').getAttribute('class'), 'change-removed');
        // in words by version: region is new in v2, so "only in v2", not "removed"
        assert.equal(await row('signature', 'inputs.region').locator('td').nth(3).textContent(), 'only in v2');
        // the four tables keep their columns at the same places
        const lefts = await page.$$eval('.diff-section table.diff thead th:nth-child(2)', (ths) => ths.map((t) => Math.round(t.getBoundingClientRect().left)));
        assert.equal(lefts.length, 4);
        assert.equal(new Set(lefts).size, 1, `v2 columns start at ${lefts}`);
        assert.equal(await row('files', 'model.pkl').getAttribute('class'), 'change-changed');
        assert.equal(await row('files', 'requirements.txt').getAttribute('class'), 'change-same');
        // the hashes are the files' SHA-256 (first 12 hex digits shown)
        assert.match(await row('files', 'requirements.txt').locator('td').nth(1).textContent(), /^[0-9a-f]{12}$/);
        await screenshot(page, 'version-diff');
        await page.close();
    });

    test("run page lists the run's logged models and registered versions", async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/run/${data.runs[0]}`);
        await page.locator('.run-models').scrollIntoViewIfNeeded();
        await page.waitForSelector('.run-models[data-loaded="1"]');
        assert.equal(await page.getAttribute('.run-models table tr[data-model]', 'data-model'), data.models[0]);
        assert.match(await page.textContent('.run-models table'), /accuracy=0\.81/);
        assert.equal(await page.locator('.run-models li[data-version="churn/1"] a').getAttribute('href'), '#/model/churn/1');
        await page.close();
    });

    test("a logged model's page: overview, params, tags, metrics with dataset and step, files, versions", async () => {
        const id = data.models[0];
        await s.api.ok('PATCH', `/logged-models/${id}/tags`, { tags: [{ key: 'owner', value: 'growth-team' }] });
        const page = await s.page();
        // reached from the experiment's Models tab
        await page.goto(`${s.base}/#/logged-models?exp=${data.expId}`);
        await page.click(`table.logged-models tr[data-model="${id}"] a.lm-link`);
        await page.waitForSelector('#view[data-ready="1"] .lm-overview');
        assert.equal(await page.evaluate(() => location.hash), `#/logged-model/${id}`);
        assert.equal(await page.textContent('.page-head h1'), 'run-a-model');
        assert.equal(await page.textContent('.page-head .lm-status'), 'READY');
        const overview = Object.fromEntries(await page.$$eval('.lm-overview table.kv tr', (trs) => trs.map((t) => [t.cells[0].textContent, t.cells[1].textContent])));
        assert.equal(overview['Model ID'], id);
        assert.equal(overview.Type, 'sklearn');
        assert.equal(overview['Source run'], data.runs[0]);
        assert.match(overview.Created, /^\d{4}-\d\d-\d\d /);
        assert.equal(await page.getAttribute('.lm-overview a.source-run', 'href'), `#/run/${data.runs[0]}`);
        await page.waitForFunction(() => document.querySelector('.lm-overview a.exp-name')?.textContent === 'churn-training');
        assert.equal(await page.getAttribute('#mainnav a[data-section=experiments]', 'aria-current'), 'page');
        assert.deepEqual(await page.$$eval('.lm-params table.kv tr', (trs) => trs.map((t) => t.textContent)), ['C1.0']);
        assert.match(await page.textContent('.lm-tags'), /ownergrowth-team/);
        const metrics = await page.$$eval('table.lm-metrics tbody tr', (trs) => trs.map((t) => [...t.cells].slice(0, 4).map((c) => c.textContent)));
        assert.deepEqual(metrics, [['accuracy', '0.81', '0', 'churn-eval (d1)'], ['f1', '0.76', '0', '—']]);
        // files as on the version page: the list, the signature, the MLmodel text, requirements
        const files = await page.$$eval('.file-list tbody td:first-child', (tds) => tds.map((t) => t.textContent));
        assert.deepEqual(files, ['MLmodel', 'model.pkl', 'requirements.txt']);
        const inputs = await page.$$eval('table.signature[data-part=inputs] tbody tr td:first-child', (tds) => tds.map((t) => t.textContent));
        assert.deepEqual(inputs, ['tenure', 'plan']);
        assert.deepEqual(await page.$$eval('ul.requirements li', (lis) => lis.map((l) => l.textContent)), ['mlflow==3.1.0', 'scikit-learn==1.4.2', 'numpy<2']);
        await page.click('details.mlmodel summary');
        assert.match(await page.textContent('details.mlmodel pre'), new RegExp(`model_id: ${id}`));
        const fileHref = await page.getAttribute('.file-list a:has-text("model.pkl")', 'href');
        assert.equal(await page.evaluate(async (u) => (await fetch(u)).text(), fileHref), 'pickle-bytes-a');
        // the registered version made from it, linked
        assert.equal(await page.getAttribute('.lm-versions li[data-version="churn/1"] a', 'href'), '#/model/churn/1');
        await screenshot(page, 'logged-model');
        // the other model's version carries its alias and stage
        await page.goto(`${s.base}/#/logged-model/${data.models[1]}`);
        await page.waitForSelector('#view[data-ready="1"] .lm-versions li[data-version="churn/2"]');
        assert.equal(await page.textContent('.lm-versions li[data-version="churn/2"] .badge.alias'), '@champion');
        assert.equal(await page.textContent('.lm-versions li[data-version="churn/2"] .badge.stage'), 'Production');
        await page.goto(`${s.base}/#/logged-model/${id}`);
        await page.waitForSelector('#view[data-ready="1"] .lm-overview a.source-run');
        // by keyboard: the source run link is reachable and opens the run
        await page.focus('.lm-overview a.source-run');
        await page.keyboard.press('Enter');
        await page.waitForFunction((r) => location.hash === `#/run/${r}`, data.runs[0]);
        // and the run page's logged models card links back
        await page.locator('.run-models').scrollIntoViewIfNeeded();
        await page.waitForSelector('.run-models[data-loaded="1"]');
        assert.equal(await page.getAttribute(`.run-models tr[data-model="${id}"] a.lm-link`, 'href'), `#/logged-model/${id}`);
        await page.close();
    });

    test('a logged model that does not exist: the page says so in words', async () => {
        const page = await s.page();
        const missing = `m-${'0'.repeat(32)}`;
        await page.goto(`${s.base}/#/logged-model/${missing}`);
        await page.waitForSelector('#view .error[role=alert]');
        assert.match(await page.textContent('#view .error'), new RegExp(`^There is no logged model ${missing}`));
        const refused = s.errors.filter((e) => /status of 404/.test(e));
        assert.equal(refused.length, 1, s.errors.join('\n'));
        s.errors.splice(s.errors.indexOf(refused[0]), 1);
        await page.close();
    });

    test("experiment Models tab: logged models with metrics, sorted and filtered by the server", async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/runs?exp=${data.expId}`);
        await page.waitForSelector('#subnav a:has-text("Models")');
        await page.click('#subnav a:has-text("Models")');
        await page.waitForSelector('.lm-body[data-loaded="1"]');
        assert.equal(await page.getAttribute('#subnav a:has-text("Models")', 'aria-current'), 'page');
        const names = () => page.$$eval('table.logged-models tbody tr td:first-child', (tds) => tds.map((t) => t.textContent));
        assert.deepEqual((await names()).sort(), ['run-a-model', 'run-b-model']);
        assert.match(await page.textContent('table.logged-models tr[data-model] td[data-metric=accuracy]'), /0\.8/);
        // sort by accuracy: descending first, then ascending
        await page.click('th a:has-text("accuracy")');
        await page.waitForFunction(() => location.hash.includes('sort=metrics.accuracy'));
        await page.waitForSelector('.lm-body[data-loaded="1"]');
        assert.deepEqual(await names(), ['run-b-model', 'run-a-model']);
        await page.click('th a:has-text("accuracy")');
        await page.waitForFunction(() => location.hash.includes('asc=1'));
        await page.waitForFunction(() => document.querySelector('table.logged-models tbody td')?.textContent === 'run-a-model');
        await page.fill('input.filter', 'metrics.accuracy > 0.85');
        await page.press('input.filter', 'Enter');
        await page.waitForFunction(() => document.querySelectorAll('table.logged-models tbody tr').length === 1);
        assert.deepEqual(await names(), ['run-b-model']);
        assert.match(await page.textContent('table.logged-models'), /churn v2/);
        await screenshot(page, 'logged-models');
        await page.fill('input.filter', 'metrics.accuracy >>> 1');
        await page.press('input.filter', 'Enter');
        await page.waitForSelector('.filter-error');
        assert.match(await page.textContent('.filter-error'), /refused/);
        // the refused search is the one failed request the browser logs here
        const refused = s.errors.filter((e) => /status of 400/.test(e));
        assert.equal(refused.length, 1, s.errors.join('\n'));
        s.errors.splice(s.errors.indexOf(refused[0]), 1);
        await page.close();
    });

    test('prompts list and prompt page: versions, aliases, a line diff', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/prompts`);
        await page.waitForSelector('table.prompts tr[data-prompt]');
        assert.deepEqual(await page.$$eval('table.prompts tr[data-prompt]', (t) => t.map((x) => x.dataset.prompt)), ['qa-prompt']);
        assert.equal(await page.textContent('table.prompts .badge.alias'), '@production');
        await screenshot(page, 'prompts-list');
        await page.click('table.prompts a:has-text("qa-prompt")');
        await page.waitForSelector('.prompt-page');
        assert.deepEqual(await page.$$eval('table.prompt-versions tr[data-version]', (t) => t.map((x) => x.dataset.version)), ['2', '1']);
        assert.equal(await page.textContent('tr[data-version="1"] .badge.alias'), '@production');
        assert.equal(await page.textContent('pre.template'), data.texts[1]);
        const lines = await page.$$eval('table.diff-lines tr', (trs) => trs.map((t) => [t.className, t.cells[3].textContent]));
        assert.deepEqual(lines, [
            ['line-same', 'You are a helpful assistant.'],
            ['line-add', 'Use the context: {{ context }}'],
            ['line-same', 'Answer the question: {{ question }}'],
            ['line-del', 'Be brief.'],
            ['line-add', 'Be brief and cite sources.'],
        ]);
        assert.match(await page.textContent('.diff-stats'), /2 lines added, 1 removed/);
        await screenshot(page, 'prompt-page');
        await page.click('tr[data-version="1"] a');
        await page.waitForFunction(() => location.hash.includes('v=1'));
        await page.waitForFunction(() => document.querySelector('pre.template')?.textContent.startsWith('You are a helpful assistant.\nAnswer'));
        await page.close();
    });

    test('live: a new version and an alias move appear without a reload', async () => {
        const page = await s.page();
        await page.goto(`${s.base}/#/model/churn`);
        await page.waitForSelector('tr[data-version="2"]');
        await page.evaluate(() => { window.__sameDocument = 1; });
        await s.api.ok('POST', '/model-versions/create', { name: 'churn', source: 's3://b/new' });
        await page.waitForSelector('tr[data-version="3"]', { timeout: 5000 });
        await s.api.ok('POST', '/registered-models/alias', { name: 'churn', alias: 'challenger', version: '3' });
        await page.waitForFunction(() => document.querySelector('tr[data-version="3"] .badge.alias')?.textContent === '@challenger', null, { timeout: 5000 });
        assert.equal(await page.evaluate(() => window.__sameDocument), 1, 'no reload');
        // the models list too
        await page.goto(`${s.base}/#/models`);
        await page.waitForSelector('tr[data-model]');
        await s.api.ok('POST', '/registered-models/create', { name: 'fresh-model' });
        await page.waitForSelector('tr[data-model="fresh-model"]', { timeout: 5000 });
        await page.close();
    });

    test('live: a change made before the stream opened is shown once it opens', async () => {
        // The list is read first and the stream opened after: what commits in
        // between sends no event, so the page reads again once the stream is open.
        const page = await s.page();
        const release = await holdStreams(page);
        await page.goto(`${s.base}/#/models`);
        await page.waitForSelector('tr[data-model="churn"]');
        await writeSeenByHub(s.base, { registry: 'true' }, 'registry',
            () => s.api.ok('POST', '/registered-models/create', { name: 'gap-model' }));
        assert.equal(await page.$('tr[data-model="gap-model"]'), null, 'not shown before the stream opens');
        release();
        await page.waitForSelector('tr[data-model="gap-model"]', { timeout: 5000 });
        await page.close();
    });

    test('phone width and dark mode: no sideways page scroll, dialogs fit', async () => {
        const page = await s.page();
        await page.setViewportSize({ width: 390, height: 844 });
        await page.emulateMedia({ colorScheme: 'dark' });
        for (const [hash, sel, name] of [['#/models', 'tr[data-model]', 'models-list'], ['#/model/churn', 'tr[data-version]', 'model-page'],
            ['#/model/churn/2', '.card.files table.signature', 'version-page'], ['#/prompt/qa-prompt', '.prompt-page', 'prompt-page'],
            [`#/logged-models?exp=${data.expId}`, '.lm-body[data-loaded="1"]', 'logged-models'],
            [`#/logged-model/${data.models[1]}`, '#view[data-ready="1"] .lm-overview', 'logged-model']]) {
            await page.goto(`${s.base}/${hash}`);
            await page.waitForSelector(sel);
            const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
            assert.ok(overflow <= 1, `${hash}: page wider than the phone by ${overflow}px`);
            await screenshot(page, `${name}-phone-dark`);
        }
        await page.goto(`${s.base}/#/model/churn`);
        await page.click('tr[data-version="2"] button.set-alias');
        const box = await page.locator('dialog.confirm').boundingBox();
        assert.ok(box.x >= 0 && box.x + box.width <= 390, JSON.stringify(box));
        await page.keyboard.press('Escape');
        assert.equal(await page.locator('dialog.confirm').count(), 0);
        await page.close();
    });

    test('logged model page: metrics over steps as charts, single values as rows, followed live', async () => {
        const run = (await s.api.createRun(data.expId, { run_name: 'curve-run', start_time: Date.now() })).info.run_id;
        const model = (await s.api.ok('POST', '/logged-models', { experiment_id: data.expId, name: 'curve-model', source_run_id: run })).model.info.model_id;
        const t = Date.now();
        const point = (key, step, value, dataset) => ({ key, value, timestamp: t + step, step, model_id: model, ...(dataset ? { dataset_name: dataset, dataset_digest: 'e1' } : {}) });
        const metrics = [];
        for (let step = 0; step < 10; step++) {
            metrics.push(point('val_loss', step, 1 / (step + 1), 'eval'), point('val_loss', step, 1.2 / (step + 1), 'holdout'));
        }
        metrics.push(point('auc', 0, 0.91));
        await s.api.ok('POST', '/runs/log-batch', { run_id: run, metrics });
        const page = await s.page();
        await page.goto(`${s.base}/#/logged-model/${model}`);
        await page.waitForSelector('#view[data-ready="1"] .lm-chart[data-metric="val_loss"][data-drawn="1"]');
        await page.evaluate(() => { window.__sameDocument = 1; });
        assert.equal(await page.getAttribute('.lm-metrics-card', 'data-charts'), '1');
        assert.equal(await page.getAttribute('.lm-chart[data-metric="val_loss"]', 'data-steps'), '10');
        assert.ok(await coloredPixels(page, '.lm-chart[data-metric="val_loss"]') > 200, 'the lines are drawn');
        // one line per dataset, named in the legend and in the plot's label
        const legend = await page.$$eval('.lm-chart[data-metric="val_loss"] .u-legend .u-series th', (ths) => ths.map((t) => t.textContent.trim()).filter(Boolean));
        assert.deepEqual(legend.slice(-2), ['eval (e1)', 'holdout (e1)']);
        assert.match(await page.getAttribute('.lm-chart[data-metric="val_loss"] .plot', 'aria-label'), /one line per dataset: eval \(e1\), holdout \(e1\)/);
        // a key logged once stays a row
        assert.deepEqual(await page.$$eval('table.lm-metrics tbody tr', (trs) => trs.map((r) => r.dataset.metric)), ['auc']);
        await screenshot(page, 'logged-model-charts');
        // live: a new step redraws the chart, a new key adds a row, no reload
        await s.api.ok('POST', '/runs/log-batch', { run_id: run, metrics: [point('val_loss', 10, 0.05, 'eval'), point('precision', 0, 0.77)] });
        await page.waitForSelector('.lm-chart[data-metric="val_loss"][data-steps="11"][data-drawn="1"]', { timeout: 10000 });
        await page.waitForSelector('table.lm-metrics tr[data-metric="precision"]');
        assert.match(await page.textContent('.lm-metrics-card h2'), /Metrics \(23\)/);
        // a registered version made from it shows up (a registry event)
        await s.api.ok('POST', '/registered-models/create', { name: 'curve' });
        await s.api.ok('POST', '/model-versions/create', { name: 'curve', source: `models:/${model}`, run_id: run, model_id: model });
        await page.waitForSelector('.lm-versions li[data-version="curve/1"]', { timeout: 10000 });
        // a status change (no stream event of its own) shows with the next event of the experiment
        await s.api.ok('PATCH', `/logged-models/${model}`, { model_id: model, status: 'LOGGED_MODEL_READY' });
        await s.api.ok('POST', '/runs/set-tag', { run_id: run, key: 'note', value: 'finalized' });
        await page.waitForFunction(() => document.querySelector('.page-head .lm-status')?.textContent === 'READY', null, { timeout: 10000 });
        assert.equal(await page.isVisible('.page-head .live'), true);
        assert.equal(await page.evaluate(() => window.__sameDocument), 1, 'no reload');
        await page.close();
    });
});
