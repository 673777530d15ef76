// Prompt registry (mlflow-models-api.md section 4): prompts are registered
// models and versions marked by tags. These tests replay, over HTTP, the
// call sequences of the MLflow [3.0] and [3.10] Python clients (4.2-4.5):
// register, new version, load by version / alias / @latest, latest versions,
// search_prompts with the `tag.` and `tags.` prefixes, prompts hidden from
// the model searches, the prompt source rules of 1.5, name collisions with
// models, aliases, delete flows and the template length limit.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, client, assertOk, assertError, uniqueName } from './harness.mjs';

const stack = useStack({ before, after });

const IS_PROMPT = 'mlflow.prompt.is_prompt';
const TEXT = 'mlflow.prompt.text';
const ALL_STAGES = ['None', 'Staging', 'Production', 'Archived'];
const isPromptTag = { key: IS_PROMPT, value: 'true' };
const TAG_LIMIT = 100000; // version tag values ([3.10]); the prompt text limit is the same

// The stack's URL is known only once its before hook has run.
const c = {
    get: (...a) => client(stack.base).get(...a),
    post: (...a) => client(stack.base).post(...a),
    req: (...a) => client(stack.base).req(...a),
};
const del = (p, body) => c.req('DELETE', p, body);
const tagMap = (tags = []) => Object.fromEntries(tags.map((t) => [t.key, t.value]));
// Prompt names follow the client's rule ^[a-zA-Z0-9_.-]+$.
const promptName = (p) => uniqueName(p).replace(/[^a-zA-Z0-9_.-]/g, '_');

// register_prompt as both clients send it (4.2): get (404 -> create with the
// prompt tag) or set-tag per prompt tag, then create the version with source
// "dummy-source", then get again.
async function registerPrompt(name, template, { commit = 'msg', promptTags = [], versionTags = [] } = {}) {
    const g = await c.get('/registered-models/get', { name });
    if (g.status === 404) {
        assertError(g, 404, 'RESOURCE_DOES_NOT_EXIST', `Registered Model with name=${name} not found`);
        assertOk(await c.post('/registered-models/create', { name, description: commit, tags: [isPromptTag, ...promptTags] }));
    } else {
        const model = assertOk(g).registered_model;
        assert.equal(tagMap(model.tags)[IS_PROMPT], 'true', 'an existing name must be a prompt');
        for (const t of promptTags) assertOk(await c.post('/registered-models/set-tag', { name, key: t.key, value: t.value }));
    }
    const mv = assertOk(await c.post('/model-versions/create', {
        name, source: 'dummy-source', description: commit,
        tags: [isPromptTag, { key: TEXT, value: template }, ...versionTags],
    })).model_version;
    const model = assertOk(await c.get('/registered-models/get', { name })).registered_model;
    return { mv, model };
}

describe('[3.0] client flows', () => {
    test('register two versions, load by version, by alias and latest (get-latest-versions, first element)', async () => {
        const name = promptName('qa30');
        const one = await registerPrompt(name, 'Answer {{ question }}', { commit: 'first', versionTags: [{ key: 'author', value: 'ann' }] });
        assert.equal(one.mv.version, '1');
        assert.equal(one.mv.source, 'dummy-source');
        assert.equal(one.mv.description, 'first');
        assert.equal(one.mv.current_stage, 'None');
        assert.equal(tagMap(one.mv.tags)[TEXT], 'Answer {{ question }}');
        assert.equal(tagMap(one.mv.tags).author, 'ann');
        assert.equal(one.model.description, 'first');
        assert.equal(tagMap(one.model.tags)[IS_PROMPT], 'true');

        const two = await registerPrompt(name, 'Answer briefly: {{ question }}', { commit: 'second', promptTags: [{ key: 'team', value: 'nlp' }] });
        assert.equal(two.mv.version, '2');
        assert.equal(tagMap(two.model.tags).team, 'nlp', 'prompt tags of a later register are set on the model');

        // load_prompt("qa", version=1) / "prompts:/qa/1"
        const v1 = assertOk(await c.get('/model-versions/get', { name, version: '1' })).model_version;
        assert.equal(tagMap(v1.tags)[TEXT], 'Answer {{ question }}');
        assertOk(await c.get('/registered-models/get', { name }));

        // load_prompt("qa"): POST get-latest-versions with all four stages, first element
        const latest = assertOk(await c.post('/registered-models/get-latest-versions', { name, stages: ALL_STAGES })).model_versions;
        assert.equal(latest.length, 1, 'all prompt versions are in stage None: one element');
        assert.equal(latest[0].version, '2');
        assert.equal(tagMap(latest[0].tags)[TEXT], 'Answer briefly: {{ question }}');

        // set_prompt_alias: validation read, then set; "prompts:/qa@prod" loads through the alias
        assertOk(await c.get('/model-versions/get', { name, version: '1' }));
        assertOk(await c.post('/registered-models/alias', { name, alias: 'prod', version: '1' }));
        const byAlias = assertOk(await c.get('/registered-models/alias', { name, alias: 'prod' })).model_version;
        assert.equal(byAlias.version, '1');
        assert.deepEqual(byAlias.aliases, ['prod']);
        assert.equal(tagMap(byAlias.tags)[TEXT], 'Answer {{ question }}');
        const model = assertOk(await c.get('/registered-models/get', { name })).registered_model;
        assert.deepEqual(model.aliases, [{ alias: 'prod', version: '1' }]);

        // log_prompt with an active run: version tag mlflow.prompt.run_ids
        assertOk(await c.post('/model-versions/set-tag', { name, version: '2', key: 'mlflow.prompt.run_ids', value: 'a'.repeat(32) }));
        const v2 = assertOk(await c.get('/model-versions/get', { name, version: '2' })).model_version;
        assert.equal(tagMap(v2.tags)['mlflow.prompt.run_ids'], 'a'.repeat(32));

        // delete_prompt_alias
        assertOk(await del('/registered-models/alias', { name, alias: 'prod' }));
        assertError(await c.get('/registered-models/alias', { name, alias: 'prod' }), 400, 'INVALID_PARAMETER_VALUE', 'Registered model alias prod not found.');
    });

    test('search_prompts: filter with the tag. prefix, user filter ANDed', async () => {
        const base = promptName('s30');
        await registerPrompt(`${base}-a`, 'A');
        await registerPrompt(`${base}-b`, 'B');
        assertOk(await c.post('/registered-models/create', { name: `${base}-model` }));
        const r = assertOk(await c.get('/registered-models/search', {
            filter: `tag.\`${IS_PROMPT}\` = 'true' AND name LIKE '${base}-%'`, max_results: 100,
        }));
        assert.deepEqual(r.registered_models.map((m) => m.name), [`${base}-a`, `${base}-b`]);
    });

    test('delete_prompt: delete the version, then the model once get-latest-versions is empty', async () => {
        const name = promptName('d30');
        await registerPrompt(name, 'one');
        await registerPrompt(name, 'two');
        assertOk(await c.post('/registered-models/alias', { name, alias: 'cur', version: '2' }));

        assertOk(await del('/model-versions/delete', { name, version: '2' }));
        assertError(await c.get('/registered-models/alias', { name, alias: 'cur' }), 400, 'INVALID_PARAMETER_VALUE', 'alias cur not found');
        let latest = assertOk(await c.post('/registered-models/get-latest-versions', { name, stages: ALL_STAGES })).model_versions;
        assert.deepEqual(latest.map((v) => v.version), ['1']);

        assertOk(await del('/model-versions/delete', { name, version: '1' }));
        latest = assertOk(await c.post('/registered-models/get-latest-versions', { name, stages: ALL_STAGES }));
        assert.ok(!('model_versions' in latest), 'an empty list is omitted');
        assertOk(await del('/registered-models/delete', { name }));
        assertError(await c.get('/registered-models/get', { name }), 404, 'RESOURCE_DOES_NOT_EXIST');
        // A new prompt of that name starts again at version 1.
        assert.equal((await registerPrompt(name, 'again')).mv.version, '1');
    });

    test('[3.0] sends no source checks of its own: dummy-source is accepted for prompt versions only', async () => {
        const name = promptName('src30');
        await registerPrompt(name, 't');
        const model = uniqueName('model');
        assertOk(await c.post('/registered-models/create', { name: model }));
        assertError(await c.post('/model-versions/create', { name: model, source: 'dummy-source' }), 400, 'INVALID_PARAMETER_VALUE', 'Invalid model version source');
    });
});

describe('[3.10] client flows', () => {
    test('load_prompt("qa") is prompts:/qa@latest: get, alias "latest" (highest live version), get, get version', async () => {
        const name = promptName('qa310');
        await registerPrompt(name, 'v1 {{ x }}');
        await registerPrompt(name, 'v2 {{ x }}');
        await registerPrompt(name, 'v3 {{ x }}');
        assertOk(await c.post('/registered-models/alias', { name, alias: 'stable', version: '2' }));

        const model = assertOk(await c.get('/registered-models/get', { name })).registered_model;
        assert.equal(tagMap(model.tags)[IS_PROMPT], 'true');
        for (const spelling of ['latest', 'LATEST', 'Latest']) {
            const v = assertOk(await c.get('/registered-models/alias', { name, alias: spelling })).model_version;
            assert.equal(v.version, '3', spelling);
            assert.equal(tagMap(v.tags)[TEXT], 'v3 {{ x }}');
            assert.ok(!('aliases' in v), 'version 3 holds no alias');
        }
        const again = assertOk(await c.get('/model-versions/get', { name, version: '3' })).model_version;
        assert.equal(tagMap(again.tags)[TEXT], 'v3 {{ x }}');

        // "latest" skips deleted versions; an alias of a live version is returned with it
        assertOk(await del('/model-versions/delete', { name, version: '3' }));
        const now = assertOk(await c.get('/registered-models/alias', { name, alias: 'latest' })).model_version;
        assert.equal(now.version, '2');
        assert.deepEqual(now.aliases, ['stable']);

        // "latest" cannot be set; get with no live version / unknown model -> 404
        assertError(await c.post('/registered-models/alias', { name, alias: 'latest', version: '1' }), 400, 'INVALID_PARAMETER_VALUE', "'latest' alias name (case insensitive) is reserved.");
        assertOk(await del('/model-versions/delete', { name, version: '2' }));
        assertOk(await del('/model-versions/delete', { name, version: '1' }));
        assertError(await c.get('/registered-models/alias', { name, alias: 'latest' }), 404, 'RESOURCE_DOES_NOT_EXIST', `Latest version not found for model ${name}.`);
        const missing = promptName('nope');
        assertError(await c.get('/registered-models/alias', { name: missing, alias: 'latest' }), 404, 'RESOURCE_DOES_NOT_EXIST', `Registered Model with name=${missing} not found`);
    });

    test('prompts:/qa@prod resolves the alias then re-fetches by version; chat prompts and metadata tags', async () => {
        const name = promptName('chat');
        const chat = JSON.stringify([{ role: 'system', content: 'Be {{ tone }}' }, { role: 'user', content: '{{ q }}' }]);
        await registerPrompt(name, chat, {
            versionTags: [
                { key: '_mlflow_prompt_type', value: 'chat' },
                { key: '_mlflow_prompt_response_format', value: '{"type":"object"}' },
                { key: '_mlflow_prompt_model_config', value: '{"temperature":0.1}' },
            ],
        });
        assertOk(await c.post('/registered-models/alias', { name, alias: 'prod', version: '1' }));
        assertOk(await c.get('/registered-models/get', { name }));
        const v = assertOk(await c.get('/registered-models/alias', { name, alias: 'prod' })).model_version;
        const full = assertOk(await c.get('/model-versions/get', { name, version: v.version })).model_version;
        const tags = tagMap(full.tags);
        assert.equal(tags[TEXT], chat);
        assert.equal(tags._mlflow_prompt_type, 'chat');
        assert.equal(tags._mlflow_prompt_model_config, '{"temperature":0.1}');
        assert.deepEqual(full.aliases, ['prod']);
    });

    test('search_prompts: tags. prefix, experiment_id rewritten to _mlflow_experiment_ids LIKE; search_prompt_versions', async () => {
        const base = promptName('s310');
        await registerPrompt(`${base}-a`, 'A', { promptTags: [{ key: '_mlflow_experiment_ids', value: ',1,4,' }] });
        await registerPrompt(`${base}-b`, 'B', { promptTags: [{ key: '_mlflow_experiment_ids', value: ',2,' }] });
        await registerPrompt(`${base}-b`, 'B2');
        const names = async (filter) => (assertOk(await c.get('/registered-models/search', { filter, max_results: 100 })).registered_models || []).map((m) => m.name);
        assert.deepEqual(await names(`tags.\`${IS_PROMPT}\` = 'true' AND name LIKE '${base}-%'`), [`${base}-a`, `${base}-b`]);
        assert.deepEqual(await names(`tags.\`${IS_PROMPT}\` = 'true' AND name LIKE '${base}-%' AND tags._mlflow_experiment_ids LIKE '%,4,%'`), [`${base}-a`]);
        // 'TRUE' asks for prompts (the value is read case-insensitively for that), but
        // the comparison itself stays case-sensitive, as in MLflow: nothing matches
        assert.deepEqual(await names(`tags.\`${IS_PROMPT}\` = 'TRUE' AND name LIKE '${base}-%'`), []);

        const versions = assertOk(await c.get('/model-versions/search', {
            filter: `name = '${base}-b' AND tag.\`${IS_PROMPT}\` = 'true'`, order_by: ['version_number DESC'],
        })).model_versions;
        assert.deepEqual(versions.map((v) => v.version), ['2', '1']);
        assert.ok(versions.every((v) => !('aliases' in v)), 'search results carry no aliases');
    });

    test('prompt source rules (1.5): file: and absolute paths refused, placeholders and remote URIs accepted, traversal refused', async () => {
        const name = promptName('src310');
        await registerPrompt(name, 't');
        const create = (source) => c.post('/model-versions/create', { name, source, tags: [isPromptTag, { key: TEXT, value: 'x' }] });
        for (const bad of ['file:///tmp/prompt', 'FILE:/tmp/p', '/abs/path', '/']) {
            assertError(await create(bad), 400, 'INVALID_PARAMETER_VALUE', [`Invalid prompt source: '${bad}'.`, 'Local source paths are not allowed for prompts.']);
        }
        for (const ok of ['dummy-source', 'prompt-template', 'relative/name', 's3://bucket/prompts/x']) {
            assert.equal(assertOk(await create(ok)).model_version.source, ok);
        }
        assertError(await create('s3://bucket/a/../b'), 400, 'INVALID_PARAMETER_VALUE', 'Invalid model version source');
        assertError(await create('s3://bucket/a/%2e%2e/b'), 400, 'INVALID_PARAMETER_VALUE', 'Invalid model version source');
    });

    test('delete_prompt_version and delete_prompt map to the version and model deletes', async () => {
        const name = promptName('d310');
        await registerPrompt(name, 'a');
        await registerPrompt(name, 'b');
        assertOk(await del('/model-versions/delete', { name, version: '1' }));
        assertError(await c.get('/model-versions/get', { name, version: '1' }), 404, 'RESOURCE_DOES_NOT_EXIST', `Model Version (name=${name}, version=1) not found`);
        assert.equal((await registerPrompt(name, 'c')).mv.version, '3', 'numbers are never reused');
        assertOk(await del('/registered-models/delete', { name }));
        assertError(await c.get('/registered-models/get', { name }), 404, 'RESOURCE_DOES_NOT_EXIST');
        assertError(await c.get('/registered-models/alias', { name, alias: 'latest' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    });
});

describe('prompts and models side by side', () => {
    test('prompts are hidden from both model searches unless the filter asks for them', async () => {
        const base = promptName('hide');
        await registerPrompt(`${base}-p`, 'p');
        assertOk(await c.post('/registered-models/create', { name: `${base}-m` }));
        assertOk(await c.post('/model-versions/create', { name: `${base}-m`, source: 's3://b/m' }));

        const models = async (filter) => (assertOk(await c.get('/registered-models/search', { filter, max_results: 100 })).registered_models || []).map((m) => m.name);
        assert.deepEqual(await models(`name LIKE '${base}-%'`), [`${base}-m`]);
        assert.deepEqual(await models(`name LIKE '${base}-%' AND tags.\`${IS_PROMPT}\` = 'false'`), [`${base}-m`], "'false' asks for models: the comparison is dropped");
        assert.deepEqual(await models(`name LIKE '${base}-%' AND tags.\`${IS_PROMPT}\` != 'false'`), [`${base}-p`]);

        const versions = async (filter) => (assertOk(await c.get('/model-versions/search', { filter, max_results: 100 })).model_versions || []).map((v) => v.name);
        assert.deepEqual(await versions(`name = '${base}-p'`), [], 'prompt versions hidden');
        assert.deepEqual(await versions(`name LIKE '${base}-%'`), [`${base}-m`]);
        assert.deepEqual(await versions(`name LIKE '${base}-%' AND tags.\`${IS_PROMPT}\` = 'true'`), [`${base}-p`]);
        // the unfiltered searches hide it as well
        const all = assertOk(await c.get('/model-versions/search', { max_results: 200000 })).model_versions || [];
        assert.ok(!all.some((v) => v.name === `${base}-p`));

        // the get endpoints return prompts unfiltered (the client hides them itself)
        assertOk(await c.get('/registered-models/get', { name: `${base}-p` }));
        assertOk(await c.get('/model-versions/get', { name: `${base}-p`, version: '1' }));
        assertOk(await c.post('/registered-models/get-latest-versions', { name: `${base}-p` }));
    });

    test('name collisions between a prompt and a model say which side holds the name', async () => {
        const model = promptName('taken-by-model');
        assertOk(await c.post('/registered-models/create', { name: model }));
        assertError(await c.post('/registered-models/create', { name: model, tags: [isPromptTag] }), 400, 'RESOURCE_ALREADY_EXISTS',
            [`Tried to create a prompt with name '${model}', but the name is already taken by a registered model.`]);

        const prompt = promptName('taken-by-prompt');
        await registerPrompt(prompt, 't');
        assertError(await c.post('/registered-models/create', { name: prompt }), 400, 'RESOURCE_ALREADY_EXISTS',
            [`Tried to create a registered model with name '${prompt}', but the name is already taken by a prompt.`, 'MLflow does not allow creating a model and a prompt with the same name.']);
        assertError(await c.post('/registered-models/create', { name: prompt, tags: [isPromptTag] }), 400, 'RESOURCE_ALREADY_EXISTS', `Registered Model (name=${prompt}) already exists.`);
    });

    test('template up to the tag value limit; one character more is refused, nothing stored', async () => {
        const name = promptName('long');
        const max = 'x'.repeat(TAG_LIMIT);
        const { mv } = await registerPrompt(name, max);
        const back = assertOk(await c.get('/model-versions/get', { name, version: mv.version })).model_version;
        assert.equal(tagMap(back.tags)[TEXT].length, TAG_LIMIT);
        // multi-byte characters count as characters
        assertOk(await c.post('/model-versions/create', { name, source: 'dummy-source', tags: [isPromptTag, { key: TEXT, value: 'é'.repeat(TAG_LIMIT) }] }));
        assertError(await c.post('/model-versions/create', { name, source: 'dummy-source', tags: [isPromptTag, { key: TEXT, value: max + 'y' }] }),
            400, 'INVALID_PARAMETER_VALUE', String(TAG_LIMIT));
        const latest = assertOk(await c.post('/registered-models/get-latest-versions', { name })).model_versions;
        assert.equal(latest[0].version, '2', 'the refused version was not created');
        // prompt-level tags are model tags: 5000
        assertOk(await c.post('/registered-models/set-tag', { name, key: 'k', value: 'v'.repeat(5000) }));
        assertError(await c.post('/registered-models/set-tag', { name, key: 'k', value: 'v'.repeat(5001) }), 400, 'INVALID_PARAMETER_VALUE', '5000');
    });

    test('prompt aliases follow the registry rules; hostile alias and name input is a 400', async () => {
        const name = promptName('al');
        await registerPrompt(name, 't');
        assertError(await c.post('/registered-models/alias', { name, alias: 'v1', version: '1' }), 400, 'INVALID_PARAMETER_VALUE', "Version alias name 'v1' is reserved.");
        assertError(await c.post('/registered-models/alias', { name, alias: 'bad alias', version: '1' }), 400, 'INVALID_PARAMETER_VALUE', 'Invalid alias name');
        assertError(await c.post('/registered-models/alias', { name, alias: 'ok', version: '9' }), 404, 'RESOURCE_DOES_NOT_EXIST');
        assertError(await c.get('/registered-models/alias', { name, alias: 'a\u0000b' }), 400, 'INVALID_PARAMETER_VALUE');
        // a NUL in a query string is kept as the literal text %00 (no such model)
        const nul = await c.get('/registered-models/alias', { name: 'x\u0000', alias: 'latest' });
        assert.ok(nul.status === 400 || nul.status === 404, nul.text);
        assert.equal(typeof nul.json?.error_code, 'string');
        assertError(await c.get('/registered-models/alias', { name, alias: '' }), 400, 'INVALID_PARAMETER_VALUE');
        const r = await c.post('/registered-models/alias', { name, alias: 'ok', version: '\ud800' }, { raw: `{"name":"${name}","alias":"ok","version":"\\ud800"}` });
        assertError(r, 400, 'INVALID_PARAMETER_VALUE');
    });
});
