// A chart read whose plan was made while the tables were empty. A connection
// keeps a prepared statement's generic plan until an ANALYZE of a table in
// it; the downsample's plan made on empty, analyzed tables (a new server)
// scanned every partition of metrics whole inside each bucket, so once the
// series had grown a chart read ran for minutes on that connection (past the
// statement timeout: a 503). One request thread (--threads 1) keeps one
// database connection, so the read below runs the plan made while empty.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, client, api, assertOk, uniqueName } from './harness.mjs';

const RUNS = 60;
const STEPS = 5000; // max_points 400: buckets of 50 steps, narrower than a block (every point read)

const stack = useStack({ before, after }, { server: { args: ['--threads', '1'] } });

describe('sampled reads planned on empty tables', () => {
    let c;
    before(() => { c = client(stack.base); });

    test('a chart read planned while metrics was empty stays an index read once the series have grown', { timeout: 300000 }, async () => {
        const exp = await c.createExperiment(uniqueName('plans'));
        const runs = [];
        for (let r = 0; r < RUNS; r++) runs.push((await c.createRun(exp)).info.run_id);
        const read = (maxPoints) => api(stack.base, 'GET', '/api/2.0/exptrack/metrics/history', { run_id: runs, metric_key: 'loss', max_points: maxPoints });
        // the tables as a new server's autovacuum leaves them: analyzed while empty
        stack.pg.psql('VACUUM ANALYZE');
        // the first reads plan both sampling statements on the one connection
        assertOk(await read(400));
        assertOk(await c.get('/metrics/get-history-bulk-interval', { run_ids: runs[0], metric_key: 'loss', max_results: 100 }));
        for (const run_id of runs) {
            for (let s0 = 0; s0 < STEPS; s0 += 1000) {
                const metrics = [];
                for (let s = s0; s < s0 + 1000; s++) metrics.push({ key: 'loss', value: Math.sin(s / 97) + s / STEPS, timestamp: 1700000000000 + s, step: s });
                assertOk(await c.post('/runs/log-batch', { run_id, metrics }));
            }
        }
        const t0 = Date.now();
        const j = assertOk(await read(400));
        const ms = Date.now() - t0;
        assert.equal(j.series.length, RUNS);
        for (const s of j.series) {
            assert.equal(s.total_points, STEPS);
            assert.ok(s.steps.length <= 400 && s.steps[0] === 0 && s.steps.at(-1) === STEPS - 1, `${s.steps.length} points`);
        }
        // by index, this read took 0.3 s on a quiet 2-core machine; the plan that
        // scanned each partition per bucket took 12-14 s (a stall, not a slow read)
        assert.ok(ms < 5000, `the read took ${ms} ms`);
    });
});
