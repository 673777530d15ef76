/* A growable byte buffer for building text (SQL array literals, bodies). */
#ifndef ET_COMMON_SBUF_H
#define ET_COMMON_SBUF_H

#include <stddef.h>

struct sbuf {
    char *data; /* always NUL-terminated once anything was appended */
    size_t len;
    size_t cap;
};

/* Initialises an empty buffer (no allocation yet). */
void sbuf_init(struct sbuf *b);

/* Frees the buffer's memory; it may be reused after sbuf_init. */
void sbuf_cleanup(struct sbuf *b);

/* Empties the buffer, keeping its memory. */
void sbuf_reset(struct sbuf *b);

/* Makes room for `extra` more bytes (and the NUL) in one allocation, so
 * that a body whose size is known in advance is not copied by the doubling
 * growth of the appends. Abort on OOM. */
void sbuf_reserve(struct sbuf *b, size_t extra);

/* Appends bytes, a string, one character, or printf output. Abort on OOM. */
void sbuf_add(struct sbuf *b, const char *s, size_t len);
void sbuf_adds(struct sbuf *b, const char *s);
void sbuf_addc(struct sbuf *b, char c);
void sbuf_addf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Hands the NUL-terminated contents to the caller (free()) and empties b. */
char *sbuf_take(struct sbuf *b);

#endif
