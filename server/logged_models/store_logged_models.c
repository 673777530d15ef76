/* Logged models, their tags and params: all their SQL but the search
 * (store_logged_models_search.c). Every write that spans statements runs
 * in one transaction. */
#include "store_logged_models.h"

#include <stdio.h>
#include <string.h>

#include "db/store_util.h"
#include "store_logged_models_rows.h"

int store_lm_create(const struct logged_model_new *in)
{
    struct sbuf pkeys, pvals, tkeys, tvals;
    char exp[24], now[24];
    PGresult *res = NULL;
    int rc;

    su_kv_arrays(&pkeys, &pvals, in->params, in->nparams);
    su_kv_arrays(&tkeys, &tvals, in->tags, in->ntags);
    const char *params[] = {in->model_id,
                            su_i64(exp, in->experiment_id),
                            in->name,
                            in->model_type ? in->model_type : "",
                            in->source_run_id ? in->source_run_id : "",
                            su_i64(now, store_now_ms())};
    if ((rc = db_begin()) != DB_OK)
        goto out;
    rc = db_exec(
        "INSERT INTO logged_models (model_id, experiment_id, name, model_type,"
        "   source_run_id, status, artifact_location, creation_time, last_updated_time)"
        " SELECT $1, e.experiment_id, $3, $4, $5, 1,"
        "   e.artifact_location || '/models/' || $1 || '/artifacts', $6, $6"
        " FROM experiments e WHERE e.experiment_id = $2::bigint"
        " RETURNING (SELECT lifecycle_stage FROM experiments WHERE experiment_id = $2::bigint)",
        6, params, &res);
    if (rc != DB_OK)
        goto fail;
    if (PQntuples(res) == 0) {
        rc = DB_NOT_FOUND;
        goto fail;
    }
    if (!su_active(res, 0, 0)) {
        rc = DB_STATE;
        goto fail;
    }
    const char *children[] = {in->model_id, pkeys.data, pvals.data, tkeys.data, tvals.data};
    /* params as given (keys distinct), tags with the last value of a key */
    rc = db_exec("WITH p AS (INSERT INTO logged_model_params (model_id, key, value)"
                 "   SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS u(k, v))"
                 " INSERT INTO logged_model_tags (model_id, key, value)"
                 " SELECT DISTINCT ON (k) $1, k, v"
                 " FROM unnest($4::text[], $5::text[]) WITH ORDINALITY AS u(k, v, o)"
                 " ORDER BY k, o DESC",
                 5, children, NULL);
    if (rc != DB_OK)
        goto fail;
    rc = db_commit();
    goto out;
fail:
    db_rollback();
out:
    PQclear(res);
    sbuf_cleanup(&pkeys);
    sbuf_cleanup(&pvals);
    sbuf_cleanup(&tkeys);
    sbuf_cleanup(&tvals);
    return rc;
}

int store_lm_get(const char *model_id, int allow_deleted, struct arena *arena,
                 struct logged_model *out)
{
    const char *params[] = {model_id};
    PGresult *res = NULL;

    memset(out, 0, sizeof *out);
    int rc = db_exec("SELECT " LM_COLUMNS " FROM logged_models m WHERE m.model_id = $1", 1, params,
                     &res);
    if (rc != DB_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return DB_NOT_FOUND;
    }
    lm_row(res, 0, arena, out);
    PQclear(res);
    if (out->deleted && !allow_deleted)
        return DB_NOT_FOUND;
    return lm_load_children(out, 1, arena);
}

/* Runs an UPDATE of one model's row that returns its experiment_id, stored
 * in *experiment_id; DB_NOT_FOUND when it touched none. */
static int exec_one(const char *sql, int n, const char *const *params, int64_t *experiment_id)
{
    PGresult *res = NULL;
    int rc = db_exec(sql, n, params, &res);
    if (rc != DB_OK)
        return rc;
    if (PQntuples(res) > 0)
        *experiment_id = su_int64(res, 0, 0);
    else
        rc = DB_NOT_FOUND;
    PQclear(res);
    return rc;
}

int store_lm_finalize(const char *model_id, int status, int64_t *experiment_id)
{
    char st[8], now[24];
    snprintf(st, sizeof st, "%d", status);
    const char *params[] = {model_id, st, su_i64(now, store_now_ms())};
    return exec_one("UPDATE logged_models SET status = $2, last_updated_time = $3"
                    " WHERE model_id = $1 RETURNING experiment_id",
                    3, params, experiment_id);
}

int store_lm_delete(const char *model_id, int64_t *experiment_id)
{
    char now[24];
    const char *params[] = {model_id, su_i64(now, store_now_ms())};
    return exec_one("UPDATE logged_models SET lifecycle_stage = '" STORE_LIFECYCLE_DELETED "',"
                    "   last_updated_time = $2"
                    " WHERE model_id = $1 AND lifecycle_stage = '" STORE_LIFECYCLE_ACTIVE "'"
                    " RETURNING experiment_id",
                    2, params, experiment_id);
}

int store_lm_set_tags(const char *model_id, const struct kv *tags, size_t n, int64_t *experiment_id)
{
    struct sbuf keys, vals;
    PGresult *res = NULL;

    su_kv_arrays(&keys, &vals, tags, n);
    const char *params[] = {model_id, keys.data, vals.data};
    /* The model row is locked so a concurrent create of the same tag
     * cannot slip between; one statement either way. */
    int rc = db_exec("WITH m AS (SELECT model_id, experiment_id FROM logged_models"
                     "   WHERE model_id = $1 FOR KEY SHARE),"
                     " t AS (INSERT INTO logged_model_tags (model_id, key, value)"
                     "   SELECT DISTINCT ON (k) m.model_id, k, v"
                     "   FROM m, unnest($2::text[], $3::text[]) WITH ORDINALITY AS u(k, v, o)"
                     "   ORDER BY k, o DESC"
                     "   ON CONFLICT (model_id, key) DO UPDATE SET value = EXCLUDED.value)"
                     " SELECT experiment_id FROM m",
                     3, params, &res);
    sbuf_cleanup(&keys);
    sbuf_cleanup(&vals);
    if (rc != DB_OK)
        return rc;
    if (PQntuples(res) > 0)
        *experiment_id = su_int64(res, 0, 0);
    else
        rc = DB_NOT_FOUND;
    PQclear(res);
    return rc;
}

int store_lm_delete_tag(const char *model_id, const char *key, int64_t *experiment_id)
{
    const char *params[] = {model_id, key};
    PGresult *res = NULL;

    int rc = db_exec("WITH d AS (DELETE FROM logged_model_tags WHERE model_id = $1 AND key = $2"
                     "   RETURNING 1)"
                     " SELECT (SELECT count(*) FROM d),"
                     "   (SELECT experiment_id FROM logged_models WHERE model_id = $1)",
                     2, params, &res);
    if (rc != DB_OK)
        return rc;
    if (PQgetisnull(res, 0, 1))
        rc = DB_NOT_FOUND;
    else if (su_int64(res, 0, 0) == 0)
        rc = DB_LM_NO_TAG;
    else
        *experiment_id = su_int64(res, 0, 1);
    PQclear(res);
    return rc;
}

int store_lm_log_params(const char *model_id, const struct kv *params, size_t n)
{
    struct sbuf keys, vals;
    PGresult *res = NULL;

    su_kv_arrays(&keys, &vals, params, n);
    const char *p[] = {model_id, keys.data, vals.data};
    /* a key logged already violates the primary key: DB_EXISTS, nothing written */
    int rc = db_exec("WITH m AS (SELECT model_id FROM logged_models WHERE model_id = $1"
                     "   FOR KEY SHARE),"
                     " i AS (INSERT INTO logged_model_params (model_id, key, value)"
                     "   SELECT m.model_id, k, v FROM m, unnest($2::text[], $3::text[]) AS u(k, v))"
                     " SELECT count(*) FROM m",
                     3, p, &res);
    sbuf_cleanup(&keys);
    sbuf_cleanup(&vals);
    if (rc != DB_OK)
        return rc;
    rc = su_int64(res, 0, 0) > 0 ? DB_OK : DB_NOT_FOUND;
    PQclear(res);
    return rc;
}
