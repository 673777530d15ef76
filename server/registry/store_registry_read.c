/* The registry's single-version reads (get, get by alias, latest): one
 * statement each, which returns the version row followed by one row per
 * tag and per alias of it. One round trip instead of four, and one
 * snapshot: a reader racing an alias move or a version delete sees the
 * version, its tags and its aliases as of one instant, so the alias it
 * asked for is always among the aliases it gets back. */
#include "store_registry.h"

#include "db/db.h"
#include "db/store_util.h"
#include "store_registry_rows.h"

/* The rows every read below returns, from a CTE "v" holding at most one
 * row with the model's name (m_name, NULL when the model is absent the
 * CTE is empty) and MV_COLUMNS of the version (all NULL when no version
 * matched): kind 0 the version itself, kind 1 a tag (key, value), kind 2
 * an alias (alias in key). MV_COLUMNS start at column 3. */
#define READ_ROWS                                                                                  \
    " SELECT 0 AS kind, NULL::text AS key, NULL::text AS value, " MV_COLUMNS " FROM v mv"          \
    " UNION ALL SELECT 1, t.key, t.value, " MV_NULLS " FROM v"                                     \
    "   JOIN model_version_tags t ON t.name = v.name AND t.version = v.version"                    \
    " UNION ALL SELECT 2, a.alias, NULL, " MV_NULLS " FROM v"                                      \
    "   JOIN registered_model_aliases a ON a.name = v.name AND a.version = v.version"              \
    " ORDER BY 1, 2"

#define MV_NULLS "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"

#define COL0 3

/* Reads the result of a READ_ROWS statement into out. DB_NOT_FOUND when
 * there is no row (the model or the version is absent), DB_STATE when the
 * version row is all NULL (the model exists, nothing matched). */
static int read_rows(PGresult *res, int null_version_rc, struct arena *arena,
                     struct model_version *out)
{
    int rows = PQntuples(res);
    size_t ntags = 0, naliases = 0;

    if (rows == 0 || su_int64(res, 0, 0) != 0)
        return DB_NOT_FOUND;
    if (PQgetisnull(res, 0, COL0))
        return null_version_rc;
    rr_model_version(res, 0, COL0, arena, out);
    for (int i = 1; i < rows; i++) {
        if (su_int64(res, i, 0) == 1)
            ntags++;
        else
            naliases++;
    }
    out->tags = arena_alloc(arena, (ntags + 1) * sizeof *out->tags);
    out->aliases = arena_alloc(arena, (naliases + 1) * sizeof *out->aliases);
    for (int i = 1; i < rows; i++) {
        if (su_int64(res, i, 0) == 1) {
            struct kv *kv = &out->tags[out->ntags++];
            kv->key = su_str(res, i, 1, arena);
            kv->value = su_str(res, i, 2, arena);
        } else {
            out->aliases[out->naliases++] = su_str(res, i, 1, arena);
        }
    }
    return DB_OK;
}

/* Runs one of the reads below, prepared as name on this connection. */
static int run_read(const char *name, const char *sql, int nparams, const char *const *params,
                    int null_version_rc, struct arena *arena, struct model_version *out)
{
    PGresult *res = NULL;

    int rc = db_exec_prepared(name, sql, nparams, params, &res);
    if (rc == DB_OK)
        rc = read_rows(res, null_version_rc, arena, out);
    PQclear(res);
    return rc;
}

int store_alias_get(const char *name, const char *alias, struct arena *arena,
                    struct model_version *out)
{
    const char *params[] = {name, alias};
    /* The model row decides "no model" (no row) against "no alias" (a
     * row of NULLs), as the contract tells the two apart. */
    return run_read("registry_alias_get",
                    "WITH v AS MATERIALIZED (SELECT " MV_COLUMNS " FROM registered_models m"
                    "   LEFT JOIN registered_model_aliases a ON a.name = m.name AND a.alias = $2"
                    "   LEFT JOIN model_versions mv ON mv.name = a.name AND mv.version = a.version"
                    "     AND mv.current_stage <> '" STAGE_DELETED "'"
                    "   WHERE m.name = $1)" READ_ROWS,
                    2, params, DB_STATE, arena, out);
}

int store_mv_get(const char *name, int64_t version, struct arena *arena, struct model_version *out)
{
    char v[24];
    const char *params[] = {name, su_i64(v, version)};
    return run_read("registry_version_get",
                    "WITH v AS MATERIALIZED (SELECT " MV_COLUMNS " FROM model_versions mv"
                    "   WHERE mv.name = $1 AND mv.version = $2::bigint"
                    "   AND mv.current_stage <> '" STAGE_DELETED "')" READ_ROWS,
                    2, params, DB_NOT_FOUND, arena, out);
}

int store_mv_get_latest(const char *name, struct arena *arena, struct model_version *out)
{
    const char *params[] = {name};
    return run_read("registry_version_latest",
                    "WITH v AS MATERIALIZED (SELECT " MV_COLUMNS " FROM registered_models m"
                    "   LEFT JOIN LATERAL (SELECT * FROM model_versions x"
                    "     WHERE x.name = m.name AND x.current_stage <> '" STAGE_DELETED "'"
                    "     ORDER BY x.version DESC LIMIT 1) mv ON true"
                    "   WHERE m.name = $1)" READ_ROWS,
                    1, params, DB_STATE, arena, out);
}
