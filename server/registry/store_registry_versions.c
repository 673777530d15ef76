/* Model versions and their tags: all their SQL. A version's number comes
 * from its model's next_version counter, raised by an UPDATE whose row lock
 * serializes concurrent creates of one model; a delete leaves a tombstone
 * so that the number is never reused. */
#include "store_registry.h"

#include "db/store_util.h"
#include "store_registry_rows.h"

int store_mv_create(const struct model_version_new *in, int64_t *version)
{
    struct sbuf keys, vals;
    PGresult *res = NULL;
    char now[24];

    rr_kv_arrays(&keys, &vals, in->tags, in->ntags);
    const char *params[] = {in->name,
                            in->source,
                            in->storage_location,
                            in->run_id ? in->run_id : "",
                            in->run_link ? in->run_link : "",
                            in->description ? in->description : "",
                            keys.data,
                            vals.data,
                            su_i64(now, store_now_ms())};
    int rc =
        db_exec("WITH m AS (UPDATE registered_models"
                "   SET next_version = next_version + 1, last_updated_time = $9"
                "   WHERE name = $1 RETURNING name, next_version - 1 AS v),"
                " mv AS (INSERT INTO model_versions (name, version, creation_time,"
                "   last_updated_time, source, storage_location, run_id, run_link, description)"
                "   SELECT name, v, $9, $9, $2, $3, $4, $5, $6 FROM m"
                "   RETURNING name, version),"
                " t AS (INSERT INTO model_version_tags (name, version, key, value)"
                "   SELECT DISTINCT ON (k) mv.name, mv.version, k, val"
                "   FROM mv, unnest($7::text[], $8::text[]) WITH ORDINALITY AS u(k, val, o)"
                "   ORDER BY k, o DESC)"
                " SELECT version FROM mv",
                9, params, &res);
    if (rc == DB_OK && PQntuples(res) == 0)
        rc = DB_NOT_FOUND;
    if (rc == DB_OK)
        *version = su_int64(res, 0, 0);
    PQclear(res);
    sbuf_cleanup(&keys);
    sbuf_cleanup(&vals);
    return rc;
}

/* Runs sql, whose result has a row when the live version was there. */
static int exec_found(const char *sql, int nparams, const char *const *params)
{
    PGresult *res = NULL;
    int rc = db_exec(sql, nparams, params, &res);
    if (rc == DB_OK && PQntuples(res) == 0)
        rc = DB_NOT_FOUND;
    PQclear(res);
    return rc;
}

int store_mv_update(const char *name, int64_t version, const char *description)
{
    char v[24], now[24];
    const char *params[] = {name, su_i64(v, version), description, su_i64(now, store_now_ms())};
    return exec_found("UPDATE model_versions SET description = $3, last_updated_time = $4"
                      " WHERE name = $1 AND version = $2::bigint"
                      " AND current_stage <> '" STAGE_DELETED "' RETURNING 1",
                      4, params);
}

int store_mv_transition(const char *name, int64_t version, const char *stage, int archive)
{
    char v[24], now[24];
    const char *params[] = {name, su_i64(v, version), stage, archive ? "true" : "false",
                            su_i64(now, store_now_ms())};
    return exec_found(
        "WITH t AS (UPDATE model_versions SET current_stage = $3, last_updated_time = $5"
        "   WHERE name = $1 AND version = $2::bigint"
        "   AND current_stage <> '" STAGE_DELETED "' RETURNING name),"
        " a AS (UPDATE model_versions SET current_stage = 'Archived', last_updated_time = $5"
        "   WHERE $4::boolean AND name IN (SELECT name FROM t) AND version <> $2::bigint"
        "   AND current_stage = $3),"
        " m AS (UPDATE registered_models SET last_updated_time = $5"
        "   WHERE name IN (SELECT name FROM t))"
        " SELECT 1 FROM t",
        5, params);
}

int store_mv_delete(const char *name, int64_t version)
{
    char v[24], now[24];
    const char *params[] = {name, su_i64(v, version), su_i64(now, store_now_ms())};
    return exec_found("WITH d AS (UPDATE model_versions SET current_stage = '" STAGE_DELETED "',"
                      "   description = NULL, status_message = NULL, storage_location = NULL,"
                      "   source = 'REDACTED-SOURCE-PATH', run_id = 'REDACTED-RUN-ID',"
                      "   run_link = 'REDACTED-RUN-LINK', last_updated_time = $3"
                      "   WHERE name = $1 AND version = $2::bigint"
                      "   AND current_stage <> '" STAGE_DELETED "' RETURNING name, version),"
                      " a AS (DELETE FROM registered_model_aliases"
                      "   WHERE (name, version) IN (SELECT name, version FROM d)),"
                      " m AS (UPDATE registered_models SET last_updated_time = $3"
                      "   WHERE name IN (SELECT name FROM d))"
                      " SELECT 1 FROM d",
                      3, params);
}

int store_mv_tag(const char *name, int64_t version, const char *key, const char *value)
{
    char v[24];
    const char *params[] = {name, su_i64(v, version), key, value};
    if (value == NULL)
        return exec_found("WITH v AS (SELECT name, version FROM model_versions"
                          "   WHERE name = $1 AND version = $2::bigint"
                          "   AND current_stage <> '" STAGE_DELETED "'),"
                          " d AS (DELETE FROM model_version_tags t USING v"
                          "   WHERE t.name = v.name AND t.version = v.version AND t.key = $3)"
                          " SELECT 1 FROM v",
                          3, params);
    return exec_found("INSERT INTO model_version_tags (name, version, key, value)"
                      " SELECT name, version, $3, $4 FROM model_versions"
                      " WHERE name = $1 AND version = $2::bigint"
                      " AND current_stage <> '" STAGE_DELETED "' FOR SHARE"
                      " ON CONFLICT (name, version, key) DO UPDATE SET value = EXCLUDED.value"
                      " RETURNING 1",
                      4, params);
}

int store_mv_download_uri(const char *name, int64_t version, struct arena *arena, const char **uri)
{
    PGresult *res = NULL;
    char v[24];
    const char *params[] = {name, su_i64(v, version)};
    int rc = db_exec("SELECT coalesce(storage_location, source, '') FROM model_versions"
                     " WHERE name = $1 AND version = $2::bigint"
                     " AND current_stage <> '" STAGE_DELETED "'",
                     2, params, &res);
    if (rc == DB_OK && PQntuples(res) == 0)
        rc = DB_NOT_FOUND;
    if (rc == DB_OK)
        *uri = su_str(res, 0, 0, arena);
    PQclear(res);
    return rc;
}
