// Runs API: create, get, update, delete, restore, search (basic: experiment_ids,
// run_view_type, max_results, paging, default order), under both prefixes.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, client, PREFIXES, assertOk, assertError, uniqueName, RUN_ID_RE } from './harness.mjs';

const stack = useStack({ before, after });

function tagMap(tags) {
    return Object.fromEntries((tags || []).map((t) => [t.key, t.value]));
}

const UNKNOWN_RUN = 'f'.repeat(32);

for (const prefix of PREFIXES) {
    describe(`runs under ${prefix}`, () => {
        let c;
        let exp;
        before(async () => {
            c = client(stack.base, prefix);
            exp = await c.createExperiment(uniqueName('runs'));
        });

        test('create: full run shape, run_name mirrored in mlflow.runName, tags kept', async () => {
            const r = assertOk(await c.post('/runs/create', {
                experiment_id: exp, user_id: 'alice', run_name: 'bold-owl-42', start_time: 1700000000000,
                tags: [{ key: 'team', value: 'nlp' }, { key: 'empty', value: '' }, { key: 'ключ', value: '値' }],
            }));
            assert.deepEqual(Object.keys(r), ['run']);
            const { info, data, inputs } = r.run;
            assert.match(info.run_id, RUN_ID_RE);
            assert.equal(info.run_uuid, info.run_id);
            assert.equal(info.experiment_id, exp);
            assert.equal(info.run_name, 'bold-owl-42');
            assert.equal(info.user_id, 'alice');
            assert.equal(info.status, 'RUNNING');
            assert.equal(info.start_time, 1700000000000);
            assert.ok(!('end_time' in info), 'end_time omitted while unset');
            assert.equal(info.artifact_uri, `mlflow-artifacts:/${exp}/${info.run_id}/artifacts`);
            assert.equal(info.lifecycle_stage, 'active');
            assert.deepEqual(inputs, {});
            assert.ok(!('metrics' in data) && !('params' in data), 'empty repeated fields omitted');
            assert.deepEqual(tagMap(data.tags), { team: 'nlp', empty: '', 'ключ': '値', 'mlflow.runName': 'bold-owl-42' });

            const g = await c.getRun(info.run_id);
            assert.deepEqual(g.info, info);
            assert.deepEqual(tagMap(g.data.tags), tagMap(data.tags));
            assert.deepEqual(g.inputs, {});
        });

        test('create: name from mlflow.runName tag, generated name, conflicting names -> 400', async () => {
            const fromTag = (await c.createRun(exp, { tags: [{ key: 'mlflow.runName', value: 'tagged-name' }] })).info;
            assert.equal(fromTag.run_name, 'tagged-name');
            const gen = await c.createRun(exp);
            assert.equal(typeof gen.info.run_name, 'string');
            assert.ok(gen.info.run_name.length > 0, 'a name is generated');
            assert.equal(tagMap(gen.data.tags)['mlflow.runName'], gen.info.run_name);
            const same = (await c.createRun(exp, { run_name: 'n1', tags: [{ key: 'mlflow.runName', value: 'n1' }] })).info;
            assert.equal(same.run_name, 'n1');
            const r = await c.post('/runs/create', { experiment_id: exp, run_name: 'a', tags: [{ key: 'mlflow.runName', value: 'b' }] });
            assertError(r, 400, 'INVALID_PARAMETER_VALUE', 'run_name');
        });

        test('create: absent or empty experiment_id -> "0"; numeric experiment_id accepted; int64 as string', async () => {
            const a = assertOk(await c.post('/runs/create', { start_time: 1 })).run.info;
            assert.equal(a.experiment_id, '0');
            const b = assertOk(await c.post('/runs/create', { experiment_id: '', start_time: 1 })).run.info;
            assert.equal(b.experiment_id, '0');
            const n = assertOk(await c.post('/runs/create', { experiment_id: Number(exp), start_time: '1700000000123' })).run.info;
            assert.equal(n.experiment_id, exp);
            assert.equal(n.start_time, 1700000000123);
            assertError(await c.post('/runs/create', { experiment_id: exp, start_time: '1.5' }), 400, 'INVALID_PARAMETER_VALUE', 'start_time');
            assertError(await c.post('/runs/create', { experiment_id: exp, start_time: 1.5 }), 400, 'INVALID_PARAMETER_VALUE', 'start_time');
            assertError(await c.post('/runs/create', { experiment_id: exp, start_time: 'soon' }), 400, 'INVALID_PARAMETER_VALUE', 'start_time');
        });

        test('create: unknown experiment -> 404; deleted experiment -> 400', async () => {
            assertError(await c.post('/runs/create', { experiment_id: '987654321' }), 404, 'RESOURCE_DOES_NOT_EXIST', '987654321');
            const dead = await c.createExperiment(uniqueName('dead'));
            await c.ok('POST', '/experiments/delete', { experiment_id: dead });
            assertError(await c.post('/runs/create', { experiment_id: dead }), 400, 'INVALID_PARAMETER_VALUE');
        });

        test('get: run_id, run_uuid alias, run_id wins; errors', async () => {
            const run = await c.createRun(exp);
            const id = run.info.run_id;
            assert.equal(assertOk(await c.get('/runs/get', { run_uuid: id })).run.info.run_id, id);
            assert.equal(assertOk(await c.get('/runs/get', { run_id: id, run_uuid: UNKNOWN_RUN })).run.info.run_id, id);
            assertError(await c.get('/runs/get', {}), 400, 'INVALID_PARAMETER_VALUE', 'run_id');
            assertError(await c.get('/runs/get', { run_id: '' }), 400, 'INVALID_PARAMETER_VALUE', 'run_id');
            assertError(await c.get('/runs/get', { run_id: UNKNOWN_RUN }), 404, 'RESOURCE_DOES_NOT_EXIST', UNKNOWN_RUN);
            // ids that are not 32 lowercase hex cannot exist: a 400 on GET (issue 18)
            for (const bad of [id.toUpperCase(), 'not-a-run', id.slice(0, 31), id + '0', `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`]) {
                assertError(await c.get('/runs/get', { run_id: bad }), 400, 'INVALID_PARAMETER_VALUE', 'run_id', `run_id ${bad}`);
            }
        });

        test('update: status (name, number, numeric string), end_time, run_name; returns run_info', async () => {
            const run = await c.createRun(exp, { run_name: 'before' });
            const id = run.info.run_id;
            const r = assertOk(await c.post('/runs/update', { run_id: id, status: 'FINISHED', end_time: 1700000005000 }));
            assert.deepEqual(Object.keys(r), ['run_info']);
            assert.equal(r.run_info.run_id, id);
            assert.equal(r.run_info.run_uuid, id);
            assert.equal(r.run_info.status, 'FINISHED');
            assert.equal(r.run_info.end_time, 1700000005000);
            assert.equal(r.run_info.run_name, 'before', 'fields not sent are unchanged');
            for (const [status, name] of [[4, 'FAILED'], ['5', 'KILLED'], ['SCHEDULED', 'SCHEDULED'], [1, 'RUNNING']]) {
                assert.equal(assertOk(await c.post('/runs/update', { run_id: id, status })).run_info.status, name, `status ${status}`);
            }
            const g = await c.getRun(id);
            assert.equal(g.info.status, 'RUNNING');
            assert.equal(g.info.end_time, 1700000005000);

            assertOk(await c.post('/runs/update', { run_uuid: id, run_name: 'after ✓' }));
            const g2 = await c.getRun(id);
            assert.equal(g2.info.run_name, 'after ✓');
            assert.equal(tagMap(g2.data.tags)['mlflow.runName'], 'after ✓');
            assertOk(await c.post('/runs/update', { run_id: id, end_time: '1700000009000' }));
            assert.equal((await c.getRun(id)).info.end_time, 1700000009000);
        });

        test('update: errors (missing run_id, unknown run, bad status, deleted run)', async () => {
            const id = (await c.createRun(exp)).info.run_id;
            assertError(await c.post('/runs/update', { status: 'FINISHED' }), 400, 'INVALID_PARAMETER_VALUE', 'run_id');
            assertError(await c.post('/runs/update', { run_id: UNKNOWN_RUN, status: 'FINISHED' }), 404, 'RESOURCE_DOES_NOT_EXIST', UNKNOWN_RUN);
            for (const status of ['DONE', 99, 'finished']) {
                assertError(await c.post('/runs/update', { run_id: id, status }), 400, 'INVALID_PARAMETER_VALUE', 'status', `status ${status}`);
            }
            assertError(await c.post('/runs/update', { run_id: id, end_time: 'later' }), 400, 'INVALID_PARAMETER_VALUE', 'end_time');
            await c.ok('POST', '/runs/delete', { run_id: id });
            assertError(await c.post('/runs/update', { run_id: id, status: 'FINISHED' }), 400, 'INVALID_PARAMETER_VALUE', 'active');
            assert.equal((await c.getRun(id)).info.status, 'RUNNING', 'refused update changed nothing');
        });

        test('delete / restore: soft delete, idempotent, get still works; errors', async () => {
            const id = (await c.createRun(exp)).info.run_id;
            assert.deepEqual(assertOk(await c.post('/runs/delete', { run_id: id })), {});
            assert.equal((await c.getRun(id)).info.lifecycle_stage, 'deleted');
            assert.deepEqual(assertOk(await c.post('/runs/delete', { run_id: id })), {}, 'delete twice is fine');
            assert.deepEqual(assertOk(await c.post('/runs/restore', { run_id: id })), {});
            assert.equal((await c.getRun(id)).info.lifecycle_stage, 'active');
            assert.deepEqual(assertOk(await c.post('/runs/restore', { run_id: id })), {}, 'restore an active run is fine');
            for (const ep of ['/runs/delete', '/runs/restore']) {
                assertError(await c.post(ep, { run_id: UNKNOWN_RUN }), 404, 'RESOURCE_DOES_NOT_EXIST', UNKNOWN_RUN, ep);
                assertError(await c.post(ep, {}), 400, 'INVALID_PARAMETER_VALUE', 'run_id', ep);
            }
        });

        test('search: default order start_time DESC then run_id ASC; data included; view types', async () => {
            const e = await c.createExperiment(uniqueName('search'));
            const made = [];
            for (const st of [1000, 3000, 2000, 3000, 3000, 500]) {
                made.push((await c.createRun(e, { start_time: st })).info);
            }
            const first = made[0].run_id;
            await c.ok('POST', '/runs/log-batch', {
                run_id: first, metrics: [{ key: 'm', value: 1.5, timestamp: 10, step: 2 }],
                params: [{ key: 'p', value: 'v' }], tags: [{ key: 't', value: 'u' }],
            });
            const expected = [...made].sort((a, b) => (b.start_time - a.start_time) || (a.run_id < b.run_id ? -1 : a.run_id > b.run_id ? 1 : 0));
            const r = assertOk(await c.post('/runs/search', { experiment_ids: [e], filter: '', run_view_type: 'ACTIVE_ONLY', max_results: 1000 }));
            assert.deepEqual(r.runs.map((x) => x.info.run_id), expected.map((x) => x.run_id));
            assert.ok(!('next_page_token' in r), 'page not full: no token');
            const withData = r.runs.find((x) => x.info.run_id === first);
            assert.deepEqual(withData.data.metrics, [{ key: 'm', value: 1.5, timestamp: 10, step: 2 }]);
            assert.deepEqual(withData.data.params, [{ key: 'p', value: 'v' }]);
            assert.equal(tagMap(withData.data.tags).t, 'u');
            assert.deepEqual(withData.inputs, {});
            // without max_results: default 1000
            assert.equal(assertOk(await c.post('/runs/search', { experiment_ids: [e] })).runs.length, made.length);

            await c.ok('POST', '/runs/delete', { run_id: made[1].run_id });
            const ids = async (vt) => (assertOk(await c.post('/runs/search', { experiment_ids: [e], run_view_type: vt })).runs || []).map((x) => x.info.run_id);
            for (const vt of ['ACTIVE_ONLY', 1, '1', undefined]) {
                const got = await ids(vt);
                assert.equal(got.length, made.length - 1, `view ${vt}`);
                assert.ok(!got.includes(made[1].run_id));
            }
            for (const vt of ['DELETED_ONLY', 2, '2']) assert.deepEqual(await ids(vt), [made[1].run_id], `view ${vt}`);
            for (const vt of ['ALL', 3, '3']) assert.deepEqual(await ids(vt), expected.map((x) => x.run_id), `view ${vt}`);
            assertError(await c.post('/runs/search', { experiment_ids: [e], run_view_type: 'SOME' }), 400, 'INVALID_PARAMETER_VALUE', 'run_view_type');
        });

        test('search: several experiments, numeric ids, unknown and empty experiment_ids', async () => {
            const e1 = await c.createExperiment(uniqueName('s1'));
            const e2 = await c.createExperiment(uniqueName('s2'));
            const a = (await c.createRun(e1)).info.run_id;
            const b = (await c.createRun(e2)).info.run_id;
            const got = assertOk(await c.post('/runs/search', { experiment_ids: [e1, e2] })).runs.map((x) => x.info.run_id).sort();
            assert.deepEqual(got, [a, b].sort());
            const num = assertOk(await c.post('/runs/search', { experiment_ids: [Number(e1)] })).runs.map((x) => x.info.run_id);
            assert.deepEqual(num, [a]);
            assert.deepEqual(assertOk(await c.post('/runs/search', { experiment_ids: ['987654321'] })), {}, 'unknown experiment: {}');
            assert.deepEqual(assertOk(await c.post('/runs/search', { experiment_ids: [] })), {}, 'no experiments: {}');
            assert.deepEqual(assertOk(await c.post('/runs/search', {})), {}, 'absent experiment_ids: {}');
        });

        test('search: paging to the end; token whenever a page is full; limits', async () => {
            const e = await c.createExperiment(uniqueName('paging'));
            const n = 7;
            for (let i = 0; i < n; i++) await c.createRun(e, { start_time: 1000 + (i % 3) });
            const all = assertOk(await c.post('/runs/search', { experiment_ids: [e], max_results: 50000 })).runs.map((x) => x.info.run_id);
            assert.equal(all.length, n);
            for (const size of [1, 2, 7, 3]) {
                const got = [];
                let token;
                let pages = 0;
                for (;;) {
                    const r = assertOk(await c.post('/runs/search', { experiment_ids: [e], max_results: size, ...(token ? { page_token: token } : {}) }));
                    pages += 1;
                    assert.ok(pages <= n + 2, 'paging terminates');
                    const page = (r.runs || []).map((x) => x.info.run_id);
                    assert.ok(page.length <= size);
                    got.push(...page);
                    if (page.length === size) {
                        assert.equal(typeof r.next_page_token, 'string', `full page (${size}) carries a token`);
                    } else {
                        assert.ok(!('next_page_token' in r), 'short page carries no token');
                    }
                    if (!r.next_page_token) break;
                    token = r.next_page_token;
                }
                assert.deepEqual(got, all, `max_results ${size}: every run once, in order`);
            }
            for (const mr of [0, -1, 50001]) {
                assertError(await c.post('/runs/search', { experiment_ids: [e], max_results: mr }), 400, 'INVALID_PARAMETER_VALUE', 'max_results', `max_results ${mr}`);
            }
            assertOk(await c.post('/runs/search', { experiment_ids: [e], max_results: 50000 }));
            assertOk(await c.post('/runs/search', { experiment_ids: [e], max_results: '2' }));
            for (const tok of ['garbage!!', 'eyJmb28iOiAxfQ==']) {
                assertError(await c.post('/runs/search', { experiment_ids: [e], max_results: 2, page_token: tok }), 400, 'INVALID_PARAMETER_VALUE', 'page_token', `token ${tok}`);
            }
        });
    });
}
