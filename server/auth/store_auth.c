/* Users, tokens, experiment and registered-model permissions and the audit
 * log: all their SQL.
 * Token digests travel as hex text and are decoded in SQL. */
#include "store_auth.h"

#include <stdio.h>
#include <string.h>

#include "core/ids.h"
#include "db/store_util.h"

static const char *const perm_names[] = {"NO_PERMISSIONS", "READ", "EDIT", "MANAGE"};

static enum store_perm perm_from_text(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, perm_names[i]) == 0)
            return (enum store_perm)i;
    return STORE_PERM_NONE;
}

/* Runs a statement that must touch one row: DB_NOT_FOUND when it touched none. */
static int exec_one(const char *sql, int n, const char *const *params)
{
    PGresult *res = NULL;
    int rc = db_exec(sql, n, params, &res);
    if (rc == DB_OK && strcmp(PQcmdTuples(res), "0") == 0)
        rc = DB_NOT_FOUND;
    PQclear(res);
    return rc;
}

int store_user_create(const char *username, const char *password_hash, int is_admin, int64_t *id)
{
    char now[24];
    PGresult *res = NULL;
    const char *params[] = {username, password_hash, is_admin ? "t" : "f",
                            su_i64(now, store_now_ms())};
    int rc = db_exec("INSERT INTO users (username, password_hash, is_admin, created_time)"
                     " VALUES ($1, $2, $3, $4) RETURNING id",
                     4, params, &res);
    if (rc == DB_OK && id != NULL)
        *id = su_int64(res, 0, 0);
    PQclear(res);
    return rc;
}

static int read_user(const char *sql, const char *param, struct arena *arena, struct user *out)
{
    PGresult *res = NULL;
    const char *params[] = {param};
    int rc = db_exec(sql, 1, params, &res);
    if (rc != DB_OK)
        return rc;
    if (PQntuples(res) == 0) {
        rc = DB_NOT_FOUND;
        goto out;
    }
    out->id = su_int64(res, 0, 0);
    out->username = su_str(res, 0, 1, arena);
    out->password_hash = su_str(res, 0, 2, arena);
    out->is_admin = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
out:
    PQclear(res);
    return rc;
}

int store_user_get(const char *username, struct arena *arena, struct user *out)
{
    return read_user("SELECT id, username, password_hash, is_admin FROM users WHERE username = $1",
                     username, arena, out);
}

int store_user_get_by_id(int64_t id, struct arena *arena, struct user *out)
{
    char buf[24];
    return read_user("SELECT id, username, password_hash, is_admin FROM users WHERE id = $1",
                     su_i64(buf, id), arena, out);
}

int store_user_set_password(const char *username, const char *password_hash)
{
    const char *params[] = {username, password_hash};
    return exec_one("UPDATE users SET password_hash = $2 WHERE username = $1", 2, params);
}

int store_user_set_admin(const char *username, int is_admin)
{
    const char *params[] = {username, is_admin ? "t" : "f"};
    return exec_one("UPDATE users SET is_admin = $2 WHERE username = $1", 2, params);
}

int store_user_delete(const char *username)
{
    const char *params[] = {username};
    return exec_one("DELETE FROM users WHERE username = $1", 1, params);
}

/* Runs sql, which selects one permission by ($1 = what, $2 = user), into
 * *perm: DB_OK, DB_NOT_FOUND (no grant) or the db status. */
static int perm_select(const char *sql, const char *what, int64_t user_id, enum store_perm *perm)
{
    char u[24];
    PGresult *res = NULL;
    const char *params[] = {what, su_i64(u, user_id)};
    int rc = db_exec(sql, 2, params, &res);
    if (rc == DB_OK) {
        if (PQntuples(res) == 0)
            rc = DB_NOT_FOUND;
        else
            *perm = perm_from_text(PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    return rc;
}

int store_perm_get(int64_t experiment_id, int64_t user_id, enum store_perm *perm)
{
    char e[24];
    return perm_select("SELECT permission FROM experiment_permissions"
                       " WHERE experiment_id = $1 AND user_id = $2",
                       su_i64(e, experiment_id), user_id, perm);
}

int store_perm_list(int64_t user_id, struct arena *arena, struct experiment_perm **out, size_t *n)
{
    char u[24];
    PGresult *res = NULL;
    const char *params[] = {su_i64(u, user_id)};
    int rc = db_exec("SELECT experiment_id, permission FROM experiment_permissions"
                     " WHERE user_id = $1 ORDER BY experiment_id",
                     1, params, &res);
    if (rc != DB_OK)
        return rc;
    *n = (size_t)PQntuples(res);
    *out = arena_alloc(arena, (*n + 1) * sizeof **out);
    for (size_t i = 0; i < *n; i++) {
        (*out)[i].experiment_id = su_int64(res, (int)i, 0);
        (*out)[i].user_id = user_id;
        (*out)[i].perm = perm_from_text(PQgetvalue(res, (int)i, 1));
    }
    PQclear(res);
    return DB_OK;
}

int store_perm_put(int64_t experiment_id, int64_t user_id, enum store_perm perm, int create)
{
    char e[24], u[24];
    const char *params[] = {su_i64(e, experiment_id), su_i64(u, user_id), perm_names[perm]};
    if (create)
        return db_exec("INSERT INTO experiment_permissions (experiment_id, user_id, permission)"
                       " VALUES ($1, $2, $3)",
                       3, params, NULL);
    return exec_one("UPDATE experiment_permissions SET permission = $3"
                    " WHERE experiment_id = $1 AND user_id = $2",
                    3, params);
}

int store_perm_grant(int64_t experiment_id, int64_t user_id, enum store_perm perm)
{
    char e[24], u[24];
    const char *params[] = {su_i64(e, experiment_id), su_i64(u, user_id), perm_names[perm]};
    return db_exec("INSERT INTO experiment_permissions (experiment_id, user_id, permission)"
                   " VALUES ($1, $2, $3) ON CONFLICT (experiment_id, user_id)"
                   " DO UPDATE SET permission = excluded.permission",
                   3, params, NULL);
}

int store_perm_delete(int64_t experiment_id, int64_t user_id)
{
    char e[24], u[24];
    const char *params[] = {su_i64(e, experiment_id), su_i64(u, user_id)};
    return exec_one("DELETE FROM experiment_permissions WHERE experiment_id = $1 AND user_id = $2",
                    2, params);
}

int store_model_perm_get(const char *name, int64_t user_id, enum store_perm *perm)
{
    return perm_select("SELECT permission FROM registered_model_permissions"
                       " WHERE name = $1 AND user_id = $2",
                       name, user_id, perm);
}

int store_model_perm_list(int64_t user_id, struct arena *arena, struct model_perm **out, size_t *n)
{
    char u[24];
    PGresult *res = NULL;
    const char *params[] = {su_i64(u, user_id)};
    int rc = db_exec("SELECT name, permission FROM registered_model_permissions"
                     " WHERE user_id = $1 ORDER BY name",
                     1, params, &res);
    if (rc != DB_OK)
        return rc;
    *n = (size_t)PQntuples(res);
    *out = arena_alloc(arena, (*n + 1) * sizeof **out);
    for (size_t i = 0; i < *n; i++) {
        (*out)[i].name = su_str(res, (int)i, 0, arena);
        (*out)[i].perm = perm_from_text(PQgetvalue(res, (int)i, 1));
    }
    PQclear(res);
    return DB_OK;
}

int store_model_perm_put(const char *name, int64_t user_id, enum store_perm perm, int create)
{
    char u[24];
    const char *params[] = {name, su_i64(u, user_id), perm_names[perm]};
    if (create)
        return db_exec("INSERT INTO registered_model_permissions (name, user_id, permission)"
                       " VALUES ($1, $2, $3)",
                       3, params, NULL);
    return exec_one("UPDATE registered_model_permissions SET permission = $3"
                    " WHERE name = $1 AND user_id = $2",
                    3, params);
}

int store_model_perm_grant(const char *name, int64_t user_id, enum store_perm perm)
{
    char u[24];
    const char *params[] = {name, su_i64(u, user_id), perm_names[perm]};
    return db_exec("INSERT INTO registered_model_permissions (name, user_id, permission)"
                   " VALUES ($1, $2, $3) ON CONFLICT (name, user_id)"
                   " DO UPDATE SET permission = excluded.permission",
                   3, params, NULL);
}

int store_model_perm_delete(const char *name, int64_t user_id)
{
    char u[24];
    const char *params[] = {name, su_i64(u, user_id)};
    return exec_one("DELETE FROM registered_model_permissions WHERE name = $1 AND user_id = $2", 2,
                    params);
}

static int one_int64(const char *sql, const char *param, int64_t *out)
{
    PGresult *res = NULL;
    const char *params[] = {param};
    int rc = db_exec(sql, 1, params, &res);
    if (rc == DB_OK) {
        if (PQntuples(res) == 0)
            rc = DB_NOT_FOUND;
        else
            *out = su_int64(res, 0, 0);
    }
    PQclear(res);
    return rc;
}

int store_auth_run_experiment(const char *run_id, int64_t *experiment_id)
{
    return one_int64("SELECT experiment_id FROM runs WHERE run_uuid = $1::uuid", run_id,
                     experiment_id);
}

int store_auth_logged_model_experiment(const char *model_id, int64_t *experiment_id)
{
    return one_int64("SELECT experiment_id FROM logged_models WHERE model_id = $1", model_id,
                     experiment_id);
}

int store_auth_trace_experiment(const char *trace_id, int64_t *experiment_id)
{
    return one_int64("SELECT experiment_id FROM traces WHERE trace_id = $1", trace_id,
                     experiment_id);
}

int store_auth_experiment_by_name(const char *name, int64_t *experiment_id)
{
    return one_int64("SELECT experiment_id FROM experiments WHERE name = $1", name, experiment_id);
}

int store_token_create(int64_t user_id, const unsigned char digest[32], const char *name,
                       int64_t *id)
{
    char u[24], now[24], hex[65];
    PGresult *res = NULL;

    ids_hex(digest, 32, hex);
    const char *params[] = {su_i64(u, user_id), hex, name, su_i64(now, store_now_ms())};
    int rc = db_exec("INSERT INTO api_tokens (user_id, token_sha256, name, created_time)"
                     " VALUES ($1, decode($2, 'hex'), $3, $4) RETURNING id",
                     4, params, &res);
    if (rc == DB_OK)
        *id = su_int64(res, 0, 0);
    PQclear(res);
    return rc;
}

int store_token_user(const unsigned char digest[32], int64_t *user_id)
{
    char hex[65];
    ids_hex(digest, 32, hex);
    return one_int64("SELECT user_id FROM api_tokens"
                     " WHERE token_sha256 = decode($1, 'hex') AND revoked_time IS NULL",
                     hex, user_id);
}

int store_token_revoke(int64_t token_id, int64_t user_id)
{
    char t[24], u[24], now[24];
    const char *params[] = {su_i64(t, token_id), su_i64(u, user_id), su_i64(now, store_now_ms())};
    return exec_one(
        "UPDATE api_tokens SET revoked_time = $3"
        " WHERE id = $1 AND ($2::bigint = 0 OR user_id = $2::bigint) AND revoked_time IS NULL",
        3, params);
}

int store_token_list(int64_t user_id, struct arena *arena, struct token_info **out, size_t *n)
{
    char u[24];
    PGresult *res = NULL;
    const char *params[] = {su_i64(u, user_id)};
    int rc = db_exec("SELECT id, name, created_time, revoked_time IS NOT NULL FROM api_tokens"
                     " WHERE user_id = $1 ORDER BY id",
                     1, params, &res);
    if (rc != DB_OK)
        return rc;
    *n = (size_t)PQntuples(res);
    *out = arena_alloc(arena, (*n + 1) * sizeof **out);
    for (size_t i = 0; i < *n; i++) {
        (*out)[i].id = su_int64(res, (int)i, 0);
        (*out)[i].name = su_str(res, (int)i, 1, arena);
        (*out)[i].created_time = su_int64(res, (int)i, 2);
        (*out)[i].revoked = strcmp(PQgetvalue(res, (int)i, 3), "t") == 0;
    }
    PQclear(res);
    return DB_OK;
}

int store_auth_secret(const char *name, const unsigned char candidate[32], unsigned char out[32])
{
    char hex[65];
    PGresult *res = NULL;

    ids_hex(candidate, 32, hex);
    const char *params[] = {name, hex};
    int rc = db_exec("INSERT INTO auth_secrets (name, secret) VALUES ($1, decode($2, 'hex'))"
                     " ON CONFLICT (name) DO NOTHING",
                     2, params, NULL);
    if (rc == DB_OK)
        rc = db_exec("SELECT encode(secret, 'hex') FROM auth_secrets WHERE name = $1", 1, params,
                     &res);
    if (rc == DB_OK && (PQntuples(res) != 1 || strlen(PQgetvalue(res, 0, 0)) < 64))
        rc = DB_ERROR;
    if (rc == DB_OK) {
        const char *h = PQgetvalue(res, 0, 0);
        for (int i = 0; i < 32; i++) {
            unsigned v = 0;
            for (int k = 0; k < 2; k++) {
                char c = h[2 * i + k];
                v = v * 16 + (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
            }
            out[i] = (unsigned char)v;
        }
    }
    PQclear(res);
    return rc;
}

int store_audit_add(const char *username, const char *action, const char *target, int status)
{
    char now[24], st[24];
    const char *params[] = {su_i64(now, store_now_ms()), username, action, target,
                            su_i64(st, status)};
    return db_exec("INSERT INTO audit_log (time, username, action, target, status)"
                   " VALUES ($1, $2, $3, $4, $5)",
                   5, params, NULL);
}

int store_audit_list(int64_t before, int64_t limit, struct arena *arena, struct audit_entry **out,
                     size_t *n)
{
    char b[24], l[24];
    PGresult *res = NULL;
    const char *params[] = {su_i64(b, before), su_i64(l, limit)};
    int rc = db_exec("SELECT id, time, username, action, target, status, model, version, field,"
                     " old_value, new_value FROM audit_log"
                     " WHERE $1::bigint = 0 OR id < $1::bigint ORDER BY id DESC LIMIT $2",
                     2, params, &res);
    if (rc != DB_OK)
        return rc;
    *n = (size_t)PQntuples(res);
    *out = arena_alloc(arena, (*n + 1) * sizeof **out);
    for (size_t i = 0; i < *n; i++) {
        struct audit_entry *e = &(*out)[i];
        e->id = su_int64(res, (int)i, 0);
        e->time = su_int64(res, (int)i, 1);
        e->username = su_str(res, (int)i, 2, arena);
        e->action = su_str(res, (int)i, 3, arena);
        e->target = su_str(res, (int)i, 4, arena);
        e->status = (int)su_int64(res, (int)i, 5);
        e->model = su_str(res, (int)i, 6, arena);
        e->version = su_int64(res, (int)i, 7);
        e->field = su_str(res, (int)i, 8, arena);
        e->old_value = su_str(res, (int)i, 9, arena);
        e->new_value = su_str(res, (int)i, 10, arena);
    }
    PQclear(res);
    return DB_OK;
}
