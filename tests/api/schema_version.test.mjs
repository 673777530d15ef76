// A database migrated by a newer exptrackd is refused by an older one: the
// older build's writes would leave out what the newer schema's readers
// expect. The refusal names the migration it does not know, and the server
// starts again once that migration is gone.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, startPostgres, client, uniqueName } from './harness.mjs';

let pg;
after(async () => {
    if (pg) await pg.destroy();
});

test('a schema newer than the build is refused at start, with the migration named', { timeout: 120000 }, async () => {
    pg = await startPostgres();
    const first = await startServer({ databaseUrl: pg.url });
    const exp = await client(first.url).createExperiment(uniqueName('schema'));
    await first.stop();

    pg.psql("INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_from_a_newer_build.sql')");
    await assert.rejects(startServer({ databaseUrl: pg.url, timeoutMs: 20000 }),
        (e) => /migration 9999 \(9999_from_a_newer_build\.sql\).*does not know/.test(String(e.message)),
        'an older build refuses the database and names the migration');

    pg.psql('DELETE FROM schema_migrations WHERE version = 9999');
    const again = await startServer({ databaseUrl: pg.url });
    assert.equal((await client(again.url).getExperiment(exp)).experiment_id, exp, 'the data is untouched and served');
    await again.stop();
});
