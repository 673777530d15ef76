// Screenshots of every dashboard view, for people to look at (not a test:
// `make test` does not run it). Starts PostgreSQL and exptrackd, first shows
// the first-run page of the empty server, then creates realistic data
// through the API (a small project, a sweep, a model registry with a model
// of 500 versions, prompts, traces with one of 10,000 spans) and saves each
// view at desktop (1440x900) and phone (390x844) width, light and dark, as
// <OUT>/<view>-<desktop|phone>-<light|dark>.png (viewport only; FULL=1 for
// full pages); the pages are served from the worktree's web/ (--web-dir).
// It also prints, per shot, what a person would check first:
// sideways overflow of the page and console errors.
//
// usage: EXPTRACKD=build/bin/exptrackd node tests/browser/screens.mjs [OUT]
//        (OUT defaults to /tmp/exptrack-screens; ONLY=<view,view> limits it;
//        KEEP=1 keeps the server up afterwards and writes OUT/env.json, and
//        ATTACH=<that env.json> shoots again on it without seeding)
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startPostgres, startServer, client, REPO_ROOT } from '../api/harness.mjs';
import { CHROMIUM, seed, seedArtifacts } from './helpers.mjs';
import { seedSweep } from './sweep.mjs';
import { seedModels } from './models-data.mjs';
import { createTrace, chatTrace, wideTrace } from './traces-data.mjs';

const OUT = process.argv[2] || '/tmp/exptrack-screens';
const ONLY = process.env.ONLY ? new Set(process.env.ONLY.split(',')) : null;
const FULL = !!process.env.FULL;
const SIZES = { desktop: { width: 1440, height: 900 }, phone: { width: 390, height: 844 } };

/** Opens hash on each size and scheme, waits for ready (a selector), runs act, saves. */
async function shoot(browser, base, name, hash, ready, act = null) {
    if (ONLY && !ONLY.has(name)) return;
    for (const [size, viewport] of Object.entries(SIZES)) {
        for (const scheme of ['light', 'dark']) {
            const ctx = await browser.newContext({ viewport, colorScheme: scheme, deviceScaleFactor: 1 });
            const page = await ctx.newPage();
            const errors = [];
            page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
            page.on('pageerror', (e) => errors.push(e.message));
            page.setDefaultTimeout(30000);
            try {
                await page.goto(`${base}/${hash}`);
                await page.waitForSelector(ready, { state: 'attached' });
                if (act) await act(page);
            } catch (e) {
                errors.push(`NOT READY: ${e.message.split('\n')[0]}`);
            }
            await page.waitForTimeout(400); // charts drawn by the lazy observer, fonts
            const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
            const file = `${OUT}/${name}-${size}-${scheme}.png`;
            await page.screenshot({ path: file, fullPage: FULL });
            console.log(`${file}${overflow > 1 ? ` OVERFLOWS by ${overflow}px` : ''}${errors.length ? ` ERRORS: ${errors.join(' | ')}` : ''}`);
            await ctx.close();
        }
    }
}

fs.mkdirSync(OUT, { recursive: true });
const attach = process.env.ATTACH ? JSON.parse(fs.readFileSync(process.env.ATTACH, 'utf8')) : null;
const pg = attach ? null : await startPostgres();
let srv, browser;
try {
    // the worktree's web/ from disk (--web-dir): the shots show what is being edited
    if (!attach) srv = await startServer({ databaseUrl: pg.url, args: ['--web-dir', path.join(REPO_ROOT, 'web')] });
    const base = attach ? attach.base : srv.url;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    const ids = attach ? attach.ids : await seedAll(browser, base);
    if (process.env.KEEP) fs.writeFileSync(`${OUT}/env.json`, JSON.stringify({ base, ids }));
    await shootAll(browser, base, ids);
    if (process.env.KEEP) {
        console.log(`serving ${base}; ATTACH=${OUT}/env.json reuses it; Ctrl-C stops`);
        await new Promise((resolve) => { process.on('SIGINT', resolve); process.on('SIGTERM', resolve); });
    }
} finally {
    if (browser) await browser.close();
    if (srv) await srv.stop();
    if (pg) await pg.destroy();
}

/** The first-run shot of the empty server, then the data every other view shows. */
async function seedAll(browser, base) {
    const api = client(base);
    await shoot(browser, base, 'first-run', '#/experiments', '.first-run');
    const data = await seed(api);
    await seedArtifacts(base, data.expId, data.runs.fast);
    const sweep = await seedSweep(api, { name: 'resnet-sweep-2024-02', runs: 48, steps: 2000, live: 2, keys: ['loss', 'acc', 'val_loss'] });
    const models = await seedModels(api, base, { bigVersions: 500 });
    const texts = ['Summarize the ticket in one sentence.\nTicket: {{ ticket }}', 'Summarize the support ticket in one sentence, in the customer\'s language.\nTicket: {{ ticket }}\nProduct: {{ product }}'];
    const isPrompt = { key: 'mlflow.prompt.is_prompt', value: 'true' };
    await api.ok('POST', '/registered-models/create', { name: 'ticket-summary', description: 'Support ticket summaries', tags: [isPrompt] });
    for (const text of texts) {
        await api.ok('POST', '/model-versions/create', { name: 'ticket-summary', source: 'dummy-source', tags: [isPrompt, { key: 'mlflow.prompt.text', value: text }] });
    }
    const tExp = await api.createExperiment('rag-eval');
    const chat = await chatTrace(base, tExp, { runId: data.runs.fast, bigChars: 20000 });
    for (let i = 0; i < 30; i++) {
        await createTrace(base, tExp, {
            name: ['chat', 'retrieve', 'summarize'][i % 3], ms: 80 + i * 37, state: i % 7 === 3 ? 'ERROR' : 'OK',
            when: Date.UTC(2025, 5, 1, 12, i), request: `{"question": "How do I log metric number ${i} from a training loop?"}`,
            response: `"Call mlflow.log_metric with step=${i}."`, tags: { env: i % 2 ? 'prod' : 'staging' },
        });
    }
    const wide = await wideTrace(base, tExp, 10000);
    return { data, sweep: { expId: sweep.expId }, models, tExp, chat, wide };
}

async function shootAll(browser, base, { data, sweep, models, tExp, chat, wide }) {
    await shoot(browser, base, 'experiments', '#/experiments', 'table.experiments tr[data-exp] .run-count .badge');
    await shoot(browser, base, 'runs', `#/runs?exp=${data.expId}`, 'table.runs tr[data-run]');
    await shoot(browser, base, 'runs-sweep', `#/runs?exp=${sweep.expId}`, 'table.runs tr[data-run]');
    await shoot(browser, base, 'run', `#/run/${data.runs.fast}`, '.chart-card');
    const three = `${data.runs.fast},${data.runs.medium},${data.runs.slow}`;
    await shoot(browser, base, 'compare', `#/compare?runs=${three}&base=${data.runs.fast}`, 'table.compare');
    await shoot(browser, base, 'chart-view', `#/runs?exp=${sweep.expId}&panel=charts`, '.runs-panel .chart-card[data-drawn="1"]',
        (page) => page.waitForFunction(() => !document.querySelector('.runs-panel .chart-card:not([data-drawn="1"])')));
    await shoot(browser, base, 'parcoords', `#/runs?exp=${sweep.expId}&panel=parcoords&brush=params.lr:0.005:0.05`, '.parcoords canvas');
    await shoot(browser, base, 'models', '#/models', 'table.models tr[data-model]');
    await shoot(browser, base, 'model-500', `#/model/${models.big}`, 'table.versions tr[data-version]');
    await shoot(browser, base, 'model', `#/model/${models.churn}`, 'table.versions tr[data-version]');
    await shoot(browser, base, 'version', `#/model/${models.churn}/2`, '#view:not([aria-busy])');
    await shoot(browser, base, 'version-diff', `#/model/${models.churn}/2?diff=1`, '#view:not([aria-busy])');
    await shoot(browser, base, 'prompts', '#/prompts', '#view:not([aria-busy])');
    await shoot(browser, base, 'prompt', '#/prompt/ticket-summary?v=2&a=1&b=2', '#view:not([aria-busy])');
    await shoot(browser, base, 'logged-models', `#/logged-models?exp=${models.expId}`, '.lm-body[data-loaded="1"]');
    await shoot(browser, base, 'logged-model', `#/logged-model/${models.models[1]}`, '#view:not([aria-busy])');
    await shoot(browser, base, 'traces', `#/traces?exp=${tExp}`, 'table.traces tbody tr[data-trace]');
    await shoot(browser, base, 'trace-chat', `#/trace/${chat.id}?span=${chat.spans.tool}`, '#view[data-ready="1"]');
    await shoot(browser, base, 'trace-wide', `#/trace/${wide}`, '#view[data-ready="1"]', async (page) => {
        await page.locator('.span-row').nth(6).click(); // a span chosen: its details beside the tree
    });
}
