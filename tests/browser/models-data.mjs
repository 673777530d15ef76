// Test data for the dashboard's model views (tests/browser/models.test.mjs
// and the browser bench): an experiment with two training runs, each with a
// logged model (MLmodel with a signature, requirements.txt, model.pkl)
// registered as a version of "churn"; a model with many versions; and a
// prompt with two versions. Everything through the API, as clients do.
import assert from 'node:assert/strict';

export const MLMODEL = (modelId, extraInput) => `artifact_path: mlflow-artifacts:/x/models/${modelId}/artifacts
flavors:
  python_function:
    loader_module: mlflow.sklearn
    python_version: 3.11.4
  sklearn:
    pickled_model: model.pkl
    sklearn_version: 1.4.2
mlflow_version: 3.1.0
model_id: ${modelId}
signature:
  inputs: '[{"type": "double", "name": "tenure", "required": true}, {"type": "string",
    "name": "plan", "required": true}${extraInput ? `, {"type": "long", "name": "${extraInput}", "required": false}` : ''}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
  params: null
utc_time_created: '2024-01-15 09:00:00.000000'
`;

async function put(base, path, body) {
    const r = await fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/${path}`, { method: 'PUT', body, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(r.status, 200, `upload ${path}: ${await r.text()}`);
}

/** One training run with a logged model and its files. Returns {runId, modelId}. */
async function trainRun(api, base, expId, { name, c, acc, extraInput, pkl }) {
    const run = (await api.createRun(expId, { run_name: name, start_time: Date.UTC(2024, 0, 15, 9) })).info.run_id;
    const model = (await api.ok('POST', '/logged-models', {
        experiment_id: expId, name: `${name}-model`, model_type: 'sklearn', source_run_id: run,
        params: [{ key: 'C', value: c }],
    })).model.info;
    const t = Date.UTC(2024, 0, 15, 10);
    await api.ok('POST', '/runs/log-batch', {
        run_id: run,
        params: [{ key: 'C', value: c }, { key: 'penalty', value: 'l2' }],
        metrics: [
            { key: 'accuracy', value: acc, timestamp: t, step: 0, model_id: model.model_id, dataset_name: 'churn-eval', dataset_digest: 'd1' },
            { key: 'f1', value: acc - 0.05, timestamp: t, step: 0, model_id: model.model_id },
        ],
    });
    await api.ok('POST', '/runs/log-inputs', {
        run_id: run,
        datasets: [{ dataset: { name: 'churn-train', digest: 'a1b2c3d4', source_type: 'local', source: '{"uri": "/data/churn.csv"}', schema: '', profile: '' },
            tags: [{ key: 'mlflow.data.context', value: 'training' }] }],
    });
    const root = `${expId}/models/${model.model_id}/artifacts`;
    await put(base, `${root}/MLmodel`, MLMODEL(model.model_id, extraInput));
    await put(base, `${root}/requirements.txt`, 'mlflow==3.1.0\nscikit-learn==1.4.2\n# a comment\nnumpy<2\n');
    await put(base, `${root}/model.pkl`, pkl);
    await api.ok('PATCH', `/logged-models/${model.model_id}`, { model_id: model.model_id, status: 'LOGGED_MODEL_READY' });
    await api.ok('POST', '/runs/update', { run_id: run, status: 'FINISHED', end_time: t + 1000 });
    return { runId: run, modelId: model.model_id };
}

export const CHURN_DESCRIPTION = '# Churn model\n\nPredicts **churn** from `tenure`.\n\n- trained weekly\n- owner: [data team](https://example.com/team)\n\n<script>window.__pwned = 1</script> [bad](javascript:alert(1))\n';

/**
 * Creates the models data. Returns {expId, runs: [a, b], models: [a, b],
 * churn: 'churn', big: 'big-model', prompt: 'qa-prompt'}. bigVersions
 * versions of the big model (0: none).
 */
export async function seedModels(api, base, { bigVersions = 500 } = {}) {
    const expId = await api.createExperiment('churn-training');
    const a = await trainRun(api, base, expId, { name: 'run-a', c: '1.0', acc: 0.81, pkl: 'pickle-bytes-a' });
    const b = await trainRun(api, base, expId, { name: 'run-b', c: '0.5', acc: 0.86, extraInput: 'region', pkl: 'pickle-bytes-b' });
    const churn = 'churn';
    await api.ok('POST', '/registered-models/create', { name: churn, description: CHURN_DESCRIPTION, tags: [{ key: 'team', value: 'growth' }] });
    for (const x of [a, b]) {
        await api.ok('POST', '/model-versions/create', { name: churn, source: `models:/${x.modelId}`, run_id: x.runId, model_id: x.modelId, description: `from **${x.runId.slice(0, 6)}**` });
    }
    await api.ok('POST', '/model-versions/transition-stage', { name: churn, version: '1', stage: 'Production', archive_existing_versions: false });
    await api.ok('POST', '/registered-models/alias', { name: churn, alias: 'champion', version: '1' });
    await api.ok('POST', '/model-versions/set-tag', { name: churn, version: '2', key: 'validated', value: 'yes' });

    const big = 'big-model';
    await api.ok('POST', '/registered-models/create', { name: big });
    const queue = Array.from({ length: bigVersions }, (_, i) => i);
    const worker = async () => {
        while (queue.length) {
            queue.shift();
            await api.ok('POST', '/model-versions/create', { name: big, source: 's3://bucket/big', tags: [{ key: 'k', value: 'v' }] });
        }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    if (bigVersions) await api.ok('POST', '/registered-models/alias', { name: big, alias: 'prod', version: String(bigVersions) });

    const prompt = 'qa-prompt';
    const isPrompt = { key: 'mlflow.prompt.is_prompt', value: 'true' };
    await api.ok('POST', '/registered-models/create', { name: prompt, description: 'first', tags: [isPrompt] });
    const texts = [
        'You are a helpful assistant.\nAnswer the question: {{ question }}\nBe brief.',
        'You are a helpful assistant.\nUse the context: {{ context }}\nAnswer the question: {{ question }}\nBe brief and cite sources.',
    ];
    for (const [i, text] of texts.entries()) {
        await api.ok('POST', '/model-versions/create', { name: prompt, source: 'dummy-source', description: `commit ${i + 1}`,
            tags: [isPrompt, { key: 'mlflow.prompt.text', value: text }] });
    }
    await api.ok('POST', '/registered-models/alias', { name: prompt, alias: 'production', version: '1' });
    return { expId, runs: [a.runId, b.runId], models: [a.modelId, b.modelId], churn, big, prompt, texts };
}
