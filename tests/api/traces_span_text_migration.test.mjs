// Migration 0023 (span attributes and events from jsonb to text) on a
// database that already holds spans: a database is taken up to 0022 by
// applying the schema files as exptrackd does (each file in one
// transaction, its version in schema_migrations), spans are stored in it
// as jsonb, and an exptrackd started on it applies 0023 and the later
// migrations. Every read that serves spans (traces/get, batchGet, the
// traces.json of get-trace-artifact) and the cost rollup of traces/stats
// must then answer byte for byte what a database migrated from empty
// answers for the same spans (reals written with an exponent came back
// without one until schema/0030_span_text_numbers.sql).
//
// The spans are sent by OTLP to a server on a fresh database (the
// reference); its rows (experiment, trace, tags, metadata, spans) are
// copied into the 0022 database, where the attributes and events text
// becomes jsonb as the 0022-era server's writes did (jsonb keeps the
// values, not the text: key order, spacing and number forms are its own).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startPostgres, startServer, api, assertOk, client, uniqueName, REPO_ROOT } from './harness.mjs';

const hex = (n) => crypto.randomBytes(n).toString('hex');
const LAST_OLD = 22; // the database is taken up to this migration

const ESCAPES = 'quote " backslash \\ slash / nl \n tab \t ctl \u0001 \u001f del \u007f';
const UNICODE = 'héllo 日本語 🎉 \u2028';
const JSON_TEXT = '{"messages": [{"role": "user", "content": "hi \\"there\\""}], "n": 2.5}';
const COST = '{"input_cost": 0.25, "output_cost": 0.5, "total_cost": 0.75}';

// Keys of many lengths (jsonb orders keys by length, then bytes) and every
// kind of value.
const ATTRS = [
    ['s.escapes', { stringValue: ESCAPES }],
    ['s.unicode', { stringValue: UNICODE }],
    ['s.empty', { stringValue: '' }],
    ['mlflow.spanInputs', { stringValue: JSON_TEXT }],
    ['mlflow.spanType', { stringValue: '"LLM"' }],
    ['mlflow.llm.cost', { stringValue: COST }],
    ['i.neg', { intValue: '-42' }],
    ['i.max', { intValue: '9223372036854775807' }],
    ['i.min', { intValue: '-9223372036854775808' }],
    ['i.zero', { intValue: 0 }],
    ['d.tenth', { doubleValue: 0.1 }],
    ['d.tiny', { doubleValue: -2.5e-10 }],
    ['d.huge', { doubleValue: 1e300 }],
    ['d.whole', { doubleValue: 3 }],
    ['d.e21', { doubleValue: 1e21 }],
    ['d.small', { doubleValue: 1.5e-5 }],
    ['d.smallest', { doubleValue: -1e-300 }],
    ['d.edge', { doubleValue: 1e-4 }],
    ['d.nan', { doubleValue: 'NaN' }],
    ['b.true', { boolValue: true }],
    ['b.false', { boolValue: false }],
    ['bytes', { bytesValue: 'AAEC/w==' }],
    ['unset', {}],
    ['arr', { arrayValue: { values: [{ stringValue: 'x"y' }, { intValue: '7' }, { doubleValue: 1.5 }, { boolValue: false },
        { arrayValue: { values: [] } }, { kvlistValue: { values: [{ key: 'k', value: { stringValue: 'v' } }] } }] } }],
    ['arr.empty', { arrayValue: {} }],
    ['kv', { kvlistValue: { values: [
        { key: 'outer', value: { kvlistValue: { values: [{ key: 'inner "q"', value: { arrayValue: { values: [{ intValue: 1 }, { boolValue: true }] } } }] } } },
        { key: 'ünï', value: { stringValue: '🎉' } }, { key: 'a', value: { intValue: 2 } }] } }],
    ['kv.empty', { kvlistValue: { values: [] } }],
    ['a', { stringValue: 'short key' }],
    ['a much longer key than the others', { stringValue: 'long key' }],
];

const SPAN_COLUMNS = 'trace_id, span_id, parent_span_id, experiment_id, name, span_type, kind, trace_state,'
    + ' status_code, status_message, start_ns, end_ns, attributes, events, input_tokens, output_tokens';
const TRACE_COLUMNS = 'trace_id, experiment_id, request_time, execution_duration, state, client_request_id,'
    + ' request_preview, response_preview, input_tokens, output_tokens, total_tokens, created, updated';
const EXPERIMENT_COLUMNS = 'experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time';

describe('migration 0023 on a database holding spans', () => {
    let pg, ref, old, exp, dir;
    const t = hex(16), root = hex(8), child = hex(8), leaf = hex(8);
    const tid = `tr-${t}`;
    const ns = (ms) => (BigInt(1750000000000 + ms) * 1000000n).toString();
    const spans = [
        { traceId: t, spanId: root, name: 'root "quoted" \\ span 🎉', kind: 'SPAN_KIND_SERVER', traceState: 'k=v',
            startTimeUnixNano: ns(0), endTimeUnixNano: ns(900), status: { code: 'STATUS_CODE_OK' },
            attributes: ATTRS.map(([key, value]) => ({ key, value })),
            events: [
                { name: 'exception', timeUnixNano: ns(5), attributes: [{ key: 'exception.message', value: { stringValue: 'boom\n"x"' } },
                    { key: 'n', value: { intValue: 3 } }, { key: 'd', value: { doubleValue: 1e300 } }] },
                { name: 'bare', timeUnixNano: ns(6) },
            ] },
        { traceId: t, spanId: child, parentSpanId: root, name: 'child', kind: 3,
            startTimeUnixNano: ns(100), endTimeUnixNano: ns(500), status: { code: 2, message: 'failed: "bad"\tinput ✗' },
            attributes: [{ key: 'only', value: { stringValue: 'one' } }, { key: 'mlflow.llm.cost', value: { kvlistValue: { values: [
                { key: 'input_cost', value: { doubleValue: 0.125 } }, { key: 'output_cost', value: { doubleValue: 1 } }] } } }] },
        { traceId: t, spanId: leaf, parentSpanId: child, name: '', startTimeUnixNano: ns(200), endTimeUnixNano: ns(200) },
    ];
    const reads = [
        ['traces/get', '/api/3.0/mlflow/traces/get', () => ({ trace_id: tid, allow_partial: 'true' })],
        ['batchGet', '/api/3.0/mlflow/traces/batchGet', () => ({ trace_ids: tid })],
        ['get-trace-artifact', '/api/2.0/mlflow/get-trace-artifact', () => ({ request_id: tid })],
        ['traces/stats', '/api/2.0/exptrack/traces/stats', () => ({ experiment_id: exp })],
    ];

    // Rows of a query in COPY text form, from database db.
    const copyOut = (sql, db) => pg.psql(`COPY (${sql}) TO STDOUT`, db);
    // Loads COPY text rows into table (columns) of the 0022 database.
    function copyIn(table, columns, rows) {
        const file = path.join(dir, `${table}.copy`);
        fs.writeFileSync(file, rows);
        pg.psql(`\\copy ${table} (${columns}) FROM '${file}'`);
    }

    before(async () => {
        pg = await startPostgres();
        dir = fs.mkdtempSync(path.join(pg.dir, 'rows-'));
        pg.psql('CREATE DATABASE reference', 'postgres');
        ref = await startServer({ databaseUrl: pg.url.replace('/exptrack?', '/reference?') });
        exp = await client(ref.url).createExperiment(uniqueName('migrate'));
        assertOk(await api(ref.url, 'POST', '/v1/traces', { resourceSpans: [{ scopeSpans: [{ spans }] }] },
            { headers: { 'x-mlflow-experiment-id': exp } }));

        // The 0022 database, as exptrackd's migrator leaves it.
        pg.psql('CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,'
            + ' applied_at timestamptz NOT NULL DEFAULT now())');
        const files = fs.readdirSync(path.join(REPO_ROOT, 'schema')).filter((f) => /^\d{4}_.*\.sql$/.test(f)).sort();
        let applied = 0;
        for (const f of files) {
            const version = Number(f.slice(0, 4));
            if (version > LAST_OLD) continue;
            pg.psql(`${fs.readFileSync(path.join(REPO_ROOT, 'schema', f), 'utf8')}\n;`
                + `INSERT INTO schema_migrations (version, name) VALUES (${version}, '${f}')`);
            applied++;
        }
        assert.ok(applied >= 20, `schema files up to ${LAST_OLD} applied (${applied})`);
        assert.equal(pg.psql("SELECT data_type FROM information_schema.columns WHERE table_name = 'trace_spans'"
            + " AND column_name = 'attributes'").trim(), 'jsonb', 'the old database holds attributes as jsonb');

        // The reference's rows into it: the spans' text becomes jsonb.
        copyIn('experiments', EXPERIMENT_COLUMNS,
            copyOut(`SELECT ${EXPERIMENT_COLUMNS} FROM experiments WHERE experiment_id = ${Number(exp)}`, 'reference'));
        copyIn('traces', TRACE_COLUMNS, copyOut(`SELECT ${TRACE_COLUMNS} FROM traces WHERE trace_id = '${tid}'`, 'reference'));
        for (const table of ['trace_tags', 'trace_metadata'])
            copyIn(table, 'trace_id, key, value', copyOut(`SELECT trace_id, key, value FROM ${table} WHERE trace_id = '${tid}'`, 'reference'));
        copyIn('trace_spans', SPAN_COLUMNS, copyOut(`SELECT ${SPAN_COLUMNS} FROM trace_spans WHERE trace_id = '${tid}'`, 'reference'));
        assert.equal(pg.psql(`SELECT count(*) FROM trace_spans WHERE trace_id = '${tid}'`).trim(), '3');
        // the jsonb form differs from the text the reference stored
        assert.notEqual(pg.psql(`SELECT attributes::text FROM trace_spans WHERE span_id = '${root}'`),
            pg.psql(`SELECT attributes FROM trace_spans WHERE span_id = '${root}'`, 'reference'));

        old = await startServer({ databaseUrl: pg.url });
    }, { timeout: 120000 });

    after(async () => {
        if (old) await old.stop();
        if (ref) await ref.stop();
        if (pg) await pg.destroy();
    }, { timeout: 60000 });

    test('exptrackd applied 0023 and the later migrations to the populated database', () => {
        const versions = pg.psql('SELECT version FROM schema_migrations ORDER BY version').trim().split('\n').map(Number);
        assert.ok(versions.includes(23), `0023 applied: ${versions.join(' ')}`);
        const latest = Math.max(...fs.readdirSync(path.join(REPO_ROOT, 'schema')).filter((f) => /^\d{4}_/.test(f)).map((f) => Number(f.slice(0, 4))));
        assert.equal(Math.max(...versions), latest);
        assert.equal(pg.psql("SELECT data_type FROM information_schema.columns WHERE table_name = 'trace_spans'"
            + " AND column_name = 'attributes'").trim(), 'text');
        // the partial index of spans with a cost still finds the old rows
        assert.equal(pg.psql(`SELECT count(*) FROM trace_spans WHERE trace_id = '${tid}'`
            + ` AND strpos(attributes, '"mlflow.llm.cost"') > 0`).trim(), '2');
    });

    for (const [name, p, query] of reads) {
        test(`${name}: the migrated spans read back byte for byte as on a fresh database`, async () => {
            const want = await api(ref.url, 'GET', p, query());
            const got = await api(old.url, 'GET', p, query());
            assertOk(want, `reference ${name}`);
            assertOk(got, `migrated ${name}`);
            assert.equal(got.text, want.text);
            if (name !== 'traces/stats') assert.ok(want.text.includes('"name":"child"'), 'the spans are in the reply');
            else assert.ok(Math.abs(want.json.groups[0].total_cost - 1.875) < 1e-9, `costs of both spans: ${want.text}`);
        });
    }
});
