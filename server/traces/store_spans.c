/* Spans: the batch ingest of POST /v1/traces (and traces.json) and the
 * read of one trace's spans. One transaction per batch; the spans go in
 * one multi-row statement over unnest()ed arrays. Attributes and events
 * are stored as the JSON text the caller made (schema 0023: text, not
 * jsonb), so neither the write nor the read converts them. */
#include "store_traces.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
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
        "   RETURNING t.trace_id),"
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
        "   (SELECT array_agg(trace_id ORDER BY trace_id COLLATE \"C\") FROM u) FROM e",
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
        "   attributes, events, input_tokens, output_tokens)"
        " SELECT t, sp, pa, $16::bigint, nm, ty, ki, ts, co, ms, st, en, at, ev, i, o"
        " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],"
        "   $6::smallint[], $7::text[], $8::smallint[], $9::text[], $10::bigint[],"
        "   $11::bigint[], $12::text[], $13::text[], $14::bigint[], $15::bigint[])"
        "   AS u(t, sp, pa, nm, ty, ki, ts, co, ms, st, en, at, ev, i, o)"
        " ON CONFLICT (trace_id, span_id) DO UPDATE SET"
        "   parent_span_id = EXCLUDED.parent_span_id, name = EXCLUDED.name,"
        "   span_type = EXCLUDED.span_type, kind = EXCLUDED.kind,"
        "   trace_state = EXCLUDED.trace_state, status_code = EXCLUDED.status_code,"
        "   status_message = EXCLUDED.status_message, start_ns = EXCLUDED.start_ns,"
        "   end_ns = EXCLUDED.end_ns, attributes = EXCLUDED.attributes,"
        "   events = EXCLUDED.events, input_tokens = EXCLUDED.input_tokens,"
        "   output_tokens = EXCLUDED.output_tokens",
        NCOLS + 1, params, NULL);
    for (int i = 0; i < NCOLS; i++)
        sbuf_cleanup(&a[i]);
    return rc;
}

/* Token columns and mlflow.trace.tokenUsage from the stored spans of the
 * batch's traces (a re-sent span is counted once). */
static int roll_up_tokens(const struct span_trace *tr, size_t n)
{
    struct sbuf ids;
    sbuf_init(&ids);
    sbuf_addc(&ids, '{');
    for (size_t i = 0; i < n; i++)
        su_array_text(&ids, tr[i].trace_id, i == 0);
    sbuf_addc(&ids, '}');
    const char *params[] = {ids.data};
    int rc =
        db_exec("WITH s AS (SELECT trace_id, sum(input_tokens) AS i, sum(output_tokens) AS o"
                "   FROM trace_spans WHERE trace_id = ANY($1::text[])"
                "   AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL) GROUP BY trace_id),"
                " u AS (UPDATE traces t SET input_tokens = s.i, output_tokens = s.o,"
                "   total_tokens = coalesce(s.i, 0) + coalesce(s.o, 0)"
                "   FROM s WHERE t.trace_id = s.trace_id RETURNING t.trace_id, t.input_tokens,"
                "   t.output_tokens, t.total_tokens)"
                " INSERT INTO trace_metadata (trace_id, key, value)"
                " SELECT trace_id, 'mlflow.trace.tokenUsage', json_build_object('input_tokens',"
                "   coalesce(input_tokens, 0), 'output_tokens', coalesce(output_tokens, 0),"
                "   'total_tokens', total_tokens)::text FROM u"
                " ON CONFLICT (trace_id, key) DO UPDATE SET value = EXCLUDED.value",
                1, params, NULL);
    sbuf_cleanup(&ids);
    return rc;
}

/* Marks the traces the statement did not take (stored in another
 * experiment): accepted holds the taken ids as a sorted array literal
 * ("{a,b}"), traces are sorted by id too. Returns how many were marked. */
static size_t mark_foreign(struct span_trace *traces, size_t ntraces, const char *accepted)
{
    size_t marked = 0;
    const char *p = accepted && accepted[0] == '{' ? accepted + 1 : "";
    for (size_t i = 0; i < ntraces; i++) {
        size_t len = strlen(traces[i].trace_id);
        traces[i].foreign =
            !(strncmp(p, traces[i].trace_id, len) == 0 && (p[len] == ',' || p[len] == '}'));
        if (traces[i].foreign)
            marked++;
        else
            p += len + (p[len] == ',');
    }
    return marked;
}

/* The spans whose trace is not foreign, copied into *kept (malloc). */
static size_t own_spans(const struct span_trace *traces, size_t ntraces,
                        const struct trace_span *spans, size_t nspans, struct trace_span **kept)
{
    size_t n = 0, t = 0;
    *kept = xmalloc((nspans + 1) * sizeof **kept);
    for (size_t i = 0; i < nspans; i++) {
        while (t < ntraces && strcmp(traces[t].trace_id, spans[i].trace_id) < 0)
            t++;
        if (t < ntraces && strcmp(traces[t].trace_id, spans[i].trace_id) == 0 && !traces[t].foreign)
            (*kept)[n++] = spans[i];
    }
    return n;
}

int store_spans_ingest(int64_t experiment_id, struct span_trace *traces, size_t ntraces,
                       const struct trace_span *spans, size_t nspans)
{
    PGresult *res = NULL;
    struct trace_span *kept = NULL;
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
    size_t taken = (size_t)su_int64(res, 0, 1), n = nspans;
    for (size_t i = 0; i < ntraces; i++)
        traces[i].foreign = 0;
    if (taken == 0) {
        rc = DB_TRACE_OTHER_EXPERIMENT;
        goto fail;
    }
    if (taken != ntraces) {
        if (mark_foreign(traces, ntraces, PQgetvalue(res, 0, 2)) != ntraces - taken) {
            rc = DB_ERROR; /* the statement and the batch disagree: store nothing */
            goto fail;
        }
        n = own_spans(traces, ntraces, spans, nspans, &kept);
    }
    if ((rc = write_spans(experiment_id, kept ? kept : spans, n)) != DB_OK ||
        (rc = roll_up_tokens(traces, ntraces)) != DB_OK)
        goto fail;
    free(kept);
    PQclear(res);
    return db_commit();
fail:
    free(kept);
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
        (rc = roll_up_tokens(&one, 1)) != DB_OK)
        goto fail;
    *experiment_id = exp;
    PQclear(res);
    return db_commit();
fail:
    PQclear(res);
    db_rollback();
    return rc;
}
