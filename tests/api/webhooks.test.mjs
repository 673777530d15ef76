// Registry webhooks (mlflow-models-api.md section 5): the six endpoints on
// both mounts, every validation rule, admin-only with --auth, and delivery to
// a real HTTP receiver on loopback: exact payloads of every event and prompt
// variant, the HMAC signature (checked here with node:crypto), retries with
// Retry-After, no event for a rolled-back change, and delivery after a
// restart of exptrackd with events queued.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { useStack, startServer, api, assertOk, assertError, uniqueName, waitUntil, sleep, PREFIXES } from './harness.mjs';

const LOOPBACK_ARGS = ['--webhook-allowed-schemes', 'http,https', '--webhook-allow-private-ips', '--webhook-max-retries', '8', '--webhook-timeout', '5'];
const stack = useStack({ before, after }, { server: { args: LOOPBACK_ARGS } });
const W = '/api/2.0/mlflow/webhooks';
const RM = '/api/2.0/mlflow/registered-models';
const MV = '/api/2.0/mlflow/model-versions';
const sql = (q) => stack.pg.psql(q).trim();

// A receiver on loopback: records every POST; `plan` holds the answers to
// give next ({status, headers}), then 200.
function startReceiver(port = 0) {
    const rec = { got: [], plan: [], server: null, port: 0 };
    rec.server = http.createServer((req, res) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            rec.got.push({ at: Date.now(), method: req.method, url: req.url, headers: req.headers, body, json: JSON.parse(body) });
            const answer = rec.plan.shift() || { status: 200 };
            res.writeHead(answer.status, { 'content-type': 'text/plain', ...(answer.headers || {}) });
            res.end(answer.body ?? 'ok');
        });
    });
    return new Promise((resolve) => rec.server.listen(port, '127.0.0.1', () => {
        rec.port = rec.server.address().port;
        rec.url = `http://127.0.0.1:${rec.port}/hook`;
        rec.close = () => new Promise((r) => { rec.server.closeAllConnections(); rec.server.close(() => r()); });
        resolve(rec);
    }));
}

const expectedSignature = (secret, h, body) =>
    `v1,${crypto.createHmac('sha256', secret).update(`${h['x-mlflow-delivery-id']}.${h['x-mlflow-timestamp']}.${body}`).digest('base64')}`;

const ALL_EVENTS = [
    ['REGISTERED_MODEL', 'CREATED'], ['MODEL_VERSION', 'CREATED'], ['MODEL_VERSION_TAG', 'SET'],
    ['MODEL_VERSION_TAG', 'DELETED'], ['MODEL_VERSION_ALIAS', 'CREATED'], ['MODEL_VERSION_ALIAS', 'DELETED'],
    ['PROMPT', 'CREATED'], ['PROMPT_VERSION', 'CREATED'], ['PROMPT_TAG', 'SET'], ['PROMPT_TAG', 'DELETED'],
    ['PROMPT_VERSION_TAG', 'SET'], ['PROMPT_VERSION_TAG', 'DELETED'], ['PROMPT_ALIAS', 'CREATED'], ['PROMPT_ALIAS', 'DELETED'],
].map(([entity, action]) => ({ entity, action }));

async function createHook(body) {
    return assertOk(await api(stack.base, 'POST', W, { name: uniqueName('hook'), events: ALL_EVENTS, ...body })).webhook;
}

// Deliveries of `rec` whose data names `model`, in arrival order.
const forModel = (rec, model) => rec.got.filter((g) => g.json.data && g.json.data.name === model);
// Several delivery threads may send events of one model in any order: compare sorted.
const canon = (x) => JSON.stringify(x, (k, v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort()) : v));
const sorted = (xs) => [...xs].sort((a, b) => (canon(a) < canon(b) ? -1 : 1));

// Deletes every webhook (those of a describe must not receive the next one's events).
async function deleteAllHooks() {
    for (const w of assertOk(await api(stack.base, 'GET', W, { max_results: 1000 })).webhooks) {
        assertOk(await api(stack.base, 'DELETE', `${W}/${w.webhook_id}`));
    }
}

describe('webhook CRUD', () => {
    after(deleteAllHooks);
    test('create, get, list, update, delete on both mounts; the secret is never returned', async () => {
        for (const prefix of PREFIXES) {
            const b = stack.base, P = `${prefix}/webhooks`;
            const name = uniqueName('crud');
            const c = assertOk(await api(b, 'POST', P, {
                name, url: 'https://93.184.216.34/x', description: 'kick CI', secret: 's3cr3t',
                events: [{ entity: 'MODEL_VERSION', action: 'CREATED' }, { entity: 'MODEL_VERSION_ALIAS', action: 'CREATED' }],
            })).webhook;
            assert.match(c.webhook_id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
            assert.equal(c.name, name);
            assert.equal(c.description, 'kick CI');
            assert.equal(c.status, 'ACTIVE');
            assert.deepEqual(c.events, [{ entity: 'MODEL_VERSION', action: 'CREATED' }, { entity: 'MODEL_VERSION_ALIAS', action: 'CREATED' }]);
            assert.equal(typeof c.creation_timestamp, 'number');
            assert.equal(c.creation_timestamp, c.last_updated_timestamp);
            assert.ok(!('secret' in c));
            const g = assertOk(await api(b, 'GET', `${P}/${c.webhook_id}`)).webhook;
            assert.deepEqual(g, c);
            const listed = assertOk(await api(b, 'GET', P, { max_results: 1000 })).webhooks;
            assert.ok(listed.some((w) => w.webhook_id === c.webhook_id));
            assert.ok(listed.every((w) => !('secret' in w)));
            assert.ok(!JSON.stringify(listed).includes('s3cr3t'));

            await sleep(5);
            const u = assertOk(await api(b, 'PATCH', `${P}/${c.webhook_id}`, {
                description: '', status: 'DISABLED', events: [{ entity: 'PROMPT', action: 'CREATED' }], secret: 'new-secret',
            })).webhook;
            assert.equal(u.description, 'kick CI', 'an empty string does not clear the description');
            assert.equal(u.status, 'DISABLED');
            assert.deepEqual(u.events, [{ entity: 'PROMPT', action: 'CREATED' }]);
            assert.ok(u.last_updated_timestamp > c.last_updated_timestamp);
            assert.ok(!('secret' in u));
            assert.equal(sql(`SELECT secret FROM webhooks WHERE id = '${c.webhook_id}'`), 'new-secret');

            assert.deepEqual(assertOk(await api(b, 'DELETE', `${P}/${c.webhook_id}`)), {});
            for (const [m, p] of [['GET', ''], ['PATCH', ''], ['DELETE', ''], ['POST', '/test']]) {
                assertError(await api(b, m, `${P}/${c.webhook_id}${p}`, m === 'GET' ? undefined : { name: 'x' }), 404,
                    'RESOURCE_DOES_NOT_EXIST', [`Webhook with ID ${c.webhook_id} not found.`], `${m} after delete`);
            }
            assert.ok(!assertOk(await api(b, 'GET', P, { max_results: 1000 })).webhooks.some((w) => w.webhook_id === c.webhook_id));
            assert.notEqual(sql(`SELECT deleted_time FROM webhooks WHERE id = '${c.webhook_id}'`), '', 'soft delete');
        }
    });

    test('list: newest first, offset page tokens only when more exist', async () => {
        const made = [];
        for (let i = 0; i < 3; i++) { made.push(await createHook({ url: 'https://93.184.216.34/' })); await sleep(3); }
        const all = assertOk(await api(stack.base, 'GET', W, { max_results: 1000 })).webhooks;
        const order = all.map((w) => w.webhook_id).filter((id) => made.some((m) => m.webhook_id === id));
        assert.deepEqual(order, made.map((m) => m.webhook_id).reverse());
        const times = all.map((w) => w.creation_timestamp);
        assert.deepEqual(times, [...times].sort((a, b) => b - a));
        const p1 = assertOk(await api(stack.base, 'GET', W, { max_results: 2 }));
        assert.equal(p1.webhooks.length, 2);
        assert.ok(p1.next_page_token);
        const seen = [...p1.webhooks];
        let token = p1.next_page_token;
        while (token) {
            const p = assertOk(await api(stack.base, 'GET', W, { max_results: 2, page_token: token }));
            seen.push(...p.webhooks);
            token = p.next_page_token;
        }
        assert.deepEqual(seen.map((w) => w.webhook_id), all.map((w) => w.webhook_id));
        const whole = assertOk(await api(stack.base, 'GET', W, { max_results: all.length }));
        assert.equal(whole.next_page_token, undefined);
        for (const m of made) assertOk(await api(stack.base, 'DELETE', `${W}/${m.webhook_id}`));
    });

    test('every validation rule answers 400 naming the rule', async () => {
        const b = stack.base;
        const ok = { name: 'ok-name', url: 'https://93.184.216.34/', events: [{ entity: 'MODEL_VERSION', action: 'CREATED' }] };
        const bad = async (body, mentions) => assertError(await api(b, 'POST', W, { ...ok, ...body }), 400, 'INVALID_PARAMETER_VALUE', mentions, JSON.stringify(body).slice(0, 80));
        await bad({ name: undefined }, ['name']);
        await bad({ name: '' }, ['name']);
        for (const name of ['-a', 'a-', '.a', 'a b', 'a/b', 'x'.repeat(64), 'é']) await bad({ name }, ['Invalid webhook name']);
        assertOk(await api(b, 'POST', W, { ...ok, name: 'a' }));
        assertOk(await api(b, 'POST', W, { ...ok, name: `A${'x'.repeat(61)}9` }));
        await bad({ name: 5 }, ['name']);
        await bad({ url: undefined }, ['url']);
        await bad({ url: '   ' }, ['URL']);
        await bad({ url: 'not a url' }, ['URL']);
        await bad({ url: 'ftp://93.184.216.34/' }, ["scheme 'ftp'"]);
        await bad({ url: `https://93.184.216.34/${'x'.repeat(5000)}` }, ['url']);
        await bad({ events: undefined }, ['events']);
        await bad({ events: [] }, ['events']);
        await bad({ events: 'MODEL_VERSION' }, ['events']);
        await bad({ events: [1] }, ['events[0]']);
        await bad({ events: [{ entity: 'MODEL_VERSION', action: 'UPDATED' }] }, ["Invalid action 'updated' for entity 'model_version'. Valid actions are: ['created']"]);
        await bad({ events: [{ entity: 'REGISTERED_MODEL', action: 'DELETED' }] }, ["Invalid action 'deleted' for entity 'registered_model'"]);
        await bad({ events: [{ entity: 'NOPE', action: 'CREATED' }] }, ['entity']);
        await bad({ events: [{ entity: 'MODEL_VERSION' }] }, ['action']);
        await bad({ events: [{ action: 'CREATED' }] }, ['entity']);
        await bad({ status: 'PAUSED' }, ['status']);
        await bad({ description: 'd'.repeat(5001) }, ['description']);
        await bad({ secret: 's'.repeat(1025) }, ['secret']);
        await bad({ secret: 7 }, ['secret']);
        // NUL and a lone surrogate never reach the database
        for (const raw of ['{"name":"a\\u0000b","url":"https://93.184.216.34/","events":[{"entity":"MODEL_VERSION","action":"CREATED"}]}',
            '{"name":"ok","url":"https://93.184.216.34/\\ud800","events":[{"entity":"MODEL_VERSION","action":"CREATED"}]}']) {
            const r = await api(b, 'POST', W, undefined, { raw });
            assert.equal(r.status, 400, raw);
            assert.equal(r.json.error_code, 'INVALID_PARAMETER_VALUE');
        }
        for (const max_results of [0, 1001, -1, 'abc', '99999999999999999999']) {
            const r = await api(b, 'GET', W, { max_results });
            assert.equal(r.status, 400, String(max_results));
        }
        assertError(await api(b, 'GET', W, { max_results: 0 }), 400, 'INVALID_PARAMETER_VALUE', ['max_results must be between 1 and 1000.']);
        assertError(await api(b, 'GET', W, { page_token: 'garbage' }), 400, 'INVALID_PARAMETER_VALUE', ['page token']);
        assertError(await api(b, 'GET', `${W}/not-a-uuid`), 404, 'RESOURCE_DOES_NOT_EXIST', ['Webhook with ID not-a-uuid not found.']);
        assertError(await api(b, 'GET', `${W}/${crypto.randomUUID()}`), 404, 'RESOURCE_DOES_NOT_EXIST');
        assertError(await api(b, 'GET', `${W}/${crypto.randomUUID()}/extra`), 404, 'ENDPOINT_NOT_FOUND');
        // update validates what it changes
        const h = await createHook({ url: 'https://93.184.216.34/' });
        for (const [body, m] of [[{ name: 'bad name' }, 'Invalid webhook name'], [{ url: 'gopher://x/' }, 'URL'],
            [{ events: [{ entity: 'PROMPT', action: 'SET' }] }, "Invalid action 'set' for entity 'prompt'"], [{ status: 3 }, 'status']]) {
            assertError(await api(b, 'PATCH', `${W}/${h.webhook_id}`, body), 400, 'INVALID_PARAMETER_VALUE', [m]);
        }
        assert.deepEqual(assertOk(await api(b, 'GET', `${W}/${h.webhook_id}`)).webhook, h, 'a refused update changes nothing');
        assertError(await api(b, 'POST', `${W}/${h.webhook_id}/test`, { event: { entity: 'MODEL_VERSION', action: 'SET' } }), 400, 'INVALID_PARAMETER_VALUE', ['Invalid action']);
    });

    test('defaults: https only, and hosts must resolve to public addresses', async () => {
        const srv = await startServer({ databaseUrl: stack.pg.url });
        try {
            const ev = [{ entity: 'MODEL_VERSION', action: 'CREATED' }];
            const post = (url) => api(srv.url, 'POST', W, { name: 'd', url, events: ev });
            assertError(await post('http://93.184.216.34/'), 400, 'INVALID_PARAMETER_VALUE', ["scheme 'http'", 'https']);
            for (const url of ['https://127.0.0.1/', 'https://localhost:8443/', 'https://10.1.2.3/', 'https://192.168.0.1/',
                'https://169.254.169.254/latest/meta-data', 'https://[::1]/', 'https://[fd00::1]/', 'https://[::ffff:127.0.0.1]/', 'https://100.64.0.1/']) {
                assertError(await post(url), 400, 'INVALID_PARAMETER_VALUE', ['must not resolve to a non-public IP address'], url);
            }
            assertOk(await post('https://93.184.216.34/hook'));
            // the test endpoint re-checks: a loopback URL stored while allowed is refused here
            const loop = await createHook({ url: 'https://127.0.0.1:9/x' });
            const t = assertOk(await api(srv.url, 'POST', `${W}/${loop.webhook_id}/test`, {})).result;
            assert.equal(t.success, false);
            assert.match(t.error_message, /^Failed to test webhook: .*non-public/);
        } finally {
            await srv.stop();
        }
    });
});

describe('delivery', () => {
    let rec, hook;
    const SECRET = 'webhook-secret-\u00e9';
    before(async () => {
        rec = await startReceiver();
        hook = await createHook({ url: rec.url, secret: SECRET });
    });
    after(async () => {
        await api(stack.base, 'DELETE', `${W}/${hook.webhook_id}`);
        await rec.close();
    });

    async function deliveries(model, n, ms = 10000) {
        await waitUntil(() => forModel(rec, model).length >= n, ms, `${n} deliveries for ${model}`);
        await sleep(300); // and no more
        return forModel(rec, model);
    }

    test('every model event arrives once, signed, with its exact payload', async () => {
        const b = stack.base, name = uniqueName('model');
        assertOk(await api(b, 'POST', `${RM}/create`, { name, description: '', tags: [{ key: 'team', value: 'ml' }] }));
        assertOk(await api(b, 'POST', `${MV}/create`, { name, source: 's3://bucket/m', tags: [{ key: 'k', value: 'v' }] }));
        assertOk(await api(b, 'POST', `${MV}/create`, { name, source: 's3://bucket/m2', run_id: 'abc', description: 'second' }));
        assertOk(await api(b, 'POST', `${MV}/set-tag`, { name, version: '1', key: 'q', value: 'good' }));
        assertOk(await api(b, 'DELETE', `${MV}/delete-tag`, { name, version: '1', key: 'q' }));
        assertOk(await api(b, 'POST', `${RM}/alias`, { name, alias: 'champion', version: '2' }));
        assertOk(await api(b, 'DELETE', `${RM}/alias`, { name, alias: 'champion' }));
        // no events for these (5.3)
        assertOk(await api(b, 'POST', `${RM}/set-tag`, { name, key: 'x', value: 'y' }));
        assertOk(await api(b, 'PATCH', `${RM}/update`, { name, description: 'd' }));
        assertOk(await api(b, 'POST', `${MV}/transition-stage`, { name, version: '1', stage: 'Production' }));
        const got = await deliveries(name, 7);
        assert.equal(got.length, 7);
        assert.deepEqual(sorted(got.map((g) => `${g.json.entity}.${g.json.action}`)), sorted([
            'registered_model.created', 'model_version.created', 'model_version.created', 'model_version_tag.set',
            'model_version_tag.deleted', 'model_version_alias.created', 'model_version_alias.deleted']));
        assert.deepEqual(sorted(got.map((g) => g.json.data)), sorted([
            { name, tags: { team: 'ml' }, description: '' },
            { name, version: '1', source: 's3://bucket/m', run_id: null, tags: { k: 'v' }, description: null },
            { name, version: '2', source: 's3://bucket/m2', run_id: 'abc', tags: {}, description: 'second' },
            { name, version: '1', key: 'q', value: 'good' },
            { name, version: '1', key: 'q' },
            { name, alias: 'champion', version: '2' },
            { name, alias: 'champion' },
        ]));
        const ids = new Set();
        for (const g of got) {
            assert.equal(g.method, 'POST');
            assert.equal(g.url, '/hook');
            assert.match(g.headers['content-type'], /^application\/json/);
            assert.deepEqual(Object.keys(g.json).sort(), ['action', 'data', 'entity', 'timestamp']);
            assert.match(g.json.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
            assert.ok(Math.abs(Date.parse(g.json.timestamp) - g.at) < 60000);
            assert.match(g.headers['x-mlflow-delivery-id'], /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
            assert.match(g.headers['x-mlflow-timestamp'], /^\d{10}$/);
            assert.ok(Math.abs(Number(g.headers['x-mlflow-timestamp']) * 1000 - g.at) < 60000);
            assert.equal(g.headers['x-mlflow-signature'], expectedSignature(SECRET, g.headers, g.body));
            ids.add(g.headers['x-mlflow-delivery-id']);
        }
        assert.equal(ids.size, got.length, 'a fresh delivery id each');
        // a wrong secret would not verify
        assert.notEqual(got[0].headers['x-mlflow-signature'], expectedSignature('other', got[0].headers, got[0].body));
        assert.equal(sql(`SELECT count(*) FROM webhook_outbox WHERE webhook_id = '${hook.webhook_id}' AND payload->>'name' = '${name}' AND state = 'delivered'`), '7');
    });

    test('prompt variants: prompt.*, filtered tags and the template', async () => {
        const b = stack.base, name = uniqueName('prompt');
        assertOk(await api(b, 'POST', `${RM}/create`, {
            name, description: 'commit 1',
            tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }, { key: '_mlflow_prompt_type', value: 'text' }, { key: 'owner', value: 'me' }],
        }));
        assertOk(await api(b, 'POST', `${MV}/create`, {
            name, source: 'dummy-source', description: '',
            tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }, { key: 'mlflow.prompt.text', value: 'Hi {{ who }}' },
                { key: '_mlflow_prompt_type', value: 'text' }, { key: 'lang', value: 'en' }],
        }));
        assertOk(await api(b, 'POST', `${RM}/set-tag`, { name, key: 'stage', value: 'beta' }));
        assertOk(await api(b, 'DELETE', `${RM}/delete-tag`, { name, key: 'stage' }));
        assertOk(await api(b, 'POST', `${MV}/set-tag`, { name, version: 1, key: 'reviewed', value: 'yes' }));
        assertOk(await api(b, 'DELETE', `${MV}/delete-tag`, { name, version: 1, key: 'reviewed' }));
        assertOk(await api(b, 'POST', `${RM}/alias`, { name, alias: 'prod', version: '1' }));
        assertOk(await api(b, 'DELETE', `${RM}/alias`, { name, alias: 'prod' }));
        const got = await deliveries(name, 8);
        assert.deepEqual(sorted(got.map((g) => [g.json.entity, g.json.action, g.json.data])), sorted([
            ['prompt', 'created', { name, tags: { owner: 'me' }, description: 'commit 1' }],
            ['prompt_version', 'created', { name, version: '1', template: 'Hi {{ who }}', tags: { lang: 'en' }, description: null }],
            ['prompt_tag', 'set', { name, key: 'stage', value: 'beta' }],
            ['prompt_tag', 'deleted', { name, key: 'stage' }],
            ['prompt_version_tag', 'set', { name, version: '1', key: 'reviewed', value: 'yes' }],
            ['prompt_version_tag', 'deleted', { name, version: '1', key: 'reviewed' }],
            ['prompt_alias', 'created', { name, alias: 'prod', version: '1' }],
            ['prompt_alias', 'deleted', { name, alias: 'prod' }],
        ]));
    });

    test('only subscribed, ACTIVE, live webhooks get events; a new webhook sees the very next event', async () => {
        const b = stack.base;
        const rec2 = await startReceiver();
        try {
            const only = await createHook({ url: rec2.url, events: [{ entity: 'MODEL_VERSION_ALIAS', action: 'CREATED' }] });
            const off = await createHook({ url: rec2.url, status: 'DISABLED' });
            const gone = await createHook({ url: rec2.url });
            assertOk(await api(b, 'DELETE', `${W}/${gone.webhook_id}`));
            const name = uniqueName('sub');
            assertOk(await api(b, 'POST', `${RM}/create`, { name }));
            assertOk(await api(b, 'POST', `${MV}/create`, { name, source: 's3://b/x' }));
            assertOk(await api(b, 'POST', `${RM}/alias`, { name, alias: 'a', version: '1' }));
            await waitUntil(() => forModel(rec2, name).length >= 1, 10000, 'alias event');
            await waitUntil(() => forModel(rec, name).length >= 3, 10000, 'the main hook');
            await sleep(500);
            assert.deepEqual(forModel(rec2, name).map((g) => g.json.entity), ['model_version_alias'], 'one webhook, one event');
            // no secret: no signature header
            assert.equal(forModel(rec2, name)[0].headers['x-mlflow-signature'], undefined);
            for (const h of [only, off]) assertOk(await api(b, 'DELETE', `${W}/${h.webhook_id}`));
        } finally {
            await rec2.close();
        }
    });

    test('retries 503 then delivers, honouring Retry-After', async () => {
        const b = stack.base, name = uniqueName('retry');
        rec.plan.push({ status: 503, headers: { 'retry-after': '2' } }, { status: 500 });
        assertOk(await api(b, 'POST', `${RM}/create`, { name }));
        await waitUntil(() => forModel(rec, name).length >= 3, 20000, 'three attempts');
        const got = forModel(rec, name);
        assert.equal(got.length, 3);
        assert.ok(got[1].at - got[0].at >= 1900, `Retry-After 2 s honoured (${got[1].at - got[0].at} ms)`);
        assert.ok(got[2].at - got[1].at >= 900, `then backoff of at least 1 s (${got[2].at - got[1].at} ms)`);
        assert.equal(got[0].body, got[2].body, 'the same event body each time');
        assert.notEqual(got[0].headers['x-mlflow-delivery-id'], got[2].headers['x-mlflow-delivery-id']);
        await waitUntil(() => sql(`SELECT state || ':' || attempts || ':' || last_status FROM webhook_outbox WHERE webhook_id = '${hook.webhook_id}' AND payload->>'name' = '${name}'`) === 'delivered:3:200', 5000, 'the row records 3 attempts');
    });

    test('a 4xx is final: no retry, the row is kept as failed', async () => {
        const name = uniqueName('fourxx');
        rec.plan.push({ status: 410 });
        assertOk(await api(stack.base, 'POST', `${RM}/create`, { name }));
        await waitUntil(() => sql(`SELECT state FROM webhook_outbox WHERE webhook_id = '${hook.webhook_id}' AND payload->>'name' = '${name}'`) === 'failed', 10000, 'failed');
        await sleep(1500);
        assert.equal(forModel(rec, name).length, 1);
        assert.equal(sql(`SELECT attempts || ':' || last_status || ':' || last_error FROM webhook_outbox WHERE webhook_id = '${hook.webhook_id}' AND payload->>'name' = '${name}'`), '1:410:HTTP 410');
    });

    test('a change that rolls back after its outbox row was written sends nothing', async () => {
        const b = stack.base, name = uniqueName('doomed');
        assertOk(await api(b, 'POST', `${RM}/create`, { name }));
        await deliveries(name, 1);
        // the audit row is written after the outbox rows, in the same transaction: make it fail
        sql(`CREATE FUNCTION doom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
               IF NEW.model = '${name}' THEN RAISE EXCEPTION 'doomed'; END IF; RETURN NEW; END $$;
             CREATE TRIGGER doom BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION doom()`);
        try {
            const r = await api(b, 'POST', `${MV}/create`, { name, source: 's3://b/x' });
            assert.ok(r.status >= 400, `the create failed (${r.status})`);
            const a = await api(b, 'POST', `${RM}/alias`, { name, alias: 'x', version: '1' });
            assert.ok(a.status >= 400);
        } finally {
            sql('DROP TRIGGER doom ON audit_log; DROP FUNCTION doom()');
        }
        await sleep(1500);
        assert.equal(forModel(rec, name).length, 1, 'only the create of the model arrived');
        assert.equal(sql(`SELECT count(*) FROM webhook_outbox WHERE webhook_id = '${hook.webhook_id}' AND payload->>'name' = '${name}'`), '1');
        assertError(await api(b, 'GET', `${MV}/get`, { name, version: '1' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    });

    test('POST /webhooks/{id}/test sends the example payload synchronously, signed, whatever the status', async () => {
        const b = stack.base;
        const off = await createHook({ url: rec.url, secret: SECRET, status: 'DISABLED', events: [{ entity: 'PROMPT_VERSION', action: 'CREATED' }] });
        const before = rec.got.length;
        rec.plan.push({ status: 201, body: 'accepted!' });
        const t = assertOk(await api(b, 'POST', `${W}/${off.webhook_id}/test`, {})).result;
        assert.deepEqual(t, { success: true, response_status: 201, response_body: 'accepted!' });
        assert.equal(rec.got.length, before + 1, 'delivered before the answer');
        const g = rec.got[before];
        assert.equal(g.json.entity, 'prompt_version');
        assert.equal(g.json.action, 'created');
        assert.equal(g.json.data.version, '1');
        assert.equal(typeof g.json.data.template, 'string');
        assert.equal(g.headers['x-mlflow-signature'], expectedSignature(SECRET, g.headers, g.body));
        // a chosen event; a receiver error is success false with its status
        rec.plan.push({ status: 500, body: 'boom' });
        const t2 = assertOk(await api(b, 'POST', `${PREFIXES[1]}/webhooks/${off.webhook_id}/test`, { event: { entity: 'MODEL_VERSION_ALIAS', action: 'DELETED' } })).result;
        assert.deepEqual(t2, { success: false, response_status: 500, response_body: 'boom' });
        assert.deepEqual(rec.got.at(-1).json.data, { name: 'example_model', alias: 'example_alias' });
        // nobody listening: a transport error
        const dead = await createHook({ url: 'http://127.0.0.1:9/none' });
        const t3 = assertOk(await api(b, 'POST', `${W}/${dead.webhook_id}/test`)).result;
        assert.equal(t3.success, false);
        assert.match(t3.error_message, /^Failed to test webhook: /);
        for (const h of [off, dead]) assertOk(await api(b, 'DELETE', `${W}/${h.webhook_id}`));
    });

    test('/metrics counts queued, delivered and failed deliveries', async () => {
        const m = (await api(stack.base, 'GET', '/metrics')).text;
        const val = (n) => Number((m.match(new RegExp(`^${n} (\\d+)$`, 'm')) || [])[1]);
        assert.ok(val('exptrack_webhook_events_queued_total') >= 15);
        assert.ok(val('exptrack_webhook_deliveries_total') >= 15);
        assert.ok(val('exptrack_webhook_retries_total') >= 2);
        assert.ok(val('exptrack_webhook_failures_total') >= 1);
    });
});

describe('durability', () => {
    test('events queued while the receiver is down survive a kill -9 and arrive after the restart', async () => {
        // a port that refuses connections now and is served later
        const probe = await startReceiver();
        const port = probe.port;
        await probe.close();
        const hook = await createHook({ url: `http://127.0.0.1:${port}/hook` });
        const b = stack.base, name = uniqueName('restart');
        assertOk(await api(b, 'POST', `${RM}/create`, { name }));
        assertOk(await api(b, 'POST', `${MV}/create`, { name, source: 's3://b/x' }));
        assertOk(await api(b, 'POST', `${RM}/alias`, { name, alias: 'live', version: '1' }));
        await waitUntil(() => Number(sql(`SELECT count(*) FROM webhook_outbox WHERE webhook_id = '${hook.webhook_id}' AND payload->>'name' = '${name}' AND attempts >= 1`)) === 3, 10000, 'first attempts failed');
        await stack.srv.kill9();
        const rec = await startReceiver(port);
        try {
            stack.srv = await startServer({ databaseUrl: stack.pg.url, args: LOOPBACK_ARGS });
            stack.base = stack.srv.url;
            await waitUntil(() => forModel(rec, name).length >= 3, 30000, 'all three after the restart');
            await sleep(1500);
            assert.deepEqual(forModel(rec, name).map((g) => `${g.json.entity}.${g.json.action}`).sort(),
                ['model_version.created', 'model_version_alias.created', 'registered_model.created'], 'each exactly once');
            assert.equal(sql(`SELECT string_agg(state, ',') FROM webhook_outbox WHERE webhook_id = '${hook.webhook_id}' AND payload->>'name' = '${name}'`), 'delivered,delivered,delivered');
        } finally {
            await api(stack.base, 'DELETE', `${W}/${hook.webhook_id}`);
            await rec.close();
        }
    });
});

describe('shutdown', () => {
    test('a delivery in flight does not hold up SIGTERM; its row is scheduled again', async () => {
        // a receiver that never answers, and a server that would wait 120 s for it
        const held = [];
        const hang = http.createServer((req) => { held.push(req); });
        await new Promise((r) => hang.listen(0, '127.0.0.1', r));
        const srv = await startServer({ databaseUrl: stack.pg.url, args: [...LOOPBACK_ARGS, '--webhook-timeout', '120'] });
        const name = uniqueName('inflight');
        let hookId;
        try {
            hookId = assertOk(await api(srv.url, 'POST', W, { name: 'hang', url: `http://127.0.0.1:${hang.address().port}/`, events: ALL_EVENTS.slice(0, 1) })).webhook.webhook_id;
            assertOk(await api(srv.url, 'POST', `${RM}/create`, { name }));
            await waitUntil(() => held.length >= 1, 10000, 'the receiver got the request');
            const t0 = Date.now();
            await srv.stop();
            assert.ok(Date.now() - t0 < 8000, `stopped in ${Date.now() - t0} ms`);
            assert.equal(sql(`SELECT state || ':' || attempts FROM webhook_outbox WHERE webhook_id = '${hookId}'`), 'pending:1');
        } finally {
            if (hookId) {
                assertOk(await api(stack.base, 'DELETE', `${W}/${hookId}`));
                assert.equal(sql(`SELECT state || ':' || last_error FROM webhook_outbox WHERE webhook_id = '${hookId}'`), 'failed:webhook deleted', 'a deleted webhook\'s pending deliveries are given up');
            }
            hang.closeAllConnections();
            hang.close();
        }
    });
});

describe('secrets at rest (--webhook-secret-key-file)', () => {
    test('sealed in the database, signing with the plain secret; unusable under another key', async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exptrack-hookkey-'));
        const keyFile = path.join(dir, 'key'), otherKey = path.join(dir, 'other');
        fs.writeFileSync(keyFile, `${crypto.randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
        fs.writeFileSync(otherKey, `${crypto.randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
        fs.writeFileSync(path.join(dir, 'short'), 'short\n');
        const rec = await startReceiver();
        let srv = await startServer({ databaseUrl: stack.pg.url, args: [...LOOPBACK_ARGS, '--webhook-secret-key-file', keyFile] });
        let hookId;
        try {
            const SECRET = 'sealed-secret-\u00fc-123';
            const h = assertOk(await api(srv.url, 'POST', W, { name: 'sealed', url: rec.url, secret: SECRET, events: ALL_EVENTS.slice(0, 1) })).webhook;
            hookId = h.webhook_id;
            const row = sql(`SELECT secret_sealed || ' ' || secret FROM webhooks WHERE id = '${hookId}'`);
            assert.match(row, /^true v1:[A-Za-z0-9+/=]+$/);
            assert.ok(!row.includes('sealed-secret'), 'the plain secret is not stored');
            const name = uniqueName('sealed');
            assertOk(await api(srv.url, 'POST', `${RM}/create`, { name }));
            await waitUntil(() => forModel(rec, name).length >= 1, 10000, 'delivery');
            const g = forModel(rec, name)[0];
            assert.equal(g.headers['x-mlflow-signature'], expectedSignature(SECRET, g.headers, g.body));
            // a sealed secret copied onto another webhook does not open there
            const copy = assertOk(await api(srv.url, 'POST', W, { name: 'copy', url: rec.url, events: ALL_EVENTS.slice(0, 1) })).webhook;
            sql(`UPDATE webhooks SET secret = (SELECT secret FROM webhooks WHERE id = '${hookId}'), secret_sealed = true WHERE id = '${copy.webhook_id}'`);
            const tc = assertOk(await api(srv.url, 'POST', `${W}/${copy.webhook_id}/test`, {})).result;
            assert.equal(tc.success, false);
            assert.match(tc.error_message, /cannot be decrypted/);
            assertOk(await api(srv.url, 'DELETE', `${W}/${copy.webhook_id}`));
            // a PATCHed secret is sealed too
            assertOk(await api(srv.url, 'PATCH', `${W}/${hookId}`, { secret: 'second-secret' }));
            assert.ok(!sql(`SELECT secret FROM webhooks WHERE id = '${hookId}'`).includes('second-secret'));
            await srv.stop();
            // another key: deliveries fail for good (no retry can help), the test endpoint says why
            srv = await startServer({ databaseUrl: stack.pg.url, args: [...LOOPBACK_ARGS, '--webhook-secret-key-file', otherKey] });
            const t = assertOk(await api(srv.url, 'POST', `${W}/${hookId}/test`, {})).result;
            assert.equal(t.success, false);
            assert.match(t.error_message, /^Failed to test webhook: the webhook's secret cannot be decrypted/);
            const name2 = uniqueName('wrongkey');
            assertOk(await api(srv.url, 'POST', `${RM}/create`, { name: name2 }));
            await waitUntil(() => sql(`SELECT state FROM webhook_outbox WHERE webhook_id = '${hookId}' AND payload->>'name' = '${name2}'`) === 'failed', 10000, 'failed');
            assert.equal(forModel(rec, name2).length, 0);
            await srv.stop();
            // a key file that is too short keeps the server from starting
            await assert.rejects(startServer({ databaseUrl: stack.pg.url, args: [...LOOPBACK_ARGS, '--webhook-secret-key-file', path.join(dir, 'short')], timeoutMs: 10000 }));
            srv = null;
        } finally {
            if (srv) await srv.stop();
            if (hookId) sql(`UPDATE webhooks SET deleted_time = 1 WHERE id = '${hookId}'`);
            await rec.close();
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe('admin only (--auth)', () => {
    test('non-admins get 403 on all six endpoints; admins manage webhooks', async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exptrack-hooks-'));
        const pw = path.join(dir, 'pw');
        fs.writeFileSync(pw, 'admin-password-for-hooks\n', { mode: 0o600 });
        const srv = await startServer({ databaseUrl: stack.pg.url, args: ['--auth', '--admin-password-file', pw, ...LOOPBACK_ARGS] });
        try {
            const basic = (u, p) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
            const ADMIN = basic('admin', 'admin-password-for-hooks');
            const user = uniqueName('user');
            assertOk(await api(srv.url, 'POST', '/api/2.0/mlflow/users/create', { username: user, password: 'user-password-123' }, { headers: ADMIN }));
            const U = basic(user, 'user-password-123');
            const h = assertOk(await api(srv.url, 'POST', W, { name: 'adm', url: 'https://93.184.216.34/', events: ALL_EVENTS.slice(0, 1) }, { headers: ADMIN })).webhook;
            for (const prefix of PREFIXES) {
                const P = `${prefix}/webhooks`;
                for (const [m, p, body] of [['POST', '', { name: 'x', url: 'https://93.184.216.34/', events: ALL_EVENTS.slice(0, 1) }],
                    ['GET', '', undefined], ['GET', `/${h.webhook_id}`, undefined], ['PATCH', `/${h.webhook_id}`, { name: 'y' }],
                    ['DELETE', `/${h.webhook_id}`, {}], ['POST', `/${h.webhook_id}/test`, {}]]) {
                    assertError(await api(srv.url, m, `${P}${p}`, body, { headers: U }), 403, 'PERMISSION_DENIED', [], `${m} ${p}`);
                    assert.equal((await api(srv.url, m, `${P}${p}`, body)).status, 401, `${m} ${p} anonymous`);
                }
            }
            assert.equal(assertOk(await api(srv.url, 'GET', `${W}/${h.webhook_id}`, undefined, { headers: ADMIN })).webhook.name, 'adm');
            assertOk(await api(srv.url, 'DELETE', `${W}/${h.webhook_id}`, {}, { headers: ADMIN }));
        } finally {
            await srv.stop();
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
