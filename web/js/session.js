// Dashboard sessions when exptrackd runs with --auth: the CSRF token that
// state-changing calls echo (from the exptrack_csrf cookie), and the way to
// the sign-in page when the session is missing or expired. Harmless without
// --auth: there is no cookie and no 401.

function cookie(name) {
    for (const part of document.cookie.split(';')) {
        const [k, ...v] = part.trim().split('=');
        if (k === name) return decodeURIComponent(v.join('='));
    }
    return '';
}

/** Headers every API call adds: the CSRF token, and the marker that asks the
 * server not to pop the browser's Basic-auth dialog on 401. */
export function sessionHeaders(method) {
    const h = { 'x-requested-with': 'exptrack' };
    if (method === 'GET' || method === 'HEAD') return h;
    // document.cookie is a synchronous call into the browser's network
    // process: read only by the calls that send the token (a page's first
    // burst of GETs spent over 100 ms here under load)
    const token = cookie('exptrack_csrf');
    if (token) h['x-csrf-token'] = token;
    return h;
}

/** Called with each response: a 401 sends the browser to the sign-in page. */
export function checkSession(res) {
    if (res.status === 401 && location.pathname !== '/signin') {
        location.assign(`/signin?next=${encodeURIComponent(location.hash || '')}`);
    }
}
