// Small metric writes share commits through the group commit, whose common
// case is one prepared statement; a statement that no longer parses falls
// back, silently, to the slower transaction path, and shows only as failed
// statements in /metrics.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, client, assertOk, uniqueName } from './harness.mjs';

const stack = useStack({ before, after });

// The counter of failed statements with status `status` in /metrics.
async function dbErrors(base, status) {
    const r = await fetch(`${base}/metrics`);
    const text = await r.text();
    const m = text.match(new RegExp(`^exptrack_db_errors_total\\{status="${status}"\\} (\\d+)$`, 'm'));
    assert.ok(m, `exptrack_db_errors_total{status="${status}"} missing from /metrics`);
    return Number(m[1]);
}

describe('run setup', () => {
    let c;
    let exp;
    before(async () => {
        c = client(stack.base);
        exp = await c.createExperiment(uniqueName('setup'));
    });

    test('small metric writes take the group commit path without a failed statement', async () => {
        const ids = await Promise.all(Array.from({ length: 4 }, () => c.createRun(exp).then((r) => r.info.run_id)));
        const before = await dbErrors(stack.base, 'error');
        const ts = Date.now();
        await Promise.all(Array.from({ length: 40 }, (_, i) => c.post('/runs/log-metric', {
            run_id: ids[i % 4], key: 'acc', value: i, timestamp: ts, step: i,
        }).then((r) => assertOk(r, `log-metric ${i}`))));
        assert.equal(await dbErrors(stack.base, 'error'), before, 'no statement failed');
        for (const id of ids) {
            const h = assertOk(await c.get('/metrics/get-history', { run_id: id, metric_key: 'acc' })).metrics;
            assert.equal(h.length, 10);
        }
    });
});
