/* Shared pieces of the trace handlers (api_traces_common.h). */
#include "api_traces_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/reply_store.h"
#include "core/validate.h"
#include "filter.h"

static int hex32(const char *s)
{
    for (int i = 0; i < 32; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return s[32] == '\0';
}

int trace_id_valid(const char *s)
{
    if (strncmp(s, "tr-", 3) == 0)
        return hex32(s + 3);
    return hex32(s);
}

void trace_not_found(struct reply *r, int rc, const char *trace_id)
{
    char msg[200];
    if (trace_id_valid(trace_id))
        snprintf(msg, sizeof msg, "Trace with ID '%s' not found.", trace_id);
    else
        snprintf(msg, sizeof msg, "Trace not found: not a trace id this server stores.");
    reply_store_error(r, rc, msg);
}

void trace_write_error(struct reply *r, int rc, int64_t experiment_id, const char *trace_id)
{
    if (rc == DB_STATE)
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "The experiment %lld must be in the 'active' state to log traces",
                    (long long)experiment_id);
    else if (rc == DB_EXISTS)
        reply_error(r, ERR_RESOURCE_ALREADY_EXISTS, "Trace with ID '%s' already exists.", trace_id);
    else if (rc == DB_TRACE_OTHER_EXPERIMENT)
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Trace '%s' belongs to another experiment than %lld", trace_id,
                    (long long)experiment_id);
    else
        reply_store_experiment_not_found(r, rc, experiment_id);
}

/* A string cut to max code points, as a new JSON string. */
static json_t *cut_string(const char *s, size_t max)
{
    return json_stringn(s, validate_utf8_prefix(s, max));
}

json_t *trace_info_v2_json(const struct trace_info *t)
{
    json_t *meta = json_array(), *tags = json_array();
    char exp[24];

    for (size_t i = 0; i < t->nmetadata; i++)
        json_array_append_new(meta,
                              json_pack("{s:o,s:o}", "key", cut_string(t->metadata[i].key, 250),
                                        "value", cut_string(t->metadata[i].value, 250)));
    for (size_t i = 0; i < t->ntags; i++)
        json_array_append_new(tags, json_pack("{s:o,s:o}", "key", cut_string(t->tags[i].key, 250),
                                              "value", cut_string(t->tags[i].value, 4096)));
    snprintf(exp, sizeof exp, "%lld", (long long)t->experiment_id);
    json_t *o = json_pack("{s:s,s:s,s:I,s:I,s:s}", "request_id", t->trace_id, "experiment_id", exp,
                          "timestamp_ms", (json_int_t)t->request_time, "execution_time_ms",
                          (json_int_t)(t->execution_duration < 0 ? 0 : t->execution_duration),
                          "status", trace_status_name(t->state));
    if (t->nmetadata > 0)
        json_object_set_new(o, "request_metadata", meta);
    else
        json_decref(meta);
    if (t->ntags > 0)
        json_object_set_new(o, "tags", tags);
    else
        json_decref(tags);
    return o;
}

/* A JSON value stored as text, or null when it does not parse. */
static json_t *json_value(const char *text)
{
    if (text == NULL)
        return json_null();
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    return v ? v : json_null();
}

json_t *trace_assessment_json(const struct trace_assessment *a)
{
    static const char *const sources[] = {"SOURCE_TYPE_UNSPECIFIED", "HUMAN", "LLM_JUDGE", "CODE"};
    char ct[40], ut[40];
    json_t *o = json_pack("{s:s,s:s,s:s}", "assessment_id", a->assessment_id, "assessment_name",
                          a->name, "trace_id", a->trace_id);
    if (a->span_id != NULL)
        json_object_set_new(o, "span_id", json_string(a->span_id));
    json_t *src =
        json_pack("{s:s}", "source_type",
                  sources[a->source_type >= 0 && a->source_type < 4 ? a->source_type : 0]);
    if (a->source_id != NULL)
        json_object_set_new(src, "source_id", json_string(a->source_id));
    json_object_set_new(o, "source", src);
    json_object_set_new(o, "create_time",
                        json_string(trace_format_time(a->create_time, ct, sizeof ct)));
    json_object_set_new(o, "last_update_time",
                        json_string(trace_format_time(a->last_update_time, ut, sizeof ut)));
    /* the kind's message: the value plus what extra holds */
    json_t *body = json_value(a->extra);
    if (!json_is_object(body)) {
        json_decref(body);
        body = json_object();
    }
    if (a->value != NULL)
        json_object_set_new(body, "value", json_value(a->value));
    json_object_set_new(o,
                        a->kind == 1   ? "feedback"
                        : a->kind == 2 ? "expectation"
                                       : "issue",
                        body);
    if (a->rationale != NULL)
        json_object_set_new(o, "rationale", json_string(a->rationale));
    json_t *meta = json_value(a->metadata);
    if (json_is_object(meta) && json_object_size(meta) > 0)
        json_object_set_new(o, "metadata", meta);
    else
        json_decref(meta);
    if (a->overrides != NULL)
        json_object_set_new(o, "overrides", json_string(a->overrides));
    json_object_set_new(o, "valid", json_boolean(a->valid));
    return o;
}

json_t *trace_info_v3_json(const struct trace_info *t)
{
    json_t *meta = json_object(), *tags = json_object();
    char exp[24], rt[40], dur[40];

    /* keys cut like values; a cut key that collides keeps the last value */
    for (size_t i = 0; i < t->nmetadata; i++) {
        const char *k = t->metadata[i].key;
        char *key = strndup(k, validate_utf8_prefix(k, 250));
        json_object_set_new(meta, key, cut_string(t->metadata[i].value, 250));
        free(key);
    }
    for (size_t i = 0; i < t->ntags; i++) {
        const char *k = t->tags[i].key;
        char *key = strndup(k, validate_utf8_prefix(k, 250));
        json_object_set_new(tags, key, cut_string(t->tags[i].value, 4096));
        free(key);
    }
    snprintf(exp, sizeof exp, "%lld", (long long)t->experiment_id);
    json_t *o = json_pack(
        "{s:s,s:{s:s,s:{s:s}},s:s,s:s,s:s}", "trace_id", t->trace_id, "trace_location", "type",
        "MLFLOW_EXPERIMENT", "mlflow_experiment", "experiment_id", exp, "request_time",
        trace_format_time(t->request_time, rt, sizeof rt), "execution_duration",
        trace_format_duration(t->execution_duration < 0 ? 0 : t->execution_duration, dur,
                              sizeof dur),
        "state", trace_state_name(t->state));
    if (t->client_request_id != NULL)
        json_object_set_new(o, "client_request_id", json_string(t->client_request_id));
    if (t->request_preview != NULL)
        json_object_set_new(o, "request_preview", json_string(t->request_preview));
    if (t->response_preview != NULL)
        json_object_set_new(o, "response_preview", json_string(t->response_preview));
    json_object_set_new(o, "trace_metadata", meta);
    json_object_set_new(o, "tags", tags);
    if (t->nassessments > 0) {
        json_t *arr = json_array();
        for (size_t i = 0; i < t->nassessments; i++)
            json_array_append_new(arr, trace_assessment_json(&t->assessments[i]));
        json_object_set_new(o, "assessments", arr);
    }
    return o;
}

const char *trace_cut(const char *s, size_t max, struct arena *arena)
{
    size_t n = validate_utf8_prefix(s, max);
    return s[n] == '\0' ? s : arena_strndup(arena, s, n);
}

static int check_key(const char *key, const char *where, struct reply *r)
{
    if (key[0] == '\0') {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "%s: a key must not be empty", where);
        return JX_BAD;
    }
    if (validate_utf8_length(key) > TRACE_MAX_KEY) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "%s: key '%.50s...' exceeds the maximum length of %d characters", where, key,
                    TRACE_MAX_KEY);
        return JX_BAD;
    }
    return JX_OK;
}

int trace_read_kv_list(const struct input *in, const char *field, struct arena *arena,
                       struct kv **out, size_t *n, struct reply *r)
{
    const json_t *arr;
    char where[80];

    *out = NULL;
    *n = 0;
    int rc = jx_array(in, field, &arr, r);
    if (rc != JX_OK)
        return rc == JX_ABSENT ? JX_OK : JX_BAD;
    if (json_array_size(arr) > TRACE_MAX_ITEMS) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "'%s' may hold at most %d entries", field,
                    TRACE_MAX_ITEMS);
        return JX_BAD;
    }
    *out = arena_alloc(arena, (json_array_size(arr) + 1) * sizeof **out);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        struct input item;
        const char *key, *value = "";
        if (jx_item(arr, i, field, where, sizeof where, &item, r) != JX_OK ||
            jx_required_string(&item, "key", &key, r) != JX_OK ||
            jx_string(&item, "value", &value, r) == JX_BAD || check_key(key, where, r) != JX_OK)
            return JX_BAD;
        (*out)[*n].key = key;
        (*out)[*n].value = trace_cut(value ? value : "", TRACE_MAX_VALUE, arena);
        (*n)++;
    }
    return JX_OK;
}

int trace_read_kv_map(const struct input *in, const char *field, struct arena *arena,
                      struct kv **out, size_t *n, struct reply *r)
{
    const json_t *obj = json_object_get(in->obj, field);
    const char *key;
    json_t *v;

    *out = NULL;
    *n = 0;
    if (obj == NULL || json_is_null(obj))
        return JX_OK;
    if (!json_is_object(obj)) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "'%s' must be an object of string values",
                    field);
        return JX_BAD;
    }
    if (json_object_size(obj) > TRACE_MAX_ITEMS) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "'%s' may hold at most %d entries", field,
                    TRACE_MAX_ITEMS);
        return JX_BAD;
    }
    *out = arena_alloc(arena, (json_object_size(obj) + 1) * sizeof **out);
    json_object_foreach((json_t *)obj, key, v)
    {
        if (!json_is_string(v) && !json_is_null(v)) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                        "'%s' values must be strings (key '%.100s')", field, key);
            return JX_BAD;
        }
        if (check_key(key, field, r) != JX_OK)
            return JX_BAD;
        if (json_is_string(v) && strlen(json_string_value(v)) != json_string_length(v)) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE, "'%s' values must not contain NUL", field);
            return JX_BAD;
        }
        (*out)[*n].key = key;
        (*out)[*n].value =
            trace_cut(json_is_string(v) ? json_string_value(v) : "", TRACE_MAX_VALUE, arena);
        (*n)++;
    }
    return JX_OK;
}

int trace_check_tag(const char *key, const char **value, struct arena *arena, struct reply *r)
{
    if (check_key(key, "key", r) != JX_OK)
        return JX_BAD;
    if (strcmp(key, "mlflow.artifactLocation") == 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "The tag 'mlflow.artifactLocation' is set by the server and cannot be changed");
        return JX_BAD;
    }
    *value = trace_cut(*value ? *value : "", TRACE_MAX_VALUE, arena);
    return JX_OK;
}

const char *trace_format_time(int64_t ms, char *buf, size_t len)
{
    time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    int frac = (int)(ms - (int64_t)secs * 1000);
    struct tm tm;
    if (gmtime_r(&secs, &tm) == NULL) {
        snprintf(buf, len, "1970-01-01T00:00:00Z");
        return buf;
    }
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
    return buf;
}

/* Reads n digits at *p into *out. */
static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9')
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

int trace_parse_time(const char *s, int64_t *ms)
{
    struct tm tm = {0};
    int y, mo, d, h, mi, se, frac_ms = 0, off = 0;
    const char *p = s;

    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
        digits(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' '))
        return -1;
    p++;
    if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' || digits(&p, 2, &se))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return -1;
    if (*p == '.') {
        p++;
        int n = 0;
        while (*p >= '0' && *p <= '9') {
            if (n < 3)
                frac_ms = frac_ms * 10 + (*p - '0');
            n++;
            p++;
        }
        if (n == 0 || n > 9)
            return -1;
        for (; n < 3; n++)
            frac_ms *= 10;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 || om > 59)
            return -1;
        off = sign * (oh * 60 + om);
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    time_t t = timegm(&tm);
    *ms = ((int64_t)t - (int64_t)off * 60) * 1000 + frac_ms;
    return 0;
}

const char *trace_format_duration(int64_t ms, char *buf, size_t len)
{
    if (ms % 1000 == 0)
        snprintf(buf, len, "%llds", (long long)(ms / 1000));
    else
        snprintf(buf, len, "%lld.%03llds", (long long)(ms / 1000), (long long)(ms % 1000));
    return buf;
}

int trace_parse_duration(const char *s, int64_t *ms)
{
    int64_t secs = 0;
    int frac = 0, n = 0;
    const char *p = s;

    if (*p < '0' || *p > '9')
        return -1;
    while (*p >= '0' && *p <= '9') {
        if (secs > 315576000000LL) /* the Duration range: 10,000 years */
            return -1;
        secs = secs * 10 + (*p++ - '0');
    }
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') {
            if (n < 3)
                frac = frac * 10 + (*p - '0');
            n++;
            p++;
        }
        if (n == 0 || n > 9)
            return -1;
        for (; n < 3; n++)
            frac *= 10;
    }
    if (p[0] != 's' || p[1] != '\0')
        return -1;
    *ms = secs * 1000 + frac;
    return 0;
}

const char *trace_path_rest(const struct request *req)
{
    const char *p = input_path_after(req, "/mlflow/traces/");
    return p ? p : "";
}

void trace_path_split(const char *rest, char id[64], const char **after)
{
    const char *slash = strchr(rest, '/');
    size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
    *after = slash ? slash + 1 : "";
    if (n >= 64)
        n = 63;
    memcpy(id, rest, n);
    id[n] = '\0';
}
