// A/B of 1,000-run search pages (issue 21): two running exptrackd (say a base
// build and a branch) serving one PostgreSQL cluster, called in blocks of
// four that take turns (which side goes first alternates by round), so that
// load on a shared machine falls on both alike. Reports, per kind of call
// (the first page parsed, a page 10,000 rows deep parsed, the first page to
// its last byte, run info only), wall p50/p99 and the CPU per page of each
// exptrackd and of the cluster's PostgreSQL processes (/proc: live backends
// plus what the postmaster reaped), and the SHA-1 of both sides' pages,
// which must be identical. The experiment is search_bench.mjs' page one
// (bin/search_gen: 20 params p1.., 20 metrics m1..).
//
// usage: node tests/bench/search_page_ab.mjs URL_A PID_A URL_B PID_B EXPERIMENT_ID PG_DIR [ROUNDS]
//   PG_DIR: the cluster's directory (PG_DIR/data/postmaster.pid)
import fs from 'node:fs';
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { cpuOf, clusterCpu } from './ab_util.mjs';
const [urlA, pidA, urlB, pidB, exp, pgdir, roundsS] = process.argv.slice(2);
const ROUNDS = Number(roundsS || 10), K = 4;
const query = { filter: "params.p2 != 'v7' AND metrics.m3 > 0.1", order_by: ['metrics.m1 DESC'] };
const NO_KEYS = { metric_keys: [], param_keys: [], tag_keys: [] };
const post = (url, extra) => fetch(url + '/api/2.0/mlflow/runs/search', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ experiment_ids: [exp], max_results: 1000, ...query, ...extra }) });
const pm = Number(fs.readFileSync(`${pgdir}/data/postmaster.pid`, 'utf8').split('\n')[0]);
let token;
for (let i = 0; i < 10; i++) token = (await (await post(urlA, { ...NO_KEYS, ...(token ? { page_token: token } : {}) })).json()).next_page_token;
const kinds = {
  first: async (u) => JSON.parse(await (await post(u, {})).text()),
  deep: async (u) => JSON.parse(await (await post(u, { page_token: token })).text()),
  server: async (u) => (await post(u, {})).text(),
  info: async (u) => JSON.parse(await (await post(u, NO_KEYS)).text()),
};
const sides = { A: { url: urlA, pid: pidA }, B: { url: urlB, pid: pidB } };
const res = {}; for (const s of 'AB') { res[s] = {}; for (const k of Object.keys(kinds)) res[s][k] = { wall: [], srv: 0, pg: 0, n: 0 }; }
const sha = {};
for (const s of 'AB') { const t = await (await post(sides[s].url, {})).text(); sha[s] = crypto.createHash('sha1').update(t).digest('hex'); const d = await (await post(sides[s].url, { page_token: token })).text(); sha[s] += ' ' + crypto.createHash('sha1').update(d).digest('hex') + ' ' + t.length; }
for (let r = 0; r < ROUNDS + 1; r++) {
  for (const k of Object.keys(kinds)) {
    for (const s of (r % 2 ? 'BA' : 'AB')) {
      const side = sides[s], o = res[s][k];
      const s0 = cpuOf(side.pid), p0 = clusterCpu(pm); const w = [];
      for (let i = 0; i < K; i++) { const t0 = performance.now(); await kinds[k](side.url); w.push(performance.now() - t0); }
      const s1 = cpuOf(side.pid), p1 = clusterCpu(pm);
      if (r > 0) { o.wall.push(...w); o.srv += s1 - s0; o.pg += p1 - p0; o.n += K; }
    }
  }
}
const pct = (a, p) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.ceil(p / 100 * s.length) - 1)]; };
console.log('sha A', sha.A); console.log('sha B', sha.B, sha.A === sha.B ? 'IDENTICAL' : 'DIFFERENT');
console.log('load', fs.readFileSync('/proc/loadavg', 'utf8').trim());
for (const k of Object.keys(kinds)) {
  const a = res.A[k], b = res.B[k];
  const f = (o) => `p50 ${pct(o.wall, 50).toFixed(1)} p99 ${pct(o.wall, 99).toFixed(1)} ms, exptrackd ${(o.srv / o.n).toFixed(1)} ms/page, pg ${(o.pg / o.n).toFixed(1)} ms/page`;
  console.log(`${k.padEnd(7)} A: ${f(a)} | B: ${f(b)} | p50 B/A ${(pct(b.wall, 50) / pct(a.wall, 50)).toFixed(2)} cpu B/A ${((b.srv + b.pg) / (a.srv + a.pg)).toFixed(2)}`);
}
