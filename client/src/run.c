/* Run handles: start/attach/end, and the metric fast path (validate the key
 * once, take the time, append to the buffer). Params and tags are sent
 * synchronously. A run end that cannot reach the server is spooled behind
 * the run's points. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int run_new(et_client *c, const char *run_id, const char *exp_id, et_run **out)
{
    et_run *r = calloc(1, sizeof *r);
    if (r == NULL)
        return ET_ENOMEM;
    r->c = c;
    snprintf(r->run_id, sizeof r->run_id, "%s", run_id);
    r->experiment_id = et__util_strdup(exp_id ? exp_id : "");
    pthread_mutex_init(&r->mu, NULL);
    if (r->experiment_id == NULL || et__buffer_intern(c->buf, r->run_id, &r->run_sid) != ET_OK) {
        free(r->experiment_id);
        pthread_mutex_destroy(&r->mu);
        free(r);
        return ET_ENOMEM;
    }
    *out = r;
    return ET_OK;
}

static void run_free(et_run *r)
{
    free(r->experiment_id);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

int et_run_attach(et_client *c, const char *run_id, et_run **out)
{
    if (c == NULL || run_id == NULL || out == NULL || strlen(run_id) != 32)
        return ET_EINVAL;
    return run_new(c, run_id, NULL, out);
}

int et_run_create(et_client *c, const char *experiment_id, const char *run_name,
                  const char *const *tag_keys, const char *const *tag_values, size_t ntags,
                  et_run **out)
{
    json_t *body = NULL, *reply = NULL, *tags = NULL;
    int rc = ET_ENOMEM;

    if (c == NULL || out == NULL)
        return ET_EINVAL;
    body = json_pack("{s:s, s:I}", "experiment_id", experiment_id ? experiment_id : "0",
                     "start_time", (json_int_t)et__util_now_ms());
    tags = json_array();
    if (body == NULL || tags == NULL)
        goto out;
    if (run_name != NULL && *run_name &&
        json_object_set_new(body, "run_name", json_string(run_name)) != 0)
        goto out;
    for (size_t i = 0; i < ntags; i++)
        if (json_array_append_new(
                tags, json_pack("{s:s, s:s}", "key", tag_keys[i], "value", tag_values[i])) != 0)
            goto out;
    const char *user = getenv("USER");
    if (user != NULL && json_object_set_new(body, "user_id", json_string(user)) != 0)
        goto out;
    if (ntags > 0 && json_object_set(body, "tags", tags) != 0)
        goto out;
    if ((rc = et__ctl_call(c, "POST", "/api/2.0/mlflow/runs/create", body, NULL, &reply)) != ET_OK)
        goto out;
    json_t *info = json_object_get(json_object_get(reply, "run"), "info");
    const char *id = json_string_value(json_object_get(info, "run_id"));
    if (id == NULL || strlen(id) != 32) {
        rc = ET_EPROTOCOL;
        goto out;
    }
    rc = run_new(c, id, json_string_value(json_object_get(info, "experiment_id")), out);
out:
    json_decref(tags);
    json_decref(body);
    json_decref(reply);
    return rc;
}

int et_run_start(et_client *c, const char *experiment_name, const char *run_name, et_run **out)
{
    char *exp_id = NULL;
    int rc;

    if (c == NULL || out == NULL)
        return ET_EINVAL;
    if (experiment_name != NULL && *experiment_name) {
        if ((rc = et_experiment_ensure(c, experiment_name, &exp_id)) != ET_OK)
            return rc;
    }
    rc = et_run_create(c, exp_id ? exp_id : "0", run_name, NULL, NULL, 0, out);
    free(exp_id);
    return rc;
}

int et_log_metric_ts(et_run *r, const char *key, double value, int64_t step, int64_t timestamp_ms)
{
    if (r == NULL || key == NULL || timestamp_ms < 0)
        return ET_EINVAL;
    et_client *c = r->c;
    /* The buffer validates a key when it first interns it. */
    int rc =
        et__buffer_push(c->buf, r->run_sid, key, value, step, timestamp_ms, c->opt.full_policy);
    if (rc == ET_EINVAL)
        et__util_set_error("invalid metric key '%.250s'", key);
    return rc;
}

int et_log_metric(et_run *r, const char *key, double value, int64_t step)
{
    return et_log_metric_ts(r, key, value, step, et__util_now_ms());
}
int et_log_params(et_run *r, const char *const *keys, const char *const *values, size_t n)
{
    json_t *body, *params;
    int rc = ET_ENOMEM;

    if (r == NULL || (n > 0 && (keys == NULL || values == NULL)) || n > 100)
        return ET_EINVAL;
    body = json_pack("{s:s}", "run_id", r->run_id);
    params = json_array();
    if (body == NULL || params == NULL)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (keys[i] == NULL || et__util_check_key(keys[i]) != ET_OK) {
            rc = ET_EINVAL;
            goto out;
        }
        if (json_array_append_new(params, json_pack("{s:s, s:s}", "key", keys[i], "value",
                                                    values[i] ? values[i] : "")) != 0)
            goto out;
    }
    if (json_object_set(body, "params", params) != 0)
        goto out;
    rc = et__ctl_call(r->c, "POST", "/api/2.0/mlflow/runs/log-batch", body, NULL, NULL);
out:
    json_decref(params);
    json_decref(body);
    return rc;
}

int et_log_param(et_run *r, const char *key, const char *value)
{
    return et_log_params(r, &key, &value, 1);
}

int et_set_tag(et_run *r, const char *key, const char *value)
{
    if (r == NULL || key == NULL || et__util_check_key(key) != ET_OK)
        return ET_EINVAL;
    json_t *body =
        json_pack("{s:s, s:s, s:s}", "run_id", r->run_id, "key", key, "value", value ? value : "");
    if (body == NULL)
        return ET_ENOMEM;
    int rc = et__ctl_call(r->c, "POST", "/api/2.0/mlflow/runs/set-tag", body, NULL, NULL);
    json_decref(body);
    return rc;
}

int et_run_flush(et_run *r, int timeout_ms)
{
    if (r == NULL)
        return ET_EINVAL;
    et_client *c = r->c;
    uint64_t target = et__buffer_pushed(c->buf);
    return et__buffer_wait_done(c->buf, target,
                                timeout_ms < 0 ? c->opt.flush_timeout_ms : timeout_ms);
}

/* Sets status and end time; spooled behind the points when the server is away. */
static int end_update(et_run *r, et_run_status status)
{
    et_client *c = r->c;
    struct spool_rec rec = {0};
    char body[160];
    int n = snprintf(body, sizeof body, "{\"run_id\":\"%s\",\"status\":\"%s\",\"end_time\":%lld}",
                     r->run_id,
                     status == ET_RUN_FAILED   ? "FAILED"
                     : status == ET_RUN_KILLED ? "KILLED"
                                               : "FINISHED",
                     (long long)et__util_now_ms());
    int rc = ET_ENETWORK;

    if (!et__client_spool_busy(c))
        rc = et__ctl_post_text(c, "/api/2.0/mlflow/runs/update", body, (size_t)n, NULL,
                               c->opt.control_retry_ms < 10000 ? c->opt.control_retry_ms : 10000);
    if (rc != ET_ENETWORK && rc != ET_ESERVER)
        return rc;
    rec.path = (char *)"/api/2.0/mlflow/runs/update";
    rec.body = body;
    rec.body_len = (size_t)n;
    return et__client_spool_append(c, &rec) == ET_OK ? ET_OK : rc;
}

int et_run_end(et_run *r, et_run_status status)
{
    if (r == NULL)
        return ET_EINVAL;
    if (status != ET_RUN_FINISHED && status != ET_RUN_FAILED && status != ET_RUN_KILLED) {
        run_free(r);
        return ET_EINVAL;
    }
    int frc = et_run_flush(r, -1);
    int rc = end_update(r, status);
    run_free(r);
    return frc != ET_OK ? frc : rc;
}

int et_run_detach(et_run *r)
{
    if (r == NULL)
        return ET_EINVAL;
    int rc = et_run_flush(r, -1);
    run_free(r);
    return rc;
}

const char *et_run_id(const et_run *r)
{
    return r ? r->run_id : NULL;
}

const char *et_run_experiment_id(const et_run *r)
{
    return r ? r->experiment_id : NULL;
}
