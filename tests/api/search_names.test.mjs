// Metric names in runs/search and runs/get come from each exptrackd's own map
// of metric key ids to names (issue 21): the page statement returns key ids.
// A key the map has not met (logged through another server on the same
// database, or new since the map was filled) must come back named, at once,
// from every server; names must never be mixed up between ids.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useServers, client, uniqueName } from './harness.mjs';

describe('runs/search: metric names across servers', () => {
    const stack = useServers({ before, after }, [{}, {}]);
    let ca, cb, exp;

    before(async () => {
        ca = client(stack.servers[0].url);
        cb = client(stack.servers[1].url);
        exp = await ca.createExperiment(uniqueName('names'));
    });

    const search = async (c, body = {}) => {
        const r = await c.ok('POST', '/runs/search', { experiment_ids: [exp], max_results: 1000, ...body });
        return r.runs || [];
    };
    const metricsOf = (run) => Object.fromEntries((run.data.metrics || []).map((m) => [m.key, m.value]));

    test('a key logged through one server is named by the other, and back', async () => {
        const run = await ca.createRun(exp, { run_name: 'one' });
        const id = run.info.run_id;
        await ca.ok('POST', '/runs/log-batch', { run_id: id, metrics: [{ key: 'first', value: 1, timestamp: 1, step: 0 }] });
        // both maps learn 'first'
        assert.deepEqual(metricsOf((await search(ca))[0]), { first: 1 });
        assert.deepEqual(metricsOf((await search(cb))[0]), { first: 1 });
        // a key new to both maps, through a, read by b first
        await ca.ok('POST', '/runs/log-batch', { run_id: id, metrics: [{ key: 'second', value: 2, timestamp: 1, step: 0 }] });
        assert.deepEqual(metricsOf((await search(cb))[0]), { first: 1, second: 2 });
        assert.deepEqual(metricsOf((await search(ca))[0]), { first: 1, second: 2 });
        // through b, read by runs/get on a (the same loader)
        await cb.ok('POST', '/runs/log-metric', { run_id: id, key: 'third', value: 3, timestamp: 1, step: 0 });
        const got = await ca.ok('GET', '/runs/get', { run_id: id });
        assert.deepEqual(metricsOf(got.run), { first: 1, second: 2, third: 3 });
    });

    test('many new keys at once, in key order, each with its own value', async () => {
        const run = await cb.createRun(exp, { run_name: 'many' });
        const keys = [];
        for (let i = 0; i < 60; i++) keys.push(`k${String(59 - i).padStart(2, '0')}-${uniqueName('n')}`);
        const metrics = keys.map((key, i) => ({ key, value: i, timestamp: 5, step: i }));
        await cb.ok('POST', '/runs/log-batch', { run_id: run.info.run_id, metrics });
        for (const c of [ca, cb, ca]) {
            const found = (await search(c, { filter: "attributes.run_name = 'many'" }))[0];
            const got = found.data.metrics;
            assert.deepEqual(got.map((m) => m.key), [...keys].sort());
            for (const m of got) {
                const i = keys.indexOf(m.key);
                assert.equal(m.value, i);
                assert.equal(m.step, i);
                assert.equal(m.timestamp, 5);
            }
        }
    });
});
