// A bad-input corpus: well over 100 malformed requests (broken JSON, wrong
// types, huge numbers, deep nesting, invalid UTF-8, oversize fields and
// bodies, path tricks, header tricks, SQL-looking strings). Each must get the
// right 4xx with a clear MLflow error body, never SQL text; afterwards the
// server still answers and the database is exactly as it was.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { useStack, api, assertOk } from './harness.mjs';

const MAX_BODY = 65536;
const stack = useStack({ before, after }, { server: { args: ['--max-body-size', String(MAX_BODY)] } });
const A = '/api/2.0/mlflow';

// Every row of every table, hashed: "unchanged" means byte for byte.
function snapshot(pg) {
    const tables = pg.psql(`SELECT string_agg(quote_ident(relname), ',' ORDER BY relname) FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'`).trim().split(',');
    const parts = tables.map((t) => `(SELECT '${t}=' || count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM ${t} x)`);
    return pg.psql(`SELECT ${parts.join(" || ' ' || ")}`).trim();
}

// Sends raw bytes with exact headers (no normalisation by fetch).
function raw(base, method, path, { body, headers = {} } = {}) {
    const u = new URL(base);
    return new Promise((resolve, reject) => {
        const h = { ...headers };
        if (body !== undefined && h['content-length'] === undefined) h['content-length'] = Buffer.byteLength(body);
        const req = http.request({ host: u.hostname, port: u.port, path, method, headers: h, timeout: 15000 }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => {
                const text = Buffer.concat(chunks).toString('utf8');
                let json; try { json = JSON.parse(text); } catch { json = undefined; }
                resolve({ status: res.statusCode, text, json, headers: res.headers });
            });
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
        if (body !== undefined) req.write(body);
        req.end();
    });
}

const JSON_CT = { 'content-type': 'application/json' };
const cases = [];
// status: the expected 4xx; code: the expected error_code (when the body is ours); mention: text the message names
function add(name, method, path, opts, status, code = 'INVALID_PARAMETER_VALUE', mention) {
    cases.push({ name, method, path, opts, status, code, mention });
}

// --- broken JSON: a 400 with the parser's reason, before any handler (docs/api.md deviations)
const BROKEN = ['{', '{"name":', '{"name": "a",}', 'nul', '{"name": "a"', "{'name': 'a'}", '{"name": "a"}}', 'tru',
    '{"name":"a" "b":1}', '{"name": NaN}', '{"name": 0x10}', '{"name": "\\x41"}', '{"name": "a\\"}', '{name: "a"}',
    '{"name": "a"} trailing', '\u0000', ',', '{"name": Infinity}', '{"name": 01}', '{"name": "a"\n,\n}'];
for (const b of BROKEN) add(`broken JSON ${JSON.stringify(b)} on experiments/create`, 'POST', `${A}/experiments/create`, { body: b, headers: JSON_CT }, 400, 'INVALID_PARAMETER_VALUE', 'not valid JSON');
for (const b of BROKEN.slice(0, 10)) add(`broken JSON ${JSON.stringify(b)} on runs/log-batch`, 'POST', `${A}/runs/log-batch`, { body: b, headers: JSON_CT }, 400, 'INVALID_PARAMETER_VALUE', 'not valid JSON');
for (const b of ['[1,2]', '"str"', '123', 'true', 'null', '[]']) add(`non-object JSON ${b}`, 'POST', `${A}/experiments/create`, { body: b, headers: JSON_CT }, 400);

// --- wrong types
for (const v of [1, true, [], {}, null, '', ['a'], 1.5]) add(`experiments/create name=${JSON.stringify(v)}`, 'POST', `${A}/experiments/create`, { json: { name: v } }, 400, 'INVALID_PARAMETER_VALUE', 'name');
// an id that is not a decimal number cannot exist: 404, like MLflow
for (const v of [{}, [], true, 1.5]) add(`runs/create experiment_id=${JSON.stringify(v)}`, 'POST', `${A}/runs/create`, { json: { experiment_id: v } }, 400, 'INVALID_PARAMETER_VALUE', 'experiment_id');
for (const v of ['1.5', 'abc', -1, '-1', '0x10']) add(`runs/create experiment_id=${JSON.stringify(v)}`, 'POST', `${A}/runs/create`, { json: { experiment_id: v } }, 404, 'RESOURCE_DOES_NOT_EXIST');
for (const v of ['abc', {}, [], true, '1e', '--1']) add(`log-metric value=${JSON.stringify(v)}`, 'POST', `${A}/runs/log-metric`, { json: { run_id: '0'.repeat(32), key: 'k', value: v, timestamp: 1 } }, 400, 'INVALID_PARAMETER_VALUE', 'value');
for (const v of ['x', 1.5, {}, [], '1.0', true]) add(`log-metric step=${JSON.stringify(v)}`, 'POST', `${A}/runs/log-metric`, { json: { run_id: '0'.repeat(32), key: 'k', value: 1, timestamp: 1, step: v } }, 400, 'INVALID_PARAMETER_VALUE', 'step');
for (const v of ['now', {}, 1.25]) add(`log-metric timestamp=${JSON.stringify(v)}`, 'POST', `${A}/runs/log-metric`, { json: { run_id: '0'.repeat(32), key: 'k', value: 1, timestamp: v } }, 400, 'INVALID_PARAMETER_VALUE', 'timestamp');
for (const v of ['x', 1, {}, [1], [{}], [null]]) add(`log-batch metrics=${JSON.stringify(v)}`, 'POST', `${A}/runs/log-batch`, { json: { run_id: '0'.repeat(32), metrics: v } }, 400, 'INVALID_PARAMETER_VALUE', 'metrics');
for (const v of ['x', {}, [1]]) add(`log-batch params=${JSON.stringify(v)}`, 'POST', `${A}/runs/log-batch`, { json: { run_id: '0'.repeat(32), params: v } }, 400, 'INVALID_PARAMETER_VALUE', 'params');
for (const v of [-1, 'x', 0, 1e10, {}]) add(`experiments/search max_results=${JSON.stringify(v)}`, 'POST', `${A}/experiments/search`, { json: { max_results: v } }, 400, 'INVALID_PARAMETER_VALUE', 'max_results');
for (const v of ['BOGUS', 0, 9, {}]) add(`experiments/search view_type=${JSON.stringify(v)}`, 'POST', `${A}/experiments/search`, { json: { view_type: v } }, 400, 'INVALID_PARAMETER_VALUE', 'view_type');
for (const v of ['x', {}, 5, [1, {}]]) add(`runs/search experiment_ids=${JSON.stringify(v)}`, 'POST', `${A}/runs/search`, { json: { experiment_ids: v } }, 400, 'INVALID_PARAMETER_VALUE', 'experiment_ids');

// --- huge numbers
add('experiment_id beyond int64', 'GET', `${A}/experiments/get?experiment_id=99999999999999999999999`, {}, 400, 'INVALID_PARAMETER_VALUE', 'experiment_id');
add('step beyond int64', 'POST', `${A}/runs/log-metric`, { json: { run_id: '0'.repeat(32), key: 'k', value: 1, timestamp: 1, step: '9223372036854775808' } }, 400, 'INVALID_PARAMETER_VALUE', 'step');
add('timestamp 1e400', 'POST', `${A}/runs/log-metric`, { body: `{"run_id":"${'0'.repeat(32)}","key":"k","value":1,"timestamp":1e400}`, headers: JSON_CT }, 400);
add('max_results 1e20', 'POST', `${A}/experiments/search`, { body: '{"max_results": 1e20}', headers: JSON_CT }, 400, 'INVALID_PARAMETER_VALUE', 'max_results');
add('max_results -1e300', 'POST', `${A}/experiments/search`, { body: '{"max_results": -1e300}', headers: JSON_CT }, 400, 'INVALID_PARAMETER_VALUE', 'max_results');
add('max_results as a 400-digit string', 'POST', `${A}/experiments/search`, { json: { max_results: '9'.repeat(400) } }, 400, 'INVALID_PARAMETER_VALUE', 'max_results');

// --- deep nesting
for (const d of [65, 100, 1000, 5000]) {
    add(`arrays nested ${d} deep`, 'POST', `${A}/experiments/create`, { body: `{"name":${'['.repeat(d)}${']'.repeat(d)}}`, headers: JSON_CT }, 400);
    add(`objects nested ${d} deep`, 'POST', `${A}/runs/log-batch`, { body: `{"tags":${'{"a":'.repeat(d)}1${'}'.repeat(d)}}`, headers: JSON_CT }, 400);
}

// --- invalid UTF-8
for (const bytes of [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]]) {
    const body = Buffer.concat([Buffer.from('{"name":"bad'), Buffer.from(bytes), Buffer.from('"}')]);
    add(`invalid UTF-8 ${Buffer.from(bytes).toString('hex')} in a JSON body`, 'POST', `${A}/experiments/create`, { body, headers: JSON_CT }, 400, 'INVALID_PARAMETER_VALUE', 'not valid JSON');
}
add('invalid UTF-8 in a query value', 'GET', `${A}/experiments/get-by-name?experiment_name=%FF%FE`, {}, 400, 'INVALID_PARAMETER_VALUE', 'experiment_name');
add('overlong UTF-8 in a query value', 'GET', `${A}/experiments/get?experiment_id=%C0%B1`, {}, 400, 'INVALID_PARAMETER_VALUE', 'experiment_id');

// --- oversize fields and bodies
add('experiment name of 501 chars', 'POST', `${A}/experiments/create`, { json: { name: 'x'.repeat(501) } }, 400, 'INVALID_PARAMETER_VALUE', 'name');
add('experiment name of 60 KB', 'POST', `${A}/experiments/create`, { json: { name: 'x'.repeat(60000) } }, 400, 'INVALID_PARAMETER_VALUE', 'name');
add('body over --max-body-size', 'POST', `${A}/experiments/create`, { json: { name: 'x'.repeat(MAX_BODY) } }, 400, 'INVALID_PARAMETER_VALUE', 'limit');
add('body of 1 MiB of spaces', 'POST', `${A}/runs/log-batch`, { body: ' '.repeat(1 << 20), headers: JSON_CT }, 400, 'INVALID_PARAMETER_VALUE', 'limit');
add('tag key of 251 chars', 'POST', `${A}/experiments/set-experiment-tag`, { json: { experiment_id: '0', key: 'k'.repeat(251), value: 'v' } }, 400, 'INVALID_PARAMETER_VALUE', 'key');
add('unterminated filter string of 20 KB', 'POST', `${A}/runs/search`, { json: { experiment_ids: ['0'], filter: "params.a = '" + 'x'.repeat(20000) } }, 400, 'INVALID_PARAMETER_VALUE', 'filter');
add('2,000 experiment ids', 'POST', `${A}/runs/search`, { json: { experiment_ids: Array.from({ length: 2000 }, (_, i) => String(i)) } }, 400, 'INVALID_PARAMETER_VALUE', 'experiment_ids');
add('URL of 100 KB', 'GET', `${A}/experiments/get?experiment_id=${'1'.repeat(100000)}`, {}, 414, null);
add('a header of 100 KB', 'GET', `${A}/experiments/get?experiment_id=0`, { headers: { 'x-big': 'a'.repeat(100000) } }, 431, null);
// the limits named in docs/security.md, answered in the contract's shape
const manyArgs = (n) => Array.from({ length: n }, (_, i) => `a${i}=x`).join('&');
add('257 query arguments', 'GET', `${A}/experiments/get?${manyArgs(256)}&experiment_id=0`, {}, 414, 'INVALID_PARAMETER_VALUE', '256 query arguments');
add('URL of 17 KB', 'GET', `${A}/experiments/get?experiment_id=0&pad=${'p'.repeat(17000)}`, {}, 414, 'INVALID_PARAMETER_VALUE', '16384 bytes');
add('headers of 17 KB', 'GET', `${A}/experiments/get?experiment_id=0`, { headers: { 'x-big': 'a'.repeat(17000) } }, 431, 'INVALID_PARAMETER_VALUE', '16384 bytes');

// --- path tricks
for (const p of [`${A}/experiments/get/../create`, `${A}/../2.0/mlflow/experiments/create`, '/api/2.0/mlflow//experiments/get', '/API/2.0/mlflow/experiments/get',
    `${A}/experiments/get%00`, `${A}/experiments/get.json`, '/api/2.1/mlflow/experiments/get', `${A}/experiments/`, '/%2e%2e/etc/passwd', '/api/2.0/mlflow/%2e%2e/mlflow/experiments/get']) {
    add(`path ${p}`, 'GET', p, {}, 404, 'ENDPOINT_NOT_FOUND');
}
for (const p of ['../../etc/passwd', '0/../../x', '0/%2e%2e/x', 'a\\b', '/etc/passwd', '0/x/artifacts/%00', '0//x']) {
    add(`artifact path ${p}`, 'GET', `/api/2.0/mlflow-artifacts/artifacts/${p}`, {}, 400, 'INVALID_PARAMETER_VALUE');
}
add('artifact list path traversal', 'GET', `/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent('0/../../etc')}`, {}, 400, 'INVALID_PARAMETER_VALUE');
add('method not allowed', 'DELETE', `${A}/experiments/create`, {}, 405, 'METHOD_NOT_ALLOWED');
add('TRACE is not allowed', 'PUT', `${A}/runs/get`, { body: '{}', headers: JSON_CT }, 405, 'METHOD_NOT_ALLOWED');

// --- header tricks
add('POST without Content-Type', 'POST', `${A}/experiments/create`, { body: '{"name":"a"}' }, 400, 'INVALID_PARAMETER_VALUE', 'Content-Type');
add('POST as text/plain', 'POST', `${A}/experiments/create`, { body: '{"name":"a"}', headers: { 'content-type': 'text/plain' } }, 400, 'INVALID_PARAMETER_VALUE', 'Content-Type');
add('POST as form', 'POST', `${A}/experiments/create`, { body: 'name=a', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 400, 'INVALID_PARAMETER_VALUE', 'Content-Type');
add('Content-Type application/jsonx', 'POST', `${A}/experiments/create`, { body: '{"name":"a"}', headers: { 'content-type': 'application/jsonx' } }, 400, 'INVALID_PARAMETER_VALUE', 'Content-Type');
add('foreign Host header', 'GET', `${A}/experiments/get?experiment_id=0`, { headers: { host: 'attacker.example' } }, 403, 'PERMISSION_DENIED', 'host');
add('foreign Origin on a POST', 'POST', `${A}/experiments/create`, { json: { name: 'cross' }, headers: { origin: 'http://attacker.example' } }, 403, 'PERMISSION_DENIED', 'cross-origin');
add('Origin null on a POST', 'POST', `${A}/experiments/create`, { json: { name: 'cross' }, headers: { origin: 'null' } }, 403, 'PERMISSION_DENIED');
add('Sec-Fetch-Site cross-site on a POST', 'POST', `${A}/experiments/create`, { json: { name: 'cross' }, headers: { 'sec-fetch-site': 'cross-site' } }, 403, 'PERMISSION_DENIED');

// --- SQL-looking strings: refused or not found, never run
const SQL = ["' OR '1'='1", "x'; DROP TABLE experiments; --", '1; DELETE FROM runs', "\\'; SELECT pg_sleep(10); --", '1 OR 1=1', "Default' --"];
for (const s of SQL) {
    add(`get-by-name ${s}`, 'GET', `${A}/experiments/get-by-name?experiment_name=${encodeURIComponent(s)}`, {}, 404, 'RESOURCE_DOES_NOT_EXIST');
    add(`experiments/get id ${s}`, 'GET', `${A}/experiments/get?experiment_id=${encodeURIComponent(s)}`, {}, 400, 'INVALID_PARAMETER_VALUE', 'experiment_id'); // cannot be an id: 400 on GET (issue 18)
    add(`runs/get run_id ${s}`, 'GET', `${A}/runs/get?run_id=${encodeURIComponent(s)}`, {}, 400, 'INVALID_PARAMETER_VALUE', 'run_id'); // cannot be a run id: 400 (issue 18)
}
for (const f of ["name = 'a'; DROP TABLE experiments", "metrics.m > 0 OR 1=1", "params.a = 'x' UNION SELECT * FROM users", "tags.`a` = 'b') OR ('1'='1", '1=1', "attributes.run_id IN (SELECT run_uuid FROM runs)"]) {
    add(`runs/search filter ${f}`, 'POST', `${A}/runs/search`, { json: { experiment_ids: ['0'], filter: f } }, 400, 'INVALID_PARAMETER_VALUE', 'filter');
}
for (const o of ['name; DROP TABLE runs', 'metrics.m DESC, (SELECT 1)', 'start_time ASCENDING', "params.`a'` DESC --"]) {
    add(`runs/search order_by ${o}`, 'POST', `${A}/runs/search`, { json: { experiment_ids: ['0'], order_by: [o] } }, 400, 'INVALID_PARAMETER_VALUE');
}

describe('bad input corpus', () => {
    let before0;
    test('corpus has at least 100 requests', () => assert.ok(cases.length >= 100, `${cases.length} cases`));

    test('every malformed request gets the right 4xx and a clear message; nothing changes', { timeout: 300000 }, async () => {
        before0 = snapshot(stack.pg);
        const failures = [];
        for (const c of cases) {
            const o = c.opts || {};
            let body = o.body;
            const headers = { ...(o.headers || {}) };
            if (o.json !== undefined) { body = JSON.stringify(o.json); headers['content-type'] ??= 'application/json'; }
            if (!headers.host) headers.host = new URL(stack.base).host;
            let r;
            try {
                r = await raw(stack.base, c.method, c.path, { body, headers });
            } catch (e) {
                failures.push(`${c.name}: request failed: ${e.message}`);
                continue;
            }
            const where = `${c.name}: HTTP ${r.status} ${r.text.slice(0, 200)}`;
            if (r.status !== c.status) { failures.push(`${where} (want ${c.status})`); continue; }
            if (c.code === null) continue; // answered by libmicrohttpd itself
            if (!r.json || typeof r.json.message !== 'string' || r.json.error_code !== c.code) { failures.push(`${where} (want ${c.code})`); continue; }
            if (!/application\/json/.test(r.headers['content-type'] || '')) failures.push(`${where}: content-type ${r.headers['content-type']}`);
            if (r.json.message.length === 0 || r.json.message.length > 1200) failures.push(`${where}: message length ${r.json.message.length}`);
            if (/syntax error at or near|SQLSTATE|ERROR: |\bat [\w/.]+\.c:\d+/.test(r.json.message)) failures.push(`${where}: leaks internals`);
            if (c.mention && !r.json.message.toLowerCase().includes(c.mention.toLowerCase())) failures.push(`${where}: should mention ${c.mention}`);
        }
        assert.deepEqual(failures, [], `${failures.length} of ${cases.length} failed`);
    });

    // The largest request the limits let through is served, not cut off:
    // 256 query arguments in a 16 KB URL with 15 KB of headers, twice.
    test('a request just inside every limit is answered', async () => {
        let url = `${A}/experiments/get?experiment_id=0&${manyArgs(254)}`;
        url += `&pad=${'p'.repeat(16384 - url.length - 5)}`;
        assert.equal(url.length, 16384);
        const headers = { host: new URL(stack.base).host, 'x-big': 'h'.repeat(15000) };
        for (let i = 0; i < 2; i++) {
            const r = await raw(stack.base, 'GET', url, { headers });
            assert.equal(r.status, 200, `request ${i + 1}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
            assert.equal(r.json.experiment.experiment_id, '0');
        }
    });

    test('the server is alive and the database unchanged', async () => {
        assert.equal((await api(stack.base, 'GET', '/health')).status, 200);
        assertOk(await api(stack.base, 'GET', `${A}/experiments/get`, { experiment_id: '0' }));
        assert.ok(before0, 'corpus ran');
        assert.equal(snapshot(stack.pg), before0);
    });
});
