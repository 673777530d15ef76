/* HTTP/1.1 message framing rules (RFC 9110, RFC 9112) that libmicrohttpd
 * 0.9.75 does not enforce itself, checked on a request's head before any
 * handler runs. Pure: no I/O, no libmicrohttpd, so the fuzzer and the unit
 * tests call it directly. */
#ifndef ET_SERVER_FRAMING_H
#define ET_SERVER_FRAMING_H

#include <stddef.h>
#include <stdint.h>

#include "reply.h"

/* One header field as received: name and value, NUL-terminated. */
struct http_field {
    const char *name;
    const char *value;
};

/* Checks the head of a request: version ("HTTP/1.1"), its header fields in
 * order, and the largest body the route accepts (SIZE_MAX: no limit known
 * before the body). Refuses two Hosts (or none in HTTP/1.1), header names
 * outside the token set or ending in whitespace, control characters in
 * values, Content-Length that is not digits or repeated with another value,
 * Content-Length together with Transfer-Encoding, any Transfer-Encoding but a
 * single "chunked" (501 for codings it does not know, 400 for the rest),
 * and "Expect: 100-continue" with a Content-Length over max_body (413).
 * Returns 0 when the head is acceptable; else fills r with the error and
 * returns -1: the connection must then be closed, since where the request
 * ends is not known. */
int framing_check(const char *version, const struct http_field *fields, size_t n, size_t max_body,
                  struct reply *r);

#endif
