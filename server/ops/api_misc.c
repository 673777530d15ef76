/* Liveness and version endpoints. */
#include "api.h"
#include "db/store_health.h"
#include "version.h"

void api_health(const struct request *req, struct reply *r)
{
    (void)req;
    if (store_health_ok())
        reply_text(r, 200, "text/plain; charset=utf-8", "OK");
    else {
        reply_text(r, 503, "text/plain; charset=utf-8", "database unavailable");
        r->retry_after = 1;
    }
}

void api_version(const struct request *req, struct reply *r)
{
    (void)req;
    reply_text(r, 200, "text/plain; charset=utf-8", EXPTRACK_VERSION);
}
