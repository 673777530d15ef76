/* Authentication, authorization and request screening: the one hook every
 * request passes before its handler (auth_request), password hashing and
 * bearer tokens, the first-start admin, and the read check that search
 * handlers use to filter results. Knows nothing of libmicrohttpd. */
#ifndef ET_SERVER_AUTH_H
#define ET_SERVER_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "core/reply.h"
#include "routes.h"
#include "store_auth.h"

#define AUTH_MIN_PASSWORD 12   /* characters, as MLflow's basic-auth app requires */
#define AUTH_MAX_JSON_DEPTH 64 /* nesting levels a request body may use */
#define AUTH_MAX_NAME 255      /* bytes of a user name or a token name */
#define AUTH_MAX_PASSWORD 1024 /* bytes: bounds the PBKDF2 input an attacker may send */
#define AUTH_FAIL_WINDOW 60    /* seconds a user's failed sign-ins count for (auth_password.c) */
#define AUTH_TOKEN_PREFIX "etk_"
#define AUTH_TOKEN_LEN (4 + 64) /* prefix + 32 random bytes in hex */

struct auth_options {
    int enabled;                  /* --auth */
    enum store_perm default_perm; /* --default-permission (READ) */
    const char *allowed_hosts;  /* --allowed-hosts: comma-separated names, "*" any; NULL: default */
    int loopback;               /* the server listens on a loopback address */
    int tls;                    /* HTTPS: cookies get the Secure attribute */
    const struct route *routes; /* the route table (routes_table): kept, not copied */
    size_t nroutes;
};

/* Sets up authentication before the HTTP server starts; copies what it
 * needs, except the route table, which must outlive the server. Returns -1
 * (logged) when a route of the table has no permission rule. */
int auth_configure(const struct auth_options *opts) __attribute__((warn_unused_result));

/* Creates the user "admin" when there is none: password from the first line
 * of password_file, else a generated one printed once on stderr. Returns -1
 * (logged) when the file cannot be read or its password is too short. */
int auth_bootstrap(const char *password_file) __attribute__((warn_unused_result));

/* The hook before every handler: Host allow-list, cross-site refusal, JSON
 * depth, then (with --auth) credentials and the route's permission rule.
 * Fills req->user. Returns 0 to run the handler, or -1 with the reply set
 * (400, 401 with WWW-Authenticate, 403, 503). */
int auth_request(struct request *req, const struct route *route, struct reply *r);

/* The hook after a handler, in two halves, because a deferred reply
 * (reply_defer) is final only after the request's input is gone.
 * auth_after_prepare copies what the audit needs of req (user, method,
 * path, the fields without secrets) and returns it, or NULL when the call
 * is not journaled (the route's journal field, routes.h). Once the reply
 * is final, auth_after_finish(p, r) grants the creator MANAGE on a new
 * experiment or registered model, writes the audit row, and frees p; it
 * accepts NULL. */
struct auth_pending;
struct auth_pending *auth_after_prepare(const struct request *req, const struct route *route);
void auth_after_finish(struct auth_pending *p, const struct reply *r);

/* Sets readable[i] to 1 when the request's user may read experiment ids[i]
 * (always with auth off, or for admins), else 0, for n experiments with one
 * query. For search handlers that filter their results. */
void auth_can_read_many(const struct request *req, const int64_t *ids, size_t n,
                        unsigned char *readable);

/* The same for registered models: readable[i] is 1 when the user may read
 * the model names[i]. */
void auth_can_read_models(const struct request *req, const char *const *names, size_t n,
                          unsigned char *readable);

/* 1 when authentication is on. */
int auth_enabled(void);

/* The route table given to auth_configure; *count gets its length (0 and
 * NULL before). For the admin's route listing. */
const struct route *auth_routes(size_t *count);

/* Checks the password rules; 0, or -1 with a 400 in r. */
int auth_password_ok(const char *password, struct reply *r);

/* Hashes a password with PBKDF2-HMAC-SHA256 and a fresh random salt into a
 * malloc'd "pbkdf2-sha256$iter$salt$hash" string (caller frees). */
char *auth_hash_password(const char *password);

/* Makes a new bearer token: text (AUTH_TOKEN_LEN + 1 bytes) to show once and
 * its SHA-256 to store. Returns 0, or -1 when the random source fails. */
int auth_new_token(char text[AUTH_TOKEN_LEN + 1], unsigned char digest[32])
    __attribute__((warn_unused_result));

/* Signs a user in for the dashboard: checks the password and fills the two
 * Set-Cookie values (an HttpOnly SameSite=Strict session cookie signed with
 * HMAC-SHA256, and the CSRF token cookie the dashboard echoes in
 * X-CSRF-Token). DB_OK, DB_NOT_FOUND (bad name or password), DB_RETRY (the
 * name is throttled after too many failures: answer 429) or a db error. */
int auth_login(const char *username, const char *password, char *session_cookie, size_t max1,
               char *csrf_cookie, size_t max2);

/* The two Set-Cookie values that end a dashboard session. */
extern const char *const auth_logout_cookies[2];

/* Permission names as on the wire, by enum store_perm. */
extern const char *const auth_perm_names[4];

/* Parses a permission name; 0, or -1 when unknown. */
int auth_perm_parse(const char *name, enum store_perm *out);

#endif
