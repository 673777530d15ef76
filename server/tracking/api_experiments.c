/* Experiments: create, get, get-by-name, rename, delete, restore,
 * experiment tags (search is in api_search.c) and the dashboard's stats
 * extension. Decode -> store -> encode;
 * no SQL here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_common.h"
#include "auth/auth.h"
#include "store_experiments.h"
#include "core/validate.h"

/* Checks an artifact_location per the contract: length, no fragment or
 * params, no '..' traversal in a query part. */
static int check_artifact_location(const char *loc, struct reply *r)
{
    if (validate_utf8_length(loc) > MAX_ARTIFACT_LOCATION_LENGTH) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter 'artifact_location': it exceeds the maximum "
                    "length of %d characters",
                    MAX_ARTIFACT_LOCATION_LENGTH);
        return JX_BAD;
    }
    const char *query = strchr(loc, '?');
    if (strchr(loc, '#') || strchr(loc, ';') || (query && strstr(query, ".."))) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value '%.200s' for parameter 'artifact_location': fragments, "
                    "';' parameters and '..' in the query are not allowed",
                    loc);
        return JX_BAD;
    }
    return JX_OK;
}

static int check_experiment_tag(const char *key, const char *value, struct reply *r);

/* Reads the optional tags list of experiments/create into arena memory,
 * each checked as experiments/set-experiment-tag checks one. */
static int read_tags(const struct input *in, struct arena *arena, struct kv **tags, size_t *n,
                     struct reply *r)
{
    const json_t *arr;
    char where[80];

    *tags = NULL;
    *n = 0;
    int rc = jx_array(in, "tags", &arr, r);
    if (rc != JX_OK)
        return rc == JX_ABSENT ? JX_OK : JX_BAD;
    *tags = arena_alloc(arena, (json_array_size(arr) + 1) * sizeof **tags);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        struct input item;
        if (jx_item(arr, i, "tags", where, sizeof where, &item, r) != JX_OK)
            return JX_BAD;
        const char *key, *value = "";
        if (jx_required_string(&item, "key", &key, r) != JX_OK)
            return JX_BAD;
        if (jx_string(&item, "value", &value, r) == JX_BAD ||
            check_experiment_tag(key, value, r) != JX_OK)
            return JX_BAD;
        (*tags)[*n].key = arena_strdup(arena, key);
        (*tags)[*n].value = arena_strdup(arena, value);
        (*n)++;
    }
    return JX_OK;
}

void api_experiments_create(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    const char *name, *location = NULL;
    struct kv *tags;
    size_t ntags;
    int64_t id;

    arena_init(&arena);
    if (jx_required_string(&in, "name", &name, r) != JX_OK)
        goto out;
    if (validate_utf8_length(name) > MAX_EXPERIMENT_NAME_LENGTH) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter 'name': experiment names may be at most %d "
                    "characters",
                    MAX_EXPERIMENT_NAME_LENGTH);
        goto out;
    }
    int rc = jx_string(&in, "artifact_location", &location, r);
    if (rc == JX_BAD)
        goto out;
    if (rc == JX_OK && location[0] == '\0')
        location = NULL;
    if (location != NULL && check_artifact_location(location, r) != JX_OK)
        goto out;
    if (read_tags(&in, &arena, &tags, &ntags, r) != JX_OK)
        goto out;
    rc = store_experiment_create(name, location, tags, ntags, &id);
    if (rc == DB_EXISTS) {
        reply_error(r, ERR_RESOURCE_ALREADY_EXISTS,
                    "Experiment(name=%.500s) already exists. Error: the name is taken by an "
                    "active or deleted experiment",
                    name);
        goto out;
    }
    if (rc != DB_OK) {
        reply_store_error(r, rc, "experiment not found");
        goto out;
    }
    char idtext[24];
    snprintf(idtext, sizeof idtext, "%lld", (long long)id);
    reply_json(r, json_pack("{s:s}", "experiment_id", idtext));
out:
    arena_cleanup(&arena);
}

static void reply_experiment(struct reply *r, const struct experiment *e)
{
    reply_json(r, json_pack("{s:o}", "experiment", api_experiment_json(e)));
}

void api_experiments_get(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct experiment e;
    int64_t id;

    if (input_experiment_id(&in, "experiment_id", &id, r) != JX_OK)
        return;
    arena_init(&arena);
    int rc = store_experiment_get(id, &arena, &e);
    if (rc != DB_OK)
        reply_store_experiment_not_found(r, rc, id);
    else
        reply_experiment(r, &e);
    arena_cleanup(&arena);
}

void api_experiments_get_by_name(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct experiment e;
    const char *name;
    char msg[640];

    if (jx_required_string(&in, "experiment_name", &name, r) != JX_OK)
        return;
    arena_init(&arena);
    int rc = store_experiment_get_by_name(name, &arena, &e);
    if (rc != DB_OK) {
        snprintf(msg, sizeof msg, "Could not find experiment with name '%.500s'", name);
        reply_store_error(r, rc, msg);
    } else {
        reply_experiment(r, &e);
    }
    arena_cleanup(&arena);
}

void api_experiments_update(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    const char *name;
    int64_t id;

    if (input_experiment_id(&in, "experiment_id", &id, r) != JX_OK)
        return;
    if (jx_required_string(&in, "new_name", &name, r) != JX_OK)
        return;
    if (validate_utf8_length(name) > MAX_EXPERIMENT_NAME_LENGTH) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter 'new_name': experiment names may be at most %d "
                    "characters",
                    MAX_EXPERIMENT_NAME_LENGTH);
        return;
    }
    int rc = store_experiment_rename(id, name);
    if (rc == DB_STATE)
        reply_error(r, ERR_STATE_REFUSED,
                    "Cannot rename a non-active experiment: experiment %lld is deleted",
                    (long long)id);
    else if (rc == DB_EXISTS)
        reply_error(r, ERR_BAD_REQUEST,
                    "Invalid value for parameter 'new_name': experiment name '%.500s' is taken",
                    name);
    else if (rc != DB_OK)
        reply_store_experiment_not_found(r, rc, id);
    else
        reply_json(r, json_object());
}

static void set_deleted(const struct request *req, struct reply *r, int deleted)
{
    struct input in = input_from(req);
    int64_t id;

    if (input_experiment_id(&in, "experiment_id", &id, r) != JX_OK)
        return;
    int rc = store_experiment_set_deleted(id, deleted);
    if (rc == DB_NOT_FOUND) {
        reply_error(r, ERR_RESOURCE_DOES_NOT_EXIST, "No %s experiment with id=%lld exists",
                    store_lifecycle_name(!deleted), (long long)id);
        return;
    }
    if (rc != DB_OK) {
        reply_store_experiment_not_found(r, rc, id);
        return;
    }
    reply_json(r, json_object());
}

void api_experiments_delete(const struct request *req, struct reply *r)
{
    set_deleted(req, r, 1);
}

void api_experiments_restore(const struct request *req, struct reply *r)
{
    set_deleted(req, r, 0);
}

/* Validates an experiment tag key and value (errors, never truncation). */
static int check_experiment_tag(const char *key, const char *value, struct reply *r)
{
    const char *rule = validate_key_rule(key);
    if (rule != NULL) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value '%.250s' for parameter 'key' supplied: %s", key, rule);
        return JX_BAD;
    }
    if (validate_utf8_length(key) > MAX_EXPERIMENT_TAG_KEY_LENGTH) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter 'key': it exceeds the maximum length of %d "
                    "characters",
                    MAX_EXPERIMENT_TAG_KEY_LENGTH);
        return JX_BAD;
    }
    if (validate_utf8_length(value) > MAX_EXPERIMENT_TAG_VALUE_LENGTH) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter 'value': it exceeds the maximum length of %d "
                    "characters",
                    MAX_EXPERIMENT_TAG_VALUE_LENGTH);
        return JX_BAD;
    }
    return JX_OK;
}

void api_experiments_set_tag(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    const char *key, *value = "";
    int64_t id;

    if (input_experiment_id(&in, "experiment_id", &id, r) != JX_OK)
        return;
    if (jx_required_string(&in, "key", &key, r) != JX_OK)
        return;
    if (jx_string(&in, "value", &value, r) == JX_BAD)
        return;
    if (check_experiment_tag(key, value, r) != JX_OK)
        return;
    int rc = store_experiment_set_tag(id, key, value);
    if (rc == DB_STATE)
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "The experiment %lld must be in the 'active' state", (long long)id);
    else if (rc != DB_OK)
        reply_store_experiment_not_found(r, rc, id);
    else
        reply_json(r, json_object());
}

void api_experiments_delete_tag(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    const char *key;
    int64_t id;
    int missing;

    if (input_experiment_id(&in, "experiment_id", &id, r) != JX_OK)
        return;
    if (jx_required_string(&in, "key", &key, r) != JX_OK)
        return;
    int rc = store_experiment_delete_tag(id, key, &missing);
    if (rc == DB_STATE)
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "The experiment %lld must be in the 'active' state", (long long)id);
    else if (rc != DB_OK)
        reply_store_experiment_not_found(r, rc, id);
    else if (missing)
        reply_error(r, ERR_RESOURCE_DOES_NOT_EXIST, "No tag with key '%.250s' on experiment %lld",
                    key, (long long)id);
    else
        reply_json(r, json_object());
}

#define STATS_MAX_EXPERIMENTS 250 /* the URL holds at most 256 query arguments (http.c) */

/* Reads the repeated experiment_id of exptrack/experiments/stats (1..max
 * values) into ids; values that are not decimal ids cannot exist and are
 * dropped. Returns JX_OK or JX_BAD. */
static int read_stats_ids(const struct input *in, struct arena *arena, int64_t **ids, size_t *n,
                          struct reply *r)
{
    const json_t *arr;
    int rc = jx_array(in, "experiment_id", &arr, r);
    if (rc == JX_BAD)
        return JX_BAD;
    size_t count = rc == JX_OK ? json_array_size(arr) : 0;
    if (count == 0 || count > STATS_MAX_EXPERIMENTS) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter 'experiment_id': give between 1 and %d values",
                    STATS_MAX_EXPERIMENTS);
        return JX_BAD;
    }
    *ids = arena_alloc(arena, count * sizeof **ids);
    *n = 0;
    for (size_t i = 0; i < count; i++) {
        char buf[32];
        const char *s;
        if (jx_array_id(arr, i, "experiment_id", buf, &s, r) != JX_OK)
            return JX_BAD;
        if (s[0] >= '0' && s[0] <= '9' && jx_parse_int64_text(s, &(*ids)[*n]) == 0)
            (*n)++;
    }
    return JX_OK;
}

static json_t *stats_json(const struct experiment_stats *s)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)s->experiment_id);
    return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "experiment_id", id, "active_runs",
                     (json_int_t)s->active_runs, "deleted_runs", (json_int_t)s->deleted_runs,
                     "running_runs", (json_int_t)s->running_runs, "last_run_start_time",
                     (json_int_t)s->last_run_start, "last_activity_time",
                     (json_int_t)s->last_activity);
}

void api_exptrack_experiment_stats(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    int64_t *ids;
    size_t n, nstats = 0;
    struct experiment_stats *stats = NULL;

    arena_init(&arena);
    if (read_stats_ids(&in, &arena, &ids, &n, r) != JX_OK)
        goto out;
    /* like search: what the caller may not read is left out, not refused */
    unsigned char *readable = arena_alloc(&arena, n + 1);
    auth_can_read_many(req, ids, n, readable);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (readable[i])
            ids[k++] = ids[i];
    int rc = k == 0 ? DB_OK : store_experiment_stats(ids, k, &arena, &stats, &nstats);
    if (rc != DB_OK) {
        reply_store_error(r, rc, "experiment not found");
        goto out;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < nstats; i++)
        json_array_append_new(list, stats_json(&stats[i]));
    reply_json(r, json_pack("{s:o}", "experiments", list));
out:
    arena_cleanup(&arena);
}
