/* POST /v1/traces: OTLP/HTTP span ingest (mlflow-models-api.md 3.10,
 * 3.11). The body is streamed into a buffer (capped), inflated when it has
 * a Content-Encoding (gzip, deflate; the inflated size has the same cap),
 * then decoded: application/json as OTLP/JSON here; application/x-protobuf
 * through server/traces/otlp/ into the same JSON shape, so both go through
 * one span decoder. One transaction per request (store_spans_ingest).
 * A span that breaks a rule of its own is rejected and the others are
 * stored: the 200 then carries OTLP's partial_success (rejected count and
 * the first reason). So are the spans of a trace stored in another
 * experiment. A request that is malformed as a whole, or whose spans were
 * all rejected, is a 400 and stores nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "api_traces_common.h"
#include "api_traces_spans.h"
#include "events/change_feed.h"
#include "core/jsonalloc.h"
#include "core/reply_store.h"
#include "common/sbuf.h"
#include "common/xalloc.h"
#include "traces/otlp/otlp.h"

/* Largest request body read, and largest once inflated: --max-body-size,
 * as for every other route's body (api_traces_otlp_configure). */
static size_t otlp_max_body = 16 * 1024 * 1024;

void api_traces_otlp_configure(size_t max_body)
{
    otlp_max_body = max_body;
}

/* The JSON tree of one request, parsed from an OTLP/JSON body or built
 * from a protobuf one, with the span decode's own JSON work (a few small
 * parses of derived values; the attribute text is written without a tree),
 * lives in the thread's jsonalloc arena under the budget every request
 * body has (jx_body_tree_budget). The bench's 512-span batch (465 KB of
 * OTLP/JSON) took 5.5 MB, 12 times its body, when the decode still built a
 * tree per span's attributes; a body of tiny objects takes 40 times its
 * size and more and is refused with 413 instead of costing hundreds of MB. */

struct otlp_upload {
    struct sbuf body;
    int64_t experiment_id;
    int protobuf;         /* application/x-protobuf, else OTLP/JSON */
    const char *encoding; /* a static coding name for otlp_inflate ("identity": none) */
};

/* The Content-Encoding names otlp_inflate knows, as static strings; NULL
 * for anything else. "identity" and absent come back as "identity". */
static const char *known_encoding(const char *encoding)
{
    static const char *const names[] = {"identity", "gzip", "x-gzip", "deflate"};
    if (encoding == NULL || encoding[0] == '\0')
        return names[0];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(encoding, names[i]) == 0)
            return names[i];
    return NULL;
}

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
    int protobuf = media_is(type, "application/x-protobuf");
    if (!protobuf && !media_is(type, "application/json")) {
        reply_error(r, ERR_UNSUPPORTED_MEDIA_TYPE,
                    "Unsupported Content-Type '%.100s': send application/x-protobuf or "
                    "application/json (OTLP/HTTP)",
                    type ? type : "");
        return NULL;
    }
    const char *coding = known_encoding(encoding);
    if (coding == NULL) {
        reply_error(r, ERR_UNSUPPORTED_MEDIA_TYPE,
                    "Unsupported Content-Encoding '%.40s': send gzip, deflate or identity",
                    encoding);
        return NULL;
    }
    if (length != NULL && strtoull(length, NULL, 10) > otlp_max_body) {
        reply_error(r, ERR_PAYLOAD_TOO_LARGE,
                    "the request body exceeds the limit of %zu bytes (--max-body-size)",
                    otlp_max_body);
        return NULL;
    }
    struct otlp_upload *up = xcalloc(1, sizeof *up);
    sbuf_init(&up->body);
    up->experiment_id = id;
    up->protobuf = protobuf;
    up->encoding = coding;
    return up;
}

static int otlp_data(void *state, const char *buf, size_t len, struct reply *r)
{
    struct otlp_upload *up = state;
    if (len > otlp_max_body - up->body.len) {
        reply_error(r, ERR_PAYLOAD_TOO_LARGE,
                    "the request body exceeds the limit of %zu bytes (--max-body-size)",
                    otlp_max_body);
        return -1;
    }
    sbuf_add(&up->body, buf, len);
    return 0;
}

/* Counts the spans of the traces the store left alone (stored in another
 * experiment) as rejected, with a reason naming the first such trace. */
static void reject_foreign(struct span_batch *b, int64_t experiment_id, struct arena *arena)
{
    for (size_t t = 0, i = 0; t < b->ntraces; t++) {
        size_t n = 0;
        while (i < b->nspans && strcmp(b->spans[i].trace_id, b->traces[t].trace_id) < 0)
            i++;
        while (i < b->nspans && strcmp(b->spans[i].trace_id, b->traces[t].trace_id) == 0) {
            i++;
            n++;
        }
        if (!b->traces[t].foreign || n == 0)
            continue;
        if (b->nrejected == 0) {
            char why[200];
            snprintf(why, sizeof why,
                     "trace %s is stored in another experiment than %lld (a trace never moves "
                     "between experiments)",
                     b->traces[t].trace_id, (long long)experiment_id);
            b->reject_reason = arena_strdup(arena, why);
        }
        b->nrejected += n;
    }
}

/* The partial_success error_message: the first reason, with the count
 * when more than one span was rejected. */
static void reject_message(const struct span_batch *b, char *out, size_t len)
{
    if (b->nrejected == 1)
        snprintf(out, len, "1 span rejected: %s", b->reject_reason);
    else
        snprintf(out, len, "%zu spans rejected; the first: %s", b->nrejected, b->reject_reason);
}

/* The 200 ExportTraceServiceResponse: empty when every span was stored,
 * else with partial_success {rejected_spans, error_message}; protobuf or
 * OTLP/JSON (lowerCamelCase, the int64 as a decimal string) as the
 * request was. */
static void reply_accepted(struct reply *r, int protobuf, const struct span_batch *b)
{
    char msg[700];
    msg[0] = '\0';
    if (b->nrejected > 0)
        reject_message(b, msg, sizeof msg);
    if (protobuf) {
        uint8_t *buf;
        size_t len;
        if (otlp_response_protobuf((int64_t)b->nrejected, msg, &buf, &len) != 0) {
            reply_error(r, ERR_INTERNAL_ERROR, "could not encode the response");
            return;
        }
        /* the body is bytes: reply_json_text stores it with its length;
         * the type is then set to what it is */
        reply_json_text(r, buf ? (char *)buf : xstrdup(""), len);
        r->content_type = "application/x-protobuf";
        return;
    }
    if (b->nrejected == 0) {
        reply_json(r, json_object());
        return;
    }
    char count[24];
    snprintf(count, sizeof count, "%zu", b->nrejected);
    reply_json(r, json_pack("{s:{s:s,s:s}}", "partialSuccess", "rejectedSpans", count,
                            "errorMessage", msg));
}

/* Decodes and stores the batch; the reply says how it went. The request's
 * JSON tree and the decode's JSON work live in the thread's jsonalloc
 * arena, bounded by jx_body_tree_budget() and rewound at the end; the span records
 * point into the tree, so it lives until the store is done. */
static void ingest(struct otlp_upload *up, struct reply *r)
{
    struct arena arena;
    struct span_batch batch;
    char err[600];
    json_error_t jerr;

    json_t *doc = NULL;
    uint8_t *plain = NULL;
    const uint8_t *body = (const uint8_t *)(up->body.data ? up->body.data : "");
    size_t len = up->body.len;
    int refused, decoded;

    arena_init(&arena);
    if (strcmp(up->encoding, "identity") != 0) {
        if (otlp_inflate(up->encoding, body, len, otlp_max_body, &plain, &len) != 0) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                        "The body could not be decoded as Content-Encoding %s: corrupt, "
                        "truncated, or over %zu bytes once inflated (--max-body-size)",
                        up->encoding, otlp_max_body);
            goto out;
        }
        body = plain;
    }
    size_t budget = jx_body_tree_budget(len);
    jsonalloc_scope_begin(budget);
    if (up->protobuf) {
        decoded = otlp_protobuf_to_json(body, len, &doc, err, sizeof err) == 0;
    } else {
        doc = json_loadb((const char *)body, len, 0, &jerr);
        decoded = doc != NULL;
    }
    if (jsonalloc_scope_end()) {
        jx_reply_tree_too_big(r, budget);
        goto out;
    }
    if (!decoded && up->protobuf) {
        /* 400 as MLflow answers it (its 422 is for a span that parses but
         * fails conversion) and as OTLP/HTTP specifies for a body that
         * cannot be decoded; exporters retry only 429, 502, 503 and 504,
         * so they drop it instead of sending it again (docs/api.md) */
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid OTLP request (ExportTraceServiceRequest protobuf): %s", err);
        goto out;
    }
    if (!decoded) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "The body is not valid JSON: %s (at %d:%d)",
                    jerr.text, jerr.line, jerr.column);
        goto out;
    }
    jsonalloc_scope_begin(budget);
    int bad = span_batch_decode(doc, &arena, &batch, err, sizeof err);
    refused = jsonalloc_scope_end();
    if (refused) {
        jx_reply_tree_too_big(r, budget);
        goto out;
    }
    if (bad != 0) {
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
                    "Every trace of this request is stored in another experiment than %lld "
                    "(a trace never moves between experiments)",
                    (long long)up->experiment_id);
    else if (rc != DB_OK)
        trace_write_error(r, rc, up->experiment_id, "");
    else {
        change_feed_traces(up->experiment_id);
        reject_foreign(&batch, up->experiment_id, &arena);
        reply_accepted(r, up->protobuf, &batch);
    }
out:
    /* The tree was built wholly in the thread's jsonalloc arena (inside
     * the scopes above, every node and hash table of it), so the reset
     * drops it at once; a json_decref would walk it node by node only to
     * free nothing. Nothing points into the arena after this. */
    jsonalloc_reset();
    free(plain);
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
