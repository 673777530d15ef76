// The figures of tests/bench/traces.sh (see there). Prints one line per
// figure; exits non-zero when a request fails.
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const base = process.argv[2];
const baseline = process.argv[3] || '';
const only = ` ${process.env.TRACES_ONLY || 'ingest client search get'} `;
const BATCHES = Number(process.env.TRACES_BATCHES || 20);
const CLIENT_SECONDS = Number(process.env.TRACES_CLIENT_SECONDS || 5);
const SEARCH_N = Number(process.env.TRACES_SEARCH_N || 100000);
const psqlArgs = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', process.env.PSQL_HOST, '-U', 'postgres', '-d', 'exptrack'];
const sql = (q) => execFileSync(process.env.PSQL, [...psqlArgs, '-At', '-c', q], { encoding: 'utf8', maxBuffer: 1 << 26 }).trim();
const hex = (n) => crypto.randomBytes(n).toString('hex');
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };

async function call(method, p, body, headers = {}) {
    const r = await fetch(base + p, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    if (r.status !== 200) throw new Error(`${method} ${p}: HTTP ${r.status} ${text.slice(0, 300)}`);
    return JSON.parse(text);
}
const experiment = async (name) => (await call('POST', '/api/2.0/mlflow/experiments/create', { name })).experiment_id;

// One trace of n spans: a root and its children, MLflow-like attributes.
function traceSpans(n, t = hex(16)) {
    const root = hex(8);
    const now = BigInt(Date.now()) * 1000000n;
    const spans = [];
    for (let i = 0; i < n; i++) {
        const s = { traceId: t, spanId: i === 0 ? root : hex(8), name: i === 0 ? 'predict' : `step-${i}`, kind: 1,
            startTimeUnixNano: String(now + BigInt(i) * 1000n), endTimeUnixNano: String(now + BigInt(i) * 1000n + 500n),
            status: { code: 1 }, attributes: [
                { key: 'mlflow.spanType', value: { stringValue: i === 0 ? '"CHAIN"' : '"LLM"' } },
                { key: 'mlflow.spanInputs', value: { stringValue: JSON.stringify({ messages: [{ role: 'user', content: `question ${i} `.repeat(8) }] }) } },
                { key: 'mlflow.spanOutputs', value: { stringValue: JSON.stringify({ content: `answer ${i} `.repeat(8) }) } },
                { key: 'mlflow.chat.tokenUsage', value: { stringValue: '{"input_tokens": 12, "output_tokens": 30, "total_tokens": 42}' } },
                { key: 'mlflow.traceRequestId', value: { stringValue: `"tr-${t}"` } },
            ] };
        if (i > 0) s.parentSpanId = root;
        spans.push(s);
    }
    return { traceId: t, spans };
}
const otlpBody = (spans) => ({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 'bench' }, spans }] }] });

// PGCOPY binary rows of trace_spans for the spans of a batch.
function copyRows(exp, batch) {
    const parts = [];
    const field = (buf) => { const l = Buffer.alloc(4); l.writeInt32BE(buf === null ? -1 : buf.length); parts.push(l); if (buf) parts.push(buf); };
    const text = (s) => field(s === null ? null : Buffer.from(s, 'utf8'));
    const i64 = (v) => { const b = Buffer.alloc(8); b.writeBigInt64BE(BigInt(v)); field(b); };
    const i16 = (v) => { const b = Buffer.alloc(2); b.writeInt16BE(v); field(b); };
    const jsonText = (s) => text(s); // schema 0023: attributes and events are text
    for (const s of batch.spans) {
        const c = Buffer.alloc(2); c.writeInt16BE(13); parts.push(c);
        text(`tr-${s.traceId}`); text(s.spanId); text(s.parentSpanId || null); i64(exp); text(s.name); text('LLM');
        i16(1); i16(1); i64(s.startTimeUnixNano); i64(s.endTimeUnixNano);
        jsonText(JSON.stringify(Object.fromEntries(s.attributes.map((a) => [a.key, a.value.stringValue]))));
        i64(12); i64(30);
    }
    return parts;
}

function psqlCopy(file) {
    return new Promise((resolve, reject) => {
        const p = spawn(process.env.PSQL, [...psqlArgs, '-c',
            `\\copy trace_spans (trace_id, span_id, parent_span_id, experiment_id, name, span_type, kind, status_code, start_ns, end_ns, attributes, input_tokens, output_tokens) FROM '${file}' WITH (FORMAT binary)`], { stdio: ['ignore', 'ignore', 'inherit'] });
        p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`psql COPY exited ${code}`))));
    });
}

async function ingest() {
    const exp = await experiment(`bench-ingest-${hex(4)}`);
    const clients = 8;
    const batches = Array.from({ length: clients }, () => Array.from({ length: BATCHES }, () => traceSpans(512)));
    const server = [process.env.SERVER_PID];
    const s0 = cpuMs(server), p0 = pgCpuMs();
    const t0 = performance.now();
    await Promise.all(batches.map(async (mine) => {
        for (const b of mine) await call('POST', '/v1/traces', otlpBody(b.spans), { 'x-mlflow-experiment-id': exp });
    }));
    const secs = (performance.now() - t0) / 1000;
    const spans = clients * BATCHES * 512;
    const rate = spans / secs;
    const usServer = ((cpuMs(server) - s0) * 1000) / spans, usPg = ((pgCpuMs() - p0) * 1000) / spans;
    console.log(`ingest: OTLP/JSON, ${clients} clients x ${BATCHES} batches of 512 spans: ${Math.round(rate)} spans/s (${secs.toFixed(2)} s)`);
    console.log(`ingest: CPU per span: exptrackd ${usServer.toFixed(1)} us + PostgreSQL ${usPg.toFixed(1)} us = ${(usServer + usPg).toFixed(1)} us`);
    // the same span rows by binary COPY (fresh trace ids; the trace rows are made first, untimed)
    const copyExp = await experiment(`bench-copy-${hex(4)}`);
    const files = [];
    const traceIds = [];
    for (let c = 0; c < clients; c++) {
        const parts = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)];
        for (const b of batches[c]) {
            const fresh = { ...b, traceId: hex(16) };
            fresh.spans = b.spans.map((s) => ({ ...s, traceId: fresh.traceId }));
            traceIds.push(fresh.traceId);
            parts.push(...copyRows(copyExp, fresh));
        }
        const end = Buffer.alloc(2); end.writeInt16BE(-1); parts.push(end);
        const f = path.join(process.env.BENCH_TMP, `spans-${c}.copy`);
        fs.writeFileSync(f, Buffer.concat(parts));
        fs.chmodSync(f, 0o644);
        files.push(f);
    }
    sql(`INSERT INTO traces (trace_id, experiment_id, request_time, state, created, updated)
         SELECT 'tr-' || id, ${copyExp}, 0, 1, 0, 0 FROM unnest('{${traceIds.join(',')}}'::text[]) AS id`);
    const c0 = performance.now(), cp0 = pgCpuMs();
    await Promise.all(files.map(psqlCopy));
    const csecs = (performance.now() - c0) / 1000;
    const crate = spans / csecs;
    const usCopy = ((pgCpuMs() - cp0) * 1000) / spans;
    console.log(`ingest: binary COPY of the same ${spans} span rows, ${clients} psql sessions: ${Math.round(crate)} rows/s (${csecs.toFixed(2)} s)`);
    console.log(`ingest: CPU per row of the COPY: PostgreSQL ${usCopy.toFixed(1)} us`);
    console.log(`ingest: ratio OTLP/COPY = ${(rate / crate).toFixed(2)} (goal >= 0.5); by server CPU ${(usCopy / (usServer + usPg)).toFixed(2)}`);
}

async function clientShaped() {
    const exp = await experiment(`bench-client-${hex(4)}`);
    const conns = 64;
    const lat = [];
    let traces = 0;
    const stop = performance.now() + CLIENT_SECONDS * 1000;
    await Promise.all(Array.from({ length: conns }, async () => {
        while (performance.now() < stop) {
            const { traceId, spans } = traceSpans(20);
            const t0 = performance.now();
            await call('POST', '/v1/traces', otlpBody(spans), { 'x-mlflow-experiment-id': exp });
            await call('POST', '/api/3.0/mlflow/traces', { trace: { trace_info: {
                trace_id: `tr-${traceId}`, trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: exp } },
                request_time: new Date().toISOString(), execution_duration: '0.010s', state: 'OK',
                trace_metadata: { 'mlflow.trace_schema.version': '3', 'mlflow.trace.sizeStats': '{"num_spans": 20}' }, tags: { 'mlflow.traceName': 'predict' } } } });
            lat.push(performance.now() - t0);
            traces++;
        }
    }));
    console.log(`client: 64 connections, one trace = OTLP post of 20 spans + V3 create: ${Math.round(traces / CLIENT_SECONDS)} traces/s, p50 ${pct(lat, 0.5).toFixed(1)} ms, p99 ${pct(lat, 0.99).toFixed(1)} ms`);
}

async function search() {
    const exp = await experiment(`bench-search-${hex(4)}`);
    const t0 = performance.now();
    sql(`INSERT INTO traces (trace_id, experiment_id, request_time, execution_duration, state, created, updated)
         SELECT 'tr-' || lpad(to_hex(g), 32, '0'), ${exp}, 1700000000000 + g * 1000, g % 5000, CASE WHEN g % 10 = 0 THEN 2 ELSE 1 END, 0, 0
         FROM generate_series(1, ${SEARCH_N}) g;
         INSERT INTO trace_tags (trace_id, key, value)
         SELECT 'tr-' || lpad(to_hex(g), 32, '0'), k, v FROM generate_series(1, ${SEARCH_N}) g,
           LATERAL (VALUES ('mlflow.traceName', 'chain-' || (g % 20)), ('env', CASE WHEN g % 3 = 0 THEN 'prod' ELSE 'dev' END)) AS x(k, v);
         INSERT INTO trace_metadata (trace_id, key, value)
         SELECT 'tr-' || lpad(to_hex(g), 32, '0'), 'mlflow.user', 'user-' || (g % 50) FROM generate_series(1, ${SEARCH_N}) g;
         ANALYZE traces; ANALYZE trace_tags; ANALYZE trace_metadata;`);
    console.log(`search: seeded ${SEARCH_N} traces in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const filter = "status = 'OK' AND name = 'chain-7' AND tag.env = 'prod' AND metadata.`mlflow.user` != 'user-3' AND timestamp_ms > 1700000000000";
    const lat = [];
    let rows = 0;
    for (let i = 0; i < 30; i++) {
        const s0 = performance.now();
        const r = await call('POST', '/api/3.0/mlflow/traces/search', { locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: exp } }], filter, max_results: 100 });
        lat.push(performance.now() - s0);
        rows = (r.traces || []).length;
    }
    console.log(`search: ${SEARCH_N} traces, 5 filters, max_results 100 (${rows} rows): p50 ${pct(lat, 0.5).toFixed(1)} ms, p99 ${pct(lat, 0.99).toFixed(1)} ms (goal p50 < 50 ms at 1,000,000)`);
}

// CPU time (user + system, ms) of the given processes, from /proc.
const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
function cpuMs(pids) {
    let total = 0;
    for (const pid of pids) {
        try {
            const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
            const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
            total += (Number(f[11]) + Number(f[12])) * TICK_MS; // utime, stime
        } catch { /* gone */ }
    }
    return total;
}
// The postmaster and its children (backends, background processes).
function pgPids() {
    const pm = process.env.PG_PID;
    const kids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
        try {
            const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
            return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] === pm;
        } catch { return false; }
    });
    return [pm, ...kids];
}

// CPU time (ms) of the whole cluster: the postmaster, its live children,
// and the children it has reaped (the COPY's backends exit with psql).
function pgCpuMs() {
    const pm = process.env.PG_PID;
    let reaped = 0;
    try {
        const stat = fs.readFileSync(`/proc/${pm}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        reaped = (Number(f[13]) + Number(f[14])) * TICK_MS; // cutime, cstime
    } catch { /* gone */ }
    return cpuMs(pgPids()) + reaped;
}

// GET of one trace: ms to the last byte of the reply, and ms to parse it
// (the client's share, reported apart so the server's figure is clear).
async function timedGet(url) {
    const t0 = performance.now();
    const r = await fetch(url);
    const text = await r.text();
    const t1 = performance.now();
    if (r.status !== 200) throw new Error(`GET ${url}: HTTP ${r.status} ${text.slice(0, 300)}`);
    const body = JSON.parse(text);
    return { reply: t1 - t0, parse: performance.now() - t1, bytes: text.length, body };
}

// The same GET by curl, body thrown away: curl's own clock from the
// connection to the first and the last byte (its process start is not
// counted), so node's chunk handling and string building are not in it.
function curlGet(url) {
    const out = execFileSync('curl', ['-sS', '--fail', '-o', '/dev/null', '-w', '%{time_starttransfer} %{time_total} %{size_download}', url],
        { encoding: 'utf8' });
    const [first, total, size] = out.trim().split(' ').map(Number);
    return { first: first * 1000, total: total * 1000, size };
}

// d. One trace of 10,000 spans read three ways (V3 traces/get, batchGet and
// the traces.json download of get-trace-artifact); with a baseline server
// (TRACES_BASELINE_BIN in traces.sh) the same reads of it, alternated.
// The database is settled first (VACUUM ANALYZE of the trace tables: the
// state a trace read minutes after it was written finds, hint bits set and
// statistics fresh) and each server makes untimed warm-up reads of each
// kind; then each timed round reads every kind from every server in turn,
// so no kind or server gets the cold or the settled end of the run.
async function getBig() {
    const exp = await experiment(`bench-get-${hex(4)}`);
    const { traceId, spans } = traceSpans(10000);
    for (let i = 0; i < spans.length; i += 512)
        await call('POST', '/v1/traces', otlpBody(spans.slice(i, i + 512)), { 'x-mlflow-experiment-id': exp });
    const v0 = performance.now();
    sql('VACUUM (ANALYZE) traces, trace_spans, trace_tags, trace_metadata');
    console.log(`get: seeded one trace of 10,000 spans; VACUUM ANALYZE of the trace tables took ${(performance.now() - v0).toFixed(0)} ms`);
    const reads = [
        ['traces/get', `/api/3.0/mlflow/traces/get?trace_id=tr-${traceId}&allow_partial=true`, (b) => b.trace.spans.length],
        ['batchGet', `/api/3.0/mlflow/traces/batchGet?trace_ids=tr-${traceId}`, (b) => b.traces[0].spans.length],
        ['get-trace-artifact', `/ajax-api/2.0/mlflow/get-trace-artifact?request_id=tr-${traceId}`, (b) => b.spans.length],
    ];
    const servers = [['new', base]];
    if (baseline) servers.push(['baseline', baseline]);
    const runs = Number(process.env.TRACES_GET_RUNS || 10);
    const warmups = Number(process.env.TRACES_GET_WARMUP || 3);
    for (let i = 0; i < warmups; i++)
        for (const [, p, count] of reads)
            for (const [k, url] of servers) {
                const g = await timedGet(url + p);
                if (count(g.body) !== 10000) throw new Error(`${k}: got ${count(g.body)} spans`);
                curlGet(url + p);
            }
    console.log(`get: ${warmups} untimed warm-up reads of each kind from each server (node and curl), then ${runs} timed rounds: every kind from every server in turn, by node's fetch (reply to the last byte; JSON.parse apart) and by curl (-o /dev/null: first byte, last byte)`);
    const lat = {};
    for (const [name] of reads)
        for (const [k] of servers) lat[`${name} ${k}`] = { reply: [], parse: [], first: [], total: [], bytes: 0 };
    for (let i = 0; i < runs; i++) {
        for (const [name, p, count] of reads) {
            for (const [k, url] of servers) {
                const l = lat[`${name} ${k}`];
                const g = await timedGet(url + p);
                if (count(g.body) !== 10000) throw new Error(`${k} ${name}: got ${count(g.body)} spans`);
                l.reply.push(g.reply);
                l.parse.push(g.parse);
                l.bytes = g.bytes;
                const c = curlGet(url + p);
                l.first.push(c.first);
                l.total.push(c.total);
            }
        }
    }
    for (const [name, p] of reads) {
        for (const [k] of servers) {
            const l = lat[`${name} ${k}`];
            const goal = name === 'traces/get' && k === 'new' ? ' (goal: < 100 ms)' : '';
            console.log(`get: one trace of 10,000 spans, ${name} (${k}, ${(l.bytes / 1048576).toFixed(1)} MiB): node reply p50 ${pct(l.reply, 0.5).toFixed(1)} ms, max ${Math.max(...l.reply).toFixed(1)} ms (JSON.parse p50 ${pct(l.parse, 0.5).toFixed(1)} ms apart); curl last byte p50 ${pct(l.total, 0.5).toFixed(1)} ms${goal}, min ${Math.min(...l.total).toFixed(1)} ms, first byte p50 ${pct(l.first, 0.5).toFixed(1)} ms`);
        }
        if (baseline) {
            const n = lat[`${name} new`], b = lat[`${name} baseline`];
            console.log(`get: ${name}: ratio new/baseline p50: node ${(pct(n.reply, 0.5) / pct(b.reply, 0.5)).toFixed(3)}, curl ${(pct(n.total, 0.5) / pct(b.total, 0.5)).toFixed(3)}`);
        }
        // CPU per read, which a loaded machine does not inflate as it does
        // the wall time: the server's and PostgreSQL's (every process of
        // the private cluster), one server at a time, read by curl.
        if (process.env.SERVER_PID && process.env.PG_PID) {
            const cpu = {};
            for (const [k, url] of servers) {
                const pid = k === 'new' ? process.env.SERVER_PID : process.env.BASELINE_PID;
                if (!pid) continue;
                const s0 = cpuMs([pid]), p0 = cpuMs(pgPids());
                for (let i = 0; i < runs; i++) curlGet(url + p);
                cpu[k] = { server: (cpuMs([pid]) - s0) / runs, pg: (cpuMs(pgPids()) - p0) / runs };
                console.log(`get: ${name} (${k}): CPU per read: exptrackd ${cpu[k].server.toFixed(1)} ms + PostgreSQL ${cpu[k].pg.toFixed(1)} ms = ${(cpu[k].server + cpu[k].pg).toFixed(1)} ms`);
            }
            if (cpu.new && cpu.baseline)
                console.log(`get: ${name}: ratio new/baseline CPU per read: exptrackd ${(cpu.new.server / cpu.baseline.server).toFixed(3)}, total ${((cpu.new.server + cpu.new.pg) / (cpu.baseline.server + cpu.baseline.pg)).toFixed(3)}`);
        }
    }
    // The floor: psql reading the same span rows as text (what the server
    // reads before it writes a byte), median of 3.
    const q = `SELECT trace_id, span_id, parent_span_id, name, span_type, kind, trace_state, status_code, status_message, start_ns, end_ns, attributes::text, events::text, input_tokens, output_tokens FROM trace_spans WHERE trace_id = 'tr-${traceId}' ORDER BY parent_span_id IS NOT NULL, start_ns, span_id`;
    const floor = [];
    for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        execFileSync(process.env.PSQL, [...psqlArgs, '-At', '-o', '/dev/null', '-c', q]);
        floor.push(performance.now() - t0);
    }
    console.log(`get: baseline: psql reading the same 10,000 span rows (process start included): p50 ${pct(floor, 0.5).toFixed(1)} ms`);
}

if (only.includes(' ingest ')) await ingest();
if (only.includes(' client ')) await clientShaped();
if (only.includes(' search ')) await search();
if (only.includes(' get ')) await getBig();
