/* Trace rows and their children (store_traces_rows.h). */
#include "store_traces_rows.h"

#include <string.h>

#include "db/store_util.h"

void trace_row(const PGresult *res, int row, struct arena *arena, struct trace_info *out)
{
    memset(out, 0, sizeof *out);
    out->trace_id = su_str(res, row, 0, arena);
    out->experiment_id = su_int64(res, row, 1);
    out->request_time = su_int64(res, row, 2);
    out->execution_duration = PQgetisnull(res, row, 3) ? -1 : su_int64(res, row, 3);
    out->state = (int)su_int64(res, row, 4);
    out->client_request_id = su_str(res, row, 5, arena);
    out->request_preview = su_str(res, row, 6, arena);
    out->response_preview = su_str(res, row, 7, arena);
}

void assessment_row(const PGresult *res, int row, struct arena *arena, struct trace_assessment *out)
{
    memset(out, 0, sizeof *out);
    out->assessment_id = su_str(res, row, 0, arena);
    out->trace_id = su_str(res, row, 1, arena);
    out->name = su_str(res, row, 2, arena);
    out->span_id = su_str(res, row, 3, arena);
    out->source_type = (int)su_int64(res, row, 4);
    out->source_id = su_str(res, row, 5, arena);
    out->kind = (int)su_int64(res, row, 6);
    out->value = su_str(res, row, 7, arena);
    out->extra = su_str(res, row, 8, arena);
    out->rationale = su_str(res, row, 9, arena);
    out->metadata = su_str(res, row, 10, arena);
    out->overrides = su_str(res, row, 11, arena);
    out->valid = PQgetvalue(res, row, 12)[0] == 't';
    out->create_time = su_int64(res, row, 13);
    out->last_update_time = su_int64(res, row, 14);
}

/* The index of the info with this id (the list is small per page). */
static struct trace_info *find(struct trace_info *infos, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(infos[i].trace_id, id) == 0)
            return &infos[i];
    return NULL;
}

/* Loads one kv child table ("trace_tags" or "trace_metadata"). */
static int load_kv(struct trace_info *infos, size_t n, const char *ids, int meta,
                   struct arena *arena)
{
    const char *params[] = {ids};
    PGresult *res = NULL;
    int rc = db_exec(meta ? "SELECT trace_id, key, value FROM trace_metadata"
                            " WHERE trace_id = ANY($1::text[]) ORDER BY trace_id, key"
                          : "SELECT trace_id, key, value FROM trace_tags"
                            " WHERE trace_id = ANY($1::text[]) ORDER BY trace_id, key",
                     1, params, &res);
    if (rc != DB_OK)
        return rc;
    int rows = PQntuples(res);
    /* count per trace, then fill */
    for (int r = 0; r < rows; r++) {
        struct trace_info *t = find(infos, n, PQgetvalue(res, r, 0));
        if (t != NULL)
            meta ? t->nmetadata++ : t->ntags++;
    }
    for (size_t i = 0; i < n; i++) {
        size_t c = meta ? infos[i].nmetadata : infos[i].ntags;
        struct kv *kv = arena_alloc(arena, (c + 1) * sizeof *kv);
        if (meta) {
            infos[i].metadata = kv;
            infos[i].nmetadata = 0;
        } else {
            infos[i].tags = kv;
            infos[i].ntags = 0;
        }
    }
    for (int r = 0; r < rows; r++) {
        struct trace_info *t = find(infos, n, PQgetvalue(res, r, 0));
        if (t == NULL)
            continue;
        struct kv *kv = meta ? &t->metadata[t->nmetadata++] : &t->tags[t->ntags++];
        kv->key = su_str(res, r, 1, arena);
        kv->value = su_str(res, r, 2, arena);
    }
    PQclear(res);
    return DB_OK;
}

static int load_assessments(struct trace_info *infos, size_t n, const char *ids,
                            struct arena *arena)
{
    const char *params[] = {ids};
    PGresult *res = NULL;
    int rc = db_exec("SELECT " ASSESSMENT_COLUMNS " FROM assessments a"
                     " WHERE a.trace_id = ANY($1::text[]) ORDER BY a.trace_id, a.create_time,"
                     " a.assessment_id",
                     1, params, &res);
    if (rc != DB_OK)
        return rc;
    int rows = PQntuples(res);
    for (int r = 0; r < rows; r++) {
        struct trace_info *t = find(infos, n, PQgetvalue(res, r, 1));
        if (t != NULL)
            t->nassessments++;
    }
    for (size_t i = 0; i < n; i++) {
        infos[i].assessments =
            arena_alloc(arena, (infos[i].nassessments + 1) * sizeof *infos[i].assessments);
        infos[i].nassessments = 0;
    }
    for (int r = 0; r < rows; r++) {
        struct trace_info *t = find(infos, n, PQgetvalue(res, r, 1));
        if (t != NULL)
            assessment_row(res, r, arena, &t->assessments[t->nassessments++]);
    }
    PQclear(res);
    return DB_OK;
}

int trace_load_children(struct trace_info *infos, size_t n, struct arena *arena)
{
    struct sbuf ids;
    int rc;

    if (n == 0)
        return DB_OK;
    sbuf_init(&ids);
    sbuf_addc(&ids, '{');
    for (size_t i = 0; i < n; i++)
        su_array_text(&ids, infos[i].trace_id, i == 0);
    sbuf_addc(&ids, '}');
    if ((rc = load_kv(infos, n, ids.data, 0, arena)) == DB_OK &&
        (rc = load_kv(infos, n, ids.data, 1, arena)) == DB_OK)
        rc = load_assessments(infos, n, ids.data, arena);
    sbuf_cleanup(&ids);
    return rc;
}
