/* Shared decoding, encoding and error mapping for the api_* files. */
#include "api_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/b64.h"
#include "core/validate.h"
#include "core/xalloc.h"

const char *const api_run_status_names[5] = {"RUNNING", "SCHEDULED", "FINISHED", "FAILED",
                                             "KILLED"};
const char *const api_view_type_names[3] = {"ACTIVE_ONLY", "DELETED_ONLY", "ALL"};

struct input api_input(const struct request *req)
{
    struct input in = {req->input, req->from_query, NULL};
    return in;
}

int api_run_id(const struct input *in, const char **out, struct reply *r)
{
    int rc = jx_string(in, "run_id", out, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (rc == JX_OK && (*out)[0] != '\0')
        return JX_OK;
    rc = jx_string(in, "run_uuid", out, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (rc == JX_OK && (*out)[0] != '\0')
        return JX_OK;
    reply_error(r, ERR_INVALID_PARAMETER_VALUE, "Missing value for required parameter 'run_id'");
    return JX_BAD;
}

int api_experiment_id(const struct input *in, const char *key, int64_t *out, struct reply *r)
{
    const json_t *v = json_object_get(in->obj, key);
    if (in->from_query && json_is_array(v))
        v = json_array_get(v, 0);
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return JX_OK;
    }
    const char *s;
    if (jx_required_string(in, key, &s, r) != JX_OK)
        return JX_BAD;
    char *end;
    long long id = strtoll(s, &end, 10);
    if (*end != '\0' || id < 0 || s[0] == '-' || s[0] == '+' || s[0] == ' ') {
        reply_error(r, ERR_RESOURCE_DOES_NOT_EXIST, "No Experiment with id=%.100s exists", s);
        return JX_BAD;
    }
    *out = id;
    return JX_OK;
}

void api_store_error(struct reply *r, int rc, const char *not_found_message)
{
    switch (rc) {
    case DB_NOT_FOUND:
        reply_error(r, ERR_RESOURCE_DOES_NOT_EXIST, "%s", not_found_message);
        return;
    case DB_UNAVAILABLE:
        reply_error(r, ERR_TEMPORARILY_UNAVAILABLE,
                    "the database is unavailable; retry in a moment");
        return;
    case DB_TIMEOUT:
        reply_error(r, ERR_TEMPORARILY_UNAVAILABLE, "the database did not answer in time");
        return;
    case DB_INVALID:
        reply_error(r, ERR_BAD_REQUEST, "a value was rejected by the database");
        return;
    case DB_RETRY:
        reply_error(r, ERR_TEMPORARILY_UNAVAILABLE,
                    "the write conflicted with concurrent writes; retry it");
        return;
    case DB_DISK_FULL:
        reply_error(r, ERR_RESOURCE_EXHAUSTED,
                    "the database is out of disk space; this request changed nothing. Retry "
                    "once an operator has freed space");
        return;
    default:
        reply_error(r, ERR_INTERNAL_ERROR, "internal database error");
        return;
    }
}

static json_t *kv_array(const struct kv *kv, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s}", "key", kv[i].key, "value", kv[i].value));
    return arr;
}

json_t *api_experiment_json(const struct experiment *e)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)e->id);
    json_t *obj =
        json_pack("{s:s, s:s, s:s, s:s}", "experiment_id", id, "name", e->name, "artifact_location",
                  e->artifact_location, "lifecycle_stage", store_lifecycle_name(e->deleted));
    if (e->last_update_time)
        json_object_set_new(obj, "last_update_time", json_integer(e->last_update_time));
    if (e->creation_time)
        json_object_set_new(obj, "creation_time", json_integer(e->creation_time));
    if (e->ntags)
        json_object_set_new(obj, "tags", kv_array(e->tags, e->ntags));
    return obj;
}

json_t *api_run_info_json(const struct run_info *info)
{
    char exp[24];
    snprintf(exp, sizeof exp, "%lld", (long long)info->experiment_id);
    json_t *obj = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "run_uuid", info->run_id, "run_id", info->run_id,
        "experiment_id", exp, "run_name", info->name, "user_id", info->user_id, "status",
        api_run_status_names[info->status - 1], "start_time", (json_int_t)info->start_time);
    if (info->has_end_time && info->end_time != 0)
        json_object_set_new(obj, "end_time", json_integer(info->end_time));
    if (info->artifact_uri && info->artifact_uri[0])
        json_object_set_new(obj, "artifact_uri", json_string(info->artifact_uri));
    json_object_set_new(obj, "lifecycle_stage", json_string(store_lifecycle_name(info->deleted)));
    return obj;
}

json_t *api_metric_json(const struct metric *m)
{
    return json_pack("{s:s, s:o, s:I, s:I}", "key", m->key, "value", jx_double_value(m->value),
                     "timestamp", (json_int_t)m->timestamp, "step", (json_int_t)m->step);
}

static json_t *inputs_json(const struct run *run)
{
    json_t *inputs = json_object();
    if (run->ninputs == 0)
        return inputs;
    json_t *list = json_array();
    for (size_t i = 0; i < run->ninputs; i++) {
        const struct dataset_input *in = &run->inputs[i];
        const struct dataset *d = &in->dataset;
        json_t *ds = json_pack("{s:s, s:s, s:s, s:s}", "name", d->name, "digest", d->digest,
                               "source_type", d->source_type, "source", d->source);
        if (d->schema)
            json_object_set_new(ds, "schema", json_string(d->schema));
        if (d->profile)
            json_object_set_new(ds, "profile", json_string(d->profile));
        json_t *item = json_object();
        if (in->ntags)
            json_object_set_new(item, "tags", kv_array(in->tags, in->ntags));
        json_object_set_new(item, "dataset", ds);
        json_array_append_new(list, item);
    }
    json_object_set_new(inputs, "dataset_inputs", list);
    return inputs;
}

json_t *api_run_json(const struct run *run)
{
    json_t *data = json_object();
    if (run->nmetrics) {
        json_t *metrics = json_array();
        for (size_t i = 0; i < run->nmetrics; i++)
            json_array_append_new(metrics, api_metric_json(&run->metrics[i]));
        json_object_set_new(data, "metrics", metrics);
    }
    if (run->nparams)
        json_object_set_new(data, "params", kv_array(run->params, run->nparams));
    if (run->ntags)
        json_object_set_new(data, "tags", kv_array(run->tags, run->ntags));
    return json_pack("{s:o, s:o, s:o}", "info", api_run_info_json(&run->info), "data", data,
                     "inputs", inputs_json(run));
}

char *api_page_token_encode(int64_t offset)
{
    char text[64];

    int n = snprintf(text, sizeof text, "{\"offset\": %lld}", (long long)offset);
    return b64_encode_new(text, (size_t)n);
}

int api_page_token_decode(const char *token, int64_t *offset)
{
    unsigned char raw[192];
    size_t len = strlen(token), n;
    int rc = -1;

    if (len > 128 || b64_decode(token, len, raw, sizeof raw, &n) < 0)
        return -1;
    json_t *obj = json_loadb((const char *)raw, n, 0, NULL);
    json_t *v = json_object_get(obj, "offset");
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        *offset = json_integer_value(v);
        rc = 0;
    }
    json_decref(obj);
    return rc;
}

int api_paging(const struct input *in, int64_t default_max, int64_t upper, int64_t *max_results,
               int64_t *offset, struct reply *r)
{
    const char *token;
    int rc = jx_int64(in, "max_results", max_results, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (rc == JX_ABSENT)
        *max_results = default_max;
    if (*max_results < 1 || *max_results > upper) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value %lld for parameter 'max_results' supplied: it must be at "
                    "least 1 and at most %lld",
                    (long long)*max_results, (long long)upper);
        return JX_BAD;
    }
    *offset = 0;
    rc = jx_string(in, "page_token", &token, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (rc == JX_OK && token[0] != '\0' && api_page_token_decode(token, offset) < 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid page token for parameter 'page_token': it was not made by this "
                    "server");
        return JX_BAD;
    }
    return JX_OK;
}

void api_run_not_found(struct reply *r, int rc, const char *run_id)
{
    char msg[400];
    snprintf(msg, sizeof msg, "Run with id=%.256s not found", run_id);
    if (rc == DB_STATE)
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "The run %.256s must be in the 'active' state",
                    run_id);
    else
        api_store_error(r, rc, msg);
}

void api_experiment_not_found(struct reply *r, int rc, int64_t id)
{
    char msg[96];
    snprintf(msg, sizeof msg, "No Experiment with id=%lld exists", (long long)id);
    api_store_error(r, rc, msg);
}
