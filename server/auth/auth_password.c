/* Passwords and tokens: PBKDF2-HMAC-SHA256 hashes, a cache of verified
 * (hash, password) pairs, the throttle on failed sign-ins, API tokens. */
#include "auth.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth_internal.h"
#include "core/hash.h"
#include "core/ids.h"
#include "core/log.h"
#include "common/xalloc.h"

#define PBKDF2_ITERATIONS 210000 /* OWASP's 2023 figure for PBKDF2-HMAC-SHA256 is 600k; */
                                 /* verified logins are cached, so this is paid rarely */
#define SALT_BYTES 16
/* PBKDF2 iteration counts accepted in a stored hash: the bounds keep one
 * sign-in's work finite whatever the users table says. */
#define PBKDF2_MIN_ITERATIONS 1000
#define PBKDF2_MAX_ITERATIONS 10000000
#define CACHE_SLOTS 512
#define CACHE_TTL_SECONDS 300

/* Verified (stored hash, password) pairs, so Basic auth on every request of
 * a training loop does not pay PBKDF2 each time. Keyed by a keyed digest:
 * a changed password (new salt) never hits an old entry. */
static struct {
    pthread_mutex_t lock;
    unsigned char pepper[32];
    unsigned char key[CACHE_SLOTS][32];
    time_t expires[CACHE_SLOTS];
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

int auth_password_init(void)
{
    if (RAND_bytes(cache.pepper, sizeof cache.pepper) != 1) {
        log_error("auth: the random source failed");
        return -1;
    }
    return 0;
}

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

int auth_fail_wait(const char *name)
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

void auth_fail_note(const char *name, int failed)
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

int auth_password_matches(const char *stored, const char *password)
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
