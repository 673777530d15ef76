/* http_dispatch over the route table: lookup, the auth hooks around each
 * handler, streamed uploads, and the per-request metrics. No HTTP library
 * here, and no decisions of its own: each step is the route table's, auth's
 * or the handler's. */
#include "dispatch.h"

#include "auth/auth.h"
#include "ops/metrics.h"
#include "routes.h"

static enum http_match match(const char *method, const char *path, const void **route,
                             unsigned *flags)
{
    const struct route *rt = NULL;
    enum route_match m = routes_match(method, path, &rt);
    if (m == ROUTE_NO_PATH)
        return HTTP_MATCH_NO_PATH;
    if (m == ROUTE_BAD_METHOD)
        return HTTP_MATCH_BAD_METHOD;
    *route = rt;
    *flags = (rt->body == BODY_JSON ? HTTP_ROUTE_JSON : 0u) |
             (rt->body == BODY_STREAM ? HTTP_ROUTE_STREAM : 0u);
    return HTTP_MATCH_FOUND;
}

static int handle(const void *route, struct request *req, struct reply *r)
{
    const struct route *rt = route;
    if (auth_request(req, rt, r) != 0) /* hosts, origins, credentials, rules */
        return -1;
    rt->handler(req, r);
    if (r->finish == NULL) /* deferred replies are of unaudited routes */
        auth_after(req, rt, r);
    return 0;
}

static void *upload_begin(const void *route, struct request *req, struct reply *r)
{
    const struct route *rt = route;
    if (auth_request(req, rt, r) != 0)
        return NULL;
    return rt->upload->begin(req, r);
}

static int upload_data(const void *route, void *state, const char *buf, size_t len, struct reply *r)
{
    return ((const struct route *)route)->upload->data(state, buf, len, r);
}

static void upload_end(const void *route, void *state, int complete, struct reply *r)
{
    ((const struct route *)route)->upload->end(state, complete, r);
}

static void observe(const void *route, const char *method, int status, double seconds,
                    size_t bytes_in, size_t bytes_out)
{
    metrics_request(route, method, status, seconds, bytes_in, bytes_out);
}

const struct http_dispatch dispatch_routes = {match,       handle,     upload_begin,
                                              upload_data, upload_end, observe};
