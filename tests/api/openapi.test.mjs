// The OpenAPI document (docs/openapi.json, served at /api/openapi.json) and
// the route table (server/routes.c) describe the same API: every route has
// an operation and every operation a route, so neither can drift.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { useStack, api, REPO_ROOT } from './harness.mjs';

const stack = useStack({ before, after });

// Rows of the table: {"METHOD", MOUNT_X, "/path", ...} (the first three
// fields always share a line; see server/routes.c).
function routeTable() {
    const src = fs.readFileSync(path.join(REPO_ROOT, 'server', 'routes.c'), 'utf8');
    const body = src.slice(src.indexOf('table[] = {'), src.indexOf('};', src.indexOf('table[] = {')));
    const rows = [...body.matchAll(/\{"(GET|POST|PUT|PATCH|DELETE)",\s*(MOUNT_[A-Z_]+),\s*"([^"]+)"/g)];
    assert.ok(rows.length > 40, `parsed ${rows.length} routes from server/routes.c`);
    return rows.map(([, method, mount, p]) => {
        let full = mount.startsWith('MOUNT_API') ? `/api/2.0${p}` : p;
        if (mount.endsWith('_PREFIX')) full += '{path}';
        return `${method.toLowerCase()} ${full}`;
    });
}

function documented(doc) {
    const ops = [];
    for (const [p, item] of Object.entries(doc.paths)) {
        for (const m of Object.keys(item)) {
            if (['get', 'post', 'put', 'patch', 'delete', 'head', 'options'].includes(m)) ops.push(`${m} ${p}`);
        }
    }
    return ops;
}

test('GET /api/openapi.json serves docs/openapi.json, an OpenAPI 3 document', async () => {
    const r = await api(stack.base, 'GET', '/api/openapi.json');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^application\/json/);
    const file = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'docs', 'openapi.json'), 'utf8'));
    assert.deepEqual(r.json, file, 'the served document is the checked-in file (rebuild after editing it)');
    assert.match(r.json.openapi, /^3\./);
    assert.ok(r.json.info && r.json.info.title && r.json.info.version);
});

test('every route has an operation and every operation a route', () => {
    const doc = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'docs', 'openapi.json'), 'utf8'));
    const routes = new Set(routeTable());
    const ops = new Set(documented(doc));
    const undocumented = [...routes].filter((r) => !ops.has(r));
    const unrouted = [...ops].filter((o) => !routes.has(o));
    assert.deepEqual(undocumented, [], 'routes missing from docs/openapi.json');
    assert.deepEqual(unrouted, [], 'operations in docs/openapi.json without a route');
});

test('every operation is complete: summary, 200 and error responses, resolvable $refs', () => {
    const doc = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'docs', 'openapi.json'), 'utf8'));
    const ids = new Set();
    const text = JSON.stringify(doc);
    for (const m of text.matchAll(/"\$ref":"#\/components\/(schemas|responses)\/([^"]+)"/g)) {
        assert.ok(doc.components[m[1]][m[2]], `unresolved $ref ${m[2]}`);
    }
    for (const [p, item] of Object.entries(doc.paths)) {
        for (const [m, op] of Object.entries(item)) {
            assert.ok(op.summary, `${m} ${p}: summary`);
            assert.ok(op.responses && op.responses['200'] && op.responses.default, `${m} ${p}: responses`);
            assert.ok(!ids.has(op.operationId), `${m} ${p}: operationId unique`);
            ids.add(op.operationId);
            if (p.includes('{path}')) assert.ok((op.parameters || []).some((x) => x.in === 'path' && x.name === 'path'), `${m} ${p}: path parameter`);
        }
    }
});

test('the routes the document lists as live answer (not ENDPOINT_NOT_FOUND)', async () => {
    for (const r of routeTable()) {
        const [method, p] = r.split(' ');
        if (method !== 'get' || p.includes('{')) continue;
        const res = await api(stack.base, 'GET', p);
        assert.notEqual(res.json?.error_code, 'ENDPOINT_NOT_FOUND', `${r} is routed`);
    }
});
