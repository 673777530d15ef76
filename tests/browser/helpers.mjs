// Browser-test helpers: a real PostgreSQL + exptrackd (tests/api/harness.mjs),
// Debian's chromium driven by playwright-core with a throw-away profile, test
// data created through the API, screenshots under tests/out/browser/, and
// pixel checks that tell a drawn chart from an empty canvas.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startPostgres, startServer, client, openStream, REPO_ROOT } from '../api/harness.mjs';

export const OUT_DIR = process.env.EXPTRACK_TEST_OUT || path.join(REPO_ROOT, 'tests', 'out', 'browser');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const CHROMIUM_ARGS = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-dev-shm-usage',
];

/**
 * Launches chromium without a profile, for benches that open a fresh
 * browser context per load. Returns playwright's Browser.
 */
export function launchChromium() {
    return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60000 });
}

/** Launches chromium on a fresh profile. Returns {context, close()}. */
export async function launchBrowser() {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`chromium not found at ${CHROMIUM} (scripts/install-deps.sh test installs it)`);
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'exptrack-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
        viewport: { width: 1280, height: 800 }, timeout: 60000,
    });
    return {
        context,
        close: async () => {
            try { await context.close(); } finally { fs.rmSync(profile, { recursive: true, force: true }); }
        },
    };
}

/**
 * Starts PostgreSQL, exptrackd and chromium in before() and stops them in
 * after(). Returns {base, api, browser, pg, srv, page()} filled in by before().
 */
export function useBrowserStack({ before, after }, { serverArgs = [] } = {}) {
    const s = { pg: null, srv: null, base: null, api: null, browser: null, errors: [] };
    before(async () => {
        s.pg = await startPostgres();
        s.srv = await startServer({ databaseUrl: s.pg.url, args: serverArgs });
        s.base = s.srv.url;
        s.api = client(s.base);
        s.browser = await launchBrowser();
    }, { timeout: 180000 });
    after(async () => {
        if (s.browser) await s.browser.close();
        if (s.srv) await s.srv.stop();
        if (s.pg) await s.pg.destroy();
    }, { timeout: 60000 });
    /** A new page that records console errors and failed requests in s.errors. */
    s.page = async () => {
        const page = await s.browser.context.newPage();
        page.on('console', (m) => { if (m.type() === 'error') s.errors.push(`console: ${m.text()}`); });
        page.on('pageerror', (e) => s.errors.push(`pageerror: ${e.message}`));
        page.setDefaultTimeout(15000);
        return page;
    };
    return s;
}

/** Saves a full-page screenshot as OUT_DIR/<name>.png; returns the path. */
export async function screenshot(page, name) {
    fs.mkdirSync(OUT_DIR, { recursive: true });
    const file = path.join(OUT_DIR, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
}

/**
 * Counts the saturated (non-gray) pixels of the canvases under selector: the
 * series of a chart, as opposed to its gray axes and grid.
 */
export async function coloredPixels(page, selector) {
    return await page.$$eval(`${selector} canvas`, (canvases) => {
        let n = 0;
        for (const c of canvases) {
            const ctx = c.getContext('2d');
            const d = ctx.getImageData(0, 0, c.width, c.height).data;
            for (let i = 0; i < d.length; i += 4) {
                if (d[i + 3] < 128) continue;
                const mx = Math.max(d[i], d[i + 1], d[i + 2]), mn = Math.min(d[i], d[i + 1], d[i + 2]);
                if (mx - mn > 60) n++;
            }
        }
        return n;
    });
}

const T0 = Date.UTC(2024, 0, 15, 9, 0, 0);

/**
 * Creates the data set the tests read: experiment "vision" with three runs
 * (lr 0.1 / 0.01 / 0.001), metrics loss, acc, train/loss, train/acc,
 * val/loss over 100 steps, a tag each; and experiment "nlp" with one run.
 * Returns {expId, exp2Id, runs: {fast, medium, slow}}.
 */
export async function seed(api) {
    const expId = await api.createExperiment('vision', { tags: [{ key: 'team', value: 'cv' }] });
    const exp2Id = await api.createExperiment('nlp');
    const specs = [
        { name: 'fast', lr: '0.1', scale: 1.0, status: 'FINISHED', model: 'resnet' },
        { name: 'medium', lr: '0.01', scale: 0.6, status: 'FAILED', model: 'resnet' },
        { name: 'slow', lr: '0.001', scale: 0.3, status: 'RUNNING', model: 'vit' },
    ];
    const runs = {};
    for (const [i, sp] of specs.entries()) {
        const start = T0 + i * 60000;
        const run = await api.createRun(expId, { run_name: sp.name, start_time: start, user_id: 'alice' });
        const id = run.info.run_id;
        runs[sp.name] = id;
        const metrics = [];
        for (let step = 0; step < 100; step++) {
            const ts = start + step * 1000;
            const loss = 2 * Math.exp(-step * 0.05 * sp.scale) + 0.05 * Math.sin(step);
            metrics.push({ key: 'loss', value: loss, timestamp: ts, step });
            metrics.push({ key: 'acc', value: 1 - loss / 2.5, timestamp: ts, step });
            metrics.push({ key: 'train/loss', value: loss * 1.1, timestamp: ts, step });
            metrics.push({ key: 'train/acc', value: 0.9 - loss / 3, timestamp: ts, step });
            metrics.push({ key: 'val/loss', value: loss * 1.3, timestamp: ts, step });
        }
        for (let j = 0; j < metrics.length; j += 900) {
            await api.ok('POST', '/runs/log-batch', {
                run_id: id, metrics: metrics.slice(j, j + 900),
                params: j ? [] : [{ key: 'lr', value: sp.lr }, { key: 'batch_size', value: '32' }, { key: 'model', value: sp.model }],
                tags: j ? [] : [{ key: 'mlflow.source.git.commit', value: `abc${i}def0123456789` }, { key: 'mlflow.source.name', value: 'train.py' }],
            });
        }
        if (sp.status !== 'RUNNING') {
            await api.ok('POST', '/runs/update', { run_id: id, status: sp.status, end_time: start + 100000 + i * 5000 });
        }
    }
    const other = await api.createRun(exp2Id, { run_name: 'bert-base', start_time: T0 });
    await api.ok('POST', '/runs/log-batch', { run_id: other.info.run_id, metrics: [{ key: 'f1', value: 0.8, timestamp: T0, step: 0 }] });
    return { expId, exp2Id, runs };
}

const PNG_1X1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

/** The files seedArtifacts() uploads, by path. */
export const ARTIFACTS = {
    'README.md': '# Model card\n\nTrained with **lr 0.1**.\n\n- first\n- second\n\n<script>alert(1)</script>\n',
    'notes.txt': 'plain text notes\nline two\n',
    'eval/metrics.csv': 'epoch,loss,acc\n1,0.9,0.5\n2,"0.5",0.75\n3,0.25,"0,9"\n',
    'eval/config.json': '{"lr":0.1,"layers":[64,32]}',
    'plots/loss.png': Buffer.from(PNG_1X1, 'base64'),
};

/**
 * Uploads ARTIFACTS to a run through MLflow's proxied artifact API. Returns
 * false when the server has no artifact API (nothing uploaded).
 */
export async function seedArtifacts(base, expId, runId) {
    for (const [p, body] of Object.entries(ARTIFACTS)) {
        const r = await fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/${expId}/${runId}/artifacts/${p}`, {
            method: 'PUT', body, headers: { 'content-type': 'application/octet-stream' },
        });
        if (r.status === 404 || r.status === 405 || r.status === 501) return false;
        assert.equal(r.status, 200, `upload ${p}: ${await r.text()}`);
    }
    return true;
}

/** Whether the server has the search issue's filter support (else filters get 400). */
export async function serverFilters(api) {
    const r = await api.post('/runs/search', { experiment_ids: ['0'], filter: "params.x = 'y'", max_results: 1 });
    return r.status === 200;
}

/** The text of the cells of column idx (0-based) of the runs table. */
export async function columnTexts(page, idx) {
    return await page.$$eval(`table.runs tbody tr[data-run] td:nth-child(${idx + 1})`, (tds) => tds.map((t) => t.textContent.trim()));
}

/**
 * Holds the page's live streams (GET exptrack/stream) until the returned
 * release() is called, so that a change can be made after the page's first
 * read and before its stream starts.
 */
export async function holdStreams(page) {
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    await page.route('**/api/2.0/exptrack/stream?*', async (route) => { await held; await route.continue(); });
    return release;
}

/**
 * Runs write() with a stream of `query` open beside it and resolves once
 * that stream has carried an `event` event after it: the server has then
 * sent the change to every stream it had, and a stream opened later gets
 * no event for it.
 */
export async function writeSeenByHub(base, query, event, write) {
    const watcher = await openStream(base, query);
    try {
        assert.equal(watcher.status, 200);
        await watcher.waitFor((x) => x.retry !== undefined, 5000);
        const seen = watcher.items.length;
        await write();
        await watcher.waitFor((x) => x.event === event, 5000, seen);
    } finally {
        watcher.close();
    }
}

export { assert, client };
