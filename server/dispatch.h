/* The glue between the HTTP layer and the layers above it: the
 * http_dispatch table (core/http.h) that main.c hands to http_start, tying
 * the route table, the auth hooks and the metrics observer together. It
 * lives here, not in core/, so that core/ depends on no domain. */
#ifndef ET_SERVER_DISPATCH_H
#define ET_SERVER_DISPATCH_H

#include "core/http.h"

/* The route table (routes.c) behind auth_request/auth_after_finish (auth.h), with
 * metrics_request (ops/metrics.h) as the observer. Static; never freed. */
extern const struct http_dispatch dispatch_routes;

#endif
