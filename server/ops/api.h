/* Handlers of server/ops/: health, readiness, version, /metrics, the OpenAPI
 * document and the dashboard's files. */
#ifndef ET_SERVER_OPS_API_H
#define ET_SERVER_OPS_API_H

#include "routes.h"

/* api_misc.c */
void api_health(const struct request *req, struct reply *r);
void api_version(const struct request *req, struct reply *r);

/* api_ops.c: GET /metrics (Prometheus text format 0.0.4), GET /ready
 * (200 "ready" while the database answers, else 503 with Retry-After). */
void api_prometheus(const struct request *req, struct reply *r);
void api_ready(const struct request *req, struct reply *r);
/* GET /api/openapi.json: the OpenAPI 3 document of the whole API. */
void api_openapi(const struct request *req, struct reply *r);

/* api_web.c: the dashboard. GET / answers index.html; GET /static/<path>
 * answers web/<path> (embedded, or from --web-dir), gzip-encoded when the
 * client accepts it, with an ETag (304 on If-None-Match) and no-cache. */
void api_web_index(const struct request *req, struct reply *r);
void api_web_static(const struct request *req, struct reply *r);

#endif
