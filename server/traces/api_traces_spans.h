/* Spans from their JSON form into the store's records: the OTLP/JSON
 * request of POST /v1/traces (and the protobuf one once decoded to the
 * same shape) into span rows grouped by trace. The way out (OTLP span
 * JSON and traces.json) is span_writer.h. No SQL. */
#ifndef ET_SERVER_TRACES_API_TRACES_SPANS_H
#define ET_SERVER_TRACES_API_TRACES_SPANS_H

#include <jansson.h>
#include <stddef.h>

#include "core/arena.h"
#include "store_traces.h"

/* Caps of one span (larger input is refused with 400): */
#define SPAN_MAX_ATTR_BYTES (1024 * 1024) /* attributes as stored JSON */
#define SPAN_MAX_ATTRS 1000               /* attributes of a span or event */
#define SPAN_MAX_EVENTS 1000              /* events of a span */
#define SPAN_MAX_NAME 8000                /* characters of a span name */
#define SPAN_MAX_DEPTH 32                 /* nesting of array/kvlist values */
#define SPAN_MAX_BATCH 100000             /* spans of one request */

/* A decoded batch: spans sorted by (trace_id, span_id), and one summary
 * per trace (in the same order). Memory in the caller's arena. */
struct span_batch {
    struct trace_span *spans;
    size_t nspans;
    struct span_trace *traces;
    size_t ntraces;
    size_t nrejected;          /* spans left out for breaking a rule */
    const char *reject_reason; /* the first rule broken, naming the span */
};

/* Decodes an ExportTraceServiceRequest in OTLP/JSON form (camelCase or
 * snake_case keys; ids as hex, or base64 of the raw bytes) into *out.
 * A span that breaks a rule of its own (a bad id, time, name, kind,
 * status, attribute or event, a cap of one span, being its own parent) is
 * rejected alone; every copy of a span id given twice is rejected; a
 * parent cycle rejects the spans of that trace in the batch. Rejected
 * spans are counted in out->nrejected with the first reason; the others
 * are kept (a parent missing from the batch is fine). Returns -1 with err
 * set when the request itself is malformed (not an object, no
 * resourceSpans, a list that is not an array, more than SPAN_MAX_BATCH
 * spans) or when every span was rejected (err then gives the reason). */
int span_batch_decode(const json_t *request, struct arena *arena, struct span_batch *out, char *err,
                      size_t errlen);

/* The names after SPAN_KIND_ and STATUS_CODE_ of the OTLP enums, by number. */
extern const char *const span_kind_names[6];
extern const char *const span_status_names[3];

#endif
