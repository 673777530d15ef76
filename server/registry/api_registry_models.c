/* Registered models: create, get, rename, update, delete, tags, latest
 * versions and aliases. Decode -> store -> encode; no SQL. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "api_registry_common.h"

static void reply_model(struct reply *r, const char *name)
{
    struct arena arena;
    struct registered_model m;

    arena_init(&arena);
    int rc = store_rm_get(name, &arena, &m);
    if (rc != DB_OK)
        reg_model_not_found(r, rc, name);
    else
        reply_json(r, json_pack("{s:o}", "registered_model", reg_model_json(&m)));
    arena_cleanup(&arena);
}

static int has_prompt_tag(const struct kv *tags, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(tags[i].key, MLFLOW_TAG_IS_PROMPT) == 0 &&
            strcasecmp(tags[i].value, "true") == 0)
            return 1;
    return 0;
}

/* The duplicate-name error; when the request or the existing model is a
 * prompt ([3.x]), MLflow's wording says which side is which. */
static void reply_exists(struct reply *r, const char *name, int request_is_prompt)
{
    struct arena arena;
    struct registered_model m;

    arena_init(&arena);
    int taken_by_prompt =
        store_rm_get(name, &arena, &m) == DB_OK && has_prompt_tag(m.tags, m.ntags);
    arena_cleanup(&arena);
    if (request_is_prompt == taken_by_prompt) {
        reply_error(r, ERR_RESOURCE_ALREADY_EXISTS,
                    "Registered Model (name=%.300s) already exists.", name);
        return;
    }
    const char *want = request_is_prompt ? "prompt" : "registered model";
    const char *have = taken_by_prompt ? "prompt" : "registered model";
    reply_error(r, ERR_RESOURCE_ALREADY_EXISTS,
                "Tried to create a %s with name '%.300s', but the name is already taken by a %s. "
                "MLflow does not allow creating a model and a prompt with the same name.",
                want, name, have);
}

void api_registry_models_create(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    const char *name, *description = "";
    struct kv *tags;
    size_t ntags;

    arena_init(&arena);
    if (reg_name(&in, "name", 1, &name, r) != JX_OK)
        goto out;
    if (jx_string(&in, "description", &description, r) == JX_BAD ||
        reg_check_length("description", description, MAX_DESCRIPTION_LENGTH, r) != JX_OK)
        goto out;
    if (reg_tags(&in, MAX_MODEL_TAG_VALUE_LENGTH, 1, &arena, &tags, &ntags, r) != JX_OK)
        goto out;
    int rc = store_rm_create(name, description, tags, ntags, req->user.name);
    if (rc == DB_EXISTS)
        reply_exists(r, name, has_prompt_tag(tags, ntags));
    else if (rc != DB_OK)
        reg_model_not_found(r, rc, name);
    else
        reply_model(r, name);
out:
    arena_cleanup(&arena);
}

void api_registry_models_get(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    const char *name;
    uint64_t gen;

    if (reg_name(&in, "name", 0, &name, r) != JX_OK ||
        reg_cache_reply(READ_CACHE_MODEL, name, "", r, &gen))
        return;
    reply_model(r, name);
    reg_cache_store(READ_CACHE_MODEL, name, "", gen, r);
}

void api_registry_models_rename(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    const char *name, *new_name;

    if (reg_name(&in, "name", 0, &name, r) != JX_OK ||
        reg_name(&in, "new_name", 1, &new_name, r) != JX_OK)
        return;
    int rc = store_rm_rename(name, new_name, req->user.name);
    if (rc == DB_EXISTS)
        reply_error(r, ERR_RESOURCE_ALREADY_EXISTS,
                    "Registered Model (name=%.300s) already exists.", new_name);
    else if (rc != DB_OK)
        reg_model_not_found(r, rc, name);
    else
        reply_model(r, new_name);
}

void api_registry_models_update(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    const char *name, *description = "";

    if (reg_name(&in, "name", 0, &name, r) != JX_OK)
        return;
    /* an absent description clears it (MLflow sends "") */
    if (jx_string(&in, "description", &description, r) == JX_BAD ||
        reg_check_length("description", description, MAX_DESCRIPTION_LENGTH, r) != JX_OK)
        return;
    int rc = store_rm_update(name, description, req->user.name);
    if (rc != DB_OK)
        reg_model_not_found(r, rc, name);
    else
        reply_model(r, name);
}

void api_registry_models_delete(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    const char *name;

    if (reg_name(&in, "name", 0, &name, r) != JX_OK)
        return;
    int rc = store_rm_delete(name, req->user.name);
    if (rc != DB_OK)
        reg_model_not_found(r, rc, name);
    else
        reply_json(r, json_object());
}

static void tag(const struct request *req, struct reply *r, int set)
{
    struct input in = input_from(req);
    const char *name, *key, *value = "";

    if (reg_name(&in, "name", 0, &name, r) != JX_OK || reg_required(&in, "key", &key, r) != JX_OK)
        return;
    if (set && jx_string(&in, "value", &value, r) == JX_BAD)
        return;
    if (reg_check_tag(key, set ? value : "", MAX_MODEL_TAG_VALUE_LENGTH, r) != JX_OK)
        return;
    int rc = store_rm_tag(name, key, set ? value : NULL, req->user.name);
    if (rc != DB_OK)
        reg_model_not_found(r, rc, name);
    else
        reply_json(r, json_object());
}

void api_registry_models_set_tag(const struct request *req, struct reply *r)
{
    tag(req, r, 1);
}

void api_registry_models_delete_tag(const struct request *req, struct reply *r)
{
    tag(req, r, 0);
}

void api_registry_models_latest(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    const char *name;
    const json_t *arr = NULL;
    struct model_version *versions;
    size_t n;

    if (reg_name(&in, "name", 0, &name, r) != JX_OK)
        return;
    int rc = jx_array(&in, "stages", &arr, r);
    if (rc == JX_BAD)
        return;
    size_t nstages = rc == JX_OK ? json_array_size(arr) : 0;
    arena_init(&arena);
    const char **stages = arena_alloc(&arena, (nstages + 1) * sizeof *stages);
    for (size_t i = 0; i < nstages; i++) {
        const char *s;
        if (jx_array_string(arr, i, "stages", &s, r) != JX_OK ||
            (stages[i] = reg_stage(s, r)) == NULL)
            goto out;
    }
    rc = store_rm_latest(name, stages, nstages, 1, &arena, &versions, &n);
    if (rc != DB_OK) {
        reg_model_not_found(r, rc, name);
        goto out;
    }
    json_t *o = json_object();
    if (n > 0) {
        json_t *list = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(list, reg_version_json(&versions[i], 1));
        json_object_set_new(o, "model_versions", list);
    }
    reply_json(r, o);
out:
    arena_cleanup(&arena);
}

void api_registry_alias_set(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    const char *name, *alias;
    int64_t version;

    if (reg_name(&in, "name", 0, &name, r) != JX_OK ||
        reg_required(&in, "alias", &alias, r) != JX_OK || reg_check_alias(alias, 1, r) != JX_OK ||
        reg_version(&in, &version, r) != JX_OK)
        return;
    int rc = store_alias_set(name, alias, version, req->user.name);
    if (rc != DB_OK)
        reg_version_not_found(r, rc, name, version);
    else
        reply_json(r, json_object());
}

void api_registry_alias_delete(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    const char *name, *alias;

    if (reg_name(&in, "name", 0, &name, r) != JX_OK ||
        reg_required(&in, "alias", &alias, r) != JX_OK || reg_check_alias(alias, 0, r) != JX_OK)
        return;
    int rc = store_alias_delete(name, alias, req->user.name);
    if (rc != DB_OK)
        reg_model_not_found(r, rc, name);
    else
        reply_json(r, json_object());
}

void api_registry_alias_get(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct model_version v;
    const char *name, *alias;
    uint64_t gen;
    int rc;

    if (reg_name(&in, "name", 0, &name, r) != JX_OK ||
        reg_required(&in, "alias", &alias, r) != JX_OK || reg_check_alias(alias, 0, r) != JX_OK ||
        reg_cache_reply(READ_CACHE_ALIAS, name, alias, r, &gen))
        return;
    arena_init(&arena);
    if (strcasecmp(alias, "latest") == 0) {
        /* [3.10] "latest": the highest live version; no model is a 404 first */
        rc = store_mv_get_latest(name, &arena, &v);
        if (rc == DB_STATE)
            reply_error(r, ERR_RESOURCE_DOES_NOT_EXIST,
                        "Latest version not found for model %.300s.", name);
        else if (rc != DB_OK)
            reg_model_not_found(r, rc, name);
        else
            reply_json(r, json_pack("{s:o}", "model_version", reg_version_json(&v, 1)));
        goto out;
    }
    rc = store_alias_get(name, alias, &arena, &v);
    if (rc == DB_STATE)
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "Registered model alias %.300s not found.",
                    alias);
    else if (rc != DB_OK)
        reg_model_not_found(r, rc, name);
    else
        reply_json(r, json_pack("{s:o}", "model_version", reg_version_json(&v, 1)));
out:
    reg_cache_store(READ_CACHE_ALIAS, name, alias, gen, r);
    arena_cleanup(&arena);
}
