/* Base64 (RFC 4648 section 4, the standard alphabet), the server's one
 * encoder and decoder: Basic credentials and page tokens. Not the URL-safe
 * alphabet, not MIME line breaks. */
#ifndef ET_SERVER_CORE_B64_H
#define ET_SERVER_CORE_B64_H

#include <stddef.h>

/* Length of the encoding of n bytes, without the NUL. */
#define B64_ENCODED_LEN(n) (((n) + 2) / 3 * 4)

/* Most bytes a text of len characters can decode to. */
#define B64_DECODED_MAX(len) ((len) / 4 * 3)

/* Encodes the n bytes at in into out, which must hold B64_ENCODED_LEN(n) + 1
 * bytes, always padded with '=' to a multiple of four, NUL-terminated.
 * Returns the length written (without the NUL). Cannot fail. */
size_t b64_encode(char *out, const void *in, size_t n);

/* Encodes n bytes at in into a new NUL-terminated string (free()). Aborts on
 * out-of-memory like the xmalloc family. */
char *b64_encode_new(const void *in, size_t n);

/* Decodes the len characters at in (need not be NUL-terminated) into out,
 * which has room for cap bytes, and stores the decoded length in *out_len.
 * Padding policy, the same for every caller (every producer of what the
 * server decodes pads): strict. The text must be a non-empty multiple of
 * four characters of the standard alphabet; '=' may appear only as the last
 * one or two characters of the text, and nowhere else; no whitespace.
 * Returns 0, or -1 when the text breaks these rules or when
 * B64_DECODED_MAX(len) > cap (checked before anything is written; on -1 out
 * holds nothing useful). out is not NUL-terminated. */
int b64_decode(const char *in, size_t len, void *out, size_t cap, size_t *out_len)
    __attribute__((warn_unused_result));

#endif
