// The reads of tests/bench/history_ab.sh: for each server given, get-history
// of one series unpaged and then as the MLflow client reads it
// (max_results=25000 and page tokens), the servers taking turns, ROUNDS
// rounds after one warm-up each. Every server's bodies must equal the first
// server's (unpaged byte for byte; the pages joined, point for point), so a
// fast wrong answer fails. Prints per server the medians and minimums, the
// paged / unpaged ratio, and the CPU time per read of the server (its pid)
// and of PostgreSQL's backends (children of HISTORY_AB_POSTMASTER; all
// reads of all servers share them, so each read's own delta is taken).
//
// usage: node tests/bench/history_ab.mjs RUN_ID ROUNDS name=URL,PID[,RUN] ...
// (a server's RUN, if given, is read instead of RUN_ID: the same points in
// another run, as storage.sh compares a compacted run with a narrow one;
// HISTORY_AB_KEY names the series' key, curve by default)
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { get, cpuOf, pgCpu as pgCpuOf, closeConnections } from './ab_util.mjs';

const [run, roundsArg, ...specs] = process.argv.slice(2);
const ROUNDS = Number(roundsArg);
const PAGE = 25000;
const PM = process.env.HISTORY_AB_POSTMASTER;
const pgCpu = () => pgCpuOf(PM);
const servers = specs.map((s) => {
    const [name, rest] = s.split('=');
    const [url, pid, own] = rest.split(',');
    return { name, url, pid, run: own || run, unpaged: [], paged: [], cpu: { unpaged: 0, paged: 0 }, pg: { unpaged: 0, paged: 0 } };
});

const KEY = encodeURIComponent(process.env.HISTORY_AB_KEY || 'curve');
const historyOf = (s) => `/api/2.0/mlflow/metrics/get-history?run_id=${s.run}&metric_key=${KEY}`;
const unpaged = async (s) => [await get(s.url, historyOf(s))];
async function paged(s) {
    const bodies = [];
    let token;
    do {
        const b = await get(s.url, `${historyOf(s)}&max_results=${PAGE}` + (token ? `&page_token=${encodeURIComponent(token)}` : ''));
        bodies.push(b);
        // the token closes the body: taken from its tail, not by parsing it
        const tail = b.subarray(Math.max(0, b.length - 512)).toString();
        token = /"next_page_token":\s*"([^"]*)"\s*\}\s*$/.exec(tail)?.[1];
    } while (token);
    return bodies;
}

const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const ref = (await unpaged(servers[0]))[0];
const refPoints = JSON.stringify(JSON.parse(ref).metrics);
for (const s of servers) {
    const whole = (await unpaged(s))[0];
    if (!whole.equals(ref)) throw new Error(`${s.name}: the unpaged body differs from ${servers[0].name}'s`);
    const points = [];
    for (const b of await paged(s)) points.push(...JSON.parse(b).metrics);
    if (JSON.stringify(points) !== refPoints) throw new Error(`${s.name}: the pages differ from the unpaged read`);
}
for (let i = 0; i < ROUNDS; i++) {
    for (const s of servers) {
        for (const [kind, read] of [['unpaged', unpaged], ['paged', paged]]) {
            const c0 = cpuOf(s.pid), q0 = pgCpu(), t0 = performance.now();
            await read(s);
            s[kind].push(performance.now() - t0);
            s.cpu[kind] += cpuOf(s.pid) - c0;
            s.pg[kind] += pgCpu() - q0;
        }
    }
}
const points = JSON.parse(ref).metrics.length;
console.log(`get-history of ${points} points, ${ROUNDS} rounds, servers in turns (median, min; CPU ms per read)`);
for (const s of servers) {
    const u = median(s.unpaged), p = median(s.paged);
    console.log(`${s.name}: unpaged ${u.toFixed(1)} ms (min ${Math.min(...s.unpaged).toFixed(1)}), ` +
        `in pages of ${PAGE} ${p.toFixed(1)} ms (min ${Math.min(...s.paged).toFixed(1)}), paged / unpaged ${(p / u).toFixed(2)}; ` +
        `CPU exptrackd ${(s.cpu.unpaged / ROUNDS).toFixed(1)} / ${(s.cpu.paged / ROUNDS).toFixed(1)}, ` +
        `PostgreSQL ${(s.pg.unpaged / ROUNDS).toFixed(1)} / ${(s.pg.paged / ROUNDS).toFixed(1)} (unpaged / paged)`);
}
console.log(`load average ${fs.readFileSync('/proc/loadavg', 'utf8').trim().split(' ').slice(0, 3).join(' ')}`);
closeConnections();
