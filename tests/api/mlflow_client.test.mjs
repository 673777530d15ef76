// Outside check of wire compatibility: drive exptrackd with a third-party
// MLflow REST client from npm (`mlflow` 2.0.7, github.com/Yuhsak/mlflow, the
// only MLflow tracking client for Node.js on the registry). It talks to
// /api/2.0/mlflow with node-fetch, sends JSON bodies with
// Content-Type: application/json, GET parameters as a query string, run_uuid
// next to run_id, and treats any status other than 200 as an error.
//
// Known defects of that client (not server issues): Experiments.list() calls
// /experiments/list (removed in MLflow 2.0; not in the contract), and
// Experiments.setExperimentTag() builds the path without its slash
// (/experimentsset-experiment-tag). Both are asserted below to fail cleanly
// with ENDPOINT_NOT_FOUND rather than being relied upon.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import MLflow from 'mlflow';
import { ViewType, RunStatus } from 'mlflow/enum.js';
import { useStack, api, assertOk, uniqueName } from './harness.mjs';

const stack = useStack({ before, after });

// The client console.log()s every request body; keep the test output readable.
async function quiet(fn) {
    const log = console.log;
    console.log = () => {};
    try { return await fn(); } finally { console.log = log; }
}

// The client throws Error("Error: {status, statusText, data}"); recover the parts.
async function failure(promise) {
    try {
        await quiet(() => promise());
    } catch (e) {
        const m = String(e.message).match(/\{.*\}/s);
        assert.ok(m, `unexpected client error: ${e.message}`);
        return JSON.parse(m[0]);
    }
    assert.fail('expected the client call to fail');
}

test('npm mlflow client: experiment and run lifecycle, params, metrics, tags, history, search', { timeout: 60000 }, async () => {
    const ml = new MLflow({ endpoint: stack.base });
    const { Experiments, Runs, Metrics } = ml;

    const name = uniqueName('npm-client');
    const { experiment_id } = await quiet(() => Experiments.create({ name }));
    assert.match(experiment_id, /^\d+$/);
    const { experiment } = await quiet(() => Experiments.get({ experiment_id }));
    assert.equal(experiment.name, name);
    assert.equal(experiment.lifecycle_stage, 'active');

    const start = Date.now();
    const { run } = await quiet(() => Runs.create({
        experiment_id, user_id: 'npm-user', start_time: start,
        tags: [{ key: 'mlflow.runName', value: 'npm-run' }, { key: 'source', value: 'node' }],
    }));
    const run_id = run.info.run_id;
    assert.match(run_id, /^[0-9a-f]{32}$/);
    assert.equal(run.info.run_name, 'npm-run');
    assert.equal(run.info.user_id, 'npm-user');
    assert.equal(run.info.status, RunStatus.RUNNING);

    await quiet(async () => {
        await Runs.logParameter({ run_id, key: 'lr', value: '0.001' });
        await Runs.setTag({ run_id, key: 'phase', value: 'train' });
        await Runs.setTag({ run_id, key: 'temp', value: 'x' });
        await Runs.deleteTag({ run_id, key: 'temp' });
        for (let step = 0; step < 5; step++) {
            await Runs.logMetric({ run_id, key: 'loss', value: 1 / (step + 1), timestamp: start + step, step });
        }
        await Runs.logMetric({ run_id, key: 'odd', value: 'NaN', timestamp: start, step: 0 });
        await Runs.logMetric({ run_id, key: 'odd', value: 'Infinity', timestamp: start, step: 1 });
        await Runs.logBatch({
            run_id,
            metrics: [{ key: 'acc', value: 0.5, timestamp: start, step: 0 }, { key: 'acc', value: 0.75, timestamp: start + 1, step: 1 }],
            params: [{ key: 'batch_size', value: '32' }],
            tags: [{ key: 'mlflow.note.content', value: 'notes ✓' }],
        });
    });

    const got = (await quiet(() => Runs.get({ run_id }))).run;
    const params = Object.fromEntries(got.data.params.map((p) => [p.key, p.value]));
    assert.deepEqual(params, { lr: '0.001', batch_size: '32' });
    const tags = Object.fromEntries(got.data.tags.map((t) => [t.key, t.value]));
    assert.equal(tags.phase, 'train');
    assert.equal(tags.source, 'node');
    assert.equal(tags['mlflow.note.content'], 'notes ✓');
    assert.ok(!('temp' in tags));
    const latest = Object.fromEntries(got.data.metrics.map((m) => [m.key, m]));
    assert.equal(latest.loss.value, 1 / 5);
    assert.equal(latest.loss.step, 4);
    assert.equal(latest.acc.value, 0.75);
    assert.equal(latest.odd.value, 'Infinity');

    const hist = await quiet(() => Metrics.getHistory({ run_id, metric_key: 'loss' }));
    assert.deepEqual(hist.metrics.map((m) => [m.step, m.value, m.timestamp]), [0, 1, 2, 3, 4].map((s) => [s, 1 / (s + 1), start + s]));
    const odd = await quiet(() => Metrics.getHistory({ run_id, metric_key: 'odd' }));
    assert.deepEqual(odd.metrics.map((m) => m.value), ['NaN', 'Infinity']);
    assert.deepEqual(await quiet(() => Metrics.getHistory({ run_id, metric_key: 'never' })), {});

    const upd = await quiet(() => Runs.update({ run_id, status: RunStatus.FINISHED, end_time: start + 1000 }));
    assert.equal(upd.run_info.status, 'FINISHED');
    assert.equal(upd.run_info.end_time, start + 1000);

    const search = await quiet(() => Runs.search({ experiment_ids: [experiment_id], filter: '', run_view_type: ViewType.ACTIVE_ONLY, max_results: 10 }));
    assert.deepEqual(search.runs.map((r) => r.info.run_id), [run_id]);
    assert.equal(search.runs[0].info.status, 'FINISHED');

    await quiet(() => Runs.delete({ run_id }));
    assert.equal((await quiet(() => Runs.search({ experiment_ids: [experiment_id], run_view_type: ViewType.DELETED_ONLY }))).runs[0].info.run_id, run_id);
    assert.deepEqual(await quiet(() => Runs.search({ experiment_ids: [experiment_id], run_view_type: ViewType.ACTIVE_ONLY })), {});
    await quiet(() => Runs.restore({ run_id }));
    assert.equal((await quiet(() => Runs.get({ run_id }))).run.info.lifecycle_stage, 'active');

    const renamed = `${name}-renamed`;
    await quiet(() => Experiments.update({ experiment_id, new_name: renamed }));
    await quiet(() => Experiments.delete({ experiment_id }));
    assert.equal((await quiet(() => Experiments.get({ experiment_id }))).experiment.lifecycle_stage, 'deleted');
    await quiet(() => Experiments.restore({ experiment_id }));
    const back = (await quiet(() => Experiments.get({ experiment_id }))).experiment;
    assert.equal(back.name, renamed);
    assert.equal(back.lifecycle_stage, 'active');
});

test('npm mlflow client: errors surface as non-200 with MLflow error bodies', { timeout: 30000 }, async () => {
    const { Experiments, Runs } = new MLflow({ endpoint: stack.base });
    const notFound = await failure(() => Runs.get({ run_id: '0'.repeat(32) }));
    assert.equal(notFound.status, 404);
    assert.equal(notFound.data.error_code, 'RESOURCE_DOES_NOT_EXIST');

    const name = uniqueName('npm-dup');
    await quiet(() => Experiments.create({ name }));
    const dup = await failure(() => Experiments.create({ name }));
    assert.equal(dup.status, 400);
    assert.equal(dup.data.error_code, 'RESOURCE_ALREADY_EXISTS');

    const { experiment_id } = await quiet(() => Experiments.create({ name: uniqueName('npm-p') }));
    const { run } = await quiet(() => Runs.create({ experiment_id, start_time: Date.now() }));
    await quiet(() => Runs.logParameter({ run_id: run.info.run_id, key: 'p', value: 'a' }));
    const conflict = await failure(() => Runs.logParameter({ run_id: run.info.run_id, key: 'p', value: 'b' }));
    assert.equal(conflict.status, 400);
    assert.equal(conflict.data.error_code, 'INVALID_PARAMETER_VALUE');

    // client defects: endpoints that do not exist in MLflow 2.x / the contract
    const list = await failure(() => Experiments.list());
    assert.equal(list.status, 404);
    assert.equal(list.data.error_code, 'ENDPOINT_NOT_FOUND');
    const tag = await failure(() => Experiments.setExperimentTag({ experiment_id, key: 'k', value: 'v' }));
    assert.equal(tag.status, 404);
    assert.equal(tag.data.error_code, 'ENDPOINT_NOT_FOUND');
    // the real endpoint works
    assertOk(await api(stack.base, 'POST', '/api/2.0/mlflow/experiments/set-experiment-tag', { experiment_id, key: 'k', value: 'v' }));
});
