/* Base64 encoding and strict decoding (core/b64.h). Written here rather than
 * through OpenSSL's EVP_DecodeBlock, which accepts '=' anywhere and counts
 * padding as zero bytes that every caller then had to take off again. */
#include "b64.h"

#include <stdint.h>

#include "common/xalloc.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t b64_encode(char *out, const void *in, size_t n)
{
    const unsigned char *s = in;
    char *p = out;
    size_t i = 0;

    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *p++ = alphabet[v >> 18];
        *p++ = alphabet[v >> 12 & 63];
        *p++ = alphabet[v >> 6 & 63];
        *p++ = alphabet[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0);
        *p++ = alphabet[v >> 18];
        *p++ = alphabet[v >> 12 & 63];
        *p++ = i + 1 < n ? alphabet[v >> 6 & 63] : '=';
        *p++ = '=';
    }
    *p = '\0';
    return (size_t)(p - out);
}

char *b64_encode_new(const void *in, size_t n)
{
    char *out = xmalloc(B64_ENCODED_LEN(n) + 1);
    b64_encode(out, in, n);
    return out;
}

/* The 6-bit value of an alphabet character, or -1. */
static int sextet(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int b64_decode(const char *in, size_t len, void *out, size_t cap, size_t *out_len)
{
    const unsigned char *s = (const unsigned char *)in;
    unsigned char *o = out;
    size_t n = 0;

    if (len == 0 || len % 4 != 0 || B64_DECODED_MAX(len) > cap)
        return -1;
    /* padding: one or two '=' at the very end, only there */
    size_t pad = s[len - 1] == '=' ? (s[len - 2] == '=' ? 2 : 1) : 0;
    for (size_t i = 0; i < len; i += 4) {
        int last = i + 4 == len;
        int a = sextet(s[i]), b = sextet(s[i + 1]);
        int c = last && pad == 2 ? 0 : sextet(s[i + 2]);
        int d = last && pad >= 1 ? 0 : sextet(s[i + 3]);
        if (a < 0 || b < 0 || c < 0 || d < 0)
            return -1;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        o[n++] = (unsigned char)(v >> 16);
        if (!last || pad < 2)
            o[n++] = (unsigned char)(v >> 8);
        if (!last || pad < 1)
            o[n++] = (unsigned char)v;
    }
    *out_len = n;
    return 0;
}
