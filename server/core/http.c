/* libmicrohttpd glue: accept, read a bounded body, decode the input, hand it
 * to the layers above (http_dispatch: route lookup, checks, handler,
 * metrics), send the reply, log one access line. The handlers never see
 * libmicrohttpd: they reach it through request_ops and wake_ops. */
#include "http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdatomic.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "conn_limit.h"
#include "framing.h"
#include "jsonalloc.h"
#include "jsonx.h"
#include "log.h"
#include "reply.h"
#include "request.h"
#include "common/sbuf.h"
#include "url_query.h"
#include "wake.h"
#include "worker.h"
#include "common/xalloc.h"

#define REQUEST_ID_MAX 128

struct http_server {
    struct MHD_Daemon *daemon;
    const struct http_dispatch *dispatch;
    size_t max_body;
    int port;
    int tls;
    int header_timeout_s;
    int max_connections, max_connections_per_ip;
    int epoll;                         /* the request threads wait with epoll */
    struct sockaddr_storage wake_addr; /* where a loopback connect reaches us */
    socklen_t wake_addrlen;
    struct worker reaper; /* cuts connections past their header deadline, wakes stalled threads */
};

/* Requests refused because their connection was past a limit. */
static atomic_ulong refused_total, refused_per_ip;

/* The wake handle of a request (wake.h). conn is cleared, under mu, when
 * the request ends, so late wake-ups from other threads do nothing. */
struct http_wake {
    struct wake base; /* first: a struct wake * is a struct http_wake * */
    pthread_mutex_t mu;
    int refs;
    struct MHD_Connection *conn;
    int paused;  /* the connection is suspended until wake_up */
    int pending; /* a wake_up came while the request was not paused */
};

/* One request in flight. */
struct req_ctx {
    const void *route; /* the dispatch's, when match is HTTP_MATCH_FOUND */
    unsigned flags;    /* HTTP_ROUTE_* of route */
    enum http_match match;
    struct sbuf body;
    int too_big;
    int headers_too_big; /* past MAX_HEADER_BYTES: answered 431 */
    int refused;         /* framing_check said no: answered at once, then closed */
    uint64_t declared;   /* Content-Length; UINT64_MAX when chunked or absent */
    uint64_t received;   /* body bytes seen so far */
    struct timespec start;
    struct reply reply;
    json_t *query;      /* BODY_STREAM routes: the query string as input */
    void *upload;       /* BODY_STREAM routes: the handler's state while accepting */
    int upload_refused; /* begin() or data() said no: the reply holds why */
    char request_id[REQUEST_ID_MAX + 1]; /* X-Request-Id: the client's, or made here */
    size_t streamed_in;                  /* BODY_STREAM routes: body bytes received */
    struct http_wake *wake;              /* made by request_wake(); NULL if never asked */
    int deferred;                        /* paused until the reply's finish can run */
};

static void wake_up_http(struct wake *base);
static void wake_unref_http(struct wake *base);
static const struct wake_ops http_wake_ops = {wake_up_http, wake_unref_http};

/* request_ops.wake: see request_wake (wake.h). */
static struct wake *wake_of_request(const struct request *req)
{
    struct req_ctx *ctx = req->http_ctx;
    if (ctx->wake == NULL) {
        ctx->wake = xcalloc(1, sizeof *ctx->wake);
        ctx->wake->base.ops = &http_wake_ops;
        pthread_mutex_init(&ctx->wake->mu, NULL);
        ctx->wake->refs = 1; /* the request's own */
        ctx->wake->conn = req->conn;
    }
    pthread_mutex_lock(&ctx->wake->mu);
    ctx->wake->refs++;
    pthread_mutex_unlock(&ctx->wake->mu);
    return &ctx->wake->base;
}

/* wake_ops.up: see wake_up (wake.h). */
static void wake_up_http(struct wake *base)
{
    struct http_wake *w = (struct http_wake *)base;
    pthread_mutex_lock(&w->mu);
    if (w->conn != NULL && w->paused) {
        w->paused = 0;
        MHD_resume_connection(w->conn);
    } else if (w->conn != NULL) {
        w->pending = 1;
    }
    pthread_mutex_unlock(&w->mu);
}

/* Drops a reference to w (NULL: no-op); frees it with the last. */
static void http_wake_unref(struct http_wake *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    int last = --w->refs == 0;
    pthread_mutex_unlock(&w->mu);
    if (last) {
        pthread_mutex_destroy(&w->mu);
        free(w);
    }
}

/* wake_ops.unref: see wake_unref (wake.h). */
static void wake_unref_http(struct wake *base)
{
    http_wake_unref((struct http_wake *)base);
}

/* Pauses the request's connection until wake_up, unless a wake-up already
 * came. Returns 1 when paused, 0 when the caller should go on now. Called
 * on the connection's worker thread. */
static int pause_request(struct http_wake *w)
{
    int paused = 0;
    pthread_mutex_lock(&w->mu);
    if (w->pending) {
        w->pending = 0;
    } else {
        w->paused = 1;
        MHD_suspend_connection(w->conn);
        paused = 1;
    }
    pthread_mutex_unlock(&w->mu);
    return paused;
}

/* The request is over: later wake-ups must not touch its connection. */
static void wake_detach(struct http_wake *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    w->conn = NULL;
    pthread_mutex_unlock(&w->mu);
    http_wake_unref(w);
}

/* request_ops.header: see request_header (request.h). */
static const char *header_of_request(const struct request *req, const char *name)
{
    if (req->conn == NULL)
        return NULL;
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

static const struct request_ops http_request_ops = {header_of_request, wake_of_request};

static json_t *query_input(struct MHD_Connection *conn, struct reply *r);

static double elapsed_ms(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) * 1e3 +
           (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

/* A query string being read into its {name: [values]} object. */
struct query_build {
    json_t *query;
    char bad[64]; /* the printable ASCII of the first name with a value that is not UTF-8 */
    int has_bad;
};

static enum MHD_Result add_query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct query_build *b = cls;
    (void)kind;
    if (url_query_add(b->query, key, value) == 0 || b->has_bad)
        return MHD_YES;
    b->has_bad = 1;
    size_t n = 0;
    for (const char *p = key; *p && n + 1 < sizeof b->bad; p++)
        if (*p >= 0x20 && *p < 0x7f)
            b->bad[n++] = *p;
    b->bad[n] = '\0';
    return MHD_YES;
}

/* The query string as the handler's input; NULL with a 400 in r when a name
 * or a value is not UTF-8 (a handler would else see the field as missing). */
static json_t *query_input(struct MHD_Connection *conn, struct reply *r)
{
    struct query_build b = {.query = json_object()};
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_query_arg, &b);
    if (!b.has_bad)
        return b.query;
    json_decref(b.query);
    reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                "query parameter '%s' is not UTF-8 once percent-decoded", b.bad);
    return NULL;
}

/* Checks "application/json" ignoring parameters such as "; charset=utf-8". */
static int is_json_type(const char *type)
{
    size_t n = strlen("application/json");
    return strncasecmp(type, "application/json", n) == 0 &&
           (type[n] == '\0' || type[n] == ';' || type[n] == ' ');
}

/* Builds the handler's input per the contract: a GET with a query string
 * reads the query; everything else reads the JSON body. NULL: reply set. */
static json_t *decode_input(struct MHD_Connection *conn, const char *method, struct req_ctx *ctx,
                            int *from_query, struct reply *r)
{
    *from_query = 0;
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
        json_t *query = query_input(conn, r);
        if (query == NULL)
            return NULL;
        if (json_object_size(query) > 0 || ctx->body.len == 0) {
            *from_query = 1;
            return query;
        }
        json_decref(query);
    } else if (ctx->flags & HTTP_ROUTE_JSON) {
        const char *type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
        if (type == NULL) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                        "Content-Type header is missing: send application/json");
            return NULL;
        }
        if (!is_json_type(type)) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                        "Content-Type must be application/json, got '%.100s'", type);
            return NULL;
        }
    }
    /* into the thread's arena, bounded: a body under the size cap may still
     * make a tree of gigabytes (millions of empty objects) */
    return jx_parse_body(ctx->body.data ? ctx->body.data : "", ctx->body.len,
                         jx_body_tree_budget(ctx->body.len), r);
}

static void dispatch(struct http_server *srv, struct MHD_Connection *conn, const char *url,
                     const char *method, struct req_ctx *ctx, struct reply *r)
{
    if (ctx->match == HTTP_MATCH_NO_PATH) {
        reply_error(r, ERR_ENDPOINT_NOT_FOUND, "no API endpoint at %.200s", url);
        return;
    }
    if (ctx->match == HTTP_MATCH_BAD_METHOD) {
        reply_error(r, ERR_METHOD_NOT_ALLOWED, "method %s is not allowed on %.200s", method, url);
        return;
    }
    if (ctx->too_big) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "request body exceeds the limit of %zu bytes",
                    srv->max_body);
        return;
    }
    int from_query = 0;
    /* A body that is not a JSON object is a 400 on every route (MLflow reads
     * it as {}, so a truncated search body found everything: docs/api.md).
     * An empty body still reads as {}. */
    json_t *input = decode_input(conn, method, ctx, &from_query, r);
    if (input == NULL) {
        jsonalloc_reset(); /* a refused parse's nodes, or the next request's cap is spent */
        return;
    }
    struct request req = {.method = method,
                          .path = url,
                          .input = input,
                          .from_query = from_query,
                          .ops = &http_request_ops,
                          .conn = conn,
                          .http_ctx = ctx};
    (void)srv->dispatch->handle(ctx->route, &req, r);
    json_decref(input);
    jsonalloc_reset(); /* the input tree is gone: nothing else points into the arena */
}

/* What a request's access line says besides the bytes sent, and whom a
 * streamed reply tells its bytes when it ends. */
struct access_info {
    const char *method;
    const char *path;
    int status;
    const struct timespec *start;
    const char *request_id;
    const struct http_dispatch *dispatch;
    const void *route;
};

/* Owns a streamed body's callbacks for as long as libmicrohttpd sends it,
 * and writes the request's access line when it lets go of them: only then
 * is it known how many bytes went out (a chunked reply has no size). */
struct stream_source {
    reply_stream_fn fn;
    void (*free_fn)(void *state);
    void *state;
    struct http_wake *wake; /* to pause on REPLY_STREAM_PAUSE; NULL: the handler asked for none */
    uint64_t sent;          /* body bytes handed to libmicrohttpd */
    const struct http_dispatch *dispatch; /* told the bytes sent at the end */
    const void *route;                    /* NULL: none matched */
    char *method, *path;                  /* the access line's */
    int status;
    struct timespec start;
    char request_id[REQUEST_ID_MAX + 1];
};

static ssize_t read_stream(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream_source *src = cls;
    ssize_t n = src->fn(src->state, pos, buf, max);
    if (n > 0) {
        src->sent += (uint64_t)n;
        return n;
    }
    if (n == REPLY_STREAM_PAUSE && src->wake != NULL) {
        /* Nothing to send yet: libmicrohttpd calls again after the resume
         * (or at once, if a wake-up came in between). */
        (void)pause_request(src->wake);
        return 0;
    }
    return n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void free_stream(void *cls)
{
    struct stream_source *src = cls;
    if (src->free_fn != NULL)
        src->free_fn(src->state);
    http_wake_unref(src->wake);
    log_access(src->method, src->path, src->status, (size_t)src->sent, elapsed_ms(&src->start),
               src->request_id);
    src->dispatch->observe_streamed(src->route, (size_t)src->sent);
    free(src->method);
    free(src->path);
    free(src);
}

/* Builds the response; a streamed reply hands its state over to it, and
 * its access line is written when the response is freed (free_stream). */
static struct MHD_Response *make_response(struct reply *r, struct http_wake *wake,
                                          const struct access_info *acc)
{
    if (r->stream == NULL) {
        /* the response takes the body over (a search page is megabytes:
         * copying it cost a fresh allocation and its page faults) */
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(r->body_len, r->body, MHD_RESPMEM_MUST_FREE);
        if (resp != NULL) {
            r->body = NULL;
            r->body_len = 0;
        }
        return resp;
    }
    struct stream_source *src = xmalloc(sizeof *src);
    src->fn = r->stream;
    src->free_fn = r->stream_free;
    src->state = r->stream_state;
    src->wake = NULL;
    src->sent = 0;
    src->method = xstrdup(acc->method);
    src->path = xstrdup(acc->path);
    src->status = acc->status;
    src->start = *acc->start;
    src->dispatch = acc->dispatch;
    src->route = acc->route;
    snprintf(src->request_id, sizeof src->request_id, "%s", acc->request_id);
    if (wake != NULL) {
        pthread_mutex_lock(&wake->mu);
        wake->refs++;
        pthread_mutex_unlock(&wake->mu);
        src->wake = wake;
    }
    r->stream_state = NULL; /* the response owns it now */
    uint64_t size = r->stream_size < 0 ? MHD_SIZE_UNKNOWN : (uint64_t)r->stream_size;
    struct MHD_Response *resp =
        MHD_create_response_from_callback(size, 64 * 1024, read_stream, src, free_stream);
    if (resp == NULL)
        free_stream(src);
    return resp;
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, struct reply *r,
                                  struct http_wake *wake, const struct access_info *acc)
{
    struct MHD_Response *resp = make_response(r, wake, acc);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    if (r->retry_after > 0) {
        char secs[16];
        snprintf(secs, sizeof secs, "%d", r->retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, secs);
    }
    for (int i = 0; i < r->nheaders; i++)
        MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* BODY_STREAM routes: hands the handler the request before any body byte. */
static void begin_upload(struct http_server *srv, struct MHD_Connection *conn, const char *url,
                         const char *method, struct req_ctx *ctx)
{
    ctx->query = query_input(conn, &ctx->reply);
    if (ctx->query == NULL) {
        ctx->upload_refused = 1;
        return;
    }
    struct request req = {.method = method,
                          .path = url,
                          .input = ctx->query,
                          .from_query = 1,
                          .ops = &http_request_ops,
                          .conn = conn,
                          .http_ctx = ctx};
    ctx->upload = srv->dispatch->upload_begin(ctx->route, &req, &ctx->reply);
    ctx->upload_refused = ctx->upload == NULL;
}

/* Passes a piece of body to the handler; a refusal ends the upload now. */
static void feed_upload(struct http_server *srv, struct req_ctx *ctx, const char *data, size_t len)
{
    ctx->streamed_in += len;
    if (ctx->upload == NULL)
        return;
    if (srv->dispatch->upload_data(ctx->route, ctx->upload, data, len, &ctx->reply) < 0) {
        struct reply scratch;
        reply_init(&scratch);
        srv->dispatch->upload_end(ctx->route, ctx->upload, 0, &scratch);
        reply_cleanup(&scratch);
        ctx->upload = NULL;
        ctx->upload_refused = 1;
    }
}

/* The request's id: a sane incoming X-Request-Id (1..REQUEST_ID_MAX of
 * [A-Za-z0-9._:-]), else 16 hex digits unique within this process and
 * unlikely to repeat across processes. */
static void set_request_id(struct MHD_Connection *conn, char *out)
{
    static atomic_ullong counter;
    static unsigned long long seed;
    const char *in = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
    size_t n = 0;

    if (in != NULL) {
        while (in[n] != '\0' && n <= REQUEST_ID_MAX &&
               (isalnum((unsigned char)in[n]) || strchr("._:-", in[n]) != NULL))
            n++;
        if (n > 0 && n <= REQUEST_ID_MAX && in[n] == '\0') {
            memcpy(out, in, n + 1);
            return;
        }
    }
    if (seed == 0) { /* a benign race: every thread computes the same kind of value */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = ((unsigned long long)ts.tv_nsec << 20 ^ (unsigned long long)getpid()) | 1;
    }
    unsigned long long v = seed * 0x9E3779B97F4A7C15ULL + atomic_fetch_add(&counter, 1);
    v ^= v >> 29;
    snprintf(out, REQUEST_ID_MAX + 1, "%016llx", v * 0xBF58476D1CE4E5B9ULL);
}

/* The header deadline. Every open connection has a guard; while it waits
 * for a request's headers the guard is armed with a deadline, and the
 * reaper thread shuts down the socket of a connection past it, so a client
 * that trickles header bytes (slowloris) cannot hold a connection forever.
 * libmicrohttpd's own timeout is an idle timeout, which a byte every few
 * seconds resets. shutdown() makes libmicrohttpd see the end of the stream
 * and close the connection its usual way; the guard leaves the list (under
 * guards_mu) before libmicrohttpd closes the descriptor.
 *
 * The reaper also cuts a connection whose client ended its side (EOF) in
 * the middle of a request, in its headers or its body: such a request can
 * never complete. libmicrohttpd 0.9.75 notices that EOF itself with poll,
 * but with epoll (edge-triggered) it misses an EOF that arrives together
 * with the request's last bytes and holds the connection until its idle
 * timeout. The reaper peeks at the socket: 0 bytes means every byte sent
 * was read and the stream is over. It cuts on the second such look in a
 * row, so a request whose last bytes libmicrohttpd has read but not yet
 * handed over is not cut.
 *
 * The same peek finds headers that lie unread on a connection for two
 * passes in a row, which libmicrohttpd's epoll loop can leave there (see
 * wake_request_threads); the reaper then wakes the request threads. */
struct guard {
    int fd;
    int armed;                 /* waiting for a request's headers */
    int in_body;               /* between a request's headers and its last body byte */
    int eof_looks;             /* reaper passes in a row that saw the client's EOF */
    int unread_looks;          /* reaper passes in a row that saw headers left unread */
    int cut;                   /* already shut down */
    struct timespec deadline;  /* CLOCK_MONOTONIC */
    struct conn_addr addr;     /* the client's, for the per-address count */
    enum conn_verdict verdict; /* admitted (counted), or which limit it is past */
    struct guard *prev, *next;
};

static pthread_mutex_t guards_mu = PTHREAD_MUTEX_INITIALIZER;
static struct guard *guards;

/* Idle time allowed between two requests of a kept-alive connection
 * before the next request's header deadline starts (matches the
 * connection timeout given to libmicrohttpd). */
#define KEEPALIVE_IDLE_S 120

/* g now waits for a request's headers, for at most header_timeout_s
 * (no deadline when it is 0) after an allowance of extra_s. */
static void arm_guard(struct guard *g, const struct http_server *srv, int extra_s)
{
    clock_gettime(CLOCK_MONOTONIC, &g->deadline);
    if (srv->header_timeout_s > 0)
        g->deadline.tv_sec += extra_s + srv->header_timeout_s;
    else
        g->deadline.tv_sec = (time_t)INT64_MAX;
    g->armed = 1;
    g->unread_looks = 0;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct http_server *srv = cls;
    struct guard *g = *socket_context;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (info == NULL)
            return;
        g = xcalloc(1, sizeof *g);
        g->fd = info->connect_fd;
        const union MHD_ConnectionInfo *peer =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        conn_addr_of(peer != NULL ? peer->client_addr : NULL, &g->addr);
        /* past a limit the connection is still served, with a 503 to its
         * first request (a close here would leave the client guessing) */
        g->verdict = conn_limit_enter(&g->addr);
        arm_guard(g, srv, 0);
        pthread_mutex_lock(&guards_mu);
        g->next = guards;
        if (guards != NULL)
            guards->prev = g;
        guards = g;
        pthread_mutex_unlock(&guards_mu);
        *socket_context = g;
        return;
    }
    if (g == NULL) /* MHD_CONNECTION_NOTIFY_CLOSED of an unguarded connection */
        return;
    pthread_mutex_lock(&guards_mu);
    if (g->prev != NULL)
        g->prev->next = g->next;
    else
        guards = g->next;
    if (g->next != NULL)
        g->next->prev = g->prev;
    pthread_mutex_unlock(&guards_mu);
    if (g->verdict == CONN_ADMITTED)
        conn_limit_leave(&g->addr);
    free(g);
    *socket_context = NULL;
}

static struct guard *connection_guard(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info != NULL ? info->socket_context : NULL;
}

/* A request's headers are complete: its connection is no longer at risk. */
static void guard_headers_done(struct MHD_Connection *conn)
{
    struct guard *g = connection_guard(conn);
    if (g == NULL)
        return;
    pthread_mutex_lock(&guards_mu);
    g->armed = 0;
    g->in_body = 1;
    g->eof_looks = 0;
    pthread_mutex_unlock(&guards_mu);
}

/* A request's body is complete: an EOF from now on is a normal close. */
static void guard_body_done(struct MHD_Connection *conn)
{
    struct guard *g = connection_guard(conn);
    if (g == NULL)
        return;
    pthread_mutex_lock(&guards_mu);
    g->in_body = 0;
    pthread_mutex_unlock(&guards_mu);
}

/* A request ended: the connection may carry another, whose headers must
 * come within the idle allowance plus the header timeout. */
static void guard_request_done(struct MHD_Connection *conn, struct http_server *srv)
{
    struct guard *g = connection_guard(conn);
    if (g == NULL)
        return;
    pthread_mutex_lock(&guards_mu);
    arm_guard(g, srv, KEEPALIVE_IDLE_S);
    g->in_body = 0;
    g->eof_looks = 0;
    pthread_mutex_unlock(&guards_mu);
}

/* What one reaper pass saw on a connection waiting for a request. */
enum guard_look {
    LOOK_QUIET,   /* nothing to say */
    LOOK_ENDED,   /* the client ended its side, everything it sent was read */
    LOOK_STALLED, /* bytes of the next request's headers lie unread */
};

/* Peeks at g's socket. ENDED on the second pass in a row that finds the
 * client's EOF with every byte read; STALLED on the second pass in a row
 * that finds bytes waiting while g still waits for a request's headers:
 * libmicrohttpd should have read them within a pass. */
static enum guard_look look_at(struct guard *g)
{
    char c;
    ssize_t n = recv(g->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) {
        g->unread_looks = 0;
        return ++g->eof_looks >= 2 ? LOOK_ENDED : LOOK_QUIET;
    }
    g->eof_looks = 0;
    if (n > 0 && g->armed)
        return ++g->unread_looks >= 2 ? LOOK_STALLED : LOOK_QUIET;
    g->unread_looks = 0;
    return LOOK_QUIET;
}

/* Wakes every request thread blocked in epoll_wait: one connection to our
 * own listening socket, closed at once, makes the listening socket readable
 * in each thread's epoll set.
 *
 * libmicrohttpd 0.9.75 (Debian 12's) drains epoll in batches of 128 events
 * and calls epoll_wait again, with the full timeout, whenever a batch was
 * full; the connections of that batch are served only after the second
 * call returns. When exactly 128 requests arrive together (a burst from a
 * fleet on one host) and nothing follows, they wait for the next event on
 * that thread, up to the idle timeout, or until their header deadline cuts
 * them. The reaper sees their headers lying unread and wakes the threads. */
static void wake_request_threads(const struct http_server *srv)
{
    int fd = socket(srv->wake_addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    struct timeval limit = {.tv_sec = 1, .tv_usec = 0}; /* bounds a blocking connect */
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    (void)connect(fd, (const struct sockaddr *)&srv->wake_addr, srv->wake_addrlen);
    close(fd);
}

static void *reaper_main(void *arg)
{
    struct http_server *srv = arg;

    pthread_mutex_lock(&guards_mu);
    while (!worker_stopping(&srv->reaper)) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        int stalled = 0;
        for (struct guard *g = guards; g != NULL; g = g->next) {
            enum guard_look look = LOOK_QUIET;
            if (!g->cut && (g->armed || g->in_body))
                look = look_at(g);
            if (look == LOOK_ENDED) {
                g->cut = 1;
                shutdown(g->fd, SHUT_RDWR);
                continue;
            }
            if (look == LOOK_STALLED)
                stalled = 1;
            if (!g->armed || g->cut || now.tv_sec < g->deadline.tv_sec ||
                (now.tv_sec == g->deadline.tv_sec && now.tv_nsec < g->deadline.tv_nsec))
                continue;
            g->cut = 1;
            shutdown(g->fd, SHUT_RDWR);
            log_info("http: closed a connection that sent no complete request headers in %d s",
                     srv->header_timeout_s);
        }
        /* A plain sleep, not a wait a stop cuts short: http_stop's join thus
         * takes up to 250 ms, and streams that notify_stop just ended use that
         * time to send their last chunk before MHD_stop_daemon closes them
         * (with an immediate join, api.stream saw them cut under load). */
        pthread_mutex_unlock(&guards_mu);
        if (stalled && srv->epoll)
            wake_request_threads(srv);
        usleep(250 * 1000);
        pthread_mutex_lock(&guards_mu);
    }
    pthread_mutex_unlock(&guards_mu);
    return NULL;
}

/* Each connection's libmicrohttpd memory pool: the request line, headers
 * and query arguments live in it. libmicrohttpd (0.9.75) zeroes the whole
 * pool before every request on a kept-alive connection, so its size is
 * paid on every request: at 256 KiB that memset was 15% of exptrackd's CPU
 * under single-point log-metric load. 64 KiB holds the limits below: a
 * 16 KiB request line, 16 KiB of headers, 256 query arguments of 56 bytes
 * each, and the reply's headers. */
#define CONNECTION_POOL_BYTES (64 * 1024)

/* Request headers past this are refused with 431. (libmicrohttpd's own
 * limit is its connection memory pool, CONNECTION_POOL_BYTES.) */
#define MAX_HEADER_BYTES (16 * 1024)

static enum MHD_Result add_header_bytes(void *cls, enum MHD_ValueKind kind, const char *key,
                                        const char *value)
{
    size_t *total = cls;
    (void)kind;
    *total += strlen(key) + (value ? strlen(value) : 0) + 4; /* ": " and CRLF */
    return MHD_YES;
}

static int headers_too_big(struct MHD_Connection *conn)
{
    size_t total = 0;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, add_header_bytes, &total);
    return total > MAX_HEADER_BYTES;
}

/* The header fields of a request, in order, for framing_check. */
struct field_list {
    struct http_field *items;
    size_t n, cap;
};

static enum MHD_Result add_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    struct field_list *list = cls;
    (void)kind;
    if (list->n == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 32;
        list->items = xrealloc(list->items, list->cap * sizeof *list->items);
    }
    list->items[list->n].name = key;
    list->items[list->n].value = value;
    list->n++;
    return MHD_YES;
}

/* Checks the request's framing before any handler sees it (framing.h).
 * Returns -1 when refused: the reply holds why and asks to close. */
static int check_framing(struct http_server *srv, struct MHD_Connection *conn, const char *version,
                         struct req_ctx *ctx)
{
    struct field_list list = {0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, add_field, &list);
    size_t limit = (ctx->flags & HTTP_ROUTE_STREAM) ? SIZE_MAX : srv->max_body;
    int rc = framing_check(version, list.items, list.n, limit, &ctx->reply);
    free(list.items);
    if (rc == 0)
        return 0;
    reply_header(&ctx->reply, "Connection", "close");
    return -1;
}

static enum MHD_Result respond(struct http_server *srv, struct MHD_Connection *conn,
                               const char *url, const char *method, struct req_ctx *ctx);

/* A connection opened past a limit: its request gets 503 with Retry-After
 * in the contract's error shape, and the connection is closed after it
 * (libexptrack and most clients retry those). Returns -1 when refused. */
static int refuse_over_limit(struct http_server *srv, struct MHD_Connection *conn,
                             struct req_ctx *ctx)
{
    struct guard *g = connection_guard(conn);
    if (g == NULL || g->verdict == CONN_ADMITTED)
        return 0;
    int per_ip = g->verdict == CONN_OVER_PER_IP;
    atomic_fetch_add_explicit(per_ip ? &refused_per_ip : &refused_total, 1, memory_order_relaxed);
    reply_error(&ctx->reply, ERR_TEMPORARILY_UNAVAILABLE,
                "too many open connections (%s limit %d, --max-connections%s): close idle ones "
                "or retry later",
                per_ip ? "per-address" : "server",
                per_ip ? srv->max_connections_per_ip : srv->max_connections,
                per_ip ? "-per-ip" : "");
    ctx->reply.retry_after = 1;
    reply_header(&ctx->reply, "Connection", "close");
    return -1;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    struct http_server *srv = cls;
    struct req_ctx *ctx = *con_cls;

    if (ctx == NULL) {
        ctx = xcalloc(1, sizeof *ctx);
        clock_gettime(CLOCK_MONOTONIC, &ctx->start);
        set_request_id(conn, ctx->request_id);
        sbuf_init(&ctx->body);
        reply_init(&ctx->reply);
        ctx->match = srv->dispatch->match(method, url, &ctx->route, &ctx->flags);
        if (ctx->match != HTTP_MATCH_FOUND)
            ctx->flags = 0;
        *con_cls = ctx;
        guard_headers_done(conn);
        if (refuse_over_limit(srv, conn, ctx) < 0) {
            ctx->refused = 1;
            return respond(srv, conn, url, method, ctx);
        }
        if (check_framing(srv, conn, version, ctx) < 0) {
            /* answered before the body: libmicrohttpd sends no 100
             * Continue, reads nothing more and closes the connection */
            ctx->refused = 1;
            return respond(srv, conn, url, method, ctx);
        }
        ctx->headers_too_big = headers_too_big(conn);
        const char *length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        ctx->declared = length != NULL ? strtoull(length, NULL, 10) : UINT64_MAX;
        if ((ctx->flags & HTTP_ROUTE_STREAM) && !ctx->headers_too_big)
            begin_upload(srv, conn, url, method, ctx);
        return MHD_YES;
    }
    int streaming = (ctx->flags & HTTP_ROUTE_STREAM) && !ctx->headers_too_big;
    if (ctx->refused) { /* already answered */
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        ctx->received += *upload_size;
        if (ctx->received >= ctx->declared) /* all on hand: a slow handler is not cut */
            guard_body_done(conn);
        if (streaming) {
            feed_upload(srv, ctx, upload_data, *upload_size);
        } else if (!ctx->too_big && ctx->body.len + *upload_size > srv->max_body) {
            /* Past the limit the rest is read and dropped, so the client
             * gets a clean 400 rather than a reset connection. */
            ctx->too_big = 1;
            sbuf_cleanup(&ctx->body);
        } else if (!ctx->too_big && ctx->match == HTTP_MATCH_FOUND) {
            sbuf_add(&ctx->body, upload_data, *upload_size);
        }
        *upload_size = 0;
        return MHD_YES;
    }

    struct reply *r = &ctx->reply;
    guard_body_done(conn);
    if (ctx->deferred) {
        /* resumed: the other thread's work is done */
        ctx->deferred = 0;
    } else if (ctx->headers_too_big) {
        reply_error(r, ERR_HEADERS_TOO_LARGE, "request headers exceed %d bytes", MAX_HEADER_BYTES);
    } else if (streaming && ctx->upload != NULL) {
        srv->dispatch->upload_end(ctx->route, ctx->upload, 1, r);
        ctx->upload = NULL;
    } else if (!streaming) {
        dispatch(srv, conn, url, method, ctx, r);
        if (r->finish != NULL && ctx->wake != NULL && pause_request(ctx->wake)) {
            ctx->deferred = 1; /* no thread held until wake_up */
            return MHD_YES;
        }
    }
    return respond(srv, conn, url, method, ctx);
}

/* Sends the request's reply and logs it. */
static enum MHD_Result respond(struct http_server *srv, struct MHD_Connection *conn,
                               const char *url, const char *method, struct req_ctx *ctx)
{
    struct reply *r = &ctx->reply;
    if (r->finish != NULL) {
        reply_finish_fn finish = r->finish;
        r->finish = NULL;
        finish(r->finish_state, r);
    }
    int streamed = r->stream != NULL;
    /* a streamed reply's bytes, and its access line, wait for its end
     * (free_stream): a chunked one has no size, and a client may leave
     * before a sized one is sent */
    size_t sent = streamed ? 0 : r->body_len;
    int status = r->status;
    const void *route = ctx->match == HTTP_MATCH_FOUND ? ctx->route : NULL;
    reply_header(r, "X-Request-Id", ctx->request_id);
    struct access_info acc = {method,          url,           status, &ctx->start,
                              ctx->request_id, srv->dispatch, route};
    enum MHD_Result ret = send_reply(conn, r, ctx->wake, &acc);
    double ms = elapsed_ms(&ctx->start);
    if (!streamed)
        log_access(method, url, status, sent, ms, ctx->request_id);
    srv->dispatch->observe(route, method, status, ms / 1e3, ctx->body.len + ctx->streamed_in, sent);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_server *srv = cls;
    struct req_ctx *ctx = *con_cls;

    (void)toe;
    if (ctx == NULL)
        return;
    if (ctx->upload != NULL) {
        /* the client went away mid-upload: the handler undoes it */
        struct reply scratch;
        reply_init(&scratch);
        srv->dispatch->upload_end(ctx->route, ctx->upload, 0, &scratch);
        reply_cleanup(&scratch);
    }
    json_decref(ctx->query);
    reply_cleanup(&ctx->reply);
    sbuf_cleanup(&ctx->body);
    wake_detach(ctx->wake);
    guard_request_done(conn, srv);
    free(ctx);
    *con_cls = NULL;
}

/* libmicrohttpd's printf-style log callback (so clang checks the format use) */
static void on_mhd_error(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
    char msg[512];

    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && msg[n - 1] == '\n')
        msg[--n] = '\0';
    log_warn("http: %s", msg);
}

/* libmicrohttpd's unescape callback: exptrackd's decoder (url_query.h),
 * which keeps "%00" literal. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    return url_unescape(s);
}

/* Query strings past these are refused before libmicrohttpd parses them.
 * The largest the dashboard and the API need: 100 run ids and 100 keys. */
#define MAX_QUERY_ARGS 256
#define MAX_URI_BYTES (16 * 1024)

/* libmicrohttpd (0.9.75) keeps each query argument in the connection's
 * memory pool; when they do not fit it cannot even build its own error
 * reply and the connection hangs until the header deadline. It calls this
 * with the URI before parsing the arguments, so a URI with too many of
 * them, or too long, is answered here with the contract's JSON error,
 * written straight to the socket, and the socket is shut down. (Over TLS
 * the bytes would have to be encrypted: the socket is only shut down.) */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct http_server *srv = cls;
    size_t args = 0, len = 0;

    for (const char *p = uri; *p; p++, len++)
        args += *p == '&';
    if (args < MAX_QUERY_ARGS && len <= MAX_URI_BYTES)
        return NULL;
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (info == NULL)
        return NULL;
    if (!srv->tls) {
        char reply[512];
        struct reply e;
        reply_init(&e);
        reply_error(&e, ERR_URI_TOO_LONG,
                    "the URL is too long: at most %d query arguments and %d bytes", MAX_QUERY_ARGS,
                    MAX_URI_BYTES);
        int n = snprintf(reply, sizeof reply,
                         "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
                         "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
                         e.status, MHD_get_reason_phrase_for((unsigned)e.status), e.content_type,
                         e.body_len, e.body);
        reply_cleanup(&e);
        if (n > 0 && (size_t)n < sizeof reply)
            (void)send(info->connect_fd, reply, (size_t)n, MSG_NOSIGNAL);
    }
    shutdown(info->connect_fd, SHUT_RDWR);
    return NULL;
}

/* Resolves host:port to a socket address (numeric or a name like localhost). */
static int resolve(const char *host, int port, struct sockaddr_storage *out, socklen_t *len)
{
    struct addrinfo hints = {0};
    struct addrinfo *res = NULL;
    char service[16];

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(service, sizeof service, "%d", port);
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0) {
        log_error("cannot resolve --host %s: %s", host, gai_strerror(rc));
        return -1;
    }
    memcpy(out, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

/* The address a loopback connect reaches the server at: the listening one
 * with its bound port, the loopback address for a wildcard. */
static void wake_address(const struct sockaddr_storage *listen_addr, int port,
                         struct sockaddr_storage *out, socklen_t *len)
{
    memcpy(out, listen_addr, sizeof *out);
    if (out->ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)out;
        if (IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr))
            a->sin6_addr = in6addr_loopback;
        a->sin6_port = htons((uint16_t)port);
        *len = sizeof *a;
        return;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)out;
    if (a->sin_addr.s_addr == htonl(INADDR_ANY))
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->sin_port = htons((uint16_t)port);
    *len = sizeof *a;
}

/* Descriptors kept for everything but client connections: PostgreSQL
 * connections, artifact files, the log, libmicrohttpd's own. */
#define FD_RESERVE 256
#define DEFAULT_MAX_CONNECTIONS 4096
#define DEFAULT_MAX_CONNECTIONS_PER_IP 2048

/* How many client sockets libmicrohttpd may hold: the open-file limit
 * (raised to its hard limit first) less the reserve. exptrackd's own
 * limits sit at most at half of it, so connections past them still get a
 * socket and their 503 instead of libmicrohttpd's silent close. */
static unsigned socket_budget(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1024 - FD_RESERVE;
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit up = {rl.rlim_max, rl.rlim_max};
        if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 1048576)
            up.rlim_cur = 1048576;
        if (setrlimit(RLIMIT_NOFILE, &up) == 0)
            rl.rlim_cur = up.rlim_cur;
    }
    rlim_t cur = rl.rlim_cur == RLIM_INFINITY ? 1048576 : rl.rlim_cur;
    if (cur <= 2 * FD_RESERVE)
        return (unsigned)(cur / 2);
    return (unsigned)(cur - FD_RESERVE);
}

/* Caps a configured limit at half the socket budget, saying so. */
static int fit_limit(int want, unsigned budget, const char *flag)
{
    if ((unsigned)want <= budget / 2)
        return want;
    log_warn("http: %s %d lowered to %u by the open-file limit (ulimit -n)", flag, want,
             budget / 2);
    return (int)(budget / 2);
}

struct http_server *http_start(const struct http_options *opts)
{
    struct sockaddr_storage addr;
    socklen_t addrlen;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    flags |= opts->event_loop == HTTP_EVENT_LOOP_EPOLL ? MHD_USE_EPOLL : MHD_USE_POLL;

    if (resolve(opts->host, opts->port, &addr, &addrlen) < 0)
        return NULL;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct MHD_OptionItem tls[] = {{MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)opts->tls_key_pem},
                                   {MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)opts->tls_cert_pem},
                                   {MHD_OPTION_END, 0, NULL}};
    if (opts->tls_cert_pem != NULL)
        flags |= MHD_USE_TLS;
    else
        tls[0].option = MHD_OPTION_END;

    struct http_server *srv = xcalloc(1, sizeof *srv);
    srv->dispatch = opts->dispatch;
    srv->max_body = opts->max_body;
    srv->header_timeout_s = opts->header_timeout_s;
    srv->tls = opts->tls_cert_pem != NULL;
    srv->epoll = opts->event_loop == HTTP_EVENT_LOOP_EPOLL;
    unsigned budget = socket_budget();
    srv->max_connections =
        fit_limit(opts->max_connections > 0 ? opts->max_connections : DEFAULT_MAX_CONNECTIONS,
                  budget, "--max-connections");
    srv->max_connections_per_ip =
        fit_limit(opts->max_connections_per_ip > 0 ? opts->max_connections_per_ip
                                                   : DEFAULT_MAX_CONNECTIONS_PER_IP,
                  budget, "--max-connections-per-ip");
    conn_limit_configure(srv->max_connections, srv->max_connections_per_ip);
    srv->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)opts->threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)KEEPALIVE_IDLE_S, MHD_OPTION_UNESCAPE_CALLBACK,
        unescape,
        /* request line, query arguments and headers must fit here (431 past
         * it; on_uri refuses what would not). libmicrohttpd's connection
         * limit is the whole socket budget and it has no per-IP limit: the
         * limits are exptrackd's own (conn_limit.h), answered with 503. */
        NULL, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_POOL_BYTES,
        MHD_OPTION_CONNECTION_LIMIT, budget, MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
    if (srv->daemon == NULL) {
        log_error("cannot listen on %s port %d (address in use, or not allowed)", opts->host,
                  opts->port);
        free(srv);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : opts->port;
    log_info("http: %d request threads waiting with %s", opts->threads,
             opts->event_loop == HTTP_EVENT_LOOP_EPOLL ? "epoll" : "poll");
    wake_address(&addr, srv->port, &srv->wake_addr, &srv->wake_addrlen);
    srv->reaper = (struct worker)WORKER_INIT(&guards_mu, NULL);
    pthread_mutex_lock(&guards_mu);
    if (worker_start(&srv->reaper, reaper_main, srv) != 0)
        log_warn("http: cannot start the connection reaper; slow clients are not cut");
    pthread_mutex_unlock(&guards_mu);
    return srv;
}

int http_port(const struct http_server *s)
{
    return s->port;
}

void http_conn_stats(struct http_conn_stats *out)
{
    out->open = conn_limit_open();
    out->refused_total = atomic_load_explicit(&refused_total, memory_order_relaxed);
    out->refused_per_ip = atomic_load_explicit(&refused_per_ip, memory_order_relaxed);
}

void http_stop(struct http_server *s)
{
    if (s == NULL)
        return;
    worker_stop(&s->reaper);
    MHD_stop_daemon(s->daemon);
    free(s);
}
