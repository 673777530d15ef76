/* Row readers and child loaders of the registry's store files: one model
 * or version row into a record, and the tags and aliases of many records
 * in one statement each (rows are matched by their array position). */
#include "store_registry_rows.h"

#include <stdlib.h>

#include "common/sbuf.h"
#include "db/db.h"
#include "db/store_util.h"

void rr_model_version(const PGresult *res, int row, int col0, struct arena *arena,
                      struct model_version *out)
{
    *out = (struct model_version){0};
    out->name = su_str(res, row, col0, arena);
    out->version = su_int64(res, row, col0 + 1);
    out->creation_time = su_int64(res, row, col0 + 2);
    out->has_last_updated = !PQgetisnull(res, row, col0 + 3);
    out->last_updated_time = su_int64(res, row, col0 + 3);
    out->current_stage = su_str(res, row, col0 + 4, arena);
    out->description = su_str(res, row, col0 + 5, arena);
    out->source = su_str(res, row, col0 + 6, arena);
    out->run_id = su_str(res, row, col0 + 7, arena);
    out->run_link = su_str(res, row, col0 + 8, arena);
    out->status = su_str(res, row, col0 + 9, arena);
    out->status_message = su_str(res, row, col0 + 10, arena);
}

void rr_registered_model(const PGresult *res, int row, struct arena *arena,
                         struct registered_model *out)
{
    *out = (struct registered_model){0};
    out->name = su_str(res, row, 0, arena);
    out->creation_time = su_int64(res, row, 1);
    out->last_updated_time = su_int64(res, row, 2);
    out->description = su_str(res, row, 3, arena);
}

void rr_kv_groups(const PGresult *res, size_t n, struct arena *arena, struct kv ***lists,
                  size_t **counts)
{
    int rows = PQntuples(res);

    *lists = arena_alloc(arena, (n + 1) * sizeof **lists);
    *counts = arena_alloc(arena, (n + 1) * sizeof **counts);
    for (int i = 0; i < rows; i++) {
        int64_t at = su_int64(res, i, 0) - 1;
        if (at >= 0 && (size_t)at < n)
            (*counts)[at]++;
    }
    for (size_t i = 0; i < n; i++)
        (*lists)[i] = arena_alloc(arena, ((*counts)[i] + 1) * sizeof ***lists);
    size_t *filled = arena_alloc(arena, (n + 1) * sizeof *filled);
    for (int i = 0; i < rows; i++) {
        int64_t at = su_int64(res, i, 0) - 1;
        if (at < 0 || (size_t)at >= n)
            continue;
        struct kv *kv = &(*lists)[at][filled[at]++];
        kv->key = su_str(res, i, 1, arena);
        kv->value = su_str(res, i, 2, arena);
    }
}

/* Array literals of the (name, version) pairs of versions. */
static void version_keys(const struct model_version *v, size_t n, struct sbuf *names,
                         struct sbuf *nums)
{
    sbuf_init(names);
    sbuf_init(nums);
    sbuf_addc(names, '{');
    sbuf_addc(nums, '{');
    for (size_t i = 0; i < n; i++) {
        su_array_text(names, v[i].name, i == 0);
        su_array_int64(nums, v[i].version, i == 0);
    }
    sbuf_addc(names, '}');
    sbuf_addc(nums, '}');
}

/* Runs sql (prepared as name: its text is constant, and planning it was a
 * third of a 1,000-version search page), which selects (index, text, text)
 * rows for the (name, version) pairs of versions[0..n) passed as $1 and $2,
 * grouped per version into lists and counts (arena memory). */
static int version_groups(const char *name, const char *sql, const struct model_version *versions,
                          size_t n, struct arena *arena, struct kv ***lists, size_t **counts)
{
    struct sbuf names, nums;
    PGresult *res = NULL;

    version_keys(versions, n, &names, &nums);
    const char *params[] = {names.data, nums.data};
    int rc = db_exec_prepared(name, sql, 2, params, &res);
    if (rc == DB_OK)
        rr_kv_groups(res, n, arena, lists, counts);
    PQclear(res);
    sbuf_cleanup(&names);
    sbuf_cleanup(&nums);
    return rc;
}

int store_mv_load_tags(struct model_version *versions, size_t n, struct arena *arena)
{
    struct kv **lists;
    size_t *counts;

    if (n == 0)
        return DB_OK;
    int rc =
        version_groups("registry_version_tags",
                       "SELECT u.i, t.key, t.value"
                       " FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY"
                       "   AS u(name, version, i)"
                       " JOIN model_version_tags t ON t.name = u.name AND t.version = u.version"
                       " ORDER BY u.i, t.key",
                       versions, n, arena, &lists, &counts);
    if (rc != DB_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        versions[i].tags = lists[i];
        versions[i].ntags = counts[i];
    }
    return DB_OK;
}

int rr_version_aliases(struct model_version *versions, size_t n, struct arena *arena)
{
    struct kv **lists;
    size_t *counts;

    if (n == 0)
        return DB_OK;
    int rc = version_groups("registry_version_aliases",
                            "SELECT u.i, a.alias, ''"
                            " FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY"
                            "   AS u(name, version, i)"
                            " JOIN registered_model_aliases a"
                            "   ON a.name = u.name AND a.version = u.version"
                            " ORDER BY u.i, a.alias",
                            versions, n, arena, &lists, &counts);
    if (rc != DB_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        versions[i].naliases = counts[i];
        versions[i].aliases = arena_alloc(arena, (counts[i] + 1) * sizeof(char *));
        for (size_t j = 0; j < counts[i]; j++)
            versions[i].aliases[j] = lists[i][j].key;
    }
    return DB_OK;
}
