// Model registry (mlflow-models-api.md section 1): registered models,
// versions, tags, aliases, latest versions, both searches, the contract's
// errors and limits, hostile input and concurrent writes, on both mounts.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, client, PREFIXES, assertOk, assertError, uniqueName } from './harness.mjs';

const stack = useStack({ before, after });

const MISSING = 'Missing value for required parameter';

for (const prefix of PREFIXES) {
    describe(`model registry under ${prefix}`, () => {
        let c;
        const del = (p, body) => c.req('DELETE', p, body);
        const patch = (p, body) => c.req('PATCH', p, body);
        const createModel = async (extra = {}) => {
            const name = uniqueName('model');
            const r = assertOk(await c.post('/registered-models/create', { name, ...extra }));
            return { name, model: r.registered_model };
        };
        const createVersion = async (name, extra = {}) =>
            assertOk(await c.post('/model-versions/create', { name, source: 's3://bucket/path/model', ...extra })).model_version;
        const getModel = async (name) => assertOk(await c.get('/registered-models/get', { name })).registered_model;
        const getVersion = (name, version) => c.get('/model-versions/get', { name, version });

        before(() => { c = client(stack.base, prefix); });

        test('create and get: the RegisteredModel shape, empty fields omitted', async () => {
            const before = Date.now();
            const { name, model } = await createModel({ description: 'first', tags: [{ key: 't', value: '1' }, { key: 't', value: '2' }, { key: 'e', value: '' }] });
            assert.deepEqual(Object.keys(model).sort(), ['creation_timestamp', 'description', 'last_updated_timestamp', 'name', 'tags']);
            assert.equal(model.name, name);
            assert.equal(typeof model.creation_timestamp, 'number');
            assert.ok(model.creation_timestamp >= before - 5000 && model.creation_timestamp <= Date.now() + 5000, 'ms timestamp');
            assert.equal(model.last_updated_timestamp, model.creation_timestamp);
            assert.deepEqual(model.tags, [{ key: 'e', value: '' }, { key: 't', value: '2' }], 'duplicate keys: last wins');
            assert.deepEqual(await getModel(name), model);

            const bare = await createModel();
            assert.ok(!('description' in bare.model) && !('tags' in bare.model) && !('aliases' in bare.model) && !('latest_versions' in bare.model));
            assert.ok(!('user_id' in bare.model));
        });

        test('create: duplicate -> 400 RESOURCE_ALREADY_EXISTS; bad names -> 400', async () => {
            const { name } = await createModel();
            assertError(await c.post('/registered-models/create', { name }), 400, 'RESOURCE_ALREADY_EXISTS', `Registered Model (name=${name}) already exists.`);
            const prompt = uniqueName('prompt');
            await c.ok('POST', '/registered-models/create', { name: prompt, tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] });
            assertError(await c.post('/registered-models/create', { name: prompt }), 400, 'RESOURCE_ALREADY_EXISTS',
                `Tried to create a registered model with name '${prompt}', but the name is already taken by a prompt.`);
            assertError(await c.post('/registered-models/create', { name, tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] }), 400, 'RESOURCE_ALREADY_EXISTS',
                `Tried to create a prompt with name '${name}', but the name is already taken by a registered model.`);
            assertError(await c.post('/registered-models/create', {}), 400, 'INVALID_PARAMETER_VALUE', `${MISSING} 'name'. See the API docs`);
            assertError(await c.post('/registered-models/create', { name: '' }), 400, 'INVALID_PARAMETER_VALUE', MISSING);
            assertError(await c.post('/registered-models/create', { name: 'x'.repeat(257) }), 400, 'INVALID_PARAMETER_VALUE', '256');
            assertOk(await c.post('/registered-models/create', { name: `${uniqueName('n')}`.padEnd(256, 'y') }));
            for (const bad of ['a/b', 'a:b', '.', '..x', '   ']) {
                assertError(await c.post('/registered-models/create', { name: bad }), 400, 'INVALID_PARAMETER_VALUE', 'name', bad);
            }
            assertError(await c.post('/registered-models/create', { name: uniqueName('d'), description: 'd'.repeat(5001) }), 400, 'INVALID_PARAMETER_VALUE', 'description');
            assertError(await c.get('/registered-models/get', { name: 'no-such-model' }), 404, 'RESOURCE_DOES_NOT_EXIST', 'Registered Model with name=no-such-model not found');
            assertError(await c.get('/registered-models/get', {}), 400, 'INVALID_PARAMETER_VALUE', MISSING);
        });

        test('tags: set (upsert), delete (missing key is fine), limits, unknown model', async () => {
            const { name } = await createModel();
            assertOk(await c.post('/registered-models/set-tag', { name, key: 'k', value: 'v1' }));
            assertOk(await c.post('/registered-models/set-tag', { name, key: 'k', value: 'v2' }));
            assertOk(await c.post('/registered-models/set-tag', { name, key: 'novalue' }));
            const m = await getModel(name);
            assert.deepEqual(m.tags, [{ key: 'k', value: 'v2' }, { key: 'novalue', value: '' }]);
            assert.equal(m.last_updated_timestamp, m.creation_timestamp, 'tags do not bump the update time');
            assertOk(await del('/registered-models/delete-tag', { name, key: 'k' }));
            assertOk(await del('/registered-models/delete-tag', { name, key: 'never-set' }));
            assert.deepEqual((await getModel(name)).tags, [{ key: 'novalue', value: '' }]);
            assertError(await c.post('/registered-models/set-tag', { name, key: 'k', value: 'v'.repeat(5001) }), 400, 'INVALID_PARAMETER_VALUE', "'value' exceeds the maximum length of 5000 characters");
            assertOk(await c.post('/registered-models/set-tag', { name, key: 'k', value: 'v'.repeat(5000) }));
            assertError(await c.post('/registered-models/set-tag', { name, key: 'k'.repeat(251), value: '' }), 400, 'INVALID_PARAMETER_VALUE', 'key');
            for (const key of ['../up', '/abs', 'a#b']) {
                assertError(await c.post('/registered-models/set-tag', { name, key, value: 'x' }), 400, 'INVALID_PARAMETER_VALUE', 'key', key);
            }
            assertError(await c.post('/registered-models/set-tag', { name, value: 'x' }), 400, 'INVALID_PARAMETER_VALUE', `${MISSING} 'key'`);
            assertError(await c.post('/registered-models/set-tag', { name: 'no-such-model', key: 'k', value: 'v' }), 404, 'RESOURCE_DOES_NOT_EXIST', 'no-such-model');
            assertError(await del('/registered-models/delete-tag', { name: 'no-such-model', key: 'k' }), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await c.post('/registered-models/create', { name: uniqueName('t'), tags: [{ key: 'k', value: 'v'.repeat(5001) }] }), 400, 'INVALID_PARAMETER_VALUE', 'tags[0]');
        });

        test('update: sets the description, an absent one clears it; unknown -> 404', async () => {
            const { name, model } = await createModel({ description: 'old' });
            const u = assertOk(await patch('/registered-models/update', { name, description: 'new' })).registered_model;
            assert.equal(u.description, 'new');
            assert.ok(u.last_updated_timestamp >= model.last_updated_timestamp);
            const cleared = assertOk(await patch('/registered-models/update', { name })).registered_model;
            assert.ok(!('description' in cleared), 'an empty description is omitted');
            assertError(await patch('/registered-models/update', { name: 'no-such-model', description: 'x' }), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await patch('/registered-models/update', { name, description: 'd'.repeat(5001) }), 400, 'INVALID_PARAMETER_VALUE', 'description');
        });

        test('model versions: consecutive numbers, the ModelVersion shape, get, errors', async () => {
            const { name } = await createModel();
            const v1 = await createVersion(name, { run_id: 'abc123', tags: [{ key: 'k', value: 'v' }], description: 'd1', run_link: 'http://x/y' });
            assert.deepEqual(Object.keys(v1).sort(), ['creation_timestamp', 'current_stage', 'description', 'last_updated_timestamp', 'name', 'run_id', 'run_link', 'source', 'status', 'tags', 'version']);
            assert.equal(v1.version, '1');
            assert.equal(v1.current_stage, 'None');
            assert.equal(v1.status, 'READY');
            assert.equal(v1.source, 's3://bucket/path/model');
            assert.deepEqual(v1.tags, [{ key: 'k', value: 'v' }]);
            const v2 = await createVersion(name);
            assert.equal(v2.version, '2');
            assert.equal(v2.description, '', 'description printed as "" when omitted');
            assert.equal(v2.run_id, '');
            assert.equal(v2.run_link, '');
            assert.ok(!('aliases' in v2) && !('tags' in v2));
            const g = assertOk(await getVersion(name, '1')).model_version;
            assert.deepEqual(g, v1);
            assert.deepEqual(assertOk(await getVersion(name, 2)).model_version.version, '2', 'a JSON number version');
            const m = await getModel(name);
            assert.ok(m.last_updated_timestamp >= v2.creation_timestamp, 'create bumps the model');

            assertError(await getVersion(name, '3'), 404, 'RESOURCE_DOES_NOT_EXIST', `Model Version (name=${name}, version=3) not found`);
            assertError(await getVersion(name, 'x'), 400, 'INVALID_PARAMETER_VALUE', "Parameter 'version' must be an integer, got 'x'.");
            assertError(await getVersion(name, '1.5'), 400, 'INVALID_PARAMETER_VALUE', 'must be an integer');
            assertError(await getVersion(name, '9223372036854775808'), 400, 'INVALID_PARAMETER_VALUE', 'must be an integer');
            assertError(await getVersion(name, '-1'), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await c.get('/model-versions/get', { name }), 400, 'INVALID_PARAMETER_VALUE', `${MISSING} 'version'`);
            assertError(await c.post('/model-versions/create', { name: 'no-such-model', source: 's3://b/p' }), 404, 'RESOURCE_DOES_NOT_EXIST', 'Registered Model with name=no-such-model not found');
            assertError(await c.post('/model-versions/create', { name }), 400, 'INVALID_PARAMETER_VALUE', `${MISSING} 'source'`);
            assertError(await c.post('/model-versions/create', { name, source: 's3://b/p', run_id: 'r'.repeat(33) }), 400, 'INVALID_PARAMETER_VALUE', 'run_id');
            assertError(await c.post('/model-versions/create', { name, source: 's3://b/' + 'p'.repeat(500) }), 400, 'INVALID_PARAMETER_VALUE', 'source');
            assertError(await c.post('/model-versions/create', { name, source: 's3://b/p', tags: [{ key: 'k', value: 'v'.repeat(100001) }] }), 400, 'INVALID_PARAMETER_VALUE', '100000');
            assertError(await c.post('/model-versions/create', { name, source: 's3://b/p', tags: [{ key: 'k', value: null }] }), 400, 'INVALID_PARAMETER_VALUE', 'Tag value cannot be None');
        });

        test('create version: source rules and models:/ sources', async () => {
            const { name } = await createModel();
            for (const source of ['/abs/model', 'relative/model', 'dummy-source', 'file:///tmp/m']) {
                assertError(await c.post('/model-versions/create', { name, source }), 400, 'INVALID_PARAMETER_VALUE', ['Invalid model version source', 'local path'], source);
            }
            for (const source of ['s3://b/a/../x', 's3://b/a/%2E%2E/x', 's3://b/a/%252E%252E/x', 's3://b/./x', 'http://h/a%00b']) {
                assertError(await c.post('/model-versions/create', { name, source }), 400, 'INVALID_PARAMETER_VALUE', ['Invalid model version source', 'absolute path'], source);
            }
            const v1 = await createVersion(name, { source: 'mlflow-artifacts:/1/abc/artifacts/model' });
            const copy = await createVersion(name, { source: `models:/${name}/${v1.version}` });
            assert.equal(copy.source, `models:/${name}/1`, 'source echoed as given');
            assert.deepEqual(assertOk(await c.get('/model-versions/get-download-uri', { name, version: copy.version })), { artifact_uri: 'mlflow-artifacts:/1/abc/artifacts/model' });
            assertError(await c.post('/model-versions/create', { name, source: 'models:/m-0123456789abcdef0123456789abcdef' }), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await c.post('/model-versions/create', { name, source: `models:/${name}@champion` }), 400, 'INVALID_PARAMETER_VALUE');
            assertError(await c.post('/model-versions/create', { name, source: `models:/${name}/Production` }), 400, 'INVALID_PARAMETER_VALUE');
            assertError(await c.post('/model-versions/create', { name, source: `models:/${name}/99` }), 404, 'RESOURCE_DOES_NOT_EXIST');
            // prompt versions may use the client's placeholder source
            const p = await createVersion(name, { source: 'dummy-source', tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] });
            assert.equal(p.source, 'dummy-source');
            assertError(await c.post('/model-versions/create', { name, source: '/abs', tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] }), 400, 'INVALID_PARAMETER_VALUE', 'Invalid prompt source');
            assertError(await c.get('/model-versions/get-download-uri', { name, version: 'x' }), 400, 'INVALID_PARAMETER_VALUE', 'must be an integer');
            assertError(await c.get('/model-versions/get-download-uri', { name, version: '77' }), 404, 'RESOURCE_DOES_NOT_EXIST');
        });

        test('update, transition-stage (archive_existing_versions), tags of versions', async () => {
            const { name } = await createModel();
            const v1 = await createVersion(name, { description: 'x' });
            await createVersion(name);
            await createVersion(name);
            const u = assertOk(await patch('/model-versions/update', { name, version: '1', description: '' })).model_version;
            assert.equal(u.description, '');
            const n = assertOk(await patch('/model-versions/update', { name, version: '1' })).model_version;
            assert.ok(!('description' in n), 'an absent description nulls it');
            assert.ok(n.last_updated_timestamp >= v1.last_updated_timestamp);

            const t1 = assertOk(await c.post('/model-versions/transition-stage', { name, version: '1', stage: 'production', archive_existing_versions: false })).model_version;
            assert.equal(t1.current_stage, 'Production');
            assertOk(await c.post('/model-versions/transition-stage', { name, version: '2', stage: 'PRODUCTION' }));
            const t3 = assertOk(await c.post('/model-versions/transition-stage', { name, version: '3', stage: 'Production', archive_existing_versions: true })).model_version;
            assert.equal(t3.current_stage, 'Production');
            assert.equal(assertOk(await getVersion(name, '1')).model_version.current_stage, 'Archived');
            assert.equal(assertOk(await getVersion(name, '2')).model_version.current_stage, 'Archived');
            assertError(await c.post('/model-versions/transition-stage', { name, version: '1', stage: 'Gold' }), 400, 'INVALID_PARAMETER_VALUE', 'Invalid Model Version stage: Gold. Value must be one of None, Staging, Production, Archived.');
            assertError(await c.post('/model-versions/transition-stage', { name, version: '1', stage: 'None', archive_existing_versions: true }), 400, 'INVALID_PARAMETER_VALUE', "'None' is not an Active stage");
            assertError(await c.post('/model-versions/transition-stage', { name, version: '1', stage: 'Staging', archive_existing_versions: 'yes' }), 400, 'INVALID_PARAMETER_VALUE', 'archive_existing_versions');
            assertError(await c.post('/model-versions/transition-stage', { name, version: '9', stage: 'Staging' }), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await c.post('/model-versions/transition-stage', { name, version: '1' }), 400, 'INVALID_PARAMETER_VALUE', `${MISSING} 'stage'`);

            assertOk(await c.post('/model-versions/set-tag', { name, version: '1', key: 'a', value: 'b' }));
            assertOk(await c.post('/model-versions/set-tag', { name, version: '1', key: 'a', value: 'c' }));
            assertOk(await c.post('/model-versions/set-tag', { name, version: '1', key: 'big', value: 'v'.repeat(100000) }));
            assertError(await c.post('/model-versions/set-tag', { name, version: '1', key: 'big', value: 'v'.repeat(100001) }), 400, 'INVALID_PARAMETER_VALUE', "'value' exceeds the maximum length of 100000 characters");
            assertError(await c.post('/model-versions/set-tag', { name, version: '1', key: 'a', value: null }), 400, 'INVALID_PARAMETER_VALUE', 'Tag value cannot be None');
            assert.deepEqual(assertOk(await getVersion(name, '1')).model_version.tags.find((t) => t.key === 'a'), { key: 'a', value: 'c' });
            assertOk(await del('/model-versions/delete-tag', { name, version: '1', key: 'a' }));
            assertOk(await del('/model-versions/delete-tag', { name, version: '1', key: 'a' }));
            assert.ok(!assertOk(await getVersion(name, '1')).model_version.tags.some((t) => t.key === 'a'));
            assertError(await c.post('/model-versions/set-tag', { name, version: '9', key: 'a', value: 'b' }), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await del('/model-versions/delete-tag', { name, version: '9', key: 'a' }), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await c.post('/model-versions/set-tag', { name, version: '1', key: '../k', value: 'b' }), 400, 'INVALID_PARAMETER_VALUE', 'key');
        });

        test('get-latest-versions: POST and GET, per stage, deleted versions skipped', async () => {
            const { name } = await createModel();
            for (let i = 0; i < 4; i++) await createVersion(name);
            await c.ok('POST', '/model-versions/transition-stage', { name, version: '1', stage: 'Staging' });
            await c.ok('POST', '/model-versions/transition-stage', { name, version: '2', stage: 'Production' });
            await c.ok('POST', '/registered-models/alias', { name, alias: 'prod', version: '2' });
            const all = assertOk(await c.post('/registered-models/get-latest-versions', { name })).model_versions;
            assert.deepEqual(all.map((v) => [v.version, v.current_stage]), [['1', 'Staging'], ['2', 'Production'], ['4', 'None']]);
            assert.deepEqual(all[1].aliases, ['prod'], '[3.x] latest versions carry aliases');
            const prod = assertOk(await c.get('/registered-models/get-latest-versions', { name, stages: ['production'] })).model_versions;
            assert.deepEqual(prod.map((v) => v.version), ['2']);
            const two = assertOk(await c.post('/registered-models/get-latest-versions', { name, stages: ['None', 'staging'] })).model_versions;
            assert.deepEqual(two.map((v) => v.version), ['1', '4']);
            assert.deepEqual(assertOk(await c.post('/registered-models/get-latest-versions', { name, stages: ['Archived'] })), {}, 'no versions: field omitted');
            await c.ok('DELETE', '/model-versions/delete', { name, version: '4' });
            const after = assertOk(await c.post('/registered-models/get-latest-versions', { name, stages: ['None'] })).model_versions;
            assert.deepEqual(after.map((v) => v.version), ['3']);
            assertError(await c.post('/registered-models/get-latest-versions', { name, stages: ['Gold'] }), 400, 'INVALID_PARAMETER_VALUE', 'Invalid Model Version stage');
            assertError(await c.post('/registered-models/get-latest-versions', { name: 'no-such-model' }), 404, 'RESOURCE_DOES_NOT_EXIST');
            const m = await getModel(name);
            assert.deepEqual(m.latest_versions.map((v) => v.version), ['1', '2', '3']);
            // stages in the order their first version appears: Staging (1) before Production (2)
            await c.ok('POST', '/model-versions/transition-stage', { name, version: '3', stage: 'Staging' });
            const order = assertOk(await c.post('/registered-models/get-latest-versions', { name })).model_versions;
            assert.deepEqual(order.map((v) => [v.version, v.current_stage]), [['3', 'Staging'], ['2', 'Production']]);
            assert.deepEqual((await getModel(name)).latest_versions.map((v) => v.version), ['3', '2']);
            assert.ok(m.latest_versions.every((v) => !('aliases' in v)), 'latest_versions carry no aliases');
        });

        test('aliases: set, re-point, get, delete, model aliases list, name rules', async () => {
            const { name } = await createModel();
            await createVersion(name);
            await createVersion(name);
            assertOk(await c.post('/registered-models/alias', { name, alias: 'champion', version: '1' }));
            assertOk(await c.post('/registered-models/alias', { name, alias: 'champion', version: '2' }));
            assertOk(await c.post('/registered-models/alias', { name, alias: 'other-one_2', version: '2' }));
            const got = assertOk(await c.get('/registered-models/alias', { name, alias: 'champion' })).model_version;
            assert.equal(got.version, '2');
            assert.deepEqual(got.aliases, ['champion', 'other-one_2']);
            assert.deepEqual((await getModel(name)).aliases, [{ alias: 'champion', version: '2' }, { alias: 'other-one_2', version: '2' }]);
            assert.deepEqual(assertOk(await getVersion(name, '2')).model_version.aliases, ['champion', 'other-one_2']);
            assert.ok(!('aliases' in assertOk(await getVersion(name, '1')).model_version));

            assertError(await c.get('/registered-models/alias', { name, alias: 'nope' }), 400, 'INVALID_PARAMETER_VALUE', 'Registered model alias nope not found.');
            assertError(await c.get('/registered-models/alias', { name: 'no-such-model', alias: 'champion' }), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await c.post('/registered-models/alias', { name, alias: 'x', version: '9' }), 404, 'RESOURCE_DOES_NOT_EXIST', 'version=9');
            assertError(await c.post('/registered-models/alias', { name, alias: 'latest', version: '1' }), 400, 'INVALID_PARAMETER_VALUE', "'latest' alias name (case insensitive) is reserved.");
            assertError(await c.post('/registered-models/alias', { name, alias: 'LaTeSt', version: '1' }), 400, 'INVALID_PARAMETER_VALUE', 'reserved');
            assertError(await c.post('/registered-models/alias', { name, alias: 'v3', version: '1' }), 400, 'INVALID_PARAMETER_VALUE', "Version alias name 'v3' is reserved.");
            assertError(await c.post('/registered-models/alias', { name, alias: 'a b', version: '1' }), 400, 'INVALID_PARAMETER_VALUE', "Invalid alias name: 'a b'. Names may only contain alphanumerics, underscores (_), and dashes (-).");
            assertError(await c.post('/registered-models/alias', { name, alias: 'a'.repeat(256), version: '1' }), 400, 'INVALID_PARAMETER_VALUE', '255');
            assertError(await c.post('/registered-models/alias', { name, alias: '', version: '1' }), 400, 'INVALID_PARAMETER_VALUE');
            assertError(await c.post('/registered-models/alias', { name, alias: 'x', version: 'one' }), 400, 'INVALID_PARAMETER_VALUE', "Parameter 'version' must be an integer, got 'one'.");

            // [3.10] "latest" on get: the highest live version
            assert.equal(assertOk(await c.get('/registered-models/alias', { name, alias: 'latest' })).model_version.version, '2');
            const empty = await createModel();
            assertError(await c.get('/registered-models/alias', { name: empty.name, alias: 'latest' }), 404, 'RESOURCE_DOES_NOT_EXIST', `Latest version not found for model ${empty.name}.`);

            assertOk(await del('/registered-models/alias', { name, alias: 'other-one_2' }));
            assertOk(await del('/registered-models/alias', { name, alias: 'never-set' }));
            assertError(await del('/registered-models/alias', { name: 'no-such-model', alias: 'x' }), 404, 'RESOURCE_DOES_NOT_EXIST');
            // deleting the version removes the aliases pointing at it
            assertOk(await del('/model-versions/delete', { name, version: '2' }));
            assertError(await c.get('/registered-models/alias', { name, alias: 'champion' }), 400, 'INVALID_PARAMETER_VALUE', 'not found');
            assert.ok(!('aliases' in await getModel(name)));
        });

        test('delete version: a tombstone (404 after, number never reused)', async () => {
            const { name } = await createModel();
            await createVersion(name);
            await createVersion(name);
            assertOk(await del('/model-versions/delete', { name, version: '2' }));
            assertError(await getVersion(name, '2'), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await del('/model-versions/delete', { name, version: '2' }), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await patch('/model-versions/update', { name, version: '2', description: 'x' }), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await c.get('/model-versions/get-download-uri', { name, version: '2' }), 404, 'RESOURCE_DOES_NOT_EXIST');
            assert.equal((await createVersion(name)).version, '3', 'tombstones count for numbering');
        });

        test('rename cascades to versions, tags and aliases; delete cascades; re-create restarts at 1', async () => {
            const { name } = await createModel({ tags: [{ key: 'mt', value: '1' }] });
            await createVersion(name, { tags: [{ key: 'vt', value: '2' }] });
            await createVersion(name);
            await c.ok('DELETE', '/model-versions/delete', { name, version: '2' });
            await c.ok('POST', '/registered-models/alias', { name, alias: 'a1', version: '1' });
            const newName = uniqueName('renamed');
            const r = assertOk(await c.post('/registered-models/rename', { name, new_name: newName })).registered_model;
            assert.equal(r.name, newName);
            assert.deepEqual(r.tags, [{ key: 'mt', value: '1' }]);
            assert.deepEqual(r.aliases, [{ alias: 'a1', version: '1' }]);
            assert.equal(r.latest_versions[0].name, newName);
            assertError(await c.get('/registered-models/get', { name }), 404, 'RESOURCE_DOES_NOT_EXIST');
            const v = assertOk(await getVersion(newName, '1')).model_version;
            assert.equal(v.name, newName);
            assert.deepEqual(v.tags, [{ key: 'vt', value: '2' }]);
            assert.deepEqual(v.aliases, ['a1']);
            assert.equal((await createVersion(newName)).version, '3', 'the tombstone moved with the model');
            assertOk(await c.post('/registered-models/rename', { name: newName, new_name: newName }));

            const other = await createModel();
            assertError(await c.post('/registered-models/rename', { name: newName, new_name: other.name }), 400, 'RESOURCE_ALREADY_EXISTS', `Registered Model (name=${other.name}) already exists.`);
            assertError(await c.post('/registered-models/rename', { name: 'no-such-model', new_name: uniqueName('x') }), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await c.post('/registered-models/rename', { name: newName, new_name: '' }), 400, 'INVALID_PARAMETER_VALUE', `${MISSING} 'new_name'`);
            assertError(await c.post('/registered-models/rename', { name: newName, new_name: 'a/b' }), 400, 'INVALID_PARAMETER_VALUE', 'new_name');

            assertOk(await del('/registered-models/delete', { name: newName }));
            assertError(await c.get('/registered-models/get', { name: newName }), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await del('/registered-models/delete', { name: newName }), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertError(await getVersion(newName, '1'), 404, 'RESOURCE_DOES_NOT_EXIST');
            assertOk(await c.post('/registered-models/create', { name: newName }));
            assert.equal((await createVersion(newName)).version, '1');
            assert.ok(!('tags' in await getModel(newName)), 'old tags are gone');
        });

        test('registered-models/search: filter, order_by, max_results, page tokens, prompts hidden', async () => {
            const base = uniqueName('srch');
            for (const s of ['b', 'a', 'c']) await c.ok('POST', '/registered-models/create', { name: `${base}-${s}`, tags: [{ key: 'group', value: s === 'c' ? 'two' : 'one' }] });
            await c.ok('POST', '/registered-models/create', { name: `${base}-prompt`, tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] });
            const names = async (q) => (assertOk(await c.get('/registered-models/search', q)).registered_models || []).map((m) => m.name);
            assert.deepEqual(await names({ filter: `name LIKE '${base}-%'` }), [`${base}-a`, `${base}-b`, `${base}-c`]);
            assert.deepEqual(await names({ filter: `name ILIKE '${base.toUpperCase()}-%' AND tags.group = 'one'` }), [`${base}-a`, `${base}-b`]);
            assert.deepEqual(await names({ filter: `name LIKE '${base}-%' and tag.\`group\` != 'one'` }), [`${base}-c`]);
            assert.deepEqual(await names({ filter: `attribute.name = "${base}-b"` }), [`${base}-b`]);
            assert.deepEqual(await names({ filter: `name LIKE '${base}-%'`, order_by: ['name DESC'] }), [`${base}-c`, `${base}-b`, `${base}-a`]);
            assert.deepEqual(await names({ filter: `name LIKE '${base}-%' AND tags.\`mlflow.prompt.is_prompt\` = 'true'` }), [`${base}-prompt`]);
            assert.deepEqual(await names({ filter: `name LIKE '${base}-%' AND tags.\`mlflow.prompt.is_prompt\` = 'false'` }), [`${base}-a`, `${base}-b`, `${base}-c`]);
            const byTime = await names({ filter: `name LIKE '${base}-%'`, order_by: ['timestamp DESC'] });
            assert.equal(byTime.length, 3);
            assert.deepEqual(await names({ filter: `name LIKE '${base}-%'`, order_by: ['last_updated_timestamp ASC'] }), [`${base}-b`, `${base}-a`, `${base}-c`]);

            const p1 = assertOk(await c.get('/registered-models/search', { filter: `name LIKE '${base}-%'`, max_results: 2 }));
            assert.equal(p1.registered_models.length, 2);
            assert.equal(typeof p1.next_page_token, 'string');
            const p2 = assertOk(await c.get('/registered-models/search', { filter: `name LIKE '${base}-%'`, max_results: 2, page_token: p1.next_page_token }));
            assert.deepEqual(p2.registered_models.map((m) => m.name), [`${base}-c`]);
            assert.ok(!('next_page_token' in p2), 'no token on the last page');
            assert.deepEqual(assertOk(await c.get('/registered-models/search', { filter: "name = 'nothing-at-all'" })), {});
            const full = assertOk(await c.get('/registered-models/search', { filter: `name = '${base}-a'` })).registered_models[0];
            assert.deepEqual(full, await getModel(`${base}-a`), 'search returns whole models');

            const bad = async (q, ...mentions) => assertError(await c.get('/registered-models/search', q), 400, 'INVALID_PARAMETER_VALUE', mentions, JSON.stringify(q));
            await bad({ max_results: 0 }, 'Invalid value for max_results. It must be a positive integer, but got 0');
            await bad({ max_results: 1001 }, 'max_results', '1000');
            await bad({ max_results: 'many' }, 'max_results');
            await bad({ max_results: '99999999999999999999' }, 'max_results');
            await bad({ page_token: 'not-a-token' }, 'Invalid page token');
            await bad({ filter: "attributes.name = 'x'" }, 'attributes');
            await bad({ filter: "creation_timestamp = '1'" }, 'Invalid attribute key');
            await bad({ filter: 'name = x' }, 'Expected a quoted string value');
            await bad({ filter: "name = 'a' OR name = 'b'" }, 'Invalid clause(s) in filter string');
            await bad({ filter: "name IN ('a')" }, 'Invalid clause(s)');
            await bad({ filter: "name = 'unterminated" }, 'Invalid clause(s)');
            await bad({ order_by: ['creation_timestamp'] }, 'creation_timestamp');
            await bad({ order_by: ['name', 'name DESC'] }, 'more than once');
            await bad({ order_by: ['name sideways'] }, 'ASC or DESC');
            assert.ok(Array.isArray(await names({ max_results: 1000 })));
        });

        test('model-versions/search: filter grammar, order, limits, no aliases, deleted skipped', async () => {
            const { name } = await createModel();
            await createVersion(name, { run_id: 'run-a', source: 's3://b/one' });
            await createVersion(name, { run_id: 'run-b', source: 's3://b/two', tags: [{ key: 'k', value: 'v' }] });
            await createVersion(name, { run_id: 'run-c' });
            await createVersion(name);
            await c.ok('DELETE', '/model-versions/delete', { name, version: '4' });
            await c.ok('POST', '/registered-models/alias', { name, alias: 'al', version: '1' });
            const versions = async (q) => (assertOk(await c.get('/model-versions/search', q)).model_versions || []).map((v) => v.version);
            assert.deepEqual(await versions({ filter: `name = '${name}'` }), ['3', '2', '1'], 'default order: last updated first');
            assert.deepEqual(await versions({ filter: `name = '${name}'`, order_by: ['version_number ASC'] }), ['1', '2', '3']);
            assert.deepEqual(await versions({ filter: `name = '${name}' AND version_number >= 2`, order_by: ['attribute.version_number'] }), ['2', '3']);
            assert.deepEqual(await versions({ filter: `name = '${name}' AND version_number < '2.5'`, order_by: ['version_number DESC'] }), ['2', '1']);
            assert.deepEqual(await versions({ filter: `name = '${name}' AND run_id IN ('run-a', 'run-c', 'RUN-B')`, order_by: ['version_number'] }), ['1', '3']);
            assert.deepEqual(await versions({ filter: `name = '${name}' AND source_path LIKE 's3://b/t%'` }), ['2']);
            assert.deepEqual(await versions({ filter: `name = '${name}' AND tags.k = 'v'` }), ['2']);
            assert.deepEqual(await versions({ filter: `name = '${name}' AND tags.k != 'x'` }), ['2'], 'a tag comparison needs the tag');
            const one = assertOk(await c.get('/model-versions/search', { filter: `name = '${name}' AND version_number = 1` })).model_versions[0];
            assert.ok(!('aliases' in one), 'no aliases in search results');
            const p1 = assertOk(await c.get('/model-versions/search', { filter: `name = '${name}'`, max_results: 2, order_by: ['version_number'] }));
            assert.deepEqual(p1.model_versions.map((v) => v.version), ['1', '2']);
            const p2 = assertOk(await c.get('/model-versions/search', { filter: `name = '${name}'`, max_results: 2, order_by: ['version_number'], page_token: p1.next_page_token }));
            assert.deepEqual(p2.model_versions.map((v) => v.version), ['3']);
            assert.ok(!('next_page_token' in p2));

            const bad = async (q, ...mentions) => assertError(await c.get('/model-versions/search', q), 400, 'INVALID_PARAMETER_VALUE', mentions, JSON.stringify(q));
            await bad({ max_results: 200001 }, 'max_results');
            await bad({ max_results: -1 }, 'positive integer');
            await bad({ filter: "current_stage = 'None'" }, 'Invalid attribute key');
            await bad({ filter: "run_id NOT IN ('a')" }, 'NOT');
            await bad({ filter: "name IN ('a')" }, 'Invalid clause(s)');
            await bad({ filter: 'run_id IN ()' }, 'empty');
            await bad({ filter: "version_number = 'abc'" }, 'number');
            await bad({ filter: 'version_number LIKE 1' }, 'Invalid clause(s)');
            await bad({ order_by: ['tags.k'] }, 'Invalid order by key');
            assertOk(await c.get('/model-versions/search', { max_results: 200000, filter: `name = '${name}'` }));
        });

        test('hostile input: NUL, lone surrogates, malformed JSON, wrong types -> 400, never 500', async () => {
            const raw = (p, text) => c.post(p, undefined, { raw: text, headers: { 'content-type': 'application/json' } });
            for (const text of ['{"name": "a\\u0000b"}', '{"name": "\\uD800"}', '{"name": ', 'null', '[]', '{"name": "a",}']) {
                const r = await raw('/registered-models/create', text);
                assertError(r, 400, null, [], text);
            }
            const { name } = await createModel();
            await createVersion(name);
            for (const body of [{ name: 5 }, { name: ['x'] }, { name, tags: 'x' }, { name, tags: [{ key: 5, value: 'x' }] }, { name, description: {} }]) {
                assertError(await c.post('/registered-models/create', body), 400, 'INVALID_PARAMETER_VALUE', [], JSON.stringify(body));
            }
            for (const version of [true, 1.5, '1e3', '', ' 1', '0x1', '18446744073709551616', [1]]) {
                const r = await c.post('/registered-models/alias', { name, alias: 'a', version });
                assertError(r, 400, 'INVALID_PARAMETER_VALUE', [], JSON.stringify(version));
            }
            const nulQuery = await c.get('/registered-models/get', { name: 'a\u0000b' });
            assert.ok(nulQuery.status >= 400 && nulQuery.status < 500, `NUL in a query: ${nulQuery.status}`);
            assert.equal(typeof nulQuery.json?.error_code, 'string');
            const r = await c.get('/model-versions/search', { filter: "name = '\u0000'" });
            assert.ok(r.status < 500, `NUL in a filter: ${r.status} ${r.text}`);
            const sqlish = await c.get('/registered-models/search', { filter: "name = 'x'' OR 1=1 --'" });
            assert.ok(sqlish.status === 200 || sqlish.status === 400, sqlish.text);
            assertError(await c.get('/model-versions/search', { filter: 'version_number > 1e999999' }), 400, 'INVALID_PARAMETER_VALUE', 'version_number');
            assertError(await c.get('/model-versions/search', { filter: "version_number > '0x10'" }), 400, 'INVALID_PARAMETER_VALUE', 'version_number');
        });

        test('concurrency: 16 parallel creates get distinct consecutive versions', async () => {
            const { name } = await createModel();
            const results = await Promise.all(Array.from({ length: 16 }, () => c.post('/model-versions/create', { name, source: 's3://b/p' })));
            const numbers = results.map((x) => Number(assertOk(x).model_version.version)).sort((a, b) => a - b);
            assert.deepEqual(numbers, Array.from({ length: 16 }, (_, i) => i + 1));
        });

        test('concurrency: parallel alias moves leave one alias on one existing version', async () => {
            const { name } = await createModel();
            for (let i = 0; i < 6; i++) await createVersion(name);
            const moves = Array.from({ length: 24 }, (_, i) => c.post('/registered-models/alias', { name, alias: 'live', version: String((i % 6) + 1) }));
            const deletes = [del('/model-versions/delete', { name, version: '6' })];
            const all = await Promise.all([...moves, ...deletes]);
            for (const x of all) assert.ok(x.status === 200 || x.status === 404, x.text);
            const m = await getModel(name);
            const live = (m.aliases || []).filter((a) => a.alias === 'live');
            if (live.length) {
                assert.equal(live.length, 1);
                const v = assertOk(await c.get('/registered-models/alias', { name, alias: 'live' })).model_version;
                assert.equal(v.version, live[0].version);
                assert.notEqual(v.version, '6');
            } else {
                assertError(await c.get('/registered-models/alias', { name, alias: 'live' }), 400, 'INVALID_PARAMETER_VALUE');
            }
            const versions = await Promise.all(Array.from({ length: 6 }, (_, i) => getVersion(name, String(i + 1))));
            const holders = versions.filter((x) => x.status === 200 && (x.json.model_version.aliases || []).includes('live'));
            assert.ok(holders.length <= 1, 'at most one version holds the alias');
        });
    });
}
