/* The server's own counters for /metrics (Prometheus text format): requests
 * and their durations by route and status, points and bytes ingested, group
 * commit, database pool state and errors, build info. Lock-free counters; no
 * labels beyond the route table's rows and fixed sets, so the series count
 * is bounded. */
#ifndef ET_SERVER_METRICS_H
#define ET_SERVER_METRICS_H

#include <stddef.h>

#include "routes.h"
#include "common/sbuf.h"

/* Allocates the per-route counters for the route table routes[0..n-1]
 * (routes_table), which is kept, not copied, and labels the series. Call
 * once before the HTTP server starts. */
void metrics_init(const struct route *routes, size_t n);

/* Counts one answered request: its route (a row of the table given to
 * metrics_init; NULL: none matched), method, status, duration (from the
 * request line to the queued reply) and body bytes in and out (out: 0 for
 * a streamed reply, whose bytes metrics_response_bytes adds when it
 * ends). Thread-safe. */
void metrics_request(const struct route *route, const char *method, int status, double seconds,
                     size_t bytes_in, size_t bytes_out);

/* Adds the body bytes of a streamed reply that has ended (route as in
 * metrics_request) to the bytes-out counters. Thread-safe. */
void metrics_response_bytes(const struct route *route, size_t bytes_out);

/* Counts metric points accepted by a write (after its commit). Thread-safe. */
void metrics_points(size_t points);

/* Group commit (tracking/group_commit.c) reports here as it changes; these
 * feed the exptrack_group_commit_* series. Thread-safe. */

/* Group commit was started (1) or stopped or is off (0). */
void metrics_group_commit_enabled(int enabled);

/* One group committed: requests written in it and their points. */
void metrics_group_commit_group(size_t requests, size_t points);

/* One request gave up waiting in the group-commit queue (answered 503). */
void metrics_group_commit_timeout(void);

/* Webhooks (webhooks/delivery.c): n outbox rows were committed. Thread-safe. */
void metrics_webhook_queued(size_t n);

/* Webhooks: one delivery attempt ended: 0 delivered, 1 to be retried, 2
 * failed for good. Thread-safe. */
void metrics_webhook_delivery(int outcome);

/* The registry read cache (registry/read_cache.c): what one lookup or
 * invalidation did. */
enum metrics_cache_event {
    METRICS_CACHE_HIT,
    METRICS_CACHE_MISS,
    METRICS_CACHE_BYPASS, /* the LISTEN hub was not listening */
    METRICS_CACHE_INVALIDATION,
    METRICS_CACHE_EVENTS
};

/* Counts one registry read cache event. Thread-safe. */
void metrics_read_cache(enum metrics_cache_event what);

/* Appends the whole exposition (text format 0.0.4) to out. */
void metrics_render(struct sbuf *out);

#endif
