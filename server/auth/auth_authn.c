/* Who sent a request: HTTP Basic (user name and password, throttled after
 * failures) or a bearer token (stored as SHA-256); the dashboard's session
 * cookie is auth_session.c's. */
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth_internal.h"
#include "core/b64.h"
#include "core/reply_store.h"

void auth_unauthenticated(const struct request *req, struct reply *r, const char *why)
{
    reply_error(r, ERR_UNAUTHENTICATED, "%s", why);
    /* the dashboard signs in through its own page, not the browser's dialog */
    const char *xrw = request_header(req, "X-Requested-With");
    if (xrw == NULL || strcmp(xrw, "exptrack") != 0)
        reply_header(r, "WWW-Authenticate", "Basic realm=\"exptrack\"");
}

void auth_set_user(struct request *req, const struct user *u)
{
    req->user.id = u->id;
    req->user.is_admin = u->is_admin;
    snprintf(req->user.name, sizeof req->user.name, "%s", u->username);
}

int auth_authenticate_basic(struct request *req, const char *b64, struct arena *arena,
                            struct reply *r)
{
    char plain[1400];
    struct user u;

    size_t len;
    int n = -1;
    if (b64_decode(b64, strlen(b64), plain, sizeof plain - 1, &len) == 0) {
        plain[len] = '\0';
        n = (int)len;
    }
    char *colon = n > 0 ? memchr(plain, ':', (size_t)n) : NULL;
    if (colon == NULL || memchr(plain, '\0', (size_t)n) != NULL) {
        auth_unauthenticated(req, r, "malformed Basic credentials");
        goto fail;
    }
    *colon = '\0';
    int wait = auth_fail_wait(plain);
    if (wait > 0) {
        reply_error(r, ERR_REQUEST_LIMIT_EXCEEDED,
                    "too many failed sign-ins for this user: try again in %d s", wait);
        r->retry_after = wait;
        goto fail;
    }
    int rc = store_user_get(plain, arena, &u);
    if (rc == DB_NOT_FOUND) {
        /* spend the same time as a wrong password: no user enumeration */
        (void)auth_password_matches(
            "pbkdf2-sha256$210000$00000000000000000000000000000000$"
            "0000000000000000000000000000000000000000000000000000000000000000",
            colon + 1);
        auth_fail_note(plain, 1);
        auth_unauthenticated(req, r, "invalid username or password");
        goto fail;
    }
    if (rc != DB_OK) {
        reply_store_error(r, rc, "user not found");
        goto fail;
    }
    if (!auth_password_matches(u.password_hash, colon + 1)) {
        auth_fail_note(plain, 1);
        auth_unauthenticated(req, r, "invalid username or password");
        goto fail;
    }
    auth_fail_note(plain, 0);
    OPENSSL_cleanse(plain, sizeof plain);
    auth_set_user(req, &u);
    return 0;
fail:
    OPENSSL_cleanse(plain, sizeof plain);
    return -1;
}

int auth_authenticate_bearer(struct request *req, const char *token, struct arena *arena,
                             struct reply *r)
{
    unsigned char digest[32];
    int64_t user_id;
    struct user u;

    SHA256((const unsigned char *)token, strlen(token), digest);
    int rc = store_token_user(digest, &user_id);
    if (rc == DB_OK)
        rc = store_user_get_by_id(user_id, arena, &u);
    if (rc == DB_NOT_FOUND) {
        auth_unauthenticated(req, r, "invalid or revoked token");
        return -1;
    }
    if (rc != DB_OK) {
        reply_store_error(r, rc, "user not found");
        return -1;
    }
    auth_set_user(req, &u);
    return 0;
}
