// Live updates from exptrackd's server-sent-events stream
// (GET /api/2.0/exptrack/stream), for the run page and the compare view.
// The server sends {run_id, experiment_id, kind} per change of a watched run
// (kind: metrics, params, tags, status, created, deleted, restored), trace,
// logged-model and registry events to the pages that ask for them, and a resync when
// changes may have been missed; this module adds a resync of its
// own whenever the stream comes back after a break, and retries a refused
// stream with backoff (each retry also reports a resync, so a page keeps
// refreshing, slowly, while the stream is down).
import { STREAM_MAX_IDS } from './limits.js';

const PATH = '/api/2.0/exptrack/stream';
const RETRY_MIN_MS = 2000;
const RETRY_MAX_MS = 10000;

/** The stream's URL for up to STREAM_MAX_IDS run ids and as many experiment ids. */
export function streamUrl({ runIds = [], experimentIds = [] } = {}) {
    const sp = new URLSearchParams();
    for (const id of runIds) sp.append('run_id', String(id));
    for (const id of experimentIds) sp.append('experiment_id', String(id));
    return `${PATH}?${sp}`;
}

// Splits the ids into groups the server accepts (one stream each).
function groups(runIds, experimentIds) {
    const out = [];
    for (let i = 0; i < Math.max(runIds.length, experimentIds.length); i += STREAM_MAX_IDS) {
        out.push({ runIds: runIds.slice(i, i + STREAM_MAX_IDS), experimentIds: experimentIds.slice(i, i + STREAM_MAX_IDS) });
    }
    return out;
}

// One EventSource with reconnects; returns its stop(). openResync: also
// report a resync when the stream first opens (what was written between the
// page's read and the stream's start is not sent).
function connect(url, deliver, { openResync = false } = {}) {
    let es = null, timer = null, stopped = false, broken = openResync, delay = RETRY_MIN_MS;

    const open = () => {
        timer = null;
        if (stopped) return;
        es = new EventSource(url);
        es.onopen = () => {
            delay = RETRY_MIN_MS;
            if (broken) deliver({ kind: 'resync' }); // whatever happened meanwhile was missed
            broken = false;
        };
        es.addEventListener('run', (e) => {
            let data;
            try { data = JSON.parse(e.data); } catch { return; }
            if (data && typeof data.run_id === 'string') deliver(data);
        });
        es.addEventListener('resync', () => deliver({ kind: 'resync' }));
        es.addEventListener('registry', () => deliver({ kind: 'registry' }));
        const perExperiment = (e) => {
            let data;
            try { data = JSON.parse(e.data); } catch { return; }
            if (data && typeof data.experiment_id === 'string') deliver(data);
        };
        es.addEventListener('traces', perExperiment);
        es.addEventListener('models', perExperiment);
        es.onerror = () => {
            broken = true;
            // CONNECTING: the browser retries by itself (the server's retry: 2000).
            // CLOSED: refused (HTTP error, not an event stream): retry here, slower each time.
            if (stopped || es.readyState !== EventSource.CLOSED) return;
            es.close();
            es = null;
            timer = setTimeout(() => {
                if (!stopped) deliver({ kind: 'resync' });
                open();
            }, delay);
            delay = Math.min(delay * 2, RETRY_MAX_MS);
        };
    };
    open();
    return () => {
        stopped = true;
        clearTimeout(timer);
        if (es) es.close();
        es = null;
    };
}

/**
 * Watches runs and experiments (every run of them). onEvent(data) gets the
 * parsed {run_id, experiment_id, kind} of each change, or {kind: 'resync'}
 * when changes may have been missed (reload what is shown; with openResync,
 * also once each stream has opened). Returns stop().
 */
export function watch({ runIds = [], experimentIds = [] } = {}, onEvent, { openResync = false } = {}) {
    const runs = [...new Set(runIds.map(String))];
    const exps = [...new Set(experimentIds.map(String))];
    if (!runs.length && !exps.length) return () => {};
    let stopped = false;
    const deliver = (data) => {
        if (stopped) return;
        try { onEvent(data); } catch (e) { console.warn('live: onEvent failed', e); }
    };
    const stops = groups(runs, exps).map((g) => connect(streamUrl(g), deliver, { openResync }));
    return () => {
        stopped = true;
        for (const s of stops) s();
    };
}

/**
 * Watches the model registry (GET stream?registry=true): onEvent gets
 * {kind: 'registry'} after a committed registry change (which model is not
 * said: reload what is shown) or {kind: 'resync'} (with openResync, also
 * once the stream has opened). Returns stop().
 */
export function watchRegistry(onEvent, { openResync = false } = {}) {
    let stopped = false;
    const stop = connect(`${PATH}?registry=true`, (data) => {
        if (stopped) return;
        try { onEvent(data); } catch (e) { console.warn('live: onEvent failed', e); }
    }, { openResync });
    return () => { stopped = true; stop(); };
}

/**
 * Watches the traces of one experiment (GET stream?experiment_id=&traces=true):
 * onEvent gets {experiment_id, kind: 'traces'} after a committed trace write
 * (a trace started, ended or its spans sent; which one is not said: reload
 * what is shown), run events of the experiment's runs, or {kind: 'resync'}
 * (with openResync, also once the stream has opened). Returns stop().
 */
export function watchTraces(experimentId, onEvent, { openResync = false } = {}) {
    let stopped = false;
    const sp = new URLSearchParams({ experiment_id: String(experimentId), traces: 'true' });
    const stop = connect(`${PATH}?${sp}`, (data) => {
        if (stopped) return;
        try { onEvent(data); } catch (e) { console.warn('live: onEvent failed', e); }
    }, { openResync });
    return () => { stopped = true; stop(); };
}

/**
 * Watches the logged models of one experiment (GET
 * stream?experiment_id=&models=true): onEvent gets {experiment_id, kind:
 * 'models'} after a committed logged-model change (created, finalized, tags
 * set or deleted, deleted; which model is not said: reload what is shown),
 * run events of the experiment's runs (ignore them), or {kind: 'resync'}
 * (with openResync, also once the stream has opened). Returns stop().
 */
export function watchModels(experimentId, onEvent, { openResync = false } = {}) {
    let stopped = false;
    const sp = new URLSearchParams({ experiment_id: String(experimentId), models: 'true' });
    const stop = connect(`${PATH}?${sp}`, (data) => {
        if (stopped) return;
        try { onEvent(data); } catch (e) { console.warn('live: onEvent failed', e); }
    }, { openResync });
    return () => { stopped = true; stop(); };
}
