/* POST /v1/traces: OTLP/HTTP span ingest (mlflow-models-api.md 3.10,
 * 3.11). The body is streamed into a buffer (capped), then decoded:
 * application/json as OTLP/JSON here; application/x-protobuf through
 * server/traces/otlp/ into the same JSON shape (wired at the merge of that
 * branch: until then it is answered 415). One transaction per request
 * (store_spans_ingest); a bad span refuses the whole batch, so the
 * response never reports rejected spans. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "api_traces_common.h"
#include "api_traces_spans.h"
#include "core/reply_store.h"
#include "core/sbuf.h"
#include "core/xalloc.h"

/* Largest request body read (before any decompression). */
#define OTLP_MAX_BODY (64 * 1024 * 1024)

struct otlp_upload {
    struct sbuf body;
    int64_t experiment_id;
};

/* 1 when the Content-Type's media type (before ';') is type. */
static int media_is(const char *content_type, const char *type)
{
    size_t n = strlen(type);
    if (content_type == NULL || strncasecmp(content_type, type, n) != 0)
        return 0;
    return content_type[n] == '\0' || content_type[n] == ';' || content_type[n] == ' ';
}

static void *otlp_begin(const struct request *req, struct reply *r)
{
    const char *exp = request_header(req, "x-mlflow-experiment-id");
    const char *type = request_header(req, "Content-Type");
    const char *encoding = request_header(req, "Content-Encoding");
    const char *length = request_header(req, "Content-Length");
    int64_t id;

    if (exp == NULL || exp[0] == '\0') {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Missing required header 'x-mlflow-experiment-id': the experiment the spans "
                    "go to");
        return NULL;
    }
    if (exp[0] < '0' || exp[0] > '9' || jx_parse_int64_text(exp, &id) != 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid header 'x-mlflow-experiment-id': '%.40s' is not an experiment id",
                    exp);
        return NULL;
    }
    if (media_is(type, "application/x-protobuf")) {
        /* MERGE(otlp): otlp_inflate() + otlp_protobuf_to_json() go here and
         * in otlp_end; until then the protobuf form is not read. */
        reply_error(r, ERR_UNSUPPORTED_MEDIA_TYPE,
                    "Content-Type application/x-protobuf is not supported by this build yet; "
                    "send OTLP/JSON (application/json)");
        return NULL;
    }
    if (!media_is(type, "application/json")) {
        reply_error(r, ERR_UNSUPPORTED_MEDIA_TYPE,
                    "Unsupported Content-Type '%.100s': send application/json (OTLP/JSON)",
                    type ? type : "");
        return NULL;
    }
    if (encoding != NULL && strcasecmp(encoding, "identity") != 0) {
        reply_error(r, ERR_UNSUPPORTED_MEDIA_TYPE,
                    "Unsupported Content-Encoding '%.40s': send the body uncompressed", encoding);
        return NULL;
    }
    if (length != NULL && strtoll(length, NULL, 10) > OTLP_MAX_BODY) {
        reply_error(r, ERR_PAYLOAD_TOO_LARGE, "the request body exceeds the limit of %d bytes",
                    OTLP_MAX_BODY);
        return NULL;
    }
    struct otlp_upload *up = xcalloc(1, sizeof *up);
    sbuf_init(&up->body);
    up->experiment_id = id;
    return up;
}

static int otlp_data(void *state, const char *buf, size_t len, struct reply *r)
{
    struct otlp_upload *up = state;
    if (up->body.len + len > OTLP_MAX_BODY) {
        reply_error(r, ERR_PAYLOAD_TOO_LARGE, "the request body exceeds the limit of %d bytes",
                    OTLP_MAX_BODY);
        return -1;
    }
    sbuf_add(&up->body, buf, len);
    return 0;
}

/* Decodes and stores the batch; the reply says how it went. */
static void ingest(struct otlp_upload *up, struct reply *r)
{
    struct arena arena;
    struct span_batch batch;
    char err[600];
    json_error_t jerr;

    arena_init(&arena);
    json_t *doc = json_loadb(up->body.data ? up->body.data : "", up->body.len, 0, &jerr);
    if (doc == NULL) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "The body is not valid JSON: %s (at %d:%d)",
                    jerr.text, jerr.line, jerr.column);
        goto out;
    }
    if (span_batch_decode(doc, &arena, &batch, err, sizeof err) != 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "Invalid OTLP request: %s", err);
        goto out;
    }
    if (batch.nspans == 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "Invalid OTLP request: it holds no spans");
        goto out;
    }
    int rc = store_spans_ingest(up->experiment_id, batch.traces, batch.ntraces, batch.spans,
                                batch.nspans);
    if (rc == DB_TRACE_OTHER_EXPERIMENT)
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "A trace of this request is stored in another experiment than %lld",
                    (long long)up->experiment_id);
    else if (rc != DB_OK)
        trace_write_error(r, rc, up->experiment_id, "");
    else
        reply_json(r, json_object()); /* ExportTraceServiceResponse: all accepted */
out:
    json_decref(doc);
    arena_cleanup(&arena);
}

static void otlp_end(void *state, int complete, struct reply *r)
{
    struct otlp_upload *up = state;
    if (complete)
        ingest(up, r);
    sbuf_cleanup(&up->body);
    free(up);
}

const struct upload_ops api_traces_otlp_upload = {otlp_begin, otlp_data, otlp_end};
