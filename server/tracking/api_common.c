/* Shared decoding, encoding and error mapping for the api_* files. */
#include "api_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/validate.h"

const char *const api_run_status_names[5] = {"RUNNING", "SCHEDULED", "FINISHED", "FAILED",
                                             "KILLED"};
const char *const api_view_type_names[3] = {"ACTIVE_ONLY", "DELETED_ONLY", "ALL"};

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

/* [{"model_id"[, "step"]}] of a run's logged-model links. */
static json_t *model_links_json(const struct model_link *l, size_t n, int with_step)
{
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_pack("{s:s}", "model_id", l[i].model_id);
        if (with_step)
            json_object_set_new(item, "step", json_integer(l[i].step));
        json_array_append_new(list, item);
    }
    return list;
}

static json_t *inputs_json(const struct run *run)
{
    json_t *inputs = json_object();
    if (run->nmodel_inputs)
        json_object_set_new(inputs, "model_inputs",
                            model_links_json(run->model_inputs, run->nmodel_inputs, 0));
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
    json_t *obj = json_pack("{s:o, s:o, s:o}", "info", api_run_info_json(&run->info), "data", data,
                            "inputs", inputs_json(run));
    if (run->nmodel_outputs) /* [3.x]; omitted when empty */
        json_object_set_new(
            obj, "outputs",
            json_pack("{s:o}", "model_outputs",
                      model_links_json(run->model_outputs, run->nmodel_outputs, 1)));
    return obj;
}

void api_run_not_found(struct reply *r, int rc, const char *run_id)
{
    char msg[400];
    snprintf(msg, sizeof msg, "Run with id=%.256s not found", run_id);
    if (rc == DB_STATE)
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "The run %.256s must be in the 'active' state",
                    run_id);
    else
        reply_store_error(r, rc, msg);
}
