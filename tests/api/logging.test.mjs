// Writes to runs: log-parameter, log-metric, set-tag, delete-tag, log-batch,
// log-inputs — values at and past every limit, awkward doubles, UTF-8 keys,
// idempotency, atomic log-batch, errors — under both prefixes.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, client, PREFIXES, assertOk, assertError, uniqueName, api } from './harness.mjs';

const stack = useStack({ before, after });

const UNKNOWN_RUN = 'e'.repeat(32);
const BAD_KEYS = ['a!b', 'a//b', 'a/', './a', '/a', '..a', 'a/../b', '.', 'tab\tkey', 'q"uote'];
const GOOD_KEYS = ['loss', 'train/loss', 'a.b-c d:e_f', '学习率', 'ключ/значение', 'x'.repeat(250)];

function kv(list) {
    return Object.fromEntries((list || []).map((t) => [t.key, t.value]));
}

for (const prefix of PREFIXES) {
    describe(`run writes under ${prefix}`, () => {
        let c;
        let exp;
        const newRun = async () => (await c.createRun(exp)).info.run_id;
        const history = async (run_id, metric_key) => assertOk(await c.get('/metrics/get-history', { run_id, metric_key })).metrics || [];

        before(async () => {
            c = client(stack.base, prefix);
            exp = await c.createExperiment(uniqueName('writes'));
        });

        // ---------------------------------------------------------------- params

        test('log-parameter: values at 6000 kept, 6001 truncated to 6000; empty and absent value', async () => {
            const id = await newRun();
            const v6000 = 'ü'.repeat(6000);
            const v6001 = 'a'.repeat(5999) + 'bc';
            assert.deepEqual(assertOk(await c.post('/runs/log-parameter', { run_id: id, key: 'p6000', value: v6000 })), {});
            assertOk(await c.post('/runs/log-parameter', { run_id: id, key: 'p6001', value: v6001 }));
            assertOk(await c.post('/runs/log-parameter', { run_id: id, key: 'empty', value: '' }));
            assertOk(await c.post('/runs/log-parameter', { run_id: id, key: 'absent' }));
            assertOk(await c.post('/runs/log-parameter', { run_uuid: id, key: 'via-uuid', value: '1' }));
            const p = kv((await c.getRun(id)).data.params);
            assert.equal(p.p6000, v6000);
            assert.equal(p.p6001, v6001.slice(0, 6000));
            assert.equal(p.empty, '');
            assert.equal(p.absent, '');
            assert.equal(p['via-uuid'], '1');
        });

        test('log-parameter: keys at 250 ok, 251 -> 400; UTF-8 keys; bad keys -> 400 naming key', async () => {
            const id = await newRun();
            for (const key of GOOD_KEYS) assertOk(await c.post('/runs/log-parameter', { run_id: id, key, value: key }), `key ${key}`);
            const p = kv((await c.getRun(id)).data.params);
            for (const key of GOOD_KEYS) assert.equal(p[key], key);
            assertError(await c.post('/runs/log-parameter', { run_id: id, key: 'x'.repeat(251), value: 'v' }), 400, 'INVALID_PARAMETER_VALUE', 'key', '251');
            for (const key of BAD_KEYS) {
                assertError(await c.post('/runs/log-parameter', { run_id: id, key, value: 'v' }), 400, 'INVALID_PARAMETER_VALUE', 'key', `key ${JSON.stringify(key)}`);
            }
            assert.equal(Object.keys(kv((await c.getRun(id)).data.params)).length, GOOD_KEYS.length, 'rejected params not stored');
        });

        test('log-parameter: write-once (same value ok, different value 400); type and required errors', async () => {
            const id = await newRun();
            assertOk(await c.post('/runs/log-parameter', { run_id: id, key: 'lr', value: '0.01' }));
            assertOk(await c.post('/runs/log-parameter', { run_id: id, key: 'lr', value: '0.01' }));
            assertError(await c.post('/runs/log-parameter', { run_id: id, key: 'lr', value: '0.02' }), 400, 'INVALID_PARAMETER_VALUE', 'lr');
            assert.equal(kv((await c.getRun(id)).data.params).lr, '0.01');
            assertError(await c.post('/runs/log-parameter', { run_id: id, key: 'n', value: 5 }), 400, 'INVALID_PARAMETER_VALUE', 'value');
            assertError(await c.post('/runs/log-parameter', { run_id: id, value: 'v' }), 400, 'INVALID_PARAMETER_VALUE', 'key');
            assertError(await c.post('/runs/log-parameter', { run_id: id, key: '', value: 'v' }), 400, 'INVALID_PARAMETER_VALUE', 'key');
            assertError(await c.post('/runs/log-parameter', { key: 'k', value: 'v' }), 400, 'INVALID_PARAMETER_VALUE', 'run_id');
            assertError(await c.post('/runs/log-parameter', { run_id: UNKNOWN_RUN, key: 'k', value: 'v' }), 404, 'RESOURCE_DOES_NOT_EXIST', UNKNOWN_RUN);
        });

        // ---------------------------------------------------------------- metrics

        test('log-metric: awkward doubles round-trip exactly (NaN, ±Infinity, -0.0, 1e308, 5e-324, max double)', async () => {
            const id = await newRun();
            const cases = [
                ['nan', 'NaN', 'NaN'],
                ['pinf', 'Infinity', 'Infinity'],
                ['ninf', '-Infinity', '-Infinity'],
                ['negzero', -0, -0],
                ['big', 1e308, 1e308],
                ['tiny', 5e-324, 5e-324],
                ['max', 1.7976931348623157e308, 1.7976931348623157e308],
                ['negmax', -1.7976931348623157e308, -1.7976931348623157e308],
                ['tenth', 0.1, 0.1],
                ['third', 1 / 3, 1 / 3],
                ['int', 42, 42],
                ['neg', -2.5e-10, -2.5e-10],
                ['numstr', '1.5', 1.5],
            ];
            for (const [key, value] of cases) {
                // JSON.stringify(-0) is "0": send the raw text to really send negative zero
                const body = key === 'negzero'
                    ? `{"run_id":"${id}","key":"negzero","value":-0.0,"timestamp":5,"step":0}`
                    : JSON.stringify({ run_id: id, key, value, timestamp: 5, step: 0 });
                assertOk(await c.post('/runs/log-metric', undefined, { raw: body, headers: { 'content-type': 'application/json' } }), `value ${String(value)}`);
            }
            const latest = Object.fromEntries((await c.getRun(id)).data.metrics.map((m) => [m.key, m.value]));
            for (const [key, , want] of cases) {
                const h = await history(id, key);
                assert.equal(h.length, 1, key);
                assert.ok(Object.is(h[0].value, want), `history ${key}: want ${String(want)} (${Object.is(want, -0) ? '-0' : ''}), got ${JSON.stringify(h[0].value)}`);
                assert.ok(Object.is(latest[key], want), `run.data.metrics ${key}: got ${JSON.stringify(latest[key])}`);
            }
            // the strings really are strings on the wire
            const raw = (await c.get('/metrics/get-history', { run_id: id, metric_key: 'pinf' })).text;
            assert.match(raw, /"value"\s*:\s*"Infinity"/);
            assert.match((await c.get('/metrics/get-history', { run_id: id, metric_key: 'nan' })).text, /"value"\s*:\s*"NaN"/);
            assert.match((await c.get('/metrics/get-history', { run_id: id, metric_key: 'negzero' })).text, /"value"\s*:\s*-0(\.0+)?(e[+-]?0+)?\s*[,}]/i);
        });

        test('log-metric: int64 timestamps/steps as numbers and numeric strings, extremes, negative step', async () => {
            const id = await newRun();
            assertOk(await c.post('/runs/log-metric', { run_id: id, key: 'm', value: 1, timestamp: '1700000000000', step: '7' }));
            assertOk(await c.post('/runs/log-metric', { run_id: id, key: 'm', value: 2, timestamp: 0, step: -5 }));
            assertOk(await c.post('/runs/log-metric', { run_id: id, key: 'm', value: 3, timestamp: 1 }));
            assertOk(await c.post('/runs/log-metric', undefined, { // integral JSON reals are valid int64s
                raw: `{"run_id":"${id}","key":"m","value":4,"timestamp":2.0,"step":3.0}`,
                headers: { 'content-type': 'application/json' },
            }));
            assertOk(await c.post('/runs/log-metric', undefined, {
                raw: `{"run_id":"${id}","key":"big","value":1,"timestamp":"9223372036854775807","step":9223372036854775807}`,
                headers: { 'content-type': 'application/json' },
            }));
            assertOk(await c.post('/runs/log-metric', { run_id: id, key: 'big', value: 2, timestamp: 1, step: '-9223372036854775808' }));
            const h = await history(id, 'm');
            assert.deepEqual(h.map((p) => [p.step, p.timestamp, p.value]), [[-5, 0, 2], [0, 1, 3], [3, 2, 4], [7, 1700000000000, 1]]);
            assert.ok(h.every((p) => p.key === 'm'));
            const rawStep0 = (await c.get('/metrics/get-history', { run_id: id, metric_key: 'm' })).text;
            assert.match(rawStep0, /"step"\s*:\s*0\b/, 'explicit default step 0 printed');
            // int64 extremes must survive exactly: check the raw JSON text (JS numbers cannot hold them)
            const raw = (await c.get('/metrics/get-history', { run_id: id, metric_key: 'big' })).text;
            assert.match(raw, /"step"\s*:\s*9223372036854775807\b/);
            assert.match(raw, /"timestamp"\s*:\s*9223372036854775807\b/);
            assert.match(raw, /"step"\s*:\s*-9223372036854775808\b/);
            assert.doesNotMatch(raw, /"(step|timestamp)"\s*:\s*"/, 'int64 printed as numbers, not strings');
        });

        test('log-metric: validation errors name the field', async () => {
            const id = await newRun();
            const base = { run_id: id, key: 'm', value: 1, timestamp: 1, step: 0 };
            const bad = [
                [{ ...base, timestamp: -1 }, 'timestamp'],
                [{ ...base, timestamp: undefined }, 'timestamp'],
                [{ ...base, timestamp: 1.5 }, 'timestamp'],
                [{ ...base, timestamp: '1.0' }, 'timestamp'],
                [{ ...base, timestamp: 'now' }, 'timestamp'],
                [{ ...base, timestamp: '9223372036854775808' }, 'timestamp'],
                [{ ...base, step: 0.5 }, 'step'],
                [{ ...base, step: 'one' }, 'step'],
                [{ ...base, value: undefined }, 'value'],
                [{ ...base, value: 'abc' }, 'value'],
                [{ ...base, value: 'nan' }, 'value'],
                [{ ...base, value: null }, 'value'],
                [{ ...base, value: {} }, 'value'],
                [{ ...base, key: undefined }, 'key'],
                [{ ...base, key: '' }, 'key'],
                [{ ...base, key: 'x'.repeat(251) }, 'key'],
                [{ ...base, run_id: undefined }, 'run_id'],
            ];
            for (const [body, field] of bad) {
                assertError(await c.post('/runs/log-metric', body), 400, 'INVALID_PARAMETER_VALUE', field, JSON.stringify(body).slice(0, 120));
            }
            for (const key of BAD_KEYS) {
                assertError(await c.post('/runs/log-metric', { ...base, key }), 400, 'INVALID_PARAMETER_VALUE', 'key', `key ${JSON.stringify(key)}`);
            }
            assert.equal((await c.getRun(id)).data.metrics, undefined, 'nothing stored');
            assertError(await c.post('/runs/log-metric', { ...base, run_id: UNKNOWN_RUN }), 404, 'RESOURCE_DOES_NOT_EXIST', UNKNOWN_RUN);
        });

        test('log-metric: UTF-8 and 250-char keys; duplicates are idempotent', async () => {
            const id = await newRun();
            for (const key of GOOD_KEYS) assertOk(await c.post('/runs/log-metric', { run_id: id, key, value: 1, timestamp: 1 }));
            const keys = (await c.getRun(id)).data.metrics.map((m) => m.key).sort();
            assert.deepEqual(keys, [...GOOD_KEYS].sort());
            for (let i = 0; i < 3; i++) assertOk(await c.post('/runs/log-metric', { run_id: id, key: 'dup', value: 0.5, timestamp: 9, step: 1 }));
            assertOk(await c.post('/runs/log-metric', { run_id: id, key: 'dup', value: 0.5, timestamp: 9, step: 2 }));
            assert.equal((await history(id, 'dup')).length, 2, 'identical points stored once');
            for (let i = 0; i < 2; i++) assertOk(await c.post('/runs/log-metric', { run_id: id, key: 'dupnan', value: 'NaN', timestamp: 9, step: 1 }));
            assert.equal((await history(id, 'dupnan')).length, 1, 'identical NaN points stored once');
        });

        test('latest metric in run.data = max by (step, timestamp, value), ties keep the old point', async () => {
            const id = await newRun();
            const log = (value, timestamp, step) => c.ok('POST', '/runs/log-metric', { run_id: id, key: 'l', value, timestamp, step });
            const latest = async () => (await c.getRun(id)).data.metrics.find((m) => m.key === 'l');
            await log(5, 100, 1);
            assert.deepEqual(await latest(), { key: 'l', value: 5, timestamp: 100, step: 1 });
            await log(9, 200, 0); // smaller step loses despite later timestamp
            assert.deepEqual(await latest(), { key: 'l', value: 5, timestamp: 100, step: 1 });
            await log(3, 101, 1); // same step, later timestamp wins
            assert.deepEqual(await latest(), { key: 'l', value: 3, timestamp: 101, step: 1 });
            await log(4, 101, 1); // same step+timestamp, larger value wins
            assert.equal((await latest()).value, 4);
            await log(2, 101, 1); // smaller value loses
            assert.equal((await latest()).value, 4);
            await log(-1, 0, 2); // larger step wins
            assert.deepEqual(await latest(), { key: 'l', value: -1, timestamp: 0, step: 2 });
            await log('Infinity', 0, 2); // +inf beats -1
            assert.equal((await latest()).value, 'Infinity');
        });

        // ---------------------------------------------------------------- tags

        test('set-tag: upsert; value 8000 kept, 8001 truncated; empty value; UTF-8/250-char keys', async () => {
            const id = await newRun();
            const v8000 = '€'.repeat(8000);
            assert.deepEqual(assertOk(await c.post('/runs/set-tag', { run_id: id, key: 't', value: 'one' })), {});
            assertOk(await c.post('/runs/set-tag', { run_uuid: id, key: 't', value: 'two' }));
            assertOk(await c.post('/runs/set-tag', { run_id: id, key: 't8000', value: v8000 }));
            assertOk(await c.post('/runs/set-tag', { run_id: id, key: 't8001', value: 'z'.repeat(7999) + 'yx' }));
            assertOk(await c.post('/runs/set-tag', { run_id: id, key: 'empty', value: '' }));
            for (const key of GOOD_KEYS) assertOk(await c.post('/runs/set-tag', { run_id: id, key, value: 'g' }));
            const tags = (await c.getRun(id)).data.tags;
            const t = kv(tags);
            assert.equal(t.t, 'two');
            assert.equal(tags.filter((x) => x.key === 't').length, 1, 'upsert, no duplicate');
            assert.equal(t.t8000, v8000);
            assert.equal(t.t8001, 'z'.repeat(7999) + 'y');
            assert.equal(t.empty, '');
            for (const key of GOOD_KEYS) assert.equal(t[key], 'g');
        });

        test('set-tag: mlflow.runName renames the run; errors', async () => {
            const id = await newRun();
            assertOk(await c.post('/runs/set-tag', { run_id: id, key: 'mlflow.runName', value: 'renamed' }));
            assert.equal((await c.getRun(id)).info.run_name, 'renamed');
            assertError(await c.post('/runs/set-tag', { run_id: id, key: 'x'.repeat(251), value: 'v' }), 400, 'INVALID_PARAMETER_VALUE', 'key');
            for (const key of BAD_KEYS) {
                assertError(await c.post('/runs/set-tag', { run_id: id, key, value: 'v' }), 400, 'INVALID_PARAMETER_VALUE', 'key', `key ${JSON.stringify(key)}`);
            }
            assertError(await c.post('/runs/set-tag', { run_id: id, value: 'v' }), 400, 'INVALID_PARAMETER_VALUE', 'key');
            assertError(await c.post('/runs/set-tag', { run_id: id, key: 'k', value: 1 }), 400, 'INVALID_PARAMETER_VALUE', 'value');
            assertError(await c.post('/runs/set-tag', { key: 'k', value: 'v' }), 400, 'INVALID_PARAMETER_VALUE', 'run_id');
            assertError(await c.post('/runs/set-tag', { run_id: UNKNOWN_RUN, key: 'k', value: 'v' }), 404, 'RESOURCE_DOES_NOT_EXIST', UNKNOWN_RUN);
        });

        test('delete-tag: removes; missing tag -> 404; errors', async () => {
            const id = await newRun();
            await c.ok('POST', '/runs/set-tag', { run_id: id, key: 'gone', value: 'x' });
            assert.deepEqual(assertOk(await c.post('/runs/delete-tag', { run_id: id, key: 'gone' })), {});
            assert.ok(!('gone' in kv((await c.getRun(id)).data.tags)));
            assertError(await c.post('/runs/delete-tag', { run_id: id, key: 'gone' }), 404, 'RESOURCE_DOES_NOT_EXIST', 'gone');
            assertError(await c.post('/runs/delete-tag', { run_id: id }), 400, 'INVALID_PARAMETER_VALUE', 'key');
            assertError(await c.post('/runs/delete-tag', { key: 'k' }), 400, 'INVALID_PARAMETER_VALUE', 'run_id');
            assertError(await c.post('/runs/delete-tag', { run_id: UNKNOWN_RUN, key: 'k' }), 404, 'RESOURCE_DOES_NOT_EXIST', UNKNOWN_RUN);
        });

        test('every write to a deleted run -> 400 INVALID_PARAMETER_VALUE; reads still work; restore re-enables', async () => {
            const id = await newRun();
            await c.ok('POST', '/runs/set-tag', { run_id: id, key: 'keep', value: '1' });
            await c.ok('POST', '/runs/delete', { run_id: id });
            const writes = [
                ['/runs/log-parameter', { run_id: id, key: 'p', value: 'v' }],
                ['/runs/log-metric', { run_id: id, key: 'm', value: 1, timestamp: 1 }],
                ['/runs/set-tag', { run_id: id, key: 't', value: 'v' }],
                ['/runs/delete-tag', { run_id: id, key: 'keep' }],
                ['/runs/log-batch', { run_id: id, metrics: [{ key: 'm', value: 1, timestamp: 1 }] }],
                ['/runs/log-inputs', { run_id: id, datasets: [{ dataset: { name: 'd', digest: 'x', source_type: 'local', source: '/d' } }] }],
            ];
            for (const [ep, body] of writes) assertError(await c.post(ep, body), 400, 'INVALID_PARAMETER_VALUE', undefined, ep);
            const g = await c.getRun(id);
            assert.equal(g.info.lifecycle_stage, 'deleted');
            assert.equal(kv(g.data.tags).keep, '1');
            assert.equal(g.data.metrics, undefined);
            assert.equal(g.data.params, undefined);
            assert.deepEqual(g.inputs, {});
            await c.ok('POST', '/runs/restore', { run_id: id });
            for (const [ep, body] of writes) assertOk(await c.post(ep, body), ep);
        });

        // ---------------------------------------------------------------- log-batch

        test('log-batch: metrics, params and tags written; truncation; repeated tag key last wins; empty batch', async () => {
            const id = await newRun();
            const metrics = [];
            for (let i = 0; i < 50; i++) metrics.push({ key: i % 2 ? 'odd' : 'even', value: i / 7, timestamp: 1000 + i, step: i });
            metrics.push({ key: 'special', value: 'NaN', timestamp: 1, step: 0 });
            metrics.push({ key: 'special', value: '-Infinity', timestamp: 2, step: 1 });
            const r = await c.post('/runs/log-batch', {
                run_id: id,
                metrics,
                params: [{ key: 'p1', value: 'v1' }, { key: 'long', value: 'q'.repeat(6001) }, { key: 'pe', value: '' }],
                tags: [{ key: 't', value: 'first' }, { key: 't', value: 'last' }, { key: 'tl', value: 'r'.repeat(8001) }],
            });
            assert.deepEqual(assertOk(r), {});
            const g = await c.getRun(id);
            const p = kv(g.data.params);
            assert.deepEqual(Object.keys(p).sort(), ['long', 'p1', 'pe']);
            assert.equal(p.long, 'q'.repeat(6000));
            assert.equal(p.pe, '');
            const t = kv(g.data.tags);
            assert.equal(t.t, 'last');
            assert.equal(t.tl, 'r'.repeat(8000));
            assert.equal(g.data.tags.filter((x) => x.key === 't').length, 1);
            const even = await history(id, 'even');
            assert.equal(even.length, 25);
            assert.deepEqual(even.map((x) => x.step), Array.from({ length: 25 }, (_, i) => 2 * i));
            assert.ok(even.every((x) => x.value === x.step / 7 && x.timestamp === 1000 + x.step));
            assert.deepEqual((await history(id, 'special')).map((x) => x.value), ['NaN', '-Infinity']);
            const latest = Object.fromEntries(g.data.metrics.map((m) => [m.key, m]));
            assert.deepEqual(latest.odd, { key: 'odd', value: 49 / 7, timestamp: 1049, step: 49 });
            assert.equal(latest.special.value, '-Infinity');

            assert.deepEqual(assertOk(await c.post('/runs/log-batch', { run_id: id })), {});
            assert.deepEqual(assertOk(await c.post('/runs/log-batch', { run_id: id, metrics: [], params: [], tags: [] })), {});
            // same param value again in a batch is fine
            assertOk(await c.post('/runs/log-batch', { run_id: id, params: [{ key: 'p1', value: 'v1' }] }));
        });

        test('log-batch is atomic: a param conflict fails the whole batch with 400 and writes nothing', async () => {
            const id = await newRun();
            await c.ok('POST', '/runs/log-parameter', { run_id: id, key: 'fixed', value: 'a' });
            const r = await c.post('/runs/log-batch', {
                run_id: id,
                metrics: [{ key: 'atomic_m', value: 1, timestamp: 1, step: 0 }],
                params: [{ key: 'new_param', value: 'x' }, { key: 'fixed', value: 'b' }],
                tags: [{ key: 'atomic_t', value: 'y' }],
            });
            assertError(r, 400, 'INVALID_PARAMETER_VALUE', 'fixed');
            const g = await c.getRun(id);
            assert.deepEqual(kv(g.data.params), { fixed: 'a' }, 'no param of the failed batch');
            assert.equal(g.data.metrics, undefined, 'no metric of the failed batch');
            assert.ok(!('atomic_t' in kv(g.data.tags)), 'no tag of the failed batch');
            assert.deepEqual(await history(id, 'atomic_m'), []);
        });

        test('log-batch: duplicate param keys in one request -> 400, nothing written', async () => {
            const id = await newRun();
            const r = await c.post('/runs/log-batch', {
                run_id: id, params: [{ key: 'dupkey', value: '1' }, { key: 'dupkey', value: '2' }],
                metrics: [{ key: 'm', value: 1, timestamp: 1 }],
            });
            assertError(r, 400, 'INVALID_PARAMETER_VALUE', 'dupkey');
            const g = await c.getRun(id);
            assert.equal(g.data.params, undefined);
            assert.equal(g.data.metrics, undefined);
        });

        test('log-batch: count limits (1000 metrics, 100 params, 100 tags, 1000 total)', async () => {
            const id = await newRun();
            const ms = (n, k = 'm') => Array.from({ length: n }, (_, i) => ({ key: k, value: i, timestamp: 1, step: i }));
            const ps = (n) => Array.from({ length: n }, (_, i) => ({ key: `p${i}`, value: 'v' }));
            const ts = (n) => Array.from({ length: n }, (_, i) => ({ key: `t${i}`, value: 'v' }));
            assertError(await c.post('/runs/log-batch', { run_id: id, metrics: ms(1001) }), 400, 'INVALID_PARAMETER_VALUE', 'metrics');
            assertError(await c.post('/runs/log-batch', { run_id: id, params: ps(101) }), 400, 'INVALID_PARAMETER_VALUE', 'params');
            assertError(await c.post('/runs/log-batch', { run_id: id, tags: ts(101) }), 400, 'INVALID_PARAMETER_VALUE', 'tags');
            assertError(await c.post('/runs/log-batch', { run_id: id, metrics: ms(850), params: ps(100), tags: ts(51) }), 400, 'INVALID_PARAMETER_VALUE');
            const g0 = await c.getRun(id);
            assert.equal(g0.data.metrics, undefined);
            assert.equal(g0.data.params, undefined);
            assertOk(await c.post('/runs/log-batch', { run_id: id, metrics: ms(1000, 'full') }));
            assertOk(await c.post('/runs/log-batch', { run_id: id, metrics: ms(800, 'mix'), params: ps(100), tags: ts(100) }));
            assert.equal((await history(id, 'full')).length, 1000);
            assert.equal((await history(id, 'mix')).length, 800);
            const g = await c.getRun(id);
            assert.equal(g.data.params.length, 100);
            assert.equal(g.data.tags.filter((t) => /^t\d+$/.test(t.key)).length, 100);
        });

        test('log-batch: per-item validation errors name the field, and nothing is written', async () => {
            const id = await newRun();
            const ok = { key: 'm', value: 1, timestamp: 1, step: 0 };
            const cases = [
                [{ metrics: [ok, ok, ok, { ...ok, timestamp: undefined }] }, 'timestamp'],
                [{ metrics: [{ ...ok, timestamp: -3 }] }, 'timestamp'],
                [{ metrics: [{ ...ok, value: undefined }] }, 'value'],
                [{ metrics: [{ ...ok, value: 'x' }] }, 'value'],
                [{ metrics: [{ ...ok, key: undefined }] }, 'key'],
                [{ metrics: [{ ...ok, key: 'k'.repeat(251) }] }, 'key'],
                [{ metrics: [{ ...ok, key: 'a//b' }] }, 'key'],
                [{ metrics: [{ ...ok, step: 'x' }] }, 'step'],
                [{ params: [{ value: 'v' }] }, 'key'],
                [{ params: [{ key: 'p'.repeat(251), value: 'v' }] }, 'key'],
                [{ params: [{ key: 'p', value: 3 }] }, 'value'],
                [{ tags: [{ value: 'v' }] }, 'key'],
                [{ tags: [{ key: '/abs', value: 'v' }] }, 'key'],
                [{ metrics: 'not a list' }, 'metrics'],
                [{ params: { key: 'p', value: 'v' } }, 'params'],
            ];
            for (const [extra, field] of cases) {
                const body = { run_id: id, metrics: [ok], ...extra };
                assertError(await c.post('/runs/log-batch', body), 400, 'INVALID_PARAMETER_VALUE', field, JSON.stringify(extra).slice(0, 100));
            }
            const g = await c.getRun(id);
            assert.equal(g.data.metrics, undefined);
            assert.equal(g.data.params, undefined);
        });

        test('log-batch: run_id rules (missing 400, regex 400, well-formed unknown 404)', async () => {
            const m = [{ key: 'm', value: 1, timestamp: 1 }];
            assertError(await c.post('/runs/log-batch', { metrics: m }), 400, 'INVALID_PARAMETER_VALUE', 'run_id');
            assertError(await c.post('/runs/log-batch', { run_id: '', metrics: m }), 400, 'INVALID_PARAMETER_VALUE', 'run_id');
            for (const bad of ['bad!id', '-leading-dash', 'has space', 'a'.repeat(257), '.dot-start']) {
                assertError(await c.post('/runs/log-batch', { run_id: bad, metrics: m }), 400, 'INVALID_PARAMETER_VALUE', 'run_id', `run_id ${bad.slice(0, 20)}`);
            }
            // passes the regex but is not a run (uppercase, wrong length, unknown): 404
            for (const id of [UNKNOWN_RUN, 'A'.repeat(32), 'abc', 'x'.repeat(256), 'run_1-2']) {
                assertError(await c.post('/runs/log-batch', { run_id: id, metrics: m }), 404, 'RESOURCE_DOES_NOT_EXIST', undefined, `run_id ${id.slice(0, 20)}`);
            }
            // run_uuid alias
            const id = await newRun();
            assertOk(await c.post('/runs/log-batch', { run_uuid: id, metrics: m }));
            assert.equal((await history(id, 'm')).length, 1);
        });

        // ---------------------------------------------------------------- log-inputs

        test('log-inputs: datasets with tags appear in run.inputs; deduplicated', async () => {
            const id = await newRun();
            const ds = {
                tags: [{ key: 'mlflow.data.context', value: 'training' }],
                dataset: { name: 'mnist', digest: 'abc123', source_type: 'local', source: '/data/mnist', schema: '{"x":1}', profile: '{"rows":10}' },
            };
            const ds2 = { dataset: { name: 'цифры', digest: 'd'.repeat(36), source_type: 's3', source: 's3://b/k' } };
            assert.deepEqual(assertOk(await c.post('/runs/log-inputs', { run_id: id, datasets: [ds, ds2] })), {});
            assertOk(await c.post('/runs/log-inputs', { run_id: id, datasets: [ds] }));
            const inputs = (await c.getRun(id)).inputs;
            assert.equal(inputs.dataset_inputs.length, 2, 'same dataset linked once');
            const byName = Object.fromEntries(inputs.dataset_inputs.map((d) => [d.dataset.name, d]));
            assert.deepEqual(byName.mnist.dataset, ds.dataset);
            assert.deepEqual(byName.mnist.tags, ds.tags);
            assert.deepEqual(byName['цифры'].dataset, ds2.dataset);
            assert.ok(!('tags' in byName['цифры']), 'empty tags omitted');
            // also visible in search results
            const s = assertOk(await c.post('/runs/search', { experiment_ids: [exp], max_results: 1000 }));
            const found = s.runs.find((r) => r.info.run_id === id);
            assert.equal(found.inputs.dataset_inputs.length, 2);
        });

        test('log-inputs: dataset and input-tag limits and required fields -> 400 naming the field', async () => {
            const id = await newRun();
            const d = { name: 'n', digest: 'x', source_type: 'local', source: '/s' };
            const cases = [
                [{ dataset: { ...d, name: undefined } }, 'name'],
                [{ dataset: { ...d, digest: undefined } }, 'digest'],
                [{ dataset: { ...d, source_type: undefined } }, 'source_type'],
                [{ dataset: { ...d, source: undefined } }, 'source'],
                [{ dataset: { ...d, name: 'n'.repeat(501) } }, 'name'],
                [{ dataset: { ...d, digest: 'x'.repeat(37) } }, 'digest'],
                [{ dataset: d, tags: [{ key: 'k'.repeat(256), value: 'v' }] }, 'key'],
                [{ dataset: d, tags: [{ key: 'k', value: 'v'.repeat(501) }] }, 'value'],
                [{ tags: [{ key: 'k', value: 'v' }] }, 'dataset'],
            ];
            for (const [ds, field] of cases) {
                assertError(await c.post('/runs/log-inputs', { run_id: id, datasets: [ds] }), 400, 'INVALID_PARAMETER_VALUE', field, JSON.stringify(ds).slice(0, 100));
            }
            assert.deepEqual((await c.getRun(id)).inputs, {}, 'nothing stored');
            // at the limits: fine
            assertOk(await c.post('/runs/log-inputs', {
                run_id: id,
                datasets: [{ dataset: { ...d, name: 'n'.repeat(500), digest: 'x'.repeat(36) }, tags: [{ key: 'k'.repeat(255), value: 'v'.repeat(500) }] }],
            }));
            assertError(await c.post('/runs/log-inputs', { datasets: [{ dataset: d }] }), 400, 'INVALID_PARAMETER_VALUE', 'run_id');
            assertError(await c.post('/runs/log-inputs', { run_id: 'bad!id', datasets: [{ dataset: d }] }), 400, 'INVALID_PARAMETER_VALUE', 'run_id');
            assertError(await c.post('/runs/log-inputs', { run_id: UNKNOWN_RUN, datasets: [{ dataset: d }] }), 404, 'RESOURCE_DOES_NOT_EXIST', UNKNOWN_RUN);
        });
    });
}

// Params are write-once. A write checks the stored value in its statement's
// snapshot, which cannot see a concurrent write of the same key that
// commits after the statement began: both used to be answered 200 while
// only one value was stored. Many writers race on fresh keys, through
// log-parameter and log-batch (grouped and alone, with and without an
// Idempotency-Key); for every key exactly the writers of the stored value
// succeed, and every other writer gets the param-change error.
describe('params stay write-once under concurrent writers', () => {
    let c;
    let run;
    before(async () => {
        c = client(stack.base);
        const exp = await c.createExperiment(uniqueName('param-race'));
        run = (await c.createRun(exp)).info.run_id;
    });

    const write = (key, value, how) => {
        if (how === 'param') return c.post('/runs/log-parameter', { run_id: run, key, value });
        const body = { run_id: run, params: [{ key, value }] };
        if (how === 'keyed') {
            return api(stack.base, 'POST', '/api/2.0/mlflow/runs/log-batch', body, { headers: { 'Idempotency-Key': `race-${key}-${value}` } });
        }
        return c.post('/runs/log-batch', body);
    };

    test('exactly the writers of the stored value succeed', async () => {
        const hows = ['param', 'batch', 'keyed'];
        for (let round = 0; round < 30; round++) {
            const key = `race${round}`;
            const writers = Array.from({ length: 12 }, (_, i) => ({ value: `v${i % 4}`, how: hows[i % 3] }));
            const answers = await Promise.all(writers.map((w) => write(key, w.value, w.how)));
            const stored = kv(assertOk(await c.get('/runs/get', { run_id: run })).run.data.params)[key];
            assert.ok(stored !== undefined, `${key} is stored`);
            answers.forEach((a, i) => {
                if (writers[i].value === stored) {
                    assertOk(a, `${key}: writer ${i} of the stored value ${stored}`);
                } else {
                    assertError(a, 400, 'INVALID_PARAMETER_VALUE', ['Changing param values is not allowed'], `${key}: writer ${i} of ${writers[i].value} (stored ${stored})`);
                }
            });
        }
    });
});
