/* Experiments and experiment tags: all their SQL. Soft delete flips the
 * experiment and every run of it in one transaction. */
#include "store_experiments.h"

#include <stdio.h>
#include <string.h>

#include "common/sbuf.h"
#include "db/store_util.h"

#define EXPERIMENT_COLUMNS                                                                         \
    "experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time"

int store_experiment_create(const char *name, const char *artifact_location, const struct kv *tags,
                            size_t ntags, int64_t *id)
{
    struct sbuf keys, vals;
    PGresult *res = NULL;
    char now[24];
    int rc;

    su_kv_arrays(&keys, &vals, tags, ntags);

    const char *params[] = {name, artifact_location, su_i64(now, store_now_ms()), keys.data,
                            vals.data};
    /* One statement: the id, the default location built from it, and the
     * tags (last value wins for a repeated key). */
    rc = db_exec("WITH e AS ("
                 " INSERT INTO experiments (experiment_id, name, artifact_location,"
                 "   creation_time, last_update_time)"
                 " SELECT id, $1, coalesce($2, 'mlflow-artifacts:/' || id), $3, $3"
                 " FROM (SELECT nextval('experiments_id_seq') AS id) s"
                 " RETURNING experiment_id),"
                 " t AS (INSERT INTO experiment_tags (experiment_id, key, value)"
                 " SELECT DISTINCT ON (k) e.experiment_id, k, v"
                 " FROM e, unnest($4::text[], $5::text[]) WITH ORDINALITY AS u(k, v, o)"
                 " ORDER BY k, o DESC)"
                 " SELECT experiment_id FROM e",
                 5, params, &res);
    if (rc == DB_OK)
        *id = su_int64(res, 0, 0);
    PQclear(res);
    sbuf_cleanup(&keys);
    sbuf_cleanup(&vals);
    return rc;
}

static int get_one(const char *sql, const char *param, struct arena *arena, struct experiment *out)
{
    PGresult *res = NULL;
    const char *params[] = {param};
    int rc = db_exec(sql, 1, params, &res);
    if (rc != DB_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return DB_NOT_FOUND;
    }
    su_experiment(res, 0, arena, out);
    PQclear(res);
    return su_experiment_tags(out, 1, arena);
}

int store_experiment_get(int64_t id, struct arena *arena, struct experiment *out)
{
    char buf[24];
    return get_one("SELECT " EXPERIMENT_COLUMNS " FROM experiments WHERE experiment_id = $1",
                   su_i64(buf, id), arena, out);
}

int store_experiment_get_by_name(const char *name, struct arena *arena, struct experiment *out)
{
    return get_one("SELECT " EXPERIMENT_COLUMNS " FROM experiments WHERE name = $1", name, arena,
                   out);
}

/* DB_OK when active, DB_STATE when deleted, DB_NOT_FOUND when absent. */
static int lifecycle(int64_t id)
{
    char buf[24];
    const char *params[] = {su_i64(buf, id)};
    PGresult *res = NULL;
    int rc = db_exec("SELECT lifecycle_stage FROM experiments WHERE experiment_id = $1", 1, params,
                     &res);
    if (rc != DB_OK)
        return rc;
    if (PQntuples(res) == 0)
        rc = DB_NOT_FOUND;
    else if (!su_active(res, 0, 0))
        rc = DB_STATE;
    PQclear(res);
    return rc;
}

int store_experiment_rename(int64_t id, const char *new_name)
{
    char buf[24], now[24];
    const char *params[] = {su_i64(buf, id), new_name, su_i64(now, store_now_ms())};
    PGresult *res = NULL;

    int rc = db_exec("UPDATE experiments SET name = $2, last_update_time = $3"
                     " WHERE experiment_id = $1 AND lifecycle_stage = 'active'"
                     " RETURNING experiment_id",
                     3, params, &res);
    if (rc != DB_OK)
        return rc;
    int updated = PQntuples(res);
    PQclear(res);
    return updated ? DB_OK : lifecycle(id);
}

int store_experiment_set_deleted(int64_t id, int deleted)
{
    char buf[24], now[24];
    const char *params[] = {su_i64(buf, id), store_lifecycle_name(deleted),
                            store_lifecycle_name(!deleted), su_i64(now, store_now_ms())};
    PGresult *res = NULL;

    int rc =
        db_exec("WITH e AS (UPDATE experiments SET lifecycle_stage = $2, last_update_time = $4"
                "   WHERE experiment_id = $1 AND lifecycle_stage = $3 RETURNING experiment_id),"
                " r AS (UPDATE runs SET lifecycle_stage = $2,"
                "   deleted_time = CASE WHEN $2 = 'deleted' THEN $4::bigint END"
                "   WHERE experiment_id IN (SELECT experiment_id FROM e))"
                " SELECT experiment_id FROM e",
                4, params, &res);
    if (rc != DB_OK)
        return rc;
    int changed = PQntuples(res);
    PQclear(res);
    return changed ? DB_OK : DB_NOT_FOUND;
}

int store_experiment_set_tag(int64_t id, const char *key, const char *value)
{
    char buf[24];
    const char *params[] = {su_i64(buf, id), key, value};
    PGresult *res = NULL;

    int rc = db_exec("INSERT INTO experiment_tags (experiment_id, key, value)"
                     " SELECT experiment_id, $2, $3 FROM experiments"
                     " WHERE experiment_id = $1 AND lifecycle_stage = 'active'"
                     " ON CONFLICT (experiment_id, key) DO UPDATE SET value = EXCLUDED.value"
                     " RETURNING 1",
                     3, params, &res);
    if (rc != DB_OK)
        return rc;
    int written = PQntuples(res);
    PQclear(res);
    return written ? DB_OK : lifecycle(id);
}

int store_experiment_delete_tag(int64_t id, const char *key, int *missing)
{
    char buf[24];
    const char *params[] = {su_i64(buf, id), key};
    PGresult *res = NULL;

    *missing = 0;
    int rc = lifecycle(id);
    if (rc != DB_OK)
        return rc;
    rc = db_exec("DELETE FROM experiment_tags WHERE experiment_id = $1 AND key = $2 RETURNING 1", 2,
                 params, &res);
    if (rc != DB_OK)
        return rc;
    *missing = PQntuples(res) == 0;
    PQclear(res);
    return DB_OK;
}

int store_experiment_stats(const int64_t *ids, size_t n, struct arena *arena,
                           struct experiment_stats **out, size_t *nout)
{
    struct sbuf list;
    PGresult *res = NULL;

    *out = NULL;
    *nout = 0;
    sbuf_init(&list);
    sbuf_addc(&list, '{');
    for (size_t i = 0; i < n; i++)
        su_array_int64(&list, ids[i], i == 0);
    sbuf_addc(&list, '}');
    const char *params[] = {list.data};
    /* The counts and times come from runs_experiment_stats alone (its key
     * and INCLUDE columns hold every column read here); the RUNNING runs'
     * latest points from latest_metrics by run. */
    int rc = db_exec(
        "WITH ids AS (SELECT id, min(o) AS o FROM unnest($1::bigint[]) WITH ORDINALITY AS u(id, o)"
        "   GROUP BY id)"
        " SELECT e.experiment_id, s.active, s.deleted, s.running, s.last_start,"
        "   greatest(e.last_update_time, s.last_start, s.last_end, m.last_point)"
        " FROM ids JOIN experiments e ON e.experiment_id = ids.id"
        " CROSS JOIN LATERAL (SELECT"
        "     count(*) FILTER (WHERE r.lifecycle_stage = 'active') AS active,"
        "     count(*) FILTER (WHERE r.lifecycle_stage = 'deleted') AS deleted,"
        "     count(*) FILTER (WHERE r.lifecycle_stage = 'active' AND r.status = 1) AS running,"
        "     max(r.start_time) FILTER (WHERE r.lifecycle_stage = 'active') AS last_start,"
        "     max(r.end_time) FILTER (WHERE r.lifecycle_stage = 'active') AS last_end"
        "   FROM runs r WHERE r.experiment_id = e.experiment_id) s"
        " CROSS JOIN LATERAL (SELECT max(lm.timestamp) AS last_point"
        "   FROM runs r JOIN latest_metrics lm ON lm.run_id = r.id"
        "   WHERE r.experiment_id = e.experiment_id AND r.lifecycle_stage = 'active'"
        "     AND r.status = 1) m"
        " ORDER BY ids.o",
        1, params, &res);
    sbuf_cleanup(&list);
    if (rc != DB_OK)
        return rc;
    int rows = PQntuples(res);
    *out = arena_alloc(arena, ((size_t)rows + 1) * sizeof **out);
    for (int i = 0; i < rows; i++) {
        struct experiment_stats *s = &(*out)[i];
        s->experiment_id = su_int64(res, i, 0);
        s->active_runs = su_int64(res, i, 1);
        s->deleted_runs = su_int64(res, i, 2);
        s->running_runs = su_int64(res, i, 3);
        s->last_run_start = su_int64(res, i, 4);
        s->last_activity = su_int64(res, i, 5);
    }
    *nout = (size_t)rows;
    PQclear(res);
    return DB_OK;
}
