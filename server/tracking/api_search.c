/* runs/search and experiments/search: decode the request, parse filter and
 * order_by (server/search/), call the store, encode runs and page tokens.
 * Run search pages by keyset: the token holds the last row's sort values,
 * so it stays valid while runs are added. No SQL here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_common.h"
#include "auth/auth.h"
#include "core/b64.h"
#include "core/hash.h"
#include "common/json_writer.h"
#include "common/sbuf.h"
#include "search/search.h"
#include "store_search.h"
#include "core/validate.h"
#include "common/xalloc.h"

#define SEARCH_RUNS_DEFAULT 1000
#define SEARCH_RUNS_MAX 50000
#define SEARCH_RUNS_MAX_EXPERIMENTS 1000
#define SEARCH_EXPERIMENTS_MAX 50000
#define SEARCH_EXPERIMENTS_DEFAULT 1000
#define MAX_SELECTED_KEYS 10000
#define ECHO_MAX_CHARS 200 /* of a bad filter or order_by quoted back in the error */
#define MAX_TOKEN_BYTES 65536
#define TOKEN_VERSION 1

/* Parses the filter; on failure replies 400 naming the position. */
static int read_filter(const struct input *in, enum search_dialect dialect, struct arena *arena,
                       struct search_node **out, const char **text, struct reply *r)
{
    struct search_error err;

    *text = "";
    if (jx_string(in, "filter", text, r) == JX_BAD)
        return JX_BAD;
    if (search_parse_filter(dialect, *text, strlen(*text), arena, out, &err) < 0) {
        /* echo at most ECHO_MAX_CHARS, cut on a character boundary */
        size_t cut = validate_utf8_prefix(*text, ECHO_MAX_CHARS);
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "Invalid filter '%.*s%s': %s", (int)cut, *text,
                    (*text)[cut] ? "..." : "", err.message);
        return JX_BAD;
    }
    return JX_OK;
}

/* Parses order_by entries; refuses duplicates and too many keys. */
static int read_order(const struct input *in, enum search_dialect dialect, struct arena *arena,
                      struct search_order **out, size_t *n, struct reply *r)
{
    const json_t *arr;
    struct search_error err;

    *out = NULL;
    *n = 0;
    int rc = jx_array(in, "order_by", &arr, r);
    if (rc != JX_OK)
        return rc == JX_BAD ? JX_BAD : JX_OK;
    size_t count = json_array_size(arr);
    if (count > SEARCH_MAX_ORDER_KEYS) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter 'order_by': at most %d keys",
                    SEARCH_MAX_ORDER_KEYS);
        return JX_BAD;
    }
    *out = arena_alloc(arena, (count + 1) * sizeof **out);
    for (size_t i = 0; i < count; i++) {
        const char *s;
        if (jx_array_string(arr, i, "order_by", &s, r) != JX_OK)
            return JX_BAD;
        if (search_parse_order(dialect, s, strlen(s), arena, &(*out)[*n], &err) < 0) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE, "Invalid order_by entry '%.*s': %s",
                        (int)validate_utf8_prefix(s, ECHO_MAX_CHARS), s, err.message);
            return JX_BAD;
        }
        for (size_t j = 0; j < *n; j++) {
            if (search_order_same(&(*out)[j], &(*out)[*n])) {
                reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                            "Invalid order_by: '%.*s' orders by a field already named",
                            (int)validate_utf8_prefix(s, ECHO_MAX_CHARS), s);
                return JX_BAD;
            }
        }
        (*n)++;
    }
    return JX_OK;
}

/* Reads experiment_ids; ids that are not numbers cannot match any run and
 * are left out (the contract: unknown ids simply match nothing). */
static int read_experiment_ids(const struct input *in, struct arena *arena, int64_t **ids,
                               size_t *n, struct reply *r)
{
    const json_t *arr;

    *ids = NULL;
    *n = 0;
    int rc = jx_array(in, "experiment_ids", &arr, r);
    if (rc != JX_OK)
        return rc == JX_BAD ? JX_BAD : JX_OK;
    if (json_array_size(arr) > SEARCH_RUNS_MAX_EXPERIMENTS) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter 'experiment_ids': at most %d experiments",
                    SEARCH_RUNS_MAX_EXPERIMENTS);
        return JX_BAD;
    }
    *ids = arena_alloc(arena, (json_array_size(arr) + 1) * sizeof **ids);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *v = json_array_get(arr, i);
        if (json_is_integer(v)) {
            if (json_integer_value(v) >= 0)
                (*ids)[(*n)++] = json_integer_value(v);
            continue;
        }
        const char *s;
        if (jx_array_string(arr, i, "experiment_ids", &s, r) != JX_OK)
            return JX_BAD;
        int64_t id;
        if (s[0] >= '0' && s[0] <= '9' && jx_parse_int64_text(s, &id) == 0)
            (*ids)[(*n)++] = id;
    }
    return JX_OK;
}

/* Reads one optional key list of the select extension (NULL list = all). */
static int read_key_list(const struct input *in, const char *field, struct arena *arena,
                         const char *const **keys, size_t *n, int *all, struct reply *r)
{
    const json_t *arr;
    *keys = NULL;
    *n = 0;
    *all = 1;
    int rc = jx_array(in, field, &arr, r);
    if (rc != JX_OK)
        return rc == JX_BAD ? JX_BAD : JX_OK;
    if (json_array_size(arr) > MAX_SELECTED_KEYS) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter '%s': at most %d keys", field, MAX_SELECTED_KEYS);
        return JX_BAD;
    }
    const char **list = arena_alloc(arena, (json_array_size(arr) + 1) * sizeof *list);
    for (size_t i = 0; i < json_array_size(arr); i++)
        if (jx_array_string(arr, i, field, &list[i], r) != JX_OK)
            return JX_BAD;
    *keys = list;
    *n = json_array_size(arr);
    *all = 0;
    return JX_OK;
}

/* exptrack extension: metric_keys / param_keys / tag_keys limit run.data. */
static int read_select(const struct input *in, struct arena *arena, struct key_select *s,
                       const struct key_select **out, struct reply *r)
{
    memset(s, 0, sizeof *s);
    if (read_key_list(in, "metric_keys", arena, &s->metrics, &s->nmetrics, &s->all_metrics, r) !=
            JX_OK ||
        read_key_list(in, "param_keys", arena, &s->params, &s->nparams, &s->all_params, r) !=
            JX_OK ||
        read_key_list(in, "tag_keys", arena, &s->tags, &s->ntags, &s->all_tags, r) != JX_OK)
        return JX_BAD;
    *out = s->all_metrics && s->all_params && s->all_tags ? NULL : s;
    return JX_OK;
}

/* The fingerprint's seed since the first token format: FNV's offset basis
 * with its last digit lost. Kept, not fixed, so that tokens handed out by a
 * running server stay valid across an upgrade; any seed does the job. */
#define FINGERPRINT_SEED 1469598103934665603ULL

/* FNV-1a of the query parts a cursor depends on, so a token is refused
 * when replayed against another ordering or filter. */
static uint64_t query_fingerprint(const char *filter, const struct input *in)
{
    uint64_t h = FINGERPRINT_SEED;
    const json_t *arr = json_object_get(in->obj, "order_by");
    char *order = arr ? json_dumps(arr, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    const char *parts[] = {filter, "\x1f", order ? order : ""};
    for (size_t i = 0; i < 3; i++)
        h = hash_fnv1a_add_str(h, parts[i]);
    free(order);
    return h;
}

static char *cursor_token(const struct search_cursor *c, uint64_t fp)
{
    char fp_text[24];
    json_t *keys = json_array();
    for (size_t i = 0; i < c->n; i++)
        json_array_append_new(
            keys,
            json_pack("[i,o]", c->klass[i], c->value[i] ? json_string(c->value[i]) : json_null()));
    snprintf(fp_text, sizeof fp_text, "%016llx", (unsigned long long)fp);
    json_t *obj = json_pack("{s:i, s:s, s:o}", "v", TOKEN_VERSION, "q", fp_text, "k", keys);
    char *text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    char *out = b64_encode_new(text, strlen(text));
    free(text);
    return out;
}

/* Fills *c from the "k" array of a decoded token. */
static int cursor_keys(const json_t *keys, struct arena *arena, struct search_cursor *c)
{
    c->n = json_array_size(keys);
    c->klass = arena_alloc(arena, (c->n + 1) * sizeof *c->klass);
    c->value = arena_alloc(arena, (c->n + 1) * sizeof *c->value);
    for (size_t i = 0; i < c->n; i++) {
        const json_t *pair = json_array_get(keys, i);
        const json_t *k = json_array_get(pair, 0), *v = json_array_get(pair, 1);
        if (!json_is_array(pair) || json_array_size(pair) != 2 || !json_is_integer(k) ||
            !(json_is_string(v) || json_is_null(v)))
            return -1;
        c->klass[i] = (int)json_integer_value(k);
        c->value[i] = json_is_string(v) ? arena_strdup(arena, json_string_value(v)) : NULL;
    }
    return 0;
}

static int cursor_decode(const char *token, uint64_t fp, struct arena *arena,
                         struct search_cursor *c)
{
    size_t len = strlen(token), n;
    char fp_text[24];
    int rc = -1;

    if (len == 0 || len > MAX_TOKEN_BYTES)
        return -1;
    unsigned char *raw = xmalloc(len);
    int ok = b64_decode(token, len, raw, len, &n) == 0 && n > 0;
    json_t *obj = ok ? json_loadb((const char *)raw, n, 0, NULL) : NULL;
    free(raw);
    const json_t *keys = json_object_get(obj, "k");
    const char *q = json_string_value(json_object_get(obj, "q"));
    snprintf(fp_text, sizeof fp_text, "%016llx", (unsigned long long)fp);
    if (json_integer_value(json_object_get(obj, "v")) == TOKEN_VERSION && q != NULL &&
        strcmp(q, fp_text) == 0 && json_is_array(keys))
        rc = cursor_keys(keys, arena, c);
    json_decref(obj);
    return rc;
}

static void bad_token(struct reply *r)
{
    reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                "Invalid page token for parameter 'page_token': it was not made by this server "
                "for this filter and order_by");
}

/* Reads max_results and page_token of runs/search. */
static int read_run_paging(const struct input *in, const char *filter, struct arena *arena,
                           struct run_search *q, struct search_cursor *after, struct reply *r)
{
    const char *token;
    int rc = jx_int64(in, "max_results", &q->limit, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (rc == JX_ABSENT)
        q->limit = SEARCH_RUNS_DEFAULT;
    if (q->limit < 1 || q->limit > SEARCH_RUNS_MAX) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value %lld for parameter 'max_results' supplied: it must be at "
                    "least 1 and at most %d",
                    (long long)q->limit, SEARCH_RUNS_MAX);
        return JX_BAD;
    }
    rc = jx_string(in, "page_token", &token, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (rc == JX_OK && token[0] != '\0') {
        if (cursor_decode(token, query_fingerprint(filter, in), arena, after) < 0 ||
            after->n != store_run_search_nkeys(q->order, q->norder)) {
            bad_token(r);
            return JX_BAD;
        }
        q->after = after;
    }
    return JX_OK;
}

/* ---- the runs page, encoded straight into text ----
 * A page of 100 runs of 20 metrics and 20 params is ~4,000 JSON objects;
 * building them as jansson trees and printing every double again cost more
 * than the whole query. The page is written directly, in the shape and
 * order api_run_json() gives a run, with metric values copied from
 * PostgreSQL's shortest exact text (core/json_writer escapes and numbers). */

/* Appends "key":<string>; first 0 adds the comma before it. */
static void add_field(struct sbuf *b, const char *key, const char *value, int first)
{
    if (!first)
        sbuf_addc(b, ',');
    jw_string(b, key);
    sbuf_addc(b, ':');
    jw_string(b, value);
}

/* Appends ,"key":<v>; key needs no escaping. */
static void add_int_field(struct sbuf *b, const char *key, int64_t v)
{
    sbuf_add(b, ",\"", 2);
    sbuf_adds(b, key);
    sbuf_add(b, "\":", 2);
    jw_int64(b, v);
}

static void add_kv_list(struct sbuf *b, const char *name, const struct kv *kv, size_t n, int first)
{
    if (!first)
        sbuf_addc(b, ',');
    jw_string(b, name);
    sbuf_add(b, ":[", 2);
    for (size_t i = 0; i < n; i++) { /* the keys' names need no escaping */
        sbuf_adds(b, i ? ",{\"key\":" : "{\"key\":");
        jw_string(b, kv[i].key);
        sbuf_adds(b, ",\"value\":");
        jw_string(b, kv[i].value);
        sbuf_addc(b, '}');
    }
    sbuf_addc(b, ']');
}

static void add_info(struct sbuf *b, const struct run_info *info)
{
    char exp[24];
    snprintf(exp, sizeof exp, "%lld", (long long)info->experiment_id);
    sbuf_adds(b, "\"info\":{");
    add_field(b, "run_uuid", info->run_id, 1);
    add_field(b, "run_id", info->run_id, 0);
    add_field(b, "experiment_id", exp, 0);
    add_field(b, "run_name", info->name, 0);
    add_field(b, "user_id", info->user_id, 0);
    add_field(b, "status", api_run_status_names[info->status - 1], 0);
    add_int_field(b, "start_time", info->start_time);
    if (info->has_end_time && info->end_time != 0)
        add_int_field(b, "end_time", info->end_time);
    if (info->artifact_uri && info->artifact_uri[0])
        add_field(b, "artifact_uri", info->artifact_uri, 0);
    add_field(b, "lifecycle_stage", store_lifecycle_name(info->deleted), 0);
    sbuf_addc(b, '}');
}

static void add_metrics(struct sbuf *b, const struct metric *m, size_t n)
{
    sbuf_adds(b, "\"metrics\":[");
    for (size_t i = 0; i < n; i++) {
        sbuf_adds(b, i ? ",{\"key\":" : "{\"key\":");
        jw_string(b, m[i].key);
        sbuf_adds(b, ",\"value\":");
        jw_double(b, m[i].value);
        sbuf_adds(b, ",\"timestamp\":");
        jw_int64(b, m[i].timestamp);
        sbuf_adds(b, ",\"step\":");
        jw_int64(b, m[i].step);
        sbuf_addc(b, '}');
    }
    sbuf_addc(b, ']');
}

/* "key":[{"model_id"[, "step"]}] of a run's logged-model links. */
static void add_model_links(struct sbuf *b, const char *key, const struct model_link *l, size_t n,
                            int with_step)
{
    sbuf_addf(b, "\"%s\":[", key);
    for (size_t i = 0; i < n; i++) {
        sbuf_add(b, i ? ",{" : "{", i ? 2 : 1);
        add_field(b, "model_id", l[i].model_id, 1);
        if (with_step)
            sbuf_addf(b, ",\"step\":%lld", (long long)l[i].step);
        sbuf_addc(b, '}');
    }
    sbuf_addc(b, ']');
}

static void add_inputs(struct sbuf *b, const struct search_run *run)
{
    const struct dataset_input *in = run->inputs;
    size_t n = run->ninputs;
    sbuf_adds(b, "\"inputs\":{");
    if (run->nmodel_inputs) {
        add_model_links(b, "model_inputs", run->model_inputs, run->nmodel_inputs, 0);
        if (n > 0)
            sbuf_addc(b, ',');
    }
    if (n > 0) {
        sbuf_adds(b, "\"dataset_inputs\":[");
        for (size_t i = 0; i < n; i++) {
            const struct dataset *d = &in[i].dataset;
            sbuf_add(b, i ? ",{" : "{", i ? 2 : 1);
            if (in[i].ntags) {
                add_kv_list(b, "tags", in[i].tags, in[i].ntags, 1);
                sbuf_addc(b, ',');
            }
            sbuf_adds(b, "\"dataset\":{");
            add_field(b, "name", d->name, 1);
            add_field(b, "digest", d->digest, 0);
            add_field(b, "source_type", d->source_type, 0);
            add_field(b, "source", d->source, 0);
            if (d->schema)
                add_field(b, "schema", d->schema, 0);
            if (d->profile)
                add_field(b, "profile", d->profile, 0);
            sbuf_adds(b, "}}");
        }
        sbuf_addc(b, ']');
    }
    sbuf_addc(b, '}');
}

static void add_run(struct sbuf *b, const struct search_run *run)
{
    sbuf_addc(b, '{');
    add_info(b, &run->info);
    sbuf_adds(b, ",\"data\":{");
    int first = 1;
    if (run->nmetrics) {
        add_metrics(b, run->metrics, run->nmetrics);
        first = 0;
    }
    if (run->nparams) {
        add_kv_list(b, "params", run->params, run->nparams, first);
        first = 0;
    }
    if (run->ntags)
        add_kv_list(b, "tags", run->tags, run->ntags, first);
    sbuf_adds(b, "},");
    add_inputs(b, run);
    if (run->nmodel_outputs) { /* [3.x]; omitted when empty */
        sbuf_adds(b, ",\"outputs\":{");
        add_model_links(b, "model_outputs", run->model_outputs, run->nmodel_outputs, 1);
        sbuf_addc(b, '}');
    }
    sbuf_addc(b, '}');
}

/* Bytes of a string's JSON text when nothing in it needs escaping, plus
 * the per-field framing given. */
static size_t text_size(const char *s, size_t framing)
{
    return (s ? strlen(s) : 0) + framing;
}

/* An estimate of the JSON of a page of runs, a little above the usual
 * exact size (escapes, big steps and rare fields can exceed it; the buffer
 * then grows as usual). Reserving it once spares the reply the copies of
 * the doubling growth: for a 1,000-run page (~2.4 MB) those were ~14% of
 * exptrackd's CPU for the page. Framing: a metric's
 * {"key":"","value":,"timestamp":,"step":}, plus up to 24 bytes for the
 * value, 13 for a millisecond timestamp and a few for the step, is 80; a
 * param's or tag's {"key":"","value":}, 22; a run's info with its field
 * names, two run ids, status, times and the list framing, 300. */
static size_t page_size_estimate(const struct search_run *runs, size_t n)
{
    size_t size = 64;
    for (size_t i = 0; i < n; i++) {
        const struct search_run *run = &runs[i];
        size += 300 + text_size(run->info.name, 0) + text_size(run->info.user_id, 0) +
                text_size(run->info.artifact_uri, 0);
        for (size_t k = 0; k < run->nmetrics; k++)
            size += text_size(run->metrics[k].key, 80);
        for (size_t k = 0; k < run->nparams; k++)
            size += text_size(run->params[k].key, 22) + text_size(run->params[k].value, 0);
        for (size_t k = 0; k < run->ntags; k++)
            size += text_size(run->tags[k].key, 22) + text_size(run->tags[k].value, 0);
    }
    return size;
}

static void reply_runs(struct reply *r, const struct search_run *runs, size_t n, int64_t limit,
                       const struct search_cursor *last, uint64_t fp)
{
    struct sbuf b;
    sbuf_init(&b);
    sbuf_reserve(&b, page_size_estimate(runs, n));
    sbuf_addc(&b, '{');
    if (n > 0) {
        sbuf_adds(&b, "\"runs\":[");
        for (size_t i = 0; i < n; i++) {
            if (i)
                sbuf_addc(&b, ',');
            add_run(&b, &runs[i]);
        }
        sbuf_addc(&b, ']');
    }
    /* MLflow's rule: a full page always carries a token, even if it was the last */
    if (n == (size_t)limit && n > 0) {
        char *token = cursor_token(last, fp);
        add_field(&b, "next_page_token", token, 0);
        free(token);
    }
    sbuf_addc(&b, '}');
    size_t len = b.len;
    reply_json_text(r, sbuf_take(&b), len);
}

void api_runs_search(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct run_search q = {.view = VIEW_ACTIVE_ONLY};
    struct search_node *filter;
    struct search_order *order;
    struct search_cursor after, last;
    struct key_select select;
    struct search_run *runs;
    int64_t *exp_ids;
    size_t n = 0;
    int view = VIEW_ACTIVE_ONLY;
    const char *filter_text;

    arena_init(&arena);
    if (read_experiment_ids(&in, &arena, &exp_ids, &q.nexp, r) != JX_OK ||
        jx_enum(&in, "run_view_type", api_view_type_names, 3, &view, r) == JX_BAD ||
        read_filter(&in, SEARCH_RUNS, &arena, &filter, &filter_text, r) != JX_OK ||
        read_order(&in, SEARCH_RUNS, &arena, &order, &q.norder, r) != JX_OK ||
        read_select(&in, &arena, &select, &q.select, r) != JX_OK)
        goto out;
    unsigned char *ok = arena_alloc(&arena, q.nexp + 1);
    size_t readable = 0; /* drop experiments the user may not read (auth.h) */
    auth_can_read_many(req, exp_ids, q.nexp, ok);
    for (size_t i = 0; i < q.nexp; i++)
        if (ok[i])
            exp_ids[readable++] = exp_ids[i];
    q.nexp = readable;
    q.experiment_ids = exp_ids;
    q.view = (enum view_type)view;
    q.filter = filter;
    q.order = order;
    if (read_run_paging(&in, filter_text, &arena, &q, &after, r) != JX_OK)
        goto out;
    int rc = store_run_search(&q, &arena, &runs, &n, &last);
    if (rc == DB_INVALID && q.after != NULL) {
        bad_token(r);
        goto out;
    }
    if (rc != DB_OK) {
        reply_store_error(r, rc, "run not found");
        goto out;
    }
    reply_runs(r, runs, n, q.limit, &last, query_fingerprint(filter_text, &in));
out:
    arena_cleanup(&arena);
}

/* Reads max_results and page_token of experiments/search. */
static int read_experiment_paging(const struct input *in, uint64_t fp, struct arena *arena,
                                  struct experiment_search *q, struct search_cursor *after,
                                  struct reply *r)
{
    const char *token;
    int rc = jx_int64(in, "max_results", &q->limit, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (rc == JX_ABSENT)
        q->limit = SEARCH_EXPERIMENTS_DEFAULT;
    if (q->limit < 1 || q->limit > SEARCH_EXPERIMENTS_MAX) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value %lld for parameter 'max_results' supplied: it must be at "
                    "least 1 and at most %d",
                    (long long)q->limit, SEARCH_EXPERIMENTS_MAX);
        return JX_BAD;
    }
    rc = jx_string(in, "page_token", &token, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (rc == JX_OK && token[0] != '\0') {
        if (cursor_decode(token, fp, arena, after) < 0 ||
            after->n != store_experiment_search_nkeys(q->order, q->norder)) {
            bad_token(r);
            return JX_BAD;
        }
        q->after = after;
    }
    return JX_OK;
}

void api_experiments_search(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct experiment_search q = {0};
    struct search_node *filter;
    struct search_order *order;
    struct search_cursor after, *cursors;
    struct experiment *exps;
    size_t n = 0;
    int view = VIEW_ACTIVE_ONLY;
    const char *filter_text;

    arena_init(&arena);
    if (jx_enum(&in, "view_type", api_view_type_names, 3, &view, r) == JX_BAD ||
        read_filter(&in, SEARCH_EXPERIMENTS, &arena, &filter, &filter_text, r) != JX_OK ||
        read_order(&in, SEARCH_EXPERIMENTS, &arena, &order, &q.norder, r) != JX_OK)
        goto out;
    q.view = (enum view_type)view;
    q.filter = filter;
    q.order = order;
    /* experiment tokens never fit runs/search, nor the other way round */
    uint64_t fp = query_fingerprint(filter_text, &in) ^ 0x9e3779b97f4a7c15ULL;
    if (read_experiment_paging(&in, fp, &arena, &q, &after, r) != JX_OK)
        goto out;
    int64_t max_results = q.limit;
    q.limit = max_results + 1; /* one extra row tells whether another page exists */
    int rc = store_experiment_search(&q, &arena, &exps, &cursors, &n);
    if (rc == DB_INVALID && q.after != NULL) {
        bad_token(r);
        goto out;
    }
    if (rc != DB_OK) {
        reply_store_error(r, rc, "experiment not found");
        goto out;
    }
    json_t *obj = json_object();
    size_t shown = n > (size_t)max_results ? (size_t)max_results : n;
    if (shown > 0) {
        json_t *list = json_array();
        int64_t *ids = arena_alloc(&arena, shown * sizeof *ids);
        unsigned char *ok = arena_alloc(&arena, shown);
        for (size_t i = 0; i < shown; i++)
            ids[i] = exps[i].id;
        auth_can_read_many(req, ids, shown, ok); /* results filtered to readable ones */
        for (size_t i = 0; i < shown; i++)
            if (ok[i])
                json_array_append_new(list, api_experiment_json(&exps[i]));
        json_object_set_new(obj, "experiments", list);
    }
    if (n > (size_t)max_results) {
        char *token = cursor_token(&cursors[shown - 1], fp);
        json_object_set_new(obj, "next_page_token", json_string(token));
        free(token);
    }
    reply_json(r, obj);
out:
    arena_cleanup(&arena);
}
