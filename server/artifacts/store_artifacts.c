/* Artifact files of runs and logged models: lookups, listings, deletions and the file/directory
 * conflict rule. Directories are implicit: a directory "d" is the key range
 * ['d/', 'd0') of the bytewise-ordered path column ('0' follows '/'). Blob
 * and chunk SQL lives in store_artifact_blobs.c. */
#include "store_artifacts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sbuf.h"
#include "db/store_util.h"
#include "common/xalloc.h"

const char *store_artifact_files_table(const struct artifact_owner *owner)
{
    return owner->kind == ARTIFACT_OWNER_MODEL   ? "logged_model_artifact_files"
           : owner->kind == ARTIFACT_OWNER_TRACE ? "trace_artifact_files"
                                                 : "artifact_files";
}

const char *store_artifact_files_column(const struct artifact_owner *owner)
{
    return owner->kind == ARTIFACT_OWNER_MODEL   ? "model_id"
           : owner->kind == ARTIFACT_OWNER_TRACE ? "trace_id"
                                                 : "run_id";
}

/* Reads the (experiment_id, artifact URI) row sql selects for key into
 * *out as the files of owner kind; DB_NOT_FOUND when it finds none. */
static int owner_lookup(const char *sql, enum artifact_owner_kind kind, const char *key,
                        struct arena *arena, struct artifact_run *out)
{
    const char *params[] = {key};
    PGresult *res = NULL;

    memset(out, 0, sizeof *out);
    int rc = db_exec(sql, 1, params, &res);
    if (rc != DB_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return DB_NOT_FOUND;
    }
    out->owner.kind = kind;
    snprintf(out->owner.key, sizeof out->owner.key, "%s", key);
    out->experiment_id = su_int64(res, 0, 0);
    out->artifact_uri = su_str(res, 0, 1, arena);
    PQclear(res);
    return DB_OK;
}

int store_artifact_model(const char *model_id, struct arena *arena, struct artifact_run *out)
{
    return owner_lookup("SELECT experiment_id, artifact_location FROM logged_models"
                        " WHERE model_id = $1",
                        ARTIFACT_OWNER_MODEL, model_id, arena, out);
}

int store_artifact_trace(const char *trace_id, struct arena *arena, struct artifact_run *out)
{
    return owner_lookup("SELECT t.experiment_id, e.artifact_location || '/traces/' || t.trace_id"
                        "   || '/artifacts'"
                        " FROM traces t JOIN experiments e USING (experiment_id)"
                        " WHERE t.trace_id = $1",
                        ARTIFACT_OWNER_TRACE, trace_id, arena, out);
}

int store_artifact_run(const char *run_id, struct arena *arena, struct artifact_run *out)
{
    const char *params[] = {run_id};
    PGresult *res = NULL;

    memset(out, 0, sizeof *out);
    int rc = db_exec("SELECT id, experiment_id, lifecycle_stage, artifact_uri FROM runs"
                     " WHERE run_uuid = $1::uuid",
                     1, params, &res);
    if (rc != DB_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return DB_NOT_FOUND;
    }
    out->owner.kind = ARTIFACT_OWNER_RUN;
    snprintf(out->owner.key, sizeof out->owner.key, "%lld", (long long)su_int64(res, 0, 0));
    out->experiment_id = su_int64(res, 0, 1);
    out->deleted = !su_active(res, 0, 2);
    out->artifact_uri = su_str(res, 0, 3, arena);
    PQclear(res);
    return DB_OK;
}

int store_artifact_stat(const struct artifact_owner *owner, const char *path,
                        struct artifact_file *out)
{
    const char *params[] = {owner->key, path};
    char sql[512];
    PGresult *res = NULL;

    memset(out, 0, sizeof *out);
    snprintf(sql, sizeof sql,
             "SELECT f.blob_id, f.size, f.created, b.chunk_size, encode(b.sha256, 'hex')"
             " FROM %s f JOIN artifact_blobs b ON b.id = f.blob_id"
             " WHERE f.%s = $1 AND f.path = $2",
             store_artifact_files_table(owner), store_artifact_files_column(owner));
    int rc = db_exec(sql, 2, params, &res);
    if (rc != DB_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return DB_NOT_FOUND;
    }
    out->blob_id = su_int64(res, 0, 0);
    out->size = su_int64(res, 0, 1);
    out->created = su_int64(res, 0, 2);
    out->chunk_size = (int)su_int64(res, 0, 3);
    snprintf(out->sha256, sizeof out->sha256, "%s", PQgetvalue(res, 0, 4));
    PQclear(res);
    return DB_OK;
}

/* "dir/" and its upper bound "dir0" (the key range of everything below dir);
 * both empty strings for the root. Caller frees both. */
static void dir_range(const char *dir, char **lo, char **hi)
{
    if (dir[0] == '\0') {
        *lo = xstrdup("");
        *hi = NULL;
        return;
    }
    *lo = xasprintf("%s/", dir);
    *hi = xasprintf("%s0", dir);
}

int store_artifact_list(const struct artifact_owner *owner, const char *dir, struct arena *arena,
                        struct artifact_entry **out, size_t *n)
{
    char *lo, *hi, sql[512];
    PGresult *res = NULL;

    *out = NULL;
    *n = 0;
    dir_range(dir, &lo, &hi);
    const char *params[] = {owner->key, lo, hi};
    snprintf(sql, sizeof sql,
             "SELECT split_part(substr(path, char_length($2) + 1), '/', 1) AS name,"
             "   bool_or(strpos(substr(path, char_length($2) + 1), '/') > 0), max(size)"
             " FROM %s"
             " WHERE %s = $1 AND path >= $2 COLLATE \"C\""
             "   AND ($3::text IS NULL OR path < $3 COLLATE \"C\")"
             " GROUP BY 1 ORDER BY 1",
             store_artifact_files_table(owner), store_artifact_files_column(owner));
    int rc = db_exec(sql, 3, params, &res);
    free(lo);
    free(hi);
    if (rc != DB_OK)
        return rc;
    size_t rows = (size_t)PQntuples(res);
    *out = arena_alloc(arena, (rows ? rows : 1) * sizeof **out);
    for (size_t i = 0; i < rows; i++) {
        (*out)[i].name = su_str(res, (int)i, 0, arena);
        (*out)[i].is_dir = PQgetvalue(res, (int)i, 1)[0] == 't';
        (*out)[i].size = su_int64(res, (int)i, 2);
    }
    *n = rows;
    PQclear(res);
    return DB_OK;
}

int store_artifact_delete(const struct artifact_owner *owner, const char *path, int64_t *removed)
{
    char *lo, *hi, sql[512];
    PGresult *res = NULL;

    *removed = 0;
    dir_range(path, &lo, &hi);
    const char *params[] = {owner->key, path, lo, hi};
    snprintf(sql, sizeof sql,
             "WITH d AS (DELETE FROM %s WHERE %s = $1 AND ($2 = ''"
             "   OR path = $2 OR (path >= $3 COLLATE \"C\" AND path < $4 COLLATE \"C\"))"
             "   RETURNING 1)"
             " SELECT count(*) FROM d",
             store_artifact_files_table(owner), store_artifact_files_column(owner));
    int rc = db_exec(sql, 4, params, &res);
    free(lo);
    free(hi);
    if (rc != DB_OK)
        return rc;
    *removed = su_int64(res, 0, 0);
    PQclear(res);
    return DB_OK;
}

/* The paths of path's parent directories as a text[] literal ("{}" for a
 * top-level name). */
static void parents_array(const char *path, struct sbuf *b)
{
    int first = 1;
    sbuf_addc(b, '{');
    for (const char *p = strchr(path, '/'); p != NULL; p = strchr(p + 1, '/')) {
        char *parent = xstrndup(path, (size_t)(p - path));
        su_array_text(b, parent, first);
        free(parent);
        first = 0;
    }
    sbuf_addc(b, '}');
}

int store_artifact_check_path(const struct artifact_owner *owner, const char *path)
{
    char *lo, *hi, sql[512];
    struct sbuf parents;
    PGresult *res = NULL;

    sbuf_init(&parents);
    parents_array(path, &parents);
    dir_range(path, &lo, &hi);
    const char *params[] = {owner->key, parents.data, lo, hi};
    snprintf(sql, sizeof sql,
             "SELECT 1 FROM %s WHERE %s = $1 AND (path = ANY($2::text[])"
             "   OR (path >= $3 COLLATE \"C\" AND path < $4 COLLATE \"C\")) LIMIT 1",
             store_artifact_files_table(owner), store_artifact_files_column(owner));
    int rc = db_exec(sql, 4, params, &res);
    free(lo);
    free(hi);
    sbuf_cleanup(&parents);
    if (rc != DB_OK)
        return rc;
    rc = PQntuples(res) > 0 ? DB_ARTIFACT_CONFLICT : DB_OK;
    PQclear(res);
    return rc;
}
