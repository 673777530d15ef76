/* A per-thread bump arena behind jansson's allocator hooks, on only while a
 * request body is parsed. Frees of arena blocks are no-ops (recognised by
 * address range); every other block is plain malloc/free, so strings from
 * json_dumps may still be released with free(). */
#include "jsonalloc.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

#define CHUNK_SIZE (256 * 1024)
#define KEEP_CHUNKS 4 /* standard chunks kept across requests per thread */

struct chunk {
    struct chunk *next;
    size_t size; /* bytes of data */
    size_t used;
    _Alignas(16) unsigned char data[];
};

/* Where a live chunk's data lies: [lo, hi). */
struct range {
    uintptr_t lo, hi;
};

struct thread_arena {
    struct chunk *live;   /* chunks in use since the last reset, newest first */
    struct range *ranges; /* the live chunks' data, sorted by address: for arena_free */
    size_t nranges, capranges;
    struct chunk *spare; /* standard chunks kept for reuse */
    int nspare;
    int active;  /* allocate from the arena */
    size_t held; /* bytes of the live chunks' data */
    size_t cap;  /* in a bounded scope: the most held may reach; else 0 */
    int refused; /* the bounded scope refused an allocation */
};

static __thread struct thread_arena ta;

/* A thread that made chunks frees them when it exits (the HTTP pool's
 * threads at shutdown), through this key's destructor. */
static pthread_key_t ta_key;
static pthread_once_t ta_key_once = PTHREAD_ONCE_INIT;

static void free_chunks(struct chunk *c)
{
    while (c != NULL) {
        struct chunk *next = c->next;
        free(c);
        c = next;
    }
}

static void arena_free_at_exit(void *arena)
{
    struct thread_arena *a = arena;
    free_chunks(a->live);
    free_chunks(a->spare);
    free(a->ranges);
    a->live = a->spare = NULL;
    a->ranges = NULL;
    a->nspare = 0;
    a->nranges = a->capranges = 0;
}

static void make_ta_key(void)
{
    pthread_key_create(&ta_key, arena_free_at_exit);
}

/* Registers this thread's arena for freeing at thread exit (once). */
static void register_arena(void)
{
    pthread_once(&ta_key_once, make_ta_key);
    if (pthread_getspecific(ta_key) == NULL)
        pthread_setspecific(ta_key, &ta);
}

/* The index of the first range whose lo is above a (nranges: none). */
static size_t range_after(uintptr_t a)
{
    size_t lo = 0, hi = ta.nranges;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ta.ranges[mid].lo <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Records a new live chunk's data range, keeping ranges sorted. */
static void add_range(const struct chunk *c)
{
    if (ta.nranges == ta.capranges) {
        ta.capranges = ta.capranges ? 2 * ta.capranges : 64;
        ta.ranges = xrealloc(ta.ranges, ta.capranges * sizeof *ta.ranges);
    }
    uintptr_t lo = (uintptr_t)c->data;
    size_t i = range_after(lo);
    memmove(ta.ranges + i + 1, ta.ranges + i, (ta.nranges - i) * sizeof *ta.ranges);
    ta.ranges[i] = (struct range){lo, lo + c->size};
    ta.nranges++;
}

static void *arena_malloc(size_t n)
{
    if (!ta.active)
        return malloc(n);
    n = (n + 15) & ~(size_t)15;
    struct chunk *c = ta.live;
    if (c == NULL || c->size - c->used < n) {
        size_t want = n > CHUNK_SIZE / 4 ? n : CHUNK_SIZE;
        if (ta.cap != 0 && (want > ta.cap || ta.held > ta.cap - want)) {
            ta.refused = 1;
            return NULL;
        }
        if (n <= CHUNK_SIZE / 4 && ta.spare != NULL) {
            c = ta.spare;
            ta.spare = c->next;
            ta.nspare--;
        } else {
            size_t size = n > CHUNK_SIZE / 4 ? n : CHUNK_SIZE;
            register_arena();
            c = xmalloc(sizeof *c + size);
            c->size = size;
        }
        c->used = 0;
        ta.held += c->size;
        c->next = ta.live;
        ta.live = c;
        add_range(c);
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

/* Whether p lies in a live chunk: a binary search, since jansson frees
 * every node of a refused parse's partial tree (millions of them), and a
 * walk of the chunk list per free made that seconds of CPU. */
static int in_arena(const void *p)
{
    uintptr_t a = (uintptr_t)p;
    size_t i = range_after(a);
    return i > 0 && a < ta.ranges[i - 1].hi;
}

static void arena_free(void *p)
{
    if (p == NULL || in_arena(p))
        return;
    free(p);
}

void jsonalloc_install(void)
{
    json_set_alloc_funcs(arena_malloc, arena_free);
}

void jsonalloc_scope_begin(size_t cap)
{
    ta.active = 1;
    ta.cap = cap;
    ta.refused = 0;
}

int jsonalloc_scope_end(void)
{
    int refused = ta.refused;
    ta.active = 0;
    ta.cap = 0;
    ta.refused = 0;
    return refused;
}

void jsonalloc_reset(void)
{
    ta.held = 0;
    ta.nranges = 0;
    while (ta.live != NULL) {
        struct chunk *c = ta.live;
        ta.live = c->next;
        if (c->size == CHUNK_SIZE && ta.nspare < KEEP_CHUNKS) {
            c->next = ta.spare;
            ta.spare = c;
            ta.nspare++;
        } else {
            free(c);
        }
    }
}
