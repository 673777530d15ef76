/* The request and wake-handle operations handlers call, forwarded to the
 * HTTP layer's tables (request_ops, wake_ops). Knows nothing of
 * libmicrohttpd, so handlers, auth and group commit link without http.c. */
#include "request.h"

#include <stddef.h>

#include "wake.h"

const char *request_header(const struct request *req, const char *name)
{
    if (req->ops == NULL || req->ops->header == NULL)
        return NULL;
    return req->ops->header(req, name);
}

struct wake *request_wake(const struct request *req)
{
    return req->ops->wake(req);
}

void wake_up(struct wake *w)
{
    w->ops->up(w);
}

void wake_unref(struct wake *w)
{
    if (w != NULL)
        w->ops->unref(w);
}
