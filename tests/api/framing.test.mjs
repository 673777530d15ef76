// HTTP/1.1 framing (RFC 9110/9112) in front of every route, over raw sockets:
// request smuggling shapes, Transfer-Encoding, Host, header names, Expect,
// clients that end the stream mid-request, and the JSON shape of every
// answer the HTTP layer gives by itself (docs/security.md, "Framing").
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { useStack } from './harness.mjs';

const LIMIT = 4096;
const stack = useStack({ before, after }, { server: { args: ['--max-body-size', String(LIMIT)] } });

/** Writes bytes on a fresh connection (then ends our side when end is set)
 *  and collects what comes back until the server closes or ms pass. */
function exchange(base, bytes, { end = false, ms = 5000, until = null } = {}) {
    const u = new URL(base);
    return new Promise((resolve) => {
        const t0 = Date.now();
        let data = Buffer.alloc(0);
        let done = false;
        const s = net.connect(Number(u.port), u.hostname, () => { s.write(bytes); if (end) s.end(); });
        const fin = (closed) => {
            if (done) return;
            done = true;
            clearTimeout(timer);
            s.destroy();
            resolve({ text: data.toString('latin1'), closed, ms: Date.now() - t0 });
        };
        s.on('data', (d) => {
            data = Buffer.concat([data, d]);
            if (until && until(data.toString('latin1'))) fin(false);
        });
        s.on('end', () => fin(true));
        s.on('close', () => fin(true));
        s.on('error', () => fin(true));
        const timer = setTimeout(() => fin(false), ms);
    });
}

/** The responses in a byte stream: [{status, headers, body}] (Content-Length framed). */
function responses(text) {
    const out = [];
    let rest = text;
    while (rest.startsWith('HTTP/1.')) {
        const end = rest.indexOf('\r\n\r\n');
        if (end < 0) break;
        const lines = rest.slice(0, end).split('\r\n');
        const status = Number(lines[0].split(' ')[1]);
        const headers = {};
        for (const l of lines.slice(1)) { const i = l.indexOf(':'); headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim(); }
        const len = Number(headers['content-length'] || 0);
        out.push({ status, headers, body: rest.slice(end + 4, end + 4 + len) });
        rest = rest.slice(end + 4 + len);
    }
    return out;
}

const SEARCH = 'POST /api/2.0/mlflow/experiments/search HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n';
const NEXT = 'GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n';

/** Sends a head (+ body) followed by a second request on the same connection:
 *  exactly one JSON error with the status, the connection closed, the second
 *  request never served. */
async function refusedAndClosed(raw, status, what) {
    const r = await exchange(stack.base, raw + NEXT);
    const rs = responses(r.text);
    assert.equal(rs.length, 1, `${what}: one response only, got ${JSON.stringify(r.text.slice(0, 600))}`);
    assert.equal(rs[0].status, status, `${what}: ${JSON.stringify(r.text.slice(0, 400))}`);
    assert.match(rs[0].headers['content-type'] || '', /^application\/json/, what);
    const body = JSON.parse(rs[0].body);
    assert.equal(typeof body.error_code, 'string', what);
    assert.equal(typeof body.message, 'string', what);
    assert.ok(r.closed, `${what}: the connection must be closed`);
    assert.ok(r.ms < 3000, `${what}: answered at once, not after a timeout (${r.ms} ms)`);
    return body;
}

describe('request smuggling shapes', () => {
    test('a well-formed request followed by another on the same connection gets both answers', async () => {
        const r = await exchange(stack.base, `${SEARCH}Content-Length: 2\r\n\r\n{}${NEXT}`, { ms: 10000, until: (t) => responses(t).length === 2 });
        assert.deepEqual(responses(r.text).map((x) => x.status), [200, 200], r.text.slice(0, 400));
    });
    test('Content-Length and Transfer-Encoding together -> 400, closed', async () => {
        const b = await refusedAndClosed(`${SEARCH}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400, 'CL+TE');
        assert.match(b.message, /Content-Length and Transfer-Encoding/);
        await refusedAndClosed(`${SEARCH}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`, 400, 'TE+CL');
    });
    test('two Content-Length headers that differ -> 400, closed', async () => {
        const b = await refusedAndClosed(`${SEARCH}Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}`, 400, 'CL CL');
        assert.match(b.message, /Content-Length/);
    });
    test('a Content-Length that is not a length -> 400 or 413 at once, nothing served', async () => {
        // libmicrohttpd 0.9.75 refuses these itself, with its own HTML body
        // (docs/security.md): the status and the closed connection are ours to check
        for (const v of ['-1', '+2', '2 2', '0x10', '99999999999999999999999']) {
            const r = await exchange(stack.base, `${SEARCH}Content-Length: ${v}\r\n\r\n{}${NEXT}`);
            assert.match(r.text, /^HTTP\/1\.1 (400|413) /, `CL ${v}: ${r.text.slice(0, 200)}`);
            assert.ok(!r.text.includes('200 OK'), `CL ${v}: nothing served`);
            assert.ok(r.closed && r.ms < 3000, `CL ${v}: closed at once`);
        }
    });
});

describe('Transfer-Encoding', () => {
    test('a coding other than chunked -> 501 at once', async () => {
        for (const te of ['gzip', 'chunked, gzip', 'gzip, chunked', 'identity', 'x']) {
            const b = await refusedAndClosed(`${SEARCH}Transfer-Encoding: ${te}\r\n\r\n2\r\n{}\r\n0\r\n\r\n`, 501, te);
            assert.equal(b.error_code, 'NOT_IMPLEMENTED', te);
        }
    });
    test('chunked twice, empty codings, control characters -> 400 at once', async () => {
        for (const te of ['chunked, chunked', 'chunked,', ',chunked', 'chun\x01ked', 'chunked\x0b']) {
            await refusedAndClosed(`${SEARCH}Transfer-Encoding: ${te}\r\n\r\n2\r\n{}\r\n0\r\n\r\n`, 400, JSON.stringify(te));
        }
        await refusedAndClosed(`${SEARCH}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400, 'two TE headers');
    });
    test('Transfer-Encoding in an HTTP/1.0 request -> 400', async () => {
        const raw = 'POST /api/2.0/mlflow/experiments/search HTTP/1.0\r\nHost: localhost\r\nContent-Type: application/json\r\n'
            + 'Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n';
        const r = await exchange(stack.base, raw);
        assert.equal(responses(r.text)[0]?.status, 400, r.text.slice(0, 300));
    });
    test('a single chunked coding still works', async () => {
        const r = await exchange(stack.base, `${SEARCH}Transfer-Encoding: Chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n${NEXT}`, { ms: 10000, until: (t) => responses(t).length === 2 });
        assert.deepEqual(responses(r.text).map((x) => x.status), [200, 200], r.text.slice(0, 400));
    });
});

describe('Host and header names', () => {
    test('HTTP/1.1 without Host -> 400; HTTP/1.0 without Host is served', async () => {
        const b = await refusedAndClosed('GET /api/2.0/mlflow/experiments/get?experiment_id=0 HTTP/1.1\r\n\r\n', 400, 'no Host');
        assert.match(b.message, /Host/);
        const r = await exchange(stack.base, 'GET /health HTTP/1.0\r\n\r\n');
        assert.equal(responses(r.text)[0]?.status, 200, r.text.slice(0, 300));
    });
    test('two Host headers -> 400', async () => {
        const b = await refusedAndClosed('GET /health HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\n\r\n', 400, 'two Hosts');
        assert.match(b.message, /Host/);
    });
    test('header names outside the token set, or with whitespace before the colon -> 400', async () => {
        for (const h of ['Fo(o: b', 'Foo@: b', 'Fo"o: b', 'Foo : b', 'Foo\t: b', 'F\x7fo: b', 'Fo\x80o: b']) {
            await refusedAndClosed(`GET /health HTTP/1.1\r\nHost: localhost\r\n${h}\r\n\r\n`, 400, JSON.stringify(h));
        }
    });
    test('a control character in a header value -> 400', async () => {
        await refusedAndClosed('GET /health HTTP/1.1\r\nHost: localhost\r\nX-A: a\x01b\r\n\r\n', 400, 'CTL in value');
    });
});

describe('bodies', () => {
    test('Expect: 100-continue with a Content-Length over the limit -> 413, no 100 Continue', async () => {
        const r = await exchange(stack.base, `${SEARCH}Content-Length: ${LIMIT + 1}\r\nExpect: 100-continue\r\n\r\n`);
        assert.ok(!r.text.includes('100 Continue'), r.text.slice(0, 300));
        const rs = responses(r.text);
        assert.equal(rs[0]?.status, 413, r.text.slice(0, 300));
        assert.equal(JSON.parse(rs[0].body).error_code, 'INVALID_PARAMETER_VALUE');
        assert.ok(r.closed && r.ms < 3000);
    });
    test('Expect: 100-continue within the limit gets 100 Continue and then the answer', async () => {
        const u = new URL(stack.base);
        const text = await new Promise((resolve, reject) => {
            let data = '';
            const s = net.connect(Number(u.port), u.hostname, () => s.write(`${SEARCH}Content-Length: 2\r\nExpect: 100-continue\r\n\r\n`));
            s.on('data', (d) => {
                data += d.toString('latin1');
                if (data.includes('100 Continue') && !data.includes('\r\n\r\nHTTP/1.1 200')) s.write('{}');
                if (/HTTP\/1\.1 200[\s\S]*\r\n\r\n\{/.test(data)) { s.destroy(); resolve(data); }
            });
            s.on('error', reject);
            setTimeout(() => { s.destroy(); resolve(data); }, 3000);
        });
        assert.match(text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200/, text.slice(0, 300));
    });
    test('an over-long chunk extension is refused, never served', async () => {
        // libmicrohttpd 0.9.75 answers this one itself (docs/security.md)
        const r = await exchange(stack.base, `${SEARCH}Transfer-Encoding: chunked\r\n\r\n2;${'a'.repeat(100000)}\r\n{}\r\n0\r\n\r\n`);
        const rs = responses(r.text);
        assert.ok(rs.length <= 1 && (rs.length === 0 || rs[0].status >= 400), r.text.slice(0, 300));
        assert.ok(r.closed && r.ms < 3000, `closed at once (${r.ms} ms)`);
    });
});

describe('clients that end the stream before the request is complete', () => {
    const cases = {
        'a TLS ClientHello on the plain port': Buffer.from(`16030100a5010000a10303${'00'.repeat(60)}`, 'hex'),
        'headers without their blank line': 'GET /health HTTP/1.1\r\nHost: localhost\r\n',
        'a body shorter than its Content-Length': `${SEARCH}Content-Length: 100\r\n\r\n{"a":`,
        'a chunked body without its last chunk': `${SEARCH}Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n`,
    };
    for (const [what, bytes] of Object.entries(cases)) {
        test(`${what}: dropped at once, every time`, async () => {
            // libmicrohttpd with epoll misses an EOF that comes with the last
            // bytes now and then: try enough times to see it
            for (let i = 0; i < 12; i++) {
                const r = await exchange(stack.base, bytes, { end: true, ms: 5000 });
                assert.ok(r.closed, `${what} #${i}: still open after 5 s`);
                assert.ok(r.ms < 2000, `${what} #${i}: closed after ${r.ms} ms`);
                const rs = responses(r.text);
                assert.ok(rs.every((x) => x.status === 400), `${what}: ${r.text.slice(0, 200)}`);
            }
        });
    }
});
