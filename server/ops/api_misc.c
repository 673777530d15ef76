/* Liveness and version endpoints. */
#include "api.h"
#include "db/store_health.h"
#include "version.h"

void api_health(const struct request *req, struct reply *r)
{
    (void)req;
    if (store_health_ok())
        reply_text(r, "text/plain; charset=utf-8", "OK");
    else
        reply_unavailable(r, 1, "database unavailable");
}

void api_version(const struct request *req, struct reply *r)
{
    (void)req;
    reply_text(r, "text/plain; charset=utf-8", MLFLOW_API_VERSION);
}
