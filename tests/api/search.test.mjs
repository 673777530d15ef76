// Search and query (issue 3): the filter language, ordering and keyset paging
// of runs/search, experiments/search, bulk and downsampled history, the
// select-keys extension and the experiment keys endpoint. Every filter and
// ordering below runs against a data set this file creates, with NaN and
// missing metrics, equal values, unicode and keys that need backquotes.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, client, api, assertOk, assertError, uniqueName } from './harness.mjs';

const stack = useStack({ before, after });

const RUNS = [
    // name, start_time, status, user, metrics, params, tags
    { name: 'alpha', start: 1000, status: 'FINISHED', user: 'alice', end: 1500,
        metrics: { acc: 0.9, loss: 0.5, 'my metric': 1, 'val.acc': 0.3 },
        params: { lr: '0.1', model: 'cnn' }, tags: { team: 'nlp', 'user-name': 'ann', 'ключ': 'значение' } },
    { name: 'beta', start: 2000, status: 'RUNNING', user: 'bob',
        metrics: { acc: 0.7, loss: 'NaN' }, params: { lr: '0.01', model: 'rnn' }, tags: { team: 'cv' } },
    { name: 'gamma', start: 3000, status: 'FAILED', user: 'alice', end: 3500,
        metrics: { acc: 0.7 }, params: { lr: '0.1', model: 'CNN-big' }, tags: { team: 'nlp' } },
    { name: 'delta', start: 3000, status: 'FINISHED', user: 'carol', end: 3600,
        metrics: { loss: 'Infinity' }, params: { lr: '1' }, tags: { 'ключ': 'другое' } },
    { name: 'épsilon', start: 500, status: 'KILLED', user: 'bob', end: 900,
        metrics: { acc: -1.5, loss: 0.1 }, params: { 'a.b': 'x', quote: "it's" }, tags: { 'mlflow.note.content': 'hi' } },
];

function metricList(metrics) {
    return Object.entries(metrics).map(([key, value]) => ({ key, value, timestamp: 1, step: 0 }));
}
const kvList = (o) => Object.entries(o).map(([key, value]) => ({ key, value }));

describe('runs/search filter language, ordering and paging', () => {
    let c;
    let exp;
    const byName = {};
    let defaultOrder; // names in start_time DESC, run_id ASC order

    before(async () => {
        c = client(stack.base);
        exp = await c.createExperiment(uniqueName('search'));
        for (const r of RUNS) {
            const run = await c.createRun(exp, { run_name: r.name, user_id: r.user, start_time: r.start });
            const id = run.info.run_id;
            byName[r.name] = id;
            await c.ok('POST', '/runs/log-batch', {
                run_id: id, metrics: metricList(r.metrics), params: kvList(r.params), tags: kvList(r.tags),
            });
            await c.ok('POST', '/runs/update', { run_id: id, status: r.status, ...(r.end ? { end_time: r.end } : {}) });
        }
        // a deleted run never shows up in the default view
        const zeta = await c.createRun(exp, { run_name: 'zeta', start_time: 4000 });
        byName.zeta = zeta.info.run_id;
        await c.ok('POST', '/runs/log-batch', { run_id: zeta.info.run_id, metrics: metricList({ acc: 1 }) });
        await c.ok('POST', '/runs/delete', { run_id: zeta.info.run_id });
        await c.ok('POST', '/runs/log-inputs', {
            run_id: byName.alpha,
            datasets: [{ tags: [{ key: 'mlflow.data.context', value: 'training' }],
                dataset: { name: 'train', digest: 'd1', source_type: 'local', source: 's' } }],
        });
        await c.ok('POST', '/runs/log-inputs', {
            run_id: byName.beta,
            datasets: [{ tags: [{ key: 'mlflow.data.context', value: 'eval' }],
                dataset: { name: 'eval', digest: 'd2', source_type: 'local', source: 's' } }],
        });
        defaultOrder = RUNS.map((r) => r.name).sort((a, b) => {
            const ra = RUNS.find((r) => r.name === a), rb = RUNS.find((r) => r.name === b);
            if (ra.start !== rb.start) return rb.start - ra.start;
            return byName[a] < byName[b] ? -1 : 1;
        });
    });

    const search = async (body) => assertOk(await c.post('/runs/search', { experiment_ids: [exp], ...body }), JSON.stringify(body));
    const names = (res) => (res.runs || []).map((r) => r.info.run_name);
    // expected names, in the default order
    const inDefault = (list) => defaultOrder.filter((n) => list.includes(n));

    const FILTERS = [
        ['', ['alpha', 'beta', 'gamma', 'delta', 'épsilon']],
        ['metrics.acc > 0.8', ['alpha']],
        ['metrics.acc = 0.7', ['beta', 'gamma']],
        ['metrics.acc != 0.7', ['alpha', 'épsilon']],
        ['metrics.acc >= -1.5', ['alpha', 'beta', 'gamma', 'épsilon']],
        ['metrics.acc < -.5', ['épsilon']],
        ['metrics.acc > 1e-1', ['alpha', 'beta', 'gamma']],
        ['metrics.acc<=0.7', ['beta', 'gamma', 'épsilon']],
        ['metrics.loss > 0', ['alpha', 'delta', 'épsilon']],
        ['metrics.loss != 0.5', ['beta', 'delta', 'épsilon']],
        ['metrics.loss = 0', []],
        ['metrics.loss > 1e308', ['delta']],
        ['metrics.`my metric` = 1', ['alpha']],
        ['metrics."my metric" = 1', ['alpha']],
        ['metric.val.acc = 0.3', ['alpha']],
        ['metrics.`val.acc` < 1', ['alpha']],
        ['metrics.nosuch > 0', []],
        ["params.lr = '0.1'", ['alpha', 'gamma']],
        ['params.lr = "0.1"', ['alpha', 'gamma']],
        ["params.lr != '0.1'", ['beta', 'delta']],
        ["parameters.model LIKE 'cnn%'", ['alpha']],
        ["param.model ILIKE 'cnn%'", ['alpha', 'gamma']],
        ["params.model LIKE '_nn'", ['alpha', 'beta']],
        ["params.a.b = 'x'", ['épsilon']],
        ["params.`a.b` = 'x'", ['épsilon']],
        ["params.quote = 'it''s'", []], // the contract: no escape processing
        ["params.lr = 'x'' OR 1=1 --'", []],
        ["tags.team = 'nlp' AND metrics.acc < 0.8", ['gamma']],
        ["tags.`user-name` = 'ann'", ['alpha']],
        ['tags."user-name" = \'ann\'', ['alpha']],
        ["tags.ключ = 'значение'", ['alpha']],
        ["tags.ключ LIKE '%е'", ['alpha', 'delta']],
        ["tags.mlflow.note.content = 'hi'", ['épsilon']],
        ["tag.team ILIKE 'NLP'", ['alpha', 'gamma']],
        ["attributes.status = 'FINISHED'", ['alpha', 'delta']],
        ["status != 'FINISHED'", ['beta', 'gamma', 'épsilon']],
        ["attr.status LIKE 'F%'", ['alpha', 'gamma', 'delta']],
        ["attributes.run_name = 'beta'", ['beta']],
        ["run_name LIKE '%a'", ['alpha', 'beta', 'gamma', 'delta']],
        ["`Run name` = 'gamma'", ['gamma']],
        ["run.`run name` LIKE 'é%'", ['épsilon']],
        ["attributes.user_id = 'alice'", ['alpha', 'gamma']],
        ['attributes.start_time >= 2000', ['beta', 'gamma', 'delta']],
        ['created < 1000', ['épsilon']],
        ['attributes.start_time = 3000.0', ['gamma', 'delta']],
        ['end_time > 1000', ['alpha', 'gamma', 'delta']],
        ['attributes.end_time IS NULL', ['beta']],
        ["attributes.artifact_uri LIKE 'mlflow-artifacts:/%'", ['alpha', 'beta', 'gamma', 'delta', 'épsilon']],
        ['metrics.acc > 0.8 OR params.lr = \'1\'', ['alpha', 'delta']],
        ["(metrics.acc = 0.7 OR metrics.acc > 0.8) AND tags.team = 'nlp'", ['alpha', 'gamma']],
        ["metrics.acc = 0.7 OR metrics.acc > 0.8 AND tags.team = 'nlp'", ['alpha', 'beta', 'gamma']],
        ["((params.lr = '1'))", ['delta']],
        ['metrics.loss IS NULL', ['gamma']],
        ['metrics.acc IS NOT NULL', ['alpha', 'beta', 'gamma', 'épsilon']],
        ["tags.team is null", ['delta', 'épsilon']],
        ["metrics.acc > 0.8 and params.lr like '0.%'", ['alpha']],
        ["params.lr = '0.1' AND", ['alpha', 'gamma']],
        ["datasets.name = 'train'", ['alpha']],
        ["dataset.context IN ('training', 'eval')", ['alpha', 'beta']],
        ["datasets.digest != 'd1'", ['beta']],
        ["datasets.name NOT IN ('train')", ['beta']],
        ["datasets.context LIKE 'tr%'", ['alpha']],
    ];

    for (const [filter, want] of FILTERS) {
        test(`filter ${JSON.stringify(filter)}`, async () => {
            assert.deepEqual(names(await search({ filter })), inDefault(want));
        });
    }

    test('filter: run_id =, IN, NOT IN, LIKE; uppercase ids are dropped', async () => {
        const { alpha, beta } = byName;
        assert.deepEqual(names(await search({ filter: `attributes.run_id = '${alpha}'` })), ['alpha']);
        assert.deepEqual(names(await search({ filter: `run_id IN ('${alpha}', '${beta}')` })), inDefault(['alpha', 'beta']));
        assert.deepEqual(names(await search({ filter: `run_id NOT IN ('${alpha}', '${beta}')` })), inDefault(['gamma', 'delta', 'épsilon']));
        assert.deepEqual(names(await search({ filter: `run_id IN ('${alpha.toUpperCase()}', '${beta}')` })), ['beta']);
        assert.deepEqual(names(await search({ filter: `run_id = '${alpha.toUpperCase()}'` })), []);
        assert.deepEqual(names(await search({ filter: "run_id = 'not-an-id'" })), []);
        assert.deepEqual(names(await search({ filter: `run_id LIKE '${alpha.slice(0, 10)}%'` })), ['alpha']);
        assert.deepEqual(names(await search({ filter: `run_id != '${alpha}'` })), inDefault(['beta', 'gamma', 'delta', 'épsilon']));
    });

    test('filter: deleted runs with view types', async () => {
        assert.deepEqual(names(await search({ filter: 'metrics.acc >= 1', run_view_type: 'ALL' })), ['zeta']);
        assert.deepEqual(names(await search({ filter: 'metrics.acc >= 1', run_view_type: 'DELETED_ONLY' })), ['zeta']);
        assert.deepEqual(names(await search({ filter: 'metrics.acc >= 1' })), []);
    });

    const ORDERS = [
        [[], null],
        [['metrics.acc DESC'], ['alpha', 'gamma', 'beta', 'épsilon', 'delta']],
        [['metrics.acc'], ['épsilon', 'gamma', 'beta', 'alpha', 'delta']],
        [['metrics.acc asc'], ['épsilon', 'gamma', 'beta', 'alpha', 'delta']],
        [['metrics.loss ASC'], ['épsilon', 'alpha', 'delta', 'beta', 'gamma']],
        [['metrics.loss DESC'], ['delta', 'alpha', 'épsilon', 'beta', 'gamma']],
        [['params.lr ASC'], ['beta', 'gamma', 'alpha', 'delta', 'épsilon']],
        [['params.lr DESC'], ['delta', 'gamma', 'alpha', 'beta', 'épsilon']],
        [['tags.team'], ['beta', 'gamma', 'alpha', 'delta', 'épsilon']],
        [['tags.team DESC'], ['gamma', 'alpha', 'beta', 'delta', 'épsilon']],
        [['attributes.run_name DESC'], ['épsilon', 'gamma', 'delta', 'beta', 'alpha']],
        [['`Run name`'], ['alpha', 'beta', 'delta', 'gamma', 'épsilon']],
        [['attributes.status'], ['gamma', 'delta', 'alpha', 'épsilon', 'beta']],
        [['attributes.end_time DESC'], ['delta', 'gamma', 'alpha', 'épsilon', 'beta']],
        [['attributes.end_time'], ['épsilon', 'alpha', 'gamma', 'delta', 'beta']],
        [['attributes.user_id DESC', 'metrics.acc'], ['delta', 'épsilon', 'beta', 'gamma', 'alpha']],
        [['params.lr ASC', 'metrics.acc DESC'], ['beta', 'alpha', 'gamma', 'delta', 'épsilon']],
        [['metrics.`my metric` DESC', 'tags.ключ'], ['alpha', 'delta', 'gamma', 'beta', 'épsilon']],
    ];

    for (const [orderBy, want] of ORDERS) {
        test(`order_by ${JSON.stringify(orderBy)}: order, then paging never repeats or skips`, async () => {
            const expected = want ?? defaultOrder;
            const all = names(await search({ order_by: orderBy }));
            assert.deepEqual(all, expected);
            for (const size of [1, 2, 3]) {
                const got = [];
                let token;
                for (let pages = 0; pages < 10; pages++) {
                    const r = await search({ order_by: orderBy, max_results: size, ...(token ? { page_token: token } : {}) });
                    got.push(...names(r));
                    if (!r.next_page_token) break;
                    assert.equal((r.runs || []).length, size, 'a token only on full pages');
                    token = r.next_page_token;
                }
                assert.deepEqual(got, expected, `max_results ${size}`);
            }
        });
    }

    test('order_by start_time ties break on run_id; created is start_time', async () => {
        const asc = names(await search({ order_by: ['attributes.start_time ASC'] }));
        const ties = ['gamma', 'delta'].sort((a, b) => (byName[a] < byName[b] ? -1 : 1));
        assert.deepEqual(asc, ['épsilon', 'alpha', 'beta', ...ties]);
        assert.deepEqual(names(await search({ order_by: ['created ASC'] })), asc);
        const byId = names(await search({ order_by: ['attributes.run_id DESC'] }));
        assert.deepEqual(byId, [...RUNS.map((r) => r.name)].sort((a, b) => (byName[a] < byName[b] ? 1 : -1)));
    });

    test('filter and order together, paged', async () => {
        const body = { filter: "metrics.acc > -10 AND params.lr LIKE '0%'", order_by: ['metrics.acc DESC'] };
        assert.deepEqual(names(await search(body)), ['alpha', 'gamma', 'beta']);
        const p1 = await search({ ...body, max_results: 2 });
        assert.deepEqual(names(p1), ['alpha', 'gamma']);
        const p2 = await search({ ...body, max_results: 2, page_token: p1.next_page_token });
        assert.deepEqual(names(p2), ['beta']);
        assert.ok(!p2.next_page_token);
    });

    test('page tokens stay valid while runs are added (no repeats, no skips)', async () => {
        const e = await c.createExperiment(uniqueName('paging-live'));
        const made = [];
        for (let i = 0; i < 6; i++) made.push((await c.createRun(e, { run_name: `p${i}`, start_time: 10000 + i * 10 })).info.run_id);
        const seen = [];
        let r = assertOk(await c.post('/runs/search', { experiment_ids: [e], max_results: 2 }));
        seen.push(...r.runs.map((x) => x.info.run_id));
        // newer runs (would shift offsets) and one older run appear between pages
        await c.createRun(e, { run_name: 'newer', start_time: 99999 });
        const older = (await c.createRun(e, { run_name: 'older', start_time: 1 })).info.run_id;
        await c.createRun(e, { run_name: 'same-time', start_time: 10030 });
        while (r.next_page_token) {
            r = assertOk(await c.post('/runs/search', { experiment_ids: [e], max_results: 2, page_token: r.next_page_token }));
            seen.push(...(r.runs || []).map((x) => x.info.run_id));
        }
        assert.equal(new Set(seen).size, seen.length, 'no run twice');
        for (const id of made) assert.ok(seen.includes(id), 'every original run once');
        assert.ok(seen.includes(older), 'a run added behind the cursor is reached');
    });

    test('metric-ordered page tokens stay valid while runs are added, across NaN and missing values', async () => {
        const e = await c.createExperiment(uniqueName('paging-metric'));
        const make = async (name, value) => {
            const id = (await c.createRun(e, { run_name: name, start_time: 5000 })).info.run_id;
            if (value !== undefined) await c.ok('POST', '/runs/log-batch', { run_id: id, metrics: [{ key: 'm', value, timestamp: 1, step: 0 }] });
            return id;
        };
        const values = [5, 4, 4, 3, 'NaN', 'NaN', undefined, undefined, 2, 1];
        const originals = [];
        for (let i = 0; i < values.length; i++) originals.push(await make(`o${i}`, values[i]));
        const seen = [];
        let r = assertOk(await c.post('/runs/search', { experiment_ids: [e], max_results: 3, order_by: ['metrics.m DESC'] }));
        let page = 0;
        for (;;) {
            seen.push(...(r.runs || []).map((x) => x.info.run_id));
            if (!r.next_page_token) break;
            // runs before and behind the cursor in every class
            if (page++ < 3) for (const v of [9, 0, 'NaN', undefined]) await make(`n${page}`, v);
            r = assertOk(await c.post('/runs/search', { experiment_ids: [e], max_results: 3, order_by: ['metrics.m DESC'], page_token: r.next_page_token }));
        }
        assert.equal(new Set(seen).size, seen.length, 'no run twice');
        for (const id of originals) assert.ok(seen.includes(id), 'every original run once');
        const order = (await c.post('/runs/search', { experiment_ids: [e], order_by: ['metrics.m DESC'] })).json.runs.map((x) => x.info.run_id);
        assert.deepEqual(seen, order.filter((id) => seen.includes(id)), 'pages follow the order');
    });

    test('page tokens: garbage, offset tokens, and tokens of another order_by -> 400', async () => {
        const r = await search({ max_results: 1, order_by: ['metrics.acc DESC'] });
        for (const tok of ['garbage!!', 'eyJvZmZzZXQiOiAxfQ==', 'eyJmb28iOiAxfQ==']) {
            assertError(await c.post('/runs/search', { experiment_ids: [exp], max_results: 1, page_token: tok }), 400, 'INVALID_PARAMETER_VALUE', 'page_token');
        }
        assertError(await c.post('/runs/search', { experiment_ids: [exp], max_results: 1, page_token: r.next_page_token, order_by: ['params.lr'] }),
            400, 'INVALID_PARAMETER_VALUE', 'page_token');
        assertOk(await c.post('/runs/search', { experiment_ids: [exp], max_results: 1, page_token: r.next_page_token, order_by: ['metrics.acc DESC'] }));
    });

    test('select keys extension: metric_keys, param_keys, tag_keys', async () => {
        const r = await search({ filter: "run_name = 'alpha'", metric_keys: ['acc', 'nosuch'], param_keys: [], tag_keys: ['team'] });
        const { data } = r.runs[0];
        assert.deepEqual(data.metrics.map((m) => m.key), ['acc']);
        assert.ok(!('params' in data));
        assert.deepEqual(data.tags, [{ key: 'team', value: 'nlp' }]);
        const full = await search({ filter: "run_name = 'alpha'" });
        assert.equal(full.runs[0].data.metrics.length, 4);
        assert.equal(full.runs[0].data.params.length, 2);
        assert.equal(full.runs[0].inputs.dataset_inputs[0].dataset.name, 'train');
        assert.deepEqual(full.runs[0].inputs.dataset_inputs[0].tags, [{ key: 'mlflow.data.context', value: 'training' }]);
        assertError(await c.post('/runs/search', { experiment_ids: [exp], metric_keys: 'acc' }), 400, 'INVALID_PARAMETER_VALUE');
    });

    test('returned metrics keep NaN and infinities', async () => {
        const r = await search({ order_by: ['metrics.loss DESC'], metric_keys: ['loss'] });
        const loss = Object.fromEntries(r.runs.map((x) => [x.info.run_name, x.data.metrics?.[0]?.value]));
        assert.equal(loss.delta, 'Infinity');
        assert.equal(loss.beta, 'NaN');
        assert.equal(loss.gamma, undefined);
    });

    test('experiment keys endpoint lists distinct metric, param and tag keys', async () => {
        const r = await api(stack.base, 'GET', '/api/2.0/exptrack/experiments/keys', { experiment_id: exp });
        const k = assertOk(r);
        assert.deepEqual(k.metrics, ['acc', 'loss', 'my metric', 'val.acc']);
        assert.deepEqual(k.params, ['a.b', 'lr', 'model', 'quote']);
        assert.ok(k.tags.includes('team') && k.tags.includes('mlflow.runName') && k.tags.includes('ключ'));
        const none = assertOk(await api(stack.base, 'GET', '/api/2.0/exptrack/experiments/keys', { experiment_id: '987654' }));
        assert.deepEqual(none, { metrics: [], params: [], tags: [] });
        assertError(await api(stack.base, 'GET', '/api/2.0/exptrack/experiments/keys', {}), 400, 'INVALID_PARAMETER_VALUE', 'experiment_id');
    });

    const BAD_FILTERS = [
        ['metrics.acc', 'expected a comparator'],
        ['metrics.acc 5', "after 'metrics.acc'"],
        ['metrics.acc >', 'expected a number'],
        ["metrics.acc > 'x'", 'not a quoted string'],
        ['params.lr = 0.1', 'not a number'],
        ["params.lr > '1'", "'>' is not allowed for params"],
        ["tags.t < 'a'", 'not allowed for tags'],
        ["metrics.acc LIKE '1'", 'not allowed for metrics'],
        ['metrics.acc IN (1)', 'not allowed'],
        ["run_name IN ('a')", 'not allowed'],
        ["attributes.experiment_id = '1'", "unknown attribute 'experiment_id'"],
        ["foo = 'x'", "unknown attribute 'foo'"],
        ["bogus.key = 'x'", "unknown field type 'bogus'"],
        ['metrics. = 1', 'expected a key'],
        ["metrics.acc > 1 AND AND params.x = 'y'", 'expected an identifier'],
        ['metrics.acc > 1 OR', 'expected an identifier'],
        ['(metrics.acc > 1', "expected ')'"],
        ['metrics.acc > 1)', 'expected AND, OR or the end'],
        ["metrics.acc > 1 params.x = 'y'", 'expected AND'],
        ["params.x = 'unterminated", 'unterminated quoted string'],
        ['metrics.`acc > 1', 'unterminated backquoted'],
        ['metrics.acc >> 1', 'expected a number'],
        ['metrics.acc ! 1', "unexpected character '!'"],
        ['metrics.acc = 1.2.3', 'malformed number'],
        ['metrics.acc = 5abc', 'malformed number'],
        ['metrics.acc = 1e', 'malformed number'],
        ['NOT metrics.acc > 1', 'expected an identifier'],
        ["run_id NOT LIKE 'a'", 'expected IN'],
        ["run_id IN 'a'", 'parenthesised list'],
        ["run_id IN ('a' 'b')", "expected ',' or ')'"],
        ['run_id IN ()', 'a quoted string in the list'],
        ["run_id IN ('a', 2)", 'a quoted string in the list'],
        ["attributes.start_time = 'x'", 'expected a number'],
        ["attributes.status > 'A'", 'not allowed'],
        ["datasets.foo = 'x'", 'unknown dataset field'],
        ["datasets.name > 'x'", 'not allowed for dataset'],
        ['metrics.acc IS 5', 'expected NULL'],
        ["params.x IS NOT 'a'", 'expected NULL'],
        ['= 1', 'expected an identifier'],
        ["'x' = 1", 'expected an identifier'],
        ['metrics.acc = 1e999', 'out of range'],
        [';DROP TABLE runs', "unexpected character ';'"],
        ["metrics.acc = 1 AND (params.x = 'a' OR)", 'expected an identifier'],
        ['()', 'expected an identifier'],
        ["tags = 'x'", "unknown attribute 'tags'"],
        ['('.repeat(100) + 'metrics.a > 1' + ')'.repeat(100), 'nested deeper'],
        ['metrics.acc = -', "unexpected character '-'"],
        ["status IS NULL", 'not allowed'],
        ["params.x = 'a' OR OR", 'expected an identifier'],
        ['metrics.acc <> ', 'expected a number'],
        ["tags.`` = 'x'", 'empty key'],
        ["params.x = 'a' AND OR params.y = 'b'", 'expected an identifier'],
        ["datasets.name IN 'x'", 'parenthesised list'],
        ['metrics.acc = 1 ,', 'expected AND'],
        ['attributes.status', 'expected a comparator'],
        ['metrics.acc === 1', 'expected a number'],
    ];

    test(`${BAD_FILTERS.length} malformed filters -> 400 naming position and expectation`, async () => {
        assert.ok(BAD_FILTERS.length >= 40);
        for (const [filter, mention] of BAD_FILTERS) {
            const r = await c.post('/runs/search', { experiment_ids: [exp], filter });
            assertError(r, 400, 'INVALID_PARAMETER_VALUE', [mention, 'at column'], `filter ${JSON.stringify(filter)}`);
        }
    });

    test('the example message of the issue', async () => {
        const r = await c.post('/runs/search', { experiment_ids: [exp], filter: 'metrics.acc 5' });
        assertError(r, 400, 'INVALID_PARAMETER_VALUE', "expected a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN) after 'metrics.acc', found '5' at column 13");
    });

    const BAD_ORDERS = [
        [['metrics.acc DESC x'], 'expected ASC, DESC'],
        [['metrics.acc UP'], 'expected ASC, DESC'],
        [['datasets.name'], 'cannot order by dataset'],
        [['foo'], "unknown attribute 'foo'"],
        [['metrics.a', 'metrics.a DESC'], 'already named'],
        [['start_time', 'created DESC'], 'already named'],
        [[''], 'expected a field'],
        [['metrics.'], 'expected a key'],
        [["'x'"], 'expected an identifier'],
    ];

    test('malformed order_by -> 400', async () => {
        for (const [orderBy, mention] of BAD_ORDERS) {
            const r = await c.post('/runs/search', { experiment_ids: [exp], order_by: orderBy });
            assertError(r, 400, 'INVALID_PARAMETER_VALUE', mention, `order_by ${JSON.stringify(orderBy)}`);
        }
    });
});

describe('experiments/search filter and order_by', () => {
    let c;
    const tag = uniqueName('x');
    const made = {};
    before(async () => {
        c = client(stack.base);
        for (const [n, team] of [['srch-b', 'a'], ['srch-a', 'b'], ['srch-c', 'a']]) {
            made[n] = await c.createExperiment(`${tag}-${n}`, { tags: [{ key: 'team', value: team }, { key: 'run-key', value: tag }] });
        }
    });
    const search = async (body) => assertOk(await c.post('/experiments/search', { max_results: 1000, ...body }));
    const names = (r) => (r.experiments || []).map((e) => e.name.slice(tag.length + 1));

    test('filters', async () => {
        assert.deepEqual(names(await search({ filter: `name = '${tag}-srch-a'` })), ['srch-a']);
        assert.deepEqual(names(await search({ filter: `name LIKE '${tag}-%'`, order_by: ['name'] })), ['srch-a', 'srch-b', 'srch-c']);
        assert.deepEqual(names(await search({ filter: `attribute.name ILIKE '${tag.toUpperCase()}-SRCH-B'` })), ['srch-b']);
        assert.deepEqual(names(await search({ filter: `tags.team = 'a' AND tags.\`run-key\` = '${tag}'`, order_by: ['name DESC'] })), ['srch-c', 'srch-b']);
        assert.deepEqual(names(await search({ filter: `tag.\`run-key\` = '${tag}' AND creation_time > 0 AND last_update_time >= 0`, order_by: ['experiment_id'] })), ['srch-b', 'srch-a', 'srch-c']);
        assert.deepEqual(names(await search({ filter: `name != '${tag}-srch-a' AND name LIKE '${tag}%'`, order_by: ['experiment_id DESC'] })), ['srch-c', 'srch-b']);
        const get = assertOk(await c.get('/experiments/search', { filter: `name LIKE '${tag}%'`, order_by: 'name DESC', max_results: 2 }));
        assert.deepEqual(names(get), ['srch-c', 'srch-b']);
        const next = assertOk(await c.get('/experiments/search', { filter: `name LIKE '${tag}%'`, order_by: 'name DESC', max_results: 2, page_token: get.next_page_token }));
        assert.deepEqual(names(next), ['srch-a']);
    });

    test('default order: creation_time DESC', async () => {
        const r = names(await search({ filter: `tags.\`run-key\` = '${tag}'` }));
        assert.deepEqual(r, ['srch-c', 'srch-a', 'srch-b']);
    });

    // Walks every page of body with max_results size; between pages calls
    // between(pageNumber). Returns the experiment names seen, in order.
    async function walk(body, size, between) {
        const seen = [];
        let token;
        for (let page = 0; page < 50; page++) {
            const r = await search({ ...body, max_results: size, ...(token ? { page_token: token } : {}) });
            seen.push(...names(r));
            if (!r.next_page_token) return seen;
            token = r.next_page_token;
            await between(page);
        }
        throw new Error('paging did not end');
    }

    for (const order of [[], ['name'], ['name DESC'], ['creation_time', 'name']]) {
        test(`page tokens (order_by ${JSON.stringify(order)}) stay valid while experiments are created: no repeats, no skips`, async () => {
            const pre = `${uniqueName('live')}`;
            const originals = [];
            for (const n of ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']) {
                originals.push(n);
                await c.createExperiment(`${tag}-${pre}-${n}`);
            }
            const added = [];
            const seen = await walk({ filter: `name LIKE '${tag}-${pre}-%'`, order_by: order }, 2, async (page) => {
                // names sorting before and after every cursor, and newer creation times
                if (page >= 3) return;
                for (const n of [`a${page}`, `z${page}`, `m${page}x`]) {
                    added.push(n);
                    await c.createExperiment(`${tag}-${pre}-${n}`);
                }
            });
            const short = seen.map((n) => n.slice(pre.length + 1));
            assert.equal(new Set(short).size, short.length, `no experiment twice: ${short}`);
            for (const n of originals) assert.ok(short.includes(n), `${n} reached: ${short}`);
            // what the walk returned is in the requested order
            const all = names(await search({ filter: `name LIKE '${tag}-${pre}-%'`, order_by: order })).map((n) => n.slice(pre.length + 1));
            assert.deepEqual(short, all.filter((n) => short.includes(n)));
            if (order[0] === 'name') assert.ok(short.includes('z0'), 'a row created behind the cursor is reached');
        });
    }

    test('page tokens of runs/search are refused by experiments/search', async () => {
        const e = await c.createExperiment(uniqueName('tok'));
        await c.createRun(e, { run_name: 'a' });
        await c.createRun(e, { run_name: 'b' });
        const r = assertOk(await c.post('/runs/search', { experiment_ids: [e], max_results: 1 }));
        assert.ok(r.next_page_token);
        assertError(await c.post('/experiments/search', { max_results: 1, page_token: r.next_page_token }), 400, 'INVALID_PARAMETER_VALUE', 'page_token');
        const x = await search({ max_results: 1 });
        assertError(await c.post('/runs/search', { experiment_ids: [e], max_results: 1, page_token: x.next_page_token }), 400, 'INVALID_PARAMETER_VALUE', 'page_token');
    });

    test('malformed filters and orderings -> 400', async () => {
        for (const [body, mention] of [
            [{ filter: "attributes.name = 'x'" }, "unknown field type 'attributes'"],
            [{ filter: "name IN ('a')" }, 'not allowed'],
            [{ filter: "experiment_id = '1'" }, 'unknown experiment attribute'],
            [{ filter: "creation_time > 'x'" }, 'expected a number'],
            [{ filter: 'metrics.a > 1' }, "unknown field type 'metrics'"],
            [{ filter: "name = 'a' AND" + ' ' }, 'column'],
            [{ order_by: ['tags.team'] }, 'cannot order experiments by tags'],
            [{ order_by: ['name', 'name DESC'] }, 'already named'],
            [{ order_by: ['lifecycle_stage'] }, 'unknown experiment attribute'],
        ]) {
            if (body.filter === "name = 'a' AND ") continue; // trailing AND is fine
            assertError(await c.post('/experiments/search', { max_results: 10, ...body }), 400, 'INVALID_PARAMETER_VALUE', mention, JSON.stringify(body));
        }
        assertOk(await c.post('/experiments/search', { max_results: 10, filter: "name = 'a' AND " }));
    });
});

describe('bulk and downsampled history', () => {
    let c;
    let exp;
    let big;
    let small;
    const N = 10000;
    before(async () => {
        c = client(stack.base);
        exp = await c.createExperiment(uniqueName('history'));
        big = (await c.createRun(exp)).info.run_id;
        small = (await c.createRun(exp)).info.run_id;
        for (let b = 0; b < N / 500; b++) {
            const metrics = [];
            for (let i = b * 500; i < (b + 1) * 500; i++) {
                // a sine with one spike and one dip the downsample must keep
                let v = Math.sin(i / 500);
                if (i === 4321) v = 50;
                if (i === 7777) v = -50;
                metrics.push({ key: 'loss', value: v, timestamp: 1000 + i, step: i });
                if (i % 100 === 0) metrics.push({ key: 'acc', value: i === 500 ? 'NaN' : i / N, timestamp: 1000 + i, step: i });
            }
            await c.ok('POST', '/runs/log-batch', { run_id: big, metrics });
        }
        const metrics = [];
        for (let i = 0; i < 50; i++) metrics.push({ key: 'loss', value: i, timestamp: 5 + i, step: i * 2 });
        await c.ok('POST', '/runs/log-batch', { run_id: small, metrics });
    });

    const HIST = '/api/2.0/exptrack/metrics/history';

    test('exptrack/metrics/history: at most max_points per series, shape kept', async () => {
        const r = assertOk(await api(stack.base, 'GET', HIST, { run_id: [big, small], metric_key: ['loss', 'acc'], max_points: 100 }));
        const series = Object.fromEntries(r.series.map((s) => [`${s.run_id === big ? 'big' : 'small'}/${s.key}`, s]));
        assert.deepEqual(Object.keys(series).sort(), ['big/acc', 'big/loss', 'small/loss']);
        const loss = series['big/loss'];
        assert.equal(loss.total_points, N);
        assert.ok(loss.steps.length <= 100 && loss.steps.length >= 50, `points: ${loss.steps.length}`);
        assert.equal(loss.steps[0], 0, 'first point kept');
        assert.equal(loss.steps.at(-1), N - 1, 'last point kept');
        assert.ok(loss.values.includes(50) && loss.values.includes(-50), 'spike and dip kept');
        assert.deepEqual([...loss.steps].sort((a, b) => a - b), loss.steps, 'step order');
        assert.equal(loss.timestamps[0], 1000);
        const acc = series['big/acc'];
        assert.equal(acc.total_points, 100);
        assert.equal(acc.steps.length, 100, 'a series within max_points comes whole');
        assert.equal(acc.values[5], 'NaN');
        assert.deepEqual(series['small/loss'].steps, Array.from({ length: 50 }, (_, i) => i * 2));
        const one = assertOk(await api(stack.base, 'GET', HIST, { run_id: big, metric_key: 'loss' }));
        assert.ok(one.series[0].steps.length <= 1000 && one.series[0].steps.length > 500);
    });

    test('exptrack/metrics/history: validation and unknown runs', async () => {
        assertError(await api(stack.base, 'GET', HIST, { metric_key: 'loss' }), 400, 'INVALID_PARAMETER_VALUE', 'run_id');
        assertError(await api(stack.base, 'GET', HIST, { run_id: big }), 400, 'INVALID_PARAMETER_VALUE', 'metric_key');
        assertError(await api(stack.base, 'GET', HIST, { run_id: big, metric_key: 'loss', max_points: 2 }), 400, 'INVALID_PARAMETER_VALUE', 'max_points');
        assertError(await api(stack.base, 'GET', HIST, { run_id: Array(101).fill(big), metric_key: 'loss' }), 400, 'INVALID_PARAMETER_VALUE', 'run_id');
        assert.deepEqual(assertOk(await api(stack.base, 'GET', HIST, { run_id: ['f'.repeat(32)], metric_key: 'loss' })), { series: [] });
        // an id that cannot be a run is refused, not matched to nothing (issue 18)
        assertError(await api(stack.base, 'GET', HIST, { run_id: ['f'.repeat(32), 'nope'], metric_key: 'loss' }), 400, 'INVALID_PARAMETER_VALUE', 'run_id');
    });

    const BULK = '/metrics/get-history-bulk-interval';

    test('get-history-bulk-interval: sampled steps, first and last kept, ordered per run', async () => {
        for (const prefix of ['/api/2.0/mlflow', '/ajax-api/2.0/mlflow']) {
            const r = assertOk(await api(stack.base, 'GET', prefix + BULK, { run_ids: [big, small], metric_key: 'loss', max_results: 10 }));
            const bigPts = r.metrics.filter((m) => m.run_id === big);
            const smallPts = r.metrics.filter((m) => m.run_id === small);
            assert.ok(bigPts.length >= 2 && bigPts.length <= 14, `big: ${bigPts.length}`);
            assert.equal(bigPts[0].step, 0);
            assert.equal(bigPts.at(-1).step, N - 1);
            assert.equal(smallPts.at(-1).step, 98, "each run's last step");
            assert.deepEqual(Object.keys(bigPts[0]).sort(), ['key', 'run_id', 'step', 'timestamp', 'value']);
            assert.equal(r.metrics[0].run_id, big, 'runs in request order');
        }
        const ranged = assertOk(await api(stack.base, 'GET', '/api/2.0/mlflow' + BULK, { run_ids: small, metric_key: 'loss', start_step: 10, end_step: 20 }));
        assert.deepEqual(ranged.metrics.map((m) => m.step), [10, 12, 14, 16, 18, 20]);
        const all = assertOk(await api(stack.base, 'GET', '/api/2.0/mlflow' + BULK, { run_ids: small, metric_key: 'loss' }));
        assert.equal(all.metrics.length, 50);
        assert.deepEqual(assertOk(await api(stack.base, 'GET', '/api/2.0/mlflow' + BULK, { run_ids: small, metric_key: 'nosuch' })), {});
    });

    test('get-history-bulk-interval: validation', async () => {
        const g = (q) => api(stack.base, 'GET', '/api/2.0/mlflow' + BULK, q);
        assertError(await g({ metric_key: 'loss' }), 400, 'INVALID_PARAMETER_VALUE', 'run_ids');
        assertError(await g({ run_ids: Array(101).fill(big), metric_key: 'loss' }), 400, 'INVALID_PARAMETER_VALUE', 'run_ids');
        assertError(await g({ run_ids: big }), 400, 'INVALID_PARAMETER_VALUE', 'metric_key');
        assertError(await g({ run_ids: big, metric_key: 'loss', start_step: 5 }), 400, 'INVALID_PARAMETER_VALUE', 'end_step');
        assertError(await g({ run_ids: big, metric_key: 'loss', start_step: 5, end_step: 1 }), 400, 'INVALID_PARAMETER_VALUE', 'start_step');
        for (const mr of [0, 2501]) assertError(await g({ run_ids: big, metric_key: 'loss', max_results: mr }), 400, 'INVALID_PARAMETER_VALUE', 'max_results');
    });
});
