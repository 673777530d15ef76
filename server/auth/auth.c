/* The request hook: each request is screened (Host,
 * Origin, JSON depth: auth_screen.c), then with --auth its sender is
 * identified (auth_authn.c, auth_session.c) and the route's permission rule
 * applied (auth_authz.c); after the handler, changes are written to the
 * audit log. Handlers never check permissions themselves, except search
 * results, filtered through auth_can_read_many. */
#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth_internal.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "common/xalloc.h"

/* Bytes of a request's fields kept in an audit log row. */
#define AUDIT_MAX_TARGET 2000

/* Who sent req: Basic credentials, a bearer token or the dashboard's session
 * cookie. Returns 0 with req->user set, or -1 with r set. */
static int authenticate(struct request *req, struct arena *arena, struct reply *r)
{
    const char *h = request_header(req, "Authorization");
    if (h == NULL) {
        char session[200];
        auth_session_cookie(req, session, sizeof session);
        if (session[0] != '\0')
            return auth_authenticate_cookie(req, session, arena, r);
        auth_unauthenticated(
            req, r, "authentication required: send HTTP Basic credentials or a bearer token");
        return -1;
    }
    if (strncasecmp(h, "Basic ", 6) == 0)
        return auth_authenticate_basic(req, h + 6, arena, r);
    if (strncasecmp(h, "Bearer ", 7) == 0)
        return auth_authenticate_bearer(req, h + 7, arena, r);
    auth_unauthenticated(req, r, "unsupported Authorization scheme: use Basic or Bearer");
    return -1;
}

/* Whether auth_after_finish journals this request: with authentication on, every
 * call that is not GET or HEAD, unless its route says otherwise. */
static int journaled(const struct request *req, const struct route *route)
{
    return auth_cfg.enabled && !auth_is_safe_method(req->method) && route->journal != JOURNAL_NEVER;
}

int auth_request(struct request *req, const struct route *route, struct reply *r)
{
    struct arena arena;
    int rc = -1;

    memset(&req->user, 0, sizeof req->user);
    if (auth_screen_origin(req, r) < 0)
        return -1;
    if (auth_json_depth(req->input, AUTH_MAX_JSON_DEPTH) > AUTH_MAX_JSON_DEPTH) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "request JSON nests deeper than %d levels",
                    AUTH_MAX_JSON_DEPTH);
        return -1;
    }
    if (!auth_cfg.enabled || route->perm == PERM_PUBLIC)
        return 0;
    arena_init(&arena);
    if (authenticate(req, &arena, r) == 0 && auth_authorize(req, route, r) == 0)
        rc = 0;
    else if (r->status == 401 && route->mount == MOUNT_ROOT && strcmp(route->path, "/") == 0) {
        /* a browser opening the dashboard goes to the sign-in page */
        reply_cleanup(r);
        reply_init(r);
        reply_see_other(r, "/signin", "sign in at /signin\n");
    }
    arena_cleanup(&arena);
    return rc;
}

/* What auth_after_finish needs of a request, copied while it is alive: a
 * deferred reply completes after the request's input is gone. */
struct auth_pending {
    const struct route *route;
    struct request_user user;
    char action[300]; /* "METHOD /path" */
    char *target;     /* the request's fields, without secrets; never NULL */
};

/* The request's JSON fields without "password", compact, cut to
 * AUDIT_MAX_TARGET bytes on a UTF-8 boundary; "" for a query string. */
static char *audit_target(const struct request *req)
{
    char *text = NULL;
    if (req->input != NULL && !req->from_query) {
        json_t *compact = json_deep_copy(req->input);
        json_object_del(compact, "password");
        text = json_dumps(compact, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(compact);
        if (text != NULL && strlen(text) > AUDIT_MAX_TARGET) {
            size_t cut = AUDIT_MAX_TARGET;
            while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80)
                cut--; /* never split a UTF-8 sequence */
            text[cut] = '\0';
        }
    }
    return text != NULL ? text : xstrdup("");
}

struct auth_pending *auth_after_prepare(const struct request *req, const struct route *route)
{
    if (!journaled(req, route))
        return NULL;
    struct auth_pending *p = xmalloc(sizeof *p);
    p->route = route;
    p->user = req->user;
    snprintf(p->action, sizeof p->action, "%s %s", req->method, req->path);
    p->target = audit_target(req);
    return p;
}

void auth_after_finish(struct auth_pending *p, const struct reply *r)
{
    if (p == NULL)
        return;
    const struct route *route = p->route;
    if (route->target == TARGET_NEW_EXPERIMENT && r->status == 200 && p->user.id != 0 &&
        r->body != NULL) {
        json_t *body = json_loadb(r->body, r->body_len, 0, NULL);
        const char *id = json_string_value(json_object_get(body, "experiment_id"));
        int64_t eid;
        if (id != NULL && jx_parse_int64_text(id, &eid) == 0 &&
            store_perm_grant(eid, p->user.id, STORE_PERM_MANAGE) != DB_OK)
            log_warn("auth: could not grant MANAGE on experiment %s to %s", id, p->user.name);
        json_decref(body);
    }
    if (route->target == TARGET_NEW_MODEL && r->status == 200 && p->user.id != 0 &&
        r->body != NULL) {
        /* renames and deletes carry the records along in the database
         * (schema/0011_registry_permissions.sql) */
        json_t *body = json_loadb(r->body, r->body_len, 0, NULL);
        const char *name =
            json_string_value(json_object_get(json_object_get(body, "registered_model"), "name"));
        if (name != NULL && store_model_perm_grant(name, p->user.id, STORE_PERM_MANAGE) != DB_OK)
            log_warn("auth: could not grant MANAGE on registered model %s to %s", name,
                     p->user.name);
        json_decref(body);
    }
    /* a registry change that succeeded wrote its own, finer row (model,
     * version, field, old and new value) in its transaction
     * (registry/store_registry_journal.h); refusals and failures still get
     * this one */
    if (!(route->journal == JOURNAL_FAILURES && r->status == 200) &&
        store_audit_add(p->user.name, p->action, p->target, r->status) != DB_OK)
        log_warn("auth: could not write the audit log for %s", p->action);
    free(p->target);
    free(p);
}
