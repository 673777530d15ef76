/* libFuzzer target for the OTLP protobuf side of POST /v1/traces
 * (server/traces/otlp). The first byte picks what the rest is: an
 * ExportTraceServiceRequest to decode, the same behind gzip or deflate
 * (inflated with a 1 MiB cap first), or the input of a response encoding
 * that is unpacked again and compared. Checks that an error always has a
 * message, that what the wire scan accepts protobuf-c unpacks too, and that
 * every decoded span has ids of the right form and dumps as JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/trace/v1/trace_service.pb-c.h"
#include "traces/otlp/otlp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_hex(const char *s, size_t n)
{
    if (s == NULL || strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static void check_doc(json_t *doc)
{
    json_t *list = json_object_get(doc, "resourceSpans");
    if (!json_is_array(list))
        abort();
    size_t i, j, k;
    json_t *rs, *ss, *span;
    json_array_foreach(list, i, rs)
    {
        json_array_foreach(json_object_get(rs, "scopeSpans"), j, ss)
        {
            json_array_foreach(json_object_get(ss, "spans"), k, span)
            {
                if (!is_hex(json_string_value(json_object_get(span, "traceId")), 32) ||
                    !is_hex(json_string_value(json_object_get(span, "spanId")), 16))
                    abort();
                json_t *parent = json_object_get(span, "parentSpanId");
                if (parent != NULL && !is_hex(json_string_value(parent), 16))
                    abort();
                if (!json_is_string(json_object_get(span, "startTimeUnixNano")))
                    abort();
            }
        }
    }
    char *text = json_dumps(doc, JSON_COMPACT);
    if (text == NULL)
        abort();
    free(text);
}

static void decode(const uint8_t *body, size_t len)
{
    json_t *doc = NULL;
    char err[512] = "";
    if (otlp_protobuf_to_json(body, len, &doc, err, sizeof err) != 0) {
        /* a refusal names its reason and returns nothing; the byte scan
         * names most reasons precisely, and what it lets through that
         * protobuf-c still refuses gets the generic "not an
         * ExportTraceServiceRequest" (a 400 either way) */
        if (err[0] == '\0' || doc != NULL)
            abort();
        return;
    }
    check_doc(doc);
    json_decref(doc);
}

static void response(const uint8_t *data, size_t size)
{
    int64_t rejected = 0;
    if (size >= 8) {
        memcpy(&rejected, data, 8);
        data += 8;
        size -= 8;
    }
    char *message = malloc(size + 1);
    memcpy(message, data, size);
    message[size] = '\0';
    uint8_t *out = NULL;
    size_t out_len = 0;
    int rc = otlp_response_protobuf(rejected, message, &out, &out_len);
    if (rejected < 0) {
        if (rc != -1)
            abort();
    } else if (rc != 0) {
        abort();
    } else if (rejected == 0 && message[0] == '\0') {
        if (out_len != 0)
            abort();
    } else {
        Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse *r =
            opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(
                NULL, out_len, out);
        if (r == NULL || r->partial_success == NULL ||
            r->partial_success->rejected_spans != rejected ||
            strcmp(r->partial_success->error_message, message) != 0)
            abort();
        opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(
            r, NULL);
    }
    free(out);
    free(message);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char *const codings[] = {"gzip", "deflate"};
    uint8_t mode = data[0] % 4;
    data++;
    size--;
    if (mode == 0) {
        decode(data, size);
    } else if (mode == 3) {
        response(data, size);
    } else {
        uint8_t *plain = NULL;
        size_t plain_len = 0;
        if (otlp_inflate(codings[mode - 1], data, size, 1 << 20, &plain, &plain_len) == 0) {
            if (plain_len > (1 << 20))
                abort();
            decode(plain, plain_len);
            free(plain);
        } else if (plain != NULL) {
            abort();
        }
    }
    return 0;
}
