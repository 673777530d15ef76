/* Content-Encoding of OTLP bodies (otlp.h): identity, gzip and deflate
 * through zlib, with the output capped before it is allocated. */
#include "otlp.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

/* zlib's window bits: 15 with a zlib header, -15 raw, 15 + 16 gzip. */
enum { WB_ZLIB = 15, WB_RAW = -15, WB_GZIP = 15 + 16 };

/* Inflates in with the given window bits into a buffer that grows by
 * doubling up to max_out + 1 bytes (one more byte than allowed tells an
 * over-long stream from one that just fits). Returns 0, or -1. */
static int inflate_with(int window_bits, const uint8_t *in, size_t in_len, size_t max_out,
                        uint8_t **out, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, window_bits) != Z_OK)
        return -1;

    size_t cap_limit = max_out < SIZE_MAX ? max_out + 1 : max_out;
    size_t cap = in_len * 4 + 64;
    if (cap > cap_limit)
        cap = cap_limit;
    if (cap == 0)
        cap = 1;
    uint8_t *buf = malloc(cap);
    size_t have = 0;
    int rc = -1;
    if (buf == NULL)
        goto out;

    const uint8_t *next_in = in;
    size_t left_in = in_len;
    for (;;) {
        if (have == cap) {
            if (cap >= cap_limit)
                goto out; /* more than max_out bytes */
            size_t next = cap > cap_limit / 2 ? cap_limit : cap * 2;
            uint8_t *grown = realloc(buf, next);
            if (grown == NULL)
                goto out;
            buf = grown;
            cap = next;
        }
        /* zlib counts in uInt: feed and drain at most 1 GiB per call */
        uInt in_chunk = left_in > (1u << 30) ? (1u << 30) : (uInt)left_in;
        size_t room = cap - have;
        uInt out_chunk = room > (1u << 30) ? (1u << 30) : (uInt)room;
        zs.next_in = (Bytef *)next_in;
        zs.avail_in = in_chunk;
        zs.next_out = buf + have;
        zs.avail_out = out_chunk;
        int z = inflate(&zs, Z_NO_FLUSH);
        next_in += in_chunk - zs.avail_in;
        left_in -= in_chunk - zs.avail_in;
        have += out_chunk - zs.avail_out;
        if (z == Z_STREAM_END)
            break;
        if (z == Z_BUF_ERROR && zs.avail_out != 0 && left_in == 0)
            goto out; /* truncated: needs input that is not there */
        if (z != Z_OK && z != Z_BUF_ERROR)
            goto out; /* corrupt data */
    }
    if (have > max_out || left_in != 0)
        goto out; /* too long, or bytes after the stream */
    *out = buf;
    *out_len = have;
    buf = NULL;
    rc = 0;
out:
    inflateEnd(&zs);
    free(buf);
    return rc;
}

int otlp_inflate(const char *content_encoding, const uint8_t *in, size_t in_len, size_t max_out,
                 uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (content_encoding == NULL || strcasecmp(content_encoding, "identity") == 0) {
        if (in_len > max_out)
            return -1;
        uint8_t *copy = malloc(in_len > 0 ? in_len : 1);
        if (copy == NULL)
            return -1;
        if (in_len > 0)
            memcpy(copy, in, in_len);
        *out = copy;
        *out_len = in_len;
        return 0;
    }
    if (strcasecmp(content_encoding, "gzip") == 0 || strcasecmp(content_encoding, "x-gzip") == 0)
        return inflate_with(WB_GZIP, in, in_len, max_out, out, out_len);
    if (strcasecmp(content_encoding, "deflate") == 0) {
        /* RFC 9110 deflate is zlib-wrapped; some clients send raw deflate.
         * A zlib header is two bytes whose big-endian value is a multiple
         * of 31 with method 8. */
        if (in_len >= 2 && (in[0] & 0x0f) == 8 && ((in[0] << 8) | in[1]) % 31 == 0)
            return inflate_with(WB_ZLIB, in, in_len, max_out, out, out_len);
        return inflate_with(WB_RAW, in, in_len, max_out, out, out_len);
    }
    return -1;
}
