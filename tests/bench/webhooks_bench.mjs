// Webhook delivery lag, driven by tests/bench/webhooks.sh against an
// exptrackd it started with loopback webhooks allowed: a receiver on
// loopback, then WEBHOOK_BENCH_N sequential registry changes (model-versions/
// create and registered-models/alias, alternating), each timed from sending
// the request to its response (the API call's latency), and the lag from
// that response to the receiver getting the event's POST. The same calls
// are first made with no webhook subscribed: the baseline latency, so the
// outbox's cost on the API call shows too. Every event must arrive exactly
// once with the right payload, or the benchmark fails.
//
// usage: node tests/bench/webhooks_bench.mjs BASE_URL
// environment: WEBHOOK_BENCH_N=400 WEBHOOK_BENCH_GOAL_MS=100 (p50 lag goal)
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const N = Number(process.env.WEBHOOK_BENCH_N || 400);
const GOAL_MS = Number(process.env.WEBHOOK_BENCH_GOAL_MS || 100);
const base = process.argv[2];
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

function request(method, path, body) {
    return new Promise((resolve, reject) => {
        const u = new URL(base + path);
        const data = Buffer.from(JSON.stringify(body || {}));
        const req = http.request({
            host: u.hostname, port: u.port, path: u.pathname, method, agent,
            headers: { 'content-type': 'application/json', 'content-length': data.length },
        }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => {
                const text = Buffer.concat(chunks).toString('utf8');
                if (res.statusCode !== 200) reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`));
                else resolve(JSON.parse(text));
            });
        });
        req.on('error', reject);
        req.end(data);
    });
}

const pct = (xs, p) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const fmt = (xs) => `p50 ${pct(xs, 50).toFixed(1)} ms  p99 ${pct(xs, 99).toFixed(1)} ms  max ${Math.max(...xs).toFixed(1)} ms`;

// The receiver: arrival time per event key ("<model>/v<N>" or "<model>@a<N>").
const arrivals = new Map();
let duplicates = 0;
const receiver = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
        const at = performance.now();
        const ev = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        const key = ev.entity === 'model_version' ? `${ev.data.name}/v${ev.data.version}` : `${ev.data.name}@${ev.data.alias}`;
        if (arrivals.has(key)) duplicates++;
        else arrivals.set(key, at);
        res.writeHead(200);
        res.end();
    });
});
await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
const hookUrl = `http://127.0.0.1:${receiver.address().port}/hook`;

// Sequential changes on model; returns [{key, latency, doneAt}].
async function changes(model) {
    await request('POST', '/api/2.0/mlflow/registered-models/create', { name: model });
    const out = [];
    for (let i = 1; i <= N; i++) {
        const version = Math.ceil(i / 2);
        const t0 = performance.now();
        let key;
        if (i % 2 === 1) {
            await request('POST', '/api/2.0/mlflow/model-versions/create', { name: model, source: 's3://bench/model' });
            key = `${model}/v${version}`;
        } else {
            await request('POST', '/api/2.0/mlflow/registered-models/alias', { name: model, alias: `a${version}`, version: String(version) });
            key = `${model}@a${version}`;
        }
        const t1 = performance.now();
        out.push({ key, latency: t1 - t0, doneAt: t1 });
    }
    return out;
}

const stamp = Date.now();
const baseline = await changes(`bench-baseline-${stamp}`);
await request('POST', '/api/2.0/mlflow/webhooks', {
    name: 'bench', url: hookUrl,
    events: [{ entity: 'MODEL_VERSION', action: 'CREATED' }, { entity: 'MODEL_VERSION_ALIAS', action: 'CREATED' }],
});
const model = `bench-hooked-${stamp}`;
const hooked = await changes(model);
const deadline = performance.now() + 30000;
while (hooked.some((c) => !arrivals.has(c.key)) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
const missing = hooked.filter((c) => !arrivals.has(c.key));
const lags = hooked.filter((c) => arrivals.has(c.key)).map((c) => arrivals.get(c.key) - c.doneAt);
receiver.close();
agent.destroy();
const stray = [...arrivals.keys()].filter((k) => !k.startsWith(model)).length;

console.log(`webhooks: ${N} sequential registry changes (create-version / set-alias alternating)`);
console.log(`baseline: API latency, no webhook subscribed:   ${fmt(baseline.map((c) => c.latency))}`);
console.log(`          API latency, one webhook subscribed:  ${fmt(hooked.map((c) => c.latency))}`);
console.log(`delivery lag, API response -> receiver POST:     ${lags.length ? fmt(lags) : 'none arrived'}  (goal p50 < ${GOAL_MS} ms)`);
if (missing.length || duplicates || stray) {
    console.log(`FAILED: ${missing.length} missing, ${duplicates} duplicate, ${stray} stray deliveries`);
    process.exit(1);
}
if (process.env.BENCH_ENFORCE === '1' && pct(lags, 50) >= GOAL_MS) {
    console.log('FAILED: p50 lag goal missed');
    process.exit(1);
}
