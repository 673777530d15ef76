// Model registry under concurrency: parallel version creation (one model,
// and many models at once) and alias moves racing readers of get-by-alias.
// A reader must always get a version that exists and holds the alias it
// asked for (one snapshot: the version row, its tags and its aliases come
// from one statement), and the last acknowledged move is what stays.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, client, assertOk, assertError, uniqueName } from './harness.mjs';

const stack = useStack({ before, after });
// The stack's URL is known only once its before hook has run.
const c = {
    get: (...a) => client(stack.base).get(...a),
    post: (...a) => client(stack.base).post(...a),
    req: (...a) => client(stack.base).req(...a),
};

async function createModel() {
    const name = uniqueName('conc');
    assertOk(await c.post('/registered-models/create', { name }));
    return name;
}

const createVersion = (name, i) =>
    c.post('/model-versions/create', { name, source: `s3://bucket/conc/${i}`, tags: [{ key: 'i', value: String(i) }] });

test('32 parallel creates on one model get versions 1..32, each stored once with its own tags', async () => {
    const name = await createModel();
    const results = await Promise.all(Array.from({ length: 32 }, (_, i) => createVersion(name, i)));
    const got = results.map((r) => assertOk(r).model_version);
    assert.deepEqual(got.map((v) => Number(v.version)).sort((a, b) => a - b), Array.from({ length: 32 }, (_, i) => i + 1));
    // Each reply's number is the row that carries that request's source and tag.
    for (const v of got) {
        const stored = assertOk(await c.get('/model-versions/get', { name, version: v.version })).model_version;
        assert.equal(stored.source, v.source);
        assert.deepEqual(stored.tags, v.tags);
    }
    const page = assertOk(await c.get('/model-versions/search', { filter: `name='${name}'`, max_results: 100 }));
    assert.equal(page.model_versions.length, 32);
    const latest = assertOk(await c.post('/registered-models/get-latest-versions', { name })).model_versions;
    assert.equal(latest.length, 1);
    assert.equal(latest[0].version, '32');
});

test('parallel creates on 8 models interleaved: every model counts 1..N on its own', async () => {
    const names = await Promise.all(Array.from({ length: 8 }, () => createModel()));
    const reqs = [];
    for (let round = 0; round < 6; round++) for (const n of names) reqs.push(createVersion(n, round));
    const results = (await Promise.all(reqs)).map((r) => assertOk(r).model_version);
    for (const n of names) {
        const mine = results.filter((v) => v.name === n).map((v) => Number(v.version)).sort((a, b) => a - b);
        assert.deepEqual(mine, [1, 2, 3, 4, 5, 6], n);
    }
});

test('alias moves racing get-by-alias readers: every read is one existing version holding the alias; last write wins', { timeout: 120000 }, async () => {
    const name = await createModel();
    for (let i = 0; i < 6; i++) assertOk(await createVersion(name, i));
    assertOk(await c.post('/registered-models/alias', { name, alias: 'live', version: '1' }));

    let writing = true;
    let reads = 0;
    const reader = async () => {
        while (writing) {
            const r = await c.get('/registered-models/alias', { name, alias: 'live' });
            const v = assertOk(r, 'get-by-alias during moves').model_version;
            assert.equal(v.name, name);
            assert.ok(Number(v.version) >= 1 && Number(v.version) <= 6, `version ${v.version}`);
            assert.deepEqual(v.aliases, ['live'], `version ${v.version} must hold exactly the alias it was read by`);
            assert.equal(v.source, `s3://bucket/conc/${Number(v.version) - 1}`, 'the row of that version');
            reads++;
        }
    };
    const readers = Array.from({ length: 8 }, reader);
    let last = '1';
    for (let i = 0; i < 150; i++) {
        last = String((i * 7) % 6 + 1);
        assertOk(await c.post('/registered-models/alias', { name, alias: 'live', version: last }));
    }
    writing = false;
    await Promise.all(readers);
    assert.ok(reads > 0, 'the readers read while the alias moved');

    // Final state = the last acknowledged write, seen the same way by every read path.
    const v = assertOk(await c.get('/registered-models/alias', { name, alias: 'live' })).model_version;
    assert.equal(v.version, last);
    const m = assertOk(await c.get('/registered-models/get', { name })).registered_model;
    assert.deepEqual(m.aliases, [{ alias: 'live', version: last }]);
    const holders = [];
    for (let i = 1; i <= 6; i++) {
        const mv = assertOk(await c.get('/model-versions/get', { name, version: String(i) })).model_version;
        if ((mv.aliases || []).includes('live')) holders.push(mv.version);
    }
    assert.deepEqual(holders, [last], 'exactly one version holds the alias');
});

test('alias moves racing version deletes: a read sees a live version holding the alias, or the alias gone', { timeout: 120000 }, async () => {
    const name = await createModel();
    for (let i = 0; i < 12; i++) assertOk(await createVersion(name, i));
    let writing = true;
    let hits = 0;
    let gone = 0;
    const reader = async () => {
        while (writing) {
            const r = await c.get('/registered-models/alias', { name, alias: 'moving' });
            if (r.status === 200) {
                const v = r.json.model_version;
                assert.deepEqual(v.aliases, ['moving']);
                assert.notEqual(v.current_stage, 'Deleted_Internal');
                assert.match(v.source, /^s3:\/\/bucket\/conc\/\d+$/, 'never a tombstone');
                hits++;
            } else {
                assertError(r, 400, 'INVALID_PARAMETER_VALUE', 'Registered model alias moving not found.');
                gone++;
            }
        }
    };
    const readers = Array.from({ length: 6 }, reader);
    // Point the alias at version k, then delete k (which drops the alias), for each k.
    for (let k = 1; k <= 12; k++) {
        assertOk(await c.post('/registered-models/alias', { name, alias: 'moving', version: String(k) }));
        if (k < 12) assertOk(await c.req('DELETE', '/model-versions/delete', { name, version: String(k) }));
    }
    writing = false;
    await Promise.all(readers);
    assert.ok(hits + gone > 0);
    const v = assertOk(await c.get('/registered-models/alias', { name, alias: 'moving' })).model_version;
    assert.equal(v.version, '12');
    for (let k = 1; k < 12; k++) {
        assertError(await c.get('/model-versions/get', { name, version: String(k) }), 404, 'RESOURCE_DOES_NOT_EXIST');
    }
});
