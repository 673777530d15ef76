/* A check of an OTLP ExportTraceServiceRequest's wire format before
 * protobuf-c unpacks it: it walks the bytes once with the OTLP schema in
 * hand and refuses what protobuf-c would accept but must not reach the
 * server (ids of the wrong length, strings that are not UTF-8 or hold a NUL,
 * nesting that would recurse without bound, more spans or fields than the
 * limits of otlp.h), and counts what the unpack will allocate. */
#ifndef ET_SERVER_TRACES_OTLP_SCAN_H
#define ET_SERVER_TRACES_OTLP_SCAN_H

#include <stddef.h>
#include <stdint.h>

/* What a successful scan found. */
struct otlp_scan {
    size_t spans;  /* Span messages */
    size_t fields; /* field occurrences at every level, unknown ones included */
};

/* Scans the len bytes at body as an ExportTraceServiceRequest. Returns 0 and
 * fills *out, or -1 with err (errlen bytes, NUL-terminated) saying what is
 * wrong and where. Recursion is bounded by OTLP_MAX_DEPTH. */
int otlp_scan_request(const uint8_t *body, size_t len, struct otlp_scan *out, char *err,
                      size_t errlen);

#endif
