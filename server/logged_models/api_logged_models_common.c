/* The logged models' JSON and wording (api_logged_models_common.h). */
#include "api_logged_models_common.h"

#include <stdio.h>
#include <string.h>

#include "core/validate.h"

void lm_not_found(struct reply *r, int rc, const char *model_id)
{
    char msg[200];
    /* only an id this server could have made is echoed (the path may hold anything) */
    if (validate_is_logged_model_id(model_id))
        snprintf(msg, sizeof msg, "Logged model with ID '%s' not found.", model_id);
    else
        snprintf(msg, sizeof msg, "Logged model not found: not an id this server makes.");
    reply_store_error(r, rc, msg);
}

static json_t *kv_list(const struct kv *kv, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s, s:s}", "key", kv[i].key, "value", kv[i].value));
    return a;
}

static json_t *metric_json(const struct lm_metric *m, const char *model_id)
{
    json_t *o = json_pack("{s:s, s:o, s:I, s:I, s:s}", "key", m->key, "value",
                          jx_double_value(m->value), "timestamp", (json_int_t)m->timestamp, "step",
                          (json_int_t)m->step, "model_id", model_id);
    if (m->run_id[0])
        json_object_set_new(o, "run_id", json_string(m->run_id));
    if (m->dataset_name[0])
        json_object_set_new(o, "dataset_name", json_string(m->dataset_name));
    if (m->dataset_digest[0])
        json_object_set_new(o, "dataset_digest", json_string(m->dataset_digest));
    return o;
}

json_t *lm_model_json(const struct logged_model *m)
{
    char exp[24];
    snprintf(exp, sizeof exp, "%lld", (long long)m->experiment_id);
    json_t *info = json_pack(
        "{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s}", "model_id", m->model_id, "experiment_id",
        exp, "name", m->name, "creation_timestamp_ms", (json_int_t)m->creation_time,
        "last_updated_timestamp_ms", (json_int_t)m->last_updated_time, "artifact_uri",
        m->artifact_location, "status", lm_status_name(m->status), "model_type", m->model_type,
        "source_run_id", m->source_run_id);
    if (m->ntags > 0)
        json_object_set_new(info, "tags", kv_list(m->tags, m->ntags));
    json_t *data = json_object();
    if (m->nparams > 0)
        json_object_set_new(data, "params", kv_list(m->params, m->nparams));
    if (m->nmetrics > 0) {
        json_t *metrics = json_array();
        for (size_t i = 0; i < m->nmetrics; i++)
            json_array_append_new(metrics, metric_json(&m->metrics[i], m->model_id));
        json_object_set_new(data, "metrics", metrics);
    }
    return json_pack("{s:o, s:o}", "info", info, "data", data);
}
