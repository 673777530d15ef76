// The model page with --auth: a user with READ on a model (the default) sees
// it, and an alias move or stage transition refused with 403 is shown in the
// dialog as a permission message while the page stays whole; the owner's
// move goes through; an alias delete is refused the same way; a logged model
// of an experiment the user may not read is refused in words. No console
// errors besides the refused requests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, describe, before, after } from 'node:test';
import { useBrowserStack, screenshot, assert } from './helpers.mjs';
import { api, assertOk } from '../api/harness.mjs';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exptrack-models-auth-'));
const PW = 'admin-password-for-models-ui';
fs.writeFileSync(path.join(dir, 'pw'), `${PW}\n`, { mode: 0o600 });
const basic = (u, p) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe('model page with --auth', () => {
    const s = useBrowserStack({ before, after }, { serverArgs: ['--auth', '--admin-password-file', path.join(dir, 'pw')] });
    const users = {};
    before(async () => {
        const admin = { authorization: basic('admin', PW) };
        for (const u of ['owner', 'reader']) {
            assertOk(await api(s.base, 'POST', '/api/2.0/mlflow/users/create', { username: u, password: `${u}-pw-12345` }, { headers: admin }));
            users[u] = { authorization: basic(u, `${u}-pw-12345`) };
        }
        const O = { headers: users.owner };
        assertOk(await api(s.base, 'POST', '/api/2.0/mlflow/registered-models/create', { name: 'secured' }, O));
        for (let i = 0; i < 2; i++) assertOk(await api(s.base, 'POST', '/api/2.0/mlflow/model-versions/create', { name: 'secured', source: 's3://b/x' }, O));
        assertOk(await api(s.base, 'POST', '/api/2.0/mlflow/registered-models/alias', { name: 'secured', alias: 'champion', version: '1' }, O));
    }, { timeout: 60000 });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    async function pageAs(user) {
        const page = await s.page();
        await page.setExtraHTTPHeaders(users[user]);
        return page;
    }

    test('a read-only user: the 403 on alias move and stage change is a clear message, the page stays', async () => {
        const page = await pageAs('reader');
        await page.goto(`${s.base}/#/model/secured`);
        await page.waitForSelector('tr[data-version="2"] button.set-alias');
        // the history names the owner
        await page.waitForFunction(() => document.querySelector('tr[data-version="2"] td.creator')?.textContent === 'owner');
        await page.click('tr[data-version="2"] button.set-alias');
        await page.fill('dialog.confirm input', 'champion');
        assert.equal(await page.textContent('dialog.confirm .change'), '@champion moves from version 1 to version 2 of secured.');
        await page.click('dialog.confirm button.primary');
        await page.waitForSelector('dialog.confirm .error');
        const msg = await page.textContent('dialog.confirm .error');
        assert.match(msg, /^You do not have permission to move aliases of secured\./);
        assert.match(msg, /PERMISSION|permission/);
        await screenshot(page, 'model-403');
        // the dialog stays open for another try; cancel leaves the page as it was
        await page.click('dialog.confirm button:has-text("Cancel")');
        assert.equal(await page.locator('tr[data-version]').count(), 2);
        assert.equal(await page.textContent('tr[data-version="1"] .badge.alias'), '@champion');
        await page.click('tr[data-version="1"] button.set-stage');
        await page.selectOption('dialog.confirm select', 'Staging');
        await page.click('dialog.confirm button.primary');
        await page.waitForSelector('dialog.confirm .error');
        assert.match(await page.textContent('dialog.confirm .error'), /^You do not have permission to change stages of secured\./);
        await page.keyboard.press('Escape');
        // deleting the alias is refused the same way
        await page.click('tr[data-version="1"] button.set-alias');
        await page.fill('dialog.confirm input[type=text]', 'champion');
        await page.check('dialog.confirm input.delete-alias');
        assert.equal(await page.textContent('dialog.confirm .change'), '@champion is deleted: version 1 of secured loses it; the version itself stays.');
        await page.click('dialog.confirm button.primary');
        await page.waitForSelector('dialog.confirm .error');
        assert.match(await page.textContent('dialog.confirm .error'), /^You do not have permission to delete aliases of secured\./);
        await page.keyboard.press('Escape');
        assert.equal(await page.textContent('tr[data-version="1"] .badge.alias'), '@champion');
        const r = assertOk(await api(s.base, 'GET', '/api/2.0/mlflow/registered-models/alias', { name: 'secured', alias: 'champion' }, { headers: users.owner }));
        assert.equal(r.model_version.version, '1', 'nothing moved');
        const refused = s.errors.filter((e) => /status of 403/.test(e));
        assert.equal(refused.length, 3, s.errors.join('\n'));
        for (const e of refused) s.errors.splice(s.errors.indexOf(e), 1);
        await page.close();
    });

    test("a logged model in an experiment the user may not read: the page says so in words", async () => {
        const O = { headers: users.owner };
        const exp = assertOk(await api(s.base, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'secret-models' }, O)).experiment_id;
        assertOk(await api(s.base, 'POST', '/api/2.0/mlflow/experiments/permissions/create', { experiment_id: exp, username: 'reader', permission: 'NO_PERMISSIONS' }, O));
        const id = assertOk(await api(s.base, 'POST', '/api/2.0/mlflow/logged-models', { experiment_id: exp, name: 'hidden-model' }, O)).model.info.model_id;
        const page = await pageAs('reader');
        await page.goto(`${s.base}/#/logged-model/${id}`);
        await page.waitForSelector('#view .error[role=alert]');
        assert.match(await page.textContent('#view .error'), /^You do not have permission to read this logged model\./);
        await screenshot(page, 'logged-model-403');
        const refused = s.errors.filter((e) => /status of 403/.test(e));
        assert.equal(refused.length, 1, s.errors.join('\n'));
        s.errors.splice(s.errors.indexOf(refused[0]), 1);
        // the owner sees it
        const mine = await pageAs('owner');
        await mine.goto(`${s.base}/#/logged-model/${id}`);
        await mine.waitForSelector('#view[data-ready="1"] .lm-overview');
        assert.equal(await mine.textContent('.page-head h1'), 'hidden-model');
        await page.close();
        await mine.close();
    });

    test('the owner moves the alias', async () => {
        const page = await pageAs('owner');
        await page.goto(`${s.base}/#/model/secured`);
        await page.click('tr[data-version="2"] button.set-alias');
        await page.fill('dialog.confirm input', 'champion');
        await page.click('dialog.confirm button.primary');
        await page.waitForSelector('tr[data-version="2"] .badge.alias');
        assert.equal(await page.locator('tr[data-version="1"] .badge.alias').count(), 0);
        await page.close();
    });

    after(() => assert.deepEqual(s.errors, [], 'no console errors'));
});
