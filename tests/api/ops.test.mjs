// Group commit and the operator's view: concurrent small writes share
// commits yet each fails alone with its own error; /metrics in Prometheus
// text format; /ready; X-Request-Id; JSON access lines.
import http from 'node:http';
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
    useStack, client, api, assertOk, assertError, uniqueName, startServer, startPostgres, waitUntil,
} from './harness.mjs';

const stack = useStack({ before, after });

describe('group commit', () => {
    let c;
    let exp;
    before(async () => {
        c = client(stack.base);
        exp = await c.createExperiment(uniqueName('gc'));
    });

    test('64 concurrent log-metric calls over 8 runs: all stored, latest is the best point', async () => {
        const runs = [];
        for (let i = 0; i < 8; i++) runs.push((await c.createRun(exp)).info.run_id);
        const calls = [];
        for (let i = 0; i < 64; i++) {
            calls.push(c.post('/runs/log-metric', { run_id: runs[i % 8], key: 'loss', value: i, timestamp: 1000 + i, step: Math.floor(i / 8) }));
        }
        for (const r of await Promise.all(calls)) assertOk(r);
        for (let k = 0; k < 8; k++) {
            const h = assertOk(await c.get('/metrics/get-history', { run_id: runs[k], metric_key: 'loss' })).metrics;
            assert.equal(h.length, 8);
            const run = await c.getRun(runs[k]);
            const latest = run.data.metrics.find((m) => m.key === 'loss');
            assert.equal(latest.step, 7);
            assert.equal(latest.value, 56 + k);
        }
    });

    test('a bad request in a crowd fails alone with its own error', async () => {
        const run = (await c.createRun(exp)).info.run_id;
        const deleted = (await c.createRun(exp)).info.run_id;
        assertOk(await c.post('/runs/delete', { run_id: deleted }));
        const calls = [];
        for (let i = 0; i < 30; i++) calls.push(c.post('/runs/log-metric', { run_id: run, key: 'm', value: i, timestamp: i, step: i }));
        calls.push(c.post('/runs/log-metric', { run_id: 'f'.repeat(32), key: 'm', value: 1, timestamp: 1 }));
        calls.push(c.post('/runs/log-metric', { run_id: deleted, key: 'm', value: 1, timestamp: 1 }));
        calls.push(c.post('/runs/log-batch', { run_id: 'a'.repeat(32), metrics: [{ key: 'm', value: 1, timestamp: 1 }] }));
        const res = await Promise.all(calls);
        for (let i = 0; i < 30; i++) assertOk(res[i]);
        assertError(res[30], 404, 'RESOURCE_DOES_NOT_EXIST');
        assert.equal(res[31].status, 400, res[31].text);
        assertError(res[32], 404, 'RESOURCE_DOES_NOT_EXIST');
        const h = assertOk(await c.get('/metrics/get-history', { run_id: run, metric_key: 'm' })).metrics;
        assert.equal(h.length, 30);
    });

    test('a repeated identical point is a no-op; a batch repeating stored points stores the rest', async () => {
        const run = (await c.createRun(exp)).info.run_id;
        const p = { key: 'dup', value: 1.5, timestamp: 10, step: 1 };
        assertOk(await c.post('/runs/log-metric', { run_id: run, ...p }));
        assertOk(await c.post('/runs/log-metric', { run_id: run, ...p }));
        const big = [];
        for (let i = 0; i < 300; i++) big.push({ key: 'dup', value: 1.5, timestamp: 10 + i, step: 1 + i });
        big.push({ key: 'dup', value: 1.5, timestamp: 10, step: 1 }); // repeats inside the batch too
        assertOk(await c.post('/runs/log-batch', { run_id: run, metrics: big }));
        const h = assertOk(await c.get('/metrics/get-history', { run_id: run, metric_key: 'dup' })).metrics;
        assert.equal(h.length, 300);
        // twins sent at once (one group, most likely) and again: each stored once,
        // and the downsampling blocks count only what was stored
        const twin = { key: 'twin', value: 2, timestamp: 5, step: 7 };
        const calls = [];
        for (let i = 0; i < 8; i++) calls.push(c.post('/runs/log-metric', { run_id: run, ...twin }));
        for (const r of await Promise.all(calls)) assertOk(r);
        assertOk(await c.post('/runs/log-metric', { run_id: run, ...twin }));
        const internal = stack.pg.psql(`SELECT id FROM runs WHERE run_uuid = '${run}'`).trim();
        const counts = stack.pg.psql(`SELECT (SELECT count(*) FROM metrics WHERE run_id = ${internal}),
            (SELECT sum(n) FROM metric_blocks WHERE run_id = ${internal})`).trim();
        assert.equal(counts, '301|301');
    });

    test('a group stuck behind a row lock does not hold back other small writes', async () => {
        const held = (await c.createRun(exp)).info.run_id;
        const free = (await c.createRun(exp)).info.run_id;
        assertOk(await c.post('/runs/log-metric', { run_id: held, key: 'held', value: 1, timestamp: 1, step: 0 }));
        // another session holds held's latest-metrics row for 4 s
        const lock = psqlAsync(stack.pg, `BEGIN; SELECT 1 FROM latest_metrics l JOIN runs r ON r.id = l.run_id
            JOIN metric_keys k ON k.id = l.key_id WHERE r.run_uuid = '${held}'::uuid AND k.name = 'held' FOR UPDATE;
            SELECT pg_sleep(4); COMMIT;`);
        await waitUntil(() => stack.pg.psql("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'").trim() === '1',
            5000, 'the row locked', 50);
        let heldDone = false;
        const blocked = c.post('/runs/log-metric', { run_id: held, key: 'held', value: 2, timestamp: 2, step: 1 })
            .then((r) => { heldDone = true; return r; });
        // the first writer now waits on the lock; a write for another run goes on
        await waitUntil(() => stack.pg.psql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'").trim() === '1',
            3000, 'the group waiting on the lock', 20);
        const t0 = Date.now();
        assertOk(await c.post('/runs/log-metric', { run_id: free, key: 'free', value: 3, timestamp: 3, step: 0 }));
        const took = Date.now() - t0;
        assert.ok(took < 2000, `the other write took ${took} ms`);
        assert.equal(heldDone, false, 'the held write waited for the lock');
        assertOk(await blocked);
        assert.equal((await lock).code, 0);
        assert.equal((await c.getRun(held)).data.metrics.find((m) => m.key === 'held').step, 1);
    });

    test('NaN counts as 0 and the first of equal points wins in latest metrics', async () => {
        const run = (await c.createRun(exp)).info.run_id;
        assertOk(await c.post('/runs/log-batch', {
            run_id: run, metrics: [
                { key: 'n', value: -1, timestamp: 5, step: 2 },
                { key: 'n', value: 'NaN', timestamp: 5, step: 2 },
                { key: 'n', value: -3, timestamp: 5, step: 2 },
            ],
        }));
        const latest = (await c.getRun(run)).data.metrics.find((m) => m.key === 'n');
        assert.equal(latest.value, 'NaN');
    });
});

describe('operator endpoints', () => {
    test('/metrics is Prometheus text with the request histogram, points and group commit', async () => {
        const c = client(stack.base);
        const exp = await c.createExperiment(uniqueName('m'));
        const run = (await c.createRun(exp)).info.run_id;
        assertOk(await c.post('/runs/log-metric', { run_id: run, key: 'x', value: 1, timestamp: 1 }));
        const r = await api(stack.base, 'GET', '/metrics');
        assert.equal(r.status, 200);
        assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
        assert.match(r.text, /# TYPE http_server_request_duration_seconds histogram/);
        assert.match(r.text, /http_server_request_duration_seconds_bucket\{method="POST",route="\/api\/2\.0\/mlflow\/runs\/log-metric",status="200",le="\+Inf"\} [1-9]/);
        assert.match(r.text, /http_server_requests_total\{method="POST",route="\/api\/2\.0\/mlflow\/runs\/create",status="200"\} 1/);
        assert.match(r.text, /exptrack_metric_points_ingested_total [1-9]/);
        assert.match(r.text, /exptrack_group_commit_batch_size_count [1-9]/);
        assert.match(r.text, /exptrack_build_info\{version="[^"]+"\} 1/);
        assert.match(r.text, /^exptrack_db_errors_total\{status="unavailable"\} \d+$/m);
        assert.match(r.text, /^exptrack_db_connections_open [1-9]\d*$/m);
        for (const line of r.text.split('\n')) {
            if (line === '' || line.startsWith('#')) continue;
            assert.match(line, /^[a-z_]+(\{[^}]*\})? [0-9.e+-]+$/, line);
        }
    });

    test('/ready answers 200 while the database answers', async () => {
        const r = await api(stack.base, 'GET', '/ready');
        assert.equal(r.status, 200);
        assert.equal(r.text, 'ready\n');
    });

    test('X-Request-Id: made per request, a sane incoming one is kept, an insane one replaced', async () => {
        const a = await api(stack.base, 'GET', '/health');
        const b = await api(stack.base, 'GET', '/health');
        assert.match(a.headers.get('x-request-id'), /^[0-9a-f]{16}$/);
        assert.notEqual(a.headers.get('x-request-id'), b.headers.get('x-request-id'));
        const kept = await api(stack.base, 'GET', '/health', undefined, { headers: { 'x-request-id': 'abc-123.X:y_z' } });
        assert.equal(kept.headers.get('x-request-id'), 'abc-123.X:y_z');
        const replaced = await api(stack.base, 'GET', '/health', undefined, { headers: { 'x-request-id': 'bad id"<>' } });
        assert.match(replaced.headers.get('x-request-id'), /^[0-9a-f]{16}$/);
        const err = await api(stack.base, 'GET', '/api/2.0/mlflow/nope');
        assert.equal(err.status, 404);
        assert.match(err.headers.get('x-request-id'), /^[0-9a-f]{16}$/);
    });

    test('--event-loop picks how request threads wait (epoll by default)', async () => {
        for (const [args, want] of [[[], 'epoll'], [['--event-loop', 'poll'], 'poll'], [['--event-loop', 'epoll'], 'epoll']]) {
            const srv = await startServer({ databaseUrl: stack.pg.url, args });
            try {
                assert.equal((await api(srv.url, 'GET', '/health')).status, 200);
                assert.match(srv.log(), new RegExp(`request threads waiting with ${want}\n`), srv.log());
            } finally {
                await srv.stop();
            }
        }
    });

    test('--log-format json writes one JSON access line per request with its id', async () => {
        const srv = await startServer({ databaseUrl: stack.pg.url, args: ['--log-format', 'json', '--group-commit', 'off'] });
        try {
            const r = await api(srv.url, 'GET', '/health', undefined, { headers: { 'x-request-id': 'trace-42' } });
            assert.equal(r.status, 200);
            let line;
            for (let i = 0; i < 50 && !line; i++) {
                line = srv.log().split('\n').find((l) => l.includes('"request_id":"trace-42"'));
                if (!line) await new Promise((res) => setTimeout(res, 100));
            }
            assert.ok(line, srv.log());
            const j = JSON.parse(line);
            assert.equal(j.msg, 'access');
            assert.equal(j.method, 'GET');
            assert.equal(j.path, '/health');
            assert.equal(j.status, 200);
            assert.equal(typeof j.ms, 'number');
            // group commit off: writes still work, one transaction each
            const c = client(srv.url);
            const exp = await c.createExperiment(uniqueName('off'));
            const run = (await c.createRun(exp)).info.run_id;
            assertOk(await c.post('/runs/log-metric', { run_id: run, key: 'x', value: 1, timestamp: 1 }));
            assertError(await c.post('/runs/log-metric', { run_id: 'f'.repeat(32), key: 'x', value: 1, timestamp: 1 }), 404, 'RESOURCE_DOES_NOT_EXIST');
        } finally {
            await srv.stop();
        }
    });

    test('--log-format json: every stderr line is JSON, the listening line and a generated admin password too', async (t) => {
        const pg = await startPostgres(); // a database with no admin yet
        t.after(() => pg.destroy());
        const srv = await startServer({ databaseUrl: pg.url, args: ['--log-format', 'json', '--auth'] });
        let lines;
        try {
            lines = srv.log().split('\n').filter((l) => l !== '').map((l) => {
                try { return JSON.parse(l); } catch { assert.fail(`not a JSON line: ${l}`); }
            });
            assert.ok(lines.some((j) => j.level === 'info' && j.msg === `listening on ${srv.url}`), srv.log());
            const created = lines.find((j) => j.level === 'warn' && /created the user 'admin'/.test(j.msg));
            assert.ok(created, srv.log());
            // the password the line gives is the admin's
            const pw = created.msg.match(/with the password (\S+)/)[1];
            const basic = (p) => ({ authorization: `Basic ${Buffer.from(`admin:${p}`).toString('base64')}` });
            const get = (h) => api(srv.url, 'GET', '/api/2.0/mlflow/experiments/get', { experiment_id: '0' }, { headers: h });
            assert.equal((await get(basic(pw))).status, 200);
            assert.equal((await get(basic(`${pw}x`))).status, 401);
        } finally {
            await srv.stop();
        }
        for (const l of srv.log().split('\n').filter((x) => x !== '')) {
            assert.doesNotThrow(() => JSON.parse(l), `not a JSON line: ${l}`);
        }
    });

    test('a streamed (chunked) reply\'s access line counts the bytes sent', async () => {
        const srv = await startServer({ databaseUrl: stack.pg.url, args: ['--log-format', 'json'] });
        try {
            const c = client(srv.url);
            const exp = await c.createExperiment(uniqueName('acc'));
            const run = (await c.createRun(exp)).info.run_id;
            const metrics = Array.from({ length: 1000 }, (_, i) => ({ key: 'loss', value: i / 7, timestamp: 1000 + i, step: i }));
            assertOk(await c.post('/runs/log-batch', { run_id: run, metrics }));
            const r = await api(srv.url, 'GET', '/api/2.0/mlflow/metrics/get-history', { run_id: run, metric_key: 'loss' },
                { headers: { 'x-request-id': 'stream-7' } });
            assert.equal(r.status, 200);
            assert.equal(r.headers.get('content-length'), null, 'the reply is chunked');
            assert.equal(r.json.metrics.length, 1000);
            let line;
            await waitUntil(() => (line = srv.log().split('\n').find((l) => l.includes('"request_id":"stream-7"'))), 10000, 'the access line');
            const j = JSON.parse(line);
            assert.equal(j.status, 200);
            assert.equal(j.path, '/api/2.0/mlflow/metrics/get-history');
            assert.equal(j.bytes, Buffer.byteLength(r.text), 'the body\'s bytes, not 0');
        } finally {
            await srv.stop();
        }
    });
});

describe('streamed get-history', () => {
    test('a series longer than one page streams whole, equal to the paged read', async () => {
        const c = client(stack.base);
        const exp = await c.createExperiment(uniqueName('hist'));
        const run = (await c.createRun(exp)).info.run_id;
        const special = ['NaN', 'Infinity', '-Infinity', 0.1, -0, 1e300, 5e-324, 3];
        const total = 20000;
        for (let b = 0; b < total / 1000; b++) {
            const metrics = [];
            for (let i = b * 1000; i < (b + 1) * 1000; i++) {
                // several points per step, some on equal timestamps: (step, timestamp, value) order
                metrics.push({ key: 'k q/ü:1', value: i % 97 === 0 ? special[(i / 97) % special.length] : i / 7, timestamp: 1000 + (i % 3), step: Math.floor(i / 4) });
            }
            assertOk(await c.post('/runs/log-batch', { run_id: run, metrics }));
        }
        const streamed = await api(stack.base, 'GET', '/api/2.0/mlflow/metrics/get-history', { run_id: run, metric_key: 'k q/ü:1' }, { timeoutMs: 60000 });
        assert.equal(streamed.status, 200);
        assert.equal(streamed.headers.get('content-type'), 'application/json');
        const s = streamed.json.metrics;
        assert.equal(s.length, total);
        const paged = assertOk(await c.get('/metrics/get-history', { run_id: run, metric_key: 'k q/ü:1', max_results: 25000 })).metrics;
        assert.deepEqual(s, paged);
        assert.equal(s[0].key, 'k q/ü:1');
        for (let i = 1; i < s.length; i++) {
            assert.ok(s[i - 1].step < s[i].step || (s[i - 1].step === s[i].step && s[i - 1].timestamp <= s[i].timestamp), `order at ${i}`);
        }
        assert.ok(s.some((m) => m.value === 'NaN') && s.some((m) => m.value === '-Infinity') && s.some((m) => m.value === 5e-324));
    });

    test('an unknown key or run answers {}', async () => {
        const c = client(stack.base);
        const exp = await c.createExperiment(uniqueName('hist0'));
        const run = (await c.createRun(exp)).info.run_id;
        assert.deepEqual(assertOk(await c.get('/metrics/get-history', { run_id: run, metric_key: 'none' })), {});
        assert.deepEqual(assertOk(await c.get('/metrics/get-history', { run_id: 'f'.repeat(32), metric_key: 'none' })), {});
    });
});

// ---------------------------------------------------------------------------
// database pool state in /metrics

// GET over a new TCP connection: libmicrohttpd gives it to a worker thread
// that is free, while a kept-alive connection stays with its thread, which
// may be the one blocked in a statement.
function getFresh(url) {
    return new Promise((resolve, reject) => {
        const req = http.get(url, { agent: false }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d) => { text += d; });
            res.on('end', () => resolve({ status: res.statusCode, text }));
        });
        req.on('error', reject);
        req.setTimeout(5000, () => req.destroy(new Error('GET /metrics timed out')));
    });
}

async function scrape(base, { fresh = false } = {}) {
    const r = fresh ? await getFresh(`${base}/metrics`) : await api(base, 'GET', '/metrics');
    assert.equal(r.status, 200);
    const values = new Map();
    for (const line of r.text.split('\n')) {
        const m = line.match(/^([a-z_]+(?:\{[^}]*\})?) ([0-9.e+-]+)$/);
        if (m) values.set(m[1], Number(m[2]));
    }
    const get = (series) => {
        assert.ok(values.has(series), `${series} missing from /metrics:\n${r.text}`);
        return values.get(series);
    };
    return {
        open: get('exptrack_db_connections_open'),
        inUse: get('exptrack_db_connections_in_use'),
        backoff: get('exptrack_db_connections_backoff'),
        connectFailures: get('exptrack_db_connect_failures_total'),
        errors: (status) => get(`exptrack_db_errors_total{status="${status}"}`),
    };
}

function psqlBin() {
    const base = '/usr/lib/postgresql';
    try {
        const v = fs.readdirSync(base).filter((d) => fs.existsSync(path.join(base, d, 'bin', 'psql')))
            .sort((a, b) => Number(b) - Number(a));
        if (v.length) return path.join(base, v[0], 'bin', 'psql');
    } catch { /* PATH */ }
    return 'psql';
}

// Runs sql in a psql session in the background; resolves with its exit code.
function psqlAsync(pg, sql) {
    const p = spawn(psqlBin(), ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-h', pg.socketDir, '-p', String(pg.port),
        '-U', 'postgres', '-d', 'exptrack', '-c', sql], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    return new Promise((resolve) => p.on('exit', (code) => resolve({ code, err })));
}

describe('database pool in /metrics', () => {
    test('gauges: connections open after requests, in use while a statement waits, none in use after', async () => {
        const c = client(stack.base);
        const exp = await c.createExperiment(uniqueName('pool'));
        await Promise.all(Array.from({ length: 8 }, () => c.getExperiment(exp)));
        const idle = await scrape(stack.base);
        assert.ok(idle.open >= 1, `connections open: ${idle.open}`);
        assert.ok(idle.inUse >= 0 && idle.inUse <= idle.open, `in use ${idle.inUse} of ${idle.open}`);
        assert.equal(idle.backoff, 0);
        assert.equal(idle.connectFailures, 0);
        for (const st of ['unavailable', 'timeout', 'disk_full', 'exists', 'invalid', 'retry', 'error']) {
            assert.ok(idle.errors(st) >= 0, st);
        }

        // a session holds experiments locked: a request's statement waits on it
        const lock = psqlAsync(stack.pg, 'BEGIN; LOCK TABLE experiments IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(12); COMMIT;');
        await waitUntil(() => stack.pg.psql("SELECT count(*) FROM pg_locks WHERE relation = 'experiments'::regclass"
            + " AND mode = 'AccessExclusiveLock' AND granted").trim() === '1', 5000, 'the lock taken', 50);
        const blocked = c.getExperiment(exp);
        const during = await waitUntil(async () => {
            const s = await scrape(stack.base, { fresh: true });
            return s.inUse >= 1 ? s : null;
        }, 10000, 'a connection counted in use while its statement waits', 100);
        assert.ok(during.open >= during.inUse);
        assert.equal((await blocked).experiment_id, exp);
        assert.equal((await lock).code, 0);
        await waitUntil(async () => (await scrape(stack.base)).inUse === 0, 5000, 'no connection in use once requests are done');
    });

    test('counters: connection failures and unavailable errors grow while PostgreSQL is down; open again after', { timeout: 120000 }, async () => {
        const pg = await startPostgres();
        const srv = await startServer({ databaseUrl: pg.url, args: ['--threads', '4'] });
        try {
            const c = client(srv.url);
            const exp = await c.createExperiment(uniqueName('pooldown'));
            const up = await scrape(srv.url);
            assert.ok(up.open >= 1);

            await pg.stop();
            for (let i = 0; i < 12; i++) {
                assert.equal((await c.get('/experiments/get', { experiment_id: exp })).status, 503);
            }
            const down = await scrape(srv.url);
            assert.ok(down.errors('unavailable') > up.errors('unavailable'),
                `unavailable errors ${up.errors('unavailable')} -> ${down.errors('unavailable')}`);
            assert.ok(down.connectFailures > up.connectFailures,
                `connect failures ${up.connectFailures} -> ${down.connectFailures}`);
            assert.ok(down.backoff >= 1, `threads in backoff: ${down.backoff}`);

            await pg.start();
            await waitUntil(async () => (await c.get('/experiments/get', { experiment_id: exp })).status === 200, 30000, 'service back');
            const back = await scrape(srv.url);
            assert.ok(back.open >= 1, `connections open after recovery: ${back.open}`);
        } finally {
            await srv.stop();
            await pg.destroy();
        }
    });
});
