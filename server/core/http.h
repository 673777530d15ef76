/* The HTTP server: libmicrohttpd glue. Reads each request (bounded body),
 * decodes its input into a JSON object, hands it to the layers above
 * through struct http_dispatch, sends the reply and writes one access-log
 * line.
 *
 * Why a dispatch table: core/ sits below every domain, so http.c may not
 * call the route table, auth or the metrics module (they call into core).
 * main.c fills the table (server/dispatch.c ties it to routes, auth and
 * metrics); to http.c a route is an opaque pointer plus a few flags. */
#ifndef ET_SERVER_HTTP_H
#define ET_SERVER_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "reply.h"
#include "request.h"

struct http_server;

/* Outcome of looking a request line up (http_dispatch.match). */
enum http_match { HTTP_MATCH_FOUND, HTTP_MATCH_NO_PATH, HTTP_MATCH_BAD_METHOD };

/* Flags of a matched route (http_dispatch.match). */
#define HTTP_ROUTE_JSON 1u   /* a body other than GET's must be Content-Type: application/json */
#define HTTP_ROUTE_STREAM 2u /* the body goes to upload_* piece by piece, never held whole */

/* What http.c asks of the layers above it. Every callback runs on the
 * request's worker thread; route is what match returned. All are required. */
struct http_dispatch {
    /* Looks method and path up. On HTTP_MATCH_FOUND sets *route (kept for
     * the request's life) and *flags (HTTP_ROUTE_*). */
    enum http_match (*match)(const char *method, const char *path, const void **route,
                             unsigned *flags);
    /* Runs a whole-body route: screening and permission checks (which may
     * fill req->user), the handler, then what follows it. Returns 0 when
     * the handler ran, -1 when the request was refused (reply set). */
    int (*handle)(const void *route, struct request *req, struct reply *r);
    /* HTTP_ROUTE_STREAM routes, before any body byte: the checks, then the
     * upload's state, or NULL with the refusal in r. */
    void *(*upload_begin)(const void *route, struct request *req, struct reply *r);
    /* Each piece of the body, in order: 0, or -1 with an error in r. */
    int (*upload_data)(const void *route, void *state, const char *buf, size_t len,
                       struct reply *r);
    /* Exactly once per accepted upload, frees state; complete as in
     * struct upload_ops (routes.h). */
    void (*upload_end)(const void *route, void *state, int complete, struct reply *r);
    /* After each reply is queued: route (NULL when none matched), method,
     * status, duration (from the request line to the queued reply) and
     * body bytes in and out. bytes_out is 0 for a streamed reply: its
     * bytes are only known when it ends (observe_streamed). */
    void (*observe)(const void *route, const char *method, int status, double seconds,
                    size_t bytes_in, size_t bytes_out);
    /* When a streamed reply's body ends, or the client goes away before
     * it does: route as in observe and the body bytes handed to the
     * connection. Called once per streamed reply, after its observe. */
    void (*observe_streamed)(const void *route, size_t bytes_out);
};

/* How the request threads wait on their connections. epoll, the default,
 * stays cheap with many connections open and served mixed traffic (writes,
 * searches, artifact reads from 64 connections) 25% faster than poll() in
 * tests/bench/mixed.sh, but pays two epoll_ctl calls each time a request
 * waits for a group commit or a live event (libmicrohttpd takes a paused
 * connection out of the set). poll() skips those: about a third less CPU
 * per single-point log-metric while a few hundred connections or fewer are
 * open. */
enum http_event_loop { HTTP_EVENT_LOOP_POLL, HTTP_EVENT_LOOP_EPOLL };

struct http_options {
    const char *host; /* numeric IPv4/IPv6 address or "localhost" */
    int port;         /* 0: any free port */
    int threads;
    enum http_event_loop event_loop;
    size_t max_body;
    const char *tls_cert_pem;   /* PEM certificate chain; NULL: plain HTTP */
    const char *tls_key_pem;    /* PEM private key, with tls_cert_pem */
    int header_timeout_s;       /* close a connection whose request headers are not complete
                                   this many seconds after it opened or its last request
                                   ended (plus the idle allowance); 0: never */
    int max_connections;        /* open connections answered; a request on one past it gets
                                   503 + Retry-After and a close (0: the default, 4096) */
    int max_connections_per_ip; /* the same per client address (0: the default, 2048) */
    const struct http_dispatch *dispatch; /* the layers above; not copied, must outlive the
                                             server */
};

/* Starts listening and serving on a thread pool. Returns NULL (logged) when
 * the address cannot be bound. */
struct http_server *http_start(const struct http_options *opts);

/* The port actually bound (useful with port 0). */
int http_port(const struct http_server *s);

/* Stops accepting, lets in-flight requests finish, frees the server. */
void http_stop(struct http_server *s);

/* The connection limits as /metrics shows them: connections open and
 * counted against the limits, and requests refused with 503 because their
 * connection was past the total or the per-address limit, since start. */
struct http_conn_stats {
    long open;
    unsigned long refused_total;
    unsigned long refused_per_ip;
};

/* Fills *out. Thread-safe. */
void http_conn_stats(struct http_conn_stats *out);

#endif
