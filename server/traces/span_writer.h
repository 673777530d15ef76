/* Stored spans written straight into reply text, one span at a time: the
 * OTLP Span JSON of traces/get and batchGet (mlflow-models-api.md 3.11)
 * and the span objects of traces.json (3.3). The attributes and events
 * come as the store's JSON text and are transcoded as they are read (no
 * jansson tree per span), so a trace of 10,000 spans costs one pass over
 * its text. No SQL, no HTTP. */
#ifndef ET_SERVER_TRACES_SPAN_WRITER_H
#define ET_SERVER_TRACES_SPAN_WRITER_H

#include "common/sbuf.h"
#include "store_traces.h"

/* The output buffer and two scratch buffers reused from span to span. */
struct span_writer {
    struct sbuf *out;
    struct sbuf str;  /* a decoded string */
    struct sbuf text; /* a value's compact text (traces.json attributes) */
};

/* Writes into out (the caller's; appended to). */
void span_writer_init(struct span_writer *w, struct sbuf *out);

/* Frees the scratch buffers (not out). */
void span_writer_cleanup(struct span_writer *w);

/* Appends s as one OTLP Span object, snake_case: trace_id (of the id
 * without "tr-"), span_id and parent_span_id as base64, name, trace_state
 * and kind ("SPAN_KIND_*") when set, times as numbers, attributes as
 * [{key, value: AnyValue}] and events as [{time_unix_nano, name,
 * attributes?}] when any, status {code: "STATUS_CODE_*", message?}. An
 * attribute or events text that does not parse is left out. */
void span_writer_otlp(struct span_writer *w, const struct trace_span *s);

/* Appends s as one span object of traces.json: trace_id, span_id,
 * parent_span_id (null for a root), trace_state (""), name, the times,
 * events as stored, status {code, message}, and attributes as {key:
 * JSON-encoded text} (a string value that already is JSON text is kept
 * as it is, as MLflow's own attributes are). */
void span_writer_file(struct span_writer *w, const struct trace_span *s);

/* A list of spans being written: the writer, the shape, and how many were
 * written so far. */
struct span_list {
    struct span_writer w;
    int otlp; /* 1: span_writer_otlp, 0: span_writer_file */
    size_t written;
};

/* A span list callback (ctx: a struct span_list): appends s to the
 * list's output, after a comma from the second span on. Returns 0. */
int span_list_add(void *ctx, const struct trace_span *s);

#endif
