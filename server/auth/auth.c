/* The request hook: Host and Origin screening, JSON depth, credentials (HTTP
 * Basic with PBKDF2 password hashes, bearer tokens stored as SHA-256) and each
 * route's permission rule. Handlers never check permissions themselves,
 * except search results, filtered through auth_can_read_many. */
#include "auth.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/artifact_path.h"
#include "core/b64.h"
#include "core/hash.h"
#include "core/ids.h"
#include "core/input.h"
#include "core/log.h"
#include "core/reply_store.h"
#include "core/validate.h"
#include "core/xalloc.h"

#define PBKDF2_ITERATIONS 210000 /* OWASP's 2023 figure for PBKDF2-HMAC-SHA256 is 600k; */
                                 /* verified logins are cached, so this is paid rarely */
#define SALT_BYTES 16
/* PBKDF2 iteration counts accepted in a stored hash: the bounds keep one
 * sign-in's work finite whatever the users table says. */
#define PBKDF2_MIN_ITERATIONS 1000
#define PBKDF2_MAX_ITERATIONS 10000000
/* Bytes of a request's fields kept in an audit log row. */
#define AUDIT_MAX_TARGET 2000
#define CACHE_SLOTS 512
#define CACHE_TTL_SECONDS 300
#define MAX_HOSTS 32
#define SESSION_SECONDS (12 * 3600)
#define SESSION_COOKIE "exptrack_session"
#define CSRF_COOKIE "exptrack_csrf"
#define CSRF_HEADER "X-CSRF-Token"

const char *const auth_perm_names[4] = {"NO_PERMISSIONS", "READ", "EDIT", "MANAGE"};

static struct {
    int enabled;
    enum store_perm default_perm;
    int tls;
    char *hosts[MAX_HOSTS]; /* lower-case names without port; none: any host */
    int nhosts;
    unsigned char session_key[32]; /* signs dashboard cookies; shared through the database */
    const struct route *routes;    /* the route table, from auth_configure */
    size_t nroutes;
} cfg;

/* Verified (stored hash, password) pairs, so Basic auth on every request of
 * a training loop does not pay PBKDF2 each time. Keyed by a keyed digest:
 * a changed password (new salt) never hits an old entry. */
static struct {
    pthread_mutex_t lock;
    unsigned char pepper[32];
    unsigned char key[CACHE_SLOTS][32];
    time_t expires[CACHE_SLOTS];
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

int auth_enabled(void)
{
    return cfg.enabled;
}

const struct route *auth_routes(size_t *count)
{
    *count = cfg.nroutes;
    return cfg.routes;
}

int auth_perm_parse(const char *name, enum store_perm *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, auth_perm_names[i]) == 0) {
            *out = (enum store_perm)i;
            return 0;
        }
    }
    return -1;
}

static void add_host(const char *name, size_t len)
{
    if (cfg.nhosts >= MAX_HOSTS || len == 0)
        return;
    char *h = xmalloc(len + 1);
    for (size_t i = 0; i < len; i++)
        h[i] = (char)tolower((unsigned char)name[i]);
    h[len] = '\0';
    cfg.hosts[cfg.nhosts++] = h;
}

int auth_configure(const struct auth_options *opts)
{
    size_t n = opts->nroutes;
    const struct route *table = opts->routes;
    int bad = 0;

    for (size_t i = 0; i < n; i++) {
        if (table[i].perm == PERM_UNSET) {
            log_error("route %s %s has no permission rule (server/routes.c)", table[i].method,
                      table[i].path);
            bad = 1;
        }
    }
    if (bad)
        return -1;
    cfg.routes = table;
    cfg.nroutes = n;
    cfg.enabled = opts->enabled;
    cfg.default_perm = opts->default_perm;
    cfg.tls = opts->tls;
    if (RAND_bytes(cache.pepper, sizeof cache.pepper) != 1) {
        log_error("auth: the random source failed");
        return -1;
    }
    const char *list = opts->allowed_hosts;
    if (list == NULL && opts->loopback)
        list = "localhost,127.0.0.1,[::1],::1";
    if (list == NULL || strcmp(list, "*") == 0)
        return 0;
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        while (len > 0 && *p == ' ')
            p++, len--;
        add_host(p, len);
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* ---- passwords and tokens ---- */

static int from_hex(const char *s, size_t len, unsigned char *out, size_t max)
{
    if (len % 2 != 0 || len / 2 > max)
        return -1;
    for (size_t i = 0; i < len / 2; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = s[2 * i + (size_t)k];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (d < 0)
                return -1;
            v = v * 16 + (unsigned)d;
        }
        out[i] = (unsigned char)v;
    }
    return (int)(len / 2);
}

int auth_password_ok(const char *password, struct reply *r)
{
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)password; *p; p++)
        chars += (*p & 0xC0) != 0x80; /* count UTF-8 characters, not bytes */
    if (chars < AUTH_MIN_PASSWORD) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "password must be at least %d characters long",
                    AUTH_MIN_PASSWORD);
        return -1;
    }
    if (strlen(password) > AUTH_MAX_PASSWORD) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "password must be at most %d bytes long",
                    AUTH_MAX_PASSWORD);
        return -1;
    }
    return 0;
}

static int derive(const char *password, const unsigned char *salt, size_t salt_len, long iter,
                  unsigned char out[32])
{
    return PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)salt_len, (int)iter,
                             EVP_sha256(), 32, out) == 1
               ? 0
               : -1;
}

char *auth_hash_password(const char *password)
{
    unsigned char salt[SALT_BYTES], hash[32];
    char salt_hex[2 * SALT_BYTES + 1], hash_hex[65];

    if (RAND_bytes(salt, sizeof salt) != 1 ||
        derive(password, salt, sizeof salt, PBKDF2_ITERATIONS, hash) < 0)
        return NULL;
    ids_hex(salt, sizeof salt, salt_hex);
    ids_hex(hash, sizeof hash, hash_hex);
    size_t len = 16 + 12 + sizeof salt_hex + sizeof hash_hex;
    char *out = xmalloc(len);
    snprintf(out, len, "pbkdf2-sha256$%d$%s$%s", PBKDF2_ITERATIONS, salt_hex, hash_hex);
    OPENSSL_cleanse(hash, sizeof hash);
    return out;
}

static void cache_key(const char *stored, const char *password, unsigned char out[32])
{
    unsigned int len = 32;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md == NULL)
        abort();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    EVP_DigestUpdate(md, cache.pepper, sizeof cache.pepper);
    EVP_DigestUpdate(md, stored, strlen(stored) + 1);
    EVP_DigestUpdate(md, password, strlen(password));
    EVP_DigestFinal_ex(md, out, &len);
    EVP_MD_CTX_free(md);
}

static int cache_hit(const unsigned char key[32])
{
    size_t slot = ((size_t)key[0] << 8 | key[1]) % CACHE_SLOTS;
    pthread_mutex_lock(&cache.lock);
    int hit = cache.expires[slot] > time(NULL) && CRYPTO_memcmp(cache.key[slot], key, 32) == 0;
    pthread_mutex_unlock(&cache.lock);
    return hit;
}

static void cache_put(const unsigned char key[32])
{
    size_t slot = ((size_t)key[0] << 8 | key[1]) % CACHE_SLOTS;
    pthread_mutex_lock(&cache.lock);
    memcpy(cache.key[slot], key, 32);
    cache.expires[slot] = time(NULL) + CACHE_TTL_SECONDS;
    pthread_mutex_unlock(&cache.lock);
}

/* Failed sign-ins per user name: past FAIL_LIMIT in FAIL_WINDOW seconds the
 * name is refused (429) without spending PBKDF2, which bounds both password
 * guessing and the CPU an attacker can make the server burn. */
#define FAIL_SLOTS 256
#define FAIL_LIMIT 10
#define FAIL_WINDOW AUTH_FAIL_WINDOW

static struct {
    pthread_mutex_t lock;
    uint32_t key[FAIL_SLOTS];
    int count[FAIL_SLOTS];
    time_t start[FAIL_SLOTS];
} fails = {.lock = PTHREAD_MUTEX_INITIALIZER};

static uint32_t name_key(const char *name)
{
    return (uint32_t)hash_fnv1a_str(name) | 1; /* 0 marks a free slot */
}

/* Seconds the name must wait, 0 when it may try. */
static int fail_wait(const char *name)
{
    uint32_t k = name_key(name);
    size_t slot = k % FAIL_SLOTS;
    time_t now = time(NULL);
    int wait = 0;
    pthread_mutex_lock(&fails.lock);
    if (fails.key[slot] == k && now - fails.start[slot] < FAIL_WINDOW &&
        fails.count[slot] >= FAIL_LIMIT)
        wait = (int)(FAIL_WINDOW - (now - fails.start[slot]));
    pthread_mutex_unlock(&fails.lock);
    return wait;
}

static void fail_note(const char *name, int failed)
{
    uint32_t k = name_key(name);
    size_t slot = k % FAIL_SLOTS;
    time_t now = time(NULL);
    pthread_mutex_lock(&fails.lock);
    if (!failed) {
        if (fails.key[slot] == k)
            fails.key[slot] = 0;
    } else if (fails.key[slot] != k || now - fails.start[slot] >= FAIL_WINDOW) {
        fails.key[slot] = k;
        fails.start[slot] = now;
        fails.count[slot] = 1;
    } else {
        fails.count[slot]++;
    }
    pthread_mutex_unlock(&fails.lock);
}

/* 1 when password matches the stored "pbkdf2-sha256$iter$salt$hash". */
static int password_matches(const char *stored, const char *password)
{
    unsigned char salt[64], want[32], got[32], key[32];
    char *end;

    cache_key(stored, password, key);
    if (cache_hit(key))
        return 1;
    if (strncmp(stored, "pbkdf2-sha256$", 14) != 0)
        return 0;
    errno = 0;
    long iter = strtol(stored + 14, &end, 10);
    if (errno != 0 || *end != '$' || iter < PBKDF2_MIN_ITERATIONS || iter > PBKDF2_MAX_ITERATIONS)
        return 0;
    const char *salt_hex = end + 1, *hash_hex = strchr(salt_hex, '$');
    if (hash_hex == NULL)
        return 0;
    int salt_len = from_hex(salt_hex, (size_t)(hash_hex - salt_hex), salt, sizeof salt);
    hash_hex++;
    if (salt_len <= 0 || from_hex(hash_hex, strlen(hash_hex), want, sizeof want) != 32 ||
        derive(password, salt, (size_t)salt_len, iter, got) < 0)
        return 0;
    int ok = CRYPTO_memcmp(want, got, 32) == 0;
    if (ok)
        cache_put(key);
    return ok;
}

int auth_new_token(char text[AUTH_TOKEN_LEN + 1], unsigned char digest[32])
{
    unsigned char raw[32];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return -1;
    memcpy(text, AUTH_TOKEN_PREFIX, 4);
    ids_hex(raw, sizeof raw, text + 4);
    SHA256((const unsigned char *)text, AUTH_TOKEN_LEN, digest);
    OPENSSL_cleanse(raw, sizeof raw);
    return 0;
}

/* ---- the first admin ---- */

static char *read_password_file(const char *path)
{
    char line[1100];
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        log_error("cannot read --admin-password-file %s: %s", path, strerror(errno));
        return NULL;
    }
    char *got = fgets(line, sizeof line, f);
    fclose(f);
    if (got == NULL)
        line[0] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    char *out = xstrdup(line);
    OPENSSL_cleanse(line, sizeof line);
    return out;
}

int auth_bootstrap(const char *password_file)
{
    struct arena arena;
    struct user u;
    struct reply r;
    char *password = NULL, *hash = NULL;
    int rc = -1, generated = 0;

    arena_init(&arena);
    reply_init(&r);
    unsigned char candidate[32];
    if (RAND_bytes(candidate, sizeof candidate) != 1 ||
        store_auth_secret("session", candidate, cfg.session_key) != DB_OK) {
        log_error("auth: cannot set up the session key");
        goto out;
    }
    OPENSSL_cleanse(candidate, sizeof candidate);
    int st = store_user_get("admin", &arena, &u);
    if (st == DB_OK) {
        rc = 0;
        goto out;
    }
    if (st != DB_NOT_FOUND)
        goto out;
    if (password_file != NULL) {
        password = read_password_file(password_file);
        if (password == NULL)
            goto out;
        if (auth_password_ok(password, &r) < 0) {
            log_error("--admin-password-file: the password must be at least %d characters",
                      AUTH_MIN_PASSWORD);
            goto out;
        }
    } else {
        unsigned char raw[18];
        if (RAND_bytes(raw, sizeof raw) != 1)
            goto out;
        password = xmalloc(2 * sizeof raw + 1);
        ids_hex(raw, sizeof raw, password);
        generated = 1;
    }
    hash = auth_hash_password(password);
    if (hash == NULL)
        goto out;
    st = store_user_create("admin", hash, 1, NULL);
    if (st == DB_EXISTS) { /* another exptrackd made it first */
        rc = 0;
        goto out;
    }
    if (st != DB_OK)
        goto out;
    if (generated) {
        fprintf(stderr,
                "\n*** exptrackd created the user 'admin' with the password %s\n"
                "*** it is shown only this once: change it with users/update-password\n\n",
                password);
        fflush(stderr);
    }
    log_info("created the user 'admin'");
    rc = 0;
out:
    if (password != NULL) {
        OPENSSL_cleanse(password, strlen(password));
        free(password);
    }
    free(hash);
    reply_cleanup(&r);
    arena_cleanup(&arena);
    return rc;
}

/* ---- screening: Host, Origin, JSON depth ---- */

/* The host part of "name:port", "[v6]:port" or "name", lower-cased into out. */
static void host_name(const char *hostport, size_t len, char *out, size_t max)
{
    size_t n = len;
    if (len > 0 && hostport[0] == '[') {
        const char *close = memchr(hostport, ']', len);
        n = close ? (size_t)(close - hostport) + 1 : len;
    } else {
        const char *colon = memchr(hostport, ':', len);
        if (colon != NULL && memchr(colon + 1, ':', len - (size_t)(colon - hostport) - 1) == NULL)
            n = (size_t)(colon - hostport);
    }
    if (n >= max)
        n = max - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)hostport[i]);
    out[n] = '\0';
}

static int host_allowed(const char *hostport, size_t len)
{
    char name[256];
    if (cfg.nhosts == 0)
        return 1;
    host_name(hostport, len, name, sizeof name);
    for (int i = 0; i < cfg.nhosts; i++)
        if (strcmp(cfg.hosts[i], name) == 0)
            return 1;
    return 0;
}

static int is_safe_method(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
           strcmp(method, "OPTIONS") == 0;
}

/* Refuses requests for foreign Host names (DNS rebinding) and state-changing
 * requests a page of another origin makes a browser send. */
static int screen_origin(const struct request *req, struct reply *r)
{
    const char *host = request_header(req, "Host");
    if (host != NULL && !host_allowed(host, strlen(host))) {
        reply_error(r, ERR_PERMISSION_DENIED, "host '%.100s' is not allowed (see --allowed-hosts)",
                    host);
        return -1;
    }
    if (is_safe_method(req->method))
        return 0;
    const char *site = request_header(req, "Sec-Fetch-Site");
    if (site != NULL && strcasecmp(site, "cross-site") == 0) {
        reply_error(r, ERR_PERMISSION_DENIED, "cross-site requests may not change anything");
        return -1;
    }
    const char *origin = request_header(req, "Origin");
    if (origin == NULL)
        return 0;
    const char *authority = strstr(origin, "://");
    authority = authority ? authority + 3 : origin;
    size_t alen = strcspn(authority, "/");
    int same = host != NULL && strlen(host) == alen && strncasecmp(host, authority, alen) == 0;
    if (!same &&
        (strcmp(origin, "null") == 0 || cfg.nhosts == 0 || !host_allowed(authority, alen))) {
        reply_error(r, ERR_PERMISSION_DENIED, "cross-origin request from '%.100s' refused", origin);
        return -1;
    }
    return 0;
}

static int json_depth(const json_t *v, int limit)
{
    int deepest = 0;
    if (limit < 0)
        return 1;
    if (json_is_object(v)) {
        const char *k;
        const json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            int d = json_depth(x, limit - 1);
            if (d > deepest)
                deepest = d;
            if (deepest > limit)
                break;
        }
        return deepest + 1;
    }
    if (json_is_array(v)) {
        size_t i;
        const json_t *x;
        json_array_foreach(v, i, x)
        {
            int d = json_depth(x, limit - 1);
            if (d > deepest)
                deepest = d;
            if (deepest > limit)
                break;
        }
        return deepest + 1;
    }
    return 0;
}

/* ---- authentication ---- */

static void unauthenticated(const struct request *req, struct reply *r, const char *why)
{
    reply_error(r, ERR_UNAUTHENTICATED, "%s", why);
    /* the dashboard signs in through its own page, not the browser's dialog */
    const char *xrw = request_header(req, "X-Requested-With");
    if (xrw == NULL || strcmp(xrw, "exptrack") != 0)
        reply_header(r, "WWW-Authenticate", "Basic realm=\"exptrack\"");
}

static void set_user(struct request *req, const struct user *u);

/* ---- dashboard sessions: "<user id>.<expires>.<mac>" in an HttpOnly cookie ---- */

/* Hex HMAC-SHA256 of text under the session key. */
static void session_mac(const char *text, char out[65])
{
    unsigned char mac[32];
    unsigned int len = sizeof mac;
    HMAC(EVP_sha256(), cfg.session_key, sizeof cfg.session_key, (const unsigned char *)text,
         strlen(text), mac, &len);
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
    if (fail_wait(username) > 0) {
        arena_cleanup(&arena);
        return DB_RETRY; /* throttled: see fail_wait */
    }
    int rc = store_user_get(username, &arena, &u);
    if (rc == DB_OK && !password_matches(u.password_hash, password))
        rc = DB_NOT_FOUND;
    if (rc == DB_OK || rc == DB_NOT_FOUND)
        fail_note(username, rc == DB_NOT_FOUND);
    if (rc == DB_OK) {
        long long expires = (long long)time(NULL) + SESSION_SECONDS;
        session_value(u.id, expires, u.password_hash, value, sizeof value);
        csrf_value(value, csrf);
        const char *secure = cfg.tls ? "; Secure" : "";
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

/* Cookie sessions; state-changing calls must echo the CSRF token. */
static int authenticate_cookie(struct request *req, const char *value, struct arena *arena,
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
    if (!is_safe_method(req->method)) {
        const char *sent = request_header(req, CSRF_HEADER);
        csrf_value(value, csrf);
        if (sent == NULL || strlen(sent) != 64 || CRYPTO_memcmp(sent, csrf, 64) != 0) {
            reply_error(r, ERR_PERMISSION_DENIED, "missing or wrong " CSRF_HEADER " header");
            return -1;
        }
    }
    set_user(req, &u);
    return 0;
bad:
    unauthenticated(req, r, "the session has expired or is not valid: sign in again");
    return -1;
}

static void set_user(struct request *req, const struct user *u)
{
    req->user.id = u->id;
    req->user.is_admin = u->is_admin;
    snprintf(req->user.name, sizeof req->user.name, "%s", u->username);
}

/* Basic: "user:password". Returns 0 with req->user set, or -1 with r set. */
static int authenticate_basic(struct request *req, const char *b64, struct arena *arena,
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
        unauthenticated(req, r, "malformed Basic credentials");
        goto fail;
    }
    *colon = '\0';
    int wait = fail_wait(plain);
    if (wait > 0) {
        reply_error(r, ERR_REQUEST_LIMIT_EXCEEDED,
                    "too many failed sign-ins for this user: try again in %d s", wait);
        r->retry_after = wait;
        goto fail;
    }
    int rc = store_user_get(plain, arena, &u);
    if (rc == DB_NOT_FOUND) {
        /* spend the same time as a wrong password: no user enumeration */
        (void)password_matches("pbkdf2-sha256$210000$00000000000000000000000000000000$"
                               "0000000000000000000000000000000000000000000000000000000000000000",
                               colon + 1);
        fail_note(plain, 1);
        unauthenticated(req, r, "invalid username or password");
        goto fail;
    }
    if (rc != DB_OK) {
        reply_store_error(r, rc, "user not found");
        goto fail;
    }
    if (!password_matches(u.password_hash, colon + 1)) {
        fail_note(plain, 1);
        unauthenticated(req, r, "invalid username or password");
        goto fail;
    }
    fail_note(plain, 0);
    OPENSSL_cleanse(plain, sizeof plain);
    set_user(req, &u);
    return 0;
fail:
    OPENSSL_cleanse(plain, sizeof plain);
    return -1;
}

static int authenticate_bearer(struct request *req, const char *token, struct arena *arena,
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
        unauthenticated(req, r, "invalid or revoked token");
        return -1;
    }
    if (rc != DB_OK) {
        reply_store_error(r, rc, "user not found");
        return -1;
    }
    set_user(req, &u);
    return 0;
}

static int authenticate(struct request *req, struct arena *arena, struct reply *r)
{
    const char *h = request_header(req, "Authorization");
    if (h == NULL) {
        char session[200];
        cookie_value(req, SESSION_COOKIE, session, sizeof session);
        if (session[0] != '\0')
            return authenticate_cookie(req, session, arena, r);
        unauthenticated(req, r,
                        "authentication required: send HTTP Basic credentials or a bearer token");
        return -1;
    }
    if (strncasecmp(h, "Basic ", 6) == 0)
        return authenticate_basic(req, h + 6, arena, r);
    if (strncasecmp(h, "Bearer ", 7) == 0)
        return authenticate_bearer(req, h + 7, arena, r);
    unauthenticated(req, r, "unsupported Authorization scheme: use Basic or Bearer");
    return -1;
}

/* ---- authorization ---- */

static int effective_perm(const struct request *req, int64_t experiment_id, enum store_perm *out)
{
    int rc = store_perm_get(experiment_id, req->user.id, out);
    if (rc == DB_NOT_FOUND) {
        *out = cfg.default_perm;
        return DB_OK;
    }
    return rc;
}

void auth_can_read_many(const struct request *req, const int64_t *ids, size_t n,
                        unsigned char *readable)
{
    struct arena arena;
    struct experiment_perm *perms = NULL;
    size_t nperms = 0;

    memset(readable, 1, n);
    if (!cfg.enabled || req->user.is_admin)
        return;
    arena_init(&arena);
    if (store_perm_list(req->user.id, &arena, &perms, &nperms) != DB_OK) {
        memset(readable, 0, n); /* cannot tell: show nothing */
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        enum store_perm p = cfg.default_perm;
        for (size_t k = 0; k < nperms; k++)
            if (perms[k].experiment_id == ids[i])
                p = perms[k].perm;
        readable[i] = p >= STORE_PERM_READ;
    }
out:
    arena_cleanup(&arena);
}

/* The ids a target names, up to max; unparseable ones are skipped (the
 * handler then refuses them). Returns the count. */
static size_t target_experiments(const struct request *req, const struct route *route, int64_t *ids,
                                 size_t max, int *lookup_failed)
{
    struct input in = input_from(req);
    struct reply scratch;
    size_t n = 0;

    reply_init(&scratch);
    switch (route->target) {
    case TARGET_EXPERIMENT_ID:
        /* absent or blank means the Default experiment (runs/create) */
        if (input_experiment_id(&in, "experiment_id", &ids[0], &scratch) != JX_OK)
            ids[0] = 0;
        n = 1;
        break;
    case TARGET_EXPERIMENT_NAME: {
        const char *name;
        if (jx_string(&in, "experiment_name", &name, &scratch) == JX_OK &&
            store_auth_experiment_by_name(name, &ids[0]) == DB_OK)
            n = 1;
        break;
    }
    case TARGET_RUN_ID: {
        const char *run_id;
        if (input_run_id(&in, &run_id, &scratch) != JX_OK)
            break;
        /* an id the store could read some other way (upper case, dashes)
         * but that we cannot check is refused rather than passed on */
        if (!validate_is_run_id(run_id))
            *lookup_failed = 1;
        else if (store_auth_run_experiment(run_id, &ids[0]) == DB_OK)
            n = 1;
        break;
    }
    case TARGET_EXPERIMENT_IDS:
    case TARGET_RUN_IDS: {
        int runs = route->target == TARGET_RUN_IDS;
        const char *fields[2] = {runs ? "run_id" : "experiment_id",
                                 runs ? "run_ids" : "experiment_ids"};
        for (int f = 0; f < 2; f++) {
            const json_t *arr;
            if (jx_array(&in, fields[f], &arr, &scratch) != JX_OK)
                continue;
            for (size_t i = 0; i < json_array_size(arr) && n < max; i++) {
                const char *s;
                char idbuf[32];
                int64_t id;
                if (jx_array_id(arr, i, fields[f], idbuf, &s, &scratch) != JX_OK)
                    continue;
                if (runs ? validate_is_run_id(s) && store_auth_run_experiment(s, &id) == DB_OK
                         : s[0] >= '0' && s[0] <= '9' && jx_parse_int64_text(s, &id) == 0)
                    ids[n++] = id;
            }
            if (json_array_size(arr) > max)
                *lookup_failed = 1; /* more than we can check: refuse */
        }
        break;
    }
    case TARGET_ARTIFACT_PATH:
    case TARGET_ARTIFACT_QUERY: {
        const char *path = NULL;
        if (route->target == TARGET_ARTIFACT_QUERY) {
            if (jx_string(&in, "path", &path, &scratch) != JX_OK)
                path = NULL;
        } else {
            path = input_path_after(req, route->path);
            /* multipart upload: "<action>/<path>" */
            if (path != NULL && strchr(path, '/') != NULL && !(path[0] >= '0' && path[0] <= '9'))
                path = strchr(path, '/') + 1;
        }
        struct artifact_proxy_path pp;
        size_t len;
        if (path == NULL ||
            artifact_path_check(path, ARTIFACT_PATH_EMPTY_OK | ARTIFACT_PATH_TRAILING_SLASH,
                                &len) != NULL ||
            artifact_path_split(path, len, &pp) < 0 || pp.depth < 1)
            break;
        ids[n++] = pp.experiment_id;
        if (pp.depth >= 2 && store_auth_run_experiment(pp.run_id, &ids[n]) == DB_OK &&
            ids[n] != ids[0])
            n++;
        break;
    }
    default:
        break;
    }
    reply_cleanup(&scratch);
    return n;
}

static int authorize(const struct request *req, const struct route *route, struct reply *r)
{
    int64_t ids[128];
    int failed = 0;

    if (req->user.is_admin)
        return 0;
    switch (route->perm) {
    case PERM_PUBLIC:
    case PERM_USER:
        return 0;
    case PERM_ADMIN:
        reply_error(r, ERR_PERMISSION_DENIED, "permission denied: admins only");
        return -1;
    case PERM_SELF: {
        struct input in = input_from(req);
        struct reply scratch;
        const char *name = NULL;
        reply_init(&scratch);
        int rc = jx_string(&in, "username", &name, &scratch);
        int ok = rc != JX_OK || name == NULL || strcmp(name, req->user.name) == 0;
        reply_cleanup(&scratch);
        if (ok)
            return 0;
        reply_error(r, ERR_PERMISSION_DENIED, "permission denied: only for yourself or admins");
        return -1;
    }
    case PERM_READ:
    case PERM_EDIT:
    case PERM_MANAGE:
        break;
    default:
        reply_error(r, ERR_PERMISSION_DENIED, "permission denied: the route has no rule");
        return -1;
    }
    enum store_perm need = route->perm == PERM_READ   ? STORE_PERM_READ
                           : route->perm == PERM_EDIT ? STORE_PERM_EDIT
                                                      : STORE_PERM_MANAGE;
    size_t n = target_experiments(req, route, ids, sizeof ids / sizeof ids[0], &failed);
    if (failed) {
        reply_error(r, ERR_PERMISSION_DENIED,
                    "permission denied: the request names runs or experiments that cannot be "
                    "checked (malformed ids, or too many)");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        enum store_perm have;
        int rc = effective_perm(req, ids[i], &have);
        if (rc != DB_OK) {
            reply_store_experiment_not_found(r, rc, ids[i]);
            return -1;
        }
        if (have < need) {
            reply_error(r, ERR_PERMISSION_DENIED,
                        "permission denied: %s needs %s on experiment %lld", route->path,
                        auth_perm_names[need], (long long)ids[i]);
            return -1;
        }
    }
    return 0;
}

int auth_request(struct request *req, const struct route *route, struct reply *r)
{
    struct arena arena;
    int rc = -1;

    memset(&req->user, 0, sizeof req->user);
    if (screen_origin(req, r) < 0)
        return -1;
    if (json_depth(req->input, AUTH_MAX_JSON_DEPTH) > AUTH_MAX_JSON_DEPTH) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "request JSON nests deeper than %d levels",
                    AUTH_MAX_JSON_DEPTH);
        return -1;
    }
    if (!cfg.enabled || route->perm == PERM_PUBLIC)
        return 0;
    arena_init(&arena);
    if (authenticate(req, &arena, r) == 0 && authorize(req, route, r) == 0)
        rc = 0;
    else if (r->status == 401 && route->mount == MOUNT_ROOT && strcmp(route->path, "/") == 0) {
        /* a browser opening the dashboard goes to the sign-in page */
        reply_cleanup(r);
        reply_init(r);
        reply_see_other(r, "/signin", "sign in at /signin\n");
    }
    arena_cleanup(&arena);
    return rc;
}

void auth_after(const struct request *req, const struct route *route, const struct reply *r)
{
    /* reads (searches are POSTs too) and the high-volume logging calls are not audited */
    if (!cfg.enabled || is_safe_method(req->method) || strstr(route->path, "/log-") != NULL ||
        strstr(route->path, "/search") != NULL)
        return;
    if (route->target == TARGET_NEW_EXPERIMENT && r->status == 200 && req->user.id != 0 &&
        r->body != NULL) {
        json_t *body = json_loadb(r->body, r->body_len, 0, NULL);
        const char *id = json_string_value(json_object_get(body, "experiment_id"));
        int64_t eid;
        if (id != NULL && jx_parse_int64_text(id, &eid) == 0 &&
            store_perm_grant(eid, req->user.id, STORE_PERM_MANAGE) != DB_OK)
            log_warn("auth: could not grant MANAGE on experiment %s to %s", id, req->user.name);
        json_decref(body);
    }
    char action[300];
    snprintf(action, sizeof action, "%s %s", req->method, req->path);
    const char *target = "";
    json_t *compact = NULL;
    char *text = NULL;
    if (req->input != NULL && !req->from_query) {
        /* the request's fields, without secrets */
        compact = json_deep_copy(req->input);
        json_object_del(compact, "password");
        text = json_dumps(compact, JSON_COMPACT | JSON_SORT_KEYS);
        if (text != NULL && strlen(text) > AUDIT_MAX_TARGET) {
            size_t cut = AUDIT_MAX_TARGET;
            while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80)
                cut--; /* never split a UTF-8 sequence */
            text[cut] = '\0';
        }
        target = text ? text : "";
    }
    if (store_audit_add(req->user.name, action, target, r->status) != DB_OK)
        log_warn("auth: could not write the audit log for %s", action);
    free(text);
    json_decref(compact);
}
