// A hyperparameter sweep for the dashboard's tests and bench: runs with
// params lr, batch and dropout and metrics loss and acc (and more keys on
// request) over many steps, some of them still RUNNING. Created through the
// API with log-batch, a few runs at a time.

/** A deterministic loss curve of run i at step s of n. */
export function sweepLoss(i, s, n) {
    const rate = 0.5 + (i % 7) * 0.4;
    return 2.2 * Math.exp(-rate * 4 * s / n) + 0.05 + 0.03 * Math.sin(s / 7 + i) + (i % 3) * 0.04;
}

/** The params of sweep run i: lr, batch, dropout. */
export function sweepParams(i) {
    return {
        lr: String([0.1, 0.03, 0.01, 0.003][i % 4]),
        batch: String([32, 64, 128][Math.floor(i / 4) % 3]),
        dropout: String([0, 0.2][Math.floor(i / 12) % 2]),
    };
}

/**
 * Creates experiment `name` with `runs` runs of `steps` steps each; the
 * last `live` runs stay RUNNING. keys: the metric keys (loss and acc by
 * default; others are loss-like curves). Returns {expId, runIds}.
 */
export async function seedSweep(api, { name = 'sweep', runs = 24, steps = 1000, live = 3, keys = ['loss', 'acc'], concurrency = 4, t0 = Date.UTC(2024, 1, 1) } = {}) {
    const expId = await api.createExperiment(name);
    const runIds = new Array(runs);
    let next = 0;
    const one = async (i) => {
        const start = t0 + i * 60000;
        const run = await api.createRun(expId, { run_name: `sweep-${String(i).padStart(3, '0')}`, start_time: start });
        const id = run.info.run_id;
        runIds[i] = id;
        const p = sweepParams(i);
        await api.ok('POST', '/runs/log-batch', { run_id: id, params: Object.entries(p).map(([key, value]) => ({ key, value })) });
        let batch = [];
        const flush = async () => {
            if (batch.length) await api.ok('POST', '/runs/log-batch', { run_id: id, metrics: batch });
            batch = [];
        };
        for (let s = 0; s < steps; s++) {
            const loss = sweepLoss(i, s, steps);
            for (const [k, key] of keys.entries()) {
                const value = key === 'acc' ? 1 - loss / 2.5 : loss * (1 + k * 0.1);
                batch.push({ key, value, timestamp: start + s * 100, step: s });
                if (batch.length === 1000) await flush();
            }
        }
        await flush();
        if (i < runs - live) await api.ok('POST', '/runs/update', { run_id: id, status: 'FINISHED', end_time: start + steps * 100 });
    };
    await Promise.all(Array.from({ length: concurrency }, async () => {
        while (next < runs) await one(next++);
    }));
    return { expId, runIds };
}
