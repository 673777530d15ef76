/* Allocation that cannot fail: the server and the CLI abort on out-of-memory
 * rather than threading ENOMEM through every layer (the client library never
 * does this). */
#ifndef ET_COMMON_XALLOC_H
#define ET_COMMON_XALLOC_H

#include <stddef.h>

/* malloc/calloc/realloc/strdup/strndup that abort with a message on failure. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* printf into a new heap string; aborts on failure. Caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
