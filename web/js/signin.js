// The sign-in page (/signin): posts the credentials to
// exptrack/session/login, which sets the HttpOnly session cookie, then goes
// back to the dashboard. No inline script: the page's CSP forbids it.

const form = document.getElementById('signin');
const error = document.getElementById('signin-error');

form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    const data = new FormData(form);
    let res;
    try {
        res = await fetch('/api/2.0/exptrack/session/login', {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-requested-with': 'exptrack' },
            body: JSON.stringify({ username: data.get('username'), password: data.get('password') }),
        });
    } catch (e) {
        error.textContent = `cannot reach the server: ${e.message}`;
        return;
    }
    if (!res.ok) {
        let msg = `sign-in failed (HTTP ${res.status})`;
        try { msg = (await res.json()).message || msg; } catch { /* not JSON */ }
        error.textContent = msg;
        return;
    }
    const next = new URLSearchParams(location.search).get('next') || '';
    location.assign(`/${next.startsWith('#') ? next : ''}`);
});
