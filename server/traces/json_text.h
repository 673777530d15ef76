/* A forward reader of JSON text, for the span reads that turn the store's
 * jsonb text (attributes, events) into reply text without building jansson
 * trees: step over whitespace, decode a string, find where a value ends,
 * tell an integer from a real. Also a strict check of whether text is one
 * JSON value. Reads only within [p, end); never allocates except into the
 * caller's sbuf. No writing of JSON (that is core/json_writer). */
#ifndef ET_SERVER_TRACES_JSON_TEXT_H
#define ET_SERVER_TRACES_JSON_TEXT_H

#include <stddef.h>

#include "common/sbuf.h"

/* Deepest nesting jt_skip and jt_valid follow (jansson's own limit). */
#define JT_MAX_DEPTH 2048

struct jt {
    const char *p;   /* next byte to read */
    const char *end; /* one past the last byte */
};

enum jt_kind {
    JT_BAD = 0, /* end of text or a byte no value starts with */
    JT_NULL,
    JT_TRUE,
    JT_FALSE,
    JT_INT, /* a number without fraction or exponent that fits in int64 */
    JT_REAL,
    JT_STRING,
    JT_ARRAY,
    JT_OBJECT,
};

/* Steps over whitespace and returns the next byte (0 at the end). */
int jt_peek(struct jt *t);

/* Steps over whitespace and c; returns 0, or -1 (nothing consumed past the
 * whitespace) when the next byte is not c. */
int jt_expect(struct jt *t, char c);

/* The kind of the value that starts at the next non-blank byte. Consumes
 * nothing but whitespace. */
enum jt_kind jt_kind(struct jt *t);

/* Decodes the string at the next non-blank byte into out (appended, NUL
 * terminated; \u escapes and surrogate pairs become UTF-8) and steps past
 * it. Returns 0, or -1 on a malformed string (out may hold a part). */
int jt_string(struct jt *t, struct sbuf *out);

/* Steps past the string at the next non-blank byte, setting *start and
 * *len to its text with the quotes. *plain is 1 when that text is exactly
 * what core/json_writer's jw_string writes for the decoded string (its
 * only escapes are \" \\ \b \f \n \r \t, no \u or \/, no raw control
 * byte), so it can be copied as it is. Returns 0, or -1. */
int jt_string_text(struct jt *t, const char **start, size_t *len, int *plain);

/* Steps past the value at the next non-blank byte, setting *start and *len
 * to its text. Returns 0, or -1 on malformed text or nesting deeper than
 * JT_MAX_DEPTH. Checks the structure, not the strings' escapes. */
int jt_skip(struct jt *t, const char **start, size_t *len);

/* 1 when s[0..len) is exactly one JSON value with optional whitespace
 * around it, as jansson's json_loads(JSON_DECODE_ANY) would accept it: no
 * control characters or bad escapes in strings, no \u0000, no lone
 * surrogates, valid UTF-8, integers within int64, reals finite, nesting at
 * most JT_MAX_DEPTH. Else 0. */
int jt_valid(const char *s, size_t len);

#endif
