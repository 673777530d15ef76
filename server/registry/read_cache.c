/* The registry's read cache (read_cache.h): a hash table of encoded reply
 * bodies under one rwlock, a generation counter that invalidates it whole,
 * and a switch that bypasses it while the LISTEN hub is not listening. */
#include "read_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "common/xalloc.h"
#include "ops/metrics.h"

#define NBUCKETS 16384

struct entry {
    struct entry *next;
    uint64_t hash;
    size_t klen, blen;
    char data[]; /* the key, then the body */
};

static struct {
    pthread_rwlock_t lock;
    struct entry *buckets[NBUCKETS];
    size_t n, bytes;
    uint64_t table_gen; /* the generation every entry in the table belongs to */
} cache = {.lock = PTHREAD_RWLOCK_INITIALIZER};

static atomic_uint_fast64_t generation = 1; /* 0 means "do not store" */
static atomic_int enabled = 1, listening;

void read_cache_configure(int on)
{
    atomic_store(&enabled, on);
}

void read_cache_invalidate(void)
{
    atomic_fetch_add(&generation, 1);
    metrics_read_cache(METRICS_CACHE_INVALIDATION);
}

void read_cache_listening(int on)
{
    if (on) { /* whatever came while not listening was missed */
        read_cache_invalidate();
        atomic_store(&listening, 1);
    } else {
        atomic_store(&listening, 0);
        read_cache_invalidate();
    }
}

/* Writes the key of (kind, a, b) into buf: kind, a, NUL, b (names hold no
 * NUL, so it is unambiguous). Returns its length, or 0 when too long. */
static size_t make_key(char *buf, enum read_cache_kind kind, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (1 + la + 1 + lb > READ_CACHE_MAX_KEY)
        return 0;
    buf[0] = (char)kind;
    memcpy(buf + 1, a, la);
    buf[1 + la] = '\0';
    memcpy(buf + 2 + la, b, lb);
    return 2 + la + lb;
}

int read_cache_get(enum read_cache_kind kind, const char *a, const char *b, char **body,
                   size_t *len, uint64_t *gen)
{
    char key[READ_CACHE_MAX_KEY];
    size_t klen;
    int hit = 0;

    *gen = 0;
    if (!atomic_load(&enabled))
        return 0;
    if (!atomic_load(&listening)) {
        metrics_read_cache(METRICS_CACHE_BYPASS);
        return 0;
    }
    uint64_t g = atomic_load(&generation);
    if ((klen = make_key(key, kind, a, b)) == 0)
        return 0;
    uint64_t h = hash_fnv1a_add(HASH_FNV1A_INIT, key, klen);

    pthread_rwlock_rdlock(&cache.lock);
    if (cache.table_gen == g)
        for (const struct entry *e = cache.buckets[h % NBUCKETS]; e != NULL; e = e->next)
            if (e->hash == h && e->klen == klen && memcmp(e->data, key, klen) == 0) {
                *body = xmalloc(e->blen + 1);
                memcpy(*body, e->data + klen, e->blen);
                (*body)[e->blen] = '\0';
                *len = e->blen;
                hit = 1;
                break;
            }
    pthread_rwlock_unlock(&cache.lock);
    metrics_read_cache(hit ? METRICS_CACHE_HIT : METRICS_CACHE_MISS);
    if (!hit)
        *gen = g;
    return hit;
}

/* Frees every entry. Call with the write lock held. */
static void clear_locked(void)
{
    for (size_t i = 0; i < NBUCKETS; i++) {
        struct entry *e = cache.buckets[i];
        while (e != NULL) {
            struct entry *next = e->next;
            free(e);
            e = next;
        }
        cache.buckets[i] = NULL;
    }
    cache.n = cache.bytes = 0;
}

void read_cache_put(enum read_cache_kind kind, const char *a, const char *b, uint64_t gen,
                    const char *body, size_t len)
{
    char key[READ_CACHE_MAX_KEY];
    size_t klen;

    if (gen == 0 || len > READ_CACHE_MAX_BODY || (klen = make_key(key, kind, a, b)) == 0)
        return;
    uint64_t h = hash_fnv1a_add(HASH_FNV1A_INIT, key, klen);
    size_t size = sizeof(struct entry) + klen + len;

    pthread_rwlock_wrlock(&cache.lock);
    /* Checked under the lock: an invalidation after this point bumps the
     * generation, so the entry is dead at once; one before it is seen here. */
    if (gen != atomic_load(&generation))
        goto out;
    if (cache.table_gen != gen) { /* everything in the table is stale */
        clear_locked();
        cache.table_gen = gen;
    }
    struct entry **pp = &cache.buckets[h % NBUCKETS];
    for (struct entry *e = *pp; e != NULL; e = e->next)
        if (e->hash == h && e->klen == klen && memcmp(e->data, key, klen) == 0)
            goto out; /* a racing reader stored the same answer */
    if (cache.n >= READ_CACHE_MAX_ENTRIES || cache.bytes + size > READ_CACHE_MAX_BYTES)
        clear_locked(); /* simple eviction: start over */
    struct entry *e = xmalloc(size);
    e->hash = h;
    e->klen = klen;
    e->blen = len;
    memcpy(e->data, key, klen);
    memcpy(e->data + klen, body, len);
    e->next = *pp;
    *pp = e;
    cache.n++;
    cache.bytes += size;
out:
    pthread_rwlock_unlock(&cache.lock);
}
