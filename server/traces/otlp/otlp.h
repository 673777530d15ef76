/* OTLP/HTTP protobuf for POST /v1/traces: the request body decoded into the
 * OTLP/JSON object an exporter would have posted (so both content types go
 * through one ingest path), the response encoded, and Content-Encoding
 * undone. Built on protobuf-c (code generated from proto/ at build time)
 * and zlib. No HTTP, no SQL. */
#ifndef ET_SERVER_TRACES_OTLP_H
#define ET_SERVER_TRACES_OTLP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Limits of one decoded request; a body over any of them is refused whole. */
#define OTLP_MAX_SPANS 100000   /* spans in one request (the OTLP/JSON path's cap too) */
#define OTLP_MAX_FIELDS 2000000 /* protobuf fields in one request, at every level */
#define OTLP_MAX_DEPTH 32       /* AnyValue levels (arrays and kvlists inside values) */
/* The most the protobuf unpack of one request may allocate (bytes). The
 * densest legitimate shapes (tests/unit/test_otlp.c) need far less; a body
 * of millions of empty messages is refused instead of costing more. */
#define OTLP_MAX_DECODE (128 * 1024 * 1024)

/* Decodes the ExportTraceServiceRequest of len bytes at body into a new
 * OTLP/JSON object (*out, json_decref it), shaped as an exporter posts it:
 *   {"resourceSpans":[{"resource":{"attributes":[...]},"schemaUrl"?,
 *     "scopeSpans":[{"scope":{"name","version","attributes"?},"schemaUrl"?,
 *       "spans":[{"traceId":32 hex,"spanId":16 hex,"parentSpanId"?:16 hex,
 *         "traceState"?,"flags"?,"name","kind":int,"startTimeUnixNano":"<decimal>",
 *         "endTimeUnixNano":"<decimal>","attributes":[{"key","value":{AnyValue}}],
 *         "events":[{"timeUnixNano","name","attributes"}],
 *         "links":[{"traceId","spanId","traceState"?,"attributes"}],
 *         "status":{"code":int,"message"?}}]}]}]}
 * Hex is lower case. Optional members ("?") appear only when set (a root span
 * has no parentSpanId). An AnyValue is one of {"stringValue":s},
 * {"boolValue":b}, {"intValue":"<decimal>"}, {"doubleValue":x} (NaN and the
 * infinities as the strings "NaN", "Infinity", "-Infinity"),
 * {"arrayValue":{"values":[...]}}, {"kvlistValue":{"values":[{key,value}]}},
 * {"bytesValue":base64}, or {} when no value is set.
 * Returns 0, or -1 with err (errlen bytes, NUL-terminated) naming the problem:
 * malformed protobuf (truncated, bad wire type, unsupported groups), an id of
 * the wrong length or all zeros, values nested deeper than OTLP_MAX_DEPTH,
 * more than OTLP_MAX_SPANS spans or OTLP_MAX_FIELDS fields, a string field
 * that is not UTF-8 or holds a NUL, or an unpack that would need more memory
 * than its budget (estimated from the body, at most OTLP_MAX_DECODE; the
 * memory is reserved as the unpack uses it, not up front). *out is NULL on
 * -1. */
int otlp_protobuf_to_json(const uint8_t *body, size_t len, json_t **out, char *err, size_t errlen);

/* Encodes an ExportTraceServiceResponse into a new buffer (*out, free()) of
 * *out_len bytes. rejected_spans 0 and a NULL or empty error_message give the
 * empty message (*out NULL, *out_len 0); otherwise partial_success carries
 * them. Returns 0, or -1 when rejected_spans is negative. */
int otlp_response_protobuf(int64_t rejected_spans, const char *error_message, uint8_t **out,
                           size_t *out_len);

/* Undoes the Content-Encoding content_encoding of the in_len bytes at in into
 * a new buffer (*out, free(); never NULL on success, *out_len may be 0).
 * Codings: NULL or "identity" (a copy), "gzip" (also "x-gzip"), "deflate"
 * (zlib-wrapped, or raw deflate as some clients send it); names compare
 * without regard to case. Returns 0, or -1 on an unknown coding, corrupt or
 * truncated data, trailing bytes after the stream, or output beyond max_out
 * bytes (never more than max_out + 1 bytes are allocated for the output,
 * whatever the ratio). */
int otlp_inflate(const char *content_encoding, const uint8_t *in, size_t in_len, size_t max_out,
                 uint8_t **out, size_t *out_len);

#endif
