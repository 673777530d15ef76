/* Synchronous control calls on experiments and runs: decode replies into the
 * public structs (everything malloc'd, freed by the matching _free). Reads
 * (get run, search, history) are in query.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define API "/api/2.0/mlflow"

/* A copy of obj[key] as a string ("" when absent); NULL only on ENOMEM. */
char *et__jdup(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    const char *s = json_string_value(v);
    char num[32];
    if (s == NULL && json_is_integer(v)) {
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
        s = num;
    }
    return et__util_strdup(s ? s : "");
}

int64_t et__jint(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_string(v))
        return strtoll(json_string_value(v), NULL, 10);
    return 0;
}

/* Decodes [{key, value}] into a malloc'd array. */
int et__decode_kvs(const json_t *arr, et_kv **out, size_t *n)
{
    size_t cnt = json_array_size(arr);
    *out = NULL;
    *n = 0;
    if (cnt == 0)
        return ET_OK;
    *out = calloc(cnt, sizeof **out);
    if (*out == NULL)
        return ET_ENOMEM;
    for (size_t i = 0; i < cnt; i++) {
        const json_t *it = json_array_get(arr, i);
        (*out)[i].key = et__jdup(it, "key");
        (*out)[i].value = et__jdup(it, "value");
        *n = i + 1;
        if ((*out)[i].key == NULL || (*out)[i].value == NULL)
            return ET_ENOMEM;
    }
    return ET_OK;
}

void et__free_kvs(et_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

static void experiment_cleanup(et_experiment *e)
{
    free(e->experiment_id);
    free(e->name);
    free(e->artifact_location);
    free(e->lifecycle_stage);
    et__free_kvs(e->tags, e->ntags);
    memset(e, 0, sizeof *e);
}

void et_experiment_free(et_experiment *e)
{
    if (e == NULL)
        return;
    experiment_cleanup(e);
    free(e);
}

void et_experiment_list_free(et_experiment *list, size_t n)
{
    for (size_t i = 0; list != NULL && i < n; i++)
        experiment_cleanup(&list[i]);
    free(list);
}

static int decode_experiment(const json_t *j, et_experiment *e)
{
    memset(e, 0, sizeof *e);
    e->experiment_id = et__jdup(j, "experiment_id");
    e->name = et__jdup(j, "name");
    e->artifact_location = et__jdup(j, "artifact_location");
    e->lifecycle_stage = et__jdup(j, "lifecycle_stage");
    e->creation_time = et__jint(j, "creation_time");
    e->last_update_time = et__jint(j, "last_update_time");
    if (!e->experiment_id || !e->name || !e->artifact_location || !e->lifecycle_stage)
        return ET_ENOMEM;
    return et__decode_kvs(json_object_get(j, "tags"), &e->tags, &e->ntags);
}

/* Percent-encodes s for a query string into b. */
int et__ctl_get(et_client *c, const char *path, const char *k1, const char *v1, const char *k2,
                const char *v2, json_t **reply)
{
    struct et_dbuf q;

    et__dbuf_init(&q);
    int rc = et__query_add(&q, k1, v1);
    if (rc == ET_OK && k2 != NULL)
        rc = et__query_add(&q, k2, v2);
    if (rc == ET_OK)
        rc = et__ctl_call(c, "GET", path, NULL, q.data, reply);
    et__dbuf_cleanup(&q);
    return rc;
}

int et__query_add(struct et_dbuf *b, const char *name, const char *s)
{
    int rc = et__dbuf_addf(b, "%s%s=", b->len ? "&" : "", name);
    for (const unsigned char *p = (const unsigned char *)s; *p && rc == ET_OK; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~')
            rc = et__dbuf_add(b, p, 1);
        else
            rc = et__dbuf_addf(b, "%%%02X", *p);
    }
    return rc;
}

static int all_digits(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

int et_experiment_get(et_client *c, const char *id_or_name, et_experiment **out)
{
    json_t *reply = NULL;
    int byid, rc;

    if (c == NULL || id_or_name == NULL || out == NULL)
        return ET_EINVAL;
    byid = all_digits(id_or_name);
    rc = et__ctl_get(c, byid ? API "/experiments/get" : API "/experiments/get-by-name",
                     byid ? "experiment_id" : "experiment_name", id_or_name, NULL, NULL, &reply);
    if (rc != ET_OK)
        return rc;
    et_experiment *e = calloc(1, sizeof *e);
    if (e == NULL) {
        json_decref(reply);
        return ET_ENOMEM;
    }
    rc = decode_experiment(json_object_get(reply, "experiment"), e);
    json_decref(reply);
    if (rc != ET_OK) {
        et_experiment_free(e);
        return rc;
    }
    *out = e;
    return ET_OK;
}

int et_experiment_create(et_client *c, const char *name, char **id_out)
{
    json_t *reply = NULL;

    if (c == NULL || name == NULL || id_out == NULL)
        return ET_EINVAL;
    json_t *body = json_pack("{s:s}", "name", name);
    if (body == NULL)
        return ET_ENOMEM;
    int rc = et__ctl_call(c, "POST", API "/experiments/create", body, NULL, &reply);
    json_decref(body);
    if (rc != ET_OK)
        return rc;
    *id_out = et__jdup(reply, "experiment_id");
    json_decref(reply);
    return *id_out ? ET_OK : ET_ENOMEM;
}

int et_experiment_ensure(et_client *c, const char *name, char **id_out)
{
    et_experiment *e = NULL;

    for (int round = 0; round < 3; round++) {
        int rc = et_experiment_get(c, name, &e);
        if (rc == ET_OK) {
            *id_out = e->experiment_id;
            e->experiment_id = NULL;
            et_experiment_free(e);
            return ET_OK;
        }
        if (rc != ET_ENOTFOUND)
            return rc;
        rc = et_experiment_create(c, name, id_out);
        if (rc != ET_EEXISTS)
            return rc; /* created, or failed; EEXISTS: a concurrent creator won */
    }
    return ET_EEXISTS;
}

int et_experiment_list(et_client *c, et_view view, et_experiment **out, size_t *n)
{
    et_experiment *list = NULL;
    size_t cnt = 0;
    char *token = NULL;
    int rc;

    if (c == NULL || out == NULL || n == NULL)
        return ET_EINVAL;
    do {
        json_t *reply = NULL, *body = json_pack("{s:I, s:i}", "max_results", (json_int_t)1000,
                                                "view_type", view ? (int)view : 1);
        if (body == NULL ||
            (token && json_object_set_new(body, "page_token", json_string(token)))) {
            json_decref(body);
            rc = ET_ENOMEM;
            break;
        }
        rc = et__ctl_call(c, "POST", API "/experiments/search", body, NULL, &reply);
        json_decref(body);
        free(token);
        token = NULL;
        if (rc != ET_OK)
            break;
        const json_t *arr = json_object_get(reply, "experiments");
        size_t m = json_array_size(arr);
        et_experiment *grown = m ? realloc(list, (cnt + m) * sizeof *list) : list;
        if (m && grown == NULL)
            rc = ET_ENOMEM;
        else
            list = grown;
        for (size_t i = 0; rc == ET_OK && i < m; i++) {
            rc = decode_experiment(json_array_get(arr, i), &list[cnt]);
            cnt++;
        }
        if (rc == ET_OK && json_string_value(json_object_get(reply, "next_page_token")))
            token = et__jdup(reply, "next_page_token");
        json_decref(reply);
    } while (rc == ET_OK && token != NULL);
    free(token);
    if (rc != ET_OK) {
        et_experiment_list_free(list, cnt);
        return rc;
    }
    *out = list;
    *n = cnt;
    return ET_OK;
}

/* POSTs {id_field: id (, extra_field: extra)} to path; reply ignored. */
static int post_simple(et_client *c, const char *path, const char *id_field, const char *id,
                       const char *extra_field, const char *extra)
{
    if (c == NULL || id == NULL)
        return ET_EINVAL;
    json_t *body = json_pack("{s:s}", id_field, id);
    if (body == NULL ||
        (extra_field && json_object_set_new(body, extra_field, json_string(extra)))) {
        json_decref(body);
        return ET_ENOMEM;
    }
    int rc = et__ctl_call(c, "POST", path, body, NULL, NULL);
    json_decref(body);
    return rc;
}

int et_experiment_rename(et_client *c, const char *experiment_id, const char *new_name)
{
    if (new_name == NULL)
        return ET_EINVAL;
    return post_simple(c, API "/experiments/update", "experiment_id", experiment_id, "new_name",
                       new_name);
}

int et_experiment_delete(et_client *c, const char *experiment_id)
{
    return post_simple(c, API "/experiments/delete", "experiment_id", experiment_id, NULL, NULL);
}

int et_experiment_restore(et_client *c, const char *experiment_id)
{
    return post_simple(c, API "/experiments/restore", "experiment_id", experiment_id, NULL, NULL);
}

int et_run_delete(et_client *c, const char *run_id)
{
    return post_simple(c, API "/runs/delete", "run_id", run_id, NULL, NULL);
}

int et_run_restore(et_client *c, const char *run_id)
{
    return post_simple(c, API "/runs/restore", "run_id", run_id, NULL, NULL);
}

int et_run_update(et_client *c, const char *run_id, et_run_status status, int64_t end_time_ms)
{
    static const char *const names[] = {"", "RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"};
    if (c == NULL || run_id == NULL || status < ET_RUN_RUNNING || status > ET_RUN_KILLED)
        return ET_EINVAL;
    json_t *body =
        json_pack("{s:s, s:s, s:I}", "run_id", run_id, "status", names[status], "end_time",
                  (json_int_t)(end_time_ms ? end_time_ms : et__util_now_ms()));
    if (body == NULL)
        return ET_ENOMEM;
    int rc = et__ctl_call(c, "POST", API "/runs/update", body, NULL, NULL);
    json_decref(body);
    return rc;
}
