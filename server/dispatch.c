/* http_dispatch over the route table: lookup, the auth hooks around each
 * handler, streamed uploads, and the per-request metrics. No HTTP library
 * here, and no decisions of its own: each step is the route table's, auth's
 * or the handler's. */
#include "dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "common/xalloc.h"
#include "db/db.h"
#include "db/replicas.h"
#include "ops/metrics.h"
#include "routes.h"

/* The header and cookie that carry a client's last write's WAL position
 * (docs/api-extensions.md): a read that carries one is served by a replica
 * that has replayed it, else by the primary. */
#define LSN_HEADER "X-Exptrack-Lsn"
#define LSN_COOKIE "exptrack_lsn"

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

/* The WAL position in the request's Cookie header, if it holds a sane one. */
static uint64_t lsn_of_cookie(const struct request *req)
{
    const char *cookies = request_header(req, "Cookie");
    uint64_t lsn = 0;
    for (const char *p = cookies; p != NULL && *p != '\0';) {
        while (*p == ' ' || *p == ';')
            p++;
        size_t n = strcspn(p, ";");
        size_t name = strlen(LSN_COOKIE);
        if (n > name + 1 && n < name + 1 + DB_LSN_TEXT_MAX && strncmp(p, LSN_COOKIE, name) == 0 &&
            p[name] == '=') {
            char value[DB_LSN_TEXT_MAX];
            memcpy(value, p + name + 1, n - name - 1);
            value[n - name - 1] = '\0';
            if (db_lsn_parse(value, &lsn) < 0)
                lsn = 0; /* a stale or foreign cookie: no wait, any replica */
        }
        p += n;
    }
    return lsn;
}

/* The WAL position a read must see: the header's (a bad one is refused),
 * else the cookie's, else 0. -1 with r set when the header is bad. */
static int read_position(const struct request *req, struct reply *r, uint64_t *lsn)
{
    const char *h = request_header(req, LSN_HEADER);
    *lsn = 0;
    if (h == NULL) {
        *lsn = lsn_of_cookie(req);
        return 0;
    }
    if (strlen(h) >= DB_LSN_TEXT_MAX || db_lsn_parse(h, lsn) < 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "header %s must be a WAL position such as 0/16B3748 (two hex numbers of at "
                    "most 8 digits), got '%.40s'",
                    LSN_HEADER, h);
        return -1;
    }
    return 0;
}

/* Runs a READS_REPLICA route's handler with its statements on a replica
 * (db.h picks one); a read a replica broke under runs again on the primary. */
static void run_read(const struct route *rt, const struct request *req, struct reply *r)
{
    uint64_t lsn;
    if (read_position(req, r, &lsn) < 0)
        return;
    db_route_read(lsn);
    rt->handler(req, r);
    if (db_route_failed() && r->status >= 500 && r->finish == NULL && r->stream == NULL) {
        reply_cleanup(r);
        reply_init(r);
        db_route_primary();
        rt->handler(req, r);
    }
    db_route_primary();
}

/* Tells the client the WAL position its acknowledged write reached, as a
 * header and a cookie (docs/api-extensions.md). */
static void tell_position(struct reply *r)
{
    char lsn[DB_LSN_TEXT_MAX], cookie[DB_LSN_TEXT_MAX + 64];
    if (r->status < 200 || r->status >= 300 || db_write_lsn(lsn, sizeof lsn) != DB_OK)
        return;
    reply_header(r, LSN_HEADER, lsn);
    snprintf(cookie, sizeof cookie, "%s=%s; Path=/; Max-Age=300; SameSite=Lax; HttpOnly",
             LSN_COOKIE, lsn);
    reply_header(r, "Set-Cookie", cookie);
}

/* What runs once a reply is final: the audit row of the call (auth.h;
 * NULL: not journaled), then, with replicas, the WAL position its write
 * reached. For a deferred reply, also the handler's own finish, first. */
struct after_reply {
    reply_finish_fn finish;
    void *state;
    struct auth_pending *pending;
    int tell;
};

static void after_reply_run(struct after_reply *a, struct reply *r)
{
    auth_after_finish(a->pending, r);
    if (a->tell)
        tell_position(r);
}

static void finish_then_after(void *state, struct reply *r)
{
    struct after_reply *a = state;
    a->finish(a->state, r);
    after_reply_run(a, r);
    free(a);
}

static int is_write(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

static int handle(const void *route, struct request *req, struct reply *r)
{
    const struct route *rt = route;
    if (auth_request(req, rt, r) != 0) /* hosts, origins, credentials, rules */
        return -1;
    if (rt->reads == READS_REPLICA && db_replicas_in_use())
        run_read(rt, req, r);
    else
        rt->handler(req, r);
    struct after_reply after = {
        .pending = auth_after_prepare(req, rt),
        .tell = rt->reads == READS_PRIMARY && db_replicas_in_use() && is_write(req->method),
    };
    if (r->finish == NULL) {
        after_reply_run(&after, r);
    } else if (after.pending != NULL || after.tell) { /* the write commits later */
        struct after_reply *a = xmalloc(sizeof *a);
        *a = after;
        a->finish = r->finish;
        a->state = r->finish_state;
        r->finish = finish_then_after;
        r->finish_state = a;
    }
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

static void observe_streamed(const void *route, size_t bytes_out)
{
    metrics_response_bytes(route, bytes_out);
}

const struct http_dispatch dispatch_routes = {match,      handle,  upload_begin,    upload_data,
                                              upload_end, observe, observe_streamed};
