/* The logged-model import (docs/api-extensions.md, "Import with the
 * source's ids"): an MLflow 3 logged model created with its id, times,
 * status and lifecycle, with params, tags and metric rows, repeatable
 * without a duplicate. Decode and validate -> store_import_lm.c -> encode;
 * no SQL here. */
#include <ctype.h>
#include <string.h>

#include "api.h"
#include "core/arena.h"
#include "core/input.h"
#include "core/reply.h"
#include "core/reply_store.h"
#include "core/validate.h"
#include "import_fields.h"
#include "store_import_lm.h"

#define MAX_LM_NAME 500
#define MAX_LM_FIELD 500
#define MAX_LM_KEY 255
#define MAX_LM_ITEMS 1000

static const char *const lm_status_names[3] = {"LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY",
                                               "LOGGED_MODEL_UPLOAD_FAILED"};

static int bad(struct reply *r, const char *field, const char *rule)
{
    reply_error(r, ERR_INVALID_PARAMETER_VALUE, "Invalid value for parameter '%s': %s", field,
                rule);
    return JX_BAD;
}

static int is_model_id(const char *s)
{
    if (strlen(s) != 34 || s[0] != 'm' || s[1] != '-')
        return 0;
    for (size_t i = 2; i < 34; i++) {
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
            return 0;
    }
    return 1;
}

/* status: a LoggedModelStatus name or number 0..3; absent is READY. */
static int read_status(const struct input *in, int *out, struct reply *r)
{
    const char *s = NULL;
    const json_t *v = json_object_get(in->obj, "status");
    *out = 2;
    if (v == NULL || json_is_null(v))
        return JX_OK;
    if ((json_is_integer(v) && json_integer_value(v) == 0) ||
        (json_is_string(v) && (s = json_string_value(v)) != NULL &&
         (strcmp(s, "LOGGED_MODEL_STATUS_UNSPECIFIED") == 0 || strcmp(s, "0") == 0))) {
        *out = 0;
        return JX_OK;
    }
    return jx_enum(in, "status", lm_status_names, 3, out, r) == JX_BAD ? JX_BAD : JX_OK;
}

/* An optional [{key, value}] list of at most MAX_LM_ITEMS entries. */
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
    if (json_array_size(arr) > MAX_LM_ITEMS)
        return bad(r, field, "at most 1000 entries per request");
    *out = arena_alloc(arena, (json_array_size(arr) + 1) * sizeof **out);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        struct input item;
        const char *key, *value = "";
        if (jx_item(arr, i, field, where, sizeof where, &item, r) != JX_OK ||
            jx_required_string(&item, "key", &key, r) != JX_OK ||
            jx_string(&item, "value", &value, r) == JX_BAD ||
            input_check_length(key, "key", MAX_LM_KEY, r) != JX_OK)
            return JX_BAD;
        (*out)[*n].key = key;
        (*out)[*n].value = value ? value : "";
        (*n)++;
    }
    return JX_OK;
}

static int distinct_keys(const struct kv *kv, size_t n, struct reply *r)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t k = i + 1; k < n; k++) {
            if (strcmp(kv[i].key, kv[k].key) == 0) {
                reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                            "Invalid value for parameter 'params': the key '%.300s' is repeated",
                            kv[i].key);
                return JX_BAD;
            }
        }
    }
    return JX_OK;
}

/* metrics: [{key, value, timestamp, step, run_id?, dataset_name?,
 * dataset_digest?}], at most MAX_LM_ITEMS. */
static int read_metrics(const struct input *in, struct arena *arena, struct import_lm *m,
                        struct reply *r)
{
    const json_t *arr;
    char where[80];
    int rc = jx_array(in, "metrics", &arr, r);
    if (rc != JX_OK)
        return rc == JX_ABSENT ? JX_OK : JX_BAD;
    if (json_array_size(arr) > MAX_LM_ITEMS)
        return bad(r, "metrics", "at most 1000 entries per request");
    struct import_lm_metric *out = arena_alloc(arena, (json_array_size(arr) + 1) * sizeof *out);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        struct input item;
        struct import_lm_metric *p = &out[i];
        if (jx_item(arr, i, "metrics", where, sizeof where, &item, r) != JX_OK ||
            jx_required_string(&item, "key", &p->key, r) != JX_OK ||
            input_check_length(p->key, "key", MAX_ENTITY_KEY_LENGTH, r) != JX_OK)
            return JX_BAD;
        rc = jx_double(&item, "value", &p->value, r);
        if (rc == JX_OK)
            rc = jx_int64(&item, "timestamp", &p->timestamp, r);
        if (rc == JX_ABSENT)
            return bad(r, where, "value and timestamp are required");
        if (rc == JX_BAD || import_fields_text(&item, "run_id", 32, &p->run_id, r) != JX_OK ||
            import_fields_text(&item, "dataset_name", MAX_DATASET_NAME_LENGTH, &p->dataset_name,
                               r) != JX_OK ||
            import_fields_text(&item, "dataset_digest", MAX_DATASET_DIGEST_LENGTH,
                               &p->dataset_digest, r) != JX_OK)
            return JX_BAD;
        p->step = 0;
        if (jx_int64(&item, "step", &p->step, r) == JX_BAD)
            return JX_BAD;
    }
    m->metrics = out;
    m->nmetrics = json_array_size(arr);
    return JX_OK;
}

static int read_model(const struct input *in, struct arena *arena, struct import_lm *m,
                      struct reply *r)
{
    const char *stage = "";
    struct kv *params, *tags;
    if (jx_required_string(in, "model_id", &m->model_id, r) != JX_OK)
        return JX_BAD;
    if (!is_model_id(m->model_id))
        return bad(r, "model_id", "'m-' and 32 lowercase hex digits are required");
    if (input_experiment_id(in, "experiment_id", &m->experiment_id, r) != JX_OK ||
        jx_required_string(in, "name", &m->name, r) != JX_OK ||
        input_check_length(m->name, "name", MAX_LM_NAME, r) != JX_OK)
        return JX_BAD;
    if (strpbrk(m->name, "/:.%\"'") != NULL)
        return bad(r, "name", "a model name cannot contain / : . % \" or '");
    if (import_fields_text(in, "model_type", MAX_LM_FIELD, &m->model_type, r) != JX_OK ||
        import_fields_text(in, "source_run_id", MAX_LM_FIELD, &m->source_run_id, r) != JX_OK ||
        import_fields_text(in, "lifecycle_stage", 16, &stage, r) != JX_OK ||
        read_status(in, &m->status, r))
        return JX_BAD;
    if (stage[0] && strcmp(stage, "active") != 0 && strcmp(stage, "deleted") != 0)
        return bad(r, "lifecycle_stage", "'active' or 'deleted' is required");
    m->deleted = strcmp(stage, "deleted") == 0;
    if (import_fields_time(in, "creation_timestamp_ms", import_fields_now_ms(), &m->creation_time,
                           r) != JX_OK ||
        import_fields_time(in, "last_updated_timestamp_ms", m->creation_time, &m->last_updated_time,
                           r) != JX_OK)
        return JX_BAD;
    if (read_kv(in, "params", arena, &params, &m->nparams, r) != JX_OK ||
        distinct_keys(params, m->nparams, r) != JX_OK ||
        read_kv(in, "tags", arena, &tags, &m->ntags, r) != JX_OK)
        return JX_BAD;
    m->params = params;
    m->tags = tags;
    return read_metrics(in, arena, m, r);
}

void api_import_logged_model(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct import_lm m = {0};
    struct arena arena;
    int created = 0;

    arena_init(&arena);
    if (read_model(&in, &arena, &m, r) != JX_OK)
        goto out;
    int rc = store_import_logged_model(&m, &created);
    if (rc == DB_EXISTS)
        reply_error(r, ERR_RESOURCE_ALREADY_EXISTS,
                    "Logged model with ID '%s' already exists (another experiment or creation "
                    "time)",
                    m.model_id);
    else if (rc == DB_STATE)
        reply_error(r, ERR_STATE_REFUSED,
                    "The experiment %lld must be in the 'active' state to import logged models "
                    "into it",
                    (long long)m.experiment_id);
    else if (rc != DB_OK)
        reply_store_experiment_not_found(r, rc, m.experiment_id);
    else
        reply_json(r, json_pack("{s:s,s:b}", "model_id", m.model_id, "created", created));
out:
    arena_cleanup(&arena);
}
