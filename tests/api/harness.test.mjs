// Self-test of the harness's PostgreSQL handling, independent of exptrackd:
// a failure here is a harness/environment problem, not a server bug.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startPostgres } from './harness.mjs';

let pg;
after(async () => { if (pg) await pg.destroy(); });

test('startPostgres: fresh UTF8 cluster on a Unix socket with database exptrack', { timeout: 90000 }, async () => {
    pg = await startPostgres();
    assert.match(pg.url, /^postgresql:\/\/\/exptrack\?host=%2F[^&]+&user=postgres$/);
    assert.equal(decodeURIComponent(pg.url.match(/host=([^&]+)/)[1]), pg.socketDir);
    assert.ok(fs.existsSync(`${pg.socketDir}/.s.PGSQL.${pg.port}`), 'socket file exists');
    assert.equal(pg.psql('SELECT current_database()').trim(), 'exptrack');
    assert.equal(pg.psql("SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'exptrack'").trim(), 'UTF8');
    assert.equal(pg.psql('SHOW listen_addresses').trim(), '');

    // outage helpers: stop keeps the data, start brings it back on the same socket
    pg.psql('CREATE TABLE keep (x int); INSERT INTO keep VALUES (42)');
    await pg.stop();
    assert.throws(() => pg.psql('SELECT 1'));
    await pg.start();
    assert.equal(pg.psql('SELECT x FROM keep').trim(), '42');

    const dir = pg.dir;
    await pg.destroy();
    pg = null;
    assert.ok(!fs.existsSync(dir), 'temp dir removed');
});
