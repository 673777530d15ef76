/* The operator's endpoints: GET /metrics (Prometheus text format),
 * GET /ready (200 only while the database answers, for load balancers) and
 * GET /api/openapi.json (docs/openapi.json, compiled in). /health, the
 * liveness check, stays in api_misc.c. */
#include "api.h"
#include "db/embedded.h"
#include "db/store_health.h"
#include "metrics.h"
#include "common/sbuf.h"

void api_prometheus(const struct request *req, struct reply *r)
{
    struct sbuf out;

    (void)req;
    sbuf_init(&out);
    metrics_render(&out);
    reply_text(r, "text/plain; version=0.0.4; charset=utf-8", out.data ? out.data : "");
    sbuf_cleanup(&out);
}

void api_ready(const struct request *req, struct reply *r)
{
    (void)req;
    if (store_health_ok()) {
        reply_text(r, "text/plain; charset=utf-8", "ready\n");
        return;
    }
    reply_unavailable(r, 1, "database unavailable\n");
}

/* docs/openapi.json, embedded by cmake/embed.cmake (server/CMakeLists.txt). */
extern const struct embedded_file openapi_files[];
extern const size_t openapi_files_count;

void api_openapi(const struct request *req, struct reply *r)
{
    (void)req;
    if (openapi_files_count == 0) {
        reply_error(r, ERR_ENDPOINT_NOT_FOUND, "no OpenAPI document in this build");
        return;
    }
    reply_text(r, "application/json", (const char *)openapi_files[0].data);
}
