/* A per-request arena: many small allocations, freed together. Store reads
 * copy their results into it so api code never sees libpq results. */
#ifndef ET_SERVER_ARENA_H
#define ET_SERVER_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
    struct arena_block *head;
};

/* Initialises an empty arena (no allocation yet). */
void arena_init(struct arena *a);

/* Frees every allocation made from the arena. */
void arena_cleanup(struct arena *a);

/* Returns n zeroed bytes, aligned for any type; aborts on out-of-memory. */
void *arena_alloc(struct arena *a, size_t n);

/* Copies len bytes of s and a terminating NUL into the arena. */
char *arena_strndup(struct arena *a, const char *s, size_t len);

/* Copies a NUL-terminated string into the arena. */
char *arena_strdup(struct arena *a, const char *s);

#endif
