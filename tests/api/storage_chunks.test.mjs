// Compacted metric series (issue 20, schema/0027_metric_chunks.sql): every
// reader answers byte for byte what it answered before a finished run's
// points were packed into chunks. Each scenario logs the same writes to two
// runs: A is finished and compacted (`exptrackd compact`), B stays live and
// narrow; then every reader (get-history whole and in pages with tokens,
// bulk interval, the dashboard's downsample) must answer the same text for
// both. Points logged to A after compaction, purge and logging during a
// compaction are checked too.
import { describe, test, before } from 'node:test';
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { useStack, client, assertOk, uniqueName, exptrackdPath } from './harness.mjs';

// No compaction thread: the test compacts when it means to.
const stack = useStack({ before, after }, { server: { args: ['--compact-delay', '-1'] } });

const I64_MAX = '9223372036854775807';
const I64_MIN = '-9223372036854775808';

// Runs `exptrackd compact` against the test's database; resolves its stdout.
function compact() {
    return new Promise((resolve, reject) => {
        const p = spawn(exptrackdPath(), ['compact', '--database-url', stack.pg.url, '--compact-delay', '0'],
            { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        p.stdout.on('data', (d) => { out += d; });
        p.stderr.on('data', (d) => { err += d; });
        p.on('error', reject);
        p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`compact exited ${code}: ${err}`))));
    });
}

const sql = (q) => stack.pg.psql(q).trim();
const internalId = (run) => sql(`SELECT id FROM runs WHERE run_uuid = '${run}'`);

// A small deterministic PRNG.
function rng(seed) {
    let s = seed >>> 0;
    return () => {
        s = (s * 1664525 + 1013904223) >>> 0;
        return s / 4294967296;
    };
}

describe('compacted metric series', () => {
    let c;
    let x;
    let exp;
    before(async () => {
        c = client(stack.base);
        x = client(stack.base, '/api/2.0/exptrack');
        exp = await c.createExperiment(uniqueName('chunks'));
    });

    // log-batch bodies written as text, so that int64 extremes and -0 go
    // out exactly (a JS number cannot hold them).
    async function logRaw(run_id, points) {
        for (let i = 0; i < points.length; i += 1000) {
            const body = `{"run_id":"${run_id}","metrics":[${points.slice(i, i + 1000).map((p) =>
                `{"key":"${p.key}","value":${p.value},"timestamp":${p.timestamp},"step":${p.step}}`).join(',')}]}`;
            assertOk(await c.req('POST', '/runs/log-batch', undefined, { raw: body, headers: { 'content-type': 'application/json' } }), 'log-batch');
        }
    }

    // The series this test logs: keys and what is special about them.
    function seriesPoints() {
        const rand = rng(20);
        const pts = [];
        // a noisy decreasing loss over 9,000 steps (three chunks), steady timestamps with jitter
        for (let s = 0; s < 9000; s++) {
            pts.push({ key: 'loss', value: String(2.5 * Math.exp(-s / 3000) + 0.05 * rand()), timestamp: 1700000000000 + s * 37 + Math.floor(rand() * 12), step: s });
        }
        // special doubles, several points at one step, out-of-order writes, int64 extremes
        const special = ['"NaN"', '"Infinity"', '"-Infinity"', '-0', '0', '5e-324', '2.2250738585072009e-308', '1.7976931348623157e308',
            '-1.7976931348623157e308', '0.1', '1e21'];
        for (const v of special) {
            pts.push({ key: 'odd', value: v, timestamp: 5, step: 3 });
            pts.push({ key: 'odd', value: v, timestamp: I64_MAX, step: I64_MIN });
            pts.push({ key: 'odd', value: v, timestamp: 0, step: I64_MAX });
        }
        pts.push({ key: 'odd', value: '1', timestamp: 4, step: 3 });
        pts.push({ key: 'odd', value: '1', timestamp: 4, step: 3 }); // a duplicate: stored once
        pts.push({ key: 'odd', value: '2', timestamp: 0, step: 0 });
        // sparse steps far apart (offsets beyond int4) and timestamps going backwards
        for (let i = 0; i < 5000; i++) {
            const step = BigInt(i) * 3000000007n - 7000000000000n;
            pts.push({ key: 'sparse', value: String(Math.sin(i)), timestamp: 1700000000000 - i * 1000, step: step.toString() });
        }
        // many points at one step across a chunk boundary (4,096)
        for (let i = 0; i < 4500; i++) pts.push({ key: 'flat', value: String(i % 97), timestamp: 1000 + (i % 13), step: 7 });
        return pts;
    }

    const KEYS = ['loss', 'odd', 'sparse', 'flat'];

    // Every reader's reply text for run (ids replaced by a placeholder).
    async function readAll(run) {
        const out = {};
        const plain = (t) => t.split(run).join('<run>');
        for (const key of KEYS) {
            const whole = await c.get('/metrics/get-history', { run_id: run, metric_key: key }, { timeoutMs: 60000 });
            assertOk(whole, `get-history ${key}`);
            out[`history ${key}`] = plain(whole.text);
            for (const size of [1, 7, 1000, 4097]) {
                if (size < 1000 && key !== 'odd') continue;
                const pages = [];
                let token;
                do {
                    const r = await c.get('/metrics/get-history', { run_id: run, metric_key: key, max_results: size, ...(token ? { page_token: token } : {}) }, { timeoutMs: 60000 });
                    assertOk(r, `page of ${key}`);
                    pages.push(plain(r.text));
                    token = r.json.next_page_token;
                } while (token);
                out[`pages ${key} ${size}`] = pages.join('\n');
            }
            for (const q of [{}, { start_step: 100, end_step: 5000 }, { start_step: 3, end_step: 3 }, { start_step: I64_MIN, end_step: I64_MAX }]) {
                const r = await c.get('/metrics/get-history-bulk-interval', { run_ids: [run], metric_key: key, max_results: 200, ...q });
                assertOk(r, `bulk ${key}`);
                out[`bulk ${key} ${JSON.stringify(q)}`] = plain(r.text);
            }
            for (const max_points of [40, 1000, 20000]) {
                const r = await x.get('/metrics/history', { run_id: run, metric_key: key, max_points }, { timeoutMs: 60000 });
                assertOk(r, `downsample ${key}`);
                out[`downsample ${key} ${max_points}`] = plain(r.text);
            }
        }
        return out;
    }

    function assertSameReplies(got, want, what) {
        assert.deepEqual(Object.keys(got), Object.keys(want));
        for (const k of Object.keys(want)) {
            assert.ok(got[k] === want[k], `${what}: ${k} differs:\n got  ${got[k].slice(0, 400)}\n want ${want[k].slice(0, 400)}`);
        }
    }

    async function finish(run) {
        await c.ok('POST', '/runs/update', { run_id: run, status: 'FINISHED', end_time: Date.now() - 1000 });
    }

    const blocks = (id) => sql(`SELECT string_agg(key_id || ':' || block || ':' || n || ':' || coalesce(vmin::text, '-') || ':' || coalesce(vmax::text, '-'), ',' ORDER BY key_id, block) FROM metric_blocks WHERE run_id = ${id}`);

    test('every reader answers the same before and after compaction, and after late points', { timeout: 600000 }, async () => {
        const a = (await c.createRun(exp)).info.run_id;
        const b = (await c.createRun(exp)).info.run_id;
        const pts = seriesPoints();
        await logRaw(a, pts);
        await logRaw(b, pts);
        const before = await readAll(a);
        assertSameReplies(await readAll(b), before, 'A and B before');
        await finish(a);

        const out = await compact();
        assert.match(out, /compact: packed \d+ points of [1-9]\d* runs/);
        const ia = internalId(a);
        const ib = internalId(b);
        assert.equal(sql(`SELECT count(*) FROM metrics WHERE run_id = ${ia}`), '0', 'no narrow rows left');
        assert.equal(sql(`SELECT sum(n) FROM metric_chunks WHERE run_id = ${ia}`), sql(`SELECT count(*) FROM metrics WHERE run_id = ${ib}`));
        assert.ok(Number(sql(`SELECT count(*) FROM metric_chunks WHERE run_id = ${ia} AND soff IS NULL AND sraw IS NULL`)) >= 3, 'regular chunks store no steps');
        assert.ok(Number(sql(`SELECT count(*) FROM metric_chunks WHERE run_id = ${ia} AND sraw IS NOT NULL`)) >= 1, 'sparse steps stored raw');
        assert.equal(sql(`SELECT count(*) FROM metric_chunks WHERE run_id = ${ib}`), '0', 'the live run is not compacted');
        assertSameReplies(await readAll(a), before, 'A after compaction');

        // late points: new ones, duplicates of packed points (one as -0 where 0 is)
        const late = [
            { key: 'loss', value: '0.5', timestamp: 1, step: 9000 },
            { key: 'loss', value: '0.25', timestamp: 1, step: 4000 },
            { key: 'loss', value: pts[10].value, timestamp: pts[10].timestamp, step: 10 },
            { key: 'odd', value: '0', timestamp: 5, step: 3 },
            { key: 'odd', value: '"NaN"', timestamp: 0, step: I64_MAX },
            { key: 'odd', value: '3', timestamp: 0, step: I64_MAX },
            { key: 'newkey', value: '1', timestamp: 1, step: 1 },
        ];
        await logRaw(a, late);
        await logRaw(b, late);
        // before the next pass: get-history reads every new point, and a
        // re-sent packed one once (chunks and narrow rows merged as the
        // primary key would keep them), as from the live run: whole and in
        // pages that cross chunks
        for (const key of ['loss', 'odd']) {
            const mid = await c.get('/metrics/get-history', { run_id: a, metric_key: key }, { timeoutMs: 60000 });
            const live = await c.get('/metrics/get-history', { run_id: b, metric_key: key }, { timeoutMs: 60000 });
            assert.equal(mid.text.split(a).join('<run>'), live.text.split(b).join('<run>'), `late points of ${key}`);
            // one run's bulk interval reads as get-history does: the re-sent point once
            for (const q of [{ max_results: 200 }, { max_results: 2500 }, { start_step: 3, end_step: 9000, max_results: 7 }]) {
                const bm = await c.get('/metrics/get-history-bulk-interval', { run_ids: [a], metric_key: key, ...q });
                const bl = await c.get('/metrics/get-history-bulk-interval', { run_ids: [b], metric_key: key, ...q });
                assert.equal(assertOk(bm) && bm.text.split(a).join('<run>'), assertOk(bl) && bl.text.split(b).join('<run>'),
                    `bulk ${JSON.stringify(q)} of ${key} with late points`);
            }
            for (const size of [3, 4097]) {
                const pages = { [a]: [], [b]: [] };
                for (const run of [a, b]) {
                    let token;
                    do {
                        const r = assertOk(await c.get('/metrics/get-history', { run_id: run, metric_key: key, max_results: size, ...(token ? { page_token: token } : {}) }, { timeoutMs: 60000 }));
                        pages[run].push(JSON.stringify(r.metrics));
                        token = r.next_page_token;
                    } while (token && pages[run].length < 10);
                }
                assert.deepEqual(pages[a], pages[b], `pages of ${size} of ${key} with late points`);
            }
        }
        const midPts = assertOk(await c.get('/metrics/get-history', { run_id: a, metric_key: 'loss' }, { timeoutMs: 60000 })).metrics;
        assert.ok(midPts.some((p) => p.step === 9000 && p.value === 0.5) && midPts.some((p) => p.step === 4000 && p.value === 0.25));
        assert.equal(midPts.length, 9002, 'the re-sent point is read once');

        await compact();
        assert.equal(sql(`SELECT count(*) FROM metrics WHERE run_id = ${ia}`), '0');
        assertSameReplies(await readAll(a), await readAll(b), 'A (merged) and B after late points');
        assert.equal(blocks(ia), blocks(ib), 'step blocks count each point once');
        const nk = await c.get('/metrics/get-history', { run_id: a, metric_key: 'newkey' });
        assert.equal(assertOk(nk).metrics.length, 1);

        // a second pass with nothing new changes nothing
        await compact();
        assertSameReplies(await readAll(a), await readAll(b), 'A after an idle pass');

        // purge removes the chunks too
        await c.ok('POST', '/runs/delete', { run_id: a });
        assertOk(await x.post('/runs/purge', { run_ids: [a] }));
        assert.equal(sql(`SELECT count(*) FROM metric_chunks WHERE run_id = ${ia}`), '0');
        assert.equal(sql(`SELECT count(*) FROM metrics WHERE run_id = ${ia}`), '0');
        assert.equal(sql(`SELECT count(*) FROM metric_blocks WHERE run_id = ${ia}`), '0');
    });

    // The pass walks the runs that have narrow rows, 64 at a time: a due
    // run after more than a batch of live ones is still found, and only due
    // runs are touched (live, finished in the future, or running).
    test('a pass finds due runs past a batch of live ones, and only those', { timeout: 600000 }, async () => {
        // created in order (the walk is by id), written in parallel
        const live = [];
        for (let i = 0; i < 70; i++) live.push((await c.createRun(exp)).info.run_id);
        await Promise.all(live.map((r, i) => logRaw(r, [{ key: 'm', value: String(i), timestamp: 1, step: i }])));
        const notYet = (await c.createRun(exp)).info.run_id;
        await logRaw(notYet, [{ key: 'm', value: '1', timestamp: 1, step: 1 }]);
        await c.ok('POST', '/runs/update', { run_id: notYet, status: 'FINISHED', end_time: Date.now() + 3600 * 1000 });
        const failed = (await c.createRun(exp)).info.run_id;
        await logRaw(failed, [{ key: 'm', value: '1', timestamp: 1, step: 1 }, { key: 'm', value: '2', timestamp: 2, step: 2 }]);
        await c.ok('POST', '/runs/update', { run_id: failed, status: 'FAILED', end_time: Date.now() - 1000 });
        // finished first, then more points: due too (the walk is by id, not by end time)
        await finish(live[3]);
        await logRaw(live[3], [{ key: 'm', value: '9', timestamp: 9, step: 9 }]);

        await compact();
        const narrow = (run) => sql(`SELECT count(*) FROM metrics WHERE run_id = ${internalId(run)}`);
        assert.equal(narrow(failed), '0', 'the failed run after 70 live ones is compacted');
        assert.equal(sql(`SELECT sum(n) FROM metric_chunks WHERE run_id = ${internalId(failed)}`), '2');
        assert.equal(narrow(live[3]), '0', 'a run finished before its last points is compacted');
        assert.equal(sql(`SELECT sum(n) FROM metric_chunks WHERE run_id = ${internalId(live[3])}`), '2');
        assert.equal(narrow(notYet), '1', 'a run whose end is to come stays narrow');
        const others = live.filter((_, i) => i !== 3).map((r) => `'${r}'`).join(',');
        assert.equal(sql(`SELECT count(*) FILTER (WHERE (SELECT count(*) FROM metrics m WHERE m.run_id = r.id) = 1)
                          FROM runs r WHERE r.run_uuid IN (${others})`), '69', 'every live run stays narrow');
        const pts = assertOk(await c.get('/metrics/get-history', { run_id: failed, metric_key: 'm' })).metrics;
        assert.deepEqual(pts.map((p) => [p.step, p.value]), [[1, 1], [2, 2]]);
    });

    test('a corrupt chunk row fails its read cleanly, never the server', { timeout: 600000 }, async () => {
        const run = (await c.createRun(exp)).info.run_id;
        const pts = Array.from({ length: 9000 }, (_, s) => ({ key: 'm', value: String(s / 7), timestamp: 100 + s, step: s }));
        await logRaw(run, pts);
        await finish(run);
        await compact();
        const id = internalId(run);
        const good = assertOk(await c.get('/metrics/get-history', { run_id: run, metric_key: 'm' }, { timeoutMs: 60000 })).metrics;
        assert.equal(good.length, 9000);
        sql(`CREATE TABLE saved_chunks AS SELECT * FROM metric_chunks WHERE run_id = ${id}`);
        // each damage to the first chunk (chunk 0) that the reader must refuse
        const damages = {
            'values shorter than n': 'vals = vals[1:10]',
            'a NULL value': 'vals[5] = NULL',
            'a NULL step offset': 'soff = (SELECT array_agg(CASE WHEN i = 3 THEN NULL ELSE i END ORDER BY i) FROM generate_series(0, n - 1) i)',
            'no timestamps': 'toff = NULL, traw = NULL',
            'n above the arrays': 'n = n + 1',
            'n far above the arrays': 'n = 2000000000',
            'steps not spanning n': 'last_step = last_step + 1',
            'steps out of order': 'soff = (SELECT array_agg(n - 1 - i ORDER BY i) FROM generate_series(0, n - 1) i)',
            'timestamps overflowing': 't0 = 9223372036854775000',
        };
        for (const [what, set] of Object.entries(damages)) {
            sql(`UPDATE metric_chunks SET ${set} WHERE run_id = ${id} AND chunk = 0`);
            const r = await c.get('/metrics/get-history', { run_id: run, metric_key: 'm' }, { timeoutMs: 60000 });
            assert.equal(r.status, 500, `${what}: ${r.status} ${r.text.slice(0, 200)}`);
            assert.equal(r.json.error_code, 'INTERNAL_ERROR', what);
            assert.equal(typeof r.json.message, 'string');
            sql(`DELETE FROM metric_chunks WHERE run_id = ${id}; INSERT INTO metric_chunks SELECT * FROM saved_chunks`);
            // the server is fine and the repaired series reads as before
            const again = assertOk(await c.get('/metrics/get-history', { run_id: run, metric_key: 'm', max_results: 5 })).metrics;
            assert.deepEqual(again, good.slice(0, 5), `${what}: after repair`);
        }
        // a damaged later chunk: the reply, already streaming, is cut short
        // (never a well-formed wrong answer), and the server stays up
        sql(`UPDATE metric_chunks SET vals = vals[1:10] WHERE run_id = ${id} AND chunk = 2`);
        let broken = false;
        try {
            const r = await c.get('/metrics/get-history', { run_id: run, metric_key: 'm' }, { timeoutMs: 60000 });
            broken = r.status !== 200 || r.json === undefined || r.json.metrics === undefined;
        } catch {
            broken = true;
        }
        assert.ok(broken, 'a damaged later chunk does not give a complete reply');
        sql(`DELETE FROM metric_chunks WHERE run_id = ${id}; INSERT INTO metric_chunks SELECT * FROM saved_chunks; DROP TABLE saved_chunks`);
        assert.deepEqual(assertOk(await c.get('/metrics/get-history', { run_id: run, metric_key: 'm' }, { timeoutMs: 60000 })).metrics, good);
    });

    // A page of chunk rows can stop inside a chunk: where the narrow rows it
    // read run out before the chunk does (many late points between packed
    // ones). The next page of the same read must take that chunk again, and
    // may skip only chunks whose points it has all handed out.
    test('late points between packed ones: a read that stops inside a chunk goes on from there', { timeout: 600000 }, async () => {
        const a = (await c.createRun(exp)).info.run_id;
        const b = (await c.createRun(exp)).info.run_id;
        const packed = Array.from({ length: 12000 }, (_, s) => ({ key: 'm', value: String(s / 7), timestamp: 1000 + s, step: s }));
        await logRaw(a, packed);
        await logRaw(b, packed);
        await finish(a);
        await compact();
        assert.equal(sql(`SELECT count(*) FROM metrics WHERE run_id = ${internalId(a)}`), '0');
        // 5,000 late points, one beside each of the first 5,000 packed steps
        const late = Array.from({ length: 5000 }, (_, s) => ({ key: 'm', value: String(-s), timestamp: 1, step: s }));
        await logRaw(a, late);
        await logRaw(b, late);
        const whole = (run) => c.get('/metrics/get-history', { run_id: run, metric_key: 'm' }, { timeoutMs: 60000 });
        const wa = await whole(a);
        const wb = await whole(b);
        assert.equal(assertOk(wa).metrics.length, 17000);
        assertOk(wb);
        assert.equal(wa.text.split(a).join('<run>'), wb.text.split(b).join('<run>'), 'the whole series');
        for (const size of [5000, 25000]) {
            const pages = { [a]: [], [b]: [] };
            for (const run of [a, b]) {
                let token;
                do {
                    const r = assertOk(await c.get('/metrics/get-history', { run_id: run, metric_key: 'm', max_results: size, ...(token ? { page_token: token } : {}) }, { timeoutMs: 60000 }));
                    pages[run].push(JSON.stringify(r.metrics));
                    token = r.next_page_token;
                } while (token);
            }
            assert.deepEqual(pages[a], pages[b], `pages of ${size}`);
        }
    });

    test('points logged while a compaction runs are not lost', { timeout: 600000 }, async () => {
        const run = (await c.createRun(exp)).info.run_id;
        const first = Array.from({ length: 40000 }, (_, s) => ({ key: 'm', value: String(s / 3), timestamp: 100 + s, step: s }));
        await logRaw(run, first);
        await finish(run);
        const later = Array.from({ length: 4000 }, (_, i) => ({ key: 'm', value: String(-i), timestamp: 1, step: 40000 + i }));
        const compacting = compact();
        for (let i = 0; i < later.length; i += 100) await logRaw(run, later.slice(i, i + 100));
        await compacting;
        const got = assertOk(await c.get('/metrics/get-history', { run_id: run, metric_key: 'm' }, { timeoutMs: 60000 })).metrics;
        assert.equal(got.length, 44000, 'every point, compacted or not, read once');
        await compact();
        const id = internalId(run);
        assert.equal(sql(`SELECT count(*) FROM metrics WHERE run_id = ${id}`), '0');
        assert.equal(sql(`SELECT sum(n) FROM metric_chunks WHERE run_id = ${id}`), '44000');
        const again = assertOk(await c.get('/metrics/get-history', { run_id: run, metric_key: 'm' }, { timeoutMs: 60000 })).metrics;
        assert.deepEqual(again, got);
        assert.equal(sql(`SELECT sum(n) FROM metric_blocks WHERE run_id = ${id}`), '44000');
    });
});
