// The reads of tests/bench/history_chart_ab.sh: for each server given, the
// experiment chart view's reads of all runs (per metric, one downsampled
// exptrack/metrics/history request per 100 runs, as the dashboard sends
// them) at max_points 36, 156 (buckets from blocks) and 400, and MLflow's
// get-history-bulk-interval of 10 runs (max_results 1000), the servers taking
// turns, ROUNDS rounds after one warm-up each. Every server's bodies must
// equal the first server's byte for byte, so a fast wrong answer fails.
// Prints per server and read the median wall time of one request and the
// CPU time per request of the server (its pid) and of PostgreSQL's backends
// (children of HISTORY_AB_POSTMASTER; each request's own delta is taken).
//
// usage: node tests/bench/history_chart_ab.mjs ROUNDS STEPS name=URL,PID ... RUN_ID...
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { get, cpuOf, pgCpu as pgCpuOf, closeConnections } from './ab_util.mjs';

const args = process.argv.slice(2);
const ROUNDS = Number(args[0]);
const STEPS = Number(args[1]);
const specs = args.slice(2).filter((a) => a.includes('='));
const runs = args.slice(2).filter((a) => !a.includes('='));
const PM = process.env.HISTORY_AB_POSTMASTER;
const pgCpu = () => pgCpuOf(PM);
const KEYS = ['loss', 'acc', 'lr'];
const PER_REQUEST = 100;
const servers = specs.map((s) => {
    const [name, rest] = s.split('=');
    const [url, pid] = rest.split(',');
    return { name, url, pid, wall: {}, cpu: {}, pg: {}, n: {} };
});

const query = (o) => '?' + Object.entries(o).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k}=${encodeURIComponent(x)}`)).join('&');

// name -> the paths of one such read
const reads = {};
for (const mp of [36, 4 * Math.max(1, Math.floor((STEPS - 1) / 255)), 400]) {
    reads[`chart max_points=${mp}`] = KEYS.flatMap((key) => {
        const out = [];
        for (let c = 0; c < runs.length; c += PER_REQUEST)
            out.push('/api/2.0/exptrack/metrics/history' + query({ run_id: runs.slice(c, c + PER_REQUEST), metric_key: key, max_points: mp }));
        return out;
    });
}
reads['bulk-interval 10 runs'] = KEYS.map((key) => '/api/2.0/mlflow/metrics/get-history-bulk-interval' + query({ run_ids: runs.slice(0, 10), metric_key: key, max_results: 1000 }));

const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

for (const [name, paths] of Object.entries(reads)) {
    for (const p of paths) {
        const ref = await get(servers[0].url, p);
        for (const s of servers.slice(1))
            if (!(await get(s.url, p)).equals(ref)) throw new Error(`${s.name}: ${name}: the body differs from ${servers[0].name}'s (${p.slice(0, 80)})`);
    }
    for (const s of servers) {
        s.wall[name] = [];
        s.cpu[name] = 0;
        s.pg[name] = 0;
        s.n[name] = 0;
    }
}
for (let i = 0; i < ROUNDS; i++) {
    for (const s of servers) {
        for (const [name, paths] of Object.entries(reads)) {
            for (const p of paths) {
                const c0 = cpuOf(s.pid), q0 = pgCpu(), t0 = performance.now();
                await get(s.url, p);
                s.wall[name].push(performance.now() - t0);
                s.cpu[name] += cpuOf(s.pid) - c0;
                s.pg[name] += pgCpu() - q0;
                s.n[name]++;
            }
        }
    }
}
console.log(`${runs.length} runs x ${KEYS.length} metrics x ${STEPS} steps, ${ROUNDS} rounds, servers in turns, bodies equal; per request: median wall ms, CPU ms of exptrackd + PostgreSQL`);
for (const name of Object.keys(reads)) {
    for (const s of servers) {
        console.log(`${name.padEnd(24)} ${s.name}: ${median(s.wall[name]).toFixed(1)} ms (min ${Math.min(...s.wall[name]).toFixed(1)}); ` +
            `CPU exptrackd ${(s.cpu[name] / s.n[name]).toFixed(1)}, PostgreSQL ${(s.pg[name] / s.n[name]).toFixed(1)}`);
    }
}
console.log(`load average ${fs.readFileSync('/proc/loadavg', 'utf8').trim().split(' ').slice(0, 3).join(' ')}`);
closeConnections();
