// Artifacts: MLflow's proxied artifact API stored in PostgreSQL. Byte-exact
// round trips around the chunk size, listing, deletion, dedup across runs,
// concurrent and cut-off uploads, Range, path safety, size limit, gc.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { useStack, client, PREFIXES, assertOk, assertError, waitUntil, exptrackdPath, sleep, sanitizerReport } from './harness.mjs';

const CHUNK = 1024 * 1024;
const MAX_ARTIFACT = 64 * CHUNK;
const stack = useStack({ before, after }, { server: { args: ['--max-artifact-size', String(MAX_ARTIFACT)] } });

const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');
const sql = (q) => stack.pg.psql(q).trim();

// Sends one request exactly as written (no URL normalisation), returns
// {status, headers, body}. `body` may be cut short with `cutAfter` bytes: the
// socket is then destroyed, once `beforeCut()` resolves, and the promise
// resolves with {cut: true}.
function raw(method, path, { body, headers = {}, cutAfter, beforeCut = () => sleep(200) } = {}) {
    const u = new URL(stack.base);
    return new Promise((resolve, reject) => {
        const sock = net.connect(Number(u.port), u.hostname);
        const chunks = [];
        sock.on('connect', () => {
            const h = { Host: u.host, Connection: 'close', ...headers };
            if (body !== undefined) h['Content-Length'] = String(body.length);
            let head = `${method} ${path} HTTP/1.1\r\n`;
            for (const [k, v] of Object.entries(h)) head += `${k}: ${v}\r\n`;
            sock.write(head + '\r\n');
            if (body === undefined) return;
            if (cutAfter !== undefined) {
                sock.write(body.subarray(0, cutAfter), async () => {
                    await beforeCut();
                    sock.destroy();
                    resolve({ cut: true });
                });
            } else {
                sock.write(body);
            }
        });
        sock.on('data', (c) => chunks.push(c));
        sock.on('error', (e) => (cutAfter !== undefined ? resolve({ cut: true }) : reject(e)));
        sock.on('end', () => {
            const all = Buffer.concat(chunks);
            const sep = all.indexOf('\r\n\r\n');
            const lines = all.subarray(0, sep).toString('latin1').split('\r\n');
            const status = Number(lines[0].split(' ')[1]);
            const hdrs = {};
            for (const l of lines.slice(1)) {
                const i = l.indexOf(':');
                hdrs[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
            }
            const text = all.subarray(sep + 4).toString('utf8');
            let json;
            try { json = JSON.parse(text); } catch { /* not JSON */ }
            resolve({ status, headers: hdrs, text, json });
        });
        sock.setTimeout(30000, () => sock.destroy(new Error('raw request timed out')));
    });
}

// Sends a PUT of `body` in two parts: the first `splitAt` bytes, then, once
// `between()` resolves, the rest. Returns the parsed response like raw().
function rawTwoParts(path, body, splitAt, between) {
    const u = new URL(stack.base);
    return new Promise((resolve, reject) => {
        const sock = net.connect(Number(u.port), u.hostname);
        const chunks = [];
        sock.on('connect', () => {
            sock.write(`PUT ${path} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: close\r\n` +
                `Content-Length: ${body.length}\r\n\r\n`);
            sock.write(body.subarray(0, splitAt), async () => {
                try { await between(); } catch (e) { sock.destroy(); reject(e); return; }
                sock.write(body.subarray(splitAt));
            });
        });
        sock.on('data', (c) => chunks.push(c));
        sock.on('error', reject);
        sock.on('end', () => {
            const all = Buffer.concat(chunks);
            const sep = all.indexOf('\r\n\r\n');
            const status = Number(all.subarray(0, sep).toString('latin1').split(' ')[1]);
            const text = all.subarray(sep + 4).toString('utf8');
            let json;
            try { json = JSON.parse(text); } catch { /* not JSON */ }
            resolve({ status, text, json });
        });
        sock.setTimeout(60000, () => sock.destroy(new Error('two-part request timed out')));
    });
}

// The MLflow error shape over a raw response.
function assertRawError(r, status, code, what) {
    assert.equal(r.status, status, `${what}: expected ${status}, got ${r.status} ${r.text}`);
    assert.equal(r.json?.error_code, code, `${what}: ${r.text}`);
    assert.equal(typeof r.json.message, 'string');
}

async function put(url, body, headers = {}) {
    const r = await fetch(url, { method: 'PUT', body, headers, signal: AbortSignal.timeout(120000) });
    return { status: r.status, text: await r.text() };
}

async function get(url, headers = {}) {
    const r = await fetch(url, { headers, signal: AbortSignal.timeout(120000) });
    return { status: r.status, headers: r.headers, body: Buffer.from(await r.arrayBuffer()) };
}

async function newRun(c, exp = '0') {
    const run = await c.createRun(exp);
    const id = run.info.run_id;
    return { id, exp, rel: `${exp}/${id}/artifacts` };
}

const artUrl = (prefix, p) => `${stack.base}${prefix.replace('/mlflow', '')}/mlflow-artifacts/artifacts/${p}`;
const listUrl = (prefix, p) => `${stack.base}${prefix.replace('/mlflow', '')}/mlflow-artifacts/artifacts?path=${encodeURIComponent(p)}`;

async function list(prefix, p) {
    const r = await fetch(listUrl(prefix, p));
    assert.equal(r.status, 200, `list ${p}`);
    return r.json();
}

describe('artifacts', () => {
    let c;
    before(() => { c = client(stack.base); });

    test('run artifact_uri routes through the proxy', async () => {
        const run = await c.createRun('0');
        assert.equal(run.info.artifact_uri, `mlflow-artifacts:/0/${run.info.run_id}/artifacts`);
    });

    for (const prefix of PREFIXES) {
        test(`byte-exact round trips around the chunk size under ${prefix}`, async () => {
            const run = await newRun(c);
            const sizes = [0, 1, 1000, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 17];
            for (const size of sizes) {
                const data = crypto.randomBytes(size);
                const url = artUrl(prefix, `${run.rel}/sizes/f${size}.bin`);
                const up = await put(url, data, { 'content-type': 'application/octet-stream' });
                assert.equal(up.status, 200, `PUT ${size}: ${up.text}`);
                assert.deepEqual(JSON.parse(up.text), {});
                const down = await get(url);
                assert.equal(down.status, 200);
                assert.equal(down.body.length, size);
                assert.ok(down.body.equals(data), `bytes of a ${size}-byte file`);
                assert.equal(down.headers.get('content-length'), String(size));
                assert.equal(down.headers.get('etag'), `"${sha256(data)}"`);
                assert.equal(down.headers.get('x-content-type-options'), 'nosniff');
                assert.match(down.headers.get('content-disposition'), new RegExp(`^attachment; filename="f${size}\\.bin"`));
            }
            assert.equal(sql(`SELECT count(*) FROM artifact_blobs WHERE sha256 IS NULL`), '0', 'no pending blobs left');
        });
    }

    test('a 50 MiB random file round-trips byte for byte', { timeout: 300000 }, async () => {
        const run = await newRun(c);
        const data = crypto.randomBytes(50 * CHUNK);
        const url = artUrl(PREFIXES[0], `${run.rel}/big/model.bin`);
        const up = await put(url, data);
        assert.equal(up.status, 200, up.text);
        const down = await get(url);
        assert.equal(down.status, 200);
        assert.equal(down.body.length, data.length);
        assert.equal(sha256(down.body), sha256(data));
        assert.ok(down.body.equals(data));
        assert.equal(sql(`SELECT count(*) FROM artifact_chunks c JOIN artifact_blobs b ON b.id = c.blob_id
                          WHERE b.sha256 = decode('${sha256(data)}', 'hex')`), '50');
        assert.equal(sql(`SELECT DISTINCT length(data) FROM artifact_chunks c JOIN artifact_blobs b ON b.id = c.blob_id
                          WHERE b.sha256 = decode('${sha256(data)}', 'hex')`), String(CHUNK));
    });

    test('content types come from the file name', async () => {
        const run = await newRun(c);
        const cases = { 'a.txt': 'text/plain', 'b.json': 'application/json', 'c.png': 'image/png', 'MLmodel': 'application/octet-stream', 'd.HTML': 'text/html' };
        for (const [name, type] of Object.entries(cases)) {
            const url = artUrl(PREFIXES[0], `${run.rel}/${name}`);
            assert.equal((await put(url, 'x')).status, 200);
            const r = await fetch(url);
            assert.equal(r.headers.get('content-type'), type, name);
        }
    });

    test('nested folders list with directory semantics (proxy and tracking API)', async () => {
        const run = await newRun(c);
        const files = { 'a/b/c.txt': 'c', 'a/d.txt': 'dd', 'e.txt': 'eee', 'a/b/z/deep.bin': 'deep', 'ü/ñ.txt': 'unicode' };
        for (const [p, body] of Object.entries(files)) assert.equal((await put(artUrl(PREFIXES[0], `${run.rel}/${p}`), body)).status, 200);
        for (const prefix of PREFIXES) {
            assert.deepEqual(await list(prefix, run.rel), { files: [
                { path: 'a', is_dir: true }, { path: 'e.txt', is_dir: false, file_size: 3 }, { path: 'ü', is_dir: true }] });
            assert.deepEqual(await list(prefix, `${run.rel}/a`), { files: [
                { path: 'b', is_dir: true }, { path: 'd.txt', is_dir: false, file_size: 2 }] });
            assert.deepEqual(await list(prefix, `${run.rel}/a/`), await list(prefix, `${run.rel}/a`), 'one trailing slash is fine');
            assert.deepEqual(await list(prefix, `${run.rel}/a/b`), { files: [
                { path: 'c.txt', is_dir: false, file_size: 1 }, { path: 'z', is_dir: true }] });
            assert.deepEqual(await list(prefix, `${run.rel}/a/d.txt`), {}, 'a file lists as {}');
            assert.deepEqual(await list(prefix, `${run.rel}/nope`), {}, 'a missing path lists as {}');
            assert.deepEqual(await list(prefix, `${run.exp}/${run.id}`), { files: [{ path: 'artifacts', is_dir: true }] });
            assert.deepEqual(await list(prefix, `1234/${run.id}/artifacts`), {}, 'the path must name the run\'s experiment');
            assert.deepEqual(await list(prefix, `0/${'f'.repeat(32)}/artifacts`), {});
        }
        const t = client(stack.base);
        const all = assertOk(await t.get('/artifacts/list', { run_id: run.id }));
        assert.equal(all.root_uri, `mlflow-artifacts:/0/${run.id}/artifacts`);
        assert.deepEqual(all.files.map((f) => f.path), ['a', 'e.txt', 'ü']);
        const sub = assertOk(await t.get('/artifacts/list', { run_id: run.id, path: 'a/b' }));
        assert.deepEqual(sub.files, [{ path: 'a/b/c.txt', is_dir: false, file_size: 1 }, { path: 'a/b/z', is_dir: true }]);
        const file = assertOk(await t.get('/artifacts/list', { run_uuid: run.id, path: 'a/d.txt' }));
        assert.deepEqual(file, { root_uri: all.root_uri });
        assertError(await t.get('/artifacts/list', { run_id: 'f'.repeat(32) }), 404, 'RESOURCE_DOES_NOT_EXIST');
        assertError(await t.get('/artifacts/list', { run_id: run.id, path: '../x' }), 400, 'INVALID_PARAMETER_VALUE');
        const got = await get(artUrl(PREFIXES[0], `${run.rel}/${encodeURIComponent('ü')}/${encodeURIComponent('ñ.txt')}`));
        assert.equal(got.body.toString(), 'unicode');
    });

    test('a file and a directory cannot share a path', async () => {
        const run = await newRun(c);
        assert.equal((await put(artUrl(PREFIXES[0], `${run.rel}/x/y.txt`), 'y')).status, 200);
        const r1 = await put(artUrl(PREFIXES[0], `${run.rel}/x`), 'x');
        assert.equal(r1.status, 400, r1.text);
        const r2 = await put(artUrl(PREFIXES[0], `${run.rel}/x/y.txt/z`), 'z');
        assert.equal(r2.status, 400, r2.text);
        assert.equal(JSON.parse(r2.text).error_code, 'INVALID_PARAMETER_VALUE');
    });

    test('download of a directory or missing file is a 404 with the MLflow error shape', async () => {
        const run = await newRun(c);
        await put(artUrl(PREFIXES[0], `${run.rel}/d/f.txt`), 'f');
        for (const p of [`${run.rel}/d`, `${run.rel}/missing.txt`, `0/${'f'.repeat(32)}/artifacts/x`]) {
            const res = await fetch(artUrl(PREFIXES[0], p));
            assert.equal(res.status, 404, p);
            assert.equal((await res.json()).error_code, 'RESOURCE_DOES_NOT_EXIST');
        }
    });

    test('delete removes a file or a directory tree, never more', async () => {
        const run = await newRun(c);
        const other = await newRun(c);
        for (const p of ['keep.txt', 'dir/a.txt', 'dir/sub/b.txt', 'dirx.txt', 'dir0/c.txt']) {
            assert.equal((await put(artUrl(PREFIXES[0], `${run.rel}/${p}`), p)).status, 200);
        }
        await put(artUrl(PREFIXES[0], `${other.rel}/dir/a.txt`), 'other');
        const del = async (p) => {
            const r = await fetch(artUrl(PREFIXES[1], p), { method: 'DELETE' });
            return { status: r.status, json: await r.json() };
        };
        assert.deepEqual(await del(`${run.rel}/dir`), { status: 200, json: {} });
        assert.deepEqual((await list(PREFIXES[0], run.rel)).files.map((f) => f.path), ['dir0', 'dirx.txt', 'keep.txt']);
        assert.deepEqual(await del(`${run.rel}/keep.txt`), { status: 200, json: {} });
        assert.deepEqual(await del(`${run.rel}/missing`), { status: 200, json: {} }, 'missing: still {}');
        assert.deepEqual((await list(PREFIXES[0], run.rel)).files.map((f) => f.path), ['dir0', 'dirx.txt']);
        // above the run's files: refused
        for (const p of [`${run.exp}/${run.id}`, `${run.exp}`, `${run.exp}/${run.id}/other`]) {
            const r = await del(p);
            assert.equal(r.status, 400, p);
            assert.equal(r.json.error_code, 'INVALID_PARAMETER_VALUE');
        }
        // a wrong experiment id reaches nothing
        assert.deepEqual(await del(`999/${other.id}/artifacts/dir`), { status: 200, json: {} });
        assert.deepEqual(await list(PREFIXES[0], `${other.rel}/dir`), { files: [{ path: 'a.txt', is_dir: false, file_size: 5 }] });
        // the whole run root
        assert.deepEqual(await del(`${run.rel}`), { status: 200, json: {} });
        assert.deepEqual(await list(PREFIXES[0], run.rel), {});
        assert.deepEqual(await list(PREFIXES[0], `${other.rel}/dir`), { files: [{ path: 'a.txt', is_dir: false, file_size: 5 }] });
    });

    test('the same content in two runs is stored once', async () => {
        const a = await newRun(c);
        const b = await newRun(c);
        const data = crypto.randomBytes(2 * CHUNK + 5);
        assert.equal((await put(artUrl(PREFIXES[0], `${a.rel}/m.bin`), data)).status, 200);
        assert.equal((await put(artUrl(PREFIXES[0], `${b.rel}/copy/m2.bin`), data)).status, 200);
        const small = Buffer.from('same small file');
        await put(artUrl(PREFIXES[0], `${a.rel}/s.txt`), small);
        await put(artUrl(PREFIXES[0], `${b.rel}/s.txt`), small);
        for (const d of [data, small]) {
            const h = sha256(d);
            assert.equal(sql(`SELECT count(*) FROM artifact_blobs WHERE sha256 = decode('${h}', 'hex')`), '1');
            assert.equal(sql(`SELECT count(*) FROM artifact_files WHERE blob_id = (SELECT id FROM artifact_blobs WHERE sha256 = decode('${h}', 'hex'))`), '2');
        }
        assert.equal(sql(`SELECT count(*) FROM artifact_chunks WHERE blob_id = (SELECT id FROM artifact_blobs WHERE sha256 = decode('${sha256(data)}', 'hex'))`), '3');
        assert.equal(sql(`SELECT count(*) FROM artifact_blobs WHERE sha256 IS NULL`), '0', 'the duplicate upload\'s chunks are gone');
        assert.ok((await get(artUrl(PREFIXES[0], `${b.rel}/copy/m2.bin`))).body.equals(data));
    });

    test('concurrent uploads to one path: one whole version wins', async () => {
        const run = await newRun(c);
        const versions = Array.from({ length: 6 }, () => crypto.randomBytes(CHUNK + 1000 + Math.floor(Math.random() * 3 * CHUNK)));
        const url = artUrl(PREFIXES[0], `${run.rel}/race/model.bin`);
        const results = await Promise.all(versions.map((v) => put(url, v)));
        for (const r of results) assert.equal(r.status, 200, r.text);
        const down = await get(url);
        const hashes = versions.map(sha256);
        assert.ok(hashes.includes(sha256(down.body)), 'the file is exactly one of the uploads');
        assert.equal(down.headers.get('etag'), `"${sha256(down.body)}"`);
        assert.equal(sql(`SELECT count(*) FROM artifact_files f JOIN runs r ON r.id = f.run_id
                          WHERE r.run_uuid = '${run.id}' AND f.path = 'race/model.bin'`), '1');
        assert.equal(sql(`SELECT count(*) FROM artifact_blobs WHERE sha256 IS NULL`), '0');
    });

    test('an upload cut off half-way leaves no file and no chunks', async () => {
        const run = await newRun(c);
        const body = crypto.randomBytes(8 * CHUNK);
        const path = `/api/2.0/mlflow-artifacts/artifacts/${run.rel}/cut.bin`;
        // Cut once the server has stored what it got, so the close is news on
        // an idle socket. (libmicrohttpd 0.9.75 with epoll can miss a FIN that
        // arrives with the last data it reads, until its 120 s idle timeout.)
        const pendingChunks = () => Number(sql(`SELECT count(*) FROM artifact_chunks c JOIN artifact_blobs b
                                                ON b.id = c.blob_id WHERE b.sha256 IS NULL`));
        const stored = (n) => async () => { await waitUntil(() => pendingChunks() >= n, 20000, `${n} chunks stored`); await sleep(200); };
        const r = await raw('PUT', path, { body, cutAfter: 3 * CHUNK + 123, beforeCut: stored(3) });
        assert.ok(r.cut);
        await waitUntil(() => sql(`SELECT count(*) FROM artifact_blobs WHERE sha256 IS NULL`) === '0', 10000, 'pending chunks removed');
        assert.equal(sql(`SELECT count(*) FROM artifact_chunks c WHERE NOT EXISTS (SELECT 1 FROM artifact_blobs b WHERE b.id = c.blob_id AND b.sha256 IS NOT NULL)`), '0');
        const g = await fetch(artUrl(PREFIXES[0], `${run.rel}/cut.bin`));
        assert.equal(g.status, 404);
        assert.deepEqual(await list(PREFIXES[0], run.rel), {});
        // an earlier version of the same path survives a cut-off replacement
        await put(artUrl(PREFIXES[0], `${run.rel}/cut.bin`), 'v1');
        await raw('PUT', path, { body, cutAfter: 2 * CHUNK + 5, beforeCut: stored(2) });
        await waitUntil(() => sql(`SELECT count(*) FROM artifact_blobs WHERE sha256 IS NULL`) === '0', 10000, 'pending chunks removed');
        assert.equal((await get(artUrl(PREFIXES[0], `${run.rel}/cut.bin`))).body.toString(), 'v1');
    });

    test('Range requests answer 206 with the exact bytes', async () => {
        const run = await newRun(c);
        const data = crypto.randomBytes(CHUNK + 1);
        const url = artUrl(PREFIXES[0], `${run.rel}/r.bin`);
        await put(url, data);
        const size = data.length;
        const cases = [
            ['bytes=0-0', 0, 0], ['bytes=10-', 10, size - 1], ['bytes=-5', size - 5, size - 1],
            [`bytes=${CHUNK - 3}-${CHUNK}`, CHUNK - 3, CHUNK], ['bytes=100-99999999', 100, size - 1],
            ['bytes=-99999999', 0, size - 1],
        ];
        for (const [range, first, last] of cases) {
            const r = await get(url, { range });
            assert.equal(r.status, 206, range);
            assert.equal(r.headers.get('content-range'), `bytes ${first}-${last}/${size}`, range);
            assert.ok(r.body.equals(data.subarray(first, last + 1)), range);
        }
        for (const range of ['bytes=5-2', 'bytes=0-1,5-6', 'items=0-1', 'bytes=abc']) {
            const r = await get(url, { range });
            assert.equal(r.status, 200, range);
            assert.equal(r.body.length, size);
        }
        const bad = await get(url, { range: `bytes=${size}-` });
        assert.equal(bad.status, 416);
        assert.equal(bad.headers.get('content-range'), `bytes */${size}`);
        assert.equal(JSON.parse(bad.body.toString()).error_code, 'INVALID_PARAMETER_VALUE');
        const etag = (await get(url, { range: 'bytes=0-0' })).headers.get('etag');
        assert.equal((await get(url, { 'if-none-match': etag })).status, 304);
        const head = await fetch(url, { method: 'HEAD' });
        assert.equal(head.status, 200);
        assert.equal(head.headers.get('content-length'), String(size));
    });

    test('bad paths are refused with 400 for every method, and DELETE never escapes', async () => {
        const run = await newRun(c);
        const canaryRun = await newRun(c);
        await put(artUrl(PREFIXES[0], `${run.rel}/canary.txt`), 'canary');
        await put(artUrl(PREFIXES[0], `${canaryRun.rel}/canary.txt`), 'canary');
        const bad = [
            '..', '../x', 'a/../../x', './x', 'a/./b', 'a/..', '%2e%2e/x', '%2E%2E/x', '.%2e/x', '%2e/x',
            '%252e%252e/x', '%25252e%25252e/x', 'a%2f..%2fb', 'a%5c..%5cb', 'a%5cb', 'a%00b', 'a%2500b',
            'a//b', '/abs', 'C:/x', 'c:x', 'a%23b', 'a%0ab', 'a%09b', '%ef%bc%8e%ef%bc%8e/x',
            'a%ef%bc%8fb', '%e2%80%a5/x', '%c0%ae%c0%ae/x', '%ff', '...', '.%20', 'x'.repeat(256),
            `${'abcdefghij/'.repeat(100)}x`,
        ];
        assert.ok(bad.length >= 20);
        const notUtf8 = new Set(['%c0%ae%c0%ae/x', '%ff']);
        const base = `/api/2.0/mlflow-artifacts/artifacts/${run.rel}/`;
        for (const p of bad) {
            assertRawError(await raw('PUT', base + p, { body: Buffer.from('evil') }), 400, 'INVALID_PARAMETER_VALUE', `PUT ${p}`);
            assertRawError(await raw('GET', base + p), 400, 'INVALID_PARAMETER_VALUE', `GET ${p}`);
            assertRawError(await raw('DELETE', base + p), 400, 'INVALID_PARAMETER_VALUE', `DELETE ${p}`);
            // (the HTTP layer drops query values that are not UTF-8 as if absent)
            if (!notUtf8.has(p)) {
                assertRawError(await raw('GET', `/api/2.0/mlflow-artifacts/artifacts?path=${run.rel}/${p}`), 400, 'INVALID_PARAMETER_VALUE', `list ${p}`);
                assertRawError(await raw('GET', `/api/2.0/mlflow/artifacts/list?run_id=${run.id}&path=${p}`), 400, 'INVALID_PARAMETER_VALUE', `tracking list ${p}`);
            }
            assertRawError(await raw('POST', `/api/2.0/mlflow-artifacts/mpu/create/${run.rel}/${p}`, { body: Buffer.from('{}'), headers: { 'Content-Type': 'application/json' } }), 400, 'INVALID_PARAMETER_VALUE', `mpu ${p}`);
        }
        // whole-path tricks that would climb out of the run
        for (const p of [`${run.rel}/../../${canaryRun.id}/artifacts/canary.txt`, `${run.exp}/${run.id}/artifacts%2f..%2f..`,
            `..%2f${run.rel}`, `${run.exp}/${run.id}/..`, `${run.exp}/..`]) {
            assertRawError(await raw('DELETE', `/api/2.0/mlflow-artifacts/artifacts/${p}`), 400, 'INVALID_PARAMETER_VALUE', `DELETE ${p}`);
        }
        assert.equal(sql(`SELECT count(*) FROM artifact_files WHERE path = 'canary.txt'`), '2', 'nothing was deleted');
        assert.equal(sql(`SELECT count(*) FROM artifact_files WHERE path <> 'canary.txt' AND run_id = (SELECT id FROM runs WHERE run_uuid = '${run.id}')`), '0', 'nothing was written');
    });

    test('uploads over --max-artifact-size get 413, declared or streamed', async () => {
        const run = await newRun(c);
        const url = artUrl(PREFIXES[0], `${run.rel}/huge.bin`);
        const declared = await raw('PUT', `/api/2.0/mlflow-artifacts/artifacts/${run.rel}/huge.bin`, { body: Buffer.alloc(MAX_ARTIFACT + 1) });
        assertRawError(declared, 413, 'QUOTA_EXCEEDED', 'declared');
        assert.match(declared.json.message, new RegExp(String(MAX_ARTIFACT)));
        let sent = 0;
        const stream = new ReadableStream({
            pull(ctl) {
                if (sent > MAX_ARTIFACT + CHUNK) return ctl.close();
                sent += CHUNK;
                ctl.enqueue(new Uint8Array(CHUNK));
            },
        });
        const r = await fetch(url, { method: 'PUT', body: stream, duplex: 'half' });
        assert.equal(r.status, 413);
        assert.equal((await r.json()).error_code, 'QUOTA_EXCEEDED');
        assert.equal((await fetch(url)).status, 404);
        await waitUntil(() => sql(`SELECT count(*) FROM artifact_blobs WHERE sha256 IS NULL`) === '0', 10000, 'pending chunks removed');
        const exact = await put(url, Buffer.alloc(MAX_ARTIFACT));
        assert.equal(exact.status, 200, 'exactly the limit is fine');
    });

    test('deleted runs refuse uploads and deletes (400) but still serve reads', async () => {
        const run = await newRun(c);
        await put(artUrl(PREFIXES[0], `${run.rel}/a.txt`), 'a');
        await c.ok('POST', '/runs/delete', { run_id: run.id });
        const r = await put(artUrl(PREFIXES[0], `${run.rel}/b.txt`), 'b');
        assert.equal(r.status, 400);
        assert.equal(JSON.parse(r.text).error_code, 'INVALID_PARAMETER_VALUE');
        const d = await fetch(artUrl(PREFIXES[0], `${run.rel}/a.txt`), { method: 'DELETE' });
        assert.equal(d.status, 400);
        assert.equal((await get(artUrl(PREFIXES[0], `${run.rel}/a.txt`))).body.toString(), 'a');
        const missing = await put(artUrl(PREFIXES[0], `0/${'e'.repeat(32)}/artifacts/x.txt`), 'x');
        assert.equal(missing.status, 404);
        assert.equal(JSON.parse(missing.text).error_code, 'RESOURCE_DOES_NOT_EXIST');
    });

    // Size accounting: every named blob holds exactly its size in chunks of
    // its chunk size, and every file row has its blob's size.
    const assertSizesConsistent = () => {
        assert.equal(sql(`SELECT count(*) FROM artifact_blobs b WHERE sha256 IS NOT NULL AND (
                            size <> (SELECT coalesce(sum(length(data)), 0) FROM artifact_chunks c WHERE c.blob_id = b.id)
                            OR (SELECT count(*) FROM artifact_chunks c WHERE c.blob_id = b.id) <> (size + chunk_size - 1) / chunk_size)`),
        '0', 'blob sizes match their chunks');
        assert.equal(sql(`SELECT count(*) FROM artifact_files f JOIN artifact_blobs b ON b.id = f.blob_id WHERE f.size <> b.size`),
            '0', 'file sizes match their blobs');
    };
    const pendingBlobs = () => sql(`SELECT count(*) FROM artifact_blobs WHERE sha256 IS NULL`);

    test('chunked (streamed) uploads round-trip and sizes are accounted exactly', async () => {
        const run = await newRun(c);
        for (const size of [0, 1, CHUNK - 1, CHUNK, 2 * CHUNK + 7]) {
            const data = crypto.randomBytes(size);
            let at = 0;
            const stream = new ReadableStream({
                pull(ctl) { // odd piece sizes, so chunk boundaries fall mid-piece
                    if (at >= data.length) return ctl.close();
                    const n = Math.min(data.length - at, 70001 + (at % 3) * 1000);
                    ctl.enqueue(new Uint8Array(data.subarray(at, at + n)));
                    at += n;
                },
            });
            const url = artUrl(PREFIXES[0], `${run.rel}/chunked/f${size}.bin`);
            const r = await fetch(url, { method: 'PUT', body: stream, duplex: 'half' });
            assert.equal(r.status, 200, `${size}: ${await r.text()}`);
            const down = await get(url);
            assert.equal(down.body.length, size);
            assert.ok(down.body.equals(data), `${size} bytes round-trip`);
            assert.equal(down.headers.get('etag'), `"${sha256(data)}"`);
        }
        const listed = await list(PREFIXES[0], `${run.rel}/chunked`);
        assert.deepEqual(listed.files.map((f) => f.file_size).sort((a, b) => a - b), [0, 1, CHUNK - 1, CHUNK, 2 * CHUNK + 7]);
        assertSizesConsistent();
        assert.equal(pendingBlobs(), '0');
    });

    test('a commit that meets a new directory, or a run deleted mid-upload, is refused and leaves nothing', async () => {
        const run = await newRun(c);
        const body = crypto.randomBytes(2 * CHUNK + 99);
        const chunksStored = (n) => () => waitUntil(() => Number(sql(`SELECT count(*) FROM artifact_chunks c JOIN artifact_blobs b
                                                                      ON b.id = c.blob_id WHERE b.sha256 IS NULL`)) >= n, 20000, `${n} chunks stored`);
        // "d" passes the check at the start; "d/x" is committed before "d" ends
        const conflict = await rawTwoParts(`/api/2.0/mlflow-artifacts/artifacts/${run.rel}/mid/d`, body, CHUNK + 10, async () => {
            await chunksStored(1)();
            const x = await put(artUrl(PREFIXES[0], `${run.rel}/mid/d/x`), 'x');
            assert.equal(x.status, 200, x.text);
        });
        assertRawError(conflict, 400, 'INVALID_PARAMETER_VALUE', 'file over a new directory');
        assert.match(conflict.json.message, /a file and a directory cannot share a path/);
        await waitUntil(() => pendingBlobs() === '0', 10000, 'pending blob dropped');
        assert.equal((await get(artUrl(PREFIXES[0], `${run.rel}/mid/d/x`))).body.toString(), 'x');
        // the run is deleted while its upload is in flight
        const gone = await rawTwoParts(`/api/2.0/mlflow-artifacts/artifacts/${run.rel}/mid/late.bin`, body, CHUNK + 10, async () => {
            await chunksStored(1)();
            await c.ok('POST', '/runs/delete', { run_id: run.id });
        });
        assertRawError(gone, 400, 'INVALID_PARAMETER_VALUE', 'upload into a run deleted mid-way');
        assert.match(gone.json.message, /active/);
        await waitUntil(() => pendingBlobs() === '0', 10000, 'pending blob dropped');
        assert.equal(sql(`SELECT count(*) FROM artifact_files f JOIN runs r ON r.id = f.run_id
                          WHERE r.run_uuid = '${run.id}' AND f.path = 'mid/late.bin'`), '0');
        assertSizesConsistent();
    });

    test('an upload whose pending blob was collected while it stalled gets 409 and leaves nothing', async () => {
        const run = await newRun(c);
        const body = crypto.randomBytes(3 * CHUNK);
        const r = await rawTwoParts(`/api/2.0/mlflow-artifacts/artifacts/${run.rel}/stalled.bin`, body, CHUNK + 10, async () => {
            await waitUntil(() => pendingBlobs() === '1', 20000, 'pending blob created');
            // what exptrackd gc does to a pending blob without a heartbeat
            sql(`DELETE FROM artifact_blobs WHERE sha256 IS NULL`);
        });
        assertRawError(r, 409, 'RESOURCE_CONFLICT', 'stalled upload');
        assert.match(r.json.message, /send it again/);
        assert.equal(pendingBlobs(), '0');
        assert.equal(sql(`SELECT count(*) FROM artifact_chunks c WHERE NOT EXISTS (SELECT 1 FROM artifact_blobs b WHERE b.id = c.blob_id)`), '0');
        assert.equal((await fetch(artUrl(PREFIXES[0], `${run.rel}/stalled.bin`))).status, 404);
        // and the same path uploads fine afterwards
        const again = await put(artUrl(PREFIXES[0], `${run.rel}/stalled.bin`), body);
        assert.equal(again.status, 200, again.text);
        assert.ok((await get(artUrl(PREFIXES[0], `${run.rel}/stalled.bin`))).body.equals(body));
    });

    test('multipart endpoints answer 501 so the client falls back to PUT', async () => {
        const run = await newRun(c);
        for (const prefix of PREFIXES) {
            for (const op of ['create', 'complete', 'abort']) {
                const r = await fetch(`${stack.base}${prefix.replace('/mlflow', '')}/mlflow-artifacts/mpu/${op}/${run.rel}/m.bin`, {
                    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path: 'm.bin', num_parts: 3 }),
                });
                assert.equal(r.status, 501);
                const j = await r.json();
                assert.equal(j.error_code, 'NOT_IMPLEMENTED');
                assert.ok(j.message.startsWith('Multipart upload is not supported for the current artifact repository'));
            }
        }
    });

    test('UI upload-artifact and /get-artifact', async () => {
        const run = await newRun(c);
        const q = `run_uuid=${run.id}&path=${encodeURIComponent('ui/note.txt')}`;
        const up = await fetch(`${stack.base}/ajax-api/2.0/mlflow/upload-artifact?${q}`, { method: 'POST', body: 'from the UI' });
        assert.equal(up.status, 200);
        const empty = await fetch(`${stack.base}/ajax-api/2.0/mlflow/upload-artifact?${q}`, { method: 'POST', body: '' });
        assert.equal(empty.status, 400);
        const big = await fetch(`${stack.base}/ajax-api/2.0/mlflow/upload-artifact?${q}`, { method: 'POST', body: Buffer.alloc(10 * CHUNK + 1) });
        assert.equal(big.status, 400);
        const g = await get(`${stack.base}/get-artifact?run_id=${run.id}&path=ui/note.txt`);
        assert.equal(g.status, 200);
        assert.equal(g.body.toString(), 'from the UI');
        assert.match(g.headers.get('content-disposition'), /^attachment; filename="note.txt"/);
        const g2 = await fetch(`${stack.base}/get-artifact?run_uuid=${run.id}&path=..%2Fx`);
        assert.equal(g2.status, 400);
    });

    test('exptrackd gc removes unreferenced blobs and abandoned uploads only', async () => {
        const run = await newRun(c);
        const v1 = crypto.randomBytes(CHUNK + 10);
        const v2 = crypto.randomBytes(100);
        const keep = crypto.randomBytes(50);
        const url = artUrl(PREFIXES[0], `${run.rel}/gc/m.bin`);
        await put(url, v1);
        await put(url, v2); // v1 is now referenced by nothing
        await put(artUrl(PREFIXES[0], `${run.rel}/gc/keep.bin`), keep);
        await put(artUrl(PREFIXES[0], `${run.rel}/gc/gone.bin`), crypto.randomBytes(10));
        await fetch(artUrl(PREFIXES[0], `${run.rel}/gc/gone.bin`), { method: 'DELETE' });
        // an upload that died long ago, and one beating right now
        sql(`INSERT INTO artifact_blobs (chunk_size, heartbeat) VALUES (${CHUNK}, now() - interval '2 hours')`);
        sql(`INSERT INTO artifact_chunks (blob_id, seq, data) SELECT max(id), 0, '\\x00' FROM artifact_blobs`);
        sql(`INSERT INTO artifact_blobs (chunk_size) VALUES (${CHUNK})`);
        const live = sql(`SELECT max(id) FROM artifact_blobs`);
        const unreferenced = Number(sql(`SELECT count(*) FROM artifact_blobs b WHERE sha256 IS NOT NULL
                                          AND NOT EXISTS (SELECT 1 FROM artifact_files f WHERE f.blob_id = b.id)`));
        assert.ok(unreferenced >= 2);
        const gc = spawnSync(exptrackdPath(), ['gc', '--database-url', stack.pg.url], { encoding: 'utf8', timeout: 60000 });
        assert.equal(gc.status, 0, gc.stderr);
        assert.equal(sanitizerReport(gc.stderr), '', 'exptrackd gc: no sanitizer findings');
        assert.match(gc.stdout, new RegExp(`removed ${unreferenced} unreferenced blobs .* and 1 abandoned uploads`));
        assert.equal(sql(`SELECT count(*) FROM artifact_blobs b WHERE sha256 IS NOT NULL
                          AND NOT EXISTS (SELECT 1 FROM artifact_files f WHERE f.blob_id = b.id)`), '0');
        assert.equal(sql(`SELECT count(*) FROM artifact_blobs WHERE sha256 = decode('${sha256(v1)}', 'hex')`), '0');
        assert.equal(sql(`SELECT count(*) FROM artifact_blobs WHERE id = ${live}`), '1', 'a live upload is left alone');
        assert.equal(sql(`SELECT count(*) FROM artifact_chunks c WHERE NOT EXISTS (SELECT 1 FROM artifact_blobs b WHERE b.id = c.blob_id)`), '0');
        assert.ok((await get(url)).body.equals(v2));
        assert.ok((await get(artUrl(PREFIXES[0], `${run.rel}/gc/keep.bin`))).body.equals(keep));
        sql(`DELETE FROM artifact_blobs WHERE id = ${live}`);
        // permanent deletion of a run drops its files; gc then takes the blobs
        const doomed = await newRun(c);
        const only = crypto.randomBytes(3000);
        await put(artUrl(PREFIXES[0], `${doomed.rel}/only.bin`), only);
        sql(`DELETE FROM runs WHERE run_uuid = '${doomed.id}'`);
        const gc2 = spawnSync(exptrackdPath(), ['gc', '--database-url', stack.pg.url], { encoding: 'utf8', timeout: 60000 });
        assert.equal(gc2.status, 0, gc2.stderr);
        assert.equal(sanitizerReport(gc2.stderr), '', 'exptrackd gc: no sanitizer findings');
        assert.equal(sql(`SELECT count(*) FROM artifact_blobs WHERE sha256 = decode('${sha256(only)}', 'hex')`), '0');
    });
});
