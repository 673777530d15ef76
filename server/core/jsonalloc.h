/* Bump allocation for jansson while it parses a request body: the parsed
 * tree's nodes come from a per-thread arena that is rewound once the
 * request is done, instead of thousands of malloc/free pairs per batch.
 * Everything else jansson allocates (replies, dumps) stays on the heap. */
#ifndef ET_SERVER_JSONALLOC_H
#define ET_SERVER_JSONALLOC_H

#include <jansson.h>
#include <stddef.h>

/* Routes jansson's allocations through this file. Call once at start-up,
 * before any thread uses jansson. */
void jsonalloc_install(void);

/* Starts a bounded scope on the calling thread: until jsonalloc_scope_end
 * every jansson allocation of the thread (parses, built trees, dumps) comes
 * from its arena, and an allocation that would make the arena hold more
 * than cap bytes in all (counted since the last jsonalloc_reset) fails, so
 * jansson answers NULL or an error instead of growing. Trees made in the
 * scope live until jsonalloc_reset(). Scopes do not nest. */
void jsonalloc_scope_begin(size_t cap);

/* Ends the calling thread's scope. Returns 1 when an allocation was
 * refused in it (what was built is incomplete), else 0. */
int jsonalloc_scope_end(void);

/* Rewinds the calling thread's arena: every tree parsed since the last reset
 * is dead. Keeps a little memory for the next request. */
void jsonalloc_reset(void);

#endif
