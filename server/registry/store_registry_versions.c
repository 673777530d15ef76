/* Model versions and their tags: all their SQL. A version's number comes
 * from its model's next_version counter, raised by an UPDATE whose row lock
 * serializes concurrent creates of one model; a delete leaves a tombstone
 * so that the number is never reused. */
#include "store_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/store_util.h"
#include "store_registry_journal.h"
#include "store_registry_rows.h"

/* The version's row, tags and the model's counter, in one statement,
 * inside the caller's transaction. */
static int insert_version(const struct model_version_new *in, const char *storage_location,
                          const char *run_id, int64_t *version)
{
    struct sbuf keys, vals;
    PGresult *res = NULL;
    char now[24];

    su_kv_arrays(&keys, &vals, in->tags, in->ntags);
    const char *params[] = {in->name,
                            in->source,
                            storage_location,
                            run_id ? run_id : "",
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

/* What a version takes from a logged model. */
struct logged_model_ref {
    const char *artifact_location;
    const char *source_run_id;
};

/* Reads a live logged model, locking its row until the transaction ends
 * (so concurrent registrations of one model update its tag in turn).
 * DB_NOT_FOUND when absent or deleted. */
static int lock_logged_model(const char *model_id, struct arena *arena,
                             struct logged_model_ref *out)
{
    const char *params[] = {model_id};
    PGresult *res = NULL;
    int rc = db_exec("SELECT artifact_location, source_run_id FROM logged_models"
                     " WHERE model_id = $1 AND lifecycle_stage = 'active' FOR UPDATE",
                     1, params, &res);
    if (rc == DB_OK && PQntuples(res) == 0)
        rc = DB_NOT_FOUND;
    if (rc == DB_OK) {
        out->artifact_location = su_str(res, 0, 0, arena);
        out->source_run_id = su_str(res, 0, 1, arena);
    }
    PQclear(res);
    return rc;
}

/* Adds (name, version) to the logged model's mlflow.modelVersions tag
 * (schema/0016_model_version_links.sql builds the value). */
static int link_version(const char *model_id, const char *name, int64_t version)
{
    char v[24];
    const char *params[] = {model_id, name, su_i64(v, version)};
    return db_exec("INSERT INTO logged_model_tags (model_id, key, value)"
                   " SELECT $1, 'mlflow.modelVersions', exptrack_model_versions_tag("
                   "   (SELECT value FROM logged_model_tags"
                   "    WHERE model_id = $1 AND key = 'mlflow.modelVersions'), $2, $3)"
                   " ON CONFLICT (model_id, key) DO UPDATE SET value = EXCLUDED.value",
                   3, params, NULL);
}

/* Resolves what the version takes from logged models (the source's and
 * the request's model_id), locking their rows: *location and *run_id may
 * change. *missing_model names an absent or deleted one (DB_NOT_FOUND). */
static int resolve_models(const struct model_version_new *in, struct arena *arena,
                          const char **location, const char **run_id, const char **missing_model)
{
    struct logged_model_ref ref = {0};
    int rc;

    if (in->source_model_id != NULL) {
        if ((rc = lock_logged_model(in->source_model_id, arena, &ref)) != DB_OK) {
            *missing_model = rc == DB_NOT_FOUND ? in->source_model_id : NULL;
            return rc;
        }
        *location = ref.artifact_location;
        if (*run_id == NULL)
            *run_id = ref.source_run_id;
    }
    if (in->model_id != NULL &&
        (in->source_model_id == NULL || strcmp(in->model_id, in->source_model_id) != 0)) {
        if ((rc = lock_logged_model(in->model_id, arena, &ref)) != DB_OK) {
            *missing_model = rc == DB_NOT_FOUND ? in->model_id : NULL;
            return rc;
        }
        if (*run_id == NULL)
            *run_id = ref.source_run_id;
    }
    return DB_OK;
}

int store_mv_create(const struct model_version_new *in, int64_t *version, const char *actor,
                    const char **missing_model)
{
    struct arena arena;
    const char *location = in->storage_location;
    const char *run_id = in->run_id && in->run_id[0] ? in->run_id : NULL;

    *missing_model = NULL;
    arena_init(&arena);
    int rc = rj_begin();
    if (rc != DB_OK)
        goto out;
    rc = resolve_models(in, &arena, &location, &run_id, missing_model);
    if (rc == DB_OK)
        rc = insert_version(in, location, run_id, version);
    if (rc == DB_OK && in->link_model) {
        const char *target = in->model_id ? in->model_id : in->source_model_id;
        if (target != NULL)
            rc = link_version(target, in->name, *version);
    }
    if (rc == DB_OK)
        rc = rj_record(&(struct rj_change){.actor = actor,
                                           .action = "version.create",
                                           .model = in->name,
                                           .version = *version,
                                           .field = "source",
                                           .new_value = in->source,
                                           .event = WEBHOOK_VERSION_CREATED});
out:
    rc = rj_end(rc);
    arena_cleanup(&arena);
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

/* The column (an SQL expression) of a live version, under its model's and
 * its own row lock. */
static int old_value(const char *name, const char *v, const char *column, char **old)
{
    char sql[300], *locked = NULL;
    const char *params[] = {name, v};
    /* the model row first, as every registry change does: one lock order,
     * no deadlock with alias changes (which lock the model, then the version) */
    int rc = rj_old("SELECT 1 FROM registered_models WHERE name = $1 FOR NO KEY UPDATE", 1, params,
                    &locked);
    free(locked);
    if (rc != DB_OK)
        return rc;
    snprintf(sql, sizeof sql,
             "SELECT %s FROM model_versions WHERE name = $1 AND version = $2::bigint"
             " AND current_stage <> '" STAGE_DELETED "' FOR NO KEY UPDATE",
             column);
    return rj_old(sql, 2, params, old);
}

int store_mv_update(const char *name, int64_t version, const char *description, const char *actor)
{
    char v[24], now[24], *old = NULL;
    const char *params[] = {name, su_i64(v, version), description, su_i64(now, store_now_ms())};
    int rc = rj_begin();
    if (rc == DB_OK)
        rc = old_value(name, v, "description", &old);
    if (rc == DB_OK)
        rc = exec_found("UPDATE model_versions SET description = $3, last_updated_time = $4"
                        " WHERE name = $1 AND version = $2::bigint"
                        " AND current_stage <> '" STAGE_DELETED "' RETURNING 1",
                        4, params);
    if (rc == DB_OK)
        rc = rj_record(&(struct rj_change){.actor = actor,
                                           .action = "version.update",
                                           .model = name,
                                           .version = version,
                                           .field = "description",
                                           .old_value = old,
                                           .new_value = description});
    free(old);
    return rj_end(rc);
}

int store_mv_transition(const char *name, int64_t version, const char *stage, int archive,
                        const char *actor)
{
    char v[24], now[24], *old = NULL;
    PGresult *res = NULL;
    const char *params[] = {name, su_i64(v, version), stage, archive ? "true" : "false",
                            su_i64(now, store_now_ms())};
    int rc = rj_begin();
    if (rc == DB_OK)
        rc = old_value(name, v, "current_stage", &old);
    /* rows: the version itself (NULL), then each version archived with it */
    if (rc == DB_OK)
        rc = db_exec(
            "WITH t AS (UPDATE model_versions SET current_stage = $3, last_updated_time = $5"
            "   WHERE name = $1 AND version = $2::bigint"
            "   AND current_stage <> '" STAGE_DELETED "' RETURNING name),"
            " a AS (UPDATE model_versions SET current_stage = 'Archived', last_updated_time = $5"
            "   WHERE $4::boolean AND name IN (SELECT name FROM t) AND version <> $2::bigint"
            "   AND current_stage = $3 RETURNING version),"
            " m AS (UPDATE registered_models SET last_updated_time = $5"
            "   WHERE name IN (SELECT name FROM t))"
            " SELECT NULL::bigint FROM t UNION ALL SELECT version FROM a",
            5, params, &res);
    if (rc == DB_OK && PQntuples(res) == 0)
        rc = DB_NOT_FOUND;
    if (rc == DB_OK)
        rc = rj_record(&(struct rj_change){.actor = actor,
                                           .action = "version.stage",
                                           .model = name,
                                           .version = version,
                                           .field = "stage",
                                           .old_value = old,
                                           .new_value = stage});
    for (int i = 1; rc == DB_OK && i < PQntuples(res); i++)
        rc = rj_record(&(struct rj_change){.actor = actor,
                                           .action = "version.stage",
                                           .model = name,
                                           .version = su_int64(res, i, 0),
                                           .field = "stage",
                                           .old_value = stage,
                                           .new_value = "Archived"});
    PQclear(res);
    free(old);
    return rj_end(rc);
}

int store_mv_delete(const char *name, int64_t version, const char *actor)
{
    char v[24], now[24], *old = NULL;
    PGresult *res = NULL;
    const char *params[] = {name, su_i64(v, version), su_i64(now, store_now_ms())};
    int rc = rj_begin();
    if (rc == DB_OK)
        rc = old_value(name, v, "current_stage", &old);
    /* rows: the version (NULL), then each alias dropped with it */
    if (rc == DB_OK)
        rc = db_exec("WITH d AS (UPDATE model_versions SET current_stage = '" STAGE_DELETED "',"
                     "   description = NULL, status_message = NULL, storage_location = NULL,"
                     "   source = 'REDACTED-SOURCE-PATH', run_id = 'REDACTED-RUN-ID',"
                     "   run_link = 'REDACTED-RUN-LINK', last_updated_time = $3"
                     "   WHERE name = $1 AND version = $2::bigint"
                     "   AND current_stage <> '" STAGE_DELETED "' RETURNING name, version),"
                     " a AS (DELETE FROM registered_model_aliases"
                     "   WHERE (name, version) IN (SELECT name, version FROM d) RETURNING alias),"
                     " m AS (UPDATE registered_models SET last_updated_time = $3"
                     "   WHERE name IN (SELECT name FROM d))"
                     " SELECT NULL::text FROM d UNION ALL SELECT alias FROM a",
                     3, params, &res);
    if (rc == DB_OK && PQntuples(res) == 0)
        rc = DB_NOT_FOUND;
    if (rc == DB_OK)
        rc = rj_record(&(struct rj_change){.actor = actor,
                                           .action = "version.delete",
                                           .model = name,
                                           .version = version,
                                           .field = "stage",
                                           .old_value = old,
                                           .new_value = NULL});
    for (int i = 1; rc == DB_OK && i < PQntuples(res); i++) {
        char field[300];
        snprintf(field, sizeof field, "aliases.%s", PQgetvalue(res, i, 0));
        rc = rj_record(&(struct rj_change){.actor = actor,
                                           .action = "alias.delete",
                                           .model = name,
                                           .version = version,
                                           .field = field,
                                           .old_value = v});
    }
    PQclear(res);
    free(old);
    return rj_end(rc);
}

/* Writes or deletes (value NULL) a version tag; the caller's transaction. */
static int write_version_tag(const char *name, const char *v, const char *key, const char *value)
{
    const char *params[] = {name, v, key, value};
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

int store_mv_tag(const char *name, int64_t version, const char *key, const char *value,
                 const char *actor)
{
    char v[24], *old = NULL, *lock = NULL, field[300];
    const char *params[] = {name, su_i64(v, version), key};
    int rc = rj_begin();
    if (rc == DB_OK)
        rc = old_value(name, v, "1", &lock);
    if (rc == DB_OK)
        rc = rj_old("SELECT (SELECT value FROM model_version_tags"
                    "   WHERE name = $1 AND version = $2::bigint AND key = $3)",
                    3, params, &old);
    if (rc == DB_OK)
        rc = write_version_tag(name, v, key, value);
    snprintf(field, sizeof field, "tags.%s", key);
    if (rc == DB_OK)
        rc = rj_record(&(struct rj_change){
            .actor = actor,
            .action = value ? "version.tag.set" : "version.tag.delete",
            .model = name,
            .version = version,
            .field = field,
            .old_value = old,
            .new_value = value,
            .event = value ? WEBHOOK_VERSION_TAG_SET : WEBHOOK_VERSION_TAG_DELETED,
            .key = key,
            .value = value});
    free(old);
    free(lock);
    return rj_end(rc);
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
