/* Counters behind /metrics. Per (route, status class) request counts and a
 * fixed-bucket duration histogram, all relaxed atomics: a scrape may see a
 * request counted in one series a moment before another, never a torn value. */
#include "metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/http.h"
#include "db/db.h"
#include "db/replicas.h"
#include "events/notify.h"
#include "version.h"
#include "common/xalloc.h"

static const double bucket_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                       0.1,    0.25,  0.5,    1,     2.5,  5,     10};
#define NBUCKETS (sizeof bucket_bounds / sizeof bucket_bounds[0])

/* The statuses the server answers; anything else counts as "other". */
static const int statuses[] = {200, 201, 204, 206, 304, 400, 401, 403, 404, 405,
                               409, 413, 416, 429, 500, 501, 503, 504, 507, 0};
#define NSTATUS (sizeof statuses / sizeof statuses[0])

struct series {
    atomic_ullong count;
    atomic_ullong micros; /* sum of durations */
    atomic_ullong le[NBUCKETS];
};

static struct series *table; /* [route or unmatched][status] */
static const struct route *routes;
static size_t nroutes;
static atomic_ullong bytes_in, bytes_out, points_in, artifact_in, artifact_out;
/* Webhook outbox rows committed, and delivery attempts by outcome. */
static atomic_ullong webhook_queued, webhook_outcomes[3];
static atomic_ullong read_cache_events[METRICS_CACHE_EVENTS];

/* Group commit's counters, pushed by group_commit.c; one lock so that a
 * scrape sees a group counted in every series or in none. */
#define GROUP_COMMIT_BUCKETS 8
static const unsigned group_bounds[GROUP_COMMIT_BUCKETS] = {1, 2, 4, 8, 16, 32, 64, 1024};
static pthread_mutex_t group_mu = PTHREAD_MUTEX_INITIALIZER;
struct group_counters {
    int enabled;
    unsigned long long groups, requests, points;
    unsigned long long size_le[GROUP_COMMIT_BUCKETS]; /* cumulative */
    unsigned long long queue_timeouts;
};
static struct group_counters group_stats;

void metrics_init(const struct route *table_routes, size_t n)
{
    routes = table_routes;
    nroutes = n;
    table = xcalloc((nroutes + 1) * NSTATUS, sizeof *table);
}

static size_t status_index(int status)
{
    for (size_t i = 0; i + 1 < NSTATUS; i++)
        if (statuses[i] == status)
            return i;
    return NSTATUS - 1;
}

void metrics_request(const struct route *route, const char *method, int status, double seconds,
                     size_t in, size_t out)
{
    (void)method;
    if (table == NULL)
        return;
    size_t r = route != NULL ? (size_t)(route - routes) : nroutes;
    if (r > nroutes)
        r = nroutes;
    struct series *s = &table[r * NSTATUS + status_index(status)];
    atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->micros, (unsigned long long)(seconds * 1e6),
                              memory_order_relaxed);
    for (size_t b = 0; b < NBUCKETS; b++)
        if (seconds <= bucket_bounds[b])
            atomic_fetch_add_explicit(&s->le[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&bytes_in, in, memory_order_relaxed);
    if (route != NULL && strstr(route->path, "artifact") != NULL)
        atomic_fetch_add_explicit(&artifact_in, in, memory_order_relaxed);
    metrics_response_bytes(route, out);
}

void metrics_response_bytes(const struct route *route, size_t out)
{
    atomic_fetch_add_explicit(&bytes_out, out, memory_order_relaxed);
    if (route != NULL && strstr(route->path, "artifact") != NULL)
        atomic_fetch_add_explicit(&artifact_out, out, memory_order_relaxed);
}

void metrics_points(size_t points)
{
    atomic_fetch_add_explicit(&points_in, points, memory_order_relaxed);
}

void metrics_group_commit_enabled(int enabled)
{
    pthread_mutex_lock(&group_mu);
    group_stats.enabled = enabled;
    pthread_mutex_unlock(&group_mu);
}

void metrics_group_commit_group(size_t requests, size_t points)
{
    pthread_mutex_lock(&group_mu);
    group_stats.groups++;
    group_stats.requests += requests;
    group_stats.points += points;
    for (int b = 0; b < GROUP_COMMIT_BUCKETS; b++)
        if (requests <= group_bounds[b])
            group_stats.size_le[b]++;
    pthread_mutex_unlock(&group_mu);
}

void metrics_group_commit_timeout(void)
{
    pthread_mutex_lock(&group_mu);
    group_stats.queue_timeouts++;
    pthread_mutex_unlock(&group_mu);
}

static unsigned long long load(atomic_ullong *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

/* Writes one route's label pair: route="GET /api/2.0/mlflow/runs/get". */
static void route_labels(struct sbuf *out, size_t r, size_t st)
{
    if (r == nroutes) {
        sbuf_adds(out, "route=\"unmatched\"");
    } else {
        const char *prefix =
            routes[r].mount == MOUNT_API || routes[r].mount == MOUNT_API_PREFIX ? "/api/2.0" : "";
        sbuf_addf(out, "method=\"%s\",route=\"%s%s%s\"", routes[r].method, prefix, routes[r].path,
                  routes[r].mount == MOUNT_ROOT_PREFIX || routes[r].mount == MOUNT_API_PREFIX ? "*"
                                                                                              : "");
    }
    if (statuses[st] != 0)
        sbuf_addf(out, ",status=\"%d\"", statuses[st]);
    else
        sbuf_adds(out, ",status=\"other\"");
}

static void render_requests(struct sbuf *out)
{
    sbuf_adds(out, "# HELP http_server_request_duration_seconds Time from the request line to "
                   "the queued reply (a streamed reply's body is sent after it).\n"
                   "# TYPE http_server_request_duration_seconds histogram\n");
    for (size_t r = 0; r <= nroutes; r++) {
        for (size_t st = 0; st < NSTATUS; st++) {
            struct series *s = &table[r * NSTATUS + st];
            unsigned long long count = load(&s->count);
            if (count == 0)
                continue;
            for (size_t b = 0; b < NBUCKETS; b++) {
                sbuf_adds(out, "http_server_request_duration_seconds_bucket{");
                route_labels(out, r, st);
                sbuf_addf(out, ",le=\"%g\"} %llu\n", bucket_bounds[b], load(&s->le[b]));
            }
            sbuf_adds(out, "http_server_request_duration_seconds_bucket{");
            route_labels(out, r, st);
            sbuf_addf(out, ",le=\"+Inf\"} %llu\n", count);
            sbuf_adds(out, "http_server_request_duration_seconds_sum{");
            route_labels(out, r, st);
            sbuf_addf(out, "} %.6f\n", (double)load(&s->micros) / 1e6);
            sbuf_adds(out, "http_server_request_duration_seconds_count{");
            route_labels(out, r, st);
            sbuf_addf(out, "} %llu\n", count);
        }
    }
    sbuf_adds(out, "# HELP http_server_requests_total Requests answered.\n"
                   "# TYPE http_server_requests_total counter\n");
    for (size_t r = 0; r <= nroutes; r++) {
        for (size_t st = 0; st < NSTATUS; st++) {
            unsigned long long count = load(&table[r * NSTATUS + st].count);
            if (count == 0)
                continue;
            sbuf_adds(out, "http_server_requests_total{");
            route_labels(out, r, st);
            sbuf_addf(out, "} %llu\n", count);
        }
    }
}

static void counter(struct sbuf *out, const char *name, const char *help, unsigned long long v)
{
    sbuf_addf(out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name, v);
}

static void render_group_commit(struct sbuf *out)
{
    pthread_mutex_lock(&group_mu);
    struct group_counters gs = group_stats;
    pthread_mutex_unlock(&group_mu);
    sbuf_addf(out,
              "# HELP exptrack_group_commit_enabled 1 when small writes share commits.\n"
              "# TYPE exptrack_group_commit_enabled gauge\nexptrack_group_commit_enabled %d\n",
              gs.enabled);
    sbuf_adds(out, "# HELP exptrack_group_commit_batch_size Requests per group commit.\n"
                   "# TYPE exptrack_group_commit_batch_size histogram\n");
    for (int b = 0; b < GROUP_COMMIT_BUCKETS; b++)
        sbuf_addf(out, "exptrack_group_commit_batch_size_bucket{le=\"%u\"} %llu\n", group_bounds[b],
                  gs.size_le[b]);
    sbuf_addf(out,
              "exptrack_group_commit_batch_size_bucket{le=\"+Inf\"} %llu\n"
              "exptrack_group_commit_batch_size_sum %llu\n"
              "exptrack_group_commit_batch_size_count %llu\n",
              gs.groups, gs.requests, gs.groups);
    counter(out, "exptrack_group_commit_points_total", "Points written through group commits.",
            gs.points);
    counter(out, "exptrack_group_commit_queue_timeouts_total",
            "Requests that gave up waiting for the group-commit writer (503).", gs.queue_timeouts);
}

static void gauge(struct sbuf *out, const char *name, const char *help, long v)
{
    sbuf_addf(out, "# HELP %s %s\n# TYPE %s gauge\n%s %ld\n", name, help, name, name, v);
}

/* The connection pool (one connection per thread that uses the database)
 * and failed statements by the status they were mapped to. */
static void render_db(struct sbuf *out)
{
    static const enum db_status failures[] = {DB_UNAVAILABLE, DB_TIMEOUT, DB_DISK_FULL, DB_EXISTS,
                                              DB_INVALID,     DB_RETRY,   DB_ERROR};
    struct db_pool_stats ps;
    db_pool_stats(&ps);
    gauge(out, "exptrack_db_connections_open", "PostgreSQL connections held open.", ps.open);
    gauge(out, "exptrack_db_connections_in_use",
          "Open connections running a statement or inside a transaction.", ps.in_use);
    gauge(out, "exptrack_db_connections_backoff",
          "Threads whose last connection attempt failed, waiting to retry.", ps.backoff);
    counter(out, "exptrack_db_connect_failures_total",
            "Attempts to open a PostgreSQL connection that failed.", ps.connect_failures);
    sbuf_adds(out, "# HELP exptrack_db_errors_total Database statements that failed, by the "
                   "status they were answered with.\n"
                   "# TYPE exptrack_db_errors_total counter\n");
    for (size_t i = 0; i < sizeof failures / sizeof failures[0]; i++)
        sbuf_addf(out, "exptrack_db_errors_total{status=\"%s\"} %lu\n", db_status_name(failures[i]),
                  db_error_count(failures[i]));
}

/* Client connections against --max-connections(-per-ip), and what was
 * refused past them. */
static void render_connections(struct sbuf *out)
{
    struct http_conn_stats cs;
    http_conn_stats(&cs);
    gauge(out, "exptrack_http_connections_open",
          "Client connections open and counted against the connection limits.", cs.open);
    sbuf_addf(out,
              "# HELP exptrack_http_connections_refused_total Requests answered 503 because "
              "their connection was past a connection limit.\n"
              "# TYPE exptrack_http_connections_refused_total counter\n"
              "exptrack_http_connections_refused_total{limit=\"total\"} %lu\n"
              "exptrack_http_connections_refused_total{limit=\"per_ip\"} %lu\n",
              cs.refused_total, cs.refused_per_ip);
}

/* Each read replica's state and lag, and the reads it served. */
static void render_replicas(struct sbuf *out)
{
    static const char *const heads[] = {
        "exptrack_replica_up",
        "1 while the replica is in rotation for reads.",
        "gauge",
        "exptrack_replica_lag_bytes",
        "WAL bytes the replica's replay is behind the primary (-1: unknown).",
        "gauge",
        "exptrack_replica_reads_total",
        "Reads the replica served.",
        "counter",
        "exptrack_replica_taken_out_total",
        "Times the replica left rotation.",
        "counter"};
    int n = db_replica_count();
    struct db_replica_stats st[DB_MAX_REPLICAS];
    for (int i = 0; i < n; i++)
        db_replica_stats(i, &st[i]);
    for (int m = 0; m < 4; m++) {
        sbuf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", heads[3 * m], heads[3 * m + 1], heads[3 * m],
                  heads[3 * m + 2]);
        for (int i = 0; i < n; i++) {
            long long v = m == 0   ? st[i].up
                          : m == 1 ? st[i].lag_bytes
                          : m == 2 ? (long long)st[i].reads
                                   : (long long)st[i].taken_out;
            sbuf_addf(out, "%s{replica=\"%d\"} %lld\n", heads[3 * m], i, v);
        }
    }
    counter(out, "exptrack_replica_read_fallbacks_total",
            "Reads meant for a replica that the primary served.", db_replica_fallbacks());
}

void metrics_webhook_queued(size_t n)
{
    atomic_fetch_add(&webhook_queued, n);
}

void metrics_webhook_delivery(int outcome)
{
    if (outcome >= 0 && outcome < 3)
        atomic_fetch_add(&webhook_outcomes[outcome], 1);
}

void metrics_read_cache(enum metrics_cache_event what)
{
    if (what >= 0 && what < METRICS_CACHE_EVENTS)
        atomic_fetch_add_explicit(&read_cache_events[what], 1, memory_order_relaxed);
}

void metrics_render(struct sbuf *out)
{
    sbuf_addf(out,
              "# HELP exptrack_build_info The running exptrackd's version.\n"
              "# TYPE exptrack_build_info gauge\nexptrack_build_info{version=\"%s\"} 1\n",
              EXPTRACK_VERSION);
    if (table != NULL)
        render_requests(out);
    counter(out, "http_server_request_body_bytes_total", "Request body bytes received.",
            load(&bytes_in));
    counter(out, "http_server_response_body_bytes_total",
            "Response body bytes sent (a streamed reply's when its body ends).", load(&bytes_out));
    counter(out, "exptrack_artifact_bytes_in_total",
            "Body bytes received by artifact routes (uploads).", load(&artifact_in));
    counter(out, "exptrack_artifact_bytes_out_total",
            "Body bytes sent by artifact routes (downloads).", load(&artifact_out));
    counter(out, "exptrack_metric_points_ingested_total", "Metric points committed.",
            load(&points_in));
    render_group_commit(out);
    counter(out, "exptrack_webhook_events_queued_total",
            "Webhook deliveries written to the outbox by this process.", load(&webhook_queued));
    counter(out, "exptrack_webhook_deliveries_total",
            "Webhook deliveries that reached a 2xx answer.", load(&webhook_outcomes[0]));
    counter(out, "exptrack_webhook_retries_total",
            "Webhook delivery attempts that failed and were scheduled again.",
            load(&webhook_outcomes[1]));
    counter(out, "exptrack_webhook_failures_total",
            "Webhook deliveries given up (final failure, kept in the outbox).",
            load(&webhook_outcomes[2]));
    counter(out, "exptrack_registry_cache_hits_total",
            "Registry reads answered from the in-process cache.",
            load(&read_cache_events[METRICS_CACHE_HIT]));
    counter(out, "exptrack_registry_cache_misses_total",
            "Registry reads the cache could hold that went to the database.",
            load(&read_cache_events[METRICS_CACHE_MISS]));
    counter(out, "exptrack_registry_cache_bypassed_total",
            "Registry reads that skipped the cache while change notifications were not heard.",
            load(&read_cache_events[METRICS_CACHE_BYPASS]));
    counter(out, "exptrack_registry_cache_invalidations_total",
            "Registry read cache invalidations (changes here or notified by other processes).",
            load(&read_cache_events[METRICS_CACHE_INVALIDATION]));
    render_db(out);
    render_connections(out);
    render_replicas(out);
    gauge(out, "exptrack_live_streams", "Open live-update streams (server-sent events).",
          (long)notify_subscriber_count());
}
