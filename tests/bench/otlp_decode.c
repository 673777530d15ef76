/* Micro-benchmark of the OTLP protobuf decode (server/traces/otlp): builds
 * one ExportTraceServiceRequest of 512 spans shaped like the MLflow
 * client's (span type, JSON inputs and outputs of a few hundred bytes,
 * token usage, a model name, one event on every tenth span), decodes it N
 * times into OTLP/JSON and prints spans/s, so the figure can be set next
 * to the ingest rate of tests/bench. Wall clock and CPU time are both
 * printed: on a loaded machine only the second means much.
 *   otlp_decode [N]   (default 200) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector/trace/v1/trace_service.pb-c.h"
#include "traces/otlp/otlp.h"

#define SPANS 512
#define ATTRS 8

typedef Opentelemetry__Proto__Common__V1__KeyValue pb_kv;
typedef Opentelemetry__Proto__Common__V1__AnyValue pb_any;
typedef Opentelemetry__Proto__Trace__V1__Span pb_span;

static double clock_s(clockid_t which)
{
    struct timespec ts;
    clock_gettime(which, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void set_string(pb_kv *kv, pb_any *v, const char *key, const char *value)
{
    pb_kv kinit = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
    pb_any vinit = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    *kv = kinit;
    *v = vinit;
    v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
    v->string_value = (char *)value;
    kv->key = (char *)key;
    kv->value = v;
}

static void set_int(pb_kv *kv, pb_any *v, const char *key, int64_t value)
{
    set_string(kv, v, key, "");
    v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
    v->int_value = value;
}

/* Packs the request; returns a new buffer and its length in *len. */
static uint8_t *build_request(size_t *len)
{
    static uint8_t ids[SPANS][8];
    static uint8_t trace_id[16] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                                   0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01};
    static pb_span spans[SPANS];
    static pb_span *span_ptrs[SPANS];
    static pb_kv kvs[SPANS][ATTRS];
    static pb_kv *kv_ptrs[SPANS][ATTRS];
    static pb_any vals[SPANS][ATTRS];
    static Opentelemetry__Proto__Trace__V1__Span__Event events[SPANS];
    static Opentelemetry__Proto__Trace__V1__Span__Event *event_ptrs[SPANS];
    static Opentelemetry__Proto__Trace__V1__Status status =
        OPENTELEMETRY__PROTO__TRACE__V1__STATUS__INIT;
    static char names[SPANS][32];
    static const char inputs[] =
        "{\"messages\": [{\"role\": \"system\", \"content\": \"You are a helpful assistant that "
        "answers questions about the company's internal documentation.\"}, {\"role\": \"user\", "
        "\"content\": \"How do I rotate the signing keys of the staging cluster, and who has to "
        "approve it?\"}], \"model\": \"gpt-4o-mini\", \"temperature\": 0.2}";
    static const char outputs[] =
        "{\"choices\": [{\"index\": 0, \"message\": {\"role\": \"assistant\", \"content\": \"Run "
        "the rotate-keys job from the ops console; the on-call lead approves it.\"}, "
        "\"finish_reason\": \"stop\"}]}";
    status.code = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_OK;

    for (size_t i = 0; i < SPANS; i++) {
        pb_span init = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__INIT;
        spans[i] = init;
        for (int b = 0; b < 8; b++)
            ids[i][b] = (uint8_t)((i + 1) >> (8 * (b % 2))) ^ (uint8_t)(b * 37 + 1);
        spans[i].trace_id.data = trace_id;
        spans[i].trace_id.len = 16;
        spans[i].span_id.data = ids[i];
        spans[i].span_id.len = 8;
        if (i > 0) {
            spans[i].parent_span_id.data = ids[(i - 1) / 8];
            spans[i].parent_span_id.len = 8;
        }
        snprintf(names[i], sizeof names[i], "ChatCompletion_%zu", i);
        spans[i].name = names[i];
        spans[i].kind = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_INTERNAL;
        spans[i].start_time_unix_nano = 1700000000000000000ULL + i * 1000000ULL;
        spans[i].end_time_unix_nano = spans[i].start_time_unix_nano + 500000ULL;
        set_string(&kvs[i][0], &vals[i][0], "mlflow.spanType", "\"LLM\"");
        set_string(&kvs[i][1], &vals[i][1], "mlflow.spanInputs", inputs);
        set_string(&kvs[i][2], &vals[i][2], "mlflow.spanOutputs", outputs);
        set_string(&kvs[i][3], &vals[i][3], "mlflow.traceRequestId",
                   "\"tr-112233445566778899aabbccddeeff01\"");
        set_string(&kvs[i][4], &vals[i][4], "mlflow.chat.tokenUsage",
                   "{\"input_tokens\": 57, \"output_tokens\": 24, \"total_tokens\": 81}");
        set_string(&kvs[i][5], &vals[i][5], "gen_ai.request.model", "gpt-4o-mini");
        set_int(&kvs[i][6], &vals[i][6], "gen_ai.usage.input_tokens", 57);
        set_int(&kvs[i][7], &vals[i][7], "gen_ai.usage.output_tokens", 24);
        for (int a = 0; a < ATTRS; a++)
            kv_ptrs[i][a] = &kvs[i][a];
        spans[i].n_attributes = ATTRS;
        spans[i].attributes = kv_ptrs[i];
        if (i % 10 == 0) {
            Opentelemetry__Proto__Trace__V1__Span__Event e =
                OPENTELEMETRY__PROTO__TRACE__V1__SPAN__EVENT__INIT;
            events[i] = e;
            events[i].name = "retry";
            events[i].time_unix_nano = spans[i].start_time_unix_nano + 1000;
            event_ptrs[i] = &events[i];
            spans[i].n_events = 1;
            spans[i].events = &event_ptrs[i];
        }
        spans[i].status = &status;
        span_ptrs[i] = &spans[i];
    }
    Opentelemetry__Proto__Trace__V1__ScopeSpans ss =
        OPENTELEMETRY__PROTO__TRACE__V1__SCOPE_SPANS__INIT;
    ss.n_spans = SPANS;
    ss.spans = span_ptrs;
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ss_list[] = {&ss};
    Opentelemetry__Proto__Trace__V1__ResourceSpans rs =
        OPENTELEMETRY__PROTO__TRACE__V1__RESOURCE_SPANS__INIT;
    rs.n_scope_spans = 1;
    rs.scope_spans = ss_list;
    Opentelemetry__Proto__Trace__V1__ResourceSpans *rs_list[] = {&rs};
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest req =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
    req.n_resource_spans = 1;
    req.resource_spans = rs_list;
    *len =
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(
            &req);
    uint8_t *buf = malloc(*len);
    if (buf == NULL)
        exit(1);
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(&req, buf);
    return buf;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200;
    if (n <= 0) {
        fprintf(stderr, "usage: otlp_decode [N]\n");
        return 2;
    }
    size_t len;
    uint8_t *body = build_request(&len);
    char err[256];
    json_t *doc = NULL;
    if (otlp_protobuf_to_json(body, len, &doc, err, sizeof err) != 0) {
        fprintf(stderr, "otlp_decode: %s\n", err);
        return 1;
    }
    json_decref(doc); /* warm-up */

    double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    for (long i = 0; i < n; i++) {
        if (otlp_protobuf_to_json(body, len, &doc, err, sizeof err) != 0) {
            fprintf(stderr, "otlp_decode: %s\n", err);
            return 1;
        }
        json_decref(doc);
    }
    double secs = clock_s(CLOCK_MONOTONIC) - t0;
    double cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    double spans = (double)n * SPANS;
    printf("otlp_decode: %ld requests of %d spans (%zu bytes each) in %.3f s\n", n, SPANS, len,
           secs);
    printf("otlp_decode: %.0f spans/s, %.1f MB/s, %.3f ms per request (wall clock)\n", spans / secs,
           (double)n * (double)len / secs / 1e6, secs * 1e3 / (double)n);
    printf("otlp_decode: %.0f spans per CPU second, %.3f CPU ms per request\n", spans / cpu,
           cpu * 1e3 / (double)n);
    free(body);
    return 0;
}
