// Experiments API: create, get, get-by-name, update, delete, restore, search,
// set-experiment-tag, delete-experiment-tag — every endpoint and error code,
// under both /api/2.0/mlflow and /ajax-api/2.0/mlflow.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, client, PREFIXES, assertOk, assertError, uniqueName } from './harness.mjs';

const stack = useStack({ before, after });

// Tag keys the contract's key rules reject (charset and path rules).
const BAD_KEYS = ['a!b', 'a//b', 'a/', './a', '/a', '..a', 'a/../b', '.', 'tab\tkey', 'new\nline', 'q"uote'];

function tagMap(tags) {
    return Object.fromEntries((tags || []).map((t) => [t.key, t.value]));
}

for (const prefix of PREFIXES) {
    describe(`experiments under ${prefix}`, () => {
        let c;
        before(() => { c = client(stack.base, prefix); });

        test('default experiment 0 "Default" exists', async () => {
            const e = await c.getExperiment('0');
            assert.equal(e.experiment_id, '0');
            assert.equal(e.name, 'Default');
            assert.equal(e.lifecycle_stage, 'active');
            const byName = assertOk(await c.get('/experiments/get-by-name', { experiment_name: 'Default' }));
            assert.equal(byName.experiment.experiment_id, '0');
        });

        test('create -> {experiment_id} (numeric string); get returns the full experiment', async () => {
            const name = uniqueName('exp');
            const before = Date.now();
            const r = assertOk(await c.post('/experiments/create', { name }));
            assert.deepEqual(Object.keys(r), ['experiment_id']);
            assert.equal(typeof r.experiment_id, 'string');
            assert.match(r.experiment_id, /^[1-9]\d*$/);
            const e = await c.getExperiment(r.experiment_id);
            assert.equal(e.experiment_id, r.experiment_id);
            assert.equal(e.name, name);
            assert.equal(e.lifecycle_stage, 'active');
            assert.equal(e.artifact_location, `mlflow-artifacts:/${r.experiment_id}`);
            assert.equal(typeof e.creation_time, 'number');
            assert.equal(typeof e.last_update_time, 'number');
            assert.ok(e.creation_time >= before - 5000 && e.creation_time <= Date.now() + 5000, `creation_time ${e.creation_time}`);
            assert.ok(!('tags' in e), 'empty tags omitted');
        });

        test('create with tags and artifact_location; tags returned by get and get-by-name', async () => {
            const name = uniqueName('exp-tags');
            const id = await c.createExperiment(name, {
                artifact_location: 's3://bucket/some/where',
                tags: [{ key: 'team', value: 'vision' }, { key: 'empty', value: '' }, { key: 'ключ', value: 'значение ✓' }],
            });
            const e = await c.getExperiment(id);
            assert.equal(e.artifact_location, 's3://bucket/some/where');
            assert.deepEqual(tagMap(e.tags), { team: 'vision', empty: '', 'ключ': 'значение ✓' });
            const byName = assertOk(await c.get('/experiments/get-by-name', { experiment_name: name })).experiment;
            assert.deepEqual(byName, e);
        });

        test('create: UTF-8 name and names at the 500-char limit', async () => {
            const utf = `${uniqueName('эксперимент')}-实验-🚀`;
            const id = await c.createExperiment(utf);
            assert.equal((await c.getExperiment(id)).name, utf);
            const at500 = (uniqueName('n') + 'x'.repeat(500)).slice(0, 500);
            const id500 = await c.createExperiment(at500);
            assert.equal((await c.getExperiment(id500)).name, at500);
            const r = await c.post('/experiments/create', { name: at500.slice(0, 499) + 'yy' });
            assertError(r, 400, 'INVALID_PARAMETER_VALUE', 'name', '501-char name');
        });

        test('create: missing, empty, null and non-string name -> 400 naming "name"', async () => {
            assertError(await c.post('/experiments/create', {}), 400, 'INVALID_PARAMETER_VALUE', 'name');
            assertError(await c.post('/experiments/create', { name: '' }), 400, 'INVALID_PARAMETER_VALUE', 'name');
            assertError(await c.post('/experiments/create', { name: null }), 400, 'INVALID_PARAMETER_VALUE', 'name');
            assertError(await c.post('/experiments/create', { name: 42 }), 400, 'INVALID_PARAMETER_VALUE', 'name');
            assertError(await c.post('/experiments/create', { name: ['a'] }), 400, 'INVALID_PARAMETER_VALUE', 'name');
        });

        test('create: duplicate name (active or deleted) -> 400 RESOURCE_ALREADY_EXISTS', async () => {
            const name = uniqueName('dup');
            const id = await c.createExperiment(name);
            assertError(await c.post('/experiments/create', { name }), 400, 'RESOURCE_ALREADY_EXISTS', name);
            await c.ok('POST', '/experiments/delete', { experiment_id: id });
            assertError(await c.post('/experiments/create', { name }), 400, 'RESOURCE_ALREADY_EXISTS', name);
            // names are case-sensitive: a different case is a different experiment
            await c.createExperiment(name.toUpperCase());
        });

        test('create: bad artifact_location -> 400 naming artifact_location', async () => {
            for (const loc of ['s3://b/p#frag', 's3://b/p;params', 'x'.repeat(2049)]) {
                const r = await c.post('/experiments/create', { name: uniqueName('loc'), artifact_location: loc });
                assertError(r, 400, 'INVALID_PARAMETER_VALUE', 'artifact_location', `location ${loc.slice(0, 30)}`);
            }
        });

        test('get: missing id -> 400; unknown id -> 404 RESOURCE_DOES_NOT_EXIST; non-numeric -> 4xx', async () => {
            assertError(await c.get('/experiments/get', {}), 400, 'INVALID_PARAMETER_VALUE', 'experiment_id');
            assertError(await c.get('/experiments/get', { experiment_id: '' }), 400, 'INVALID_PARAMETER_VALUE', 'experiment_id');
            assertError(await c.get('/experiments/get', { experiment_id: '987654321' }), 404, 'RESOURCE_DOES_NOT_EXIST', '987654321');
            const r = await c.get('/experiments/get', { experiment_id: 'not-a-number' });
            assert.ok(r.status === 400 || r.status === 404, `non-numeric id must be 400/404, got ${r.status} ${r.text}`);
            assertError(r, r.status, r.status === 404 ? 'RESOURCE_DOES_NOT_EXIST' : 'INVALID_PARAMETER_VALUE');
            // an id past int64 is not a server error either
            const big = await c.get('/experiments/get', { experiment_id: '99999999999999999999999' });
            assert.ok(big.status === 400 || big.status === 404, `huge id: ${big.status} ${big.text}`);
        });

        test('get-by-name: exact, case-sensitive; unknown -> 404 RESOURCE_DOES_NOT_EXIST; missing -> 400', async () => {
            const name = uniqueName('ByName');
            const id = await c.createExperiment(name);
            const e = assertOk(await c.get('/experiments/get-by-name', { experiment_name: name })).experiment;
            assert.equal(e.experiment_id, id);
            assertError(await c.get('/experiments/get-by-name', { experiment_name: name.toLowerCase() }), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await c.get('/experiments/get-by-name', { experiment_name: name + ' ' }), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await c.get('/experiments/get-by-name', { experiment_name: 'no such experiment ' + name }), 404, 'RESOURCE_DOES_NOT_EXIST', 'no such experiment');
            assertError(await c.get('/experiments/get-by-name', {}), 400, 'INVALID_PARAMETER_VALUE', 'experiment_name');
        });

        test('delete / restore: lifecycle, get still works, errors', async () => {
            const name = uniqueName('life');
            const id = await c.createExperiment(name);
            const t0 = (await c.getExperiment(id)).last_update_time;
            assert.deepEqual(assertOk(await c.post('/experiments/delete', { experiment_id: id })), {});
            const d = await c.getExperiment(id);
            assert.equal(d.lifecycle_stage, 'deleted');
            assert.ok(d.last_update_time >= t0, 'last_update_time bumped');
            // get-by-name matches deleted experiments too
            assert.equal(assertOk(await c.get('/experiments/get-by-name', { experiment_name: name })).experiment.lifecycle_stage, 'deleted');
            // deleting again: must be active
            assertError(await c.post('/experiments/delete', { experiment_id: id }), 404, 'RESOURCE_DOES_NOT_EXIST', id);
            assert.deepEqual(assertOk(await c.post('/experiments/restore', { experiment_id: id })), {});
            assert.equal((await c.getExperiment(id)).lifecycle_stage, 'active');
            // restoring an active one: must be deleted
            assertError(await c.post('/experiments/restore', { experiment_id: id }), 404, 'RESOURCE_DOES_NOT_EXIST', id);
            for (const ep of ['/experiments/delete', '/experiments/restore']) {
                assertError(await c.post(ep, { experiment_id: '987654321' }), 404, 'RESOURCE_DOES_NOT_EXIST', '987654321', ep);
                assertError(await c.post(ep, {}), 400, 'INVALID_PARAMETER_VALUE', 'experiment_id', ep);
            }
        });

        test('delete / restore cascade to the runs of the experiment', async () => {
            const id = await c.createExperiment(uniqueName('cascade'));
            const r1 = await c.createRun(id);
            const r2 = await c.createRun(id);
            await c.ok('POST', '/runs/delete', { run_id: r2.info.run_id }); // deleted individually before
            await c.ok('POST', '/experiments/delete', { experiment_id: id });
            assert.equal((await c.getRun(r1.info.run_id)).info.lifecycle_stage, 'deleted');
            assert.equal((await c.getRun(r2.info.run_id)).info.lifecycle_stage, 'deleted');
            // no new runs in a deleted experiment
            assertError(await c.post('/runs/create', { experiment_id: id }), 400, 'INVALID_PARAMETER_VALUE');
            await c.ok('POST', '/experiments/restore', { experiment_id: id });
            assert.equal((await c.getRun(r1.info.run_id)).info.lifecycle_stage, 'active');
            assert.equal((await c.getRun(r2.info.run_id)).info.lifecycle_stage, 'active');
        });

        test('update: rename; errors for missing fields, unknown id, taken name, deleted experiment', async () => {
            const id = await c.createExperiment(uniqueName('old'));
            const t0 = (await c.getExperiment(id)).last_update_time;
            const newName = uniqueName('new-名前');
            assert.deepEqual(assertOk(await c.post('/experiments/update', { experiment_id: id, new_name: newName })), {});
            const e = await c.getExperiment(id);
            assert.equal(e.name, newName);
            assert.ok(e.last_update_time >= t0);
            assert.equal(assertOk(await c.get('/experiments/get-by-name', { experiment_name: newName })).experiment.experiment_id, id);

            assertError(await c.post('/experiments/update', { experiment_id: id }), 400, 'INVALID_PARAMETER_VALUE', 'new_name');
            assertError(await c.post('/experiments/update', { experiment_id: id, new_name: '' }), 400, 'INVALID_PARAMETER_VALUE', 'new_name');
            assertError(await c.post('/experiments/update', { new_name: uniqueName('x') }), 400, 'INVALID_PARAMETER_VALUE', 'experiment_id');
            assertError(await c.post('/experiments/update', { experiment_id: '987654321', new_name: uniqueName('x') }), 404, 'RESOURCE_DOES_NOT_EXIST', '987654321');

            const other = uniqueName('taken');
            await c.createExperiment(other);
            assertError(await c.post('/experiments/update', { experiment_id: id, new_name: other }), 400, 'BAD_REQUEST');
            assert.equal((await c.getExperiment(id)).name, newName, 'failed rename changed nothing');

            await c.ok('POST', '/experiments/delete', { experiment_id: id });
            // renaming a deleted experiment is INVALID_STATE, as MLflow, but 400 rather
            // than MLflow's 500, which clients retry for minutes (docs/api.md)
            assertError(await c.post('/experiments/update', { experiment_id: id, new_name: uniqueName('x') }), 400, 'INVALID_STATE');
        });

        test('set-experiment-tag: upsert, empty and UTF-8 values, limits 250/5000', async () => {
            const id = await c.createExperiment(uniqueName('tags'));
            const set = (key, value) => c.post('/experiments/set-experiment-tag', { experiment_id: id, key, value });
            assert.deepEqual(assertOk(await set('k', 'v1')), {});
            assertOk(await set('k', 'v2'));
            assertOk(await set('empty', ''));
            assertOk(await set('w/x.y-z :ü_9', 'ok'));
            const k250 = 'k'.repeat(250);
            const v5000 = 'é'.repeat(5000); // code points, not bytes
            assertOk(await set(k250, v5000));
            const tags = tagMap((await c.getExperiment(id)).tags);
            assert.equal(tags.k, 'v2');
            assert.equal(tags.empty, '');
            assert.equal(tags['w/x.y-z :ü_9'], 'ok');
            assert.equal(tags[k250], v5000);
            assert.equal(Object.keys(tags).length, 4, 'upsert, no duplicate tag');

            assertError(await set('k'.repeat(251), 'v'), 400, 'INVALID_PARAMETER_VALUE', 'key', '251-char key');
            assertError(await set('big', 'v'.repeat(5001)), 400, 'INVALID_PARAMETER_VALUE', 'value', '5001-char value');
            assert.ok(!('big' in tagMap((await c.getExperiment(id)).tags)), 'rejected tag not stored');
        });

        test('set-experiment-tag: bad keys, missing fields, unknown and deleted experiments', async () => {
            const id = await c.createExperiment(uniqueName('tagerr'));
            for (const key of BAD_KEYS) {
                assertError(await c.post('/experiments/set-experiment-tag', { experiment_id: id, key, value: 'v' }),
                    400, 'INVALID_PARAMETER_VALUE', 'key', `key ${JSON.stringify(key)}`);
            }
            assertError(await c.post('/experiments/set-experiment-tag', { experiment_id: id, value: 'v' }), 400, 'INVALID_PARAMETER_VALUE', 'key');
            assertError(await c.post('/experiments/set-experiment-tag', { experiment_id: id, key: '', value: 'v' }), 400, 'INVALID_PARAMETER_VALUE', 'key');
            assertError(await c.post('/experiments/set-experiment-tag', { key: 'k', value: 'v' }), 400, 'INVALID_PARAMETER_VALUE', 'experiment_id');
            assertError(await c.post('/experiments/set-experiment-tag', { experiment_id: id, key: 'k', value: 5 }), 400, 'INVALID_PARAMETER_VALUE', 'value');
            assertError(await c.post('/experiments/set-experiment-tag', { experiment_id: '987654321', key: 'k', value: 'v' }), 404, 'RESOURCE_DOES_NOT_EXIST', '987654321');
            await c.ok('POST', '/experiments/delete', { experiment_id: id });
            assertError(await c.post('/experiments/set-experiment-tag', { experiment_id: id, key: 'k', value: 'v' }), 400, 'INVALID_PARAMETER_VALUE');
            assert.equal((await c.getExperiment(id)).tags, undefined, 'nothing written');
        });

        test('delete-experiment-tag: removes; missing tag 404; deleted experiment 400', async () => {
            const id = await c.createExperiment(uniqueName('deltag'), { tags: [{ key: 'a', value: '1' }, { key: 'b', value: '2' }] });
            assert.deepEqual(assertOk(await c.post('/experiments/delete-experiment-tag', { experiment_id: id, key: 'a' })), {});
            assert.deepEqual(tagMap((await c.getExperiment(id)).tags), { b: '2' });
            assertError(await c.post('/experiments/delete-experiment-tag', { experiment_id: id, key: 'a' }), 404, 'RESOURCE_DOES_NOT_EXIST', 'a');
            assertError(await c.post('/experiments/delete-experiment-tag', { experiment_id: id }), 400, 'INVALID_PARAMETER_VALUE', 'key');
            assertError(await c.post('/experiments/delete-experiment-tag', { key: 'b' }), 400, 'INVALID_PARAMETER_VALUE', 'experiment_id');
            assertError(await c.post('/experiments/delete-experiment-tag', { experiment_id: '987654321', key: 'b' }), 404, 'RESOURCE_DOES_NOT_EXIST', '987654321');
            await c.ok('POST', '/experiments/delete', { experiment_id: id });
            assertError(await c.post('/experiments/delete-experiment-tag', { experiment_id: id, key: 'b' }), 400, 'INVALID_PARAMETER_VALUE');
            await c.ok('POST', '/experiments/restore', { experiment_id: id });
            assert.deepEqual(tagMap((await c.getExperiment(id)).tags), { b: '2' }, 'tag survived the refused delete');
            assert.deepEqual(assertOk(await c.post('/experiments/delete-experiment-tag', { experiment_id: id, key: 'b' })), {});
            assert.ok(!('tags' in (await c.getExperiment(id))), 'no tags left -> tags omitted');
        });

        test('search: view_type (names, numbers, numeric strings), order, tags, empty filter', async () => {
            const live = await c.createExperiment(uniqueName('s-live'), { tags: [{ key: 'st', value: 'x' }] });
            const dead = await c.createExperiment(uniqueName('s-dead'));
            await c.ok('POST', '/experiments/delete', { experiment_id: dead });

            const search = async (body) => assertOk(await c.post('/experiments/search', { max_results: 50000, ...body })).experiments || [];
            const active = await search({});
            const activeIds = active.map((e) => e.experiment_id);
            assert.ok(activeIds.includes(live) && activeIds.includes('0'));
            assert.ok(!activeIds.includes(dead), 'default view is ACTIVE_ONLY');
            assert.ok(active.every((e) => e.lifecycle_stage === 'active'));
            assert.deepEqual(tagMap(active.find((e) => e.experiment_id === live).tags), { st: 'x' });
            for (let i = 1; i < active.length; i++) {
                assert.ok(active[i - 1].creation_time >= active[i].creation_time, 'default order creation_time DESC');
            }
            assert.deepEqual((await search({ filter: '' })).map((e) => e.experiment_id), activeIds, 'empty filter = no filter');

            for (const vt of ['ACTIVE_ONLY', 1, '1']) {
                assert.deepEqual((await search({ view_type: vt })).map((e) => e.experiment_id), activeIds, `view_type ${vt}`);
            }
            for (const vt of ['DELETED_ONLY', 2, '2']) {
                const got = await search({ view_type: vt });
                assert.ok(got.length >= 1 && got.every((e) => e.lifecycle_stage === 'deleted'), `view_type ${vt}`);
                assert.ok(got.some((e) => e.experiment_id === dead));
            }
            for (const vt of ['ALL', 3, '3']) {
                const ids = (await search({ view_type: vt })).map((e) => e.experiment_id);
                assert.ok(ids.includes(dead) && ids.includes(live), `view_type ${vt}`);
                assert.equal(new Set(ids).size, ids.length);
            }
            assertError(await c.post('/experiments/search', { max_results: 10, view_type: 'BOGUS' }), 400, 'INVALID_PARAMETER_VALUE', 'view_type');

            // GET with query parameters
            const g = assertOk(await c.get('/experiments/search', { max_results: 50000, view_type: 'ALL' }));
            const gi = g.experiments.map((e) => e.experiment_id);
            assert.ok(gi.includes(dead) && gi.includes(live));
            assert.ok(!('next_page_token' in g));
        });

        test('search: max_results limits and paging to the end (token only when more rows exist)', async () => {
            for (let i = 0; i < 4; i++) await c.createExperiment(uniqueName('page'));
            let all = assertOk(await c.post('/experiments/search', { max_results: 50000 })).experiments;
            // make the count a multiple of 3 to exercise a full last page
            while (all.length % 3 !== 0) {
                await c.createExperiment(uniqueName('pad'));
                all = assertOk(await c.post('/experiments/search', { max_results: 50000 })).experiments;
            }
            const allIds = all.map((e) => e.experiment_id);
            for (const [size, useGet] of [[3, false], [all.length - 1, true], [1, false]]) {
                const got = [];
                let token;
                let pages = 0;
                for (;;) {
                    const q = { max_results: size, ...(token ? { page_token: token } : {}) };
                    const r = assertOk(useGet ? await c.get('/experiments/search', q) : await c.post('/experiments/search', q));
                    pages += 1;
                    assert.ok(pages <= all.length + 1, 'paging terminates');
                    const page = r.experiments || [];
                    assert.ok(page.length >= 1 && page.length <= size, `page of ${page.length} for max_results ${size}`);
                    got.push(...page.map((e) => e.experiment_id));
                    if (!('next_page_token' in r)) break;
                    assert.equal(typeof r.next_page_token, 'string');
                    assert.ok(r.next_page_token.length > 0);
                    token = r.next_page_token;
                }
                assert.deepEqual(got, allIds, `paging with max_results ${size} yields every experiment once, in order`);
                assert.equal(pages, Math.ceil(all.length / size), 'no empty trailing page');
            }
            const r = assertOk(await c.post('/experiments/search', { max_results: all.length }));
            assert.equal(r.experiments.length, all.length);
            assert.ok(!('next_page_token' in r), 'exactly-full single page has no token');
        });

        test('search: invalid max_results and page_token -> 400 naming the field', async () => {
            for (const mr of [0, -1, 50001]) {
                assertError(await c.post('/experiments/search', { max_results: mr }), 400, 'INVALID_PARAMETER_VALUE', 'max_results', `max_results ${mr}`);
            }
            assertError(await c.get('/experiments/search', { max_results: 50001 }), 400, 'INVALID_PARAMETER_VALUE', 'max_results');
            assertOk(await c.post('/experiments/search', { max_results: 50000 }));
            for (const tok of ['garbage!!', 'eyJmb28iOiAxfQ==' /* {"foo": 1} */, 'Zm9v']) {
                assertError(await c.post('/experiments/search', { max_results: 5, page_token: tok }), 400, 'INVALID_PARAMETER_VALUE', 'page_token', `token ${tok}`);
            }
        });
    });
}

// Dashboard extensions: exptrack/experiments/stats and exptrack/runs/purge.
describe('exptrack experiments/stats and runs/purge', () => {
    const X = '/api/2.0/exptrack';
    let c;
    before(() => { c = client(stack.base); });
    const sql = (q) => stack.pg.psql(q).trim();
    const getStats = async (ids) => {
        const r = await client(stack.base, X).get('/experiments/stats', { experiment_id: ids });
        return assertOk(r, 'stats').experiments;
    };

    test('stats: run counts by lifecycle and status, newest start, last activity', async () => {
        const exp = await c.createExperiment(uniqueName('stats'));
        const empty = await c.createExperiment(uniqueName('stats-empty'));
        const t0 = 1700000000000;
        const runs = [];
        for (let i = 0; i < 5; i++) runs.push((await c.createRun(exp, { start_time: t0 + i * 1000 })).info.run_id);
        // two finished (one ending late), one deleted, two still RUNNING; one of those logs a late point
        await c.ok('POST', '/runs/update', { run_id: runs[0], status: 'FINISHED', end_time: t0 + 50000 });
        await c.ok('POST', '/runs/update', { run_id: runs[1], status: 'FAILED', end_time: t0 + 2000 });
        await c.ok('POST', '/runs/delete', { run_id: runs[4] });
        await c.ok('POST', '/runs/log-metric', { run_id: runs[3], key: 'loss', value: 1, timestamp: t0 + 90000, step: 1 });
        const list = await getStats([exp, empty, '999999', 'not-an-id', exp]);
        assert.deepEqual(list.map((s) => s.experiment_id), [exp, empty], 'known ids once, in request order');
        const s = list[0];
        assert.equal(s.active_runs, 4);
        assert.equal(s.deleted_runs, 1);
        assert.equal(s.running_runs, 2);
        assert.equal(s.last_run_start_time, t0 + 3000, 'newest start of an active run (the deleted one started later)');
        const e = await c.getExperiment(exp);
        assert.equal(s.last_activity_time, Math.max(e.last_update_time, t0 + 90000));
        assert.deepEqual(list[1], { experiment_id: empty, active_runs: 0, deleted_runs: 0, running_runs: 0,
            last_run_start_time: 0, last_activity_time: (await c.getExperiment(empty)).last_update_time });
        // the late point counts while its run is RUNNING: move the clock of the experiment far back to see it
        sql(`UPDATE experiments SET last_update_time = 1 WHERE experiment_id = ${Number(exp)}`);
        assert.equal((await getStats([exp]))[0].last_activity_time, t0 + 90000);
        await c.ok('POST', '/runs/update', { run_id: runs[3], status: 'FINISHED' });
        const after = (await getStats([exp]))[0];
        assert.equal(after.running_runs, 1);
        assert.ok(after.last_activity_time >= t0 + 50000, 'end times count');
    });

    test('stats: the query is an index-only scan of runs_experiment_stats', async () => {
        const plan = sql(`SET enable_seqscan = off; SET enable_bitmapscan = off; EXPLAIN SELECT count(*) FILTER (WHERE lifecycle_stage = 'active'),
            max(start_time), max(end_time) FROM runs WHERE experiment_id = 1`);
        assert.match(plan, /Index Only Scan using runs_experiment_stats/);
    });

    test('stats: bad input -> 400 naming experiment_id', async () => {
        const x = client(stack.base, X);
        assertError(await x.get('/experiments/stats', {}), 400, 'INVALID_PARAMETER_VALUE', 'experiment_id');
        const many = Array.from({ length: 251 }, (_, i) => String(i));
        assertError(await x.post('/experiments/stats', {}), 405, 'METHOD_NOT_ALLOWED');
        assertError(await x.get('/experiments/stats', { experiment_id: many }), 400, 'INVALID_PARAMETER_VALUE', 'experiment_id');
        assertOk(await x.get('/experiments/stats', { experiment_id: many.slice(0, 250) }));
    });

    test('purge by run ids: refuses active and unknown runs, removes everything of deleted ones', async () => {
        const x = client(stack.base, X);
        const exp = await c.createExperiment(uniqueName('purge'));
        const keep = (await c.createRun(exp)).info.run_id;
        const gone = (await c.createRun(exp)).info.run_id;
        for (const id of [keep, gone]) {
            await c.ok('POST', '/runs/log-batch', {
                run_id: id, params: [{ key: 'lr', value: '0.1' }], tags: [{ key: 't', value: 'v' }],
                metrics: Array.from({ length: 50 }, (_, s) => ({ key: 'loss', value: s, timestamp: 1, step: s })),
            });
            await c.ok('POST', '/runs/log-inputs', { run_id: id, datasets: [{ dataset: { name: 'd', digest: 'x', source_type: 'local', source: '/d' } }] });
        }
        // an artifact only the purged run has, and one both share (same bytes: one blob)
        await fetchPut(`${stack.base}/api/2.0/mlflow-artifacts/artifacts/${exp}/${gone}/artifacts/own.txt`, `only in the purged run ${uniqueName()}`);
        const shared = `shared bytes ${uniqueName()}`;
        await fetchPut(`${stack.base}/api/2.0/mlflow-artifacts/artifacts/${exp}/${gone}/artifacts/shared.txt`, shared);
        await fetchPut(`${stack.base}/api/2.0/mlflow-artifacts/artifacts/${exp}/${keep}/artifacts/shared.txt`, shared);
        const internal = sql(`SELECT id FROM runs WHERE run_uuid = '${gone}'`);
        const blobsBefore = Number(sql('SELECT count(*) FROM artifact_blobs'));

        // not deleted yet: 400 naming it, nothing removed
        assertError(await x.post('/runs/purge', { run_ids: [gone] }), 400, 'INVALID_PARAMETER_VALUE', ['run_ids', gone, 'not deleted']);
        await c.ok('POST', '/runs/delete', { run_id: gone });
        // one unknown id: 404 naming it, and all or nothing
        const ghost = 'f'.repeat(32);
        assertError(await x.post('/runs/purge', { run_ids: [gone, ghost] }), 404, 'RESOURCE_DOES_NOT_EXIST', ghost);
        assertError(await x.post('/runs/purge', { run_ids: [gone, keep] }), 400, 'INVALID_PARAMETER_VALUE', keep);
        assert.equal(sql(`SELECT count(*) FROM metrics WHERE run_id = ${internal}`), '50');
        assert.equal(sql(`SELECT sum(n) FROM metric_blocks WHERE run_id = ${internal}`), '50');
        // metrics is hash-partitioned by run (schema 0020): the run's points sit in
        // one of the 16 partitions, and a read naming the run is pruned to it
        assert.equal(sql("SELECT count(*) FROM pg_partition_tree('metrics') WHERE isleaf"), '16');
        const home = sql(`SELECT DISTINCT tableoid::regclass FROM metrics WHERE run_id = ${internal}`);
        assert.match(home, /^metrics_p\d\d$/);
        const plan = sql(`EXPLAIN (COSTS OFF) SELECT step FROM metrics WHERE run_id = ${internal} AND key_id = 1`);
        assert.deepEqual([...new Set(plan.match(/metrics_p\d\d/g))], [home], plan);

        const r = assertOk(await x.post('/runs/purge', { run_ids: [gone, gone] }));
        assert.deepEqual(r.purged_run_ids, [gone]);
        assert.equal(r.metric_points, 50);
        assert.equal(r.artifact_files, 2);
        assert.equal(r.artifact_blobs, 1, 'the blob only the purged run used');
        for (const t of ['metrics', 'metric_blocks', 'latest_metrics', 'params', 'tags', 'run_inputs', 'input_tags', 'artifact_files']) {
            assert.equal(sql(`SELECT count(*) FROM ${t} WHERE run_id = ${internal}`), '0', t);
        }
        assert.equal(sql(`SELECT count(*) FROM runs WHERE run_uuid = '${gone}'`), '0');
        assert.equal(Number(sql('SELECT count(*) FROM artifact_blobs')), blobsBefore - 1);
        assertError(await c.get('/runs/get', { run_id: gone }), 404, 'RESOURCE_DOES_NOT_EXIST');
        // the other run is whole, its shared file still readable
        assert.equal((await c.getRun(keep)).data.metrics.length, 1);
        const dl = await fetch(`${stack.base}/api/2.0/mlflow-artifacts/artifacts/${exp}/${keep}/artifacts/shared.txt`);
        assert.equal(await dl.text(), shared);
        // purging again: the id names no run now
        assertError(await x.post('/runs/purge', { run_ids: [gone] }), 404, 'RESOURCE_DOES_NOT_EXIST', gone);
    });

    test('purge by experiment: only deleted runs, older_than respected', async () => {
        const x = client(stack.base, X);
        const exp = await c.createExperiment(uniqueName('purge-exp'));
        const ids = [];
        for (let i = 0; i < 4; i++) ids.push((await c.createRun(exp)).info.run_id);
        await c.ok('POST', '/runs/delete', { run_id: ids[0] });
        await c.ok('POST', '/runs/delete', { run_id: ids[1] });
        sql(`UPDATE runs SET deleted_time = 1000 WHERE run_uuid = '${ids[0]}'`);
        const r1 = assertOk(await x.post('/runs/purge', { experiment_id: exp, older_than: 2000 }));
        assert.deepEqual(r1.purged_run_ids, [ids[0]]);
        const r2 = assertOk(await x.post('/runs/purge', { experiment_id: exp }));
        assert.deepEqual(r2.purged_run_ids, [ids[1]]);
        const r3 = assertOk(await x.post('/runs/purge', { experiment_id: exp }));
        assert.deepEqual(r3.purged_run_ids, []);
        const left = (await c.post('/runs/search', { experiment_ids: [exp], run_view_type: 'ALL' })).json.runs.map((r) => r.info.run_id).sort();
        assert.deepEqual(left, [ids[2], ids[3]].sort());
        assertError(await x.post('/runs/purge', { experiment_id: '987654321' }), 404, 'RESOURCE_DOES_NOT_EXIST', '987654321');
    });

    test('purge: bad input -> 400 naming the field', async () => {
        const x = client(stack.base, X);
        assertError(await x.post('/runs/purge', {}), 400, 'INVALID_PARAMETER_VALUE', ['run_ids', 'experiment_id']);
        assertError(await x.post('/runs/purge', { run_ids: ['a'.repeat(32)], experiment_id: '0' }), 400, 'INVALID_PARAMETER_VALUE', 'exactly one');
        assertError(await x.post('/runs/purge', { run_ids: [] }), 400, 'INVALID_PARAMETER_VALUE', 'run_ids');
        assertError(await x.post('/runs/purge', { run_ids: 'abc' }), 400, 'INVALID_PARAMETER_VALUE', 'run_ids');
        assertError(await x.post('/runs/purge', { run_ids: ['XYZ'] }), 400, 'INVALID_PARAMETER_VALUE', ['run_ids', 'XYZ']);
        assertError(await x.post('/runs/purge', { run_ids: [5] }), 400, 'INVALID_PARAMETER_VALUE', 'run_ids');
        assertError(await x.post('/runs/purge', { run_ids: Array(1001).fill('a'.repeat(32)) }), 400, 'INVALID_PARAMETER_VALUE', 'run_ids');
        assertError(await x.post('/runs/purge', { experiment_id: '0', older_than: 'soon' }), 400, 'INVALID_PARAMETER_VALUE', 'older_than');
        assertError(await x.get('/runs/purge', {}), 405, 'METHOD_NOT_ALLOWED');
    });
});

async function fetchPut(url, body) {
    const r = await fetch(url, { method: 'PUT', body, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(r.status, 200, await r.text());
}
