// Connections under load (issue 20 point 2): many concurrent keep-alive
// connections from one host are each answered, 200 or, past a configured
// limit, 503 with Retry-After and the contract's JSON error; none is closed
// without an answer, and the refusals are counted in /metrics.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import net from 'node:net';

import { api, exptrackdPath, openStream, startPostgres, startServer, waitUntil } from './harness.mjs';

// One HTTP/1.1 exchange on an open socket: resolves {status, headers, body}
// once a whole response (Content-Length framed) arrived, or {closed: true}
// when the socket ended or failed before that.
function exchange(sock, path, timeoutMs = 60000) {
    return new Promise((resolve) => {
        let buf = Buffer.alloc(0);
        const done = (v) => {
            clearTimeout(timer);
            sock.off('data', onData);
            sock.off('close', onClose);
            sock.off('error', onClose);
            resolve(v);
        };
        const onData = (chunk) => {
            buf = Buffer.concat([buf, chunk]);
            const end = buf.indexOf('\r\n\r\n');
            if (end < 0) return;
            const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
            const status = Number(lines[0].split(' ')[1]);
            const headers = {};
            for (const l of lines.slice(1)) {
                const i = l.indexOf(':');
                headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
            }
            const len = Number(headers['content-length'] ?? -1);
            if (len < 0 || buf.length < end + 4 + len) return;
            done({ status, headers, body: buf.subarray(end + 4, end + 4 + len).toString('utf8') });
        };
        const t0 = Date.now();
        const onClose = () => done({ closed: true, afterMs: Date.now() - t0, got: buf.length });
        const timer = setTimeout(() => done({ closed: true, timeout: true, got: buf.length }), timeoutMs);
        sock.on('data', onData);
        sock.once('close', onClose);
        sock.once('error', onClose);
        sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`);
    });
}

function connect(url) {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
        const s = net.connect({ host: u.hostname, port: Number(u.port) });
        s.once('connect', () => resolve(s));
        s.once('error', reject);
    });
}

// Opens n connections at once and sends one request on each.
async function burst(url, n, path = '/health') {
    const socks = await Promise.all(Array.from({ length: n }, () => connect(url)));
    const answers = await Promise.all(socks.map((s) => exchange(s, path)));
    return { socks, answers };
}

// What a failed burst saw, for the assertion message: how many waited out
// the timeout, how many the server closed and when, how many bytes came.
function describeClosed(closed) {
    const timeouts = closed.filter((a) => a.timeout).length;
    const early = closed.filter((a) => !a.timeout).map((a) => a.afterMs).sort((x, y) => x - y);
    const partial = closed.filter((a) => a.got > 0).length;
    return `${timeouts} timed out, ${early.length} closed by the server (after ${early[0]}..${early[early.length - 1]} ms), ${partial} with part of an answer`;
}

function metric(text, name) {
    const m = text.match(new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm'));
    return m ? Number(m[1]) : undefined;
}

async function metrics(base) {
    return (await api(base, 'GET', '/metrics')).text;
}

function assertRefusal(a, flag) {
    assert.equal(a.status, 503, JSON.stringify(a));
    assert.equal(a.headers['retry-after'], '1');
    assert.match(a.headers['content-type'], /^application\/json/);
    assert.equal(a.headers.connection, 'close');
    const body = JSON.parse(a.body);
    assert.equal(body.error_code, 'TEMPORARILY_UNAVAILABLE');
    assert.ok(body.message.includes(flag), body.message);
}

describe('connection limits', () => {
    let pg;
    before(async () => { pg = await startPostgres(); }, { timeout: 120000 });
    after(async () => { if (pg) await pg.destroy(); }, { timeout: 60000 });

    test('1,000 concurrent keep-alive connections past a per-IP limit: each answered', { timeout: 180000 }, async () => {
        const srv = await startServer({ databaseUrl: pg.url, args: ['--max-connections-per-ip', '300'] });
        try {
            const before0 = metric(await metrics(srv.url), 'exptrack_http_connections_refused_total{limit="per_ip"}');
            assert.equal(before0, 0);
            const { socks, answers } = await burst(srv.url, 1000);
            const closed = answers.filter((a) => a.closed);
            assert.equal(closed.length, 0, `connections closed without an answer: ${describeClosed(closed)}`);
            const ok = answers.filter((a) => a.status === 200);
            const refused = answers.filter((a) => a.status === 503);
            assert.equal(ok.length + refused.length, 1000);
            assert.ok(ok.length > 0 && ok.length <= 300, `${ok.length} answered 200 with a limit of 300`);
            assert.ok(refused.length >= 700, `${refused.length} refused`);
            for (const a of refused) assertRefusal(a, '--max-connections-per-ip');
            // the admitted connections stay usable: a second request on each
            const kept = socks.filter((_, i) => answers[i].status === 200);
            const again = await Promise.all(kept.map((s) => exchange(s, '/health')));
            assert.deepEqual(again.map((a) => a.status), kept.map(() => 200));
            for (const s of socks) s.destroy();
            // closed connections leave the count (a scrape made while they
            // close may itself be refused: waitUntil asks again)
            await waitUntil(async () => metric(await metrics(srv.url), 'exptrack_http_connections_open') <= 2, 10000, 'connections released');
            // every refusal counted (and any scrape refused on the way)
            const counted = metric(await metrics(srv.url), 'exptrack_http_connections_refused_total{limit="per_ip"}');
            assert.ok(counted >= refused.length && counted < refused.length + 100, `${counted} counted, ${refused.length} seen`);
            assert.equal(metric(await metrics(srv.url), 'exptrack_http_connections_refused_total{limit="total"}'), 0);
            // a fresh burst is admitted again
            const second = await burst(srv.url, 100);
            assert.deepEqual(second.answers.map((a) => a.status), second.answers.map(() => 200));
            for (const s of second.socks) s.destroy();
        } finally {
            await srv.stop();
        }
    });

    test('the total limit refuses the same way, counted apart', { timeout: 120000 }, async () => {
        const srv = await startServer({ databaseUrl: pg.url, args: ['--max-connections', '20'] });
        try {
            const { socks, answers } = await burst(srv.url, 60);
            const closed = answers.filter((a) => a.closed);
            assert.equal(closed.length, 0, `connections closed without an answer: ${describeClosed(closed)}`);
            const refused = answers.filter((a) => a.status === 503);
            assert.ok(refused.length >= 40, `${refused.length} refused`);
            for (const a of refused) assertRefusal(a, '--max-connections');
            for (const s of socks) s.destroy();
            await waitUntil(async () => metric(await metrics(srv.url), 'exptrack_http_connections_open') <= 2, 10000, 'released');
            const text = await metrics(srv.url);
            const counted = metric(text, 'exptrack_http_connections_refused_total{limit="total"}');
            assert.ok(counted >= refused.length && counted < refused.length + 100, `${counted} counted, ${refused.length} seen`);
            assert.equal(metric(text, 'exptrack_http_connections_refused_total{limit="per_ip"}'), 0);
        } finally {
            await srv.stop();
        }
    });

    test('the defaults let 1,000 keep-alive connections and 100 live streams from one host in', { timeout: 180000 }, async () => {
        const srv = await startServer({ databaseUrl: pg.url, args: ['--threads', '4'] });
        try {
            const exp = (await api(srv.url, 'POST', '/api/2.0/mlflow/experiments/create', { name: `conn-${Date.now()}` })).json.experiment_id;
            const streams = await Promise.all(Array.from({ length: 100 }, () => openStream(srv.url, { experiment_id: exp })));
            assert.deepEqual(streams.map((s) => s.status), streams.map(() => 200));
            // with 100 streams open on 4 threads, 1,000 keep-alive requests are
            // all served: the streams pin no thread
            const { socks, answers } = await burst(srv.url, 1000);
            assert.deepEqual(answers.filter((a) => a.status !== 200), []);
            // idle keep-alive connections pin no thread either: a search still answers at once
            const t0 = Date.now();
            const r = await api(srv.url, 'POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [exp] });
            assert.equal(r.status, 200);
            assert.ok(Date.now() - t0 < 5000, `search took ${Date.now() - t0} ms`);
            const text = await metrics(srv.url);
            assert.ok(metric(text, 'exptrack_http_connections_open') >= 1100, text.match(/exptrack_http_connections_open \d+/)?.[0]);
            assert.equal(metric(text, 'exptrack_live_streams'), 100);
            for (const s of socks) s.destroy();
            for (const s of streams) s.close();
        } finally {
            await srv.stop();
        }
    });
});

// libmicrohttpd 0.9.75 drains epoll 128 events at a time and, after a full
// batch, waits again with the full timeout (up to the 120 s idle timeout)
// before serving that batch: a burst of requests that fills a batch exactly,
// with nothing after it, used to wait until the header deadline cut the
// connections (30 s). The server is stopped while each burst arrives, so its
// one request thread finds them all at once on waking; how the kernel splits
// them into batches varies, so bursts of several sizes are tried.
test('bursts of requests that fill epoll batches on one request thread are answered promptly', { timeout: 180000 }, async () => {
    const pg = await startPostgres();
    const srv = await startServer({ databaseUrl: pg.url, args: ['--threads', '1', '--event-loop', 'epoll'] });
    try {
        for (const n of [128, 129, 130, 256, 257]) {
            const socks = await Promise.all(Array.from({ length: n }, () => connect(srv.url)));
            await waitUntil(async () => metric(await metrics(srv.url), 'exptrack_http_connections_open') >= n, 10000, 'connections accepted');
            srv.proc.kill('SIGSTOP');
            let answers;
            try {
                const pending = socks.map((s) => exchange(s, '/health', 10000));
                await new Promise((r) => setTimeout(r, 300)); // the requests wait in the server's socket buffers
                srv.proc.kill('SIGCONT');
                answers = await Promise.all(pending);
            } finally {
                srv.proc.kill('SIGCONT');
            }
            const closed = answers.filter((a) => a.closed);
            assert.equal(closed.length, 0, `burst of ${n}: not answered within 10 s: ${describeClosed(closed)}`);
            assert.deepEqual(answers.filter((a) => a.status !== 200), []);
            for (const s of socks) s.destroy();
            await waitUntil(async () => metric(await metrics(srv.url), 'exptrack_http_connections_open') <= 2, 10000, 'connections released');
        }
    } finally {
        await srv.stop();
        await pg.destroy();
    }
});

test('bad connection limits are refused at start, naming the flag', () => {
    for (const [flag, value] of [['--max-connections', '0'], ['--max-connections', '-1'], ['--max-connections', 'many'],
        ['--max-connections', '99999999999999999999'], ['--max-connections', ''], ['--max-connections-per-ip', '0'],
        ['--max-connections-per-ip', '1000001'], ['--max-connections-per-ip', '12abc']]) {
        const r = spawnSync(exptrackdPath(), ['--port', '0', flag, value], { encoding: 'utf8', timeout: 10000 });
        assert.equal(r.status, 2, `${flag} ${JSON.stringify(value)}: ${r.stderr}`);
        assert.ok(r.stderr.includes(flag), r.stderr);
    }
    const env = spawnSync(exptrackdPath(), ['--port', '0'], { encoding: 'utf8', timeout: 10000, env: { ...process.env, EXPTRACK_MAX_CONNECTIONS_PER_IP: 'x' } });
    assert.equal(env.status, 2);
    assert.ok(env.stderr.includes('EXPTRACK_MAX_CONNECTIONS_PER_IP'), env.stderr);
});
