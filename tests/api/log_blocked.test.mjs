// A log reader that stops reading: exptrackd's stderr is a pipe nobody empties
// (a stalled log shipper, `exptrackd 2>&1 | slow-consumer`). The server must
// go on answering, drop the lines it cannot write and say how many once the
// reader is back, and stop on SIGTERM without waiting for the reader.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPostgres, startServer, waitExit, waitUntil, uniqueName } from './harness.mjs';

// About 100 bytes an access line: 4,000 requests write some 400 KB, well past
// the pipe's 64 KiB and what node buffers before it stops reading.
const REQUESTS = 4000;
const CONCURRENCY = 32;

// Sends REQUESTS GETs of /health, CONCURRENCY at a time, each bounded; answers
// how many came back 200.
async function hammer(base) {
    let next = 0, ok = 0;
    const worker = async () => {
        while (next < REQUESTS) {
            next++;
            const r = await fetch(`${base}/health`, { signal: AbortSignal.timeout(20000) });
            await r.arrayBuffer();
            if (r.status === 200) ok++;
        }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    return ok;
}

describe('stderr not read', () => {
    let pg;
    before(async () => { pg = await startPostgres(); }, { timeout: 120000 });
    after(async () => { await pg?.destroy(); }, { timeout: 60000 });

    test('requests are answered; the lines dropped meanwhile are counted once the reader is back', async () => {
        const srv = await startServer({ databaseUrl: pg.url });
        try {
            srv.proc.stderr.pause(); // node stops reading once its buffer is full: the pipe fills
            assert.equal(await hammer(srv.url), REQUESTS, 'every request answered while stderr is full');
            srv.proc.stderr.resume();
            await waitUntil(() => /warn \d+ log lines dropped: stderr was not being read/.test(srv.log()), 10000, 'the dropped-lines warning');
            const dropped = Number(/warn (\d+) log lines dropped/.exec(srv.log())[1]);
            assert.ok(dropped > 0 && dropped < REQUESTS, `dropped ${dropped}`);
            // the lines before the stall were kept, and the log goes on after it
            const marker = uniqueName('after-stall');
            const r = await fetch(`${srv.url}/api/2.0/mlflow/${marker}`);
            assert.equal(r.status, 404);
            await waitUntil(() => srv.log().includes(`GET /api/2.0/mlflow/${marker} 404`), 10000, `an access line after the stall in:\n${srv.log().slice(-600)}`);
            const access = srv.log().split('\n').filter((l) => / info GET \/health 200 /.test(l)).length;
            assert.ok(access > 0, 'access lines written before and after the stall');
            // no line lost without being counted (a line of another kind may be among the dropped)
            assert.ok(access < REQUESTS && access + dropped >= REQUESTS, `${access} written + ${dropped} dropped`);
        } finally {
            await srv.stop();
        }
    });

    test('SIGTERM: exits without waiting for a reader that never comes back', async () => {
        const srv = await startServer({ databaseUrl: pg.url });
        try {
            srv.proc.stderr.pause();
            assert.equal(await hammer(srv.url), REQUESTS);
            srv.proc.kill('SIGTERM');
            assert.ok(await waitExit(srv.proc, 15000), 'exited within 15 s, stderr still full');
            assert.equal(srv.proc.exitCode, 0, `exit code ${srv.proc.exitCode} (signal ${srv.proc.signalCode})`);
        } finally {
            srv.proc.stderr.resume();
            await srv.stop();
        }
    });
});
