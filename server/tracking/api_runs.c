/* Runs: create, get, update, delete, restore (search is in api_search.c).
 * Decode -> store -> encode; no SQL here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_call.h"
#include "api_common.h"
#include "events/change_feed.h"
#include "core/ids.h"
#include "core/mlflow_tags.h"
#include "store_runs.h"
#include "core/validate.h"
#include "common/xalloc.h"

/* Reads runs/create's tags; finds mlflow.runName and mlflow.user among them. */
static int read_create_tags(const struct input *in, struct arena *arena, struct kv **tags,
                            size_t *n, const char **name_tag, const char **user_tag,
                            struct reply *r)
{
    const json_t *arr;
    char where[80];

    *tags = NULL;
    *n = 0;
    int rc = jx_array(in, "tags", &arr, r);
    if (rc == JX_BAD)
        return JX_BAD;
    size_t count = rc == JX_OK ? json_array_size(arr) : 0;
    /* one spare slot for the mlflow.runName tag the server may add */
    *tags = arena_alloc(arena, (count + 1) * sizeof **tags);
    for (size_t i = 0; i < count; i++) {
        struct input item;
        const char *key, *value = "";
        char field[96];
        if (jx_item(arr, i, "tags", where, sizeof where, &item, r) != JX_OK ||
            jx_required_string(&item, "key", &key, r) != JX_OK ||
            jx_string(&item, "value", &value, r) == JX_BAD)
            return JX_BAD;
        /* the rules of runs/set-tag: key checked, value cut to its limit */
        snprintf(field, sizeof field, "%s.key", where);
        if (input_check_key(key, field, MAX_ENTITY_KEY_LENGTH, r) != JX_OK)
            return JX_BAD;
        size_t keep = validate_utf8_prefix(value, MAX_TAG_VALUE_LENGTH);
        if (value[keep] != '\0')
            value = arena_strndup(arena, value, keep);
        if (strcmp(key, MLFLOW_TAG_RUN_NAME) == 0)
            *name_tag = value;
        if (strcmp(key, MLFLOW_TAG_USER) == 0)
            *user_tag = value;
        (*tags)[*n].key = key;
        (*tags)[*n].value = value;
        (*n)++;
    }
    return JX_OK;
}

/* A runs/create waiting for its commit. */
struct create_state {
    struct api_call c; /* first: the answer gets it back from c */
    struct arena arena;
    struct run_create in; /* its tags copied into the arena */
    char run_id[33];
};

static void create_answer(struct api_call *c, struct reply *r)
{
    struct create_state *s = (struct create_state *)c;
    struct run run;
    int rc = store_run_create_answer(&c->call, &s->in, &s->arena, &run);
    if (rc == DB_STATE) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "The experiment %lld must be in the 'active' state to create runs",
                    (long long)s->in.experiment_id);
    } else if (rc != DB_OK) {
        reply_store_experiment_not_found(r, rc, s->in.experiment_id);
    } else {
        change_feed_run(s->run_id, "created");
        reply_json(r, json_pack("{s:o}", "run", api_run_json(&run)));
    }
    store_call_cleanup(&c->call);
    arena_cleanup(&s->arena);
    free(s);
}

void api_runs_create(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct create_state *s = xcalloc(1, sizeof *s);
    struct run_create *rc_in = &s->in;
    const char *exp_text = "", *run_name = NULL, *user_id = NULL;
    const char *name_tag = NULL, *user_tag = NULL;
    struct kv *tags;
    size_t ntags;
    char random_name[32];
    int64_t start_time;

    arena_init(&s->arena);
    const json_t *exp_value = json_object_get(in.obj, "experiment_id");
    if (json_is_integer(exp_value)) {
        rc_in->experiment_id = json_integer_value(exp_value);
    } else {
        if (jx_string(&in, "experiment_id", &exp_text, r) == JX_BAD)
            goto fail;
        if (exp_text[0] != '\0' &&
            input_experiment_id(&in, "experiment_id", &rc_in->experiment_id, r) != JX_OK)
            goto fail;
    }
    if (jx_string(&in, "run_name", &run_name, r) == JX_BAD ||
        jx_string(&in, "user_id", &user_id, r) == JX_BAD)
        goto fail;
    int rc = jx_int64(&in, "start_time", &start_time, r);
    if (rc == JX_BAD)
        goto fail;
    if (rc == JX_ABSENT)
        start_time = store_now_ms();
    if (read_create_tags(&in, &s->arena, &tags, &ntags, &name_tag, &user_tag, r) != JX_OK)
        goto fail;
    if (run_name != NULL && run_name[0] && name_tag != NULL && strcmp(run_name, name_tag) != 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Both 'run_name' parameter and '" MLFLOW_TAG_RUN_NAME
                    "' tag are specified, but with different values "
                    "(run_name='%.250s', " MLFLOW_TAG_RUN_NAME "='%.250s')",
                    run_name, name_tag);
        goto fail;
    }
    if (run_name == NULL || run_name[0] == '\0')
        run_name = name_tag;
    if (run_name == NULL || run_name[0] == '\0') {
        ids_random_run_name(random_name, sizeof random_name);
        run_name = random_name;
    }
    if (validate_utf8_length(run_name) > MAX_RUN_NAME_LENGTH) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter 'run_name': it exceeds the maximum length of "
                    "%d characters",
                    MAX_RUN_NAME_LENGTH);
        goto fail;
    }
    run_name = arena_strdup(&s->arena, run_name);
    if (name_tag == NULL) {
        tags[ntags].key = MLFLOW_TAG_RUN_NAME;
        tags[ntags].value = run_name;
        ntags++;
    }
    ids_new_run_id(s->run_id);
    rc_in->run_id = s->run_id;
    rc_in->name = run_name;
    /* no user: "" as MLflow stores it, so attributes.user_id = '' finds it */
    rc_in->user_id = user_id && user_id[0] ? user_id : user_tag ? user_tag : "";
    if (input_check_length(rc_in->user_id, "user_id", MAX_USER_ID_LENGTH, r) != JX_OK)
        goto fail;
    rc_in->start_time = start_time;
    /* the answer reads the tags after the request's body may be gone */
    for (size_t i = 0; i < ntags; i++) {
        tags[i].key = arena_strdup(&s->arena, tags[i].key);
        tags[i].value = arena_strdup(&s->arena, tags[i].value);
    }
    rc_in->tags = tags;
    rc_in->ntags = ntags;
    store_run_create_call(rc_in, &s->c.call);
    s->c.answer = create_answer;
    api_call_run(req, &s->c, r);
    return;
fail:
    arena_cleanup(&s->arena);
    free(s);
}

void api_runs_get(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct run run;
    const char *run_id;

    if (input_run_id(&in, &run_id, r) != JX_OK)
        return;
    if (!validate_is_run_id(run_id)) {
        api_run_not_found(r, DB_NOT_FOUND, run_id);
        return;
    }
    arena_init(&arena);
    int rc = store_run_get(run_id, &arena, &run);
    if (rc != DB_OK)
        api_run_not_found(r, rc, run_id);
    else
        reply_json(r, json_pack("{s:o}", "run", api_run_json(&run)));
    arena_cleanup(&arena);
}

/* A runs/update waiting for its commit. */
struct update_state {
    struct api_call c; /* first: the answer gets it back from c */
    struct arena arena;
    char run_id[64];
    int feed_status; /* status or end time changed */
    int feed_name;   /* renamed */
};

static void update_answer(struct api_call *c, struct reply *r)
{
    struct update_state *s = (struct update_state *)c;
    struct run_info info;
    int rc = store_run_update_answer(&c->call, &s->arena, &info);
    if (rc != DB_OK) {
        api_run_not_found(r, rc, s->run_id);
    } else {
        if (s->feed_status)
            change_feed_run(s->run_id, "status");
        if (s->feed_name)
            change_feed_run(s->run_id, "tags"); /* the name is the mlflow.runName tag too */
        reply_json(r, json_pack("{s:o}", "run_info", api_run_info_json(&info)));
    }
    store_call_cleanup(&c->call);
    arena_cleanup(&s->arena);
    free(s);
}

void api_runs_update(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    const char *run_id, *run_name = NULL;
    int status = 0;
    int64_t end_time = 0;

    if (input_run_id(&in, &run_id, r) != JX_OK)
        return;
    int has_status = jx_enum(&in, "status", api_run_status_names, 5, &status, r);
    if (has_status == JX_BAD)
        return;
    int has_end = jx_int64(&in, "end_time", &end_time, r);
    if (has_end == JX_BAD)
        return;
    if (jx_string(&in, "run_name", &run_name, r) == JX_BAD)
        return;
    if (run_name != NULL && validate_utf8_length(run_name) > MAX_RUN_NAME_LENGTH) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter 'run_name': it exceeds the maximum length of "
                    "%d characters",
                    MAX_RUN_NAME_LENGTH);
        return;
    }
    if (!validate_is_run_id(run_id)) {
        api_run_not_found(r, DB_NOT_FOUND, run_id);
        return;
    }
    struct update_state *s = xcalloc(1, sizeof *s);
    arena_init(&s->arena);
    snprintf(s->run_id, sizeof s->run_id, "%s", run_id);
    s->feed_status = has_status == JX_OK || has_end == JX_OK;
    s->feed_name = run_name != NULL;
    store_run_update_call(run_id, status, has_end == JX_OK, end_time, run_name, &s->c.call);
    s->c.answer = update_answer;
    api_call_run(req, &s->c, r);
}

static void set_deleted(const struct request *req, struct reply *r, int deleted)
{
    struct input in = input_from(req);
    const char *run_id;

    if (input_run_id(&in, &run_id, r) != JX_OK)
        return;
    int rc = validate_is_run_id(run_id) ? store_run_set_deleted(run_id, deleted) : DB_NOT_FOUND;
    if (rc != DB_OK) {
        api_run_not_found(r, rc, run_id);
        return;
    }
    change_feed_run(run_id, deleted ? "deleted" : "restored");
    reply_json(r, json_object());
}

void api_runs_delete(const struct request *req, struct reply *r)
{
    set_deleted(req, r, 1);
}

void api_runs_restore(const struct request *req, struct reply *r)
{
    set_deleted(req, r, 0);
}
