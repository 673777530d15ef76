/* Bump allocation in blocks of 16 KiB doubling up to 1 MiB (larger requests
 * get their own block). */
#include "arena.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

#define ARENA_BLOCK 16384
#define ARENA_BLOCK_MAX (1024 * 1024)

struct arena_block {
    struct arena_block *next;
    size_t used;
    size_t size;
    alignas(max_align_t) unsigned char data[];
};

void arena_init(struct arena *a)
{
    a->head = NULL;
}

void arena_cleanup(struct arena *a)
{
    struct arena_block *b = a->head;
    while (b != NULL) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}

/* n bytes (a multiple of the alignment) from the newest block, or from a new
 * one: blocks double from ARENA_BLOCK up to ARENA_BLOCK_MAX, so a request
 * that copies megabytes (a 1,000-run search page) asks malloc for a few
 * dozen blocks instead of a few hundred. Not zeroed. */
static void *arena_take(struct arena *a, size_t n)
{
    struct arena_block *b = a->head;
    if (b == NULL || b->size - b->used < n) {
        size_t size = b == NULL ? ARENA_BLOCK : b->size * 2;
        if (size > ARENA_BLOCK_MAX)
            size = ARENA_BLOCK_MAX;
        if (n > size)
            size = n;
        b = xmalloc(sizeof *b + size);
        b->used = 0;
        b->size = size;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

static size_t aligned(size_t n)
{
    const size_t align = alignof(max_align_t);
    return (n + align - 1) & ~(align - 1);
}

void *arena_alloc(struct arena *a, size_t n)
{
    n = aligned(n);
    void *p = arena_take(a, n);
    memset(p, 0, n);
    return p;
}

/* Strings are written whole right away: no zeroing first. */
char *arena_strndup(struct arena *a, const char *s, size_t len)
{
    char *p = arena_take(a, aligned(len + 1));
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}
