// Authentication and authorization with --auth: the authorization matrix is
// generated from the server's own route table (GET exptrack/routes), so a
// route added without a permission rule, or with a rule this file does not
// know how to exercise, fails here. Also: Basic and Bearer as the MLflow
// clients send them, 401/403 bodies, tokens, search filtering, Host and
// Origin screening, JSON depth.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { useAuthStack, ADMIN_PASSWORD, basicAuth as basic, api, assertOk, assertError, uniqueName } from './harness.mjs';

const stack = useAuthStack({ before, after });
const pwFile = stack.pwFile;

const bearer = (t) => ({ authorization: `Bearer ${t}` });
const ADMIN = stack.admin;

// Who the matrix asks, weakest first, with their level on the target experiment.
const LEVEL = { NO_PERMISSIONS: 0, READ: 1, EDIT: 2, MANAGE: 3 };
const PERM_LEVEL = { READ: 1, EDIT: 2, MANAGE: 3 };
const IDENTITIES = [
    { name: 'anonymous' },
    { name: 'nobody', grant: 'NO_PERMISSIONS' },
    { name: 'reader', grant: 'READ' },
    { name: 'editor', grant: 'EDIT' },
    { name: 'manager', grant: 'MANAGE' },
    { name: 'admin', admin: true },
];

function password(user) { return `${user}-password-123`; }
function headersOf(id) {
    if (id.name === 'anonymous') return {};
    if (id.admin) return ADMIN;
    return basic(id.name, password(id.name));
}

// GET of a server-sent-events stream: the status and headers, then the
// connection is dropped (a 200 stream never ends by itself); error bodies are read.
async function sseStatus(base, url, query, headers) {
    const sp = new URLSearchParams(Object.entries(query));
    const ac = new AbortController();
    const res = await fetch(`${base}${url}?${sp}`, { headers, signal: ac.signal });
    if (res.status === 200) {
        assert.match(res.headers.get('content-type'), /^text\/event-stream/);
        ac.abort();
        return { status: 200, text: '', json: undefined, headers: res.headers };
    }
    const text = await res.text();
    let json; try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, text, json, headers: res.headers };
}

async function call(base, method, url, { query, body, raw, headers = {} } = {}) {
    if (raw !== undefined) return api(base, method, url, undefined, { raw, headers: { 'content-type': 'application/octet-stream', ...headers } });
    if (method === 'GET') return api(base, method, url, query, { headers });
    return api(base, method, url, body ?? {}, { headers });
}

// Raw request (fetch forbids setting Host).
function rawGet(base, p, headers) {
    const u = new URL(base);
    return new Promise((resolve, reject) => {
        const req = http.request({ host: u.hostname, port: u.port, path: p, method: 'GET', headers, timeout: 10000 }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c) => { text += c; });
            res.on('end', () => { let json; try { json = JSON.parse(text); } catch { json = undefined; } resolve({ status: res.statusCode, text, json }); });
        });
        req.on('error', reject);
        req.end();
    });
}

describe('authentication', () => {
    test('/health needs no credentials; the API does (401, WWW-Authenticate, MLflow body)', async () => {
        const h = await api(stack.base, 'GET', '/health');
        assert.equal(h.status, 200);
        const r = await api(stack.base, 'GET', '/api/2.0/mlflow/experiments/get', { experiment_id: '0' });
        assertError(r, 401, 'UNAUTHENTICATED');
        assert.equal(r.headers.get('www-authenticate'), 'Basic realm="exptrack"');
    });

    test('Basic with the admin password from --admin-password-file; wrong password -> 401', async () => {
        assertOk(await api(stack.base, 'GET', '/api/2.0/mlflow/experiments/get', { experiment_id: '0' }, { headers: ADMIN }));
        for (const h of [basic('admin', 'password1234'), basic('admin', ''), basic('ghost', 'whatever-password'),
            { authorization: 'Basic !!!' }, { authorization: 'Basic ' + Buffer.from('nocolon').toString('base64') },
            { authorization: 'Digest x' }, bearer('etk_' + '0'.repeat(64)), bearer('')]) {
            const r = await api(stack.base, 'GET', '/api/2.0/mlflow/experiments/get', { experiment_id: '0' }, { headers: h });
            assertError(r, 401, 'UNAUTHENTICATED', [], JSON.stringify(h));
        }
    });

    test('repeated wrong passwords are throttled (429 with Retry-After) before PBKDF2 runs', async () => {
        const user = uniqueName('brute');
        assertOk(await api(stack.base, 'POST', '/api/2.0/mlflow/users/create', { username: user, password: password(user) }, { headers: ADMIN }));
        for (let i = 0; i < 10; i++) {
            assertError(await api(stack.base, 'GET', '/api/2.0/mlflow/users/get', { username: user }, { headers: basic(user, `wrong-${i}-password`) }), 401, 'UNAUTHENTICATED');
        }
        const r = await api(stack.base, 'GET', '/api/2.0/mlflow/users/get', { username: user }, { headers: basic(user, password(user)) });
        assertError(r, 429, 'REQUEST_LIMIT_EXCEEDED', 'too many failed sign-ins');
        assert.ok(Number(r.headers.get('retry-after')) > 0);
        // other users are not affected
        assertOk(await api(stack.base, 'GET', '/api/2.0/mlflow/experiments/get', { experiment_id: '0' }, { headers: ADMIN }));
    });

    test('users/create: passwords shorter than 12 characters are refused; duplicate -> RESOURCE_ALREADY_EXISTS', async () => {
        const name = uniqueName('short');
        assertError(await api(stack.base, 'POST', '/api/2.0/mlflow/users/create', { username: name, password: 'elevenchars' }, { headers: ADMIN }),
            400, 'INVALID_PARAMETER_VALUE', 'password');
        assertOk(await api(stack.base, 'POST', '/api/2.0/mlflow/users/create', { username: name, password: 'twelve-chars' }, { headers: ADMIN }));
        assertError(await api(stack.base, 'POST', '/api/2.0/mlflow/users/create', { username: name, password: 'twelve-chars' }, { headers: ADMIN }),
            400, 'RESOURCE_ALREADY_EXISTS');
    });

    test('bearer tokens (MLFLOW_TRACKING_TOKEN): shown once, work, and stop working when revoked', async () => {
        const user = uniqueName('tok');
        assertOk(await api(stack.base, 'POST', '/api/2.0/mlflow/users/create', { username: user, password: password(user) }, { headers: ADMIN }));
        const t = assertOk(await api(stack.base, 'POST', '/api/2.0/exptrack/tokens/create', { name: 'ci' }, { headers: basic(user, password(user)) }));
        assert.match(t.token, /^etk_[0-9a-f]{64}$/);
        assertOk(await api(stack.base, 'GET', '/api/2.0/mlflow/experiments/get', { experiment_id: '0' }, { headers: bearer(t.token) }));
        const list = assertOk(await api(stack.base, 'GET', '/api/2.0/exptrack/tokens/list', {}, { headers: bearer(t.token) }));
        assert.equal(list.tokens.length, 1);
        assert.ok(!JSON.stringify(list).includes(t.token.slice(4)), 'the secret is never listed again');
        assertOk(await api(stack.base, 'POST', '/api/2.0/exptrack/tokens/revoke', { token_id: t.token_id }, { headers: bearer(t.token) }));
        assertError(await api(stack.base, 'GET', '/api/2.0/mlflow/experiments/get', { experiment_id: '0' }, { headers: bearer(t.token) }), 401, 'UNAUTHENTICATED');
    });

    test('update-password: the old password stops working, the new one works', async () => {
        const user = uniqueName('pw');
        assertOk(await api(stack.base, 'POST', '/api/2.0/mlflow/users/create', { username: user, password: password(user) }, { headers: ADMIN }));
        const old = basic(user, password(user));
        assertOk(await api(stack.base, 'GET', '/api/2.0/mlflow/users/get', { username: user }, { headers: old }));
        assertOk(await api(stack.base, 'PATCH', '/api/2.0/mlflow/users/update-password', { username: user, password: 'a-brand-new-password' }, { headers: old }));
        assertError(await api(stack.base, 'GET', '/api/2.0/mlflow/users/get', { username: user }, { headers: old }), 401, 'UNAUTHENTICATED');
        assertOk(await api(stack.base, 'GET', '/api/2.0/mlflow/users/get', { username: user }, { headers: basic(user, 'a-brand-new-password') }));
        // someone else's password: 403
        assertError(await api(stack.base, 'PATCH', '/api/2.0/mlflow/users/update-password', { username: 'admin', password: 'hijacked-password' },
            { headers: basic(user, 'a-brand-new-password') }), 403, 'PERMISSION_DENIED');
    });
});

describe('screening', () => {
    test('a foreign Host header is refused (DNS rebinding); loopback names are fine', async () => {
        const port = new URL(stack.base).port;
        const bad = await rawGet(stack.base, '/health', { host: `evil.example:${port}` });
        assert.equal(bad.status, 403);
        assert.equal(bad.json.error_code, 'PERMISSION_DENIED');
        for (const h of [`localhost:${port}`, `127.0.0.1:${port}`]) {
            assert.equal((await rawGet(stack.base, '/health', { host: h })).status, 200, h);
        }
    });

    test('cross-origin state-changing requests are refused, with no CORS allowance', async () => {
        const r = await api(stack.base, 'POST', '/api/2.0/mlflow/experiments/create', { name: uniqueName('x') },
            { headers: { ...ADMIN, origin: 'http://evil.example' } });
        assertError(r, 403, 'PERMISSION_DENIED', 'cross-origin');
        assert.equal(r.headers.get('access-control-allow-origin'), null);
        const s = await api(stack.base, 'POST', '/api/2.0/mlflow/experiments/create', { name: uniqueName('x') },
            { headers: { ...ADMIN, 'sec-fetch-site': 'cross-site' } });
        assertError(s, 403, 'PERMISSION_DENIED');
        const same = await api(stack.base, 'POST', '/api/2.0/mlflow/experiments/create', { name: uniqueName('x') },
            { headers: { ...ADMIN, origin: stack.base } });
        assertOk(same);
    });

    test('JSON nested deeper than 64 levels -> 400', async () => {
        const deep = '{"name":' + '['.repeat(70) + ']'.repeat(70) + '}';
        const r = await api(stack.base, 'POST', '/api/2.0/mlflow/experiments/create', undefined, { raw: deep, headers: { ...ADMIN, 'content-type': 'application/json' } });
        assertError(r, 400, 'INVALID_PARAMETER_VALUE', 'deeper than 64');
    });
});

describe('authorization matrix (from the route table)', () => {
    const ctx = {};

    before(async () => {
        const b = stack.base;
        const ok = async (m, p, body) => assertOk(await call(b, m, p, { body, query: body, headers: ADMIN }), `${m} ${p}`);
        ctx.expName = uniqueName('matrix');
        ctx.exp = (await ok('POST', '/api/2.0/mlflow/experiments/create', { name: ctx.expName })).experiment_id;
        ctx.run = (await ok('POST', '/api/2.0/mlflow/runs/create', { experiment_id: ctx.exp, start_time: Date.now() })).run.info.run_id;
        await ok('POST', '/api/2.0/mlflow/runs/log-metric', { run_id: ctx.run, key: 'm', value: 1, timestamp: 1, step: 0 });
        const put = await api(b, 'PUT', `/api/2.0/mlflow-artifacts/artifacts/${ctx.exp}/${ctx.run}/artifacts/f.txt`, undefined,
            { raw: 'hello', headers: { ...ADMIN, 'content-type': 'text/plain' } });
        assertOk(put, 'artifact upload');
        for (const id of IDENTITIES) {
            if (!id.grant) continue;
            await ok('POST', '/api/2.0/mlflow/users/create', { username: id.name, password: password(id.name) });
            await ok('POST', '/api/2.0/mlflow/experiments/permissions/create', { experiment_id: ctx.exp, username: id.name, permission: id.grant });
        }
        await ok('POST', '/api/2.0/mlflow/users/create', { username: 'victim', password: password('victim') });
        // the model registry's fixtures: a model with two versions and an alias,
        // and a model for registered-models/delete to remove
        ctx.model = uniqueName('registry');
        await ok('POST', '/api/2.0/mlflow/registered-models/create', { name: ctx.model });
        await ok('POST', '/api/2.0/mlflow/registered-models/create', { name: `${ctx.model}-doomed` });
        for (let i = 0; i < 2; i++) await ok('POST', '/api/2.0/mlflow/model-versions/create', { name: ctx.model, source: 's3://b/p' });
        await ok('POST', '/api/2.0/mlflow/registered-models/alias', { name: ctx.model, alias: 'a1', version: '1' });
        // each identity has the same level on both models as on the experiment
        for (const id of IDENTITIES) {
            if (!id.grant) continue;
            for (const name of [ctx.model, `${ctx.model}-doomed`]) {
                await ok('POST', '/api/2.0/mlflow/registered-models/permissions/create', { name, username: id.name, permission: id.grant });
            }
        }
        // a logged model in the experiment (the identities' level on it is the experiment's)
        ctx.loggedModel = (await ok('POST', '/api/2.0/mlflow/logged-models', { experiment_id: ctx.exp, tags: [{ key: 't', value: 'v' }] })).model.info.model_id;
        // a webhook for the /webhooks/{id} routes (DISABLED: it never delivers)
        ctx.webhook = (await ok('POST', '/api/2.0/mlflow/webhooks', {
            name: 'matrix', url: 'https://93.184.216.34/', status: 'DISABLED', events: [{ entity: 'MODEL_VERSION', action: 'CREATED' }],
        })).webhook.webhook_id;
        // a trace in the experiment (its routes follow the experiment's permissions)
        ctx.location = { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: ctx.exp } };
        ctx.trace = `tr-${'7'.repeat(32)}`;
        await ok('POST', '/api/3.0/mlflow/traces', { trace: { trace_info: { trace_id: ctx.trace, trace_location: ctx.location } } });
        ctx.routes = (await ok('GET', '/api/2.0/exptrack/routes', {})).routes;
    }, { timeout: 120000 });

    // The request that exercises a route for an identity, or a string saying why it cannot be built.
    function requestFor(route, id) {
        const { exp, run, expName } = ctx;
        const self = id.admin ? 'admin' : id.name;
        const art = `${exp}/${run}/artifacts/f.txt`;
        const base = route.mount.startsWith('API') ? '/api/2.0' : '';
        let url = base + route.path;
        let fields;
        switch (route.target) {
        case 'NONE': fields = {}; break;
        case 'EXPERIMENT_ID': fields = { experiment_id: exp }; break;
        case 'EXPERIMENT_IDS': fields = { experiment_id: [exp], experiment_ids: [exp] }; break;
        case 'EXPERIMENT_NAME': fields = { experiment_name: expName }; break;
        case 'RUN_ID': fields = { run_id: run, path: 'f.txt', key: 'm', value: 'v', metric_key: 'm' }; break;
        case 'RUN_IDS': fields = { run_id: [run], run_ids: [run], metric_key: 'm', key: 'm' }; break;
        case 'ARTIFACT_QUERY': fields = { path: `${exp}/${run}/artifacts` }; break;
        case 'ARTIFACT_PATH':
            url += route.path.endsWith('/mpu/') ? `abort/${art}` : art;
            fields = { upload_id: 'x', path: art };
            break;
        case 'NEW_EXPERIMENT': fields = { name: uniqueName('m') }; break;
        // the registry's fields are filled below, by path
        case 'MODEL_NAME': case 'NEW_MODEL': fields = {}; break;
        // logged models: the id in the path; DELETE removes a tag (the model stays for the others)
        case 'LOGGED_MODEL':
            url += { GET: ctx.loggedModel, PATCH: ctx.loggedModel, POST: `${ctx.loggedModel}/params`, DELETE: `${ctx.loggedModel}/tags/t` }[route.method];
            fields = { status: 'LOGGED_MODEL_READY', params: [{ key: uniqueName('p'), value: '1' }] };
            break;
        // traces: the id in the path for the prefix routes, else in the fields
        case 'TRACE': {
            const t = ctx.trace;
            if (route.mount.endsWith('PREFIX')) {
                const v3 = route.path.includes('/3.0/');
                url += { GET: v3 ? t : `${t}/info`, PATCH: `${t}/tags`, POST: `${t}/assessments`, DELETE: `${t}/tags` }[route.method];
            }
            fields = { trace_id: t, request_id: t, trace_ids: [t], run_id: run, key: 'k', value: 'v', prompt_versions: [{ name: 'p', version: '1' }],
                assessment: { assessment_name: 'a', feedback: { value: 1 } } };
            break;
        }
        case 'TRACE_LOCATION':
            fields = { trace: { trace_info: { trace_id: `tr-${'8'.repeat(32)}`, trace_location: ctx.location } }, locations: [ctx.location] };
            break;
        case 'OTLP_HEADER': {
            const span = { traceId: '9'.repeat(32), spanId: '9'.repeat(16), name: 'm', startTimeUnixNano: 1, endTimeUnixNano: 2 };
            return { method: 'POST', url, raw: JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] }),
                headers: { 'content-type': 'application/json', 'x-mlflow-experiment-id': exp } };
        }
        default: return `unknown target ${route.target}`;
        }
        if (route.mount.endsWith('PREFIX') && route.target !== 'ARTIFACT_PATH' && route.target !== 'LOGGED_MODEL') url += route.path === '/static/' ? 'app.js' : '';
        if (route.path.includes('/users/')) fields = { username: route.perm === 'SELF' ? self : 'victim', password: password(self), is_admin: false };
        if (route.path.includes('/permissions/')) fields = { experiment_id: exp, username: 'victim', permission: 'READ' };
        if (route.path.endsWith('/tokens/revoke')) fields = { token_id: '999999' };
        if (route.path.startsWith('/mlflow/webhooks')) {
            fields = { name: uniqueName('hook'), url: 'https://93.184.216.34/', status: 'DISABLED', events: [{ entity: 'MODEL_VERSION', action: 'CREATED' }] };
            if (route.mount.endsWith('PREFIX')) url += route.method === 'POST' ? `${ctx.webhook}/test` : ctx.webhook;
            // test: an invalid event, answered 400 before anything is sent
            if (route.mount.endsWith('PREFIX') && route.method === 'POST') fields = { event: { entity: 'MODEL_VERSION', action: 'SET' } };
        }
        if (/^(\/(mlflow|exptrack))?\/(registered-models|model-versions)\//.test(route.path)) {
            const { model } = ctx;
            fields = { name: model, new_name: model, version: '1', key: 'k', value: 'v', alias: 'a1', source: 's3://b/p', stage: 'Staging', path: 'MLmodel' };
            if (route.path.endsWith('/registered-models/create')) fields.name = uniqueName('rm');
            if (route.path.endsWith('/registered-models/delete')) fields.name = `${model}-doomed`;
            if (route.path.endsWith('/model-versions/delete')) fields.version = '2';
            if (route.path.endsWith('/registered-models/alias') && route.method === 'DELETE') fields.alias = 'gone';
            if (route.path.includes('/registered-models/permissions/')) fields = { name: model, username: 'victim', permission: 'READ' };
        }
        if (id.admin && route.path.endsWith('/users/update-password')) fields.password = ADMIN_PASSWORD;
        // the live-update stream: PERM_USER, READ checked per watched experiment by its handler
        if (route.path === '/exptrack/stream') return { method: 'GET', url, query: { experiment_id: exp, run_id: run }, sse: true };
        if (route.stream && route.target !== 'OTLP_HEADER') {
            return { method: route.method, url: route.method === 'POST' ? `${url}?run_id=${run}&path=up.txt` : url, raw: 'data' };
        }
        return route.method === 'GET' ? { method: 'GET', url, query: fields } : { method: route.method, url, body: fields };
    }

    function expected(route, id) {
        if (route.perm === 'PUBLIC') return 'allowed';
        if (id.name === 'anonymous') return route.mount === 'ROOT' && route.path === '/' ? 303 : 401;
        if (id.admin) return 'allowed';
        if (route.path === '/exptrack/stream') return LEVEL[id.grant] >= PERM_LEVEL.READ ? 'allowed' : 403;
        switch (route.perm) {
        case 'USER': case 'SELF': return 'allowed';
        case 'ADMIN': return 403;
        case 'READ': case 'EDIT': case 'MANAGE':
            return LEVEL[id.grant] >= PERM_LEVEL[route.perm] ? 'allowed' : 403;
        default: return `no rule (${route.perm})`;
        }
    }

    test('every route has a rule this test knows', () => {
        assert.ok(ctx.routes.length >= 40, `only ${ctx.routes.length} routes`);
        for (const r of ctx.routes) {
            assert.ok(['PUBLIC', 'USER', 'READ', 'EDIT', 'MANAGE', 'SELF', 'ADMIN'].includes(r.perm),
                `${r.method} ${r.path} has no permission rule (${r.perm}): add one in server/routes.c`);
            if (['READ', 'EDIT', 'MANAGE'].includes(r.perm)) {
                assert.notEqual(r.target, 'NONE', `${r.method} ${r.path}: an experiment or model permission needs a target`);
            }
            assert.equal(typeof requestFor(r, IDENTITIES[5]), 'object', `${r.method} ${r.path}: ${requestFor(r, IDENTITIES[5])}`);
        }
    });

    for (const id of IDENTITIES) {
        test(`${id.name}: every route answers as its rule says`, { timeout: 120000 }, async () => {
            const failures = [];
            let successes = 0;
            // destructive calls last, so reads see the experiment alive
            const order = [...ctx.routes].sort((a, b) => (a.perm === 'MANAGE') - (b.perm === 'MANAGE'));
            for (const route of order) {
                const req = requestFor(route, id);
                const want = expected(route, id);
                const r = route.mount === 'ROOT' && route.path === '/'
                    ? { ...(await rawGet(stack.base, '/', { ...headersOf(id), host: new URL(stack.base).host })), headers: new Headers() }
                    : req.sse ? await sseStatus(stack.base, req.url, req.query, headersOf(id))
                    : await call(stack.base, req.method, req.url, { query: req.query, body: req.body, raw: req.raw, headers: { ...headersOf(id), ...req.headers } });
                const got = [303, 401, 403].includes(r.status) ? r.status : 'allowed';
                if (r.status === 200) successes += 1;
                if (got !== want) failures.push(`${route.method} ${req.url} [${route.perm}/${route.target}]: want ${want}, got HTTP ${r.status} ${r.text.slice(0, 160)}`);
                if (got === 401) {
                    assert.equal(r.headers.get('www-authenticate'), 'Basic realm="exptrack"');
                    assert.equal(r.json?.error_code, 'UNAUTHENTICATED');
                }
                if (got === 403) assert.equal(r.json?.error_code, 'PERMISSION_DENIED', r.text);
            }
            assert.deepEqual(failures, []);
            // the requests are real ones: most succeed for the admin
            if (id.admin) assert.ok(successes >= ctx.routes.length * 0.7, `admin: only ${successes} of ${ctx.routes.length} routes answered 200`);
        });
    }
});

describe('filtering and grants', () => {
    test('search results hold only readable experiments and runs; the creator gets MANAGE', async () => {
        const b = stack.base;
        const owner = uniqueName('owner'), other = uniqueName('other');
        for (const u of [owner, other]) {
            assertOk(await api(b, 'POST', '/api/2.0/mlflow/users/create', { username: u, password: password(u) }, { headers: ADMIN }));
        }
        const O = basic(owner, password(owner)), X = basic(other, password(other));
        const exp = assertOk(await api(b, 'POST', '/api/2.0/mlflow/experiments/create', { name: uniqueName('private') }, { headers: O })).experiment_id;
        const u = assertOk(await api(b, 'GET', '/api/2.0/mlflow/users/get', { username: owner }, { headers: O })).user;
        assert.deepEqual(u.experiment_permissions.find((p) => p.experiment_id === exp)?.permission, 'MANAGE');
        assertOk(await api(b, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp, start_time: Date.now() }, { headers: O }));
        // the owner hides it from `other`
        assertOk(await api(b, 'POST', '/api/2.0/mlflow/experiments/permissions/create',
            { experiment_id: exp, username: other, permission: 'NO_PERMISSIONS' }, { headers: O }));
        const seen = assertOk(await api(b, 'POST', '/api/2.0/mlflow/experiments/search', { max_results: 1000 }, { headers: X }));
        assert.ok(!(seen.experiments || []).some((e) => e.experiment_id === exp), 'unreadable experiment listed');
        const runs = assertOk(await api(b, 'POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [exp] }, { headers: X }));
        assert.deepEqual(runs.runs || [], []);
        const mine = assertOk(await api(b, 'POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [exp] }, { headers: O }));
        assert.equal(mine.runs.length, 1);
        assertError(await api(b, 'GET', '/api/2.0/mlflow/experiments/get', { experiment_id: exp }, { headers: X }), 403, 'PERMISSION_DENIED');
        // the audit log saw the grant
        const audit = assertOk(await api(b, 'GET', '/api/2.0/exptrack/audit', {}, { headers: ADMIN }));
        assert.ok(audit.entries.some((e) => e.username === owner && e.action.endsWith('/experiments/permissions/create')));
        assert.ok(!JSON.stringify(audit).includes(password(owner)), 'no passwords in the audit log');
    });

    test('run writes that share the group commit are still in the audit log', async () => {
        const b = stack.base;
        const owner = uniqueName('auditor');
        assertOk(await api(b, 'POST', '/api/2.0/mlflow/users/create', { username: owner, password: password(owner) }, { headers: ADMIN }));
        const O = basic(owner, password(owner));
        const exp = assertOk(await api(b, 'POST', '/api/2.0/mlflow/experiments/create', { name: uniqueName('audited') }, { headers: O })).experiment_id;
        const grouped = async () => {
            const text = await (await fetch(`${b}/metrics`, { headers: ADMIN })).text();
            const m = text.match(/^exptrack_group_commit_batch_size_sum (\d+)$/m);
            assert.ok(m, 'exptrack_group_commit_batch_size_sum in /metrics');
            return Number(m[1]);
        };
        const before = await grouped();
        const run = assertOk(await api(b, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp }, { headers: O })).run.info.run_id;
        assertOk(await api(b, 'POST', '/api/2.0/mlflow/runs/set-tag', { run_id: run, key: 'k', value: 'v' }, { headers: O }));
        assertOk(await api(b, 'POST', '/api/2.0/mlflow/runs/update', { run_id: run, status: 'FINISHED' }, { headers: O }));
        // audited writes are not taken out of the group commit: their audit
        // rows are written once the deferred reply is final
        assert.ok((await grouped()) >= before + 3, 'create, set-tag and update went through the group commit');
        const audit = assertOk(await api(b, 'GET', '/api/2.0/exptrack/audit', {}, { headers: ADMIN }));
        for (const path of ['/runs/create', '/runs/set-tag', '/runs/update']) {
            assert.ok(audit.entries.some((e) => e.username === owner && e.action.endsWith(path)), `audited ${path}`);
        }
    });
});

describe('dashboard sessions', () => {
    const login = (body, headers = {}) => api(stack.base, 'POST', '/api/2.0/exptrack/session/login', body, { headers });
    const cookiesOf = (r) => r.headers.getSetCookie().map((c) => c.split(';')[0]);

    test('GET / without credentials redirects to the sign-in page, which has a strict CSP', async () => {
        const r = await rawGet(stack.base, '/', { host: new URL(stack.base).host });
        assert.equal(r.status, 303);
        const page = await api(stack.base, 'GET', '/signin');
        assert.equal(page.status, 200);
        const csp = page.headers.get('content-security-policy');
        assert.match(csp, /script-src 'self'/);
        assert.doesNotMatch(csp, /unsafe-inline/);
        assert.match(csp, /frame-ancestors 'none'/);
        assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
        assert.doesNotMatch(page.text, /<script>/, 'no inline script');
    });

    test('login sets an HttpOnly SameSite=Strict signed cookie; state changes need the CSRF token', async () => {
        assertError(await login({ username: 'admin', password: 'wrong-password-x' }), 401, 'UNAUTHENTICATED');
        const r = assertOk(await login({ username: 'admin', password: ADMIN_PASSWORD }));
        assert.equal(r.username, 'admin');
        const raw = (await login({ username: 'admin', password: ADMIN_PASSWORD })).headers.getSetCookie();
        const session = raw.find((c) => c.startsWith('exptrack_session='));
        assert.match(session, /HttpOnly/);
        assert.match(session, /SameSite=Strict/);
        const cookies = cookiesOf(await login({ username: 'admin', password: ADMIN_PASSWORD }));
        const cookie = cookies.join('; ');
        const csrf = cookies.find((c) => c.startsWith('exptrack_csrf=')).split('=')[1];
        // reads work with the cookie alone; no Basic dialog for the dashboard
        assertOk(await api(stack.base, 'GET', '/api/2.0/mlflow/experiments/get', { experiment_id: '0' }, { headers: { cookie } }));
        // a state change without the token is refused, with it accepted
        assertError(await api(stack.base, 'POST', '/api/2.0/mlflow/experiments/create', { name: uniqueName('s') }, { headers: { cookie } }), 403, 'PERMISSION_DENIED', 'CSRF');
        assertError(await api(stack.base, 'POST', '/api/2.0/mlflow/experiments/create', { name: uniqueName('s') }, { headers: { cookie, 'x-csrf-token': '0'.repeat(64) } }), 403, 'PERMISSION_DENIED');
        assertOk(await api(stack.base, 'POST', '/api/2.0/mlflow/experiments/create', { name: uniqueName('s') }, { headers: { cookie, 'x-csrf-token': csrf } }));
        // a forged or altered cookie is not a session
        const forged = cookie.replace(/exptrack_session=(\d+)\./, 'exptrack_session=2.');
        const bad = await api(stack.base, 'GET', '/api/2.0/mlflow/experiments/get', { experiment_id: '0' }, { headers: { cookie: forged, 'x-requested-with': 'exptrack' } });
        assertError(bad, 401, 'UNAUTHENTICATED');
        assert.equal(bad.headers.get('www-authenticate'), null, 'the dashboard gets no Basic dialog');
        assertError(await api(stack.base, 'GET', '/api/2.0/mlflow/experiments/get', { experiment_id: '0' },
            { headers: { cookie: 'exptrack_session=1.99999999999.' + '0'.repeat(64) } }), 401, 'UNAUTHENTICATED');
    });

    test('users/current names the sender, however it signed in; anonymous is 401; stray input is ignored', async () => {
        const user = uniqueName('who');
        assertOk(await api(stack.base, 'POST', '/api/2.0/mlflow/users/create', { username: user, password: password(user) }, { headers: ADMIN }));
        const cur = (headers, query = {}) => api(stack.base, 'GET', '/api/2.0/exptrack/users/current', query, { headers });
        const cookie = cookiesOf(await login({ username: user, password: password(user) })).join('; ');
        const bySession = assertOk(await cur({ cookie }));
        assert.deepEqual(bySession, { authentication: true, user: { username: user, is_admin: false } });
        assert.equal((await cur({ cookie })).headers.get('cache-control'), 'no-store');
        assert.deepEqual(assertOk(await cur(basic(user, password(user)))).user, { username: user, is_admin: false });
        assert.deepEqual(assertOk(await cur(ADMIN)).user, { username: 'admin', is_admin: true });
        const t = assertOk(await api(stack.base, 'POST', '/api/2.0/exptrack/tokens/create', { name: 'who' }, { headers: basic(user, password(user)) }));
        assert.equal(assertOk(await cur(bearer(t.token))).user.username, user);
        // the query cannot make it name someone else
        assert.equal(assertOk(await cur(basic(user, password(user)), { username: 'admin', user: 'admin' })).user.username, user);
        assert.equal(assertOk(await api(stack.base, 'GET', '/ajax-api/2.0/exptrack/users/current', {}, { headers: { cookie } })).user.username, user);
        assertError(await cur({}), 401, 'UNAUTHENTICATED');
        assertError(await cur(basic(user, 'wrong-password-1')), 401, 'UNAUTHENTICATED');
        assertError(await cur({ cookie: 'exptrack_session=1.99999999999.' + '0'.repeat(64) }), 401, 'UNAUTHENTICATED');
    });

    test('changing the password ends the sessions made with the old one', async () => {
        const user = uniqueName('sess');
        assertOk(await api(stack.base, 'POST', '/api/2.0/mlflow/users/create', { username: user, password: password(user) }, { headers: ADMIN }));
        const cookie = cookiesOf(await login({ username: user, password: password(user) })).join('; ');
        assertOk(await api(stack.base, 'GET', '/api/2.0/mlflow/users/get', { username: user }, { headers: { cookie } }));
        assertOk(await api(stack.base, 'PATCH', '/api/2.0/mlflow/users/update-password', { username: user, password: 'another-password-1' }, { headers: ADMIN }));
        assertError(await api(stack.base, 'GET', '/api/2.0/mlflow/users/get', { username: user }, { headers: { cookie } }), 401, 'UNAUTHENTICATED');
    });
});

describe('TLS (--tls-cert/--tls-key)', () => {
    test('serves HTTPS with the given certificate; session cookies are Secure', { timeout: 60000 }, async (t) => {
        const { spawn, spawnSync } = await import('node:child_process');
        const https = await import('node:https');
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exptrack-tls-'));
        t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
        const key = path.join(dir, 'key.pem'), cert = path.join(dir, 'cert.pem');
        const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
            '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { encoding: 'utf8' });
        if (gen.status !== 0) { t.skip(`openssl cannot make a certificate: ${gen.stderr}`); return; }
        const bin = process.env.EXPTRACKD;
        const proc = spawn(bin, ['--host', '127.0.0.1', '--port', '0', '--database-url', stack.pg.url, '--auth',
            '--admin-password-file', pwFile, '--tls-cert', cert, '--tls-key', key], { stdio: ['ignore', 'ignore', 'pipe'] });
        t.after(() => proc.kill('SIGKILL'));
        let err = '';
        const url = await new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no listening line: ${err}`)), 30000);
            proc.stderr.on('data', (c) => {
                err += c;
                const m = err.match(/listening on (https:\/\/[^\s/]+:\d+)/);
                if (m) { clearTimeout(timer); resolve(m[1]); }
            });
            proc.on('exit', () => reject(new Error(`exptrackd exited: ${err}`)));
        });
        const ca = fs.readFileSync(cert);
        const req = (p, method = 'GET', body, headers = {}) => new Promise((resolve, reject) => {
            const u = new URL(url + p);
            const r = https.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, ca,
                servername: 'localhost', headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) } }, (res) => {
                let text = '';
                res.on('data', (c) => { text += c; });
                res.on('end', () => resolve({ status: res.statusCode, text, headers: res.headers }));
            });
            r.on('error', reject);
            if (body) r.write(body);
            r.end();
        });
        assert.equal((await req('/health')).status, 200);
        assert.equal((await req('/api/2.0/mlflow/experiments/get?experiment_id=0')).status, 401);
        assert.equal((await req('/api/2.0/mlflow/experiments/get?experiment_id=0', 'GET', undefined, ADMIN)).status, 200);
        const login = await req('/api/2.0/exptrack/session/login', 'POST', JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }));
        assert.equal(login.status, 200);
        for (const c of login.headers['set-cookie']) assert.match(c, /; Secure/);
        // plain HTTP to the TLS port gets nothing useful
        await assert.rejects(api(url.replace('https:', 'http:'), 'GET', '/health', undefined, { timeoutMs: 3000 }));
    });
});
