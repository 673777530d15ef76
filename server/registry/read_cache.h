/* The registry's read cache: encoded reply bodies of the single-object
 * reads (get-by-alias, model-versions/get, registered-models/get), kept in
 * process so the serving hot path skips PostgreSQL. No SQL, no JSON: it
 * holds bytes under a key.
 *
 * Consistency: one generation counter. A reader takes the generation before
 * its store call (read_cache_begin) and stores its answer with it; an entry
 * is valid only while its generation is the current one. Every registry
 * write bumps it after its commit and before its reply (rj_end), and so
 * does every notification of another process's registry change (the
 * LISTEN hub, events/notify.h). While the hub is not listening the cache
 * is bypassed entirely, and it is bumped when listening starts again. */
#ifndef ET_SERVER_REGISTRY_READ_CACHE_H
#define ET_SERVER_REGISTRY_READ_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define READ_CACHE_MAX_ENTRIES 10000
#define READ_CACHE_MAX_BYTES (64u << 20) /* bodies and keys together */
#define READ_CACHE_MAX_BODY (64u << 10)  /* larger bodies are not kept */
#define READ_CACHE_MAX_KEY 1024          /* longer keys are not kept */

/* What is read: part of the key. */
enum read_cache_kind {
    READ_CACHE_ALIAS = 'A',   /* a = model name, b = alias */
    READ_CACHE_VERSION = 'V', /* a = model name, b = version as sent */
    READ_CACHE_MODEL = 'M',   /* a = model name, b = "" */
};

/* Turns the cache on or off (--registry-cache); on by default, but unused
 * until read_cache_listening(1). Call before serving. */
void read_cache_configure(int enabled);

/* Tells the cache whether the LISTEN hub hears registry notifications now:
 * 0 bypasses the cache from now on, 1 (after the LISTEN succeeded) bumps
 * the generation, then uses the cache again. Any thread. */
void read_cache_listening(int on);

/* Drops every entry (bumps the generation): a registry change was
 * committed, here or in another process. Any thread. */
void read_cache_invalidate(void);

/* Looks up (kind, a, b). On a hit returns 1 and sets *body (malloc'd, the
 * caller owns it) and *len. Otherwise returns 0 and sets *gen to the
 * generation to hand to read_cache_put after the store call, or to 0 when
 * the answer must not be stored (cache off, bypassed, key too long). */
int read_cache_get(enum read_cache_kind kind, const char *a, const char *b, char **body,
                   size_t *len, uint64_t *gen);

/* Stores body (copied) under (kind, a, b) for generation gen from
 * read_cache_get; a no-op when gen is 0 or no longer current. */
void read_cache_put(enum read_cache_kind kind, const char *a, const char *b, uint64_t gen,
                    const char *body, size_t len);

#endif
