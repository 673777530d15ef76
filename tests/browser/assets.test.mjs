// Delivery of the dashboard over HTTP (no browser needed): types, gzip,
// ETag/304, cache and security headers, no inline script, no path escapes,
// every module the page imports is served, and --web-dir serves from disk.
import { test, describe, before, after } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import http from 'node:http';
import assert from 'node:assert/strict';
import { startPostgres, startServer, REPO_ROOT } from '../api/harness.mjs';

/** A raw GET (fetch would decompress and hide Content-Encoding). */
function get(base, p, headers = {}) {
    return new Promise((resolve, reject) => {
        const u = new URL(base + p);
        const req = http.request({ host: u.hostname, port: u.port, path: p, method: 'GET', headers, timeout: 10000 }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
        req.end();
    });
}

describe('dashboard assets', () => {
    let pg, srv, dev, webDir;
    before(async () => {
        pg = await startPostgres();
        srv = await startServer({ databaseUrl: pg.url });
        webDir = fs.mkdtempSync(path.join(os.tmpdir(), 'exptrack-web-'));
        fs.cpSync(path.join(REPO_ROOT, 'web'), webDir, { recursive: true, filter: (src) => !src.includes('node_modules') });
        fs.mkdirSync(path.join(webDir, 'vendor', 'uplot'), { recursive: true });
        fs.copyFileSync(path.join(REPO_ROOT, 'web/node_modules/uplot/dist/uPlot.esm.js'), path.join(webDir, 'vendor/uplot/uPlot.esm.js'));
        dev = await startServer({ databaseUrl: pg.url, args: ['--web-dir', webDir] });
    }, { timeout: 120000 });
    after(async () => {
        await dev?.stop();
        await srv?.stop();
        await pg?.destroy();
        if (webDir) fs.rmSync(webDir, { recursive: true, force: true });
    });

    test('GET / is the dashboard: HTML, no inline script, CSP, nosniff, ETag', async () => {
        const r = await get(srv.url, '/');
        assert.equal(r.status, 200);
        assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
        assert.equal(r.headers['x-content-type-options'], 'nosniff');
        assert.match(r.headers['content-security-policy'], /script-src 'self'/);
        assert.equal(r.headers['cache-control'], 'no-cache');
        assert.match(r.headers.etag, /^"[0-9a-f]{16}"$/);
        const html = r.body.toString('utf8');
        assert.match(html, /<script type="module" src="\/static\/js\/app\.js"><\/script>/);
        for (const m of html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)) {
            assert.match(m[1], /src=/, 'every script has a src');
            assert.equal(m[2].trim(), '', 'no inline script');
        }
        assert.doesNotMatch(html, /https?:\/\//, 'nothing from the internet');
    });

    test('static files have their types, and gzip when accepted', async () => {
        const js = await get(srv.url, '/static/js/app.js');
        assert.equal(js.status, 200);
        assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
        assert.equal(js.headers['content-encoding'], undefined);
        assert.equal(js.headers.vary, 'Accept-Encoding');
        assert.equal(js.body.toString('utf8'), fs.readFileSync(path.join(REPO_ROOT, 'web/js/app.js'), 'utf8'));

        const gz = await get(srv.url, '/static/vendor/uplot/uPlot.esm.js', { 'accept-encoding': 'gzip, deflate, br' });
        assert.equal(gz.headers['content-encoding'], 'gzip');
        assert.ok(gz.body.length < 60000, `compressed size ${gz.body.length}`);
        assert.deepEqual(zlib.gunzipSync(gz.body), fs.readFileSync(path.join(REPO_ROOT, 'web/node_modules/uplot/dist/uPlot.esm.js')));
        const refused = await get(srv.url, '/static/css/app.css', { 'accept-encoding': 'gzip;q=0, identity' });
        assert.equal(refused.headers['content-encoding'], undefined);
        assert.equal(refused.headers['content-type'], 'text/css; charset=utf-8');
        assert.notEqual(gz.headers.etag, (await get(srv.url, '/static/vendor/uplot/uPlot.esm.js')).headers.etag, 'each encoding has its own tag');
    });

    test('If-None-Match answers 304 without a body', async () => {
        const first = await get(srv.url, '/static/js/runs.js', { 'accept-encoding': 'gzip' });
        const again = await get(srv.url, '/static/js/runs.js', { 'accept-encoding': 'gzip', 'if-none-match': first.headers.etag });
        assert.equal(again.status, 304);
        assert.equal(again.body.length, 0);
        assert.equal(again.headers.etag, first.headers.etag);
        const changed = await get(srv.url, '/static/js/runs.js', { 'if-none-match': '"0000000000000000"' });
        assert.equal(changed.status, 200);
    });

    test('every module and stylesheet the page loads is served', async () => {
        const seen = new Set();
        // the entry and what index.html preloads, then every static and dynamic import
        const index = (await get(srv.url, '/')).body.toString('utf8');
        const queue = [...index.matchAll(/<(?:script type="module" src|link rel="modulepreload" href)="([^"]+)"/g)].map((m) => m[1]);
        assert.ok(queue.includes('/static/js/app.js'), 'index.html loads app.js');
        while (queue.length) {
            const p = queue.pop();
            if (seen.has(p)) continue;
            seen.add(p);
            const r = await get(srv.url, p);
            assert.equal(r.status, 200, p);
            const text = r.body.toString('utf8');
            for (const m of [...text.matchAll(/^import [^'"]*['"](\.[^'"]+)['"]/gm), ...text.matchAll(/\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g)]) {
                queue.push(new URL(m[1], `http://x${p}`).pathname);
            }
        }
        for (const m of ['run', 'runs', 'experiments', 'compare', 'charts', 'live']) assert.ok(seen.has(`/static/js/${m}.js`), m);
        assert.ok(seen.has('/static/vendor/uplot/uPlot.esm.js'));
        for (const css of ['/static/css/app.css', '/static/vendor/uplot/uPlot.min.css']) assert.equal((await get(srv.url, css)).status, 200, css);
    });

    test('HEAD answers the headers of GET without a body', async () => {
        const r = await new Promise((resolve, reject) => {
            const u = new URL(srv.url);
            const req = http.request({ host: u.hostname, port: u.port, path: '/static/css/app.css', method: 'HEAD' }, (res) => {
                const chunks = [];
                res.on('data', (c) => chunks.push(c));
                res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
            });
            req.on('error', reject);
            req.end();
        });
        assert.equal(r.status, 200);
        assert.equal(r.headers['content-type'], 'text/css; charset=utf-8');
        assert.equal(Number(r.headers['content-length']), fs.statSync(path.join(REPO_ROOT, 'web/css/app.css')).size);
        assert.equal(r.body.length, 0);
    });

    test('a --web-dir without index.html stops the server with a message', async () => {
        const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'exptrack-noweb-'));
        try {
            await assert.rejects(startServer({ databaseUrl: pg.url, args: ['--web-dir', empty] }), /no index\.html/);
        } finally {
            fs.rmSync(empty, { recursive: true, force: true });
        }
    });

    test('unknown files and path escapes are 404', async () => {
        for (const p of ['/static/nope.js', '/static/../CMakeLists.txt', '/static/js/%2e%2e/index.html', '/static/', '/static//etc/passwd', '/static/js/']) {
            const r = await get(srv.url, p);
            assert.equal(r.status, 404, p);
        }
    });

    test('--web-dir serves the files on disk, changes included', async () => {
        const before_ = await get(dev.url, '/static/js/util.js');
        assert.equal(before_.status, 200);
        fs.appendFileSync(path.join(webDir, 'js/util.js'), '\n// edited\n');
        const after_ = await get(dev.url, '/static/js/util.js', { 'if-none-match': before_.headers.etag });
        assert.equal(after_.status, 200);
        assert.match(after_.body.toString('utf8'), /\/\/ edited\n$/);
        assert.equal((await get(dev.url, '/')).status, 200);
    });
});
