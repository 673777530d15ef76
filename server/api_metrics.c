/* Metric history reads. A whole series (no max_results, no page token) is
 * streamed as it is read, page by page on the primary key, encoded by hand:
 * memory stays constant however long the series is. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_common.h"
#include "sbuf.h"
#include "store_metrics.h"
#include "validate.h"
#include "xalloc.h"

#define HISTORY_MAX_RESULTS 1000000
#define HISTORY_PAGE 8192 /* points per database round trip while streaming */

/* A streamed get-history reply: the next page is read when the last one
 * has been sent. */
struct history_stream {
    struct metric_series series;
    char *key_json; /* the key as a JSON string, quotes included */
    struct metric *page;
    struct metric last;
    struct sbuf out; /* encoded, not yet sent */
    size_t sent;     /* bytes of out already sent */
    int done;        /* the closing "]}" is in out */
    int first;       /* no point encoded yet */
};

/* Appends a double as jansson would write it (a real; NaN and infinities as
 * the contract's strings), in the fewest digits that read back exactly. */
static void add_double(struct sbuf *b, double v)
{
    char num[40];
    if (isnan(v)) {
        sbuf_add(b, "\"NaN\"", 5);
        return;
    }
    if (isinf(v)) {
        sbuf_adds(b, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        return;
    }
    int n = snprintf(num, sizeof num, "%.15g", v);
    if (strtod(num, NULL) != v)
        n = snprintf(num, sizeof num, "%.17g", v);
    sbuf_add(b, num, (size_t)n);
    if (strpbrk(num, ".eEn") == NULL)
        sbuf_add(b, ".0", 2);
}

static void encode_page(struct history_stream *h, size_t n)
{
    char tail[64];
    for (size_t i = 0; i < n; i++) {
        const struct metric *m = &h->page[i];
        sbuf_adds(&h->out, h->first ? "{\"key\":" : ",{\"key\":");
        h->first = 0;
        sbuf_adds(&h->out, h->key_json);
        sbuf_add(&h->out, ",\"value\":", 9);
        add_double(&h->out, m->value);
        int len = snprintf(tail, sizeof tail, ",\"timestamp\":%lld,\"step\":%lld}",
                           (long long)m->timestamp, (long long)m->step);
        sbuf_add(&h->out, tail, (size_t)len);
    }
    if (n > 0)
        h->last = h->page[n - 1];
    if (n < HISTORY_PAGE) {
        sbuf_add(&h->out, "]}", 2);
        h->done = 1;
    }
}

static void history_free(void *state)
{
    struct history_stream *h = state;
    if (h == NULL)
        return;
    free(h->key_json);
    free(h->page);
    sbuf_cleanup(&h->out);
    free(h);
}

static ssize_t history_read(void *state, uint64_t pos, char *buf, size_t max)
{
    struct history_stream *h = state;
    size_t n;

    (void)pos;
    while (h->sent == h->out.len) {
        if (h->done)
            return 0;
        sbuf_reset(&h->out);
        h->sent = 0;
        if (store_metric_series_page(&h->series, &h->last, HISTORY_PAGE, h->page, &n) != DB_OK)
            return -1; /* the client sees a cut body: a 200 cannot become an error now */
        encode_page(h, n);
    }
    size_t take = h->out.len - h->sent < max ? h->out.len - h->sent : max;
    memcpy(buf, h->out.data + h->sent, take);
    h->sent += take;
    return (ssize_t)take;
}

/* Answers a whole series: {} when it is empty (MLflow's reply), else a
 * stream that holds one page in memory at a time. */
static void stream_history(const char *run_id, const char *key, struct reply *r)
{
    struct metric_series series;
    size_t n = 0;

    int rc = store_metric_series(run_id, key, &series);
    if (rc == DB_NOT_FOUND) {
        reply_json(r, json_object());
        return;
    }
    if (rc != DB_OK) {
        api_store_error(r, rc, "metric history not found");
        return;
    }
    struct history_stream *h = xcalloc(1, sizeof *h);
    h->series = series;
    h->page = xmalloc(HISTORY_PAGE * sizeof *h->page);
    h->first = 1;
    sbuf_init(&h->out);
    rc = store_metric_series_page(&series, NULL, HISTORY_PAGE, h->page, &n);
    if (rc != DB_OK || n == 0) {
        history_free(h);
        if (rc != DB_OK)
            api_store_error(r, rc, "metric history not found");
        else
            reply_json(r, json_object());
        return;
    }
    json_t *k = json_string(key);
    h->key_json = k != NULL ? json_dumps(k, JSON_ENCODE_ANY) : NULL;
    json_decref(k);
    if (h->key_json == NULL)
        h->key_json = xstrdup("\"\"");
    sbuf_add(&h->out, "{\"metrics\":[", 12);
    encode_page(h, n);
    reply_stream(r, 200, "application/json", -1, history_read, history_free, h);
}

void api_metrics_get_history(const struct request *req, struct reply *r)
{
    struct input in = api_input(req);
    struct arena arena;
    struct metric *points;
    size_t n = 0;
    const char *run_id, *key, *token;
    int64_t max_results = 0, offset = 0;

    if (api_run_id(&in, &run_id, r) != JX_OK)
        return;
    if (jx_required_string(&in, "metric_key", &key, r) != JX_OK)
        return;
    int rc = jx_int64(&in, "max_results", &max_results, r);
    if (rc == JX_BAD)
        return;
    if (max_results < 0 || max_results > HISTORY_MAX_RESULTS) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value %lld for parameter 'max_results' supplied: it must be between "
                    "0 (all points) and %d",
                    (long long)max_results, HISTORY_MAX_RESULTS);
        return;
    }
    rc = jx_string(&in, "page_token", &token, r);
    if (rc == JX_BAD)
        return;
    if (rc == JX_OK && token[0] && api_page_token_decode(token, &offset) < 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid page token for parameter 'page_token': it was not made by this "
                    "server");
        return;
    }
    /* Unknown runs have no history: {} as in MLflow, never a 404. */
    if (!validate_is_run_id(run_id)) {
        reply_json(r, json_object());
        return;
    }
    if (max_results == 0 && offset == 0) {
        stream_history(run_id, key, r);
        return;
    }
    arena_init(&arena);
    /* absent or 0: every point (MLflow 2.x behaviour); else a page plus one
     * row to tell whether another page exists */
    rc = store_metric_history(run_id, key, offset, max_results ? max_results + 1 : -1, &arena,
                              &points, &n);
    if (rc != DB_OK) {
        api_store_error(r, rc, "metric history not found");
        goto out;
    }
    json_t *obj = json_object();
    size_t shown = max_results && n > (size_t)max_results ? (size_t)max_results : n;
    if (shown > 0) {
        json_t *list = json_array();
        for (size_t i = 0; i < shown; i++)
            json_array_append_new(list, api_metric_json(&points[i]));
        json_object_set_new(obj, "metrics", list);
    }
    if (shown < n) {
        char *next = api_page_token_encode(offset + max_results);
        json_object_set_new(obj, "next_page_token", json_string(next));
        free(next);
    }
    reply_json(r, obj);
out:
    arena_cleanup(&arena);
}
