/* A reply body of trace reads (traces/get, batchGet, the traces.json of
 * get-trace-artifact) written as it is sent: pieces of literal text and
 * the spans of open store cursors, rendered by span_writer a bounded piece
 * at a time when the connection asks for more. No span text is held whole:
 * a trace of 10,000 spans is megabytes of JSON, and building it in one
 * buffer cost fresh memory (page faults) and a copy on every read. No SQL;
 * the cursors' rows are already read. */
#ifndef ET_SERVER_TRACES_SPAN_STREAM_H
#define ET_SERVER_TRACES_SPAN_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "store_traces.h"

struct span_stream;

/* An empty body. */
struct span_stream *span_stream_new(void);

/* Appends literal text (copied) to the body. */
void span_stream_text(struct span_stream *s, const char *text);

/* Appends the spans of c, comma-separated, as OTLP span JSON (otlp 1) or
 * traces.json span objects (otlp 0); the stream takes c over (and closes
 * it when freed). */
void span_stream_spans(struct span_stream *s, struct span_cursor *c, int otlp);

/* A reply_stream_fn (reply.h): the next bytes of the body into buf, 0 at
 * the end. pos is not used (libmicrohttpd reads in order). */
ssize_t span_stream_read(void *state, uint64_t pos, char *buf, size_t max);

/* Frees the stream and closes its cursors (NULL is fine). */
void span_stream_free(void *state);

#endif
