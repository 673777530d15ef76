/* What the files of auth/ share among themselves and nobody else: the
 * configuration auth_configure set, and the steps of a request's check that
 * live in one file and are called from another. */
#ifndef ET_SERVER_AUTH_INTERNAL_H
#define ET_SERVER_AUTH_INTERNAL_H

#include <jansson.h>
#include <stddef.h>

#include "auth.h"
#include "core/arena.h"
#include "store_auth.h"

#define MAX_HOSTS 32

/* Set once by auth_configure (auth_config.c) before the HTTP server starts; read
 * only afterwards. */
struct auth_config {
    int enabled;
    enum store_perm default_perm;
    int tls;
    char *hosts[MAX_HOSTS]; /* lower-case names without port; none: any host */
    int nhosts;
    unsigned char session_key[32]; /* signs dashboard cookies; shared through the database */
    const struct route *routes;    /* the route table, from auth_configure */
    size_t nroutes;
};
extern struct auth_config auth_cfg;

/* auth_password.c. Makes the secret that keys the verified-password cache;
 * call once from auth_configure. Returns 0, or -1 (logged). */
int auth_password_init(void);

/* 1 when password matches the stored "pbkdf2-sha256$iter$salt$hash"
 * (verified pairs are cached for a few minutes), else 0. */
int auth_password_matches(const char *stored, const char *password);

/* Seconds user name must wait before another sign-in attempt (too many
 * failures lately), 0 when it may try. */
int auth_fail_wait(const char *name);

/* Records the outcome of a sign-in attempt of name (failed: 1 or 0). */
void auth_fail_note(const char *name, int failed);

/* auth_screen.c. 1 for GET, HEAD and OPTIONS. */
int auth_is_safe_method(const char *method);

/* Refuses (-1, r set) a request for a Host name not allowed, or a
 * state-changing request a page of another origin made a browser send. */
int auth_screen_origin(const struct request *req, struct reply *r);

/* The nesting depth of v, counted up to limit + 1. */
int auth_json_depth(const json_t *v, int limit);

/* auth_session.c. The dashboard's session cookie of req, copied into out
 * ("" if none). */
void auth_session_cookie(const struct request *req, char *out, size_t max);

/* Checks a session cookie value (and, for a state-changing call, its CSRF
 * header). Returns 0 with req->user set, or -1 with r set. */
int auth_authenticate_cookie(struct request *req, const char *value, struct arena *arena,
                             struct reply *r);

/* auth_authn.c. Sets r to 401 UNAUTHENTICATED with why (and the Basic
 * challenge, except for the dashboard's own requests). */
void auth_unauthenticated(const struct request *req, struct reply *r, const char *why);

/* Fills req->user from u. */
void auth_set_user(struct request *req, const struct user *u);

/* HTTP Basic credentials ("user:password" in base64) and bearer tokens.
 * Each returns 0 with req->user set, or -1 with r set. */
int auth_authenticate_basic(struct request *req, const char *b64, struct arena *arena,
                            struct reply *r);
int auth_authenticate_bearer(struct request *req, const char *token, struct arena *arena,
                             struct reply *r);

/* auth_authz.c. Applies route's permission rule to req's user. Returns 0,
 * or -1 with r set. */
int auth_authorize(const struct request *req, const struct route *route, struct reply *r);

#endif
