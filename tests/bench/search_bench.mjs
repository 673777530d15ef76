// Search benchmark (issue 3): one experiment of SEARCH_BENCH_RUNS runs (default
// 100,000) x 20 params x 20 metrics, generated through runs/create and
// runs/log-batch, then p50/p99 of five representative searches, and the
// history of one 1,000,000-point series read whole and downsampled to 1,000
// points. Starts its own PostgreSQL and exptrackd (tests/api/harness.mjs) and
// tears both down whatever happens.
//
// usage: node tests/bench/search_bench.mjs   (EXPTRACKD=BUILD/bin/exptrackd)
// environment: SEARCH_BENCH_RUNS=100000 SEARCH_BENCH_POINTS=1000000
//              SEARCH_BENCH_ITER=30 SEARCH_BENCH_CONCURRENCY=8
//              SEARCH_BENCH_PAGE=100 (max_results of the timed searches)
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { startPostgres, startServer } from '../api/harness.mjs';

const RUNS = Number(process.env.SEARCH_BENCH_RUNS || 100000);
const POINTS = Number(process.env.SEARCH_BENCH_POINTS || 1000000);
const ITER = Number(process.env.SEARCH_BENCH_ITER || 30);
const CONC = Number(process.env.SEARCH_BENCH_CONCURRENCY || 8);
const PAGE = Number(process.env.SEARCH_BENCH_PAGE || 100);
const GOAL_MS = 50;

const log = (...a) => console.error('search-bench:', ...a);

async function call(base, method, path, body) {
    const url = new URL(base + path);
    const init = { method, headers: {} };
    if (method === 'GET') {
        for (const [k, v] of Object.entries(body || {})) {
            for (const x of Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(x));
        }
    } else {
        init.body = JSON.stringify(body);
        init.headers['content-type'] = 'application/json';
    }
    const res = await fetch(url, init);
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return { json: JSON.parse(text), bytes: text.length };
}

// A tiny deterministic PRNG so every run of the benchmark builds the same data.
function rng(seed) {
    let s = seed >>> 0;
    return () => {
        s = (s * 1664525 + 1013904223) >>> 0;
        return s / 4294967296;
    };
}

async function makeRun(base, exp, i) {
    const rand = rng(i + 1);
    const { json } = await call(base, 'POST', '/api/2.0/mlflow/runs/create', {
        experiment_id: exp, start_time: 1700000000000 + Math.floor(i / 2) * 1000, run_name: `run-${i}`,
    });
    const id = json.run.info.run_id;
    const metrics = [], params = [];
    for (let k = 0; k < 20; k++) {
        metrics.push({ key: `m${k}`, value: rand(), timestamp: 1700000000000 + i, step: 0 });
        params.push({ key: `p${k}`, value: `v${Math.floor(rand() * 20)}` });
    }
    const tags = [{ key: 't1', value: `group-${Math.floor(rand() * 100)}` }];
    await call(base, 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: id, metrics, params, tags });
    if (i % 3 === 0) {
        await call(base, 'POST', '/api/2.0/mlflow/runs/update', { run_id: id, status: 'FINISHED', end_time: 1800000000000 });
    }
}

async function pool(n, worker) {
    let next = 0;
    let done = 0;
    const t0 = performance.now();
    const lanes = Array.from({ length: CONC }, async () => {
        for (;;) {
            const i = next++;
            if (i >= n) return;
            await worker(i);
            done++;
            if (done % 10000 === 0) log(`${done}/${n} (${Math.round(done / ((performance.now() - t0) / 1000))}/s)`);
        }
    });
    await Promise.all(lanes);
}

function pct(samples, p) {
    const s = [...samples].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

async function timeIt(name, iterations, fn) {
    const samples = [];
    let info = '';
    for (let i = 0; i < iterations + 2; i++) {
        const t0 = performance.now();
        const r = await fn();
        const ms = performance.now() - t0;
        if (i >= 2) samples.push(ms); // two warm-up calls
        info = r;
    }
    const row = { name, p50: pct(samples, 50), p99: pct(samples, 99), info };
    console.log(`${name.padEnd(44)} p50 ${row.p50.toFixed(1).padStart(8)} ms   p99 ${row.p99.toFixed(1).padStart(8)} ms   ${info}`);
    return row;
}

function psql(pg, sql) {
    const r = spawnSync('psql', [pg.url, '-X', '-q', '-c', sql], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`psql: ${r.stderr}`);
}

async function main() {
    const pg = await startPostgres();
    let srv;
    try {
        // the harness' 32 MB of shared buffers is for tests; give the data room
        psql(pg, "ALTER SYSTEM SET shared_buffers = '256MB'");
        psql(pg, "ALTER SYSTEM SET work_mem = '16MB'");
        await pg.stop();
        await pg.start();
        srv = await startServer({ databaseUrl: pg.url });
        const base = srv.url;
        const exp = (await call(base, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'search-bench' })).json.experiment_id;

        log(`generating ${RUNS} runs x 20 params x 20 metrics through log-batch (${CONC} clients)`);
        let t0 = performance.now();
        await pool(RUNS, (i) => makeRun(base, exp, i));
        log(`generated in ${((performance.now() - t0) / 1000).toFixed(0)} s`);

        log(`logging ${POINTS} points of one series`);
        const hist = (await call(base, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp, start_time: 1 })).json.run.info.run_id;
        t0 = performance.now();
        await pool(Math.ceil(POINTS / 1000), async (b) => {
            const metrics = [];
            for (let i = b * 1000; i < Math.min(POINTS, (b + 1) * 1000); i++) {
                metrics.push({ key: 'curve', value: Math.sin(i / 1000) + (i % 7919 === 0 ? 5 : 0), timestamp: 1700000000000 + i, step: i });
            }
            await call(base, 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: hist, metrics });
        });
        log(`logged in ${((performance.now() - t0) / 1000).toFixed(0)} s; VACUUM ANALYZE`);
        psql(pg, 'VACUUM ANALYZE');

        const search = (body) => async () => {
            const { json, bytes } = await call(base, 'POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [exp], max_results: PAGE, ...body });
            return `${(json.runs || []).length} runs, ${(bytes / 1024).toFixed(0)} KiB`;
        };
        // a token 50,000 runs deep: walk there with pages that carry no keys
        let token;
        for (let i = 0; i < 50; i++) {
            token = (await call(base, 'POST', '/api/2.0/mlflow/runs/search', {
                experiment_ids: [exp], max_results: 1000, metric_keys: [], param_keys: [], tag_keys: [], ...(token ? { page_token: token } : {}),
            })).json.next_page_token;
        }
        console.log(`\nsearch benchmark: ${RUNS} runs x 20 params x 20 metrics, max_results ${PAGE}, ${ITER} timed calls each`);
        const rows = [];
        rows.push(await timeIt('metric threshold (metrics.m3 > 0.9)', ITER, search({ filter: 'metrics.m3 > 0.9' })));
        rows.push(await timeIt("param = + metric order (p2='v7', m1 DESC)", ITER, search({ filter: "params.p2 = 'v7'", order_by: ['metrics.m1 DESC'] })));
        rows.push(await timeIt("tag LIKE (tags.t1 LIKE 'group-1%')", ITER, search({ filter: "tags.t1 LIKE 'group-1%'" })));
        rows.push(await timeIt("status + start_time order", ITER, search({ filter: "attributes.status = 'FINISHED'", order_by: ['attributes.start_time DESC'] })));
        rows.push(await timeIt('page 50,000 runs deep (default order)', ITER, search({ page_token: token })));
        rows.push(await timeIt('metric order, no filter (m5 ASC)', ITER, search({ order_by: ['metrics.m5 ASC'] })));
        rows.push(await timeIt('wide select (m1 only) + metric threshold', ITER, search({ filter: 'metrics.m3 > 0.9', metric_keys: ['m1'], param_keys: [], tag_keys: [] })));

        console.log(`\nhistory benchmark: one series of ${POINTS} points`);
        await timeIt('get-history, every point', 3, async () => {
            const { json, bytes } = await call(base, 'GET', '/api/2.0/mlflow/metrics/get-history', { run_id: hist, metric_key: 'curve' });
            return `${json.metrics.length} points, ${(bytes / 1048576).toFixed(0)} MiB`;
        });
        await timeIt('exptrack/metrics/history max_points=1000', 10, async () => {
            const { json } = await call(base, 'GET', '/api/2.0/exptrack/metrics/history', { run_id: hist, metric_key: 'curve', max_points: 1000 });
            return `${json.series[0].steps.length} of ${json.series[0].total_points} points`;
        });
        const slow = rows.filter((r) => r.p50 >= GOAL_MS);
        console.log(slow.length ? `\ngoal p50 < ${GOAL_MS} ms missed by: ${slow.map((r) => r.name).join('; ')}` : `\ngoal p50 < ${GOAL_MS} ms met by every search`);
    } finally {
        if (srv) await srv.stop();
        await pg.destroy();
    }
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
