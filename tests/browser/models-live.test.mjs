// Logged models live (issue 17, point 3): the experiment's Models tab and a
// logged model's page follow the stream's logged-model events (models=true):
// a model created, finalized or tagged through the API shows up without a
// reload, also when it is written before the page's stream has opened (the
// page reads again once it opens). Data through the real API; no console errors.
import { test, describe, before, after } from 'node:test';
import { useBrowserStack, holdStreams, writeSeenByHub, assert } from './helpers.mjs';

describe('logged models live', () => {
    const s = useBrowserStack({ before, after });
    let exp;
    const create = async (name) => (await s.api.ok('POST', '/logged-models', { experiment_id: exp, name })).model.info.model_id;
    before(async () => { exp = await s.api.createExperiment('live-models'); });

    test('the Models tab: a new model appears, a finalized one turns READY', async () => {
        const first = await create('first-model');
        const page = await s.page();
        const errors = [];
        page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
        const release = await holdStreams(page);
        await page.goto(`${s.base}/#/logged-models?exp=${exp}`);
        await page.waitForSelector(`table.logged-models tr[data-model="${first}"]`);
        assert.equal(await page.textContent(`tr[data-model="${first}"] td:nth-child(2)`), 'PENDING');
        assert.equal(await page.isVisible('.page-head .live'), true);
        // finalized before the page's stream has opened: read once it opens
        await writeSeenByHub(s.base, { experiment_id: exp, models: 'true' }, 'models',
            () => s.api.ok('PATCH', `/logged-models/${first}`, { status: 'LOGGED_MODEL_READY' }));
        release();
        await page.waitForFunction((id) => document.querySelector(`tr[data-model="${id}"] td:nth-child(2)`)?.textContent === 'READY', first, { timeout: 5000 });
        const second = await create('second-model');
        await page.waitForSelector(`table.logged-models tr[data-model="${second}"]`, { timeout: 5000 });
        assert.deepEqual(errors, []);
        await page.close();
    });

    test('a logged model\'s page: finalized and tagged while open', async () => {
        const id = await create('watched-model');
        const page = await s.page();
        const errors = [];
        page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
        await page.goto(`${s.base}/#/logged-model/${id}`);
        await page.waitForSelector('#view[data-ready="1"] .lm-overview');
        assert.equal(await page.textContent('.page-head .lm-status'), 'PENDING');
        await s.api.ok('PATCH', `/logged-models/${id}`, { status: 'LOGGED_MODEL_READY' });
        await page.waitForFunction(() => document.querySelector('.page-head .lm-status')?.textContent === 'READY', null, { timeout: 5000 });
        await s.api.ok('PATCH', `/logged-models/${id}/tags`, { tags: [{ key: 'reviewer', value: 'dana' }] });
        await page.waitForFunction(() => /reviewerdana/.test(document.querySelector('.lm-tags')?.textContent || ''), null, { timeout: 5000 });
        assert.deepEqual(errors, []);
        await page.close();
    });
});
