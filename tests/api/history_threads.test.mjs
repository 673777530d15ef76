// A streamed get-history reply and the other requests of its thread. With
// one request thread every connection shares one libmicrohttpd worker and
// one PostgreSQL connection: the reply's pages are read in libmicrohttpd's
// callbacks, between which that thread serves everyone else. A reply held
// mid-way by a client that stops reading must leave the thread's database
// connection free (no statement in flight, no transaction open) for the
// writes, reads, other streams and paged reads that run meanwhile; and it
// must then carry on to the end of its series, including points logged past
// its place while it was held (proof that it was held mid-way and read its
// later pages after the other requests).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { useStack, client, api, assertOk, uniqueName } from './harness.mjs';

const stack = useStack({ before, after }, { server: { args: ['--threads', '1'] } });

const N = 200000; // about 15 MB of JSON: more than the socket buffers hold
const EXTRA = 100; // points logged past the end while the reply is held
const valueAt = (i) => i / 7;

// Starts GET path and resolves once the headers are in, with the response
// left unread (node stops reading the socket when its small buffer fills).
function openHeld(base, path) {
    return new Promise((resolve, reject) => {
        const u = new URL(base + path);
        const req = http.get({ host: u.hostname, port: u.port, path: u.pathname + u.search, agent: false }, resolve);
        req.on('error', reject);
        req.setTimeout(120000, () => req.destroy(new Error('held reply: no progress for 120 s')));
    });
}

function readRest(res) {
    return new Promise((resolve, reject) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString()));
        res.on('error', reject);
        res.on('aborted', () => reject(new Error('the held reply was cut')));
    });
}

describe('a held get-history stream and the other requests of its thread (--threads 1)', () => {
    let c;
    let exp;
    before(async () => {
        c = client(stack.base);
        exp = await c.createExperiment(uniqueName('threads'));
    });

    async function logSteps(run_id, key, from, to) {
        for (let i = from; i < to; i += 1000) {
            const metrics = [];
            for (let s = i; s < Math.min(to, i + 1000); s++) metrics.push({ key, value: valueAt(s), timestamp: 1000 + s, step: s });
            await c.ok('POST', '/runs/log-batch', { run_id, metrics });
        }
    }

    function checkSeries(metrics, key, n, what) {
        assert.equal(metrics.length, n, `${what}: ${metrics.length} points, want ${n}`);
        for (let s = 0; s < n; s++) {
            const m = metrics[s];
            if (m.step !== s || m.timestamp !== 1000 + s || m.value !== valueAt(s) || m.key !== key) {
                assert.fail(`${what}: point ${s} is ${JSON.stringify(m)}`);
            }
        }
    }

    test('the thread serves writes, reads and other streams while a reply is held, and the reply ends whole', { timeout: 600000 }, async () => {
        const big = (await c.createRun(exp)).info.run_id;
        const other = (await c.createRun(exp)).info.run_id;
        await Promise.all([0, 1, 2, 3].map((k) => logSteps(big, 'big', (k * N) / 4, ((k + 1) * N) / 4)));
        await logSteps(other, 'small', 0, 30000);

        const held = await openHeld(stack.base, `/api/2.0/mlflow/metrics/get-history?run_id=${big}&metric_key=big`);
        assert.equal(held.statusCode, 200);
        await new Promise((r) => setTimeout(r, 300)); // the server fills the socket and waits

        // meanwhile, on the same thread: writes (one past the held reply's place)
        await logSteps(big, 'big', N, N + EXTRA);
        await c.ok('POST', '/runs/log-metric', { run_id: other, key: 'one', value: 1, timestamp: 1, step: 1 });
        await c.ok('POST', '/runs/set-tag', { run_id: other, key: 't', value: 'v' });
        // a whole other stream, and another series in pages
        const whole = assertOk(await c.get('/metrics/get-history', { run_id: other, metric_key: 'small' }, { timeoutMs: 60000 }));
        checkSeries(whole.metrics, 'small', 30000, 'another stream');
        const paged = [];
        let token;
        do {
            const r = assertOk(await c.get('/metrics/get-history', { run_id: other, metric_key: 'small', max_results: 7000, ...(token ? { page_token: token } : {}) }));
            paged.push(...r.metrics);
            token = r.next_page_token;
        } while (token);
        checkSeries(paged, 'small', 30000, 'pages');
        // reads of other kinds, and a second held stream of the same series
        const run = await c.getRun(other);
        assert.equal(run.data.tags.find((t) => t.key === 't')?.value, 'v');
        const found = assertOk(await c.post('/runs/search', { experiment_ids: [exp], max_results: 10 }));
        assert.equal(found.runs.length, 2);
        const down = assertOk(await api(stack.base, 'GET', '/api/2.0/exptrack/metrics/history', { run_id: [big, other], metric_key: ['big', 'small'], max_points: 400 }));
        assert.equal(down.series.length, 2);
        const second = await openHeld(stack.base, `/api/2.0/mlflow/metrics/get-history?run_id=${other}&metric_key=small`);

        // the held replies carry on to their ends, with the points logged
        // past the first one's place while it was held
        const [text, text2] = await Promise.all([readRest(held), readRest(second)]);
        checkSeries(JSON.parse(text).metrics, 'big', N + EXTRA, 'the held reply');
        checkSeries(JSON.parse(text2).metrics, 'small', 30000, 'the second held reply');
        // and the thread's connection is still in step
        const after = assertOk(await c.get('/metrics/get-history', { run_id: big, metric_key: 'big', max_results: 5 }));
        assert.deepEqual(after.metrics.map((m) => m.step), [0, 1, 2, 3, 4]);
    });
});
