// Conformance and hardening round 2 (issue 18): malformed bodies, query
// strings, every field of every write validated where it is accepted,
// MLflow's answers where they are right, and no 500 a client's own input
// can cause. Framing is in framing.test.mjs.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, client, api, assertOk, assertError, uniqueName } from './harness.mjs';

const stack = useStack({ before, after });
const JSON_H = { 'content-type': 'application/json' };
let c;
let exp;
let run;
/** Every suite's first step: a client, an experiment and a run. */
async function setup() {
    if (c) return;
    c = client(stack.base);
    exp = await c.createExperiment(uniqueName('hard'));
    run = (await c.createRun(exp)).info.run_id;
}

// Every route that reads a JSON body (routes.c), with the method it takes.
const BODY_ROUTES = [
    ['POST', '/api/2.0/mlflow/experiments/create'], ['POST', '/api/2.0/mlflow/experiments/update'],
    ['POST', '/api/2.0/mlflow/experiments/delete'], ['POST', '/api/2.0/mlflow/experiments/restore'],
    ['POST', '/api/2.0/mlflow/experiments/search'], ['POST', '/api/2.0/mlflow/experiments/set-experiment-tag'],
    ['POST', '/api/2.0/mlflow/experiments/delete-experiment-tag'], ['POST', '/api/2.0/mlflow/runs/create'],
    ['POST', '/api/2.0/mlflow/runs/update'], ['POST', '/api/2.0/mlflow/runs/delete'],
    ['POST', '/api/2.0/mlflow/runs/restore'], ['POST', '/api/2.0/mlflow/runs/search'],
    ['POST', '/api/2.0/mlflow/runs/set-tag'], ['POST', '/api/2.0/mlflow/runs/delete-tag'],
    ['POST', '/api/2.0/mlflow/runs/log-parameter'], ['POST', '/api/2.0/mlflow/runs/log-metric'],
    ['POST', '/api/2.0/mlflow/runs/log-batch'], ['POST', '/api/2.0/mlflow/runs/log-inputs'],
    ['POST', '/api/2.0/exptrack/runs/purge'], ['POST', '/api/2.0/mlflow/registered-models/create'],
    ['POST', '/api/2.0/mlflow/registered-models/rename'], ['PATCH', '/api/2.0/mlflow/registered-models/update'],
    ['DELETE', '/api/2.0/mlflow/registered-models/delete'], ['POST', '/api/2.0/mlflow/registered-models/get-latest-versions'],
    ['POST', '/api/2.0/mlflow/registered-models/set-tag'], ['DELETE', '/api/2.0/mlflow/registered-models/delete-tag'],
    ['POST', '/api/2.0/mlflow/registered-models/alias'], ['DELETE', '/api/2.0/mlflow/registered-models/alias'],
    ['POST', '/api/2.0/mlflow/model-versions/create'], ['PATCH', '/api/2.0/mlflow/model-versions/update'],
    ['POST', '/api/2.0/mlflow/model-versions/transition-stage'], ['DELETE', '/api/2.0/mlflow/model-versions/delete'],
    ['POST', '/api/2.0/mlflow/model-versions/set-tag'], ['DELETE', '/api/2.0/mlflow/model-versions/delete-tag'],
    ['POST', '/api/2.0/mlflow/users/create'], ['PATCH', '/api/2.0/mlflow/users/update-password'],
    ['POST', '/api/2.0/mlflow/experiments/permissions/create'], ['POST', '/api/2.0/exptrack/tokens/create'],
    ['POST', '/api/2.0/exptrack/session/login'], ['POST', '/ajax-api/2.0/mlflow/runs/search'],
];

describe('malformed bodies are a 400 on every endpoint', () => {
    before(setup);
    test('a truncated runs/search body is a 400, not an empty 200', async () => {
        const r = await c.post('/runs/search', undefined, { raw: `{"experiment_ids": ["${exp}"], "max_res`, headers: JSON_H });
        assertError(r, 400, 'INVALID_PARAMETER_VALUE', 'not valid JSON');
    });
    test('every route that reads a body refuses broken JSON and non-objects', async () => {
        for (const [method, p] of BODY_ROUTES) {
            for (const raw of ['{"name": ', 'not json', '[1,2]', '"{\\"a\\":"', '{"a":1}}', '\u0000{}']) {
                const r = await api(stack.base, method, p, undefined, { raw, headers: JSON_H });
                assertError(r, 400, undefined, [], `${method} ${p} ${JSON.stringify(raw)}`);
                assert.match(r.json.message, /not valid JSON|not a JSON object/, `${method} ${p}`);
            }
        }
    });
    test('an empty body still reads as {} (the required field is named)', async () => {
        assertError(await c.post('/experiments/create', undefined, { raw: '', headers: JSON_H }), 400, 'INVALID_PARAMETER_VALUE', 'name');
        assertError(await c.post('/runs/log-metric', undefined, { raw: ' \n', headers: JSON_H }), 400, 'INVALID_PARAMETER_VALUE', 'run_id');
    });
    test('a broken body changes nothing', async () => {
        const name = uniqueName('broken');
        assertError(await c.post('/experiments/create', undefined, { raw: `{"name": "${name}"`, headers: JSON_H }), 400);
        assertError(await c.get('/experiments/get-by-name', { experiment_name: name }), 404, 'RESOURCE_DOES_NOT_EXIST');
    });
});

describe('query strings', () => {
    before(setup);
    const BAD_IDS = ['abc', 'f'.repeat(31), 'f'.repeat(33), 'F'.repeat(32), `${'f'.repeat(31)}g`, `${'f'.repeat(16)}%00${'f'.repeat(15)}`, '../x', ' '];
    test('a run id that cannot be one is a 400 on every GET that takes one', async () => {
        for (const id of BAD_IDS) {
            const q = `run_id=${id.includes('%') ? id : encodeURIComponent(id)}`;
            for (const p of ['/api/2.0/mlflow/runs/get', '/ajax-api/2.0/mlflow/runs/get', '/api/2.0/mlflow/metrics/get-history',
                '/api/2.0/mlflow/artifacts/list']) {
                const extra = p.includes('history') ? '&metric_key=m' : '';
                const r = await api(stack.base, 'GET', `${p}?${q}${extra}`);
                assertError(r, 400, 'INVALID_PARAMETER_VALUE', 'run_id', `${p} ${JSON.stringify(id)}`);
            }
            const u = `?run_uuid=${encodeURIComponent(id)}&metric_key=m`;
            assertError(await api(stack.base, 'GET', `/api/2.0/mlflow/metrics/get-history${u}`), 400, 'INVALID_PARAMETER_VALUE', 'run_uuid');
            const b = await api(stack.base, 'GET', `/api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids=${run}&run_ids=${encodeURIComponent(id)}&metric_key=m`);
            assertError(b, 400, 'INVALID_PARAMETER_VALUE', 'run_ids', `bulk ${JSON.stringify(id)}`);
        }
    });
    test('an experiment id that cannot be one is a 400 on GET; a well-formed unknown one a 404', async () => {
        for (const id of ['abc', '1.5', '-1', '%00', '1%00', '99999999999999999999', '0x10', '+1', '']) {
            const q = id.includes('%') ? id : encodeURIComponent(id);
            for (const p of ['/api/2.0/mlflow/experiments/get', '/ajax-api/2.0/mlflow/experiments/get']) {
                assertError(await api(stack.base, 'GET', `${p}?experiment_id=${q}`), 400, 'INVALID_PARAMETER_VALUE', 'experiment_id', `${p} ${JSON.stringify(id)}`);
            }
        }
        assertError(await c.get('/experiments/get', { experiment_id: '987654321' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    });
    test('a real run id still works, and an unknown well-formed one is a 404', async () => {
        assertOk(await c.get('/metrics/get-history', { run_id: run, metric_key: 'm' }));
        assertError(await c.get('/runs/get', { run_id: 'f'.repeat(32) }), 404, 'RESOURCE_DOES_NOT_EXIST');
    });
    test('a query value or name that is not UTF-8 once decoded is a 400, not dropped', async () => {
        for (const q of [`run_id=${run}&metric_key=%ff`, `run_id=${run}&metric_key=%c3%28`, `run_id=${run}&metric_key=m&%ff=1`,
            `run_id=${run}&metric_key=%ed%a0%80`]) {
            const r = await api(stack.base, 'GET', `/api/2.0/mlflow/metrics/get-history?${q}`);
            assertError(r, 400, 'INVALID_PARAMETER_VALUE', 'UTF-8', q);
        }
        assertError(await api(stack.base, 'GET', `/api/2.0/mlflow/artifacts/list?run_id=${run}&path=%ff`), 400, 'INVALID_PARAMETER_VALUE', 'path');
        assertError(await api(stack.base, 'GET', '/api/2.0/mlflow/experiments/get-by-name?experiment_name=%fe%ff'), 400, 'INVALID_PARAMETER_VALUE', 'experiment_name');
        assertError(await api(stack.base, 'GET', `/api/2.0/mlflow-artifacts/artifacts/${exp}/x?p=%ff`), 400, 'INVALID_PARAMETER_VALUE');
    });
});

/** POST with a raw JSON text (for escapes JSON.stringify would not write). */
const rawPost = (p, text) => c.post(p, undefined, { raw: text, headers: JSON_H });

describe('every field of every write is validated where it is accepted', () => {
    before(setup);
    const BAD_KEYS = [['k'.repeat(251), '250'], ['a/../b', 'key'], ['../a', 'key'], ['/a', 'key'], ['a//b', 'key'], ['.', 'key'],
        ['emoji\u{1F600}', 'key'], ['semi;colon', 'key'], ['a/', 'key']];
    test('tags given to runs/create: key rules and lengths', async () => {
        for (const [key, mention] of BAD_KEYS) {
            const r = await c.post('/runs/create', { experiment_id: exp, tags: [{ key, value: 'v' }] });
            assertError(r, 400, 'INVALID_PARAMETER_VALUE', mention ? [mention] : [], `runs/create tag key ${JSON.stringify(key)}`);
        }
        // a value past 8000 is truncated as set-tag does, never a 500
        const long = assertOk(await c.post('/runs/create', { experiment_id: exp, tags: [{ key: 'long', value: 'v'.repeat(9000) }] })).run;
        assert.equal(long.data.tags.find((t) => t.key === 'long').value.length, 8000);
    });
    test('tags given to experiments/create: key rules and lengths', async () => {
        for (const [key, mention] of BAD_KEYS) {
            const r = await c.post('/experiments/create', { name: uniqueName('t'), tags: [{ key, value: 'v' }] });
            assertError(r, 400, 'INVALID_PARAMETER_VALUE', mention ? [mention] : [], `experiments/create tag key ${JSON.stringify(key)}`);
        }
        assertError(await c.post('/experiments/create', { name: uniqueName('t'), tags: [{ key: 'k', value: 'v'.repeat(5001) }] }), 400, 'INVALID_PARAMETER_VALUE', '5000');
    });
    test('user_id and run_name lengths on runs/create and runs/update', async () => {
        assertError(await c.post('/runs/create', { experiment_id: exp, user_id: 'u'.repeat(257) }), 400, 'INVALID_PARAMETER_VALUE', 'user_id');
        assertError(await c.post('/runs/create', { experiment_id: exp, run_name: 'n'.repeat(251) }), 400, 'INVALID_PARAMETER_VALUE', 'run_name');
        assertError(await c.post('/runs/update', { run_id: run, run_name: 'n'.repeat(251) }), 400, 'INVALID_PARAMETER_VALUE', 'run_name');
        assertOk(await c.post('/runs/create', { experiment_id: exp, user_id: 'u'.repeat(256), run_name: 'n'.repeat(250) }));
    });
    test('a NUL or a lone surrogate in any string is a 400', async () => {
        for (const esc of ['a\\u0000b', '\\uD800', 'x\\uDFFFy', '\\uDC00\\uD800']) {
            const cases = [
                ['/runs/create', `{"experiment_id": "${exp}", "run_name": "${esc}"}`, 'run_name'],
                ['/runs/create', `{"experiment_id": "${exp}", "user_id": "${esc}"}`, 'user_id'],
                ['/runs/update', `{"run_id": "${run}", "run_name": "${esc}"}`, 'run_name'],
                ['/runs/set-tag', `{"run_id": "${run}", "key": "k", "value": "${esc}"}`, 'value'],
                ['/runs/log-parameter', `{"run_id": "${run}", "key": "p${Math.random()}", "value": "${esc}"}`, 'value'],
                ['/experiments/create', `{"name": "n${esc}"}`, 'name'],
                ['/experiments/set-experiment-tag', `{"experiment_id": "${exp}", "key": "k", "value": "${esc}"}`, 'value'],
            ];
            for (const [p, body, field] of cases) {
                const r = await rawPost(p, body);
                assertError(r, 400, undefined, [], `${p} ${field}=${esc}`);
            }
        }
    });
    test('keys outside MLflow\'s charset are refused on every endpoint; Unicode word characters are accepted', async () => {
        for (const key of ['emoji\u{1F600}', 'a;b', 'a\tb', 'a*b']) {
            assertError(await c.post('/runs/log-metric', { run_id: run, key, value: 1, timestamp: 1 }), 400, 'INVALID_PARAMETER_VALUE', [], `metric ${key}`);
            assertError(await c.post('/runs/log-parameter', { run_id: run, key, value: '1' }), 400, 'INVALID_PARAMETER_VALUE', [], `param ${key}`);
            assertError(await c.post('/runs/set-tag', { run_id: run, key, value: '1' }), 400, 'INVALID_PARAMETER_VALUE', [], `tag ${key}`);
            assertError(await c.post('/runs/log-batch', { run_id: run, metrics: [{ key, value: 1, timestamp: 1 }] }), 400, 'INVALID_PARAMETER_VALUE', [], `batch ${key}`);
        }
        for (const key of ['größe', 'точность', '精度', 'a-b.c/d e:f_1', 'α_β']) {
            assertOk(await c.post('/runs/log-metric', { run_id: run, key, value: 1, timestamp: 1 }), `metric ${key}`);
        }
    });
    test('times and steps beyond int64, fractional or overflowing are a 400', async () => {
        const nums = ['9223372036854775808', '-9223372036854775809', '1e400', '-1e400', '1.5', '1e19', '99999999999999999999999'];
        for (const n of nums) {
            const cases = [
                ['/runs/log-metric', `{"run_id": "${run}", "key": "m", "value": 1, "timestamp": ${n}}`, 'timestamp'],
                ['/runs/log-metric', `{"run_id": "${run}", "key": "m", "value": 1, "timestamp": 1, "step": ${n}}`, 'step'],
                ['/runs/create', `{"experiment_id": "${exp}", "start_time": ${n}}`, 'start_time'],
                ['/runs/update', `{"run_id": "${run}", "end_time": ${n}}`, 'end_time'],
                ['/runs/log-batch', `{"run_id": "${run}", "metrics": [{"key": "m", "value": 1, "timestamp": ${n}}]}`, 'timestamp'],
            ];
            for (const [p, body, field] of cases) {
                const e = assertError(await rawPost(p, body), 400, 'INVALID_PARAMETER_VALUE', [], `${p} ${field}=${n}`);
                // past what a JSON number can hold the parser refuses it, naming the number
                assert.ok(e.message.includes(field) || /too big (negative )?integer|overflow/.test(e.message), `${p} ${field}=${n}: ${e.message}`);
            }
        }
    });
    test('a metric value of 1e400 is a 400, not infinity', async () => {
        assertError(await rawPost('/runs/log-metric', `{"run_id": "${run}", "key": "m", "value": 1e400, "timestamp": 1}`), 400, 'INVALID_PARAMETER_VALUE', 'overflow');
    });
    test('max_results beyond the limit or not an integer is a 400 on every search and history endpoint', async () => {
        const bads = ['9223372036854775808', '1e30', '1e400', '1.5', '-1', '0', '"x"'];
        const posts = [['/runs/search', `"experiment_ids": ["${exp}"]`], ['/experiments/search', '"view_type": "ALL"']];
        for (const v of bads) {
            for (const [p, rest] of posts) {
                const e = assertError(await rawPost(p, `{${rest}, "max_results": ${v}}`), 400, 'INVALID_PARAMETER_VALUE', [], `${p} ${v}`);
                assert.ok(e.message.includes('max_results') || /too big (negative )?integer|overflow/.test(e.message), `${p} ${v}: ${e.message}`);
            }
        }
        const gets = [
            `/api/2.0/mlflow/metrics/get-history?run_id=${run}&metric_key=m`,
            `/api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids=${run}&metric_key=m`,
            '/api/2.0/mlflow/experiments/search?view_type=ALL',
            '/api/2.0/mlflow/registered-models/search?filter=',
            '/api/2.0/mlflow/model-versions/search?filter=',
        ];
        for (const v of ['9223372036854775808', '1e30', '1e400', '1.5', '-1', 'x', '100000000000000000000']) {
            for (const g of gets) {
                assertError(await api(stack.base, 'GET', `${g}&max_results=${v}`), 400, 'INVALID_PARAMETER_VALUE', 'max_results', `${g} ${v}`);
            }
        }
        assertError(await rawPost('/runs/search', `{"experiment_ids": ["${exp}"], "max_results": 50001}`), 400, 'INVALID_PARAMETER_VALUE', 'max_results');
    });
});

describe('answers that match MLflow', () => {
    before(setup);
    test('a run created without user_id keeps an empty user_id, and attributes.user_id = \'\' finds it', async () => {
        const e = await c.createExperiment(uniqueName('nouser'));
        const anon = assertOk(await c.post('/runs/create', { experiment_id: e })).run;
        const named = assertOk(await c.post('/runs/create', { experiment_id: e, user_id: 'ada' })).run;
        assert.equal(anon.info.user_id ?? '', '', 'no "unknown" user');
        assert.equal(named.info.user_id, 'ada');
        const found = assertOk(await c.post('/runs/search', { experiment_ids: [e], filter: "attributes.user_id = ''" })).runs || [];
        assert.deepEqual(found.map((x) => x.info.run_id), [anon.info.run_id]);
    });
});

describe('no 500 for a request that can never succeed', () => {
    before(setup);
    test('renaming a deleted experiment is a 400 INVALID_STATE, not a 500 clients retry', async () => {
        const id = await c.createExperiment(uniqueName('gone'));
        assertOk(await c.post('/experiments/delete', { experiment_id: id }));
        assertError(await c.post('/experiments/update', { experiment_id: id, new_name: uniqueName('x') }), 400, 'INVALID_STATE');
    });
    test('filters, orderings and tokens at the edges of their types are 4xx or 200, never 5xx', async () => {
        const filters = ['metrics.m > 1e400', 'metrics.m > -1e400', 'metrics.m < 1e308', 'attributes.start_time > 99999999999999999999',
            'attributes.start_time > 1e30', 'attributes.end_time < -9223372036854775809', "params.p LIKE '%\\\\'", "tags.t ILIKE '\\\\'",
            "params.p = '\u0000'", "attributes.run_name LIKE '%%%%%%%%%%%%%%%%%%%%%%%%'", 'metrics.m = 9223372036854775808',
            "attributes.status = 'NOPE'", "attributes.run_id IN ('x')", "datasets.digest = 'x'", 'metrics.m > 0.0000000000000000000000000000001e-400'];
        for (const filter of filters) {
            const r = await c.post('/runs/search', { experiment_ids: [exp], filter });
            assert.ok(r.status < 500, `runs/search ${filter}: ${r.status} ${r.text.slice(0, 200)}`);
        }
        for (const order of ['metrics.m DESC', 'attributes.start_time ASC', 'params.`x y`', 'tags.t', 'attributes.nope']) {
            const r = await c.post('/runs/search', { experiment_ids: [exp], order_by: [order] });
            assert.ok(r.status < 500, `order ${order}: ${r.status} ${r.text.slice(0, 200)}`);
        }
        for (const filter of ['creation_time > 1e400', 'creation_time > 99999999999999999999', "name LIKE '\\\\'", "tags.x = 'y'"]) {
            const r = await c.post('/experiments/search', { filter });
            assert.ok(r.status < 500, `experiments/search ${filter}: ${r.status} ${r.text.slice(0, 200)}`);
        }
        for (const filter of ["name LIKE '\\\\'", 'version_number > 99999999999999999999', "run_id = 'x'"]) {
            for (const p of ['/registered-models/search', '/model-versions/search']) {
                const r = await c.get(p, { filter });
                assert.ok(r.status < 500, `${p} ${filter}: ${r.status} ${r.text.slice(0, 200)}`);
            }
        }
        const tokens = ['eyJvZmZzZXQiOiAtMX0=', 'eyJvZmZzZXQiOiA5OTk5OTk5OTk5OTk5OTk5OTk5OTl9', 'eyJvZmZzZXQiOiAxZTQwMH0=', '!!!', 'e30='];
        for (const page_token of tokens) {
            for (const [p, body] of [['/runs/search', { experiment_ids: [exp], page_token }], ['/experiments/search', { page_token }]]) {
                const r = await c.post(p, body);
                assert.ok(r.status < 500, `${p} token ${page_token}: ${r.status} ${r.text.slice(0, 200)}`);
            }
            const h = await c.get('/metrics/get-history', { run_id: run, metric_key: 'm', page_token, max_results: 10 });
            assert.ok(h.status < 500, `get-history token ${page_token}: ${h.status} ${h.text.slice(0, 200)}`);
        }
    });
});

describe('filters', () => {
    before(setup);
    test('a back-quoted entity type is accepted as MLflow accepts it', async () => {
        const e = await c.createExperiment(uniqueName('bq'));
        const r1 = assertOk(await c.post('/runs/create', { experiment_id: e })).run.info.run_id;
        assertOk(await c.post('/runs/log-parameter', { run_id: r1, key: 'lr', value: '0.1' }));
        for (const filter of ["`params`.lr = '0.1'", "`params`.`lr` = '0.1'", "`params`.\"lr\" = '0.1'"]) {
            const s = assertOk(await c.post('/runs/search', { experiment_ids: [e], filter }), filter);
            assert.deepEqual((s.runs || []).map((x) => x.info.run_id), [r1], filter);
        }
        assertError(await c.post('/runs/search', { experiment_ids: [e], filter: "`nope`.lr = '0.1'" }), 400, 'INVALID_PARAMETER_VALUE', 'nope');
    });
});

// A body under the 16 MiB size cap can still parse into a tree of
// gigabytes (millions of empty objects or numbers, each a jansson node of
// 30 to 200 bytes). Every route's body parse is bounded (jx_body_tree_budget:
// 8 MiB plus 32 bytes per body byte, at most 256 MiB): such a body is a 413
// naming the limit, and the server keeps answering.
describe('JSON bodies whose tree would dwarf their size', () => {
    const post = (p, body) => api(stack.base, 'POST', p, undefined, { raw: body, headers: JSON_H, timeoutMs: 120000 });
    const ROUTES = ['/api/2.0/mlflow/experiments/create', '/api/2.0/mlflow/runs/log-batch', '/api/3.0/mlflow/traces'];

    test('millions of empty objects or numbers: 413 naming the limit, on every kind of route', { timeout: 600000 }, async () => {
        const objects = `{"name":"x","a":[${'{},'.repeat(4_000_000)}{}]}`;
        const numbers = `{"name":"x","a":[${'1,'.repeat(7_000_000)}1]}`;
        const wrapped = JSON.stringify(objects); // a JSON string holding JSON is decoded again: bounded too
        for (const [what, body] of [['empty objects', objects], ['numbers', numbers], ['a string of empty objects', wrapped]]) {
            assert.ok(body.length < 16 * 1024 * 1024, `${what}: under the size cap`);
            for (const p of ROUTES) {
                assertError(await post(p, body), 413, 'INVALID_PARAMETER_VALUE', ['JSON tree', 'MiB'], `${what} to ${p}`);
            }
        }
    });

    test('millions of tiny members and deep nesting: a clean 4xx', { timeout: 600000 }, async () => {
        const members = `{${Array.from({ length: 1_500_000 }, (_, i) => `"k${i}":1`).join(',')}}`;
        const r = await post('/api/2.0/mlflow/experiments/create', members);
        assert.ok(r.status === 400 || r.status === 413, `HTTP ${r.status} ${r.text.slice(0, 200)}`);
        assertError(r, r.status, 'INVALID_PARAMETER_VALUE');
        const deep = `{"a":${'['.repeat(6_000_000)}${']'.repeat(6_000_000)}}`;
        assertError(await post('/api/2.0/mlflow/experiments/create', deep), 400, 'INVALID_PARAMETER_VALUE', 'not valid JSON');
    });

    test('the server is alive and an ordinary body still works', async () => {
        assert.equal((await api(stack.base, 'GET', '/health')).status, 200);
        await setup();
        const metrics = Array.from({ length: 1000 }, (_, i) => ({ key: `m${i % 10}`, value: i, timestamp: i, step: i }));
        assertOk(await api(stack.base, 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: run, metrics }));
    });
});
