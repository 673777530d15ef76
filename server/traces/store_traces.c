/* Trace infos, tags, metadata, run and prompt links, assessments: all
 * their SQL but spans (store_spans.c) and the search and rollups
 * (store_traces_search.c). Writes that span statements run in one
 * transaction. */
#include "store_traces.h"

#include <stdio.h>
#include <string.h>

#include "db/store_util.h"
#include "store_traces_rows.h"

/* Decimal text of v into buf, or NULL for a negative (absent) value. */
static const char *opt_i64(char *buf, int64_t v)
{
    return v < 0 ? NULL : su_i64(buf, v);
}

/* Upserts tags (meta 0) or metadata (meta 1) of one trace; a repeated key
 * keeps its last value. A new mlflow.trace.cost or mlflow.trace.tokenUsage
 * is merged into the one stored, member by member (trace_cost_merge,
 * schema 0035, is not specific to cost: any two JSON objects): the
 * ingest's rollup keeps the members the request leaves out. */
static int upsert_kv(const char *trace_id, const struct kv *kv, size_t n, int meta)
{
    struct sbuf keys, vals;
    if (n == 0)
        return DB_OK;
    su_kv_arrays(&keys, &vals, kv, n);
    const char *params[] = {trace_id, keys.data, vals.data};
    int rc = db_exec(
        meta ? "INSERT INTO trace_metadata (trace_id, key, value)"
               " SELECT DISTINCT ON (k) $1, k, v"
               " FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS u(k, v, o)"
               " ORDER BY k, o DESC"
               " ON CONFLICT (trace_id, key) DO UPDATE SET value ="
               "   CASE WHEN EXCLUDED.key IN ('mlflow.trace.cost', 'mlflow.trace.tokenUsage')"
               "   THEN trace_cost_merge(trace_metadata.value, EXCLUDED.value)"
               "   ELSE EXCLUDED.value END"
             : "INSERT INTO trace_tags (trace_id, key, value)"
               " SELECT DISTINCT ON (k) $1, k, v"
               " FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS u(k, v, o)"
               " ORDER BY k, o DESC"
               " ON CONFLICT (trace_id, key) DO UPDATE SET value = EXCLUDED.value",
        3, params, NULL);
    sbuf_cleanup(&keys);
    sbuf_cleanup(&vals);
    return rc;
}

static int insert_assessment(const struct trace_assessment *a, int64_t now)
{
    char src[8], kind[8], t[24];
    snprintf(src, sizeof src, "%d", a->source_type);
    snprintf(kind, sizeof kind, "%d", a->kind);
    const char *params[] = {a->assessment_id,
                            a->trace_id,
                            a->name,
                            a->span_id,
                            src,
                            a->source_id,
                            kind,
                            a->value,
                            a->extra,
                            a->rationale,
                            a->metadata ? a->metadata : "{}",
                            a->overrides,
                            a->valid ? "t" : "f",
                            su_i64(t, now)};
    return db_exec("INSERT INTO assessments (assessment_id, trace_id, experiment_id, name,"
                   "   span_id, source_type, source_id, kind, value, extra, rationale, metadata,"
                   "   overrides, valid, create_time, last_update_time)"
                   " SELECT $1, $2, t.experiment_id, $3, $4, $5::smallint, $6, $7::smallint,"
                   "   $8::jsonb, $9::jsonb, $10, $11::jsonb, $12, $13::boolean, $14, $14"
                   " FROM traces t WHERE t.trace_id = $2",
                   14, params, NULL);
}

int store_trace_write(const struct trace_write *w, int merge)
{
    char exp[24], rt[24], dur[24], st[8], now[24];
    PGresult *res = NULL;
    int rc;

    snprintf(st, sizeof st, "%d", w->state);
    const char *params[] = {w->trace_id,
                            su_i64(exp, w->experiment_id),
                            su_i64(rt, w->request_time),
                            opt_i64(dur, w->execution_duration),
                            st,
                            w->client_request_id,
                            w->request_preview,
                            w->response_preview,
                            su_i64(now, store_now_ms())};
    if ((rc = db_begin()) != DB_OK)
        return rc;
    /* the experiment row is locked against a concurrent delete; the trace
     * row is inserted, or (merge) updated with the given fields */
    rc = db_exec(merge ? "WITH e AS (SELECT experiment_id, lifecycle_stage, artifact_location"
                         "   FROM experiments WHERE experiment_id = $2::bigint FOR KEY SHARE),"
                         " u AS (INSERT INTO traces (trace_id, experiment_id, request_time,"
                         "   execution_duration, state, client_request_id, request_preview,"
                         "   response_preview, created, updated)"
                         "   SELECT $1, e.experiment_id, $3, $4, $5, $6, $7, $8, $9, $9 FROM e"
                         "   WHERE e.lifecycle_stage = 'active'"
                         "   ON CONFLICT (trace_id) DO UPDATE SET"
                         "     request_time = EXCLUDED.request_time,"
                         "     execution_duration = coalesce(EXCLUDED.execution_duration,"
                         "       traces.execution_duration),"
                         "     state = CASE WHEN EXCLUDED.state = 0 THEN traces.state"
                         "       ELSE EXCLUDED.state END,"
                         "     client_request_id = coalesce(EXCLUDED.client_request_id,"
                         "       traces.client_request_id),"
                         "     request_preview = coalesce(EXCLUDED.request_preview,"
                         "       traces.request_preview),"
                         "     response_preview = coalesce(EXCLUDED.response_preview,"
                         "       traces.response_preview),"
                         "     updated = EXCLUDED.updated"
                         "   WHERE traces.experiment_id = EXCLUDED.experiment_id"
                         "   RETURNING 1)"
                         " SELECT e.lifecycle_stage, e.artifact_location, (SELECT count(*) FROM u)"
                         " FROM e"
                       : "WITH e AS (SELECT experiment_id, lifecycle_stage, artifact_location"
                         "   FROM experiments WHERE experiment_id = $2::bigint FOR KEY SHARE),"
                         " u AS (INSERT INTO traces (trace_id, experiment_id, request_time,"
                         "   execution_duration, state, client_request_id, request_preview,"
                         "   response_preview, created, updated)"
                         "   SELECT $1, e.experiment_id, $3, $4, $5, $6, $7, $8, $9, $9 FROM e"
                         "   WHERE e.lifecycle_stage = 'active' RETURNING 1)"
                         " SELECT e.lifecycle_stage, e.artifact_location, (SELECT count(*) FROM u)"
                         " FROM e",
                 9, params, &res);
    if (rc != DB_OK)
        goto fail;
    if (PQntuples(res) == 0) {
        rc = DB_NOT_FOUND;
        goto fail;
    }
    if (!su_active(res, 0, 0)) {
        rc = DB_STATE;
        goto fail;
    }
    if (su_int64(res, 0, 2) == 0) {
        rc = DB_TRACE_OTHER_EXPERIMENT;
        goto fail;
    }
    if ((rc = upsert_kv(w->trace_id, w->tags, w->ntags, 0)) != DB_OK ||
        (rc = upsert_kv(w->trace_id, w->metadata, w->nmetadata, 1)) != DB_OK)
        goto fail;
    {
        char loc[4096];
        snprintf(loc, sizeof loc, "%s/traces/%s/artifacts", PQgetvalue(res, 0, 1), w->trace_id);
        struct kv server_tag = {"mlflow.artifactLocation", loc};
        if ((rc = upsert_kv(w->trace_id, &server_tag, 1, 0)) != DB_OK)
            goto fail;
    }
    for (size_t i = 0; i < w->nassessments; i++)
        if ((rc = insert_assessment(&w->assessments[i], store_now_ms())) != DB_OK)
            goto fail;
    PQclear(res);
    return db_commit();
fail:
    PQclear(res);
    db_rollback();
    return rc;
}

int store_trace_end(const char *trace_id, int64_t end_ms, int state, const struct kv *metadata,
                    size_t nmetadata, const struct kv *tags, size_t ntags, int64_t *experiment_id)
{
    char end[24], st[8], now[24];
    PGresult *res = NULL;
    int rc;

    snprintf(st, sizeof st, "%d", state);
    const char *params[] = {trace_id, su_i64(end, end_ms), st, su_i64(now, store_now_ms())};
    if ((rc = db_begin()) != DB_OK)
        return rc;
    rc = db_exec("UPDATE traces SET execution_duration = $2::bigint - request_time, state = $3,"
                 "   updated = $4 WHERE trace_id = $1 RETURNING experiment_id",
                 4, params, &res);
    if (rc != DB_OK)
        goto fail;
    if (PQntuples(res) == 0) {
        rc = DB_NOT_FOUND;
        goto fail;
    }
    if ((rc = upsert_kv(trace_id, tags, ntags, 0)) != DB_OK ||
        (rc = upsert_kv(trace_id, metadata, nmetadata, 1)) != DB_OK)
        goto fail;
    *experiment_id = su_int64(res, 0, 0);
    PQclear(res);
    return db_commit();
fail:
    PQclear(res);
    db_rollback();
    return rc;
}

int store_trace_get(const char *trace_id, struct arena *arena, struct trace_info *out)
{
    const char *params[] = {trace_id};
    PGresult *res = NULL;

    memset(out, 0, sizeof *out);
    int rc =
        db_exec("SELECT " TRACE_COLUMNS " FROM traces t WHERE t.trace_id = $1", 1, params, &res);
    if (rc != DB_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return DB_NOT_FOUND;
    }
    trace_row(res, 0, arena, out);
    PQclear(res);
    return trace_load_children(out, 1, arena);
}

int store_trace_experiment(const char *trace_id, int64_t *experiment_id)
{
    const char *params[] = {trace_id};
    PGresult *res = NULL;
    int rc = db_exec("SELECT experiment_id FROM traces WHERE trace_id = $1", 1, params, &res);
    if (rc != DB_OK)
        return rc;
    rc = PQntuples(res) > 0 ? DB_OK : DB_NOT_FOUND;
    if (rc == DB_OK)
        *experiment_id = su_int64(res, 0, 0);
    PQclear(res);
    return rc;
}

int store_trace_delete(int64_t experiment_id, int64_t max_ms, int64_t max_traces,
                       const char *const *ids, size_t nids, int64_t *deleted)
{
    char exp[24], ms[24], lim[24];
    struct sbuf arr;
    PGresult *res = NULL;
    int rc;

    *deleted = 0;
    if (ids != NULL) {
        sbuf_init(&arr);
        sbuf_addc(&arr, '{');
        for (size_t i = 0; i < nids; i++)
            su_array_text(&arr, ids[i], i == 0);
        sbuf_addc(&arr, '}');
        const char *params[] = {su_i64(exp, experiment_id), arr.data};
        rc = db_exec("WITH d AS (DELETE FROM traces WHERE experiment_id = $1::bigint"
                     "   AND trace_id = ANY($2::text[]) RETURNING 1)"
                     " SELECT count(*) FROM d",
                     2, params, &res);
        sbuf_cleanup(&arr);
    } else {
        const char *params[] = {su_i64(exp, experiment_id), su_i64(ms, max_ms),
                                max_traces > 0 ? su_i64(lim, max_traces) : NULL};
        /* oldest first; SKIP LOCKED so a concurrent ingest into a young
         * trace never waits behind (or deadlocks with) the purge */
        rc = db_exec("WITH v AS (SELECT trace_id FROM traces WHERE experiment_id = $1::bigint"
                     "   AND request_time <= $2::bigint ORDER BY request_time, trace_id"
                     "   LIMIT $3::bigint FOR UPDATE SKIP LOCKED),"
                     " d AS (DELETE FROM traces t USING v WHERE t.trace_id = v.trace_id"
                     "   RETURNING 1)"
                     " SELECT count(*) FROM d",
                     3, params, &res);
    }
    if (rc != DB_OK)
        return rc;
    *deleted = su_int64(res, 0, 0);
    PQclear(res);
    return DB_OK;
}

int store_trace_set_tag(const char *trace_id, const char *key, const char *value)
{
    const char *params[] = {trace_id, key, value};
    PGresult *res = NULL;
    int rc = db_exec("WITH t AS (SELECT trace_id FROM traces WHERE trace_id = $1 FOR KEY SHARE),"
                     " i AS (INSERT INTO trace_tags (trace_id, key, value)"
                     "   SELECT trace_id, $2, $3 FROM t"
                     "   ON CONFLICT (trace_id, key) DO UPDATE SET value = EXCLUDED.value)"
                     " SELECT count(*) FROM t",
                     3, params, &res);
    if (rc != DB_OK)
        return rc;
    rc = su_int64(res, 0, 0) > 0 ? DB_OK : DB_NOT_FOUND;
    PQclear(res);
    return rc;
}

int store_trace_delete_tag(const char *trace_id, const char *key)
{
    const char *params[] = {trace_id, key};
    PGresult *res = NULL;
    int rc = db_exec("WITH d AS (DELETE FROM trace_tags WHERE trace_id = $1 AND key = $2"
                     "   RETURNING 1)"
                     " SELECT (SELECT count(*) FROM d),"
                     "   EXISTS (SELECT 1 FROM traces WHERE trace_id = $1)",
                     2, params, &res);
    if (rc != DB_OK)
        return rc;
    if (PQgetvalue(res, 0, 1)[0] != 't')
        rc = DB_NOT_FOUND;
    else if (su_int64(res, 0, 0) == 0)
        rc = DB_TRACE_NO_TAG;
    PQclear(res);
    return rc;
}

int store_trace_link_runs(const char *const *trace_ids, size_t n, const char *run_id)
{
    struct sbuf arr;
    PGresult *res = NULL;

    sbuf_init(&arr);
    sbuf_addc(&arr, '{');
    for (size_t i = 0; i < n; i++)
        su_array_text(&arr, trace_ids[i], i == 0);
    sbuf_addc(&arr, '}');
    const char *params[] = {arr.data, run_id};
    /* one statement: when an id is unknown the count differs and the
     * caller gets DB_NOT_FOUND; the insert then is rolled back with it */
    int rc = db_begin();
    if (rc != DB_OK)
        goto out;
    rc = db_exec("WITH ids AS (SELECT DISTINCT unnest($1::text[]) AS id),"
                 " t AS (SELECT t.trace_id FROM traces t JOIN ids ON t.trace_id = ids.id"
                 "   FOR KEY SHARE OF t),"
                 " i AS (INSERT INTO trace_run_links (trace_id, run_id)"
                 "   SELECT trace_id, $2 FROM t ON CONFLICT DO NOTHING)"
                 " SELECT (SELECT count(*) FROM ids), (SELECT count(*) FROM t),"
                 "   EXISTS (SELECT 1 FROM runs WHERE run_uuid = $2::uuid)",
                 2, params, &res);
    if (rc != DB_OK) {
        db_rollback();
        goto out;
    }
    if (PQgetvalue(res, 0, 2)[0] != 't') {
        db_rollback();
        rc = DB_TRACE_NO_RUN;
        goto out;
    }
    if (su_int64(res, 0, 0) != su_int64(res, 0, 1)) {
        db_rollback();
        rc = DB_NOT_FOUND;
        goto out;
    }
    rc = db_commit();
out:
    PQclear(res);
    sbuf_cleanup(&arr);
    return rc;
}

int store_trace_link_prompts(const char *trace_id, const char *const *names,
                             const char *const *versions, size_t n)
{
    struct sbuf an, av;
    PGresult *res = NULL;

    sbuf_init(&an);
    sbuf_init(&av);
    sbuf_addc(&an, '{');
    sbuf_addc(&av, '{');
    for (size_t i = 0; i < n; i++) {
        su_array_text(&an, names[i], i == 0);
        su_array_text(&av, versions[i], i == 0);
    }
    sbuf_addc(&an, '}');
    sbuf_addc(&av, '}');
    const char *params[] = {trace_id, an.data, av.data};
    int rc = db_exec("WITH t AS (SELECT trace_id FROM traces WHERE trace_id = $1 FOR KEY SHARE),"
                     " i AS (INSERT INTO trace_prompt_links (trace_id, name, version)"
                     "   SELECT DISTINCT t.trace_id, n, v FROM t,"
                     "     unnest($2::text[], $3::text[]) AS u(n, v)"
                     "   ON CONFLICT DO NOTHING)"
                     " SELECT count(*) FROM t",
                     3, params, &res);
    sbuf_cleanup(&an);
    sbuf_cleanup(&av);
    if (rc != DB_OK)
        return rc;
    rc = su_int64(res, 0, 0) > 0 ? DB_OK : DB_NOT_FOUND;
    PQclear(res);
    return rc;
}

int store_assessment_create(const struct trace_assessment *a)
{
    PGresult *res = NULL;
    int rc;

    if ((rc = db_begin()) != DB_OK)
        return rc;
    const char *lock[] = {a->trace_id};
    if ((rc = db_exec("SELECT 1 FROM traces WHERE trace_id = $1 FOR KEY SHARE", 1, lock, &res)) !=
        DB_OK)
        goto fail;
    if (PQntuples(res) == 0) {
        rc = DB_NOT_FOUND;
        goto fail;
    }
    PQclear(res);
    res = NULL;
    if (a->overrides != NULL) {
        const char *p[] = {a->trace_id, a->overrides};
        if ((rc = db_exec("UPDATE assessments SET valid = false"
                          " WHERE trace_id = $1 AND assessment_id = $2 RETURNING 1",
                          2, p, &res)) != DB_OK)
            goto fail;
        if (PQntuples(res) == 0) {
            rc = DB_TRACE_NO_TAG;
            goto fail;
        }
        PQclear(res);
        res = NULL;
    }
    if ((rc = insert_assessment(a, store_now_ms())) != DB_OK)
        goto fail;
    return db_commit();
fail:
    PQclear(res);
    db_rollback();
    return rc;
}

int store_assessment_get(const char *trace_id, const char *assessment_id, struct arena *arena,
                         struct trace_assessment *out)
{
    const char *params[] = {trace_id, assessment_id};
    PGresult *res = NULL;
    int rc = db_exec("SELECT " ASSESSMENT_COLUMNS " FROM assessments a"
                     " WHERE a.trace_id = $1 AND a.assessment_id = $2",
                     2, params, &res);
    if (rc != DB_OK)
        return rc;
    if (PQntuples(res) == 0)
        rc = DB_NOT_FOUND;
    else
        assessment_row(res, 0, arena, out);
    PQclear(res);
    return rc;
}

int store_assessment_update(const struct trace_assessment *a, int mask)
{
    char m[8], kind[8], now[24];
    snprintf(m, sizeof m, "%d", mask);
    snprintf(kind, sizeof kind, "%d", a->kind);
    const char *params[] = {a->trace_id,
                            a->assessment_id,
                            m,
                            a->name,
                            kind,
                            a->value,
                            a->extra,
                            a->rationale,
                            a->metadata ? a->metadata : "{}",
                            a->valid ? "t" : "f",
                            su_i64(now, store_now_ms())};
    PGresult *res = NULL;
    /* each field changes only when its mask bit is set */
    int rc = db_exec(
        "UPDATE assessments SET"
        " name = CASE WHEN $3::int & 1 <> 0 THEN $4 ELSE name END,"
        " kind = CASE WHEN $3::int & 2 <> 0 THEN $5::smallint ELSE kind END,"
        " value = CASE WHEN $3::int & 2 <> 0 THEN $6::jsonb ELSE value END,"
        " extra = CASE WHEN $3::int & 2 <> 0 THEN $7::jsonb ELSE extra END,"
        " rationale = CASE WHEN $3::int & 4 <> 0 THEN $8 ELSE rationale END,"
        " metadata = CASE WHEN $3::int & 8 <> 0 THEN metadata || $9::jsonb ELSE metadata END,"
        " valid = CASE WHEN $3::int & 16 <> 0 THEN $10::boolean ELSE valid END,"
        " last_update_time = $11"
        " WHERE trace_id = $1 AND assessment_id = $2 RETURNING 1",
        11, params, &res);
    if (rc != DB_OK)
        return rc;
    rc = PQntuples(res) > 0 ? DB_OK : DB_NOT_FOUND;
    PQclear(res);
    return rc;
}

int store_assessment_delete(const char *trace_id, const char *assessment_id)
{
    const char *params[] = {trace_id, assessment_id};
    PGresult *res = NULL;
    int rc = db_exec("DELETE FROM assessments WHERE trace_id = $1 AND assessment_id = $2"
                     " RETURNING 1",
                     2, params, &res);
    if (rc != DB_OK)
        return rc;
    rc = PQntuples(res) > 0 ? DB_OK : DB_NOT_FOUND;
    PQclear(res);
    return rc;
}

int store_trace_runs(const char *trace_id, struct arena *arena, struct trace_run_row **out,
                     size_t *n)
{
    const char *params[] = {trace_id};
    PGresult *res = NULL;

    *out = NULL;
    *n = 0;
    /* The first row is the trace (NULL run) so that an unknown trace is
     * told from one without runs; a name only for runs of the trace's own
     * experiment (the route checked read on that one alone). */
    int rc =
        db_exec("WITH t AS (SELECT trace_id, experiment_id FROM traces WHERE trace_id = $1),"
                " l AS (SELECT m.value AS run_id, 1 AS src FROM trace_metadata m"
                "   JOIN t USING (trace_id) WHERE m.key = 'mlflow.sourceRun'"
                "   UNION ALL SELECT k.run_id, 0 FROM trace_run_links k JOIN t USING (trace_id)),"
                " g AS (SELECT run_id, max(src) AS src, min(src) = 0 AS linked FROM l"
                "   GROUP BY run_id)"
                " SELECT NULL, NULL, NULL, NULL, NULL, NULL, 0 AS o FROM t"
                " UNION ALL SELECT g.run_id, g.src = 1, g.linked, r.experiment_id,"
                "   CASE WHEN r.experiment_id = t.experiment_id THEN r.name END,"
                "   r.lifecycle_stage, 1"
                " FROM t CROSS JOIN g LEFT JOIN runs r ON r.run_uuid ="
                "   CASE WHEN g.run_id ~ '^[0-9a-fA-F]{32}$' THEN g.run_id::uuid END"
                " ORDER BY 7, 2 DESC, 1 LIMIT 1001",
                1, params, &res);
    if (rc != DB_OK)
        return rc;
    int rows = PQntuples(res);
    if (rows == 0) {
        rc = DB_NOT_FOUND;
        goto out;
    }
    struct trace_run_row *s = arena_alloc(arena, (size_t)rows * sizeof *s);
    for (int r = 1; r < rows; r++) {
        struct trace_run_row *x = &s[r - 1];
        x->run_id = su_str(res, r, 0, arena);
        x->source = PQgetvalue(res, r, 1)[0] == 't';
        x->linked = PQgetvalue(res, r, 2)[0] == 't';
        x->experiment_id = PQgetisnull(res, r, 3) ? -1 : su_int64(res, r, 3);
        x->name = PQgetisnull(res, r, 4) ? NULL : su_str(res, r, 4, arena);
        x->lifecycle_stage = PQgetisnull(res, r, 5) ? NULL : su_str(res, r, 5, arena);
    }
    *out = s;
    *n = (size_t)rows - 1;
out:
    PQclear(res);
    return rc;
}
