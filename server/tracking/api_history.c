/* History across runs: MLflow's metrics/get-history-bulk-interval, and the
 * exptrack extensions GET /api/2.0/exptrack/metrics/history (downsampled,
 * several runs and keys) and GET /api/2.0/exptrack/experiments/keys; and
 * the streamed whole-series reply of metrics/get-history (api_history.h),
 * its numbers written by core/json_writer. Decode -> store -> encode; no SQL here. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_common.h"
#include "api_history.h"
#include "core/b64.h"
#include "common/json_writer.h"
#include "common/sbuf.h"
#include "store_history.h"
#include "store_search.h"
#include "core/validate.h"
#include "common/xalloc.h"

#define BULK_MAX_RUNS 100
#define BULK_MAX_STEPS 2500
#define BULK_MAX_PER_RUN 25000
#define HISTORY_MAX_KEYS 100
#define HISTORY_DEFAULT_POINTS 1000
#define HISTORY_MAX_POINTS 1000000
#define KEYS_MAX_EXPERIMENTS 100

/* Reads a repeated string parameter with 1..max values. */
static int read_list(const struct input *in, const char *field, size_t max, struct arena *arena,
                     const char ***out, size_t *n, struct reply *r)
{
    const json_t *arr;
    int rc = jx_array(in, field, &arr, r);
    if (rc == JX_BAD)
        return JX_BAD;
    *n = rc == JX_OK ? json_array_size(arr) : 0;
    if (*n == 0 || *n > max) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter '%s': give between 1 and %zu values", field, max);
        return JX_BAD;
    }
    *out = arena_alloc(arena, (*n + 1) * sizeof **out);
    for (size_t i = 0; i < *n; i++)
        if (jx_array_string(arr, i, field, &(*out)[i], r) != JX_OK)
            return JX_BAD;
    return JX_OK;
}

/* Refuses, with a 400, a run id that cannot exist (not 32 lowercase hex):
 * it would otherwise match nothing, silently. */
static int check_run_ids(const char **ids, size_t n, const char *field, struct reply *r)
{
    for (size_t i = 0; i < n; i++)
        if (!validate_is_run_id(ids[i])) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                        "Invalid value for parameter '%s': a run id is 32 lowercase hex "
                        "digits (item %zu)",
                        field, i);
            return JX_BAD;
        }
    return JX_OK;
}

static int read_step_range(const struct input *in, int *has, int64_t *start, int64_t *end,
                           struct reply *r)
{
    int a = jx_int64(in, "start_step", start, r), b;
    if (a == JX_BAD || (b = jx_int64(in, "end_step", end, r)) == JX_BAD)
        return JX_BAD;
    if (a != b) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameters 'start_step' and 'end_step': give both or "
                    "neither");
        return JX_BAD;
    }
    *has = a == JX_OK;
    if (*has && *start > *end) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter 'start_step': %lld is greater than end_step %lld",
                    (long long)*start, (long long)*end);
        return JX_BAD;
    }
    return JX_OK;
}

static int read_bounded(const struct input *in, const char *field, int64_t def, int64_t lo,
                        int64_t hi, int64_t *out, struct reply *r)
{
    int rc = jx_int64(in, field, out, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (rc == JX_ABSENT)
        *out = def;
    if (*out < lo || *out > hi) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value %lld for parameter '%s' supplied: it must be between %lld and "
                    "%lld",
                    (long long)*out, field, (long long)lo, (long long)hi);
        return JX_BAD;
    }
    return JX_OK;
}

void api_metrics_get_history_bulk_interval(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    const char **run_ids, *key;
    size_t nruns, nseries = 0;
    int64_t start = 0, end = 0, max_steps;
    int has_range;
    struct series *series;

    arena_init(&arena);
    if (read_list(&in, "run_ids", BULK_MAX_RUNS, &arena, &run_ids, &nruns, r) != JX_OK ||
        jx_required_string(&in, "metric_key", &key, r) != JX_OK ||
        read_step_range(&in, &has_range, &start, &end, r) != JX_OK ||
        read_bounded(&in, "max_results", BULK_MAX_STEPS, 1, BULK_MAX_STEPS, &max_steps, r) != JX_OK)
        goto out;
    if (check_run_ids(run_ids, nruns, "run_ids", r) != JX_OK)
        goto out;
    int rc = nruns == 0 ? DB_OK
                        : store_history_bulk_interval(run_ids, nruns, key, has_range, start, end,
                                                      max_steps, BULK_MAX_PER_RUN, &arena, &series,
                                                      &nseries);
    if (rc != DB_OK) {
        reply_store_error(r, rc, "metric history not found");
        goto out;
    }
    json_t *obj = json_object();
    if (nseries > 0) {
        json_t *list = json_array();
        for (size_t s = 0; s < nseries; s++) {
            for (size_t i = 0; i < series[s].n; i++) {
                json_t *m = api_metric_json(&series[s].points[i]);
                json_object_set_new(m, "run_id", json_string(run_ids[series[s].run_index]));
                json_array_append_new(list, m);
            }
        }
        json_object_set_new(obj, "metrics", list);
    }
    reply_json(r, obj);
out:
    arena_cleanup(&arena);
}

/* {"run_id", "key", "total_points", "steps", "timestamps", "values"}. */
static json_t *series_json(const struct series *s, const char *run_id, int64_t total)
{
    json_t *steps = json_array(), *stamps = json_array(), *values = json_array();
    for (size_t i = 0; i < s->n; i++) {
        json_array_append_new(steps, json_integer(s->points[i].step));
        json_array_append_new(stamps, json_integer(s->points[i].timestamp));
        json_array_append_new(values, jx_double_value(s->points[i].value));
    }
    return json_pack("{s:s, s:s, s:I, s:o, s:o, s:o}", "run_id", run_id, "key",
                     s->n ? s->points[0].key : "", "total_points", (json_int_t)total, "steps",
                     steps, "timestamps", stamps, "values", values);
}

void api_exptrack_metrics_history(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    const char **run_ids, **keys;
    size_t nruns, nkeys, nseries = 0;
    int64_t max_points, *totals = NULL;
    struct series *series;

    arena_init(&arena);
    if (read_list(&in, "run_id", BULK_MAX_RUNS, &arena, &run_ids, &nruns, r) != JX_OK ||
        read_list(&in, "metric_key", HISTORY_MAX_KEYS, &arena, &keys, &nkeys, r) != JX_OK ||
        read_bounded(&in, "max_points", HISTORY_DEFAULT_POINTS, 4, HISTORY_MAX_POINTS, &max_points,
                     r) != JX_OK)
        goto out;
    if (check_run_ids(run_ids, nruns, "run_id", r) != JX_OK)
        goto out;
    int rc = nruns == 0 ? DB_OK
                        : store_history_downsample(run_ids, nruns, keys, nkeys, max_points, &arena,
                                                   &series, &nseries, &totals);
    if (rc != DB_OK) {
        reply_store_error(r, rc, "metric history not found");
        goto out;
    }
    json_t *list = json_array();
    for (size_t s = 0; s < nseries; s++)
        json_array_append_new(list,
                              series_json(&series[s], run_ids[series[s].run_index], totals[s]));
    reply_json(r, json_pack("{s:o}", "series", list));
out:
    arena_cleanup(&arena);
}

static json_t *string_list(const char **items, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_string(items[i]));
    return arr;
}

void api_exptrack_experiment_keys(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    const char **ids_text, **metrics, **params, **tags;
    size_t nids, nm = 0, np = 0, nt = 0, n = 0;

    arena_init(&arena);
    if (read_list(&in, "experiment_id", KEYS_MAX_EXPERIMENTS, &arena, &ids_text, &nids, r) != JX_OK)
        goto out;
    int64_t *ids = arena_alloc(&arena, nids * sizeof *ids);
    for (size_t i = 0; i < nids; i++)
        if (ids_text[i][0] >= '0' && ids_text[i][0] <= '9' &&
            jx_parse_int64_text(ids_text[i], &ids[n]) == 0)
            n++;
    int rc = store_experiment_keys(ids, n, &arena, &metrics, &nm, &params, &np, &tags, &nt);
    if (rc != DB_OK) {
        reply_store_error(r, rc, "experiment not found");
        goto out;
    }
    reply_json(r, json_pack("{s:o, s:o, s:o}", "metrics", string_list(metrics, nm), "params",
                            string_list(params, np), "tags", string_list(tags, nt)));
out:
    arena_cleanup(&arena);
}
/* ---- get-history page tokens ---- */

/* A keyset page token: base64 of {"step":S,"timestamp":T,"value":"<the
 * 16 hex digits of the double's bits>"}, the last point of the page. Bits,
 * not a decimal, so NaN and every double come back exactly. */
static char *history_token_encode(const struct metric *last)
{
    char text[128];
    uint64_t bits;
    memcpy(&bits, &last->value, sizeof bits);
    int n = snprintf(text, sizeof text, "{\"step\":%lld,\"timestamp\":%lld,\"value\":\"%016llx\"}",
                     (long long)last->step, (long long)last->timestamp, (unsigned long long)bits);
    return b64_encode_new(text, (size_t)n);
}

/* 16 lowercase hex digits to their value; -1 when text is not that. */
static int parse_bits(const char *text, uint64_t *out)
{
    uint64_t v = 0;
    if (strlen(text) != 16)
        return -1;
    for (int i = 0; i < 16; i++) {
        char c = text[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return -1;
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    return 0;
}

int api_history_token_decode(const char *token, struct history_start *from)
{
    unsigned char raw[192];
    size_t len = strlen(token), n;
    uint64_t bits;
    int rc = -1;

    memset(from, 0, sizeof *from);
    if (input_page_token_decode(token, &from->offset) == 0)
        return 0; /* an offset token of an earlier version: still served */
    if (len > 200 || b64_decode(token, len, raw, sizeof raw, &n) < 0)
        return -1;
    json_t *obj = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
    json_t *step = json_object_get(obj, "step"), *ts = json_object_get(obj, "timestamp");
    json_t *value = json_object_get(obj, "value");
    if (json_is_object(obj) && json_object_size(obj) == 3 && json_is_integer(step) &&
        json_is_integer(ts) && json_is_string(value) &&
        parse_bits(json_string_value(value), &bits) == 0) {
        from->has_after = 1;
        from->step = json_integer_value(step);
        from->timestamp = json_integer_value(ts);
        memcpy(&from->value, &bits, sizeof bits);
        rc = 0;
    }
    json_decref(obj);
    return rc;
}

/* ---- get-history of a whole series, streamed ---- */

/* A streamed get-history reply: while one page is encoded the next is read
 * (store_history.h); the encoded text is sent in the pieces libmicrohttpd
 * asks for. Memory: two pages of points and one of text. A paged reply
 * (max_results) reads one point more than it shows: if it comes, the reply
 * ends with a token made of the last point shown. */
struct history_stream {
    struct history_cursor *cursor;
    int64_t max;        /* points to show at most (0: all) */
    int64_t shown;      /* points encoded so far */
    struct metric last; /* the last point encoded */
    int more;           /* a point past max was read: give a next_page_token */
    char *prefix;       /* ",{\"key\":<key as JSON>,\"value\":" */
    size_t prefix_len;
    char *out; /* encoded, not yet sent: out[sent..len) */
    size_t len, sent, cap;
    int first;  /* no point encoded yet (its prefix has no comma) */
    int done;   /* the closing "]}" is in out */
    int failed; /* a page read failed: cut the body after what is in out */
};

/* Longest text of one point after its prefix: value, two integers, names. */
#define POINT_MAX_TEXT 112

/* Appends the points of one page to out (grown once per page), no more
 * than the reply's max. */
static void encode_points(struct history_stream *h, const struct metric *pts, size_t n)
{
    if (h->max > 0 && (int64_t)n > h->max - h->shown) {
        n = (size_t)(h->max - h->shown);
        h->more = 1;
    }
    if (n > 0) {
        h->last = pts[n - 1];
        h->shown += (int64_t)n;
    }
    size_t need = h->len + n * (h->prefix_len + POINT_MAX_TEXT) + 16;
    if (need > h->cap) {
        h->cap = need;
        h->out = xrealloc(h->out, h->cap);
    }
    char *p = h->out + h->len;
    for (size_t i = 0; i < n; i++) {
        const char *pre = h->first ? h->prefix + 1 : h->prefix;
        size_t pre_len = h->first ? h->prefix_len - 1 : h->prefix_len;
        h->first = 0;
        memcpy(p, pre, pre_len);
        p += pre_len;
        p += jw_double_text(p, pts[i].value);
        memcpy(p, ",\"timestamp\":", 13);
        p += 13;
        p += jw_int64_text(p, pts[i].timestamp);
        memcpy(p, ",\"step\":", 8);
        p += 8;
        p += jw_int64_text(p, pts[i].step);
        *p++ = '}';
    }
    h->len = (size_t)(p - h->out);
}

/* Appends "],\"next_page_token\":\"...\"}" (when more) or "]}" to out. */
static void close_reply(struct history_stream *h)
{
    char *token = h->more ? history_token_encode(&h->last) : NULL;
    size_t tlen = token ? strlen(token) : 0;
    size_t need = h->len + tlen + 32;
    if (need > h->cap) {
        h->cap = need;
        h->out = xrealloc(h->out, h->cap);
    }
    if (token) {
        h->len += (size_t)sprintf(h->out + h->len, "],\"next_page_token\":\"%s\"}", token);
        free(token);
        return;
    }
    memcpy(h->out + h->len, "]}", 2);
    h->len += 2;
}

/* Encodes the next page while the one after it is read; at the end of the
 * series closes the JSON. */
static void encode_next_page(struct history_stream *h)
{
    const struct metric *pts;
    size_t n;
    store_history_next(h->cursor, &pts, &n);
    encode_points(h, pts, n);
    if (store_history_settle(h->cursor) != DB_OK) {
        h->failed = 1;
        return;
    }
    if (n == 0) {
        close_reply(h);
        h->done = 1;
    }
}

static void history_stream_free(void *state)
{
    struct history_stream *h = state;
    if (h == NULL)
        return;
    store_history_close(h->cursor);
    free(h->prefix);
    free(h->out);
    free(h);
}

static ssize_t history_stream_read(void *state, uint64_t pos, char *buf, size_t max)
{
    struct history_stream *h = state;

    (void)pos;
    while (h->sent == h->len) {
        if (h->done)
            return 0;
        if (h->failed)
            return -1; /* the client sees a cut body: a 200 cannot become an error now */
        h->len = h->sent = 0;
        encode_next_page(h);
    }
    size_t take = h->len - h->sent < max ? h->len - h->sent : max;
    memcpy(buf, h->out + h->sent, take);
    h->sent += take;
    return (ssize_t)take;
}

/* ",{"key":<key>,"value":" with the key escaped as a JSON string. */
static char *point_prefix(const char *key, size_t *len)
{
    struct sbuf b;
    sbuf_init(&b);
    sbuf_adds(&b, ",{\"key\":");
    jw_string(&b, key);
    sbuf_adds(&b, ",\"value\":");
    *len = b.len;
    return sbuf_take(&b);
}

void api_history_stream(const char *run_id, const char *key, const struct history_start *from,
                        int64_t max_results, struct reply *r)
{
    struct history_cursor *cursor = NULL;

    /* one point past a page tells whether another page exists */
    int rc = store_history_open(run_id, key, from, max_results > 0 ? max_results + 1 : 0, &cursor);
    if (rc == DB_NOT_FOUND) {
        reply_json(r, json_object()); /* MLflow's answer for an unknown run or key */
        return;
    }
    if (rc != DB_OK) {
        reply_store_error(r, rc, "metric history not found");
        return;
    }
    struct history_stream *h = xcalloc(1, sizeof *h);
    h->cursor = cursor;
    h->max = max_results > 0 ? max_results : 0;
    h->first = 1;
    h->prefix = point_prefix(key, &h->prefix_len);
    h->cap = 64;
    h->out = xmalloc(h->cap);
    memcpy(h->out, "{\"metrics\":[", 12);
    h->len = 12;
    encode_next_page(h);
    if (h->failed || (h->done && h->first)) { /* an error, or no point at all */
        rc = store_history_settle(cursor);
        history_stream_free(h);
        if (rc != DB_OK)
            reply_store_error(r, rc, "metric history not found");
        else
            reply_json(r, json_object());
        return;
    }
    /* The rest of the series is read in libmicrohttpd's callbacks, after
     * this handler returned, on this thread's database connection, and the
     * same thread serves its other connections between those callbacks. It
     * cannot collide with them: a libmicrohttpd worker runs its
     * connections' handlers and reply callbacks one at a time, and each
     * callback that reads (encode_next_page) collects the page it sent
     * before it returns, so between callbacks the connection has no
     * statement in flight and no transaction open (a page is one implicit
     * transaction, ended by its own sync). Pages after the first go to the
     * primary even when the handler's read was routed to a replica (the
     * routing ends with the handler); the primary has every point the
     * replica had. tests/api/history_threads.test.mjs holds a reply
     * mid-way on a one-thread server while other requests run. */
    reply_stream(r, "application/json", -1, history_stream_read, history_stream_free, h);
}
