/* FNV-1a, the one non-cryptographic hash of the server: cache slots, shard
 * picks, ETags and fingerprints. Not for anything an attacker must not be
 * able to collide (use OpenSSL's SHA-256 for that). Header-only so the hot
 * callers inline it. */
#ifndef ET_SERVER_CORE_HASH_H
#define ET_SERVER_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The 64-bit FNV offset basis: the value to start a hash_fnv1a_add chain with. */
#define HASH_FNV1A_INIT 0xcbf29ce484222325ULL

/* Continues the 64-bit FNV-1a hash h over the n bytes at p and returns it.
 * Hashing a text in pieces gives the hash of the pieces joined. */
static inline uint64_t hash_fnv1a_add(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211ULL;
    return h;
}

/* Continues h over the NUL-terminated string s (not its NUL). */
static inline uint64_t hash_fnv1a_add_str(uint64_t h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h;
}

/* The 64-bit FNV-1a hash of n bytes at p. */
static inline uint64_t hash_fnv1a(const void *p, size_t n)
{
    return hash_fnv1a_add(HASH_FNV1A_INIT, p, n);
}

/* The 64-bit FNV-1a hash of the NUL-terminated string s. */
static inline uint64_t hash_fnv1a_str(const char *s)
{
    return hash_fnv1a_add_str(HASH_FNV1A_INIT, s);
}

#endif
