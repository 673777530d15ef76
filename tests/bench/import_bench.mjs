// Helper of tests/bench/import.sh: loads a source exptrackd through
// runs/log-batch (1,000-point batches, N clients: the log-batch baseline)
// and reads every history back through metrics/get-history in pages of
// 25,000 (the get-history baseline). Prints one JSON line with the figures.
//
//   node import_bench.mjs load URL RUNS METRICS STEPS CLIENTS
//   node import_bench.mjs read URL CLIENTS
const [mode, base, ...rest] = process.argv.slice(2);
const API = `${base}/api/2.0/mlflow`;

async function call(method, path, body) {
    const res = await fetch(API + path, {
        method, headers: body ? { 'content-type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 200)}`);
    return JSON.parse(text);
}

async function pool(n, items, fn) {
    let next = 0;
    await Promise.all(Array.from({ length: n }, async () => {
        while (next < items.length) await fn(items[next++]);
    }));
}

if (mode === 'load') {
    const [runs, metrics, steps, clients] = rest.map(Number);
    const exp = await call('POST', '/experiments/create', { name: `import-bench-${Date.now()}` });
    const ids = [];
    for (let r = 0; r < runs; r++) {
        const run = await call('POST', '/runs/create', { experiment_id: exp.experiment_id, start_time: Date.now() });
        ids.push(run.run.info.run_id);
        await call('POST', '/runs/log-batch', { run_id: run.run.info.run_id, params: [{ key: 'r', value: String(r) }] });
    }
    const batches = [];
    for (const id of ids) {
        for (let m = 0; m < metrics; m++) {
            for (let s = 0; s < steps; s += 1000) batches.push([id, m, s]);
        }
    }
    const t0 = performance.now();
    await pool(clients, batches, async ([id, m, s]) => {
        const pts = [];
        for (let k = s; k < Math.min(steps, s + 1000); k++)
            pts.push({ key: `m${m}`, value: Math.sin(k) * m, timestamp: 1700000000000 + k, step: k });
        await call('POST', '/runs/log-batch', { run_id: id, metrics: pts });
    });
    const secs = (performance.now() - t0) / 1000;
    console.log(JSON.stringify({ experiment_id: exp.experiment_id, points: runs * metrics * steps, seconds: secs,
        points_per_s: (runs * metrics * steps) / secs }));
} else if (mode === 'read') {
    const [clients] = rest.map(Number);
    const runs = [];
    let token;
    do {
        const page = await call('POST', '/runs/search', { experiment_ids: (await call('POST', '/experiments/search', { max_results: 1000 })).experiments.map((e) => e.experiment_id), max_results: 1000, page_token: token });
        runs.push(...(page.runs || []));
        token = page.next_page_token;
    } while (token);
    const series = runs.flatMap((r) => (r.data.metrics || []).map((m) => [r.info.run_id, m.key]));
    let points = 0;
    const t0 = performance.now();
    await pool(clients, series, async ([id, key]) => {
        let tok;
        do {
            const q = new URLSearchParams({ run_id: id, metric_key: key, max_results: '25000' });
            if (tok) q.set('page_token', tok);
            const h = await call('GET', `/metrics/get-history?${q}`);
            points += (h.metrics || []).length;
            tok = h.next_page_token;
        } while (tok);
    });
    const secs = (performance.now() - t0) / 1000;
    console.log(JSON.stringify({ points, seconds: secs, points_per_s: points / secs }));
} else {
    console.error('usage: import_bench.mjs load URL RUNS METRICS STEPS CLIENTS | read URL CLIENTS');
    process.exit(2);
}
