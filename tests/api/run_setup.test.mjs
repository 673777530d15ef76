// The run-setup path as MLflow clients take it (issue 21): runs/create,
// one log-batch of params, metrics and tags, runs/update to FINISHED, many
// runs at once. Each of these requests is one statement now; these tests pin
// what the transactions used to guarantee: a request that fails writes
// nothing and fails alone among its concurrent peers, create and update
// answer what a later read sees, and small metric writes keep taking the
// group commit's one-statement path (a statement that no longer parses
// would fall back silently and only show up as database errors).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, client, api, startServer, assertOk, assertError, uniqueName, waitUntil, sleep } from './harness.mjs';
import { spawn } from 'node:child_process';

const stack = useStack({ before, after });
let victim;
after(async () => { if (victim) await victim.stop(); });

const kv = (list) => Object.fromEntries((list || []).map((t) => [t.key, t.value]));

// The counter of failed statements with status `status` in /metrics.
async function dbErrors(base, status) {
    const r = await fetch(`${base}/metrics`);
    const text = await r.text();
    const m = text.match(new RegExp(`^exptrack_db_errors_total\\{status="${status}"\\} (\\d+)$`, 'm'));
    assert.ok(m, `exptrack_db_errors_total{status="${status}"} missing from /metrics`);
    return Number(m[1]);
}

// Requests and groups the group commit has written so far (/metrics).
async function groupCounts(base) {
    const text = await (await fetch(`${base}/metrics`)).text();
    const get = (name) => {
        const m = text.match(new RegExp(`^exptrack_group_commit_batch_size_${name} (\\d+)$`, 'm'));
        assert.ok(m, `exptrack_group_commit_batch_size_${name} missing from /metrics`);
        return Number(m[1]);
    };
    return { requests: get('sum'), groups: get('count') };
}

function setupBatch(i, ts) {
    return {
        params: Array.from({ length: 10 }, (_, p) => ({ key: `p${p}`, value: `v${i}-${p}` })),
        metrics: Array.from({ length: 10 }, (_, m) => ({ key: `m${m}`, value: i + m / 10, timestamp: ts, step: 0 })),
        tags: Array.from({ length: 5 }, (_, t) => ({ key: `t${t}`, value: `tag${i}-${t}` })),
    };
}

describe('run setup', () => {
    let c;
    let exp;
    before(async () => {
        c = client(stack.base);
        exp = await c.createExperiment(uniqueName('setup'));
    });

    test('24 runs set up at once; the four with a conflicting param and the one deleted fail alone, writing nothing', async () => {
        const ts = Date.now();
        const n = 24;
        const conflicting = new Set([3, 9, 15, 21]);
        const deleted = 12;
        // created first, so that some of each kind are ready for their batch together
        const runs = await Promise.all(Array.from({ length: n }, (_, i) => c.createRun(exp, {
            run_name: `setup-${i}`,
            tags: [{ key: 'sweep', value: 'a' }, { key: 'sweep', value: `b${i}` }],
        })));
        const ids = runs.map((r) => r.info.run_id);
        for (const i of conflicting) await c.ok('POST', '/runs/log-parameter', { run_id: ids[i], key: 'p4', value: 'already' });
        await c.ok('POST', '/runs/delete', { run_id: ids[deleted] });

        const outcomes = await Promise.all(ids.map(async (id, i) => {
            const b = await c.post('/runs/log-batch', { run_id: id, ...setupBatch(i, ts) });
            const u = await c.post('/runs/update', { run_id: id, status: 'FINISHED', end_time: ts + 1 });
            return { b, u };
        }));

        for (let i = 0; i < n; i++) {
            const { b, u } = outcomes[i];
            const g = await c.getRun(ids[i]);
            if (i === deleted) {
                assertError(b, 400, 'INVALID_PARAMETER_VALUE', [], `batch of deleted run ${i}`);
                assertError(u, 400, 'INVALID_PARAMETER_VALUE', 'active', `update of deleted run ${i}`);
                assert.equal(g.data.params, undefined, `run ${i}: no params`);
                assert.equal(g.data.metrics, undefined, `run ${i}: no metrics`);
                assert.equal(g.info.status, 'RUNNING', `run ${i}: not finished`);
                continue;
            }
            assertOk(u, `update of run ${i}`);
            assert.equal(u.json.run_info.status, 'FINISHED');
            assert.equal(g.info.status, 'FINISHED');
            assert.equal(g.info.end_time, ts + 1);
            if (conflicting.has(i)) {
                assertError(b, 400, 'INVALID_PARAMETER_VALUE', ['p4', 'already', `v${i}-4`], `batch of run ${i}`);
                assert.deepEqual(kv(g.data.params), { p4: 'already' }, `run ${i}: no param of the failed batch`);
                assert.equal(g.data.metrics, undefined, `run ${i}: no metric of the failed batch`);
                assert.ok(!('t0' in kv(g.data.tags)), `run ${i}: no tag of the failed batch`);
                continue;
            }
            assertOk(b, `batch of run ${i}`);
            const want = setupBatch(i, ts);
            assert.deepEqual(kv(g.data.params), kv(want.params), `run ${i}: params`);
            const tags = kv(g.data.tags);
            for (const t of want.tags) assert.equal(tags[t.key], t.value, `run ${i}: tag ${t.key}`);
            assert.equal(tags.sweep, `b${i}`, `run ${i}: the last of a repeated tag key`);
            assert.equal(tags['mlflow.runName'], `setup-${i}`);
            assert.deepEqual(g.data.metrics.map((m) => [m.key, m.value]).sort(),
                want.metrics.map((m) => [m.key, m.value]).sort(), `run ${i}: latest metrics`);
        }
    });

    test('a statement that fails inside a group fails alone; its peers are written', async () => {
        // A failure that only the database sees, on one param key of this test.
        const boom = uniqueName('explode').replace(/-/g, '_');
        const psql = (sql) => stack.pg.psql(sql);
        psql(`CREATE FUNCTION ${boom}() RETURNS trigger LANGUAGE plpgsql AS $f$
            BEGIN RAISE EXCEPTION 'test failure' USING ERRCODE = 'check_violation'; END $f$`);
        psql(`CREATE TRIGGER ${boom} BEFORE INSERT ON params FOR EACH ROW
            WHEN (NEW.key = '${boom}') EXECUTE FUNCTION ${boom}()`);
        try {
            const ts = Date.now();
            const n = 24;
            const failing = new Set([2, 7, 13, 19]);
            const ids = (await Promise.all(Array.from({ length: n }, () => c.createRun(exp)))).map((r) => r.info.run_id);
            const g0 = await groupCounts(stack.base);
            const out = await Promise.all(ids.map((id, i) => {
                const b = setupBatch(i, ts);
                if (failing.has(i)) b.params.push({ key: boom, value: 'x' });
                return c.post('/runs/log-batch', { run_id: id, ...b });
            }));
            const g1 = await groupCounts(stack.base);
            for (let i = 0; i < n; i++) {
                const g = await c.getRun(ids[i]);
                if (failing.has(i)) {
                    assert.notEqual(out[i].status, 200, `batch ${i} fails`);
                    assert.equal(g.data.params, undefined, `run ${i}: nothing of its batch`);
                    assert.equal(g.data.metrics, undefined, `run ${i}: no metric`);
                    assert.ok(!('t0' in kv(g.data.tags)), `run ${i}: no tag`);
                    continue;
                }
                assertOk(out[i], `batch ${i}`);
                assert.deepEqual(kv(g.data.params), kv(setupBatch(i, ts).params), `run ${i}: params`);
                assert.equal(g.data.metrics.length, 10, `run ${i}: metrics`);
            }
            assert.equal(g1.requests - g0.requests, n, 'every batch went through the group commit');
            assert.ok(g1.groups - g0.groups < n, `${n} batches in ${g1.groups - g0.groups} groups: some shared one`);
        } finally {
            psql(`DROP TRIGGER ${boom} ON params; DROP FUNCTION ${boom}()`);
        }
    });

    test('a call stuck behind a row lock does not hold back the calls queued after it', { timeout: 60000 }, async () => {
        const id = (await c.createRun(exp)).info.run_id;
        // another transaction inserts the param the batch will write, and keeps it 3 s
        const holder = spawn('psql', ['-X', '-q', '-h', stack.pg.dir, '-p', String(stack.pg.port), '-U', 'postgres',
            '-d', 'exptrack', '-c', `BEGIN; INSERT INTO params (run_id, key, value) SELECT id, 'held', 'x' FROM runs
                WHERE run_uuid = '${id}'; SELECT pg_sleep(3); COMMIT;`], { stdio: 'ignore' });
        const held = new Promise((resolve) => holder.on('exit', resolve));
        await waitUntil(() => stack.pg.psql("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'").trim() === '1',
            10000, 'the lock holder sleeping', 20);
        const t0 = Date.now();
        const blocked = c.post('/runs/log-batch', { run_id: id, params: [{ key: 'held', value: 'y' }] })
            .then((r) => ({ r, ms: Date.now() - t0 }));
        await sleep(200); // its group is in its statements, waiting for the lock
        const others = await Promise.all(Array.from({ length: 4 }, (_, i) => c.createRun(exp, { run_name: `after-${i}` })));
        const othersMs = Date.now() - t0;
        const b = await blocked;
        await held;
        assert.equal(others.length, 4);
        assert.ok(othersMs < 2000, `the creates queued behind the stuck batch took ${othersMs} ms`);
        assert.ok(b.ms >= 2000, `the batch waited for the lock (${b.ms} ms)`);
        assertError(b.r, 400, 'INVALID_PARAMETER_VALUE', 'held', 'the batch meets the committed param');
    });

    test('create answers what a read sees: tags deduplicated (last wins) and sorted by key', async () => {
        const tags = [
            { key: 'zeta', value: '1' }, { key: 'alpha', value: 'first' }, { key: 'Beta', value: 'x' },
            { key: 'alpha', value: 'second' }, { key: 'mlflow.runName', value: 'named-by-tag' },
        ];
        const run = await c.createRun(exp, { tags });
        assert.equal(run.info.run_name, 'named-by-tag');
        assert.deepEqual(run.data.tags.map((t) => t.key), ['Beta', 'alpha', 'mlflow.runName', 'zeta']);
        assert.equal(kv(run.data.tags).alpha, 'second');
        const g = await c.getRun(run.info.run_id);
        assert.deepEqual(g.info, run.info);
        assert.deepEqual(g.data, run.data);
    });

    test('create in a deleted experiment stores no run', async () => {
        const dead = await c.createExperiment(uniqueName('dead'));
        await c.ok('POST', '/experiments/delete', { experiment_id: dead });
        assertError(await c.post('/runs/create', { experiment_id: dead, tags: [{ key: 'k', value: 'v' }] }), 400,
            'INVALID_PARAMETER_VALUE', 'active');
        const found = assertOk(await c.post('/runs/search', { experiment_ids: [dead], run_view_type: 'ALL' }));
        assert.equal(found.runs, undefined, 'no run in the deleted experiment');
    });

    test('update answers what a read sees; a new name is mirrored into mlflow.runName', async () => {
        const id = (await c.createRun(exp, { run_name: 'old' })).info.run_id;
        const u = assertOk(await c.post('/runs/update', { run_id: id, run_name: 'new', status: 'KILLED', end_time: 5 }));
        const g = await c.getRun(id);
        assert.deepEqual(u.run_info, g.info);
        assert.equal(g.info.run_name, 'new');
        assert.equal(kv(g.data.tags)['mlflow.runName'], 'new');
    });

    test('a batch that repeats stored points adds only the new ones; latest stays the best point', async () => {
        const id = (await c.createRun(exp)).info.run_id;
        const pts = [{ key: 'loss', value: 0.5, timestamp: 10, step: 1 }, { key: 'loss', value: 0.4, timestamp: 11, step: 2 }];
        assertOk(await c.post('/runs/log-batch', { run_id: id, metrics: pts, params: [{ key: 'a', value: '1' }] }));
        const again = [...pts, { key: 'loss', value: 0.3, timestamp: 12, step: 3 }, { key: 'loss', value: 9, timestamp: 1, step: 0 }];
        assertOk(await c.post('/runs/log-batch', { run_id: id, metrics: again, params: [{ key: 'a', value: '1' }] }));
        const h = assertOk(await c.get('/metrics/get-history', { run_id: id, metric_key: 'loss' })).metrics;
        assert.deepEqual(h.map((m) => m.step).sort(), [0, 1, 2, 3], 'each point once');
        const g = await c.getRun(id);
        assert.deepEqual(g.data.metrics, [{ key: 'loss', value: 0.3, timestamp: 12, step: 3 }]);
    });

    // schema/0038: the statements that write params and tags record their
    // keys in experiment_keys themselves (no trigger any more); every path
    // that writes them, and none that fails.
    test('experiment keys: recorded by every statement that writes params or tags, not by failed ones', async () => {
        const e = await c.createExperiment(uniqueName('keys'));
        const keys = async () => assertOk(await api(stack.base, 'GET', '/api/2.0/exptrack/experiments/keys', { experiment_id: e }));
        const id = (await c.createRun(e, { run_name: 'k', tags: [{ key: 'on_create', value: '1' }] })).info.run_id;
        assertOk(await c.post('/runs/log-batch', {
            run_id: id, params: [{ key: 'batch_p', value: '1' }], tags: [{ key: 'batch_t', value: '1' }],
            metrics: [{ key: 'batch_m', value: 1, timestamp: 1, step: 0 }],
        }));
        assertOk(await c.post('/runs/log-parameter', { run_id: id, key: 'single_p', value: '1' }));
        assertOk(await c.post('/runs/set-tag', { run_id: id, key: 'single_t', value: '1' }));
        // more points than the one-statement batch takes: the transaction path
        const many = Array.from({ length: 300 }, (_, i) => ({ key: 'big_m', value: i, timestamp: 1, step: i }));
        assertOk(await c.post('/runs/log-batch', {
            run_id: id, metrics: many, params: [{ key: 'big_p', value: '1' }], tags: [{ key: 'big_t', value: '1' }],
        }));
        // a batch that fails (a param with another value) records none of its keys
        assertError(await c.post('/runs/log-batch', {
            run_id: id, params: [{ key: 'batch_p', value: 'other' }, { key: 'failed_p', value: '1' }],
            tags: [{ key: 'failed_t', value: '1' }],
        }), 400, 'INVALID_PARAMETER_VALUE');
        const other = (await c.createRun(e)).info.run_id;
        assertOk(await c.post('/runs/update', { run_id: other, run_name: 'renamed' }));
        await c.ok('POST', '/runs/delete', { run_id: other });
        assertError(await c.post('/runs/log-batch', { run_id: other, params: [{ key: 'deleted_p', value: '1' }] }), 400);
        const k = await keys();
        assert.deepEqual(k.params, ['batch_p', 'big_p', 'single_p']);
        assert.deepEqual(k.tags, ['batch_t', 'big_t', 'mlflow.runName', 'on_create', 'single_t']);
        assert.deepEqual(k.metrics, ['batch_m', 'big_m']);
        // the same keys from another run of the experiment: no duplicate, no failure
        const again = (await c.createRun(e, { tags: [{ key: 'on_create', value: '2' }] })).info.run_id;
        assertOk(await c.post('/runs/log-batch', { run_id: again, params: [{ key: 'batch_p', value: '2' }], tags: [{ key: 'batch_t', value: '2' }] }));
        assert.deepEqual(await keys(), k);
    });

    test('small metric writes take the group commit path without a failed statement', async () => {
        const ids = await Promise.all(Array.from({ length: 4 }, () => c.createRun(exp).then((r) => r.info.run_id)));
        const before = await dbErrors(stack.base, 'error');
        const ts = Date.now();
        await Promise.all(Array.from({ length: 40 }, (_, i) => c.post('/runs/log-metric', {
            run_id: ids[i % 4], key: 'acc', value: i, timestamp: ts, step: i,
        }).then((r) => assertOk(r, `log-metric ${i}`))));
        assert.equal(await dbErrors(stack.base, 'error'), before, 'no statement failed');
        for (const id of ids) {
            const h = assertOk(await c.get('/metrics/get-history', { run_id: id, metric_key: 'acc' })).metrics;
            assert.equal(h.length, 10);
        }
    });

    test('kill -9 under run-setup load: every acknowledged create, batch and update is there', { timeout: 120000 }, async () => {
        victim = await startServer({ databaseUrl: stack.pg.url });
        const v = client(victim.url);
        const acked = []; // {id, i, batch, update}
        let stopped = 0;
        const writer = async (w) => {
            for (let i = 0; ; i++) {
                const n = w * 100000 + i;
                const step = { i: n, id: null, batch: false, update: false };
                try {
                    const cr = await v.post('/runs/create', { experiment_id: exp, run_name: `kill-${n}` }, { timeoutMs: 10000 });
                    if (cr.status !== 200) break;
                    step.id = cr.json.run.info.run_id;
                    acked.push(step);
                    const b = await v.post('/runs/log-batch', { run_id: step.id, ...setupBatch(n, 1) }, { timeoutMs: 10000 });
                    if (b.status !== 200) break;
                    step.batch = true;
                    const u = await v.post('/runs/update', { run_id: step.id, status: 'FINISHED', end_time: 2 }, { timeoutMs: 10000 });
                    if (u.status !== 200) break;
                    step.update = true;
                } catch {
                    break; // the server is gone
                }
            }
            stopped += 1;
        };
        const writers = Array.from({ length: 8 }, (_, w) => writer(w));
        await waitUntil(() => acked.filter((s) => s.update).length >= 60 || victim.exited(), 60000, '60 runs set up', 20);
        assert.ok(!victim.exited(), `exptrackd died on its own:\n${victim.log()}`);
        await victim.kill9();
        await Promise.all(writers);
        assert.equal(stopped, 8);
        for (const s of acked) {
            const g = await c.getRun(s.id); // through the other server
            assert.equal(g.info.run_name, `kill-${s.i}`);
            if (s.batch) {
                assert.deepEqual(kv(g.data.params), kv(setupBatch(s.i, 1).params), `acknowledged batch of ${s.i}`);
                assert.equal(g.data.metrics.length, 10);
            } else {
                assert.ok(g.data.params === undefined || Object.keys(kv(g.data.params)).length === 10, `batch of ${s.i} whole or absent`);
            }
            if (s.update) assert.equal(g.info.status, 'FINISHED', `acknowledged update of ${s.i}`);
        }
    });

    test('--group-commit metrics: the same answers with each control-plane write in its own commit', async () => {
        const solo = await startServer({ databaseUrl: stack.pg.url, args: ['--group-commit', 'metrics'] });
        try {
            const v = client(solo.url);
            const runs = await Promise.all(Array.from({ length: 6 }, (_, i) => v.createRun(exp, { run_name: `solo-${i}` })));
            await v.ok('POST', '/runs/log-parameter', { run_id: runs[2].info.run_id, key: 'p4', value: 'already' });
            const out = await Promise.all(runs.map((r, i) => v.post('/runs/log-batch', { run_id: r.info.run_id, ...setupBatch(i, 7) })));
            for (let i = 0; i < runs.length; i++) {
                if (i === 2) assertError(out[i], 400, 'INVALID_PARAMETER_VALUE', 'p4');
                else assertOk(out[i], `batch ${i}`);
            }
            const g = await v.getRun(runs[3].info.run_id);
            assert.deepEqual(kv(g.data.params), kv(setupBatch(3, 7).params));
            assert.deepEqual(kv((await v.getRun(runs[2].info.run_id)).data.params), { p4: 'already' });
            const u = assertOk(await v.post('/runs/update', { run_id: runs[0].info.run_id, status: 'FINISHED' }));
            assert.equal(u.run_info.status, 'FINISHED');
        } finally {
            await solo.stop();
        }
    });
});
