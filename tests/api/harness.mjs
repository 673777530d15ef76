// Test harness for the exptrack API tests: a throw-away PostgreSQL cluster, a
// real exptrackd against it, and a tiny HTTP client. Every wait is bounded and
// every process started here is killed when the test process ends, even when
// tests fail (after() hooks plus a process 'exit' safety net).
//
// Each test file starts its own PostgreSQL and exptrackd, so files can run in
// parallel as separate processes (ctest -j).

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PREFIXES = ['/api/2.0/mlflow', '/ajax-api/2.0/mlflow'];

// ---------------------------------------------------------------------------
// process bookkeeping

const live = new Set(); // {proc, signal} of children still running

process.on('exit', () => {
    for (const c of live) {
        try { c.proc.kill(c.exitSignal); } catch { /* already gone */ }
    }
    for (const d of tempDirs) {
        try { fs.rmSync(d, { recursive: true, force: true }); } catch { /* best effort */ }
    }
});
const tempDirs = new Set();
// Every exptrackd started here: {srv, err, reported}. A sanitizer report no
// stop() has thrown yet (a server that crashed, or was never stopped) still
// fails the test process at exit.
const servers = new Set();
process.on('exit', () => {
    for (const e of servers) {
        if (e.err.report && !e.reported) {
            e.reported = true;
            process.stderr.write(`exptrackd printed a sanitizer report:\n${e.err.report}\n`);
            process.exitCode = 1;
        }
    }
});
// Set by make test-sanitize (and anyone running a sanitized build by hand).
const SANITIZED = /detect_leaks|halt_on_error/.test(`${process.env.ASAN_OPTIONS || ''}${process.env.UBSAN_OPTIONS || ''}`);
// A test process ended by a signal still tears its children down.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => process.exit(128 + (os.constants.signals[sig] || 0)));
}

function track(proc, exitSignal) {
    const entry = { proc, exitSignal };
    live.add(entry);
    proc.once('exit', () => live.delete(entry));
    return entry;
}

// What AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer print
// when they find something (make test-sanitize builds exptrackd with them).
export const SANITIZER_RE = /ERROR: (?:AddressSanitizer|LeakSanitizer)|runtime error:/;
const SANITIZER_REPORT_MAX = 64 * 1024;

/**
 * The sanitizer findings in a process's output, or '' when there are none:
 * the text from the first finding on (bounded). For processes run with
 * spawnSync: `assert.equal(sanitizerReport(r.stderr), '')`.
 */
export function sanitizerReport(text) {
    const m = SANITIZER_RE.exec(text || '');
    if (!m) return '';
    const from = text.lastIndexOf('\n', m.index) + 1;
    return text.slice(from, from + SANITIZER_REPORT_MAX);
}

// Keeps the last `limit` characters written to a stream, and separately
// everything from the first sanitizer finding on (c.report), however much
// output follows it.
function collector(stream, limit = 256 * 1024) {
    const c = { text: '', report: '', listeners: new Set(), ended: false };
    let carry = ''; // the end of the previous chunk: a finding may straddle two
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
        c.text += chunk;
        if (c.text.length > limit) c.text = c.text.slice(-limit);
        if (c.report) {
            if (c.report.length < SANITIZER_REPORT_MAX) c.report += chunk.slice(0, SANITIZER_REPORT_MAX - c.report.length);
        } else {
            c.report = sanitizerReport(carry + chunk);
        }
        carry = chunk.slice(-256);
        for (const l of c.listeners) l(chunk);
    });
    stream.once('close', () => { c.ended = true; });
    stream.once('end', () => { c.ended = true; });
    return c;
}

// Resolves when the stream has delivered everything (or after ms).
async function drained(col, stream, ms = 5000) {
    if (col.ended || stream.destroyed) return;
    await new Promise((resolve) => {
        const t = setTimeout(resolve, ms);
        const done = () => { clearTimeout(t); resolve(); };
        stream.once('close', done);
        stream.once('end', done);
    });
}

function exited(proc) {
    return proc.exitCode !== null || proc.signalCode !== null;
}

// Resolves when proc exits, or after ms (returns false then).
export async function waitExit(proc, ms) {
    if (exited(proc)) return true;
    return await new Promise((resolve) => {
        const t = setTimeout(() => resolve(false), ms);
        proc.once('exit', () => { clearTimeout(t); resolve(true); });
    });
}

// Waits until `re` matches the collected text (or new chunks), the process
// exits, or ms pass. Returns the match.
function waitFor(col, proc, re, ms, what) {
    return new Promise((resolve, reject) => {
        let done = false;
        const finish = (err, m) => {
            if (done) return;
            done = true;
            clearTimeout(timer);
            col.listeners.delete(onData);
            proc.off('exit', onExit);
            if (err) reject(err); else resolve(m);
        };
        const check = () => {
            const m = col.text.match(re);
            if (m) finish(null, m);
        };
        const onData = () => check();
        const onExit = (code, sig) => {
            // give the stream a tick to deliver its last chunk
            setImmediate(() => {
                const m = col.text.match(re);
                if (m) return finish(null, m);
                finish(new Error(`${what} exited (code ${code}, signal ${sig}) before ready; output:\n${col.text}`));
            });
        };
        const timer = setTimeout(
            () => finish(new Error(`${what} not ready after ${ms} ms; output:\n${col.text}`)), ms);
        col.listeners.add(onData);
        proc.once('exit', onExit);
        check();
    });
}

// ---------------------------------------------------------------------------
// PostgreSQL

function pgBinDir() {
    const base = '/usr/lib/postgresql';
    try {
        const versions = fs.readdirSync(base)
            .filter((v) => /^\d+(\.\d+)?$/.test(v) && fs.existsSync(path.join(base, v, 'bin', 'initdb')))
            .sort((a, b) => Number(b) - Number(a));
        if (versions.length) return path.join(base, versions[0], 'bin');
    } catch { /* fall through */ }
    return null; // use PATH
}

function pgBin(name) {
    const dir = pgBinDir();
    return dir ? path.join(dir, name) : name;
}

// The account to run PostgreSQL as: ourselves, unless we are root (which
// PostgreSQL refuses), then 'postgres' (or 'nobody' as a last resort).
function pgAccount() {
    if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
    for (const name of ['postgres', 'nobody']) {
        const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
        const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
        if (r.status === 0 && g.status === 0) {
            return { name, uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
        }
    }
    throw new Error('running as root but no unprivileged account (postgres/nobody) to run PostgreSQL');
}

function runAs(account) {
    return account ? { uid: account.uid, gid: account.gid } : {};
}

/**
 * Starts a fresh PostgreSQL cluster in a temporary directory, listening only
 * on a Unix socket there, with database `exptrack`.
 * Returns {url, conninfo, socketDir, dataDir, stop(), start(), destroy(), log()}.
 *  - url: libpq URL for exptrackd --database-url
 *  - stop(): fast shutdown, keeps the data (for outage tests)
 *  - start(): starts it again on the same data and socket
 *  - destroy(): stop and remove the directory
 */
export async function startPostgres({ fsync = false, timeoutMs = 60000, sharedBuffers = '32MB' } = {}) {
    const account = pgAccount();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exptrack-pg-'));
    tempDirs.add(dir);
    if (account) fs.chownSync(dir, account.uid, account.gid);
    const dataDir = path.join(dir, 'data');
    const env = { ...process.env, LC_ALL: 'C', LANG: 'C', TZ: 'UTC' };
    delete env.PGDATA; delete env.PGHOST; delete env.PGPORT; delete env.PGUSER; delete env.PGDATABASE;

    const init = spawnSync(pgBin('initdb'),
        ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'],
        { env, cwd: dir, encoding: 'utf8', timeout: timeoutMs, ...runAs(account) });
    if (init.status !== 0) {
        throw new Error(`initdb failed (status ${init.status}, ${init.error ?? ''}):\n${init.stdout}\n${init.stderr}`);
    }

    const pg = {
        dir, dataDir, socketDir: dir, port: 5432,
        proc: null, out: null,
        url: `postgresql:///exptrack?host=${encodeURIComponent(dir)}&user=postgres`,
        log: () => (pg.out ? pg.out.text : ''),
    };
    pg.conninfo = pg.url;

    pg.start = async () => {
        if (pg.proc && !exited(pg.proc)) throw new Error('postgres already running');
        const proc = spawn(pgBin('postgres'), [
            '-D', dataDir,
            '-k', dir,
            '-p', String(pg.port),
            '-c', 'listen_addresses=',
            '-c', `fsync=${fsync ? 'on' : 'off'}`,
            '-c', `full_page_writes=${fsync ? 'on' : 'off'}`,
            '-c', 'synchronous_commit=on',
            '-c', 'max_connections=100',
            '-c', `shared_buffers=${sharedBuffers}`,
            '-c', 'logging_collector=off',
        ], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], ...runAs(account) });
        track(proc, 'SIGQUIT'); // immediate shutdown if the test process dies
        pg.proc = proc;
        const col = collector(proc.stderr);
        proc.stdout.resume();
        pg.out = col;
        await waitFor(col, proc, /database system is ready to accept connections/, timeoutMs, 'postgres');
    };

    pg.stop = async () => {
        const proc = pg.proc;
        if (!proc || exited(proc)) return;
        proc.kill('SIGINT'); // fast shutdown
        if (!(await waitExit(proc, 20000))) {
            proc.kill('SIGQUIT');
            if (!(await waitExit(proc, 5000))) {
                proc.kill('SIGKILL');
                await waitExit(proc, 5000);
            }
        }
    };

    pg.destroy = async () => {
        await pg.stop();
        try { fs.rmSync(dir, { recursive: true, force: true }); } catch { /* best effort */ }
        tempDirs.delete(dir);
    };

    /** Runs SQL with psql (as the superuser over the socket); returns stdout. */
    pg.psql = (sql, db = 'exptrack') => {
        const r = spawnSync(pgBin('psql'),
            ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-h', dir, '-p', String(pg.port), '-U', 'postgres', '-d', db, '-c', sql],
            { env, encoding: 'utf8', timeout: 30000 });
        if (r.status !== 0) throw new Error(`psql failed: ${r.stderr || r.error}`);
        return r.stdout;
    };

    /** A streaming hot standby of this cluster (startStandby below). */
    pg.startStandby = () => startStandby(pg, { account, env, fsync, sharedBuffers, timeoutMs });

    try {
        await pg.start();
        const c = spawnSync(pgBin('createdb'), ['-h', dir, '-p', String(pg.port), '-U', 'postgres', '-E', 'UTF8', 'exptrack'],
            { env, encoding: 'utf8', timeout: 30000 });
        if (c.status !== 0) throw new Error(`createdb failed: ${c.stderr || c.error}`);
    } catch (e) {
        await pg.destroy();
        throw e;
    }
    return pg;
}

/**
 * Starts a hot standby of `primary` (a startPostgres cluster, running): a
 * base backup taken with `pg_basebackup -R` (so it streams from the
 * primary), in its own temporary directory and socket, as the account the
 * primary runs as. Returns {url, dir, start(), stop(), kill(), destroy(),
 * psql(sql), log()}: kill() is an immediate shutdown (SIGQUIT: no
 * checkpoint, connections cut), start() starts it again on the same data.
 */
async function startStandby(primary, { account, env, fsync, sharedBuffers, timeoutMs }) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exptrack-pg-standby-'));
    tempDirs.add(dir);
    if (account) fs.chownSync(dir, account.uid, account.gid);
    const dataDir = path.join(dir, 'data');
    const b = spawnSync(pgBin('pg_basebackup'),
        ['-h', primary.dir, '-p', String(primary.port), '-U', 'postgres', '-D', dataDir, '-R', '-X', 'stream', '-c', 'fast', '--no-sync'],
        { env, cwd: dir, encoding: 'utf8', timeout: timeoutMs, ...runAs(account) });
    if (b.status !== 0) {
        throw new Error(`pg_basebackup failed (status ${b.status}, ${b.error ?? ''}):\n${b.stdout}\n${b.stderr}`);
    }
    const sb = {
        dir, dataDir, port: 5432, proc: null, out: null,
        url: `postgresql:///exptrack?host=${encodeURIComponent(dir)}&user=postgres`,
        log: () => (sb.out ? sb.out.text : ''),
    };
    sb.start = async () => {
        if (sb.proc && !exited(sb.proc)) throw new Error('standby already running');
        const proc = spawn(pgBin('postgres'), [
            '-D', dataDir, '-k', dir, '-p', String(sb.port),
            '-c', 'listen_addresses=',
            '-c', `fsync=${fsync ? 'on' : 'off'}`,
            '-c', 'hot_standby=on',
            '-c', 'max_connections=100',
            '-c', `shared_buffers=${sharedBuffers}`,
            '-c', 'logging_collector=off',
            '-c', 'wal_receiver_status_interval=1s',
        ], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], ...runAs(account) });
        track(proc, 'SIGQUIT');
        sb.proc = proc;
        const col = collector(proc.stderr);
        proc.stdout.resume();
        sb.out = col;
        await waitFor(col, proc, /ready to accept read-only connections/, timeoutMs, 'standby');
    };
    const halt = async (sig) => {
        const proc = sb.proc;
        if (!proc || exited(proc)) return;
        proc.kill(sig);
        if (!(await waitExit(proc, 20000))) {
            proc.kill('SIGKILL');
            await waitExit(proc, 5000);
        }
    };
    sb.stop = () => halt('SIGINT');
    sb.kill = () => halt('SIGQUIT');
    sb.destroy = async () => {
        await sb.stop();
        try { fs.rmSync(dir, { recursive: true, force: true }); } catch { /* best effort */ }
        tempDirs.delete(dir);
    };
    sb.psql = (sql, db = 'exptrack') => {
        const r = spawnSync(pgBin('psql'),
            ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-h', dir, '-p', String(sb.port), '-U', 'postgres', '-d', db, '-c', sql],
            { env, encoding: 'utf8', timeout: 30000 });
        if (r.status !== 0) throw new Error(`psql failed: ${r.stderr || r.error}`);
        return r.stdout;
    };
    try {
        await sb.start();
    } catch (e) {
        await sb.destroy();
        throw e;
    }
    return sb;
}

// ---------------------------------------------------------------------------
// exptrackd

export function exptrackdPath() {
    const p = process.env.EXPTRACKD || path.join(REPO_ROOT, 'build', 'bin', 'exptrackd');
    return path.resolve(REPO_ROOT, p);
}

/**
 * Spawns exptrackd with `--port 0 --database-url <url>` (+ args) and waits
 * (bounded) for `listening on http://HOST:PORT` on stderr.
 * Returns {url, proc, stop(), kill9(), log()}.
 */
export async function startServer({ databaseUrl, args = [], env = {}, timeoutMs = 30000 } = {}) {
    const bin = exptrackdPath();
    if (!fs.existsSync(bin)) throw new Error(`exptrackd binary not found at ${bin} (build it, or set EXPTRACKD)`);
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'exptrackd-cwd-'));
    tempDirs.add(cwd);
    const fullEnv = { ...process.env, ...env };
    const argv = ['--host', '127.0.0.1', '--port', '0'];
    if (databaseUrl) argv.push('--database-url', databaseUrl);
    argv.push(...args);
    const proc = spawn(bin, argv, { cwd, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    track(proc, 'SIGKILL');
    const err = collector(proc.stderr);
    const out = collector(proc.stdout);
    const srv = {
        proc,
        log: () => err.text + (out.text ? `\n[stdout]\n${out.text}` : ''),
    };
    const entry = { srv, err, reported: false };
    servers.add(entry);
    /** Sanitizer findings printed so far ('' when none). */
    srv.sanitizerReport = () => err.report;
    // A finding fails whoever stops the server (the test's after() hook).
    const check = async (what) => {
        await drained(err, proc.stderr);
        if (err.report && !entry.reported) {
            entry.reported = true;
            throw new Error(`exptrackd (${what}) printed a sanitizer report:\n${err.report}`);
        }
    };
    srv.stop = async () => {
        if (!exited(proc)) {
            proc.kill('SIGTERM');
            // LeakSanitizer does its work at exit: give it time before SIGKILL.
            if (!(await waitExit(proc, SANITIZED ? 60000 : 10000))) {
                proc.kill('SIGKILL');
                await waitExit(proc, 5000);
            }
        }
        await check('stopped');
    };
    srv.kill9 = async () => {
        if (!exited(proc)) {
            proc.kill('SIGKILL');
            await waitExit(proc, 10000);
        }
        await check('killed');
    };
    srv.exited = () => exited(proc);
    try {
        const m = await waitFor(err, proc, /listening on (http:\/\/[^\s/]+:\d+)/, timeoutMs, 'exptrackd');
        srv.url = m[1];
    } catch (e) {
        await srv.kill9();
        throw e;
    }
    return srv;
}

/**
 * Starts PostgreSQL + exptrackd and registers after() to tear both down.
 * Pass node:test's `before`/`after`. Returns an object filled in by before().
 */
export function useStack({ before, after }, opts = {}) {
    const stack = { pg: null, srv: null, base: null };
    before(async () => {
        stack.pg = await startPostgres(opts.pg);
        stack.srv = await startServer({ databaseUrl: stack.pg.url, ...(opts.server || {}) });
        stack.base = stack.srv.url;
    }, { timeout: 120000 });
    after(async () => {
        if (stack.srv) await stack.srv.stop();
        if (stack.pg) await stack.pg.destroy();
    }, { timeout: 60000 });
    return stack;
}

/**
 * One PostgreSQL and an exptrackd for each entry of `servers` (startServer's
 * options; databaseUrl is filled in), all on the same database: two servers
 * sharing one database, as a scaled-out deployment runs them. Registers
 * after() to stop them. Returns { pg, servers } filled in by before().
 */
export function useServers({ before, after }, servers) {
    const stack = { pg: null, servers: [] };
    before(async () => {
        stack.pg = await startPostgres();
        for (const opts of servers)
            stack.servers.push(await startServer({ ...opts, databaseUrl: stack.pg.url }));
    }, { timeout: 120000 });
    after(async () => {
        for (const srv of stack.servers) await srv.stop();
        if (stack.pg) await stack.pg.destroy();
    }, { timeout: 60000 });
    return stack;
}

/** The admin password useAuthStack gives the server. */
export const ADMIN_PASSWORD = 'admin-password-for-tests';

/** An Authorization header for HTTP basic authentication. */
export const basicAuth = (user, password) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

/**
 * useStack with --auth: writes ADMIN_PASSWORD to a private file (removed when
 * the process exits) and starts exptrackd with --auth --admin-password-file
 * plus opts.server.args. The returned stack also has
 *  - pwFile: the password file's path,
 *  - admin: the admin's basic-auth headers,
 *  - newUser(prefix): creates a user named uniqueName(prefix) with the
 *    password `${name}-password-123` (as the admin); resolves
 *    { name, id, password, headers } with the user's basic-auth headers.
 */
export function useAuthStack(hooks, opts = {}) {
    const pwDir = fs.mkdtempSync(path.join(os.tmpdir(), 'exptrack-auth-'));
    const pwFile = path.join(pwDir, 'admin-password');
    fs.writeFileSync(pwFile, `${ADMIN_PASSWORD}\n`, { mode: 0o600 });
    process.on('exit', () => fs.rmSync(pwDir, { recursive: true, force: true }));
    const server = opts.server || {};
    const stack = useStack(hooks, {
        ...opts,
        server: { ...server, args: ['--auth', '--admin-password-file', pwFile, ...(server.args || [])] },
    });
    stack.pwFile = pwFile;
    stack.admin = basicAuth('admin', ADMIN_PASSWORD);
    stack.newUser = async (prefix) => {
        const name = uniqueName(prefix);
        const password = `${name}-password-123`;
        const r = await api(stack.base, 'POST', '/api/2.0/mlflow/users/create', { username: name, password }, { headers: stack.admin });
        const u = assertOk(r, `create user ${name}`).user;
        return { name, id: u.id, password, headers: basicAuth(name, password) };
    };
    return stack;
}

// ---------------------------------------------------------------------------
// HTTP client

function encodeQuery(query) {
    const sp = new URLSearchParams();
    for (const [k, v] of Object.entries(query || {})) {
        if (v === undefined) continue;
        if (Array.isArray(v)) for (const x of v) sp.append(k, String(x));
        else sp.append(k, String(v));
    }
    const s = sp.toString();
    return s ? `?${s}` : '';
}

function parseJson(text) {
    try { return JSON.parse(text); } catch { return undefined; }
}

/**
 * api(base, method, path, bodyOrQuery, opts)
 *  - GET/HEAD/DELETE without opts.body: bodyOrQuery is a query object (arrays repeat the key)
 *  - otherwise bodyOrQuery is JSON-encoded as the body with Content-Type application/json
 *  - opts.raw: send this string/Buffer as the body as-is
 *  - opts.headers: extra headers (set 'content-type': null to send none)
 * Returns {status, json, text, headers}. Bounded by opts.timeoutMs (15 s).
 */
export async function api(base, method, p, bodyOrQuery, opts = {}) {
    method = method.toUpperCase();
    let url = base + p;
    const headers = { accept: 'application/json' };
    let body;
    if ((method === 'GET' || method === 'HEAD') && opts.raw === undefined) {
        url += encodeQuery(bodyOrQuery);
    } else if (opts.raw !== undefined) {
        body = typeof opts.raw === 'string' ? Buffer.from(opts.raw, 'utf8') : opts.raw;
    } else if (bodyOrQuery !== undefined) {
        body = Buffer.from(JSON.stringify(bodyOrQuery), 'utf8');
        headers['content-type'] = 'application/json';
    }
    for (const [k, v] of Object.entries(opts.headers || {})) {
        if (v === null) delete headers[k.toLowerCase()];
        else headers[k.toLowerCase()] = v;
    }
    if (method === 'GET' && body !== undefined) return rawRequest(url, method, headers, body, opts.timeoutMs);
    const res = await fetch(url, {
        method, headers, body, signal: AbortSignal.timeout(opts.timeoutMs ?? 15000),
    });
    const text = await res.text();
    return { status: res.status, text, json: parseJson(text), headers: res.headers };
}

// fetch() refuses a body on GET; the contract allows one (GET without query
// string parses the body as JSON), so use node:http for that case.
function rawRequest(url, method, headers, body, timeoutMs = 15000) {
    return new Promise((resolve, reject) => {
        const u = new URL(url);
        const req = http.request({
            host: u.hostname, port: u.port, path: u.pathname + u.search, method,
            headers: { ...headers, 'content-length': body ? body.length : 0 },
            timeout: timeoutMs,
        }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => {
                const text = Buffer.concat(chunks).toString('utf8');
                resolve({ status: res.statusCode, text, json: parseJson(text), headers: new Headers(Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)])) });
            });
        });
        req.on('timeout', () => req.destroy(new Error('request timed out')));
        req.on('error', reject);
        if (body) req.write(body);
        req.end();
    });
}

/** A client bound to a base URL and an MLflow API prefix. */
export function client(base, prefix = PREFIXES[0]) {
    const c = {
        base, prefix,
        get: (p, query, opts) => api(base, 'GET', prefix + p, query, opts),
        post: (p, body, opts) => api(base, 'POST', prefix + p, body, opts),
        req: (method, p, body, opts) => api(base, method, prefix + p, body, opts),
    };
    // helpers that assert success
    c.ok = async (method, p, body) => {
        const r = await api(base, method, prefix + p, body);
        assertOk(r, `${method} ${prefix}${p} ${JSON.stringify(body)}`);
        return r.json;
    };
    c.createExperiment = async (name, extra = {}) => (await c.ok('POST', '/experiments/create', { name, ...extra })).experiment_id;
    c.createRun = async (experimentId, extra = {}) => (await c.ok('POST', '/runs/create', { experiment_id: experimentId, start_time: Date.now(), ...extra })).run;
    c.getRun = async (runId) => (await c.ok('GET', '/runs/get', { run_id: runId })).run;
    c.getExperiment = async (id) => (await c.ok('GET', '/experiments/get', { experiment_id: id })).experiment;
    return c;
}

// ---------------------------------------------------------------------------
// assertions

function describeRes(r) {
    return `HTTP ${r.status} ${r.text.length > 2000 ? r.text.slice(0, 2000) + '…' : r.text}`;
}

/** A success: HTTP 200, JSON object body. */
export function assertOk(r, what = '') {
    assert.equal(r.status, 200, `${what}: expected 200, got ${describeRes(r)}`);
    assert.ok(r.json !== null && typeof r.json === 'object' && !Array.isArray(r.json),
        `${what}: success body must be a JSON object, got ${describeRes(r)}`);
    return r.json;
}

/**
 * An MLflow error: the HTTP status, {"error_code": code, "message": ...}, and
 * (when given) each of `mentions` appears in the message.
 */
export function assertError(r, status, code, mentions = [], what = '') {
    if (!Array.isArray(mentions)) mentions = [mentions];
    const w = what ? `${what}: ` : '';
    assert.equal(r.status, status, `${w}expected HTTP ${status} ${code ?? ''}, got ${describeRes(r)}`);
    assert.ok(r.json && typeof r.json === 'object' && !Array.isArray(r.json),
        `${w}error body must be a JSON object, got ${describeRes(r)}`);
    assert.equal(typeof r.json.error_code, 'string', `${w}error_code missing: ${describeRes(r)}`);
    assert.equal(typeof r.json.message, 'string', `${w}message missing: ${describeRes(r)}`);
    if (code) assert.equal(r.json.error_code, code, `${w}wrong error_code: ${describeRes(r)}`);
    const ct = r.headers.get('content-type') || '';
    assert.match(ct, /^application\/json/i, `${w}error content-type: ${ct}`);
    for (const m of mentions) {
        assert.ok(r.json.message.includes(m), `${w}message should mention ${JSON.stringify(m)}: ${r.json.message}`);
    }
    return r.json;
}

/** Polls fn() until it returns a truthy value or ms pass; returns that value or throws. */
export async function waitUntil(fn, ms, what = 'condition', interval = 200) {
    const deadline = Date.now() + ms;
    let last;
    for (;;) {
        try {
            last = await fn();
            if (last) return last;
        } catch (e) {
            last = e;
        }
        if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
        await sleep(interval);
    }
}

// ---------------------------------------------------------------------------
// misc

let uniq = 0;
/** A name unique within this process (and very likely across processes). */
export function uniqueName(prefix = 'x') {
    uniq += 1;
    return `${prefix}-${process.pid}-${Date.now().toString(36)}-${uniq}`;
}

export const RUN_ID_RE = /^[0-9a-f]{32}$/;
export { sleep };

// --- live-update streams (GET /api/2.0/exptrack/stream) ---

/**
 * Opens a stream and parses it as it arrives. Returns {status, headers,
 * items: [{event, data, comment, retry}], waitFor(pred, ms), close(), ended}.
 */
export async function openStream(base, query, { path: streamPath = '/api/2.0/exptrack/stream', headers = {} } = {}) {
    const sp = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) for (const x of [].concat(v)) sp.append(k, String(x));
    const ac = new AbortController();
    const res = await fetch(`${base}${streamPath}?${sp}`, { headers: { accept: 'text/event-stream', ...headers }, signal: ac.signal });
    const s = { status: res.status, headers: res.headers, items: [], ended: false, error: null, waiters: new Set() };
    if (res.status !== 200) {
        s.text = await res.text();
        s.json = JSON.parse(s.text);
        return s;
    }
    const notify = () => { for (const w of s.waiters) w(); };
    (async () => {
        const dec = new TextDecoder();
        let buf = '';
        try {
            for await (const chunk of res.body) {
                buf += dec.decode(chunk, { stream: true });
                let i;
                while ((i = buf.indexOf('\n\n')) >= 0) {
                    const block = buf.slice(0, i);
                    buf = buf.slice(i + 2);
                    const item = { at: Date.now() };
                    for (const line of block.split('\n')) {
                        if (line.startsWith(':')) item.comment = line.slice(1).trim();
                        else if (line.startsWith('event: ')) item.event = line.slice(7);
                        else if (line.startsWith('data: ')) item.data = JSON.parse(line.slice(6));
                        else if (line.startsWith('retry: ')) item.retry = Number(line.slice(7));
                    }
                    s.items.push(item);
                }
                notify();
            }
        } catch (e) {
            if (e.name !== 'AbortError') s.error = e;
        }
        s.ended = true;
        notify();
    })();
    s.events = () => s.items.filter((x) => x.event === 'run').map((x) => x.data);
    // Resolves with the first item matching pred (searching from `from`), or throws after ms.
    s.waitFor = (pred, ms = 2000, from = 0) => new Promise((resolve, reject) => {
        const check = () => {
            const hit = s.items.slice(from).find(pred);
            if (hit) { done(); resolve(hit); } else if (s.ended) { done(); reject(new Error(`stream ended; items: ${JSON.stringify(s.items)}`)); }
        };
        const timer = setTimeout(() => { done(); reject(new Error(`no matching item within ${ms} ms; items: ${JSON.stringify(s.items)}`)); }, ms);
        const done = () => { clearTimeout(timer); s.waiters.delete(check); };
        s.waiters.add(check);
        check();
    });
    s.waitEnd = (ms) => new Promise((resolve) => {
        const check = () => { if (s.ended) { done(); resolve(true); } };
        const timer = setTimeout(() => { done(); resolve(false); }, ms);
        const done = () => { clearTimeout(timer); s.waiters.delete(check); };
        s.waiters.add(check);
        check();
    });
    s.close = () => ac.abort();
    return s;
}

// A waitFor predicate: the `event: run` item of runId with the given kind.
export const isRunEvent = (runId, kind) => (x) => x.event === 'run' && x.data.run_id === runId && x.data.kind === kind;
