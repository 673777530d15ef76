/* Reads: get run, the paged run search iterator, and metric history. Replies
 * are decoded into the public structs; nothing is cached. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define API "/api/2.0/mlflow"

struct et_run_iter {
    et_client *c;
    json_t *body; /* the search request, page_token updated per page */
    json_t *page; /* the current reply */
    size_t pos;
    int64_t left; /* results still allowed (max_results), -1 = no cap */
    int done;
    et_run_info *cur;
};

static double jdouble(const json_t *v)
{
    const char *s = json_string_value(v);
    if (s != NULL) {
        if (strcmp(s, "NaN") == 0)
            return NAN;
        if (strcmp(s, "Infinity") == 0)
            return INFINITY;
        if (strcmp(s, "-Infinity") == 0)
            return -INFINITY;
        return strtod(s, NULL);
    }
    return json_number_value(v);
}

static et_run_status status_of(const char *s)
{
    static const char *const names[] = {"RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"};
    for (int i = 0; i < 5; i++)
        if (strcmp(s, names[i]) == 0)
            return (et_run_status)(i + 1);
    return ET_RUN_RUNNING;
}

static int decode_metrics(const json_t *arr, et_metric **out, size_t *n, int with_key)
{
    size_t cnt = json_array_size(arr);
    *out = NULL;
    *n = 0;
    if (cnt == 0)
        return ET_OK;
    if ((*out = calloc(cnt, sizeof **out)) == NULL)
        return ET_ENOMEM;
    for (size_t i = 0; i < cnt; i++) {
        const json_t *m = json_array_get(arr, i);
        et_metric *p = &(*out)[i];
        p->value = jdouble(json_object_get(m, "value"));
        p->timestamp = et__jint(m, "timestamp");
        p->step = et__jint(m, "step");
        *n = i + 1;
        if (with_key && (p->key = et__jdup(m, "key")) == NULL)
            return ET_ENOMEM;
    }
    return ET_OK;
}

void et_run_info_free(et_run_info *ri)
{
    if (ri == NULL)
        return;
    free(ri->run_id);
    free(ri->experiment_id);
    free(ri->run_name);
    free(ri->user_id);
    free(ri->artifact_uri);
    free(ri->lifecycle_stage);
    for (size_t i = 0; i < ri->nmetrics; i++)
        free(ri->metrics[i].key);
    free(ri->metrics);
    et__free_kvs(ri->params, ri->nparams);
    et__free_kvs(ri->tags, ri->ntags);
    free(ri);
}

static int decode_run(const json_t *run, et_run_info **out)
{
    const json_t *info = json_object_get(run, "info"), *data = json_object_get(run, "data");
    et_run_info *ri = calloc(1, sizeof *ri);
    int rc = ET_ENOMEM;

    if (ri == NULL)
        return ET_ENOMEM;
    ri->run_id = et__jdup(info, "run_id");
    ri->experiment_id = et__jdup(info, "experiment_id");
    ri->run_name = et__jdup(info, "run_name");
    ri->user_id = et__jdup(info, "user_id");
    ri->artifact_uri = et__jdup(info, "artifact_uri");
    ri->lifecycle_stage = et__jdup(info, "lifecycle_stage");
    ri->start_time = et__jint(info, "start_time");
    ri->end_time = et__jint(info, "end_time");
    const char *st = json_string_value(json_object_get(info, "status"));
    ri->status = status_of(st ? st : "");
    if (!ri->run_id || !ri->experiment_id || !ri->run_name || !ri->user_id || !ri->artifact_uri ||
        !ri->lifecycle_stage)
        goto fail;
    if ((rc = decode_metrics(json_object_get(data, "metrics"), &ri->metrics, &ri->nmetrics, 1)) ||
        (rc = et__decode_kvs(json_object_get(data, "params"), &ri->params, &ri->nparams)) ||
        (rc = et__decode_kvs(json_object_get(data, "tags"), &ri->tags, &ri->ntags)))
        goto fail;
    *out = ri;
    return ET_OK;
fail:
    et_run_info_free(ri);
    return rc;
}

int et_run_get(et_client *c, const char *run_id, et_run_info **out)
{
    json_t *reply = NULL;

    if (c == NULL || run_id == NULL || out == NULL)
        return ET_EINVAL;
    int rc = et__ctl_get(c, API "/runs/get", "run_id", run_id, NULL, NULL, &reply);
    if (rc == ET_OK)
        rc = decode_run(json_object_get(reply, "run"), out);
    json_decref(reply);
    return rc;
}

/* Adds every active experiment's id to ids (search without experiments). */
static int all_experiment_ids(et_client *c, json_t *ids)
{
    et_experiment *list = NULL;
    size_t n = 0;
    int rc = et_experiment_list(c, ET_VIEW_ACTIVE, &list, &n);
    for (size_t i = 0; rc == ET_OK && i < n; i++)
        if (json_array_append_new(ids, json_string(list[i].experiment_id)) != 0)
            rc = ET_ENOMEM;
    et_experiment_list_free(list, n);
    return rc;
}

static int search_body(et_client *c, const et_search *s, json_t **out)
{
    json_t *ids = json_array();
    json_t *body = json_pack("{s:i, s:I}", "run_view_type", s->view ? (int)s->view : 1,
                             "max_results", (json_int_t)(s->page_size ? s->page_size : 1000));
    int rc = ET_ENOMEM;

    if (ids == NULL || body == NULL)
        goto out;
    for (size_t i = 0; i < s->nexperiments; i++)
        if (json_array_append_new(ids, json_string(s->experiment_ids[i])) != 0)
            goto out;
    if (s->nexperiments == 0 && (rc = all_experiment_ids(c, ids)) != ET_OK)
        goto out;
    rc = ET_ENOMEM;
    if (json_object_set(body, "experiment_ids", ids) != 0)
        goto out;
    if (s->filter && json_object_set_new(body, "filter", json_string(s->filter)) != 0)
        goto out;
    if (s->order_by && json_object_set_new(body, "order_by", json_pack("[s]", s->order_by)) != 0)
        goto out;
    *out = body;
    body = NULL;
    rc = ET_OK;
out:
    json_decref(ids);
    json_decref(body);
    return rc;
}

int et_run_search(et_client *c, const et_search *s, et_run_iter **out)
{
    et_search none = {0};
    if (c == NULL || out == NULL)
        return ET_EINVAL;
    if (s == NULL)
        s = &none;
    et_run_iter *it = calloc(1, sizeof *it);
    if (it == NULL)
        return ET_ENOMEM;
    it->c = c;
    it->left = s->max_results > 0 ? s->max_results : -1;
    int rc = search_body(c, s, &it->body);
    if (rc != ET_OK) {
        free(it);
        return rc;
    }
    *out = it;
    return ET_OK;
}

/* Fetches the next page into it->page; marks done when there is no token. */
static int next_page(et_run_iter *it)
{
    json_t *reply = NULL;
    int rc = et__ctl_call(it->c, "POST", API "/runs/search", it->body, NULL, &reply);
    if (rc != ET_OK)
        return rc;
    json_decref(it->page);
    it->page = reply;
    it->pos = 0;
    const char *tok = json_string_value(json_object_get(reply, "next_page_token"));
    if (tok == NULL)
        it->done = 1;
    else if (json_object_set_new(it->body, "page_token", json_string(tok)) != 0)
        return ET_ENOMEM;
    return ET_OK;
}

int et_run_iter_next(et_run_iter *it, const et_run_info **out)
{
    if (it == NULL || out == NULL)
        return ET_EINVAL;
    et_run_info_free(it->cur);
    it->cur = NULL;
    if (it->left == 0)
        return 0;
    while (json_array_size(json_object_get(it->page, "runs")) <= it->pos) {
        if (it->done)
            return 0;
        int rc = next_page(it);
        if (rc != ET_OK)
            return rc;
    }
    int rc = decode_run(json_array_get(json_object_get(it->page, "runs"), it->pos++), &it->cur);
    if (rc != ET_OK)
        return rc;
    if (it->left > 0)
        it->left--;
    *out = it->cur;
    return 1;
}

void et_run_iter_free(et_run_iter *it)
{
    if (it == NULL)
        return;
    et_run_info_free(it->cur);
    json_decref(it->body);
    json_decref(it->page);
    free(it);
}

static int by_step(const void *a, const void *b)
{
    const et_metric *x = a, *y = b;
    if (x->step != y->step)
        return x->step < y->step ? -1 : 1;
    if (x->timestamp != y->timestamp)
        return x->timestamp < y->timestamp ? -1 : 1;
    return 0;
}

int et_metric_history(et_client *c, const char *run_id, const char *key, et_metric **out, size_t *n)
{
    et_metric *all = NULL;
    size_t cnt = 0;
    char *token = NULL;
    int rc;

    if (c == NULL || run_id == NULL || key == NULL || out == NULL || n == NULL)
        return ET_EINVAL;
    do {
        struct et_dbuf q;
        json_t *reply = NULL;
        et__dbuf_init(&q);
        rc = et__query_add(&q, "run_id", run_id);
        if (rc == ET_OK)
            rc = et__query_add(&q, "metric_key", key);
        if (rc == ET_OK)
            rc = et__dbuf_addf(&q, "&max_results=25000");
        if (rc == ET_OK && token)
            rc = et__query_add(&q, "page_token", token);
        free(token);
        token = NULL;
        if (rc == ET_OK)
            rc = et__ctl_call(c, "GET", API "/metrics/get-history", NULL, q.data, &reply);
        et__dbuf_cleanup(&q);
        if (rc != ET_OK)
            break;
        et_metric *page = NULL;
        size_t m = 0;
        rc = decode_metrics(json_object_get(reply, "metrics"), &page, &m, 0);
        et_metric *grown = rc == ET_OK && m ? realloc(all, (cnt + m) * sizeof *all) : all;
        if (rc == ET_OK && m && grown == NULL)
            rc = ET_ENOMEM;
        if (rc == ET_OK && m) {
            all = grown;
            memcpy(all + cnt, page, m * sizeof *page);
            cnt += m;
        }
        free(page);
        if (rc == ET_OK && json_string_value(json_object_get(reply, "next_page_token")))
            token = et__jdup(reply, "next_page_token");
        json_decref(reply);
    } while (rc == ET_OK && token != NULL);
    free(token);
    if (rc != ET_OK) {
        free(all);
        return rc;
    }
    if (cnt > 1)
        qsort(all, cnt, sizeof *all, by_step);
    *out = all;
    *n = cnt;
    return ET_OK;
}
