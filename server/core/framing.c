/* Request framing checks: see framing.h. */
#include "framing.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* RFC 9110 5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
 * "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
static int is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_token(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (!is_tchar((unsigned char)*s))
            return 0;
    return 1;
}

/* Field values may hold visible characters, SP, HTAB and obs-text. */
static int has_control(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 1;
    }
    return 0;
}

/* Parses 1*DIGIT into *out; -1 when not digits or past 2^63. */
static int parse_length(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (v > (UINT64_MAX / 2 - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

/* Checks one Transfer-Encoding value, a comma-separated list of codings:
 * 0 when it is exactly "chunked" and chunked was not seen before. */
static int check_codings(const char *value, int *chunked, struct reply *r)
{
    const char *p = value;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *start = p;
        while (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t' && *p != ';')
            p++;
        size_t len = (size_t)(p - start);
        while (*p == ' ' || *p == '\t')
            p++;
        if (len == 0 || (*p != ',' && *p != '\0')) {
            reply_error(r, ERR_BAD_REQUEST, "Transfer-Encoding '%.80s' is not a list of codings",
                        value);
            return -1;
        }
        if (len != 7 || strncasecmp(start, "chunked", 7) != 0) {
            reply_error(r, ERR_NOT_IMPLEMENTED,
                        "Transfer-Encoding '%.*s' is not supported: only chunked is",
                        (int)(len > 40 ? 40 : len), start);
            return -1;
        }
        if (*chunked) {
            reply_error(r, ERR_BAD_REQUEST, "Transfer-Encoding applies chunked more than once");
            return -1;
        }
        *chunked = 1;
        if (*p == '\0')
            return 0;
        p++;
    }
}

int framing_check(const char *version, const struct http_field *fields, size_t n, size_t max_body,
                  struct reply *r)
{
    int hosts = 0, lengths = 0, encodings = 0, chunked = 0, expect_continue = 0;
    uint64_t length = 0;

    for (size_t i = 0; i < n; i++) {
        const char *name = fields[i].name;
        const char *value = fields[i].value != NULL ? fields[i].value : "";
        if (!is_token(name)) {
            size_t len = strlen(name);
            int space = len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t');
            reply_error(r, ERR_BAD_REQUEST,
                        space ? "header name '%.40s' has whitespace before its colon"
                              : "header name '%.40s' has a character outside the token set",
                        name);
            return -1;
        }
        if (has_control(value)) {
            reply_error(r, ERR_BAD_REQUEST, "header %.40s has a control character in its value",
                        name);
            return -1;
        }
        if (strcasecmp(name, "Host") == 0) {
            hosts++;
        } else if (strcasecmp(name, "Content-Length") == 0) {
            uint64_t v;
            if (parse_length(value, &v) < 0) {
                reply_error(r, ERR_BAD_REQUEST, "Content-Length '%.40s' is not a length", value);
                return -1;
            }
            if (lengths++ > 0 && v != length) {
                reply_error(r, ERR_BAD_REQUEST, "two Content-Length headers disagree");
                return -1;
            }
            length = v;
        } else if (strcasecmp(name, "Transfer-Encoding") == 0) {
            encodings++;
            if (check_codings(value, &chunked, r) < 0)
                return -1;
        } else if (strcasecmp(name, "Expect") == 0) {
            expect_continue = strcasecmp(value, "100-continue") == 0;
        }
    }
    int http11 = version != NULL && strcmp(version, "HTTP/1.1") == 0;
    if (hosts > 1) {
        reply_error(r, ERR_BAD_REQUEST, "the request has %d Host headers; one is allowed", hosts);
        return -1;
    }
    if (http11 && hosts == 0) {
        reply_error(r, ERR_BAD_REQUEST, "an HTTP/1.1 request needs a Host header");
        return -1;
    }
    if (encodings > 0 && lengths > 0) {
        reply_error(r, ERR_BAD_REQUEST,
                    "the request has both Content-Length and Transfer-Encoding");
        return -1;
    }
    if (encodings > 0 && !http11) {
        reply_error(r, ERR_BAD_REQUEST, "Transfer-Encoding needs HTTP/1.1");
        return -1;
    }
    if (expect_continue && lengths > 0 && length > max_body) {
        reply_error(r, ERR_PAYLOAD_TOO_LARGE, "request body exceeds the limit of %zu bytes",
                    max_body);
        return -1;
    }
    return 0;
}
