/* Logged models: create, get, finalize, delete, tags and params
 * (mlflow-models-api.md 2.1-2.3). Decode -> store -> encode; no SQL. The
 * artifact routes of a model are served by server/artifacts/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_logged_models_common.h"
#include "artifacts/api.h"
#include "core/ids.h"
#include "events/change_feed.h"
#include "core/validate.h"
#include "filter.h"
#include "model_versions.h"

#define MAX_LM_NAME_LENGTH 500
#define MAX_LM_FIELD_LENGTH 500
#define MAX_LM_KEY_LENGTH 255
#define MAX_LM_ITEMS 1000

/* A 400 naming the required field, in MLflow's words. */
static void missing(struct reply *r, const char *key)
{
    reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                "Missing value for required parameter '%s'. See the API docs for more "
                "information about request parameters.",
                key);
}

static int check_length(const char *field, const char *value, size_t max, struct reply *r)
{
    if (validate_utf8_length(value) > max) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "'%s' exceeds the maximum length of %zu characters", field, max);
        return JX_BAD;
    }
    return JX_OK;
}

/* Reads an optional [{key, value}] list (a null value is ""). For the
 * mlflow.modelVersions tag, the value is normalized (model_versions.h). */
static int read_kv(const struct input *in, const char *field, struct arena *arena, struct kv **out,
                   size_t *n, struct reply *r)
{
    const json_t *arr;
    char where[80];

    *out = NULL;
    *n = 0;
    int rc = jx_array(in, field, &arr, r);
    if (rc != JX_OK)
        return rc == JX_ABSENT ? JX_OK : JX_BAD;
    if (json_array_size(arr) > MAX_LM_ITEMS) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "'%s' may hold at most %d entries", field,
                    MAX_LM_ITEMS);
        return JX_BAD;
    }
    *out = arena_alloc(arena, (json_array_size(arr) + 1) * sizeof **out);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        struct input item;
        const char *key, *value = "";
        if (jx_item(arr, i, field, where, sizeof where, &item, r) != JX_OK ||
            jx_required_string(&item, "key", &key, r) != JX_OK ||
            jx_string(&item, "value", &value, r) == JX_BAD)
            return JX_BAD;
        if (check_length("key", key, MAX_LM_KEY_LENGTH, r) != JX_OK) {
            reply_prefix_message(r, where);
            return JX_BAD;
        }
        if (strcmp(field, "tags") == 0 && strcmp(key, LM_TAG_MODEL_VERSIONS) == 0) {
            char *normal = lm_model_versions_normalize(value);
            if (normal != NULL) {
                value = arena_strdup(arena, normal);
                free(normal);
            }
        }
        (*out)[*n].key = key;
        (*out)[*n].value = value;
        (*n)++;
    }
    return JX_OK;
}

/* 400 BAD_REQUEST when two params share a key (MLflow: the primary key). */
static int distinct_keys(const struct kv *kv, size_t n, struct reply *r)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = i + 1; k < n; k++)
            if (strcmp(kv[i].key, kv[k].key) == 0) {
                reply_error(r, ERR_BAD_REQUEST, "Duplicate param key '%.300s' in the request",
                            kv[i].key);
                return JX_BAD;
            }
    return JX_OK;
}

/* The model name rule of 2.3. */
static int check_name(const char *name, struct reply *r)
{
    if (strpbrk(name, "/:.%\"'") != NULL) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid model name ('%.300s') provided. Model name must be a non-empty "
                    "string and cannot contain the following characters: ('/', ':', '.', '%%', "
                    "'\"', \"'\")",
                    name);
        return JX_BAD;
    }
    return check_length("name", name, MAX_LM_NAME_LENGTH, r);
}

static void reply_model(struct reply *r, const char *model_id, int allow_deleted)
{
    struct arena arena;
    struct logged_model m;

    arena_init(&arena);
    int rc = store_lm_get(model_id, allow_deleted, &arena, &m);
    if (rc != DB_OK)
        lm_not_found(r, rc, model_id);
    else
        reply_json(r, json_pack("{s:o}", "model", lm_model_json(&m)));
    arena_cleanup(&arena);
}

void api_logged_models_create(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct logged_model_new m = {0};
    char model_id[35], run_hex[33], random_name[32];
    const char *name = NULL;

    arena_init(&arena);
    if (input_experiment_id(&in, "experiment_id", &m.experiment_id, r) != JX_OK)
        goto out;
    if (jx_string(&in, "name", &name, r) == JX_BAD ||
        jx_string(&in, "model_type", &m.model_type, r) == JX_BAD ||
        jx_string(&in, "source_run_id", &m.source_run_id, r) == JX_BAD)
        goto out;
    if (name == NULL || name[0] == '\0') {
        ids_random_run_name(random_name, sizeof random_name);
        name = random_name;
    } else if (check_name(name, r) != JX_OK) {
        goto out;
    }
    if ((m.model_type && check_length("model_type", m.model_type, MAX_LM_FIELD_LENGTH, r)) ||
        (m.source_run_id && check_length("source_run_id", m.source_run_id, MAX_LM_FIELD_LENGTH, r)))
        goto out;
    struct kv *params, *tags;
    if (read_kv(&in, "params", &arena, &params, &m.nparams, r) != JX_OK ||
        distinct_keys(params, m.nparams, r) != JX_OK ||
        read_kv(&in, "tags", &arena, &tags, &m.ntags, r) != JX_OK)
        goto out;
    m.params = params;
    m.tags = tags;
    ids_new_run_id(run_hex);
    snprintf(model_id, sizeof model_id, "m-%s", run_hex);
    m.model_id = model_id;
    m.name = name;
    int rc = store_lm_create(&m);
    if (rc == DB_STATE)
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "The experiment %lld must be in the 'active' state to create logged models",
                    (long long)m.experiment_id);
    else if (rc != DB_OK)
        reply_store_experiment_not_found(r, rc, m.experiment_id);
    else {
        change_feed_models(m.experiment_id);
        reply_model(r, model_id, 0);
    }
out:
    arena_cleanup(&arena);
}

/* The path after the prefix split at its first '/': the model id (copied
 * into id, cut to 63 bytes: a longer one is no id and will not be found)
 * and what follows ("" when nothing). */
static void split_path(const struct request *req, char id[64], const char **rest)
{
    const char *p = input_path_after(req, LM_ROUTE_PREFIX);
    if (p == NULL)
        p = "";
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    *rest = slash ? slash + 1 : "";
    if (n >= 64)
        n = 63;
    memcpy(id, p, n);
    id[n] = '\0';
}

static void no_endpoint(const struct request *req, struct reply *r)
{
    reply_error(r, ERR_ENDPOINT_NOT_FOUND, "No API endpoint for %s at this logged-model path",
                req->method);
}

/* Reads the optional body "model_id" that must equal the path's. */
static int body_model_id(const struct input *in, const char *id, struct reply *r)
{
    const char *body_id;
    int rc = jx_string(in, "model_id", &body_id, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (rc == JX_OK && strcmp(body_id, id) != 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "The body's model_id does not match the model id in the path");
        return JX_BAD;
    }
    return JX_OK;
}

void api_logged_models_get_path(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    char id[64];
    const char *rest;
    int allow_deleted = 0;

    split_path(req, id, &rest);
    if (strcmp(rest, "artifacts/directories") == 0 || strcmp(rest, "artifacts/files") == 0) {
        if (!validate_is_logged_model_id(id))
            lm_not_found(r, DB_NOT_FOUND, id);
        else if (rest[10] == 'd')
            api_artifacts_model_directories(req, id, r);
        else
            api_artifacts_model_file(req, id, r);
        return;
    }
    if (rest[0] != '\0') {
        no_endpoint(req, r);
        return;
    }
    if (jx_bool(&in, "allow_deleted", &allow_deleted, r) == JX_BAD)
        return;
    if (!validate_is_logged_model_id(id)) {
        lm_not_found(r, DB_NOT_FOUND, id);
        return;
    }
    reply_model(r, id, allow_deleted);
}

static void finalize(const struct request *req, const char *id, struct reply *r)
{
    struct input in = input_from(req);
    const json_t *v = json_object_get(in.obj, "status");
    int status = -1;
    int64_t exp;

    if (body_model_id(&in, id, r) != JX_OK)
        return;
    if (v == NULL || json_is_null(v)) {
        missing(r, "status");
        return;
    }
    if (json_is_string(v))
        status = lm_status_parse(json_string_value(v));
    else if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 3)
        status = (int)json_integer_value(v);
    if (status < 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter 'status': expected one of "
                    "LOGGED_MODEL_STATUS_UNSPECIFIED, LOGGED_MODEL_PENDING, LOGGED_MODEL_READY, "
                    "LOGGED_MODEL_UPLOAD_FAILED (or 0-3)");
        return;
    }
    int rc = validate_is_logged_model_id(id) ? store_lm_finalize(id, status, &exp) : DB_NOT_FOUND;
    if (rc != DB_OK) {
        lm_not_found(r, rc, id);
    } else {
        change_feed_models(exp);
        reply_model(r, id, 1);
    }
}

static void set_tags(const struct request *req, const char *id, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct kv *tags;
    size_t n;
    int64_t exp;

    arena_init(&arena);
    if (read_kv(&in, "tags", &arena, &tags, &n, r) != JX_OK)
        goto out;
    int rc = validate_is_logged_model_id(id) ? store_lm_set_tags(id, tags, n, &exp) : DB_NOT_FOUND;
    if (rc != DB_OK) {
        lm_not_found(r, rc, id);
    } else {
        change_feed_models(exp);
        reply_json(r, json_object());
    }
out:
    arena_cleanup(&arena);
}

void api_logged_models_patch_path(const struct request *req, struct reply *r)
{
    char id[64];
    const char *rest;

    split_path(req, id, &rest);
    if (rest[0] == '\0')
        finalize(req, id, r);
    else if (strcmp(rest, "tags") == 0)
        set_tags(req, id, r);
    else
        no_endpoint(req, r);
}

/* True when s can be echoed in a message: valid UTF-8 without control
 * characters (a path segment may hold anything). */
static int printable(const char *s)
{
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20)
            return 0;
    json_t *j = json_string(s);
    json_decref(j);
    return j != NULL;
}

void api_logged_models_delete_path(const struct request *req, struct reply *r)
{
    char id[64];
    const char *rest;
    int64_t exp;

    split_path(req, id, &rest);
    if (rest[0] == '\0') {
        int rc = validate_is_logged_model_id(id) ? store_lm_delete(id, &exp) : DB_NOT_FOUND;
        if (rc != DB_OK) {
            lm_not_found(r, rc, id);
        } else {
            change_feed_models(exp);
            reply_json(r, json_object());
        }
        return;
    }
    if (strncmp(rest, "tags/", 5) != 0 || rest[5] == '\0' || strchr(rest + 5, '/') != NULL) {
        no_endpoint(req, r);
        return;
    }
    const char *key = rest + 5;
    json_t *valid = json_string(key);
    json_decref(valid);
    /* a key that is not UTF-8 cannot be stored, so it is absent: ask with
     * "" (never a key) to tell a missing tag from a missing model */
    int rc = validate_is_logged_model_id(id) ? store_lm_delete_tag(id, valid ? key : "", &exp)
                                             : DB_NOT_FOUND;
    if (rc == DB_LM_NO_TAG) {
        if (printable(key) && strlen(key) <= 300)
            reply_error(r, ERR_RESOURCE_DOES_NOT_EXIST,
                        "No tag with key '%s' found for model with ID '%s'.", key, id);
        else
            reply_error(r, ERR_RESOURCE_DOES_NOT_EXIST, "No such tag found for model with ID '%s'.",
                        id);
    } else if (rc != DB_OK) {
        lm_not_found(r, rc, id);
    } else {
        change_feed_models(exp);
        reply_json(r, json_object());
    }
}

void api_logged_models_post_path(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    char id[64];
    const char *rest;
    struct kv *params;
    size_t n;

    split_path(req, id, &rest);
    if (strcmp(rest, "params") != 0) {
        no_endpoint(req, r);
        return;
    }
    arena_init(&arena);
    if (body_model_id(&in, id, r) != JX_OK ||
        read_kv(&in, "params", &arena, &params, &n, r) != JX_OK ||
        distinct_keys(params, n, r) != JX_OK)
        goto out;
    int rc = validate_is_logged_model_id(id) ? store_lm_log_params(id, params, n) : DB_NOT_FOUND;
    if (rc == DB_EXISTS)
        reply_error(r, ERR_BAD_REQUEST,
                    "A param of model '%s' already has one of these keys; params cannot be changed",
                    id);
    else if (rc != DB_OK)
        lm_not_found(r, rc, id);
    else
        reply_json(r, json_object());
out:
    arena_cleanup(&arena);
}
