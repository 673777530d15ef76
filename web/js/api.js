// The one place that talks to exptrackd: JSON over fetch, MLflow error bodies
// turned into ApiError (status, error_code, message) for the views to show.

import { sessionHeaders, checkSession } from './session.js';

export class ApiError extends Error {
    constructor(status, code, message) {
        super(message);
        this.status = status;
        this.code = code;
    }
}

function encodeQuery(query) {
    const sp = new URLSearchParams();
    for (const [k, v] of Object.entries(query || {})) {
        if (v === undefined || v === null) continue;
        if (Array.isArray(v)) for (const x of v) sp.append(k, String(x));
        else sp.append(k, String(v));
    }
    const s = sp.toString();
    return s ? `?${s}` : '';
}

/** Calls path (under base, /api/2.0 unless given) and returns the decoded JSON, or throws ApiError. */
export async function call(method, path, { query, body, signal, base = '/api/2.0' } = {}) {
    const init = { method, headers: { accept: 'application/json', ...sessionHeaders(method) }, signal };
    if (body !== undefined) {
        init.headers['content-type'] = 'application/json';
        init.body = JSON.stringify(body);
    }
    let res;
    try {
        res = await fetch(`${base}${path}${encodeQuery(query)}`, init);
    } catch (e) {
        if (e.name === 'AbortError') throw e;
        throw new ApiError(0, 'NETWORK_ERROR', `cannot reach the server: ${e.message}`);
    }
    checkSession(res);
    const text = await res.text();
    let json;
    try { json = text ? JSON.parse(text) : {}; } catch { json = undefined; }
    if (!res.ok) {
        const code = json?.error_code ?? `HTTP_${res.status}`;
        const message = json?.message ?? (text.slice(0, 300) || res.statusText);
        throw new ApiError(res.status, code, message);
    }
    if (json === undefined) throw new ApiError(res.status, 'BAD_RESPONSE', 'the server answered with something that is not JSON');
    return json;
}

export const mlflow = {
    get: (p, query, opts = {}) => call('GET', `/mlflow${p}`, { ...opts, query }),
    post: (p, body, opts = {}) => call('POST', `/mlflow${p}`, { ...opts, body }),
};

/** MLflow 3's V3 API (traces, assessments): /api/3.0/mlflow. */
export const mlflow3 = {
    get: (p, query, opts = {}) => call('GET', `/mlflow${p}`, { ...opts, query, base: '/api/3.0' }),
    post: (p, body, opts = {}) => call('POST', `/mlflow${p}`, { ...opts, body, base: '/api/3.0' }),
};

export const exptrack = {
    get: (p, query, opts = {}) => call('GET', `/exptrack${p}`, { ...opts, query }),
    post: (p, body, opts = {}) => call('POST', `/exptrack${p}`, { ...opts, body }),
};

/** True when the error says the endpoint does not exist (an older server). */
export function isMissingEndpoint(e) {
    return e instanceof ApiError && (e.code === 'ENDPOINT_NOT_FOUND' || e.status === 404 || e.status === 405);
}

/** A double from the wire: numbers, or the strings "NaN", "Infinity", "-Infinity". */
export function num(v) {
    if (typeof v === 'number') return v;
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    const n = Number(v);
    return Number.isNaN(n) ? NaN : n;
}
