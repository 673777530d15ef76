// Pages of 1,000 runs (issue 21): the page mlflow.search_runs asks for, with a
// filter on a param and a metric and ordered by another metric. The page is
// checked against a reference computed here from the values logged (which
// runs match, in which order: ties on the metric and on start_time, NaN and
// missing values), and each run of it against runs/get (the jansson
// encoder). The search repeats past PostgreSQL's five custom plans, so the
// prepared statement that loads a page's keys runs with its generic plan too.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, client, assertOk, uniqueName } from './harness.mjs';

const stack = useStack({ before, after });

const NRUNS = 1400;
const FILTER = "params.p != 'v0' AND metrics.f > 0.05";
const ORDER = 'metrics.m1 DESC';

// The values of run i; undefined = not logged.
function runValues(i) {
    return {
        start: 1000 + (i % 50) * 10, // ties on start_time: run_id breaks them
        m1: i % 7 === 0 ? undefined : i % 11 === 0 ? 'NaN' : (i % 37) / 4, // ties on the key
        f: i % 13 === 0 ? 'NaN' : ((i % 20) + 1) / 20, // (i % 20) = 0 fails the filter
        p: i % 17 === 0 ? undefined : `v${i % 20}`, // v0 fails the filter
        other: { m2: i * 1.5, m3: -i, big: 1e300 * (i % 3) },
        params: { q0: `x${i}`, q1: 'é"\\\u0001' },
        tags: { t: `g${i % 3}` },
    };
}

// runs/search's order: class (value, NaN, missing), then value DESC, then
// start_time DESC, then run_id ASC.
function compareExpected(a, b) {
    const cls = (v) => (v === undefined ? 2 : v === 'NaN' ? 1 : 0);
    if (cls(a.v.m1) !== cls(b.v.m1)) return cls(a.v.m1) - cls(b.v.m1);
    if (cls(a.v.m1) === 0 && a.v.m1 !== b.v.m1) return b.v.m1 - a.v.m1;
    if (a.v.start !== b.v.start) return b.v.start - a.v.start;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

describe('runs/search pages of 1,000 runs', () => {
    let c;
    let exp;
    let expected; // [{id, v}] in search order, matching runs only

    before(async () => {
        c = client(stack.base);
        exp = await c.createExperiment(uniqueName('page1000'));
        const runs = [];
        const make = async (i) => {
            const v = runValues(i);
            const run = await c.createRun(exp, { run_name: `r${i}`, start_time: v.start });
            const metrics = [];
            for (const [key, value] of Object.entries({ m1: v.m1, f: v.f, ...v.other }))
                if (value !== undefined) metrics.push({ key, value, timestamp: 7, step: 3 });
            const params = Object.entries({ ...v.params, ...(v.p !== undefined ? { p: v.p } : {}) })
                .map(([key, value]) => ({ key, value }));
            const tags = Object.entries(v.tags).map(([key, value]) => ({ key, value }));
            await c.ok('POST', '/runs/log-batch', { run_id: run.info.run_id, metrics, params, tags });
            runs[i] = { id: run.info.run_id, v };
        };
        const WIDTH = 16;
        for (let i = 0; i < NRUNS; i += WIDTH) {
            const batch = [];
            for (let k = i; k < Math.min(NRUNS, i + WIDTH); k++) batch.push(make(k));
            await Promise.all(batch);
        }
        expected = runs.filter(({ v }) => v.p !== undefined && v.p !== 'v0' && v.f !== 'NaN' && v.f > 0.05)
            .sort(compareExpected);
        assert.ok(expected.length > 1000, `the data set fills a page: ${expected.length} runs match`);
    });

    const search = async (body) => assertOk(await c.post('/runs/search', {
        experiment_ids: [exp], filter: FILTER, order_by: [ORDER], ...body,
    }));

    test('first page: 1,000 runs in the reference order, then the rest by token', async () => {
        const first = await search({}); // max_results defaults to 1,000
        assert.equal(first.runs.length, 1000);
        assert.ok(first.next_page_token, 'a full page carries a token');
        const second = await search({ page_token: first.next_page_token });
        const ids = [...first.runs, ...(second.runs || [])].map((r) => r.info.run_id);
        assert.deepEqual(ids, expected.map((r) => r.id));
    });

    test('each run of the page carries exactly its logged values, keys sorted', async () => {
        const page = await search({});
        const byId = Object.fromEntries(expected.map((r) => [r.id, r.v]));
        const sorted = (o) => Object.keys(o).sort();
        for (const run of page.runs) {
            const v = byId[run.info.run_id];
            const metrics = Object.fromEntries(Object.entries({ m1: v.m1, f: v.f, ...v.other }).filter(([, x]) => x !== undefined));
            assert.deepEqual(run.data.metrics.map((m) => m.key), sorted(metrics));
            for (const m of run.data.metrics) {
                assert.deepEqual([m.value, m.timestamp, m.step], [metrics[m.key], 7, 3], `${run.info.run_name} ${m.key}`);
            }
            const params = { ...v.params, p: v.p };
            assert.deepEqual(run.data.params, sorted(params).map((key) => ({ key, value: params[key] })));
            assert.ok(run.data.tags.some((t) => t.key === 't' && t.value === v.tags.t));
            assert.deepEqual(run.data.tags.map((t) => t.key), run.data.tags.map((t) => t.key).sort());
        }
    });

    test('the page equals runs/get of each run (another encoder), also after many calls', async () => {
        let page;
        for (let i = 0; i < 8; i++) { // past the five custom plans of a prepared statement
            const again = await search({});
            if (page) assert.deepEqual(again, page, `call ${i} returns the same page`);
            page = again;
        }
        const sample = page.runs.filter((_, i) => i % 50 === 0 || i === page.runs.length - 1);
        for (const run of sample) assert.deepEqual(run, await c.getRun(run.info.run_id));
    });

    test('selected keys (another statement) return the same runs with only those keys', async () => {
        const page = await search({});
        const narrow = await search({ metric_keys: ['m1'], param_keys: ['p'], tag_keys: [] });
        assert.deepEqual(narrow.runs.map((r) => r.info), page.runs.map((r) => r.info));
        for (let i = 0; i < page.runs.length; i++) {
            const full = page.runs[i].data, got = narrow.runs[i].data;
            assert.deepEqual(got.metrics || [], full.metrics.filter((m) => m.key === 'm1'));
            assert.deepEqual(got.params, full.params.filter((p) => p.key === 'p'));
            assert.ok(!('tags' in got));
        }
        assert.equal(narrow.next_page_token, page.next_page_token);
    });

    test('NaN and missing values of the order key come after every value, in both directions', async () => {
        for (const dir of ['DESC', 'ASC']) {
            const ids = [];
            let token;
            do {
                const r = await search({ order_by: [`metrics.m1 ${dir}`], max_results: 1000, ...(token ? { page_token: token } : {}) });
                ids.push(...(r.runs || []).map((x) => x.info.run_id));
                token = r.next_page_token;
            } while (token);
            const classOf = Object.fromEntries(expected.map((r) => [r.id, r.v.m1 === undefined ? 2 : r.v.m1 === 'NaN' ? 1 : 0]));
            const classes = ids.map((id) => classOf[id]);
            assert.deepEqual(classes, [...classes].sort((a, b) => a - b), `${dir}: values, then NaN, then missing`);
            assert.equal(new Set(ids).size, expected.length, `${dir}: every matching run once`);
        }
    });
});

// The page's values are read as binary arrays, one row per run: runs with
// nothing logged (NULL arrays), awkward doubles read back bit for bit, values
// that are special in array literals or SQL, keys logged out of order, runs
// with inputs among runs without, and key lists of the select extension with
// such text (bound as one array parameter, never spliced into the statement).
describe('runs/search page values: binary arrays, awkward values, hostile keys', () => {
    let c;
    let exp;
    const DOUBLES = { zero: 0, tiny: 5e-324, huge: 1.7976931348623157e308, third: 1 / 3,
        sum: 0.1 + 0.2, big: 1e21, int: 2 ** 53 + 2, neg: -123.456, ninf: '-Infinity', inf: 'Infinity', nan: 'NaN' };
    const VALUES = ['NULL', 'a,b', '{x}', 'q"\\', "o'; DROP TABLE runs; --", '', ' ', 'é\u0001\t', '$1'];
    // allowed key characters, logged out of bytewise order ('B' < 'a')
    const KEYS = ['z', 'NULL', 'k a', 'k:b', 'k/c', 'k.d', 'a', 'B', '$'.replace('$', 'k-e')];
    const PARAMS = KEYS.map((key, i) => ({ key, value: VALUES[i] }));
    const bytewise = (a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key));

    before(async () => {
        c = client(stack.base);
        exp = await c.createExperiment(uniqueName('pagevals'));
        await c.createRun(exp, { run_name: 'empty', start_time: 10 });
        const full = await c.createRun(exp, { run_name: 'full', start_time: 20 });
        await c.ok('POST', '/runs/log-batch', {
            run_id: full.info.run_id,
            metrics: Object.entries(DOUBLES).map(([key, value]) => ({ key, value, timestamp: 2 ** 45, step: -(2 ** 40) })),
            params: PARAMS,
            tags: [{ key: 'z', value: '' }, { key: 'a', value: 'x'.repeat(5000) }],
        });
        const withInput = await c.createRun(exp, { run_name: 'input', start_time: 30 });
        await c.ok('POST', '/runs/log-inputs', { run_id: withInput.info.run_id, datasets: [{ dataset: { name: 'd', digest: 'x', source_type: 'local', source: '/d' } }] });
        await c.ok('POST', '/runs/log-parameter', { run_id: withInput.info.run_id, key: 'only', value: 'one' });
    });

    const page = async (body = {}) => assertOk(await c.post('/runs/search', { experiment_ids: [exp], ...body }));

    test('runs with nothing logged, with inputs, and with many values, in one page', async () => {
        const { runs } = await page();
        assert.deepEqual(runs.map((r) => r.info.run_name), ['input', 'full', 'empty']);
        assert.deepEqual(runs[0].data.params, [{ key: 'only', value: 'one' }]);
        assert.ok(!('metrics' in runs[0].data));
        assert.equal(runs[0].inputs.dataset_inputs[0].dataset.name, 'd');
        assert.ok(!('metrics' in runs[2].data) && !('params' in runs[2].data));
        assert.deepEqual(runs[2].inputs, {});
        for (const run of runs) assert.deepEqual(run, await c.getRun(run.info.run_id));
    });

    test('metric values read back exactly (subnormal, extremes, non-finite), with int64 times and steps', async () => {
        const { runs } = await page({ filter: "attributes.run_name = 'full'" });
        const metrics = runs[0].data.metrics;
        assert.deepEqual(metrics.map((m) => m.key), Object.keys(DOUBLES).sort());
        for (const m of metrics) {
            assert.ok(Object.is(m.value, DOUBLES[m.key]), `${m.key}: ${m.value} is ${DOUBLES[m.key]}`);
            assert.equal(m.timestamp, 2 ** 45);
            assert.equal(m.step, -(2 ** 40));
        }
    });

    test('params and tags keep every byte and come sorted by key (bytewise)', async () => {
        const { runs } = await page({ filter: "attributes.run_name = 'full'" });
        assert.deepEqual(runs[0].data.params, [...PARAMS].sort(bytewise));
        assert.deepEqual(runs[0].data.tags.filter((t) => t.key === 'a' || t.key === 'z'),
            [{ key: 'a', value: 'x'.repeat(5000) }, { key: 'z', value: '' }]);
    });

    test('select lists with hostile text match exactly those keys; hostile filter values stay values', async () => {
        const pick = ['NULL', 'k:b', 'B', 'absent', 'a,b', '{x}', 'q"\\', "'); DROP TABLE runs; --"];
        const { runs } = await page({ filter: "attributes.run_name = 'full'", param_keys: pick, metric_keys: ['nan', 'NULL', '{nan}'], tag_keys: ['z'] });
        assert.deepEqual(runs[0].data.params, PARAMS.filter((p) => pick.includes(p.key)).sort(bytewise));
        assert.deepEqual(runs[0].data.metrics.map((m) => m.key), ['nan']);
        assert.deepEqual(runs[0].data.tags, [{ key: 'z', value: '' }]);
        for (const { key, value } of PARAMS.filter((p) => !p.value.includes('\\'))) { // backslash: search.test's
            const quoted = value.includes("'") ? `"${value}"` : `'${value}'`;
            const r = await page({ filter: `params.\`${key}\` = ${quoted}` });
            assert.deepEqual((r.runs || []).map((x) => x.info.run_name), ['full'], `param ${key} = ${JSON.stringify(value)}`);
        }
        assert.deepEqual(await page({ filter: "params.only = 'one'' OR ''1''=''1'" }), {});
    });
});
