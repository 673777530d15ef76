/* Streaming JSON text, written straight into an sbuf or a fixed buffer: for
 * the replies built without jansson trees because they are hot (a search
 * page, a history stream) and for log lines. Escapes strings byte for byte
 * as jansson's json_dumps does (without JSON_ENSURE_ASCII), so hand-built
 * and jansson-built replies read the same. Not a DOM, not a validator: the
 * caller writes the punctuation and passes valid UTF-8. */
#ifndef ET_COMMON_JSON_WRITER_H
#define ET_COMMON_JSON_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "sbuf.h"

/* Longest text jw_double_text writes ("-1.2345678901234567e-308" and kin). */
#define JW_DOUBLE_MAX 32

/* Longest text jw_int64_text writes ("-9223372036854775808"). */
#define JW_INT64_MAX 20

/* Appends s as a JSON string with its quotes: '"', '\\' and control
 * characters escaped (\b \f \n \r \t, else \u00XX in upper-case hex), every
 * other byte, UTF-8 included, copied as is. NULL is written as "". */
void jw_string(struct sbuf *b, const char *s);

/* jw_string of the len bytes at s, which may hold NUL (written \u0000): for
 * strings that carry their length, such as jansson's. */
void jw_string_len(struct sbuf *b, const char *s, size_t len);

/* Writes the escaped inside of s (no quotes, same escapes as jw_string) into
 * dst from pos on, never past dst + cap: stops before the first character
 * whose escape does not fit (the text is cut, not the escape). Returns the
 * new pos; dst is not NUL-terminated. For fixed line buffers (the log). */
size_t jw_escape_into(char *dst, size_t cap, size_t pos, const char *s);

/* Writes v as a JSON value into out (>= JW_DOUBLE_MAX bytes, not
 * NUL-terminated; the bytes after the text, up to JW_DOUBLE_MAX, may be
 * overwritten) and returns its length: NaN and the infinities as the
 * contract's strings "NaN", "Infinity", "-Infinity"; any other value as a
 * number in the fewest digits (Grisu2, core/dtoa.h: shortest in all but rare
 * cases, never more than 17) that read back as exactly v, with ".0" on
 * integers in plain notation (1.0, -0.0, 1e+300 as "1e300"). No allocation,
 * no locale. */
size_t jw_double_text(char *out, double v);

/* Writes v in decimal into out (>= JW_INT64_MAX bytes, not NUL-terminated);
 * returns the length. */
size_t jw_int64_text(char *out, int64_t v);

/* Appends v as jw_double_text / jw_int64_text write it. */
void jw_double(struct sbuf *b, double v);
void jw_int64(struct sbuf *b, int64_t v);

/* Appends a number given as decimal text, as PostgreSQL prints a float8
 * (its shortest exact form): "NaN", "Infinity" and "-Infinity" become the
 * contract's strings, and text with no '.', 'e' or 'E' gets ".0" as
 * jw_double_text and jansson write integral reals. */
void jw_number_text(struct sbuf *b, const char *text);

#endif
