// History benchmark (issues 3 and 8), driven by tests/bench/history.sh against
// an exptrackd it started: one series of HISTORY_BENCH_POINTS points (default
// 1,000,000) logged through runs/log-batch in 1,000-point batches from several
// concurrent clients, then timed:
//   - metrics/get-history of the whole series (streamed), median of 3, with
//     seconds and MiB/s (time to the last byte; the body is parsed and checked
//     once, outside the timing);
//   - exptrack/metrics/history max_points=1000, median of 10;
//   - metrics/get-history-bulk-interval (max_results 2500), median of 10;
//   - metrics/get-history of a second series of 100,000 points, median of 5
//     (issue 8 quotes MLflow at 5.4 s for that; 50 times faster is 108 ms);
//   - the same series read as the MLflow client reads it (issue 21):
//     max_results=25000 and page tokens until none comes back, total time,
//     median of 9, each sample taken right after an unpaged read of the
//     same series so the two see the same machine; the ratio of the medians.
//   - the experiment chart view's reads (issue 17): HISTORY_BENCH_CHART_RUNS
//     runs (300) x 3 metrics x HISTORY_BENCH_CHART_STEPS steps (10,000)
//     logged, then exptrack/metrics/history as the dashboard asks for it
//     (one request per metric and 100 runs, all at once) at 36 points a run
//     (its coarse read), at the most points whose buckets are still whole
//     256-step blocks (156 for 10,000 steps) and at 400 (its detailed read
//     at 300 runs, buckets of 100 steps: every point read); median of 3
//     each, wall time and the CPU time of exptrackd and PostgreSQL
//     (HISTORY_BENCH_PIDS: their pids, from history.sh). Read right after
//     the load, as the dashboard would after a sweep. Then the same series
//     as the MLflow UI reads them: get-history-bulk-interval, 100 runs a
//     request, max_results=320, median of 3, against the 400-point read.
//     0 runs: skipped.
// Every reply is checked (point count, order, first/last/min/max kept), so a
// fast wrong answer fails the benchmark.
//
// usage: node tests/bench/history_bench.mjs BASE_URL
// environment: HISTORY_BENCH_POINTS=1000000 HISTORY_BENCH_CONCURRENCY=4
//              HISTORY_BENCH_RUN=<run id> (reuse a run logged before: no load)
//              HISTORY_BENCH_LOAD_ONLY=1 (log the series, print its run id)
//              HISTORY_BENCH_COLD=1 (one call of each read, no warm-up, as the
//              first reader after the load sees them)
//              HISTORY_BENCH_FULL_GOAL_S=1 HISTORY_BENCH_DOWN_GOAL_MS=300
//              HISTORY_BENCH_PAGED_GOAL_MS=60 HISTORY_BENCH_PAGED_GOAL_RATIO=1.2
//              HISTORY_BENCH_CHART_RUNS=300 HISTORY_BENCH_CHART_STEPS=10000
//              HISTORY_BENCH_PIDS="<pid> ..." (processes whose CPU time is summed)
import fs from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const POINTS = Number(process.env.HISTORY_BENCH_POINTS || 1000000);
const CONC = Number(process.env.HISTORY_BENCH_CONCURRENCY || 4);
const FULL_GOAL_S = Number(process.env.HISTORY_BENCH_FULL_GOAL_S || 1);
const DOWN_GOAL_MS = Number(process.env.HISTORY_BENCH_DOWN_GOAL_MS || 300);
const BATCH = 1000;
const KEY = 'curve';
const SMALL = 100000; // points of the second series
const SMALL_GOAL_MS = 108; // 50x MLflow's 5.4 s (issue 8)
const PAGED_SAMPLES = 9; // pairs of paged and unpaged reads, alternately
const PAGE = 25000; // the MLflow client's max_results for get-history
const PAGED_GOAL_MS = Number(process.env.HISTORY_BENCH_PAGED_GOAL_MS || 60);
const PAGED_GOAL_RATIO = Number(process.env.HISTORY_BENCH_PAGED_GOAL_RATIO || 1.2);
const CHART_RUNS = Number(process.env.HISTORY_BENCH_CHART_RUNS ?? 300);
const CHART_STEPS = Number(process.env.HISTORY_BENCH_CHART_STEPS || 10000);
const CHART_KEYS = ['loss', 'acc', 'lr'];
const CHART_PER_REQUEST = 100; // run_id values per request, as the dashboard sends them

const log = (...a) => console.error('history-bench:', ...a);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function query(q) {
    const sp = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) for (const x of Array.isArray(v) ? v : [v]) sp.append(k, String(x));
    return `?${sp}`;
}

// One request; resolves with the status and the body as one Buffer.
function request(base, method, path, body) {
    return new Promise((resolve, reject) => {
        const u = new URL(base + path);
        const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
        const req = http.request({
            host: u.hostname, port: u.port, path: u.pathname + u.search, method, agent,
            headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {},
        }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
            res.on('error', reject);
        });
        req.on('error', reject);
        if (data) req.write(data);
        req.end();
    });
}

async function call(base, method, path, body) {
    const r = await request(base, method, path, body);
    if (r.status !== 200) throw new Error(`${method} ${path}: HTTP ${r.status} ${r.body.toString().slice(0, 300)}`);
    return JSON.parse(r.body.toString());
}

// The value of point i: a slow sine in full double precision, a spike every
// 7919 points and a dip every 10007 (the downsample must keep both).
function valueAt(i) {
    return Math.sin(i / 1000) + (i % 7919 === 4000 ? 5 : 0) - (i % 10007 === 5000 ? 5 : 0);
}

async function load(base, points = POINTS) {
    const exp = (await call(base, 'POST', '/api/2.0/mlflow/experiments/create', { name: `history-bench-${Date.now()}` })).experiment_id;
    const run = (await call(base, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp, start_time: 1 })).run.info.run_id;
    const batches = Math.ceil(points / BATCH);
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: CONC }, async () => {
        for (let b = next++; b < batches; b = next++) {
            const metrics = [];
            for (let i = b * BATCH; i < Math.min(points, (b + 1) * BATCH); i++) {
                metrics.push({ key: KEY, value: valueAt(i), timestamp: 1700000000000 + i, step: i });
            }
            await call(base, 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: run, metrics });
        }
    }));
    const s = (performance.now() - t0) / 1000;
    log(`logged ${points} points in ${s.toFixed(1)} s (${Math.round(points / s)} points/s, ${CONC} clients)`);
    return run;
}

function median(xs) {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

// Times fn n times after one warm-up call; returns {ms: median, samples, last}.
async function timed(n, fn) {
    let last = await fn();
    const samples = [];
    for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        last = await fn();
        samples.push(performance.now() - t0);
    }
    return { ms: median(samples), samples, last };
}

function check(cond, what) {
    if (!cond) throw new Error(`history-bench: wrong answer: ${what}`);
}

function checkFull(body, points = POINTS) {
    const j = JSON.parse(body.toString());
    check(Array.isArray(j.metrics) && j.metrics.length === points, `full read has ${j.metrics?.length} points`);
    for (let i = 0; i < points; i += 997) {
        const m = j.metrics[i];
        check(m.step === i && m.timestamp === 1700000000000 + i && m.value === valueAt(i) && m.key === KEY, `point ${i}: ${JSON.stringify(m)}`);
    }
    const m = j.metrics[points - 1];
    check(m.step === points - 1 && m.value === valueAt(points - 1), 'last point');
}

/** The raw body of get-history for the run's series (checked for 200). */
async function getHistory(base, run) {
    const r = await request(base, 'GET', '/api/2.0/mlflow/metrics/get-history' + query({ run_id: run, metric_key: KEY }));
    check(r.status === 200, `get-history: HTTP ${r.status}`);
    return r.body;
}

/** Reads the run's series as the MLflow client does: max_results=25000 and
 * page tokens until none is returned. Resolves with the raw bodies. */
async function getHistoryPaged(base, run) {
    const bodies = [];
    let token;
    do {
        const q = { run_id: run, metric_key: KEY, max_results: PAGE };
        if (token) q.page_token = token;
        const r = await request(base, 'GET', '/api/2.0/mlflow/metrics/get-history' + query(q));
        check(r.status === 200, `paged get-history: HTTP ${r.status}`);
        bodies.push(r.body);
        check(bodies.length <= 1000, 'paged get-history never ends');
        // the token closes the body: take it from the tail, not by parsing
        // 2 MB of JSON inside the timing (the unpaged read is not parsed either)
        const tail = r.body.subarray(Math.max(0, r.body.length - 512)).toString();
        token = /"next_page_token":\s*"([^"]*)"\s*\}\s*$/.exec(tail)?.[1];
        if (token === undefined && r.body.includes('"next_page_token"')) token = JSON.parse(r.body.toString()).next_page_token;
    } while (token);
    return bodies;
}

function checkPaged(bodies, points) {
    const metrics = [];
    for (const b of bodies) {
        const j = JSON.parse(b.toString());
        check(j.metrics.length <= PAGE, `a page of ${j.metrics.length} points`);
        for (const m of j.metrics) metrics.push(m);
        check((j.next_page_token !== undefined) === (b !== bodies.at(-1)), 'a token on every page but the last');
    }
    check(bodies.length === Math.ceil(points / PAGE), `${bodies.length} pages`);
    checkFull(Buffer.from(JSON.stringify({ metrics })), points);
}

// CPU time (ms) used so far by the processes in HISTORY_BENCH_PIDS and
// their children (PostgreSQL's backends); null when none are given.
function cpuMs() {
    const pids = (process.env.HISTORY_BENCH_PIDS || '').split(/\s+/).filter(Boolean);
    if (!pids.length) return null;
    const all = new Set(pids);
    for (const p of pids) {
        try {
            for (const c of fs.readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').split(/\s+/).filter(Boolean)) all.add(c);
        } catch { /* gone, or no such file here */ }
    }
    let ticks = 0;
    for (const p of all) {
        try {
            const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
            const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
            ticks += Number(f[11]) + Number(f[12]); // utime, stime
        } catch { /* exited */ }
    }
    return ticks * 10; // USER_HZ is 100 on Linux
}

const chartValue = (r, k, s) => Math.sin(s / 300 + r) + ((s * 7919 + k) % 1000) / 5000;

// The chart phase's runs: CHART_RUNS runs x CHART_KEYS x CHART_STEPS steps.
async function loadChart(base) {
    const exp = (await call(base, 'POST', '/api/2.0/mlflow/experiments/create', { name: `history-chart-${Date.now()}` })).experiment_id;
    const runs = [];
    for (let r = 0; r < CHART_RUNS; r++) runs.push((await call(base, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp, start_time: 1 })).run.info.run_id);
    const jobs = [];
    for (let r = 0; r < runs.length; r++) for (let k = 0; k < CHART_KEYS.length; k++) for (let s = 0; s < CHART_STEPS; s += BATCH) jobs.push([r, k, s]);
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: CONC }, async () => {
        for (let j = next++; j < jobs.length; j = next++) {
            const [r, k, s0] = jobs[j];
            const metrics = [];
            for (let s = s0; s < Math.min(CHART_STEPS, s0 + BATCH); s++) metrics.push({ key: CHART_KEYS[k], value: chartValue(r, k, s), timestamp: 1700000000000 + s, step: s });
            await call(base, 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: runs[r], metrics });
        }
    }));
    const s = (performance.now() - t0) / 1000;
    log(`chart: logged ${runs.length} runs x ${CHART_KEYS.length} metrics x ${CHART_STEPS} steps in ${s.toFixed(1)} s`);
    return runs;
}

// The dashboard's read of every chart: per metric, one request per 100
// runs, all sent at once. Resolves with the replies (checked).
async function chartRead(base, runs, maxPoints) {
    const reqs = [];
    for (const key of CHART_KEYS) {
        for (let c = 0; c < runs.length; c += CHART_PER_REQUEST) {
            reqs.push(call(base, 'GET', '/api/2.0/exptrack/metrics/history' + query({ run_id: runs.slice(c, c + CHART_PER_REQUEST), metric_key: key, max_points: maxPoints })));
        }
    }
    const replies = await Promise.all(reqs);
    let series = 0;
    for (const j of replies) {
        for (const x of j.series) {
            series++;
            check(x.total_points === CHART_STEPS, `chart: total_points ${x.total_points}`);
            check(x.steps.length <= maxPoints && x.steps[0] === 0 && x.steps.at(-1) === CHART_STEPS - 1, `chart: ${x.steps.length} points, first ${x.steps[0]}, last ${x.steps.at(-1)}`);
        }
    }
    check(series === runs.length * CHART_KEYS.length, `chart: ${series} series`);
    return replies;
}

// The same runs' charts as the MLflow UI reads them: get-history-bulk-interval
// with BULK_CHART_RUNS run ids a request (one request per metric and group,
// all at once), BULK_CHART_POINTS sampled steps. Each run's reply must hold
// its first and last step and every point at the sampled steps (one a step).
const BULK_CHART_RUNS = 100;
const BULK_CHART_POINTS = 320;
async function bulkChartRead(base, runs) {
    const reqs = [];
    for (const key of CHART_KEYS) {
        for (let c = 0; c < runs.length; c += BULK_CHART_RUNS) {
            const ids = runs.slice(c, c + BULK_CHART_RUNS);
            reqs.push(call(base, 'GET', '/api/2.0/mlflow/metrics/get-history-bulk-interval' + query({ run_ids: ids, metric_key: key, max_results: BULK_CHART_POINTS }))
                .then((j) => ({ j, ids })));
        }
    }
    let points = 0;
    for (const { j, ids } of await Promise.all(reqs)) {
        const ms = j.metrics || [];
        points += ms.length;
        for (const id of ids) {
            const mine = ms.filter((m) => m.run_id === id);
            check(mine.length >= BULK_CHART_POINTS / 2 && mine.length <= BULK_CHART_POINTS + 2 && mine[0].step === 0 && mine.at(-1).step === CHART_STEPS - 1,
                `bulk chart: ${mine.length} points, first ${mine[0]?.step}, last ${mine.at(-1)?.step}`);
        }
    }
    return points;
}

function checkDown(j, maxPoints) {
    const s = j.series?.[0];
    check(s && s.total_points === POINTS, `total_points ${s?.total_points}`);
    check(s.steps.length <= maxPoints && s.steps.length >= Math.min(POINTS, maxPoints / 2), `downsample has ${s.steps.length} points`);
    check(s.steps[0] === 0 && s.steps.at(-1) === POINTS - 1, 'first and last kept');
    for (let i = 1; i < s.steps.length; i++) check(s.steps[i] > s.steps[i - 1], 'steps ascending');
    for (let i = 0; i < s.steps.length; i++) check(s.values[i] === valueAt(s.steps[i]), `value at step ${s.steps[i]}`);
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < POINTS; i++) { const v = valueAt(i); if (v < lo) lo = v; if (v > hi) hi = v; }
    check(s.values.includes(lo) && s.values.includes(hi), 'global min and max kept');
}

async function main() {
    const base = process.argv[2];
    if (!base) throw new Error('usage: node tests/bench/history_bench.mjs BASE_URL');
    const run = process.env.HISTORY_BENCH_RUN || await load(base);
    if (process.env.HISTORY_BENCH_LOAD_ONLY) {
        console.log(run);
        return;
    }
    if (process.env.HISTORY_BENCH_COLD) {
        // one call each, as the first reader after the load sees them
        let t0 = performance.now();
        const body = await getHistory(base, run);
        const fullS = (performance.now() - t0) / 1000;
        checkFull(body);
        t0 = performance.now();
        const d = await call(base, 'GET', '/api/2.0/exptrack/metrics/history' + query({ run_id: run, metric_key: KEY, max_points: 1000 }));
        const downMs = performance.now() - t0;
        checkDown(d, 1000);
        console.log(`first reads right after the load (before any VACUUM): get-history ${fullS.toFixed(3)} s, max_points=1000 ${downMs.toFixed(1)} ms`);
        return;
    }
    const full = await timed(3, () => getHistory(base, run));
    checkFull(full.last);
    const mib = full.last.length / 1048576;
    const down = await timed(10, () => call(base, 'GET', '/api/2.0/exptrack/metrics/history' + query({ run_id: run, metric_key: KEY, max_points: 1000 })));
    checkDown(down.last, 1000);
    const bulk = await timed(10, () => call(base, 'GET', '/api/2.0/mlflow/metrics/get-history-bulk-interval' + query({ run_ids: run, metric_key: KEY, max_results: 2500 })));
    const bm = bulk.last.metrics || [];
    check(bm.length >= 2 && bm.length <= 2502 && bm[0].step === 0 && bm.at(-1).step === POINTS - 1, `bulk-interval: ${bm.length} points`);
    const smallRun = await load(base, SMALL);
    const small = await timed(5, () => getHistory(base, smallRun));
    checkFull(small.last, SMALL);
    // paged and unpaged reads of the same series, alternately, one warm-up each
    checkPaged(await getHistoryPaged(base, smallRun), SMALL);
    const unpagedMs = [], pagedMs = [];
    for (let i = 0; i < PAGED_SAMPLES; i++) {
        let t0 = performance.now();
        await getHistory(base, smallRun);
        unpagedMs.push(performance.now() - t0);
        t0 = performance.now();
        await getHistoryPaged(base, smallRun);
        pagedMs.push(performance.now() - t0);
    }
    const paged = median(pagedMs), unpaged = median(unpagedMs), ratio = paged / unpaged;

    // the experiment chart view (issue 17)
    const chart = [];
    let bulkChart = null;
    if (CHART_RUNS > 0) {
        const runs = await loadChart(base);
        const span = CHART_STEPS - 1;
        const fromBlocks = 4 * Math.max(1, Math.floor(span / 255)); // buckets of 256 steps or more
        for (const maxPoints of [36, fromBlocks, 400]) {
            await chartRead(base, runs, maxPoints); // warm-up
            const wall = [], cpu = [];
            let points = 0;
            for (let i = 0; i < 3; i++) {
                const c0 = cpuMs();
                const t0 = performance.now();
                const replies = await chartRead(base, runs, maxPoints);
                wall.push(performance.now() - t0);
                if (c0 !== null) cpu.push(cpuMs() - c0);
                points = replies.reduce((a, j) => a + j.series.reduce((b, x) => b + x.steps.length, 0), 0);
            }
            const w = Math.floor(span / Math.floor(maxPoints / 4)) + 1;
            chart.push({ maxPoints, w, wall, cpu, points });
        }
        await bulkChartRead(base, runs); // warm-up
        const wall = [], cpu = [];
        let points = 0;
        for (let i = 0; i < 3; i++) {
            const c0 = cpuMs();
            const t0 = performance.now();
            points = await bulkChartRead(base, runs);
            wall.push(performance.now() - t0);
            if (c0 !== null) cpu.push(cpuMs() - c0);
        }
        bulkChart = { wall, cpu, points };
    }

    const s = full.ms / 1000;
    const fmt = (xs) => xs.map((x) => x.toFixed(0)).join(' ');
    console.log('');
    console.log(`history: one series of ${POINTS} points`);
    console.log(`get-history, every point (median of 3):        ${s.toFixed(3)} s  ${(mib / s).toFixed(1)} MiB/s  (${mib.toFixed(1)} MiB; samples ms: ${fmt(full.samples)})`);
    console.log(`exptrack/metrics/history max_points=1000 (median of 10): ${down.ms.toFixed(1)} ms  (${down.last.series[0].steps.length} points; samples ms: ${fmt(down.samples)})`);
    console.log(`get-history-bulk-interval max_results=2500 (median of 10): ${bulk.ms.toFixed(1)} ms  (${bm.length} points)`);
    console.log(`get-history, a series of ${SMALL} points (median of 5): ${small.ms.toFixed(1)} ms  (samples ms: ${fmt(small.samples)})`);
    console.log(`get-history of the same ${SMALL} points as the MLflow client reads it, max_results=${PAGE} and page tokens (median of ${PAGED_SAMPLES}): ${paged.toFixed(1)} ms total  (${Math.ceil(SMALL / PAGE)} requests; samples ms: ${fmt(pagedMs)})`);
    console.log(`  unpaged read of that series, taken alternately with it (median of ${PAGED_SAMPLES}): ${unpaged.toFixed(1)} ms  (samples ms: ${fmt(unpagedMs)}); paged / unpaged: ${ratio.toFixed(2)}`);
    for (const x of chart) {
        const cpu = x.cpu.length ? `; exptrackd + PostgreSQL CPU ${median(x.cpu).toFixed(0)} ms (samples ${fmt(x.cpu)})` : '';
        console.log(`chart view: ${CHART_RUNS * CHART_KEYS.length} series of ${CHART_STEPS} steps at max_points=${x.maxPoints} (buckets of ${x.w} steps, ${x.w >= 256 ? 'from blocks' : 'every point read'}; median of 3): ${median(x.wall).toFixed(0)} ms  (${x.points} points; samples ms: ${fmt(x.wall)}${cpu})`);
    }
    if (bulkChart) {
        const cpu = bulkChart.cpu.length ? `; exptrackd + PostgreSQL CPU ${median(bulkChart.cpu).toFixed(0)} ms (samples ${fmt(bulkChart.cpu)})` : '';
        const ref = chart.find((x) => x.maxPoints === 400);
        console.log(`chart view as the MLflow UI reads it: get-history-bulk-interval of the same series, ${BULK_CHART_RUNS} runs a request, max_results=${BULK_CHART_POINTS} (median of 3): ${median(bulkChart.wall).toFixed(0)} ms  (${bulkChart.points} points; samples ms: ${fmt(bulkChart.wall)}${cpu})${ref ? `; / the dashboard's read at max_points=400: ${(median(bulkChart.wall) / median(ref.wall)).toFixed(2)}` : ''}`);
    }
    console.log('');
    console.log(`goal: full read < ${FULL_GOAL_S} s: ${s < FULL_GOAL_S ? 'PASS' : 'FAIL'} (${s.toFixed(3)} s)`);
    console.log(`goal: downsample < ${DOWN_GOAL_MS} ms: ${down.ms < DOWN_GOAL_MS ? 'PASS' : 'FAIL'} (${down.ms.toFixed(1)} ms)`);
    console.log(`goal: ${SMALL}-point get-history 50x MLflow's 5.4 s (< ${SMALL_GOAL_MS} ms): ${small.ms < SMALL_GOAL_MS ? 'PASS' : 'FAIL'} (${small.ms.toFixed(1)} ms)`);
    const pagedOk = paged <= PAGED_GOAL_MS && ratio <= PAGED_GOAL_RATIO;
    console.log(`goal: ${SMALL}-point get-history in pages of ${PAGE} <= ${PAGED_GOAL_MS} ms and <= ${PAGED_GOAL_RATIO}x the unpaged read (issue 21): ${pagedOk ? 'PASS' : 'FAIL'} (${paged.toFixed(1)} ms, ${ratio.toFixed(2)}x)`);
    if (process.env.BENCH_ENFORCE === '1' && (s >= FULL_GOAL_S || down.ms >= DOWN_GOAL_MS || small.ms >= SMALL_GOAL_MS || !pagedOk)) process.exitCode = 1;
}

main().then(() => agent.destroy(), (e) => {
    console.error(e);
    agent.destroy();
    process.exit(1);
});
