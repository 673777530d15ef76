/* Writing to runs: tags, params, metrics, log-batch and dataset inputs.
 * Validation follows the contract's order and limits; values over the
 * param/tag limits are truncated as MLflow does by default. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_call.h"
#include "api_common.h"
#include "events/change_feed.h"
#include "group_commit.h"
#include "core/wake.h"
#include "common/xalloc.h"
#include "ops/metrics.h"
#include "store_runs.h"
#include "core/validate.h"

/* Bytes of an Idempotency-Key header. */
#define IDEMPOTENCY_KEY_MAX 255

/* Checks a metric/param/tag key; `field` names it in the message. */
static int check_key(const char *key, const char *field, struct reply *r)
{
    const char *rule = validate_key_rule(key);
    if (rule != NULL) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value '%.250s' for parameter '%s' supplied: %s", key, field, rule);
        return JX_BAD;
    }
    if (validate_utf8_length(key) > MAX_ENTITY_KEY_LENGTH) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter '%s' supplied: it exceeds the maximum length "
                    "of %d characters",
                    field, MAX_ENTITY_KEY_LENGTH);
        return JX_BAD;
    }
    return JX_OK;
}

/* Returns value cut to max code points (a copy in the arena when cut). */
static const char *truncated(const char *value, size_t max, struct arena *arena)
{
    size_t bytes = validate_utf8_prefix(value, max);
    if (value[bytes] == '\0')
        return value;
    return arena_strndup(arena, value, bytes);
}

/* Reads the optional logged-model id field `key` of in: absent or "" is
 * none (*out NULL), anything else must be "m-" and 32 lowercase hex. */
static int read_model_id(const struct input *in, const char *key, const char **out, struct reply *r)
{
    *out = NULL;
    int rc = jx_string(in, key, out, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (rc == JX_ABSENT || (*out)[0] == '\0') {
        *out = NULL;
        return JX_OK;
    }
    if (!validate_is_logged_model_id(*out)) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value '%.100s' for parameter '%s%s%s' supplied: a model id is 'm-' "
                    "followed by 32 lowercase hex digits",
                    *out, in->where ? in->where : "", in->where ? "." : "", key);
        return JX_BAD;
    }
    return JX_OK;
}

/* Reads an optional string of a metric for a logged model, at most max
 * code points; absent is "". */
static int read_link_text(const struct input *in, const char *key, size_t max, const char **out,
                          struct reply *r)
{
    *out = "";
    int rc = jx_string(in, key, out, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (rc == JX_ABSENT) {
        *out = "";
        return JX_OK;
    }
    if (validate_utf8_length(*out) > max) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter '%s%s%s' supplied: it exceeds the maximum "
                    "length of %zu characters",
                    in->where ? in->where : "", in->where ? "." : "", key, max);
        return JX_BAD;
    }
    return JX_OK;
}

/* Reads what ties a point to a logged model (mlflow-models-api.md 2.4):
 * model_id, dataset_name, dataset_digest, and run_id, which is checked for
 * its type and otherwise ignored (the request's run wins, as in MLflow).
 * m->link is link when the point has a model id, else NULL. */
static int read_metric_link(const struct input *in, struct metric *m, struct metric_link *link,
                            struct reply *r)
{
    const char *ignored;
    m->link = NULL;
    if (read_model_id(in, "model_id", &link->model_id, r) != JX_OK ||
        read_link_text(in, "dataset_name", MAX_DATASET_NAME_LENGTH, &link->dataset_name, r) !=
            JX_OK ||
        read_link_text(in, "dataset_digest", MAX_DATASET_DIGEST_LENGTH, &link->dataset_digest, r) !=
            JX_OK ||
        jx_string(in, "run_id", &ignored, r) == JX_BAD)
        return JX_BAD;
    if (link->model_id != NULL)
        m->link = link;
    return JX_OK;
}

/* Reads one metric object: key, value, timestamp required; step defaults to
 * 0; the logged-model fields go to *link (see read_metric_link). */
static int read_metric(const struct input *in, struct metric *m, struct metric_link *link,
                       struct reply *r)
{
    char field[160];
    const char *prefix = in->where ? in->where : "";
    const char *dot = in->where ? "." : "";

    if (jx_required_string(in, "key", &m->key, r) != JX_OK)
        return JX_BAD;
    snprintf(field, sizeof field, "%s%skey", prefix, dot);
    if (check_key(m->key, field, r) != JX_OK)
        return JX_BAD;
    int rc = jx_double(in, "value", &m->value, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (rc == JX_ABSENT) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Missing value for required parameter '%s%svalue'", prefix, dot);
        return JX_BAD;
    }
    rc = jx_int64(in, "timestamp", &m->timestamp, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (rc == JX_ABSENT) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Missing value for required parameter '%s%stimestamp'", prefix, dot);
        return JX_BAD;
    }
    if (m->timestamp < 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value %lld for parameter '%s%stimestamp' supplied: it must be "
                    "non-negative",
                    (long long)m->timestamp, prefix, dot);
        return JX_BAD;
    }
    m->step = 0;
    if (jx_int64(in, "step", &m->step, r) == JX_BAD)
        return JX_BAD;
    return read_metric_link(in, m, link, r);
}

/* Reads a {key, value} item of params or tags, validating and truncating. */
static int read_kv(const struct input *in, size_t max_value, struct arena *arena, struct kv *out,
                   struct reply *r)
{
    char field[160];
    const char *prefix = in->where ? in->where : "";
    const char *dot = in->where ? "." : "";
    const char *value = "";

    if (jx_required_string(in, "key", &out->key, r) != JX_OK)
        return JX_BAD;
    snprintf(field, sizeof field, "%s%skey", prefix, dot);
    if (check_key(out->key, field, r) != JX_OK)
        return JX_BAD;
    if (jx_string(in, "value", &value, r) == JX_BAD)
        return JX_BAD;
    out->value = truncated(value, max_value, arena);
    return JX_OK;
}

static void reply_write_result(struct reply *r, int rc, const char *run_id,
                               const struct param_conflict *conflict)
{
    if (rc == DB_EXISTS) {
        json_t *detail = json_pack("[{s:s, s:s, s:s}]", "key", conflict->key, "old_value",
                                   conflict->old_value, "new_value", conflict->new_value);
        char *text = json_dumps(detail, JSON_COMPACT);
        json_decref(detail);
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Changing param values is not allowed. Params were already logged='%.800s' "
                    "for run ID='%s'.",
                    text ? text : "", run_id);
        free(text);
        return;
    }
    if (rc != DB_OK) {
        api_run_not_found(r, rc, run_id);
        return;
    }
    reply_json(r, json_object());
}

/* A log-batch, log-parameter or set-tag waiting for its commit. */
struct batch_state {
    struct api_call c; /* first: the answer gets it back from c */
    struct arena arena;
    char run_id[64];
    size_t nmetrics, nparams, ntags;
};

static void batch_answer(struct api_call *c, struct reply *r)
{
    struct batch_state *s = (struct batch_state *)c;
    struct param_conflict conflict;
    int rc = store_run_log_batch_answer(&c->call, &s->arena, &conflict);
    if (rc == DB_OK) {
        metrics_points(s->nmetrics);
        if (s->nmetrics > 0)
            change_feed_run(s->run_id, "metrics");
        if (s->nparams > 0)
            change_feed_run(s->run_id, "params");
        if (s->ntags > 0)
            change_feed_run(s->run_id, "tags");
    }
    reply_write_result(r, rc, s->run_id, &conflict);
    store_call_cleanup(&c->call);
    arena_cleanup(&s->arena);
    free(s);
}

/* Writes a batch to an existing-looking run (32 hex) without an
 * Idempotency-Key through the group commit when it can be one call, the
 * reply deferred; returns 0 when it cannot (the caller writes it). */
static int write_batch_grouped(const struct request *req, const char *run_id,
                               const struct metric *metrics, size_t nm, const struct kv *params,
                               size_t np, const struct kv *tags, size_t nt, struct reply *r)
{
    struct batch_state *s = xcalloc(1, sizeof *s);
    int rc = store_run_log_batch_call(run_id, NULL, metrics, nm, params, np, tags, nt, &s->c.call);
    if (rc == STORE_NO_CALL) {
        free(s);
        return 0;
    }
    arena_init(&s->arena);
    snprintf(s->run_id, sizeof s->run_id, "%s", run_id);
    s->nmetrics = nm;
    s->nparams = np;
    s->ntags = nt;
    s->c.answer = batch_answer;
    if (rc != DB_OK) { /* interning its metric names failed */
        s->c.call.rc = rc;
        batch_answer(&s->c, r);
        return 1;
    }
    api_call_run(req, &s->c, r);
    return 1;
}

/* Run id of a write: required, contract pattern, and (being exptrack's) 32 hex. */
static int write_run_id(const struct input *in, const char **run_id, int *exists, struct reply *r)
{
    if (input_run_id(in, run_id, r) != JX_OK)
        return JX_BAD;
    if (!validate_run_id_pattern(*run_id)) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value '%.256s' for parameter 'run_id' supplied: run ids match "
                    "^[a-zA-Z0-9][\\w\\-]{0,255}$",
                    *run_id);
        return JX_BAD;
    }
    *exists = validate_is_run_id(*run_id);
    return JX_OK;
}

void api_runs_set_tag(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct kv tag;
    const char *run_id;
    int exists;

    if (write_run_id(&in, &run_id, &exists, r) != JX_OK)
        return;
    arena_init(&arena);
    if (read_kv(&in, MAX_TAG_VALUE_LENGTH, &arena, &tag, r) == JX_OK &&
        !(exists && write_batch_grouped(req, run_id, NULL, 0, NULL, 0, &tag, 1, r))) {
        int rc = exists ? store_run_set_tag(run_id, tag.key, tag.value) : DB_NOT_FOUND;
        if (rc == DB_OK)
            change_feed_run(run_id, "tags");
        reply_write_result(r, rc, run_id, NULL);
    }
    arena_cleanup(&arena);
}

void api_runs_delete_tag(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    const char *run_id, *key;
    int exists, missing = 0;

    if (write_run_id(&in, &run_id, &exists, r) != JX_OK)
        return;
    if (jx_required_string(&in, "key", &key, r) != JX_OK)
        return;
    int rc = exists ? store_run_delete_tag(run_id, key, &missing) : DB_NOT_FOUND;
    if (rc == DB_OK && !missing)
        change_feed_run(run_id, "tags");
    if (rc == DB_OK && missing)
        reply_error(r, ERR_RESOURCE_DOES_NOT_EXIST, "No tag with name: %.250s in run with id %s",
                    key, run_id);
    else
        reply_write_result(r, rc, run_id, NULL);
}

void api_runs_log_parameter(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct kv param;
    struct param_conflict conflict;
    const char *run_id;
    int exists;

    if (write_run_id(&in, &run_id, &exists, r) != JX_OK)
        return;
    arena_init(&arena);
    if (read_kv(&in, MAX_PARAM_VALUE_LENGTH, &arena, &param, r) == JX_OK &&
        !(exists && write_batch_grouped(req, run_id, NULL, 0, &param, 1, NULL, 0, r))) {
        int rc = exists
                     ? store_run_log_batch(run_id, NULL, 0, &param, 1, NULL, 0, &arena, &conflict)
                     : DB_NOT_FOUND;
        if (rc == DB_OK)
            change_feed_run(run_id, "params");
        reply_write_result(r, rc, run_id, &conflict);
    }
    arena_cleanup(&arena);
}

/* A small metric write handed to the group commit; the reply waits. */
struct grouped_log {
    struct group_write *gw;
    size_t points;
    char run_id[64];
};

static void finish_grouped_log(void *state, struct reply *r)
{
    struct grouped_log *g = state;
    int replayed = 0;
    int rc = group_commit_result(g->gw, &replayed);
    if (rc == DB_OK && !replayed) {
        metrics_points(g->points);
        change_feed_run(g->run_id, "metrics");
    }
    reply_write_result(r, rc, g->run_id, NULL);
    free(g);
}

/* The group commit's completion callback: resumes the paused request,
 * whose reply then runs finish_grouped_log, and drops the handle. */
static void wake_grouped_log(void *arg)
{
    struct wake *w = arg;
    wake_up(w);
    wake_unref(w);
}

/* Writes a small metric-only request (with its Idempotency-Key, or NULL)
 * through the group commit, the reply deferred until its commit; without
 * the group (off, stopping) writes it in its own transaction at once. */
static void log_small(const struct request *req, const char *run_id, const char *idem_key,
                      const struct metric *metrics, size_t n, struct reply *r)
{
    struct wake *w = request_wake(req);
    struct group_write *gw = group_commit_submit(run_id, idem_key, metrics, n, wake_grouped_log, w);
    if (gw == NULL) {
        wake_unref(w);
        int replayed = 0;
        int rc = store_run_log_batch_idem(run_id, idem_key, &replayed, metrics, n, NULL, 0, NULL, 0,
                                          NULL, NULL);
        if (rc == DB_OK && !replayed) {
            metrics_points(n);
            change_feed_run(run_id, "metrics");
        }
        reply_write_result(r, rc, run_id, NULL);
        return;
    }
    struct grouped_log *g = xmalloc(sizeof *g);
    g->gw = gw;
    g->points = n;
    snprintf(g->run_id, sizeof g->run_id, "%s", run_id);
    reply_defer(r, finish_grouped_log, g);
}

void api_runs_log_metric(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct metric m;
    struct metric_link link;
    const char *run_id;
    int exists;

    if (write_run_id(&in, &run_id, &exists, r) != JX_OK)
        return;
    if (read_metric(&in, &m, &link, r) != JX_OK)
        return;
    if (exists)
        log_small(req, run_id, NULL, &m, 1, r);
    else
        reply_write_result(r, DB_NOT_FOUND, run_id, NULL);
}

/* Reads a list field of log-batch; absent is an empty list. */
static int batch_list(const struct input *in, const char *key, const json_t **arr, size_t *n,
                      struct reply *r)
{
    int rc = jx_array(in, key, arr, r);
    if (rc == JX_BAD)
        return JX_BAD;
    *n = rc == JX_OK ? json_array_size(*arr) : 0;
    return JX_OK;
}

static int check_batch_counts(size_t nm, size_t np, size_t nt, struct reply *r)
{
    if (nm > MAX_METRICS_PER_BATCH || np > MAX_PARAMS_TAGS_PER_BATCH ||
        nt > MAX_PARAMS_TAGS_PER_BATCH || nm + np + nt > MAX_ENTITIES_PER_BATCH) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "A batch logging request can contain at most %d metrics, %d params, %d tags "
                    "and %d entities in all; got %zu metrics, %zu params and %zu tags",
                    MAX_METRICS_PER_BATCH, MAX_PARAMS_TAGS_PER_BATCH, MAX_PARAMS_TAGS_PER_BATCH,
                    MAX_ENTITIES_PER_BATCH, nm, np, nt);
        return JX_BAD;
    }
    return JX_OK;
}

/* The optional Idempotency-Key header of log-batch: 1..255 visible ASCII
 * characters. A repeat of an applied key is answered {} without writing. */
static int idempotency_key(const struct request *req, const char **key, struct reply *r)
{
    *key = request_header(req, "Idempotency-Key");
    if (*key == NULL)
        return JX_OK;
    size_t n = strlen(*key);
    for (size_t i = 0; i < n; i++) {
        if ((*key)[i] <= ' ' || (*key)[i] > '~')
            n = 0;
    }
    if (n == 0 || n > IDEMPOTENCY_KEY_MAX) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid Idempotency-Key header: it must be 1 to %d visible ASCII "
                    "characters",
                    IDEMPOTENCY_KEY_MAX);
        return JX_BAD;
    }
    return JX_OK;
}

void api_runs_log_batch(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    const json_t *ma = NULL, *pa = NULL, *ta = NULL;
    size_t nm, np, nt;
    const char *run_id;
    int exists;
    char where[80];
    struct param_conflict conflict;
    const char *idem_key;

    if (write_run_id(&in, &run_id, &exists, r) != JX_OK)
        return;
    if (idempotency_key(req, &idem_key, r) != JX_OK)
        return;
    if (batch_list(&in, "metrics", &ma, &nm, r) != JX_OK ||
        batch_list(&in, "params", &pa, &np, r) != JX_OK ||
        batch_list(&in, "tags", &ta, &nt, r) != JX_OK)
        return;
    if (check_batch_counts(nm, np, nt, r) != JX_OK)
        return;

    arena_init(&arena);
    struct metric *metrics = arena_alloc(&arena, (nm + 1) * sizeof *metrics);
    struct metric_link *links = arena_alloc(&arena, (nm + 1) * sizeof *links);
    struct kv *params = arena_alloc(&arena, (np + 1) * sizeof *params);
    struct kv *tags = arena_alloc(&arena, (nt + 1) * sizeof *tags);
    for (size_t i = 0; i < nm; i++) {
        struct input item;
        if (jx_item(ma, i, "metrics", where, sizeof where, &item, r) != JX_OK ||
            read_metric(&item, &metrics[i], &links[i], r) != JX_OK)
            goto out;
    }
    for (size_t i = 0; i < np; i++) {
        struct input item;
        if (jx_item(pa, i, "params", where, sizeof where, &item, r) != JX_OK ||
            read_kv(&item, MAX_PARAM_VALUE_LENGTH, &arena, &params[i], r) != JX_OK)
            goto out;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(params[j].key, params[i].key) == 0) {
                reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                            "Duplicate parameter keys have been submitted: params[%zu].key "
                            "'%.250s' repeats params[%zu].key",
                            i, params[i].key, j);
                goto out;
            }
        }
    }
    for (size_t i = 0; i < nt; i++) {
        struct input item;
        if (jx_item(ta, i, "tags", where, sizeof where, &item, r) != JX_OK ||
            read_kv(&item, MAX_TAG_VALUE_LENGTH, &arena, &tags[i], r) != JX_OK)
            goto out;
    }
    if (exists && np == 0 && nt == 0 && nm > 0 && nm <= GROUP_COMMIT_MAX_POINTS) {
        log_small(req, run_id, idem_key, metrics, nm, r); /* small: shares a commit */
        goto out;
    }
    if (exists && idem_key == NULL &&
        write_batch_grouped(req, run_id, metrics, nm, params, np, tags, nt, r))
        goto out; /* one statement, sharing a commit */
    int replayed = 0;
    int rc = exists ? store_run_log_batch_idem(run_id, idem_key, &replayed, metrics, nm, params, np,
                                               tags, nt, &arena, &conflict)
                    : DB_NOT_FOUND;
    if (rc == DB_OK && !replayed) {
        metrics_points(nm);
        if (nm > 0)
            change_feed_run(run_id, "metrics");
        if (np > 0)
            change_feed_run(run_id, "params");
        if (nt > 0)
            change_feed_run(run_id, "tags");
    }
    reply_write_result(r, rc, run_id, &conflict);
out:
    arena_cleanup(&arena);
}

/* Checks a dataset string field against its limit. */
static int dataset_field(const struct input *in, const char *key, int required, size_t max,
                         const char **out, struct reply *r)
{
    *out = NULL;
    int rc = required ? jx_required_string(in, key, out, r) : jx_string(in, key, out, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (rc == JX_ABSENT) {
        *out = NULL;
        return JX_OK;
    }
    if (validate_utf8_length(*out) > max) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter '%s.%s': it exceeds the maximum length of %zu "
                    "characters",
                    in->where, key, max);
        return JX_BAD;
    }
    return JX_OK;
}

static int read_dataset_input(const json_t *arr, size_t i, struct arena *arena,
                              struct dataset_input *out, struct reply *r)
{
    char where[80], dwhere[96], twhere[128];
    struct input item, ds;

    if (jx_item(arr, i, "datasets", where, sizeof where, &item, r) != JX_OK)
        return JX_BAD;
    const json_t *dobj = json_object_get(item.obj, "dataset");
    if (!json_is_object(dobj)) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Missing value for required parameter '%s.dataset'", where);
        return JX_BAD;
    }
    snprintf(dwhere, sizeof dwhere, "%s.dataset", where);
    ds = (struct input){dobj, 0, dwhere};
    struct dataset *d = &out->dataset;
    if (dataset_field(&ds, "name", 1, MAX_DATASET_NAME_LENGTH, &d->name, r) != JX_OK ||
        dataset_field(&ds, "digest", 1, MAX_DATASET_DIGEST_LENGTH, &d->digest, r) != JX_OK ||
        dataset_field(&ds, "source_type", 1, MAX_DATASET_SOURCE_TYPE_LENGTH, &d->source_type, r) !=
            JX_OK ||
        dataset_field(&ds, "source", 1, MAX_DATASET_SOURCE_LENGTH, &d->source, r) != JX_OK ||
        dataset_field(&ds, "schema", 0, MAX_DATASET_SCHEMA_LENGTH, &d->schema, r) != JX_OK ||
        dataset_field(&ds, "profile", 0, MAX_DATASET_PROFILE_LENGTH, &d->profile, r) != JX_OK)
        return JX_BAD;

    const json_t *tags;
    int rc = jx_array(&item, "tags", &tags, r);
    if (rc == JX_BAD)
        return JX_BAD;
    size_t nt = rc == JX_OK ? json_array_size(tags) : 0;
    out->tags = arena_alloc(arena, (nt + 1) * sizeof *out->tags);
    out->ntags = nt;
    snprintf(twhere, sizeof twhere, "%s.tags", where);
    for (size_t t = 0; t < nt; t++) {
        struct input tag;
        char tw[160];
        if (jx_item(tags, t, twhere, tw, sizeof tw, &tag, r) != JX_OK)
            return JX_BAD;
        if (dataset_field(&tag, "key", 1, MAX_INPUT_TAG_KEY_LENGTH, &out->tags[t].key, r) !=
                JX_OK ||
            dataset_field(&tag, "value", 1, MAX_INPUT_TAG_VALUE_LENGTH, &out->tags[t].value, r) !=
                JX_OK)
            return JX_BAD;
    }
    return JX_OK;
}

/* Most logged models one runs/outputs or runs/log-inputs request links. */
#define MAX_MODEL_LINKS 1000

/* Reads the list `key` of {model_id[, step]} objects (model_id required and
 * well formed; step, with_step only, an int64 defaulting to 0) into *out
 * (arena). Absent is an empty list. */
static int read_model_links(const struct input *in, const char *key, int with_step,
                            struct arena *arena, struct model_link **out, size_t *n,
                            struct reply *r)
{
    const json_t *arr = NULL;
    char where[80];

    if (batch_list(in, key, &arr, n, r) != JX_OK)
        return JX_BAD;
    if (*n > MAX_MODEL_LINKS) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter '%s' supplied: at most %d models per request, "
                    "got %zu",
                    key, MAX_MODEL_LINKS, *n);
        return JX_BAD;
    }
    *out = arena_alloc(arena, (*n + 1) * sizeof **out);
    for (size_t i = 0; i < *n; i++) {
        struct input item;
        struct model_link *l = &(*out)[i];
        if (jx_item(arr, i, key, where, sizeof where, &item, r) != JX_OK ||
            read_model_id(&item, "model_id", &l->model_id, r) != JX_OK)
            return JX_BAD;
        if (l->model_id == NULL) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                        "Missing value for required parameter '%s.model_id'", where);
            return JX_BAD;
        }
        l->step = 0;
        if (with_step && jx_int64(&item, "step", &l->step, r) == JX_BAD)
            return JX_BAD;
    }
    return JX_OK;
}

void api_runs_log_inputs(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    const json_t *arr = NULL;
    const char *run_id;
    int exists;
    size_t n, nmodels = 0;
    struct model_link *models = NULL;

    if (write_run_id(&in, &run_id, &exists, r) != JX_OK)
        return;
    if (batch_list(&in, "datasets", &arr, &n, r) != JX_OK)
        return;
    arena_init(&arena);
    struct dataset_input *inputs = arena_alloc(&arena, (n + 1) * sizeof *inputs);
    for (size_t i = 0; i < n; i++)
        if (read_dataset_input(arr, i, &arena, &inputs[i], r) != JX_OK)
            goto out;
    if (read_model_links(&in, "models", 0, &arena, &models, &nmodels, r) != JX_OK)
        goto out;
    int rc = exists ? store_run_log_inputs(run_id, inputs, n, models, nmodels) : DB_NOT_FOUND;
    reply_write_result(r, rc, run_id, NULL);
out:
    arena_cleanup(&arena);
}

void api_runs_log_outputs(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    const char *run_id;
    int exists;
    size_t n = 0;
    struct model_link *models = NULL;

    if (write_run_id(&in, &run_id, &exists, r) != JX_OK)
        return;
    arena_init(&arena);
    if (read_model_links(&in, "models", 1, &arena, &models, &n, r) != JX_OK)
        goto out;
    if (n == 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Missing value for required parameter 'models'");
        goto out;
    }
    int rc = exists ? store_run_log_outputs(run_id, models, n) : DB_NOT_FOUND;
    reply_write_result(r, rc, run_id, NULL);
out:
    arena_cleanup(&arena);
}
