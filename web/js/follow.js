// Live updates for the run page and the compare view: the server's event
// stream through live.js's watch() when it is there, else (or when it cannot
// start) a poll every 2 s. Either way the page gets one callback with what
// changed per run, coalesced and throttled, never two at once.

const THROTTLE_MS = 400; // at most ~2.5 refresh rounds per second
const POLL_MS = 2000;
const ALL = ['metrics', 'params', 'tags', 'status'];

/**
 * Follows runIds while the page lives. onChange(Map<run_id, Set<kind>>) is
 * awaited; kinds are 'metrics' | 'params' | 'tags' | 'status' | 'deleted' |
 * 'restored' (a poll or a resync reports every kind for every run, so the
 * page compares what it has). Returns {mode: Promise<'stream'|'poll'>, stop()}.
 */
export function follow(runIds, ctx, onChange, { pollMs = POLL_MS } = {}) {
    const pending = new Map();
    let stopped = false, busy = false, timer = null, last = 0, pollTimer = null, unwatch = null;

    const flush = async () => {
        timer = null;
        if (stopped || !ctx.alive()) return;
        if (busy) { schedule(); return; }
        const batch = new Map(pending);
        pending.clear();
        if (!batch.size) return;
        busy = true;
        last = Date.now();
        try { await onChange(batch); } catch (e) { console.warn('live update failed', e); }
        busy = false;
        if (pending.size) schedule();
    };
    function schedule() {
        if (timer || stopped) return;
        timer = setTimeout(flush, Math.max(0, last + THROTTLE_MS - Date.now()));
    }
    const note = (runId, kinds) => {
        if (!runIds.includes(runId)) return;
        if (!pending.has(runId)) pending.set(runId, new Set());
        for (const k of kinds) pending.get(runId).add(k);
        schedule();
    };
    const everything = () => { for (const id of runIds) note(id, ALL); };

    const poll = () => {
        const tick = async () => {
            if (stopped || !ctx.alive()) return;
            everything();
            pollTimer = setTimeout(tick, pollMs);
        };
        pollTimer = setTimeout(tick, pollMs);
        return 'poll';
    };

    const mode = (async () => {
        let live;
        try {
            live = await import('./live.js');
        } catch {
            return poll(); // an older server: no stream module
        }
        if (stopped || !ctx.alive()) return 'stream';
        try {
            // openResync: what the runs logged between the page's read and the
            // stream's start is read once the stream is open.
            unwatch = live.watch({ runIds }, (ev) => {
                if (ev?.kind === 'resync') everything();
                else if (ev?.run_id) note(ev.run_id, [ev.kind]);
            }, { openResync: true });
        } catch (e) {
            console.warn('live stream unavailable, polling', e);
            return poll();
        }
        return 'stream';
    })();

    const stop = () => {
        stopped = true;
        clearTimeout(timer);
        clearTimeout(pollTimer);
        try { unwatch?.(); } catch { /* already closed */ }
    };
    ctx.onCleanup(stop);
    return { mode, stop };
}
