/* Registered models, their tags and aliases: all their SQL. A rename is
 * one UPDATE of the model row (children follow by ON UPDATE CASCADE) and
 * one of its versions' times, in one transaction. */
#include "store_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sbuf.h"
#include "db/store_util.h"
#include "store_registry_journal.h"
#include "store_registry_rows.h"

/* Array literal of texts into b (initialised here). */
static void text_array(struct sbuf *b, const char *const *items, size_t n)
{
    sbuf_init(b);
    sbuf_addc(b, '{');
    for (size_t i = 0; i < n; i++)
        su_array_text(b, items[i], i == 0);
    sbuf_addc(b, '}');
}

int store_rm_create(const char *name, const char *description, const struct kv *tags, size_t ntags,
                    const char *actor)
{
    struct sbuf keys, vals;
    char now[24];

    su_kv_arrays(&keys, &vals, tags, ntags);
    const char *params[] = {name, description ? description : "", su_i64(now, store_now_ms()),
                            keys.data, vals.data};
    /* The model and its tags in one statement; a repeated key keeps its
     * last value. */
    int rc = rj_begin();
    if (rc == DB_OK)
        rc = db_exec("WITH m AS (INSERT INTO registered_models"
                     "   (name, description, creation_time, last_updated_time)"
                     "   VALUES ($1, $2, $3, $3) RETURNING name)"
                     " INSERT INTO registered_model_tags (name, key, value)"
                     " SELECT DISTINCT ON (k) m.name, k, v"
                     " FROM m, unnest($4::text[], $5::text[]) WITH ORDINALITY AS u(k, v, o)"
                     " ORDER BY k, o DESC",
                     5, params, NULL);
    if (rc == DB_OK)
        rc = rj_record(&(struct rj_change){.actor = actor,
                                           .action = "model.create",
                                           .model = name,
                                           .field = "name",
                                           .new_value = name,
                                           .event = WEBHOOK_MODEL_CREATED});
    rc = rj_end(rc);
    sbuf_cleanup(&keys);
    sbuf_cleanup(&vals);
    return rc;
}

int store_rm_load_children(struct registered_model *models, size_t n, struct arena *arena)
{
    struct sbuf names;
    PGresult *res = NULL;
    struct kv **lists;
    size_t *counts;
    int rc;

    if (n == 0)
        return DB_OK;
    sbuf_init(&names);
    sbuf_addc(&names, '{');
    for (size_t i = 0; i < n; i++)
        su_array_text(&names, models[i].name, i == 0);
    sbuf_addc(&names, '}');
    const char *params[] = {names.data};
    rc = db_exec("SELECT u.i, t.key, t.value"
                 " FROM unnest($1::text[]) WITH ORDINALITY AS u(name, i)"
                 " JOIN registered_model_tags t ON t.name = u.name ORDER BY u.i, t.key",
                 1, params, &res);
    if (rc != DB_OK)
        goto out;
    rr_kv_groups(res, n, arena, &lists, &counts);
    for (size_t i = 0; i < n; i++) {
        models[i].tags = lists[i];
        models[i].ntags = counts[i];
    }
    PQclear(res);
    res = NULL;
    /* Aliases of live versions only: one moved onto a version while it was
     * being deleted must not show. */
    rc = db_exec("SELECT u.i, a.alias, a.version::text"
                 " FROM unnest($1::text[]) WITH ORDINALITY AS u(name, i)"
                 " JOIN registered_model_aliases a ON a.name = u.name"
                 " JOIN model_versions mv ON mv.name = a.name AND mv.version = a.version"
                 "   AND mv.current_stage <> '" STAGE_DELETED "'"
                 " ORDER BY u.i, a.alias",
                 1, params, &res);
    if (rc != DB_OK)
        goto out;
    rr_kv_groups(res, n, arena, &lists, &counts);
    for (size_t i = 0; i < n; i++) {
        models[i].aliases = lists[i];
        models[i].naliases = counts[i];
    }
    PQclear(res);
    res = NULL;
    rc = db_exec("SELECT u.i, " MV_COLUMNS " FROM unnest($1::text[]) WITH ORDINALITY AS u(name, i)"
                 " CROSS JOIN LATERAL (SELECT DISTINCT ON (current_stage) *,"
                 "   min(version) OVER (PARTITION BY current_stage) AS first FROM model_versions"
                 "   WHERE name = u.name AND current_stage <> '" STAGE_DELETED "'"
                 "   ORDER BY current_stage, version DESC) mv"
                 " ORDER BY u.i, mv.first",
                 1, params, &res);
    if (rc != DB_OK)
        goto out;
    int rows = PQntuples(res);
    struct model_version *all = arena_alloc(arena, ((size_t)rows + 1) * sizeof *all);
    for (int i = 0; i < rows; i++) {
        size_t at = (size_t)su_int64(res, i, 0) - 1;
        rr_model_version(res, i, 1, arena, &all[i]);
        if (at < n) {
            if (models[at].latest == NULL)
                models[at].latest = &all[i];
            models[at].nlatest++;
        }
    }
    rc = store_mv_load_tags(all, (size_t)rows, arena);
out:
    PQclear(res);
    sbuf_cleanup(&names);
    return rc;
}

int store_rm_get(const char *name, struct arena *arena, struct registered_model *out)
{
    PGresult *res = NULL;
    const char *params[] = {name};
    int rc = db_exec("SELECT " RM_COLUMNS " FROM registered_models rm WHERE rm.name = $1", 1,
                     params, &res);
    if (rc != DB_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return DB_NOT_FOUND;
    }
    rr_registered_model(res, 0, arena, out);
    PQclear(res);
    return store_rm_load_children(out, 1, arena);
}

int store_rm_rename(const char *name, const char *new_name, const char *actor)
{
    char now[24];
    PGresult *res = NULL;
    const char *params[] = {name, new_name, su_i64(now, store_now_ms())};
    int rc;

    if ((rc = rj_begin()) != DB_OK)
        return rj_end(rc);
    rc = db_exec("UPDATE registered_models SET name = $2, last_updated_time = $3"
                 " WHERE name = $1 RETURNING name",
                 3, params, &res);
    if (rc == DB_OK && PQntuples(res) == 0)
        rc = DB_NOT_FOUND;
    PQclear(res);
    if (rc == DB_OK)
        rc = db_exec("UPDATE model_versions SET last_updated_time = $2 WHERE name = $1", 2,
                     params + 1, NULL);
    if (rc == DB_OK)
        rc = rj_rename(name, new_name);
    if (rc == DB_OK)
        rc = rj_record(&(struct rj_change){.actor = actor,
                                           .action = "model.rename",
                                           .model = new_name,
                                           .field = "name",
                                           .old_value = name,
                                           .new_value = new_name});
    return rj_end(rc);
}

/* Runs sql, whose result has a row when the model was there. */
static int exec_found(const char *sql, int nparams, const char *const *params)
{
    PGresult *res = NULL;
    int rc = db_exec(sql, nparams, params, &res);
    if (rc == DB_OK && PQntuples(res) == 0)
        rc = DB_NOT_FOUND;
    PQclear(res);
    return rc;
}

int store_rm_update(const char *name, const char *description, const char *actor)
{
    char now[24], *old = NULL;
    const char *params[] = {name, description ? description : "", su_i64(now, store_now_ms())};
    int rc = rj_begin();
    if (rc == DB_OK)
        rc = rj_old("SELECT description FROM registered_models WHERE name = $1"
                    " FOR NO KEY UPDATE",
                    1, params, &old);
    if (rc == DB_OK)
        rc = exec_found("UPDATE registered_models SET description = $2, last_updated_time = $3"
                        " WHERE name = $1 RETURNING 1",
                        3, params);
    if (rc == DB_OK)
        rc = rj_record(&(struct rj_change){.actor = actor,
                                           .action = "model.update",
                                           .model = name,
                                           .field = "description",
                                           .old_value = old,
                                           .new_value = params[1]});
    free(old);
    return rj_end(rc);
}

int store_rm_delete(const char *name, const char *actor)
{
    const char *params[] = {name};
    int rc = rj_begin();
    if (rc == DB_OK)
        rc = exec_found("DELETE FROM registered_models WHERE name = $1 RETURNING 1", 1, params);
    if (rc == DB_OK)
        rc = rj_record(&(struct rj_change){.actor = actor,
                                           .action = "model.delete",
                                           .model = name,
                                           .field = "name",
                                           .old_value = name});
    return rj_end(rc);
}

/* Writes or deletes (value NULL) a model tag; the caller's transaction. */
static int write_model_tag(const char *name, const char *key, const char *value)
{
    const char *params[] = {name, key, value};
    if (value == NULL)
        return exec_found("WITH d AS (DELETE FROM registered_model_tags"
                          "   WHERE name = $1 AND key = $2)"
                          " SELECT 1 FROM registered_models WHERE name = $1",
                          2, params);
    /* FOR SHARE keeps the model from being deleted or renamed under us. */
    return exec_found("INSERT INTO registered_model_tags (name, key, value)"
                      " SELECT name, $2, $3 FROM registered_models WHERE name = $1 FOR SHARE"
                      " ON CONFLICT (name, key) DO UPDATE SET value = EXCLUDED.value"
                      " RETURNING 1",
                      3, params);
}

int store_rm_tag(const char *name, const char *key, const char *value, const char *actor)
{
    char *old = NULL, field[300];
    const char *params[] = {name, key};
    int rc = rj_begin();
    if (rc == DB_OK)
        rc = rj_old("SELECT (SELECT value FROM registered_model_tags WHERE name = $1 AND key = $2)"
                    " FROM registered_models WHERE name = $1 FOR NO KEY UPDATE",
                    2, params, &old);
    if (rc == DB_OK)
        rc = write_model_tag(name, key, value);
    snprintf(field, sizeof field, "tags.%s", key);
    if (rc == DB_OK)
        rc = rj_record(
            &(struct rj_change){.actor = actor,
                                .action = value ? "model.tag.set" : "model.tag.delete",
                                .model = name,
                                .field = field,
                                .old_value = old,
                                .new_value = value,
                                .event = value ? WEBHOOK_MODEL_TAG_SET : WEBHOOK_MODEL_TAG_DELETED,
                                .key = key,
                                .value = value});
    free(old);
    return rj_end(rc);
}

int store_rm_latest(const char *name, const char *const *stages, size_t nstages, int with_aliases,
                    struct arena *arena, struct model_version **out, size_t *n)
{
    struct sbuf list;
    PGresult *res = NULL;
    int rc;

    *out = NULL;
    *n = 0;
    text_array(&list, stages, nstages);
    const char *params[] = {name, nstages ? list.data : NULL};
    rc = db_exec("SELECT m.name IS NOT NULL, " MV_COLUMNS
                 " FROM (SELECT name FROM registered_models WHERE name = $1) m"
                 " LEFT JOIN LATERAL (SELECT DISTINCT ON (current_stage) *,"
                 "   min(version) OVER (PARTITION BY current_stage) AS first FROM model_versions"
                 "   WHERE name = m.name AND current_stage <> '" STAGE_DELETED "'"
                 "   AND ($2::text[] IS NULL OR current_stage = ANY ($2::text[]))"
                 "   ORDER BY current_stage, version DESC) mv ON true"
                 " ORDER BY mv.first",
                 2, params, &res);
    sbuf_cleanup(&list);
    if (rc != DB_OK)
        return rc;
    int rows = PQntuples(res);
    if (rows == 0) {
        PQclear(res);
        return DB_NOT_FOUND;
    }
    *out = arena_alloc(arena, ((size_t)rows + 1) * sizeof **out);
    for (int i = 0; i < rows; i++) {
        if (PQgetisnull(res, i, 1))
            continue;
        rr_model_version(res, i, 1, arena, &(*out)[*n]);
        (*n)++;
    }
    PQclear(res);
    rc = store_mv_load_tags(*out, *n, arena);
    if (rc == DB_OK && with_aliases)
        rc = rr_version_aliases(*out, *n, arena);
    return rc;
}

/* The version alias points to now (NULL: none), under the model row's lock. */
static int old_alias(const char *name, const char *alias, char **old)
{
    const char *params[] = {name, alias};
    return rj_old("SELECT (SELECT version::text FROM registered_model_aliases"
                  "   WHERE name = $1 AND alias = $2)"
                  " FROM registered_models WHERE name = $1 FOR NO KEY UPDATE",
                  2, params, old);
}

int store_alias_set(const char *name, const char *alias, int64_t version, const char *actor)
{
    char v[24], *old = NULL, field[300];
    const char *params[] = {name, alias, su_i64(v, version)};
    int rc = rj_begin();
    if (rc == DB_OK)
        rc = old_alias(name, alias, &old);
    /* FOR SHARE: a concurrent delete of the version waits, then sees the alias. */
    if (rc == DB_OK)
        rc = exec_found("INSERT INTO registered_model_aliases (name, alias, version)"
                        " SELECT name, $2, version FROM model_versions"
                        " WHERE name = $1 AND version = $3::bigint"
                        "   AND current_stage <> '" STAGE_DELETED "' FOR SHARE"
                        " ON CONFLICT (name, alias) DO UPDATE SET version = EXCLUDED.version"
                        " RETURNING 1",
                        3, params);
    snprintf(field, sizeof field, "aliases.%s", alias);
    if (rc == DB_OK)
        rc = rj_record(&(struct rj_change){.actor = actor,
                                           .action = "alias.set",
                                           .model = name,
                                           .version = version,
                                           .field = field,
                                           .old_value = old,
                                           .new_value = params[2],
                                           .event = WEBHOOK_ALIAS_CREATED,
                                           .key = alias});
    free(old);
    return rj_end(rc);
}

int store_alias_delete(const char *name, const char *alias, const char *actor)
{
    char *old = NULL, field[300];
    const char *params[] = {name, alias};
    int rc = rj_begin();
    if (rc == DB_OK)
        rc = old_alias(name, alias, &old);
    if (rc == DB_OK)
        rc = exec_found("WITH d AS (DELETE FROM registered_model_aliases"
                        "   WHERE name = $1 AND alias = $2)"
                        " SELECT 1 FROM registered_models WHERE name = $1",
                        2, params);
    snprintf(field, sizeof field, "aliases.%s", alias);
    int64_t version = 0;
    if (old != NULL)
        version = strtoll(old, NULL, 10);
    if (rc == DB_OK)
        rc = rj_record(&(struct rj_change){.actor = actor,
                                           .action = "alias.delete",
                                           .model = name,
                                           .version = version,
                                           .field = field,
                                           .old_value = old,
                                           .event = WEBHOOK_ALIAS_DELETED,
                                           .key = alias});
    free(old);
    return rj_end(rc);
}
