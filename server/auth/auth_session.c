/* Dashboard sessions: "<user id>.<expires>.<mac>" in an HttpOnly cookie,
 * signed with the shared session key and bound to the password hash, and a
 * CSRF token that state-changing calls must echo in a header. */
#include "auth.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth_internal.h"
#include "core/ids.h"
#include "core/reply_store.h"

#define SESSION_SECONDS (12 * 3600)
#define SESSION_COOKIE "exptrack_session"
#define CSRF_COOKIE "exptrack_csrf"
#define CSRF_HEADER "X-CSRF-Token"

/* Hex HMAC-SHA256 of text under the session key. */
static void session_mac(const char *text, char out[65])
{
    unsigned char mac[32];
    unsigned int len = sizeof mac;
    HMAC(EVP_sha256(), auth_cfg.session_key, sizeof auth_cfg.session_key,
         (const unsigned char *)text, strlen(text), mac, &len);
    ids_hex(mac, sizeof mac, out);
}

/* The MAC binds the password hash: changing the password ends every session. */
static void session_value(int64_t user_id, long long expires, const char *password_hash, char *out,
                          size_t max)
{
    char text[600], mac[65];
    snprintf(text, sizeof text, "session|%lld|%lld|%s", (long long)user_id, expires, password_hash);
    session_mac(text, mac);
    snprintf(out, max, "%lld.%lld.%s", (long long)user_id, expires, mac);
}

static void csrf_value(const char *session, char out[65])
{
    char text[300];
    snprintf(text, sizeof text, "csrf|%s", session);
    session_mac(text, out);
}

/* The value of cookie name in the Cookie header, copied into out ("" if none). */
static void cookie_value(const struct request *req, const char *name, char *out, size_t max)
{
    const char *h = request_header(req, "Cookie");
    size_t n = strlen(name);

    out[0] = '\0';
    for (const char *p = h; p != NULL && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        size_t len = strcspn(p, ";");
        if (len > n && strncmp(p, name, n) == 0 && p[n] == '=') {
            size_t vlen = len - n - 1;
            if (vlen < max) {
                memcpy(out, p + n + 1, vlen);
                out[vlen] = '\0';
            }
            return;
        }
        p += len;
    }
}

int auth_login(const char *username, const char *password, char *session_cookie, size_t max1,
               char *csrf_cookie, size_t max2)
{
    struct arena arena;
    struct user u;
    char value[200], csrf[65];

    arena_init(&arena);
    if (auth_fail_wait(username) > 0) {
        arena_cleanup(&arena);
        return DB_RETRY; /* throttled: see fail_wait */
    }
    int rc = store_user_get(username, &arena, &u);
    if (rc == DB_OK && !auth_password_matches(u.password_hash, password))
        rc = DB_NOT_FOUND;
    if (rc == DB_OK || rc == DB_NOT_FOUND)
        auth_fail_note(username, rc == DB_NOT_FOUND);
    if (rc == DB_OK) {
        long long expires = (long long)time(NULL) + SESSION_SECONDS;
        session_value(u.id, expires, u.password_hash, value, sizeof value);
        csrf_value(value, csrf);
        const char *secure = auth_cfg.tls ? "; Secure" : "";
        snprintf(session_cookie, max1,
                 SESSION_COOKIE "=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Strict%s", value,
                 SESSION_SECONDS, secure);
        snprintf(csrf_cookie, max2, CSRF_COOKIE "=%s; Path=/; Max-Age=%d; SameSite=Strict%s", csrf,
                 SESSION_SECONDS, secure);
    }
    arena_cleanup(&arena);
    return rc;
}

const char *const auth_logout_cookies[2] = {
    SESSION_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict",
    CSRF_COOKIE "=; Path=/; Max-Age=0; SameSite=Strict",
};

int auth_authenticate_cookie(struct request *req, const char *value, struct arena *arena,
                             struct reply *r)
{
    long long uid, expires;
    char want[200], csrf[65], *end;
    struct user u;

    errno = 0;
    uid = strtoll(value, &end, 10);
    if (errno != 0 || *end != '.')
        goto bad;
    expires = strtoll(end + 1, &end, 10);
    if (errno != 0 || *end != '.' || expires < (long long)time(NULL))
        goto bad;
    int rc = store_user_get_by_id(uid, arena, &u);
    if (rc == DB_NOT_FOUND)
        goto bad;
    if (rc != DB_OK) {
        reply_store_error(r, rc, "user not found");
        return -1;
    }
    session_value(u.id, expires, u.password_hash, want, sizeof want);
    if (strlen(want) != strlen(value) || CRYPTO_memcmp(want, value, strlen(want)) != 0)
        goto bad;
    if (!auth_is_safe_method(req->method)) {
        const char *sent = request_header(req, CSRF_HEADER);
        csrf_value(value, csrf);
        if (sent == NULL || strlen(sent) != 64 || CRYPTO_memcmp(sent, csrf, 64) != 0) {
            reply_error(r, ERR_PERMISSION_DENIED, "missing or wrong " CSRF_HEADER " header");
            return -1;
        }
    }
    auth_set_user(req, &u);
    return 0;
bad:
    auth_unauthenticated(req, r, "the session has expired or is not valid: sign in again");
    return -1;
}

void auth_session_cookie(const struct request *req, char *out, size_t max)
{
    cookie_value(req, SESSION_COOKIE, out, max);
}
