/* MLflow's user, experiment-permission and registered-model-permission API
 * (mlflow-api.md section 12, mlflow-models-api.md 6.1),
 * bearer tokens, the audit log and the route table's rules. Who may call
 * each of these is the route table's business (auth_request), not theirs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "core/input.h"
#include "core/reply_store.h"
#include "auth.h"
#include "store_auth.h"
#include "common/xalloc.h"

/* Audit log rows per page: max_results' default and upper bound. */
#define AUDIT_PAGE_DEFAULT 100
#define AUDIT_PAGE_MAX 1000

static int read_username(const struct input *in, const char **out, struct reply *r)
{
    if (jx_required_string(in, "username", out, r) != JX_OK)
        return -1;
    if (strlen(*out) > AUTH_MAX_NAME) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "username must be at most %d bytes long",
                    AUTH_MAX_NAME);
        return -1;
    }
    return 0;
}

static void user_error(struct reply *r, int rc, const char *username)
{
    if (rc == DB_NOT_FOUND)
        reply_error(r, ERR_RESOURCE_DOES_NOT_EXIST, "User with username=%.255s not found",
                    username);
    else
        reply_store_error(r, rc, "user not found");
}

static json_t *perm_json(int64_t experiment_id, int64_t user_id, enum store_perm p)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)experiment_id);
    return json_pack("{s:s, s:I, s:s}", "experiment_id", id, "user_id", (json_int_t)user_id,
                     "permission", auth_perm_names[p]);
}

static json_t *model_perm_json(const char *name, int64_t user_id, enum store_perm p)
{
    return json_pack("{s:s, s:I, s:s}", "name", name, "user_id", (json_int_t)user_id, "permission",
                     auth_perm_names[p]);
}

static json_t *user_json(const struct user *u, const struct experiment_perm *perms, size_t n,
                         const struct model_perm *mperms, size_t nm)
{
    json_t *list = json_array(), *models = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list,
                              perm_json(perms[i].experiment_id, perms[i].user_id, perms[i].perm));
    for (size_t i = 0; i < nm; i++)
        json_array_append_new(models, model_perm_json(mperms[i].name, u->id, mperms[i].perm));
    return json_pack("{s:{s:I, s:s, s:b, s:o, s:o}}", "user", "id", (json_int_t)u->id, "username",
                     u->username, "is_admin", u->is_admin, "experiment_permissions", list,
                     "registered_model_permissions", models);
}

void api_users_create(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    const char *username, *password;
    struct user u = {0};
    char *hash = NULL;

    if (read_username(&in, &username, r) < 0 ||
        jx_required_string(&in, "password", &password, r) != JX_OK ||
        auth_password_ok(password, r) < 0)
        return;
    hash = auth_hash_password(password);
    if (hash == NULL) {
        reply_error(r, ERR_INTERNAL_ERROR, "could not hash the password");
        return;
    }
    int rc = store_user_create(username, hash, 0, &u.id);
    free(hash);
    if (rc == DB_EXISTS) {
        reply_error(r, ERR_RESOURCE_ALREADY_EXISTS, "User '%.255s' already exists", username);
        return;
    }
    if (rc != DB_OK) {
        reply_store_error(r, rc, "user not found");
        return;
    }
    u.username = username;
    reply_json(r, user_json(&u, NULL, 0, NULL, 0));
}

void api_users_get(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    const char *username;
    struct user u;
    struct experiment_perm *perms;
    struct model_perm *mperms;
    size_t n, nm;

    arena_init(&arena);
    if (read_username(&in, &username, r) < 0)
        goto out;
    int rc = store_user_get(username, &arena, &u);
    if (rc == DB_OK)
        rc = store_perm_list(u.id, &arena, &perms, &n);
    if (rc == DB_OK)
        rc = store_model_perm_list(u.id, &arena, &mperms, &nm);
    if (rc != DB_OK) {
        user_error(r, rc, username);
        goto out;
    }
    reply_json(r, user_json(&u, perms, n, mperms, nm));
out:
    arena_cleanup(&arena);
}

void api_users_update_password(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    const char *username, *password;

    if (read_username(&in, &username, r) < 0 ||
        jx_required_string(&in, "password", &password, r) != JX_OK ||
        auth_password_ok(password, r) < 0)
        return;
    char *hash = auth_hash_password(password);
    if (hash == NULL) {
        reply_error(r, ERR_INTERNAL_ERROR, "could not hash the password");
        return;
    }
    int rc = store_user_set_password(username, hash);
    free(hash);
    if (rc != DB_OK)
        user_error(r, rc, username);
    else
        reply_json(r, json_object());
}

void api_users_update_admin(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    const char *username;
    int is_admin = 0;

    if (read_username(&in, &username, r) < 0)
        return;
    int rc = jx_bool(&in, "is_admin", &is_admin, r);
    if (rc == JX_BAD)
        return;
    if (rc == JX_ABSENT) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Missing value for required parameter 'is_admin'");
        return;
    }
    rc = store_user_set_admin(username, is_admin);
    if (rc != DB_OK)
        user_error(r, rc, username);
    else
        reply_json(r, json_object());
}

void api_users_delete(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    const char *username;

    if (read_username(&in, &username, r) < 0)
        return;
    if (strcmp(username, req->user.name) == 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "you cannot delete yourself");
        return;
    }
    int rc = store_user_delete(username);
    if (rc != DB_OK)
        user_error(r, rc, username);
    else
        reply_json(r, json_object());
}

/* What an experiments/permissions or registered-models/permissions call
 * grants on: an experiment (model NULL) or a registered model by name. */
struct perm_target {
    const char *model;
    int64_t exp_id;
};

/* Reads the target (experiment_id, or name for a model), then username and,
 * when perm is non-NULL, the permission, then looks the user up. 0, or -1
 * with r set. */
static int read_perm_request(const struct request *req, int for_model, struct perm_target *t,
                             struct user *u, enum store_perm *perm, struct arena *arena,
                             struct reply *r)
{
    struct input in = input_from(req);
    const char *username, *name;

    t->model = NULL;
    t->exp_id = 0;
    int rc = for_model ? jx_required_string(&in, "name", &t->model, r)
                       : input_experiment_id(&in, "experiment_id", &t->exp_id, r);
    if (rc != JX_OK || read_username(&in, &username, r) < 0)
        return -1;
    if (perm != NULL) {
        if (jx_required_string(&in, "permission", &name, r) != JX_OK)
            return -1;
        if (auth_perm_parse(name, perm) < 0) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                        "Invalid permission '%.40s': use READ, EDIT, MANAGE or NO_PERMISSIONS",
                        name);
            return -1;
        }
    }
    rc = store_user_get(username, arena, u);
    if (rc != DB_OK) {
        user_error(r, rc, username);
        return -1;
    }
    return 0;
}

static void perm_store_error(struct reply *r, int rc, const struct perm_target *t,
                             const char *username)
{
    if (rc == DB_INVALID && t->model == NULL) /* the permission row's experiment does not exist */
        reply_store_experiment_not_found(r, DB_NOT_FOUND, t->exp_id);
    else if (rc == DB_INVALID) /* the permission row's model does not exist */
        reply_error(r, ERR_RESOURCE_DOES_NOT_EXIST, "Registered Model with name=%.256s not found",
                    t->model);
    else if (rc == DB_EXISTS && t->model == NULL)
        reply_error(r, ERR_RESOURCE_ALREADY_EXISTS,
                    "Experiment permission (experiment_id=%lld, username=%.255s) already exists",
                    (long long)t->exp_id, username);
    else if (rc == DB_EXISTS)
        reply_error(r, ERR_RESOURCE_ALREADY_EXISTS,
                    "Registered model permission (name=%.256s, username=%.255s) already exists",
                    t->model, username);
    else if (rc == DB_NOT_FOUND && t->model == NULL)
        reply_error(r, ERR_RESOURCE_DOES_NOT_EXIST,
                    "Experiment permission with experiment_id=%lld and username=%.255s not found",
                    (long long)t->exp_id, username);
    else if (rc == DB_NOT_FOUND)
        reply_error(r, ERR_RESOURCE_DOES_NOT_EXIST,
                    "Registered model permission with name=%.256s and username=%.255s not found",
                    t->model, username);
    else
        reply_store_error(r, rc, "permission not found");
}

/* {"experiment_permission": {...}} or {"registered_model_permission": {...}}. */
static json_t *perm_reply_json(const struct perm_target *t, int64_t user_id, enum store_perm p)
{
    if (t->model != NULL)
        return json_pack("{s:o}", "registered_model_permission",
                         model_perm_json(t->model, user_id, p));
    return json_pack("{s:o}", "experiment_permission", perm_json(t->exp_id, user_id, p));
}

enum perm_op { PERM_OP_CREATE, PERM_OP_UPDATE, PERM_OP_GET, PERM_OP_DELETE };

/* One permissions call: reads, runs op against the experiment or model
 * grants, and replies as MLflow does (create and get return the grant,
 * update and delete {}). */
static void permission_call(const struct request *req, struct reply *r, int for_model,
                            enum perm_op op)
{
    struct arena arena;
    struct perm_target t;
    struct user u;
    enum store_perm perm = STORE_PERM_NONE;
    int writes = op == PERM_OP_CREATE || op == PERM_OP_UPDATE;
    int rc;

    arena_init(&arena);
    if (read_perm_request(req, for_model, &t, &u, writes ? &perm : NULL, &arena, r) < 0)
        goto out;
    if (writes)
        rc = for_model ? store_model_perm_put(t.model, u.id, perm, op == PERM_OP_CREATE)
                       : store_perm_put(t.exp_id, u.id, perm, op == PERM_OP_CREATE);
    else if (op == PERM_OP_GET)
        rc = for_model ? store_model_perm_get(t.model, u.id, &perm)
                       : store_perm_get(t.exp_id, u.id, &perm);
    else
        rc = for_model ? store_model_perm_delete(t.model, u.id) : store_perm_delete(t.exp_id, u.id);
    if (rc != DB_OK)
        perm_store_error(r, rc, &t, u.username);
    else if (op == PERM_OP_CREATE || op == PERM_OP_GET)
        reply_json(r, perm_reply_json(&t, u.id, perm));
    else
        reply_json(r, json_object());
out:
    arena_cleanup(&arena);
}

void api_permissions_create(const struct request *req, struct reply *r)
{
    permission_call(req, r, 0, PERM_OP_CREATE);
}

void api_permissions_update(const struct request *req, struct reply *r)
{
    permission_call(req, r, 0, PERM_OP_UPDATE);
}

void api_permissions_get(const struct request *req, struct reply *r)
{
    permission_call(req, r, 0, PERM_OP_GET);
}

void api_permissions_delete(const struct request *req, struct reply *r)
{
    permission_call(req, r, 0, PERM_OP_DELETE);
}

void api_model_permissions_create(const struct request *req, struct reply *r)
{
    permission_call(req, r, 1, PERM_OP_CREATE);
}

void api_model_permissions_update(const struct request *req, struct reply *r)
{
    permission_call(req, r, 1, PERM_OP_UPDATE);
}

void api_model_permissions_get(const struct request *req, struct reply *r)
{
    permission_call(req, r, 1, PERM_OP_GET);
}

void api_model_permissions_delete(const struct request *req, struct reply *r)
{
    permission_call(req, r, 1, PERM_OP_DELETE);
}

/* The user a token call acts for: "username" (admins, or oneself), else the
 * caller. 0, or -1 with r set. */
static int token_owner(const struct request *req, struct arena *arena, struct user *u,
                       struct reply *r)
{
    struct input in = input_from(req);
    const char *username = NULL;

    int rc = jx_string(&in, "username", &username, r);
    if (rc == JX_BAD)
        return -1;
    if (rc == JX_ABSENT || username[0] == '\0') {
        if (req->user.id == 0) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                        "Missing value for required parameter 'username' (not signed in)");
            return -1;
        }
        username = req->user.name;
    } else if (req->user.id != 0 && !req->user.is_admin && strcmp(username, req->user.name) != 0) {
        reply_error(r, ERR_PERMISSION_DENIED, "permission denied: only admins act for others");
        return -1;
    }
    rc = store_user_get(username, arena, u);
    if (rc != DB_OK) {
        user_error(r, rc, username);
        return -1;
    }
    return 0;
}

void api_tokens_create(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct user u;
    const char *name = "";
    char text[AUTH_TOKEN_LEN + 1];
    unsigned char digest[32];
    int64_t id;

    arena_init(&arena);
    if (token_owner(req, &arena, &u, r) < 0 || jx_string(&in, "name", &name, r) == JX_BAD)
        goto out;
    if (name == NULL)
        name = "";
    if (strlen(name) > AUTH_MAX_NAME) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "name must be at most %d bytes long",
                    AUTH_MAX_NAME);
        goto out;
    }
    if (auth_new_token(text, digest) < 0) {
        reply_error(r, ERR_INTERNAL_ERROR, "the random source failed");
        goto out;
    }
    int rc = store_token_create(u.id, digest, name, &id);
    if (rc != DB_OK) {
        reply_store_error(r, rc, "user not found");
        goto out;
    }
    char id_text[24];
    snprintf(id_text, sizeof id_text, "%lld", (long long)id);
    reply_json(r, json_pack("{s:s, s:s, s:s}", "token_id", id_text, "token", text, "username",
                            u.username));
out:
    arena_cleanup(&arena);
}

void api_tokens_revoke(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    int64_t id;

    int rc = jx_int64(&in, "token_id", &id, r);
    if (rc == JX_BAD)
        return;
    if (rc == JX_ABSENT) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Missing value for required parameter 'token_id'");
        return;
    }
    /* others' tokens only for admins (and with authentication off) */
    int64_t owner = req->user.is_admin || req->user.id == 0 ? 0 : req->user.id;
    rc = store_token_revoke(id, owner);
    if (rc == DB_NOT_FOUND)
        reply_error(r, ERR_RESOURCE_DOES_NOT_EXIST, "No active token with id=%lld", (long long)id);
    else if (rc != DB_OK)
        reply_store_error(r, rc, "token not found");
    else
        reply_json(r, json_object());
}

void api_tokens_list(const struct request *req, struct reply *r)
{
    struct arena arena;
    struct user u;
    struct token_info *t;
    size_t n;

    arena_init(&arena);
    if (token_owner(req, &arena, &u, r) < 0)
        goto out;
    int rc = store_token_list(u.id, &arena, &t, &n);
    if (rc != DB_OK) {
        reply_store_error(r, rc, "user not found");
        goto out;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)t[i].id);
        json_array_append_new(list,
                              json_pack("{s:s, s:s, s:I, s:b}", "token_id", id, "name", t[i].name,
                                        "created_time", (json_int_t)t[i].created_time, "revoked",
                                        t[i].revoked));
    }
    reply_json(r, json_pack("{s:o}", "tokens", list));
out:
    arena_cleanup(&arena);
}

void api_audit_list(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct audit_entry *e;
    int64_t before = 0, limit = AUDIT_PAGE_DEFAULT;
    size_t n;

    arena_init(&arena);
    if (jx_int64(&in, "before_id", &before, r) == JX_BAD ||
        jx_int64(&in, "max_results", &limit, r) == JX_BAD)
        goto out;
    if (limit < 1 || limit > AUDIT_PAGE_MAX || before < 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "max_results must be in [1, %d] and before_id >= 0", AUDIT_PAGE_MAX);
        goto out;
    }
    int rc = store_audit_list(before, limit, &arena, &e, &n);
    if (rc != DB_OK) {
        reply_store_error(r, rc, "not found");
        goto out;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:i}", "id", (json_int_t)e[i].id, "time",
                              (json_int_t)e[i].time, "username", e[i].username, "action",
                              e[i].action, "target", e[i].target, "status", e[i].status);
        /* registry changes: what changed, from what to what */
        if (e[i].model != NULL)
            json_object_set_new(o, "model", json_string(e[i].model));
        if (e[i].version > 0)
            json_object_set_new(o, "version", json_integer((json_int_t)e[i].version));
        if (e[i].field != NULL)
            json_object_set_new(o, "field", json_string(e[i].field));
        if (e[i].old_value != NULL)
            json_object_set_new(o, "old_value", json_string(e[i].old_value));
        if (e[i].new_value != NULL)
            json_object_set_new(o, "new_value", json_string(e[i].new_value));
        json_array_append_new(list, o);
    }
    reply_json(r, json_pack("{s:o}", "entries", list));
out:
    arena_cleanup(&arena);
}

void api_routes_list(const struct request *req, struct reply *r)
{
    static const char *const perms[] = {"UNSET", "PUBLIC", "USER", "READ",
                                        "EDIT",  "MANAGE", "SELF", "ADMIN"};
    static const char *const targets[] = {
        "NONE",      "EXPERIMENT_ID", "EXPERIMENT_IDS", "EXPERIMENT_NAME", "RUN_ID",
        "RUN_IDS",   "ARTIFACT_PATH", "ARTIFACT_QUERY", "NEW_EXPERIMENT",  "MODEL_NAME",
        "NEW_MODEL", "LOGGED_MODEL",  "TRACE",          "TRACE_LOCATION",  "OTLP_HEADER"};
    static const char *const mounts[] = {"ROOT", "API", "ROOT_PREFIX", "API_PREFIX"};
    size_t n;
    const struct route *table = auth_routes(&n);
    json_t *list = json_array();

    (void)req;
    for (size_t i = 0; i < n; i++) {
        const struct route *rt = &table[i];
        json_array_append_new(
            list, json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "method", rt->method, "mount",
                            mounts[rt->mount], "path", rt->path, "perm",
                            (unsigned)rt->perm < 8 ? perms[rt->perm] : "UNSET", "target",
                            (unsigned)rt->target < sizeof targets / sizeof targets[0]
                                ? targets[rt->target]
                                : "NONE",
                            "stream", rt->body == BODY_STREAM));
    }
    reply_json(r, json_pack("{s:o}", "routes", list));
}

/* The dashboard's sign-in page: static HTML, its script in /static/js. */
static const char signin_html[] =
    "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>exptrack: sign in</title>\n"
    "<link rel=\"stylesheet\" href=\"/static/css/app.css\">\n"
    "<script type=\"module\" src=\"/static/js/signin.js\"></script>\n</head>\n<body>\n"
    "<main class=\"signin\">\n<h1>exptrack</h1>\n"
    "<form id=\"signin\" method=\"post\" action=\"#\">\n"
    "<label>Username <input name=\"username\" autocomplete=\"username\" required></label>\n"
    "<label>Password <input name=\"password\" type=\"password\" "
    "autocomplete=\"current-password\" required></label>\n"
    "<button type=\"submit\">Sign in</button>\n<p id=\"signin-error\" class=\"error\" "
    "role=\"alert\"></p>\n</form>\n</main>\n</body>\n</html>\n";

void api_signin_page(const struct request *req, struct reply *r)
{
    (void)req;
    reply_text(r, "text/html; charset=utf-8", signin_html);
    reply_header(r, "Content-Security-Policy",
                 "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; "
                 "base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    reply_header(r, "X-Content-Type-Options", "nosniff");
    reply_header(r, "X-Frame-Options", "DENY");
    reply_header(r, "Referrer-Policy", "no-referrer");
    reply_header(r, "Cache-Control", "no-store");
}

void api_session_login(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    const char *username, *password;
    char session[400], csrf[200];

    if (!auth_enabled()) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "authentication is off (start exptrackd with --auth): nothing to sign in to");
        return;
    }
    if (read_username(&in, &username, r) < 0 ||
        jx_required_string(&in, "password", &password, r) != JX_OK)
        return;
    int rc = auth_login(username, password, session, sizeof session, csrf, sizeof csrf);
    if (rc == DB_NOT_FOUND) {
        reply_error(r, ERR_UNAUTHENTICATED, "invalid username or password");
        return;
    }
    if (rc == DB_RETRY) {
        reply_error(r, ERR_REQUEST_LIMIT_EXCEEDED,
                    "too many failed sign-ins for this user: try again in a minute");
        r->retry_after = AUTH_FAIL_WINDOW;
        return;
    }
    if (rc != DB_OK) {
        reply_store_error(r, rc, "user not found");
        return;
    }
    reply_json(r, json_pack("{s:s}", "username", username));
    reply_header(r, "Set-Cookie", session);
    reply_header(r, "Set-Cookie", csrf);
    reply_header(r, "Cache-Control", "no-store");
}

void api_users_current(const struct request *req, struct reply *r)
{
    if (!auth_enabled() || req->user.id == 0) {
        reply_json(r, json_pack("{s:b}", "authentication", 0));
        return;
    }
    reply_json(r, json_pack("{s:b, s:{s:s, s:b}}", "authentication", 1, "user", "username",
                            req->user.name, "is_admin", req->user.is_admin));
    reply_header(r, "Cache-Control", "no-store");
}

void api_session_logout(const struct request *req, struct reply *r)
{
    (void)req;
    reply_json(r, json_object());
    reply_header(r, "Set-Cookie", auth_logout_cookies[0]);
    reply_header(r, "Set-Cookie", auth_logout_cookies[1]);
}
