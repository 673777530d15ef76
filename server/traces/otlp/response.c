/* ExportTraceServiceResponse encoding (otlp.h). */
#include "otlp.h"

#include <stdlib.h>

#include "collector/trace/v1/trace_service.pb-c.h"

int otlp_response_protobuf(int64_t rejected_spans, const char *error_message, uint8_t **out,
                           size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (rejected_spans < 0)
        return -1;
    int has_message = error_message != NULL && error_message[0] != '\0';
    if (rejected_spans == 0 && !has_message)
        return 0; /* every field at its default: the empty message */

    Opentelemetry__Proto__Collector__Trace__V1__ExportTracePartialSuccess partial =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
    partial.rejected_spans = rejected_spans;
    if (has_message)
        partial.error_message = (char *)error_message;
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse resp =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
    resp.partial_success = &partial;

    size_t n =
        opentelemetry__proto__collector__trace__v1__export_trace_service_response__get_packed_size(
            &resp);
    uint8_t *buf = malloc(n);
    if (buf == NULL)
        return -1;
    *out_len =
        opentelemetry__proto__collector__trace__v1__export_trace_service_response__pack(&resp, buf);
    *out = buf;
    return 0;
}
