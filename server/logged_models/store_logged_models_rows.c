/* Logged-model rows and their children (store_logged_models_rows.h): the
 * tags, params and metric rows of many models, one statement each, matched
 * to the models by array position. */
#include "store_logged_models_rows.h"

#include <string.h>

#include "db/store_util.h"

void lm_row(const PGresult *res, int row, struct arena *arena, struct logged_model *out)
{
    *out = (struct logged_model){0};
    out->model_id = su_str(res, row, 0, arena);
    out->experiment_id = su_int64(res, row, 1);
    out->name = su_str(res, row, 2, arena);
    out->model_type = su_str(res, row, 3, arena);
    out->source_run_id = su_str(res, row, 4, arena);
    out->status = (int)su_int64(res, row, 5);
    out->artifact_location = su_str(res, row, 6, arena);
    out->deleted = !su_active(res, row, 7);
    out->creation_time = su_int64(res, row, 8);
    out->last_updated_time = su_int64(res, row, 9);
}

/* The row's model index (1-based in SQL) as a 0-based index below n, or -1. */
static long row_model(const PGresult *res, int row, size_t n)
{
    int64_t at = su_int64(res, row, 0) - 1;
    return at >= 0 && (size_t)at < n ? (long)at : -1;
}

/* Counts rows per model into counts[0..n). */
static void count_rows(const PGresult *res, size_t n, size_t *counts)
{
    for (int i = 0; i < PQntuples(res); i++) {
        long at = row_model(res, i, n);
        if (at >= 0)
            counts[at]++;
    }
}

/* (index, key, value) rows into the tags (which=0) or params (1). */
static void kv_rows(const PGresult *res, struct logged_model *models, size_t n, int which,
                    struct arena *arena)
{
    size_t *counts = arena_alloc(arena, (n + 1) * sizeof *counts);
    count_rows(res, n, counts);
    for (size_t i = 0; i < n; i++) {
        struct kv *list = arena_alloc(arena, (counts[i] + 1) * sizeof *list);
        if (which == 0)
            models[i].tags = list;
        else
            models[i].params = list;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        long at = row_model(res, i, n);
        if (at < 0)
            continue;
        size_t *k = which == 0 ? &models[at].ntags : &models[at].nparams;
        struct kv *list = which == 0 ? models[at].tags : models[at].params;
        list[*k].key = su_str(res, i, 1, arena);
        list[*k].value = su_str(res, i, 2, arena);
        (*k)++;
    }
}

static void metric_rows(const PGresult *res, struct logged_model *models, size_t n,
                        struct arena *arena)
{
    size_t *counts = arena_alloc(arena, (n + 1) * sizeof *counts);
    count_rows(res, n, counts);
    for (size_t i = 0; i < n; i++)
        models[i].metrics = arena_alloc(arena, (counts[i] + 1) * sizeof *models[i].metrics);
    for (int i = 0; i < PQntuples(res); i++) {
        long at = row_model(res, i, n);
        if (at < 0)
            continue;
        struct lm_metric *m = &models[at].metrics[models[at].nmetrics++];
        m->key = su_str(res, i, 1, arena);
        m->value = su_double(res, i, 2);
        m->timestamp = su_int64(res, i, 3);
        m->step = su_int64(res, i, 4);
        m->run_id = su_str(res, i, 5, arena);
        m->dataset_name = su_str(res, i, 6, arena);
        m->dataset_digest = su_str(res, i, 7, arena);
    }
}

int lm_load_children(struct logged_model *models, size_t n, struct arena *arena)
{
    struct sbuf ids;
    PGresult *res = NULL;
    int rc = DB_OK;

    if (n == 0)
        return DB_OK;
    sbuf_init(&ids);
    sbuf_addc(&ids, '{');
    for (size_t i = 0; i < n; i++)
        su_array_text(&ids, models[i].model_id, i == 0);
    sbuf_addc(&ids, '}');
    const char *params[] = {ids.data};
    static const char *const kv_sql[] = {
        "SELECT u.i, t.key, t.value FROM unnest($1::text[]) WITH ORDINALITY AS u(id, i)"
        " JOIN logged_model_tags t ON t.model_id = u.id ORDER BY u.i, t.key",
        "SELECT u.i, p.key, p.value FROM unnest($1::text[]) WITH ORDINALITY AS u(id, i)"
        " JOIN logged_model_params p ON p.model_id = u.id ORDER BY u.i, p.key"};
    for (int which = 0; which < 2; which++) {
        if ((rc = db_exec(kv_sql[which], 1, params, &res)) != DB_OK)
            goto out;
        kv_rows(res, models, n, which, arena);
        PQclear(res);
        res = NULL;
    }
    rc = db_exec("SELECT u.i, mm.key, mm.value, mm.timestamp, mm.step, mm.run_id,"
                 "   mm.dataset_name, mm.dataset_digest"
                 " FROM unnest($1::text[]) WITH ORDINALITY AS u(id, i)"
                 " JOIN logged_model_metrics mm ON mm.model_id = u.id"
                 " ORDER BY u.i, mm.key, mm.step, mm.timestamp, mm.run_id, mm.dataset_name,"
                 "   mm.dataset_digest",
                 1, params, &res);
    if (rc == DB_OK)
        metric_rows(res, models, n, arena);
out:
    PQclear(res);
    sbuf_cleanup(&ids);
    return rc;
}
