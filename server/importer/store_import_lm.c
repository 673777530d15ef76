/* SQL of the logged-model import. Every value is a bound parameter; the
 * lists travel as array literals and are unnested. */
#include "store_import_lm.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

#include "common/sbuf.h"
#include "db/db.h"
#include "db/store_util.h"

/* The metric rows as seven array literals, in order. */
struct metric_arrays {
    struct sbuf keys, values, times, steps, runs, names, digests;
};

static void metric_arrays_fill(struct metric_arrays *a, const struct import_lm_metric *m, size_t n)
{
    struct sbuf *all[] = {&a->keys, &a->values, &a->times,  &a->steps,
                          &a->runs, &a->names,  &a->digests};
    for (size_t k = 0; k < 7; k++) {
        sbuf_init(all[k]);
        sbuf_addc(all[k], '{');
    }
    for (size_t i = 0; i < n; i++) {
        su_array_text(&a->keys, m[i].key, i == 0);
        su_array_double(&a->values, m[i].value, i == 0);
        su_array_int64(&a->times, m[i].timestamp, i == 0);
        su_array_int64(&a->steps, m[i].step, i == 0);
        su_array_text(&a->runs, m[i].run_id, i == 0);
        su_array_text(&a->names, m[i].dataset_name, i == 0);
        su_array_text(&a->digests, m[i].dataset_digest, i == 0);
    }
    for (size_t k = 0; k < 7; k++)
        sbuf_addc(all[k], '}');
}

static void metric_arrays_cleanup(struct metric_arrays *a)
{
    struct sbuf *all[] = {&a->keys, &a->values, &a->times,  &a->steps,
                          &a->runs, &a->names,  &a->digests};
    for (size_t k = 0; k < 7; k++)
        sbuf_cleanup(all[k]);
}

/* DB_OK when the experiment exists and is active. */
static int check_experiment(const char *exp)
{
    PGresult *res = NULL;
    const char *params[] = {exp};
    int rc = db_exec("SELECT lifecycle_stage FROM experiments WHERE experiment_id = $1::bigint"
                     " FOR SHARE",
                     1, params, &res);
    if (rc == DB_OK && PQntuples(res) == 0)
        rc = DB_NOT_FOUND;
    else if (rc == DB_OK && !su_active(res, 0, 0))
        rc = DB_STATE;
    PQclear(res);
    return rc;
}

/* Inserts the model row; *created 1, or 0 when the same model (id,
 * experiment, creation time) is already there. DB_EXISTS when another
 * model holds the id. */
static int insert_model(const struct import_lm *m, const char *exp, int *created)
{
    char status[8], ctime[24], utime[24];
    PGresult *res = NULL;
    snprintf(status, sizeof status, "%d", m->status);
    const char *params[] = {m->model_id,
                            exp,
                            m->name,
                            m->model_type,
                            m->source_run_id,
                            status,
                            m->deleted ? "deleted" : "active",
                            su_i64(ctime, m->creation_time),
                            su_i64(utime, m->last_updated_time)};
    int rc = db_exec("INSERT INTO logged_models (model_id, experiment_id, name, model_type,"
                     "   source_run_id, status, artifact_location, lifecycle_stage,"
                     "   creation_time, last_updated_time)"
                     " SELECT $1, e.experiment_id, $3, $4, $5, $6::smallint,"
                     "   e.artifact_location || '/models/' || $1 || '/artifacts', $7, $8, $9"
                     " FROM experiments e WHERE e.experiment_id = $2::bigint"
                     " ON CONFLICT (model_id) DO NOTHING RETURNING 1",
                     9, params, &res);
    if (rc != DB_OK)
        goto out;
    *created = PQntuples(res) == 1;
    if (*created)
        goto out;
    PQclear(res);
    const char *same[] = {m->model_id, exp, ctime};
    rc = db_exec("SELECT 1 FROM logged_models WHERE model_id = $1"
                 " AND experiment_id = $2::bigint AND creation_time = $3::bigint",
                 3, same, &res);
    if (rc == DB_OK && PQntuples(res) == 0)
        rc = DB_EXISTS;
out:
    PQclear(res);
    return rc;
}

static int insert_children(const struct import_lm *m, const char *exp)
{
    struct sbuf pkeys, pvals, tkeys, tvals;
    struct metric_arrays ma;
    su_kv_arrays(&pkeys, &pvals, m->params, m->nparams);
    su_kv_arrays(&tkeys, &tvals, m->tags, m->ntags);
    metric_arrays_fill(&ma, m->metrics, m->nmetrics);
    const char *kv[] = {m->model_id, pkeys.data, pvals.data, tkeys.data, tvals.data};
    int rc = db_exec("WITH p AS (INSERT INTO logged_model_params (model_id, key, value)"
                     "   SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS u(k, v)"
                     "   ON CONFLICT (model_id, key) DO NOTHING)"
                     " INSERT INTO logged_model_tags (model_id, key, value)"
                     " SELECT DISTINCT ON (k) $1, k, v"
                     " FROM unnest($4::text[], $5::text[]) WITH ORDINALITY AS u(k, v, o)"
                     " ORDER BY k, o DESC"
                     " ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value",
                     5, kv, NULL);
    if (rc == DB_OK && m->nmetrics > 0) {
        const char *mp[] = {m->model_id,    exp,           ma.keys.data,
                            ma.values.data, ma.times.data, ma.steps.data,
                            ma.runs.data,   ma.names.data, ma.digests.data};
        rc = db_exec("INSERT INTO logged_model_metrics (model_id, experiment_id, key, value,"
                     "   timestamp, step, run_id, dataset_name, dataset_digest)"
                     " SELECT $1, $2::bigint, k, v, t, s, r, dn, dd"
                     " FROM unnest($3::text[], $4::float8[], $5::bigint[], $6::bigint[],"
                     "   $7::text[], $8::text[], $9::text[]) AS u(k, v, t, s, r, dn, dd)"
                     " ON CONFLICT DO NOTHING",
                     9, mp, NULL);
    }
    sbuf_cleanup(&pkeys);
    sbuf_cleanup(&pvals);
    sbuf_cleanup(&tkeys);
    sbuf_cleanup(&tvals);
    metric_arrays_cleanup(&ma);
    return rc;
}

int store_import_logged_model(const struct import_lm *m, int *created)
{
    char exp[24];
    su_i64(exp, m->experiment_id);
    *created = 0;
    int rc = db_begin();
    if (rc != DB_OK)
        return rc;
    if ((rc = check_experiment(exp)) != DB_OK || (rc = insert_model(m, exp, created)) != DB_OK ||
        (rc = insert_children(m, exp)) != DB_OK)
        goto fail;
    return db_commit();
fail:
    db_rollback();
    return rc;
}
