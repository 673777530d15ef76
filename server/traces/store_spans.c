/* Spans: the batch ingest of POST /v1/traces (and traces.json) and the
 * read of one trace's spans. One transaction per batch. The spans of the
 * traces the batch creates go in by binary COPY (no stored span can clash
 * with them); the others are upserted in one multi-row statement over
 * unnest()ed arrays. Attributes and events are stored as the JSON text the
 * caller made (schema 0023: text, not jsonb), so neither the write nor the
 * read converts them. */
#include "store_traces.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "db/store_util.h"

/* Appends s (NULL: SQL NULL) to an array literal. */
static void arr_text(struct sbuf *b, const char *s, int first)
{
    if (s != NULL) {
        su_array_text(b, s, first);
        return;
    }
    if (!first)
        sbuf_addc(b, ',');
    sbuf_adds(b, "NULL");
}

/* Appends v (negative: NULL when nullable) to an array literal. */
static void arr_i64(struct sbuf *b, int64_t v, int nullable, int first)
{
    if (nullable && v < 0) {
        arr_text(b, NULL, first);
        return;
    }
    su_array_int64(b, v, first);
}

enum {
    C_TRACE,
    C_SPAN,
    C_PARENT,
    C_NAME,
    C_TYPE,
    C_KIND,
    C_STATE,
    C_CODE,
    C_MSG,
    C_START,
    C_END,
    C_ATTRS,
    C_EVENTS,
    C_IN,
    C_OUT,
    C_CACHE_READ,
    C_CACHE_CREATION,
    NCOLS
};

static int write_traces(int64_t experiment_id, const struct span_trace *tr, size_t n,
                        PGresult **res)
{
    struct sbuf a[9];
    char exp[24], now[24];

    for (int i = 0; i < 9; i++) {
        sbuf_init(&a[i]);
        sbuf_addc(&a[i], '{');
    }
    for (size_t i = 0; i < n; i++) {
        int f = i == 0;
        su_array_text(&a[0], tr[i].trace_id, f);
        /* ns -> ms, rounded down for the start and up for the end */
        su_array_int64(&a[1], tr[i].start_ns / 1000000, f);
        su_array_int64(&a[2], (tr[i].end_ns + 999999) / 1000000, f);
        su_array_int64(&a[3], tr[i].has_root ? tr[i].root_state : TRACE_STATE_IN_PROGRESS, f);
        su_array_text(&a[4], tr[i].has_root ? "t" : "f", f);
        arr_text(&a[5], tr[i].request_preview, f);
        arr_text(&a[6], tr[i].response_preview, f);
        arr_text(&a[7], tr[i].trace_name, f);
        arr_text(&a[8], tr[i].session, f);
    }
    for (int i = 0; i < 9; i++)
        sbuf_addc(&a[i], '}');
    const char *params[] = {su_i64(exp, experiment_id),
                            a[0].data,
                            a[1].data,
                            a[2].data,
                            a[3].data,
                            a[4].data,
                            a[5].data,
                            a[6].data,
                            a[7].data,
                            a[8].data,
                            su_i64(now, store_now_ms())};
    /* Creates or widens each trace: the time range grows to cover the
     * batch, the root's state wins once the root arrives, previews are
     * kept once set. A trace of another experiment is not touched (the
     * count tells). */
    int rc = db_exec(
        "WITH e AS (SELECT experiment_id, lifecycle_stage, artifact_location FROM experiments"
        "   WHERE experiment_id = $1::bigint FOR KEY SHARE),"
        " b AS (SELECT * FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::smallint[],"
        "   $6::boolean[], $7::text[], $8::text[], $9::text[], $10::text[])"
        "   AS u(id, s, en, st, root, rq, rs, nm, se)),"
        " u AS (INSERT INTO traces AS t (trace_id, experiment_id, request_time,"
        "   execution_duration, state, request_preview, response_preview, created, updated)"
        "   SELECT b.id, e.experiment_id, b.s, b.en - b.s, b.st, b.rq, b.rs, $11, $11"
        "   FROM b, e WHERE e.lifecycle_stage = 'active'"
        "   ON CONFLICT (trace_id) DO UPDATE SET"
        "     request_time = least(t.request_time, EXCLUDED.request_time),"
        "     execution_duration = greatest(t.request_time + coalesce(t.execution_duration, 0),"
        "       EXCLUDED.request_time + EXCLUDED.execution_duration)"
        "       - least(t.request_time, EXCLUDED.request_time),"
        "     state = CASE WHEN EXCLUDED.state <> 3 THEN EXCLUDED.state ELSE t.state END,"
        "     request_preview = coalesce(t.request_preview, EXCLUDED.request_preview),"
        "     response_preview = coalesce(t.response_preview, EXCLUDED.response_preview),"
        "     updated = EXCLUDED.updated"
        "   WHERE t.experiment_id = EXCLUDED.experiment_id"
        "   RETURNING t.trace_id, t.xmax = 0 AS fresh),"
        " tg AS (INSERT INTO trace_tags (trace_id, key, value)"
        "   SELECT u.trace_id, k.key, k.value FROM u JOIN b ON b.id = u.trace_id, e,"
        "   LATERAL (VALUES ('mlflow.trace.spansLocation', 'TRACKING_STORE'),"
        "     ('mlflow.artifactLocation',"
        "      e.artifact_location || '/traces/' || u.trace_id || '/artifacts'),"
        "     ('mlflow.traceName', b.nm)) AS k(key, value)"
        "   WHERE k.value IS NOT NULL"
        "   ON CONFLICT (trace_id, key) DO NOTHING),"
        " md AS (INSERT INTO trace_metadata (trace_id, key, value)"
        "   SELECT u.trace_id, 'mlflow.trace.session', b.se FROM u JOIN b ON b.id = u.trace_id"
        "   WHERE b.se IS NOT NULL ON CONFLICT (trace_id, key) DO NOTHING)"
        " SELECT e.lifecycle_stage, (SELECT count(*) FROM u),"
        "   (SELECT array_agg(trace_id ORDER BY trace_id COLLATE \"C\") FROM u),"
        "   (SELECT array_agg(trace_id ORDER BY trace_id COLLATE \"C\") FROM u WHERE fresh)"
        " FROM e",
        11, params, res);
    for (int i = 0; i < 9; i++)
        sbuf_cleanup(&a[i]);
    return rc;
}

static int write_spans(int64_t experiment_id, const struct trace_span *sp, size_t n)
{
    struct sbuf a[NCOLS];
    char exp[24];

    for (int i = 0; i < NCOLS; i++) {
        sbuf_init(&a[i]);
        sbuf_addc(&a[i], '{');
    }
    for (size_t i = 0; i < n; i++) {
        int f = i == 0;
        su_array_text(&a[C_TRACE], sp[i].trace_id, f);
        su_array_text(&a[C_SPAN], sp[i].span_id, f);
        arr_text(&a[C_PARENT], sp[i].parent_span_id, f);
        su_array_text(&a[C_NAME], sp[i].name, f);
        arr_text(&a[C_TYPE], sp[i].span_type, f);
        su_array_int64(&a[C_KIND], sp[i].kind, f);
        arr_text(&a[C_STATE], sp[i].trace_state, f);
        su_array_int64(&a[C_CODE], sp[i].status_code, f);
        arr_text(&a[C_MSG], sp[i].status_message, f);
        su_array_int64(&a[C_START], sp[i].start_ns, f);
        arr_i64(&a[C_END], sp[i].end_ns, 1, f);
        su_array_text(&a[C_ATTRS], sp[i].attributes, f);
        su_array_text(&a[C_EVENTS], sp[i].events, f);
        arr_i64(&a[C_IN], sp[i].input_tokens, 1, f);
        arr_i64(&a[C_OUT], sp[i].output_tokens, 1, f);
        arr_i64(&a[C_CACHE_READ], sp[i].cache_read_tokens, 1, f);
        arr_i64(&a[C_CACHE_CREATION], sp[i].cache_creation_tokens, 1, f);
    }
    for (int i = 0; i < NCOLS; i++)
        sbuf_addc(&a[i], '}');
    const char *params[NCOLS + 1];
    for (int i = 0; i < NCOLS; i++)
        params[i] = a[i].data;
    params[NCOLS] = su_i64(exp, experiment_id);
    int rc = db_exec(
        "INSERT INTO trace_spans AS s (trace_id, span_id, parent_span_id, experiment_id, name,"
        "   span_type, kind, trace_state, status_code, status_message, start_ns, end_ns,"
        "   attributes, events, input_tokens, output_tokens, cache_read_input_tokens,"
        "   cache_creation_input_tokens)"
        " SELECT t, sp, pa, $18::bigint, nm, ty, ki, ts, co, ms, st, en, at, ev, i, o, cr, cc"
        " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],"
        "   $6::smallint[], $7::text[], $8::smallint[], $9::text[], $10::bigint[],"
        "   $11::bigint[], $12::text[], $13::text[], $14::bigint[], $15::bigint[],"
        "   $16::bigint[], $17::bigint[])"
        "   AS u(t, sp, pa, nm, ty, ki, ts, co, ms, st, en, at, ev, i, o, cr, cc)"
        " ON CONFLICT (trace_id, span_id) DO UPDATE SET"
        "   parent_span_id = EXCLUDED.parent_span_id, name = EXCLUDED.name,"
        "   span_type = EXCLUDED.span_type, kind = EXCLUDED.kind,"
        "   trace_state = EXCLUDED.trace_state, status_code = EXCLUDED.status_code,"
        "   status_message = EXCLUDED.status_message, start_ns = EXCLUDED.start_ns,"
        "   end_ns = EXCLUDED.end_ns, attributes = EXCLUDED.attributes,"
        "   events = EXCLUDED.events, input_tokens = EXCLUDED.input_tokens,"
        "   output_tokens = EXCLUDED.output_tokens,"
        "   cache_read_input_tokens = EXCLUDED.cache_read_input_tokens,"
        "   cache_creation_input_tokens = EXCLUDED.cache_creation_input_tokens",
        NCOLS + 1, params, NULL);
    for (int i = 0; i < NCOLS; i++)
        sbuf_cleanup(&a[i]);
    return rc;
}

/* --- binary COPY of the spans of new traces -------------------------------- */

static const char copy_sql[] =
    "COPY trace_spans (trace_id, span_id, parent_span_id, experiment_id, name, span_type, kind,"
    " trace_state, status_code, status_message, start_ns, end_ns, attributes, events,"
    " input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens)"
    " FROM STDIN (FORMAT binary)";

static void put_be(struct sbuf *b, uint64_t v, int bytes)
{
    char out[8];
    for (int i = 0; i < bytes; i++)
        out[i] = (char)(v >> (8 * (bytes - 1 - i)));
    sbuf_add(b, out, (size_t)bytes);
}

/* A text field (NULL: SQL NULL). The text is UTF-8 without NUL (the
 * decoder's rule); the server checks the encoding again. */
static void put_text(struct sbuf *b, const char *s)
{
    if (s == NULL) {
        put_be(b, 0xffffffffu, 4);
        return;
    }
    size_t n = strlen(s);
    put_be(b, n, 4);
    sbuf_add(b, s, n);
}

static void put_i64(struct sbuf *b, int64_t v, int nullable)
{
    if (nullable && v < 0) {
        put_text(b, NULL);
        return;
    }
    put_be(b, 8, 4);
    put_be(b, (uint64_t)v, 8);
}

static void put_i16(struct sbuf *b, int v)
{
    put_be(b, 2, 4);
    put_be(b, (uint16_t)v, 2);
}

/* The COPY BINARY stream of spans[0..n): header, rows, trailer. */
static void copy_rows(struct sbuf *b, int64_t experiment_id, const struct trace_span *sp, size_t n)
{
    static const char signature[] = "PGCOPY\n\377\r\n";
    sbuf_add(b, signature, sizeof signature); /* 11 bytes with its NUL */
    put_be(b, 0, 4);                          /* flags */
    put_be(b, 0, 4);                          /* header extension length */
    for (size_t i = 0; i < n; i++) {
        put_be(b, 18, 2);
        put_text(b, sp[i].trace_id);
        put_text(b, sp[i].span_id);
        put_text(b, sp[i].parent_span_id);
        put_i64(b, experiment_id, 0);
        put_text(b, sp[i].name);
        put_text(b, sp[i].span_type);
        put_i16(b, sp[i].kind);
        put_text(b, sp[i].trace_state);
        put_i16(b, sp[i].status_code);
        put_text(b, sp[i].status_message);
        put_i64(b, sp[i].start_ns, 0);
        put_i64(b, sp[i].end_ns, 1);
        put_text(b, sp[i].attributes);
        put_text(b, sp[i].events);
        put_i64(b, sp[i].input_tokens, 1);
        put_i64(b, sp[i].output_tokens, 1);
        put_i64(b, sp[i].cache_read_tokens, 1);
        put_i64(b, sp[i].cache_creation_tokens, 1);
    }
    put_be(b, 0xffff, 2); /* trailer: -1 */
}

/* Writes spans[0..n), all of traces this transaction created, by binary
 * COPY on the transaction's connection. */
static int copy_spans(int64_t experiment_id, const struct trace_span *sp, size_t n)
{
    struct sbuf data;
    PGconn *conn = db_conn();
    if (conn == NULL)
        return DB_UNAVAILABLE;
    sbuf_init(&data);
    copy_rows(&data, experiment_id, sp, n);
    int rc = DB_OK;
    if (data.len > INT32_MAX) {
        rc = DB_ERROR;
        goto out;
    }
    PGresult *res = PQexec(conn, copy_sql);
    rc = db_result_status(conn, res, "COPY trace_spans");
    PQclear(res);
    if (rc != DB_OK)
        goto out;
    if (PQputCopyData(conn, data.data, (int)data.len) != 1 || PQputCopyEnd(conn, NULL) != 1) {
        rc = db_result_status(conn, NULL, "COPY trace_spans data");
        goto out;
    }
    while ((res = PQgetResult(conn)) != NULL) {
        int st = db_result_status(conn, res, "COPY trace_spans");
        if (rc == DB_OK)
            rc = st;
        PQclear(res);
    }
out:
    sbuf_cleanup(&data);
    return rc;
}

/* Token columns and mlflow.trace.tokenUsage from the stored spans of the
 * batch's traces (a re-sent span is counted once). The cache members
 * (cache_read_input_tokens, cache_creation_input_tokens) are in the usage
 * only when a span of the trace reported them, as the client sums them. */
static int roll_up_tokens(const struct span_trace *tr, size_t n)
{
    struct sbuf ids;
    sbuf_init(&ids);
    sbuf_addc(&ids, '{');
    for (size_t i = 0; i < n; i++)
        su_array_text(&ids, tr[i].trace_id, i == 0);
    sbuf_addc(&ids, '}');
    const char *params[] = {ids.data};
    int rc = db_exec(
        "WITH s AS (SELECT trace_id, sum(input_tokens) AS i, sum(output_tokens) AS o,"
        "   sum(cache_read_input_tokens) AS cr, sum(cache_creation_input_tokens) AS cc"
        "   FROM trace_spans WHERE trace_id = ANY($1::text[])"
        "   AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL"
        "     OR cache_read_input_tokens IS NOT NULL"
        "     OR cache_creation_input_tokens IS NOT NULL) GROUP BY trace_id),"
        " u AS (UPDATE traces t SET input_tokens = s.i, output_tokens = s.o,"
        "   total_tokens = coalesce(s.i, 0) + coalesce(s.o, 0)"
        "   FROM s WHERE t.trace_id = s.trace_id RETURNING t.trace_id, t.input_tokens,"
        "   t.output_tokens, t.total_tokens, s.cr, s.cc)"
        " INSERT INTO trace_metadata (trace_id, key, value)"
        " SELECT trace_id, 'mlflow.trace.tokenUsage', rtrim(json_build_object('input_tokens',"
        "   coalesce(input_tokens, 0), 'output_tokens', coalesce(output_tokens, 0),"
        "   'total_tokens', total_tokens)::text, '}')"
        "   || coalesce(', \"cache_read_input_tokens\" : ' || cr, '')"
        "   || coalesce(', \"cache_creation_input_tokens\" : ' || cc, '') || '}' FROM u"
        " ON CONFLICT (trace_id, key) DO UPDATE SET value = EXCLUDED.value",
        1, params, NULL);
    sbuf_cleanup(&ids);
    return rc;
}

/* Whether a span's attributes name mlflow.llm.cost (the test of the
 * partial index trace_spans_cost, schema 0023). */
static int has_cost(const struct trace_span *s)
{
    return s->attributes != NULL && strstr(s->attributes, "\"mlflow.llm.cost\"") != NULL;
}

/* Metadata mlflow.trace.cost ({"input_cost", "output_cost", "total_cost"},
 * mlflow-models-api.md 3.11) summed from the stored spans' mlflow.llm.cost
 * by trace_costs() (schema 0022), for the batch's traces that may hold a
 * cost: a trace the batch created only when one of its spans here names
 * one, any other trace always (a re-sent span may carry a new cost). A
 * trace whose spans hold no readable cost gets no entry. traces and spans
 * are sorted by trace id. */
static int roll_up_costs(const struct span_trace *tr, size_t n, const struct trace_span *spans,
                         size_t nspans)
{
    struct sbuf ids;
    size_t listed = 0;
    sbuf_init(&ids);
    sbuf_addc(&ids, '{');
    for (size_t i = 0, s = 0; i < n; i++) {
        int want = !tr[i].fresh;
        while (s < nspans && strcmp(spans[s].trace_id, tr[i].trace_id) < 0)
            s++;
        for (; s < nspans && strcmp(spans[s].trace_id, tr[i].trace_id) == 0; s++)
            want = want || has_cost(&spans[s]);
        if (want && !tr[i].foreign)
            su_array_text(&ids, tr[i].trace_id, listed++ == 0);
    }
    sbuf_addc(&ids, '}');
    int rc = DB_OK;
    if (listed > 0) {
        const char *params[] = {ids.data};
        rc = db_exec(
            "WITH c AS (SELECT s.trace_id, sum(c.input_cost) AS i, sum(c.output_cost) AS o,"
            "   sum(c.total_cost) AS t"
            "   FROM trace_spans s, trace_costs(s.attributes::jsonb -> 'mlflow.llm.cost') c"
            "   WHERE s.trace_id = ANY($1::text[])"
            "   AND strpos(s.attributes, '\"mlflow.llm.cost\"') > 0"
            "   GROUP BY s.trace_id HAVING count(c.total_cost) > 0)"
            " INSERT INTO trace_metadata (trace_id, key, value)"
            " SELECT trace_id, 'mlflow.trace.cost', json_build_object('input_cost',"
            "   coalesce(i, 0), 'output_cost', coalesce(o, 0), 'total_cost', t)::text FROM c"
            " ON CONFLICT (trace_id, key) DO UPDATE SET value = EXCLUDED.value",
            1, params, NULL);
    }
    sbuf_cleanup(&ids);
    return rc;
}

/* Sets flag(i) of each trace to whether its id is in list, a sorted array
 * literal of ids ("{a,b}"; NULL or "" for none); traces are sorted by id
 * too. Returns how many are in it. */
static size_t in_list(struct span_trace *traces, size_t ntraces, const char *list, int foreign)
{
    size_t found = 0;
    const char *p = list && list[0] == '{' ? list + 1 : "";
    for (size_t i = 0; i < ntraces; i++) {
        size_t len = strlen(traces[i].trace_id);
        int in = strncmp(p, traces[i].trace_id, len) == 0 && (p[len] == ',' || p[len] == '}');
        if (in) {
            p += len + (p[len] == ',');
            found++;
        }
        if (foreign)
            traces[i].foreign = !in;
        else
            traces[i].fresh = in;
    }
    return found;
}

/* The spans of the traces that are not foreign, split by whether their
 * trace is fresh: *fresh (nfresh) and *old (nold), malloc'ed. */
static void split_spans(const struct span_trace *traces, size_t ntraces,
                        const struct trace_span *spans, size_t nspans, struct trace_span **fresh,
                        size_t *nfresh, struct trace_span **old, size_t *nold)
{
    size_t t = 0;
    *nfresh = *nold = 0;
    *fresh = xmalloc((nspans + 1) * sizeof **fresh);
    *old = xmalloc((nspans + 1) * sizeof **old);
    for (size_t i = 0; i < nspans; i++) {
        while (t < ntraces && strcmp(traces[t].trace_id, spans[i].trace_id) < 0)
            t++;
        if (t >= ntraces || strcmp(traces[t].trace_id, spans[i].trace_id) != 0 || traces[t].foreign)
            continue;
        if (traces[t].fresh)
            (*fresh)[(*nfresh)++] = spans[i];
        else
            (*old)[(*nold)++] = spans[i];
    }
}

int store_spans_ingest(int64_t experiment_id, struct span_trace *traces, size_t ntraces,
                       const struct trace_span *spans, size_t nspans)
{
    PGresult *res = NULL;
    struct trace_span *fresh = NULL, *old = NULL;
    size_t nfresh = 0, nold = 0;
    int rc;

    if ((rc = db_begin()) != DB_OK)
        return rc;
    if ((rc = write_traces(experiment_id, traces, ntraces, &res)) != DB_OK)
        goto fail;
    if (PQntuples(res) == 0) {
        rc = DB_NOT_FOUND;
        goto fail;
    }
    if (!su_active(res, 0, 0)) {
        rc = DB_STATE;
        goto fail;
    }
    size_t taken = (size_t)su_int64(res, 0, 1);
    for (size_t i = 0; i < ntraces; i++)
        traces[i].foreign = traces[i].fresh = 0;
    if (taken == 0) {
        rc = DB_TRACE_OTHER_EXPERIMENT;
        goto fail;
    }
    if (taken != ntraces && in_list(traces, ntraces, PQgetvalue(res, 0, 2), 1) != taken) {
        rc = DB_ERROR; /* the statement and the batch disagree: store nothing */
        goto fail;
    }
    in_list(traces, ntraces, PQgetvalue(res, 0, 3), 0);
    split_spans(traces, ntraces, spans, nspans, &fresh, &nfresh, &old, &nold);
    if ((nfresh > 0 && (rc = copy_spans(experiment_id, fresh, nfresh)) != DB_OK) ||
        (nold > 0 && (rc = write_spans(experiment_id, old, nold)) != DB_OK) ||
        (rc = roll_up_tokens(traces, ntraces)) != DB_OK ||
        (rc = roll_up_costs(traces, ntraces, spans, nspans)) != DB_OK)
        goto fail;
    free(fresh);
    free(old);
    PQclear(res);
    return db_commit();
fail:
    free(fresh);
    free(old);
    PQclear(res);
    db_rollback();
    return rc;
}

int store_spans_replace(const char *trace_id, const struct trace_span *spans, size_t n,
                        int64_t *experiment_id)
{
    const char *params[] = {trace_id};
    struct span_trace one = {.trace_id = trace_id};
    PGresult *res = NULL;
    int rc;

    if ((rc = db_begin()) != DB_OK)
        return rc;
    rc = db_exec("SELECT experiment_id FROM traces WHERE trace_id = $1 FOR KEY SHARE", 1, params,
                 &res);
    if (rc != DB_OK)
        goto fail;
    if (PQntuples(res) == 0) {
        rc = DB_NOT_FOUND;
        goto fail;
    }
    int64_t exp = su_int64(res, 0, 0);
    if ((rc = db_exec("DELETE FROM trace_spans WHERE trace_id = $1", 1, params, NULL)) != DB_OK ||
        (n > 0 && (rc = write_spans(exp, spans, n)) != DB_OK) ||
        (rc = roll_up_tokens(&one, 1)) != DB_OK || (rc = roll_up_costs(&one, 1, spans, n)) != DB_OK)
        goto fail;
    *experiment_id = exp;
    PQclear(res);
    return db_commit();
fail:
    PQclear(res);
    db_rollback();
    return rc;
}
