/* The registry's field rules, error wording and JSON (api_registry_common.h). */
#include "api_registry_common.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/validate.h"

int reg_required(const struct input *in, const char *key, const char **out, struct reply *r)
{
    int rc = jx_string(in, key, out, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (rc == JX_ABSENT || (*out)[0] == '\0') {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Missing value for required parameter '%s'. See the API docs for more "
                    "information about request parameters.",
                    key);
        return JX_BAD;
    }
    return JX_OK;
}

int reg_name(const struct input *in, const char *key, int strict, const char **out, struct reply *r)
{
    if (reg_required(in, key, out, r) != JX_OK)
        return JX_BAD;
    if (!strict)
        return JX_OK;
    const char *s = *out;
    if (validate_utf8_length(s) > MAX_MODEL_NAME_LENGTH) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter '%s': registered model names may be at most %d "
                    "characters",
                    key, MAX_MODEL_NAME_LENGTH);
        return JX_BAD;
    }
    int blank = 1;
    for (const char *p = s; *p; p++)
        if (!isspace((unsigned char)*p))
            blank = 0;
    if (blank || strchr(s, '/') || strchr(s, ':') || strcmp(s, ".") == 0 ||
        strncmp(s, "..", 2) == 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid model name '%.300s' for parameter '%s': names must not be blank, "
                    "contain '/' or ':', be '.' or start with '..'",
                    s, key);
        return JX_BAD;
    }
    return JX_OK;
}

static int version_error(const char *shown, struct reply *r)
{
    reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                "Parameter 'version' must be an integer, got '%.100s'.", shown);
    return JX_BAD;
}

int reg_version(const struct input *in, int64_t *out, struct reply *r)
{
    const json_t *v = json_object_get(in->obj, "version");
    if (v != NULL && in->from_query && json_is_array(v))
        v = json_array_get(v, 0);
    if (v == NULL || json_is_null(v) || (json_is_string(v) && json_string_value(v)[0] == '\0')) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Missing value for required parameter 'version'. See the API docs for more "
                    "information about request parameters.");
        return JX_BAD;
    }
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return JX_OK;
    }
    if (json_is_string(v)) {
        if (jx_parse_int64_text(json_string_value(v), out) == 0)
            return JX_OK;
        return version_error(json_string_value(v), r);
    }
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    version_error(text ? text : "?", r);
    free(text);
    return JX_BAD;
}

static const char *const stages[] = {"None", "Staging", "Production", "Archived"};

const char *reg_stage(const char *stage, struct reply *r)
{
    for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++)
        if (strcasecmp(stage, stages[i]) == 0)
            return stages[i];
    reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                "Invalid Model Version stage: %.100s. Value must be one of None, Staging, "
                "Production, Archived.",
                stage);
    return NULL;
}

int reg_check_length(const char *field, const char *value, size_t max, struct reply *r)
{
    if (value != NULL && validate_utf8_length(value) > max) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "'%s' exceeds the maximum length of %zu characters", field, max);
        return JX_BAD;
    }
    return JX_OK;
}

int reg_check_tag(const char *key, const char *value, size_t max_value, struct reply *r)
{
    if (reg_check_length("key", key, MAX_REGISTRY_KEY_LENGTH, r) != JX_OK)
        return JX_BAD;
    const char *rule = validate_key_rule(key);
    if (rule != NULL) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value '%.300s' for parameter 'key' supplied: %s", key, rule);
        return JX_BAD;
    }
    return reg_check_length("value", value, max_value, r);
}

int reg_check_alias(const char *alias, int for_set, struct reply *r)
{
    if (alias[0] == '\0') {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "Registered model alias name cannot be empty.");
        return JX_BAD;
    }
    for (const char *p = alias; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-') {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                        "Invalid alias name: '%.300s'. Names may only contain alphanumerics, "
                        "underscores (_), and dashes (-).",
                        alias);
            return JX_BAD;
        }
    if (strlen(alias) > MAX_ALIAS_LENGTH) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "'alias' exceeds the maximum length of %d characters", MAX_ALIAS_LENGTH);
        return JX_BAD;
    }
    if (!for_set)
        return JX_OK;
    if (strcasecmp(alias, "latest") == 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "'latest' alias name (case insensitive) is reserved.");
        return JX_BAD;
    }
    if ((alias[0] == 'v' || alias[0] == 'V') && alias[1] != '\0' &&
        strspn(alias + 1, "0123456789") == strlen(alias + 1)) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "Version alias name '%s' is reserved.", alias);
        return JX_BAD;
    }
    return JX_OK;
}

int reg_tags(const struct input *in, size_t max_value, int null_ok, struct arena *arena,
             struct kv **tags, size_t *n, struct reply *r)
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
        const char *key, *value = "";
        if (jx_item(arr, i, "tags", where, sizeof where, &item, r) != JX_OK)
            return JX_BAD;
        if (jx_required_string(&item, "key", &key, r) != JX_OK)
            return JX_BAD;
        const json_t *raw = json_object_get(item.obj, "value");
        if (!null_ok && raw != NULL && json_is_null(raw)) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE, "%s: Tag value cannot be None", where);
            return JX_BAD;
        }
        if (jx_string(&item, "value", &value, r) == JX_BAD)
            return JX_BAD;
        if (reg_check_tag(key, value, max_value, r) != JX_OK) {
            reply_prefix_message(r, where);
            return JX_BAD;
        }
        (*tags)[*n].key = key;
        (*tags)[*n].value = value;
        (*n)++;
    }
    return JX_OK;
}

void reg_model_not_found(struct reply *r, int rc, const char *name)
{
    char msg[400];
    snprintf(msg, sizeof msg, "Registered Model with name=%.300s not found", name);
    reply_store_error(r, rc, msg);
}

void reg_version_not_found(struct reply *r, int rc, const char *name, int64_t version)
{
    char msg[400];
    snprintf(msg, sizeof msg, "Model Version (name=%.300s, version=%lld) not found", name,
             (long long)version);
    reply_store_error(r, rc, msg);
}

static json_t *tags_json(const struct kv *tags, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr,
                              json_pack("{s:s, s:s}", "key", tags[i].key, "value", tags[i].value));
    return arr;
}

static void set_string(json_t *o, const char *key, const char *value)
{
    if (value != NULL)
        json_object_set_new(o, key, json_string(value));
}

json_t *reg_version_json(const struct model_version *v, int with_aliases)
{
    char version[24];
    snprintf(version, sizeof version, "%lld", (long long)v->version);
    json_t *o = json_pack("{s:s, s:s, s:I}", "name", v->name, "version", version,
                          "creation_timestamp", (json_int_t)v->creation_time);
    if (v->has_last_updated)
        json_object_set_new(o, "last_updated_timestamp", json_integer(v->last_updated_time));
    set_string(o, "current_stage", v->current_stage);
    set_string(o, "description", v->description);
    set_string(o, "source", v->source);
    set_string(o, "run_id", v->run_id);
    set_string(o, "status", v->status ? v->status : "READY");
    set_string(o, "run_link", v->run_link);
    if (v->status_message != NULL && v->status_message[0] != '\0')
        set_string(o, "status_message", v->status_message);
    if (v->ntags > 0)
        json_object_set_new(o, "tags", tags_json(v->tags, v->ntags));
    if (with_aliases && v->naliases > 0) {
        json_t *arr = json_array();
        for (size_t i = 0; i < v->naliases; i++)
            json_array_append_new(arr, json_string(v->aliases[i]));
        json_object_set_new(o, "aliases", arr);
    }
    return o;
}

json_t *reg_model_json(const struct registered_model *m)
{
    json_t *o = json_pack("{s:s, s:I}", "name", m->name, "creation_timestamp",
                          (json_int_t)m->creation_time);
    if (m->last_updated_time != 0)
        json_object_set_new(o, "last_updated_timestamp", json_integer(m->last_updated_time));
    if (m->description != NULL && m->description[0] != '\0')
        set_string(o, "description", m->description);
    if (m->nlatest > 0) {
        json_t *arr = json_array();
        for (size_t i = 0; i < m->nlatest; i++)
            json_array_append_new(arr, reg_version_json(&m->latest[i], 0));
        json_object_set_new(o, "latest_versions", arr);
    }
    if (m->ntags > 0)
        json_object_set_new(o, "tags", tags_json(m->tags, m->ntags));
    if (m->naliases > 0) {
        json_t *arr = json_array();
        for (size_t i = 0; i < m->naliases; i++)
            json_array_append_new(arr, json_pack("{s:s, s:s}", "alias", m->aliases[i].key,
                                                 "version", m->aliases[i].value));
        json_object_set_new(o, "aliases", arr);
    }
    return o;
}

int reg_cache_reply(enum read_cache_kind kind, const char *a, const char *b, struct reply *r,
                    uint64_t *gen)
{
    char *body;
    size_t len;

    if (!read_cache_get(kind, a, b, &body, &len, gen))
        return 0;
    reply_json_text(r, body, len);
    return 1;
}

void reg_cache_store(enum read_cache_kind kind, const char *a, const char *b, uint64_t gen,
                     const struct reply *r)
{
    if (gen != 0 && !r->is_error && r->status == 200 && r->body != NULL && r->stream == NULL)
        read_cache_put(kind, a, b, gen, r->body, r->body_len);
}
