/* The registry's journal: outbox rows and audit rows written in the
 * change's transaction, and the transaction helpers around them. */
#include "store_registry_journal.h"

#include <stdlib.h>
#include <string.h>

#include "db/store.h"
#include "db/store_util.h"
#include "events/store_notify.h"
#include "read_cache.h"
#include "webhooks/delivery.h"

/* Outbox rows written by the calling thread's open transaction. */
static __thread int queued;

int rj_begin(void)
{
    queued = 0;
    return db_begin();
}

int rj_record(const struct rj_change *c)
{
    char now[24], v[24];
    int n = 0;
    int rc = store_webhook_enqueue(c->event, c->model, c->version, c->key, c->value, &n);
    if (rc != DB_OK)
        return rc;
    queued += n;
    const char *params[] = {su_i64(now, store_now_ms()),
                            c->actor ? c->actor : "",
                            c->action,
                            c->model,
                            c->version > 0 ? su_i64(v, c->version) : NULL,
                            c->field,
                            c->old_value,
                            c->new_value};
    return db_exec("INSERT INTO audit_log (time, username, action, target, status, model, version,"
                   " field, old_value, new_value)"
                   " VALUES ($1, $2, $3, $4, 200, $4, $5::bigint, $6, $7, $8)",
                   8, params, NULL);
}

int rj_rename(const char *name, const char *new_name)
{
    const char *params[] = {name, new_name};
    return db_exec("UPDATE audit_log SET model = $2 WHERE model = $1", 2, params, NULL);
}

int rj_end(int rc)
{
    /* The notification goes out at commit, to every exptrackd's read cache
     * (this one's too); one round trip with the COMMIT. */
    if (rc == DB_OK)
        rc = db_exec_pair("SELECT pg_notify('" STORE_REGISTRY_CHANNEL "', '')", 0, NULL, NULL,
                          "COMMIT", 0, NULL, NULL);
    if (rc != DB_OK)
        db_rollback();
    /* Before the reply: a read that starts after it sees this change.
     * Also after a failed commit, whose outcome may be unknown. */
    read_cache_invalidate();
    if (rc == DB_OK && queued > 0)
        webhook_delivery_kick(queued);
    queued = 0;
    return rc;
}

int rj_old(const char *sql, int nparams, const char *const *params, char **old)
{
    PGresult *res = NULL;
    *old = NULL;
    int rc = db_exec(sql, nparams, params, &res);
    if (rc != DB_OK)
        return rc;
    if (PQntuples(res) == 0)
        rc = DB_NOT_FOUND;
    else if (!PQgetisnull(res, 0, 0))
        *old = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

int rj_list(const char *model, int64_t version, int64_t limit, int64_t offset, struct arena *arena,
            struct rj_entry **out, size_t *n)
{
    PGresult *res = NULL;
    char v[24], l[24], o[24];
    const char *params[] = {model, version > 0 ? su_i64(v, version) : NULL, su_i64(l, limit),
                            su_i64(o, offset)};
    int rc = db_exec("SELECT id, time, username, action, model, version, field, old_value,"
                     " new_value FROM audit_log WHERE model = $1"
                     " AND ($2::bigint IS NULL OR version = $2::bigint)"
                     " ORDER BY id DESC LIMIT $3 OFFSET $4",
                     4, params, &res);
    if (rc != DB_OK)
        return rc;
    *n = (size_t)PQntuples(res);
    *out = arena_alloc(arena, (*n + 1) * sizeof **out);
    for (size_t i = 0; i < *n; i++) {
        struct rj_entry *e = &(*out)[i];
        int r = (int)i;
        e->id = su_int64(res, r, 0);
        e->time = su_int64(res, r, 1);
        e->username = su_str(res, r, 2, arena);
        e->action = su_str(res, r, 3, arena);
        e->model = su_str(res, r, 4, arena);
        e->version = su_int64(res, r, 5);
        e->field = su_str(res, r, 6, arena);
        e->old_value = su_str(res, r, 7, arena);
        e->new_value = su_str(res, r, 8, arena);
    }
    PQclear(res);
    return DB_OK;
}
