/* Typed request-field reads with field-named errors, and NaN/Inf encoding. */
#include "jsonx.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jsonalloc.h"

/* Writes the field's full name ("metrics[3].key" or "run_id") into buf. */
static const char *field_name(const struct input *in, const char *key, char *buf, size_t len)
{
    if (in->where != NULL)
        snprintf(buf, len, "%s.%s", in->where, key);
    else
        snprintf(buf, len, "%s", key);
    return buf;
}

/* Short JSON rendering of a bad value for the message. */
static void render_value(const json_t *v, char *buf, size_t len)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text == NULL) {
        snprintf(buf, len, "?");
        return;
    }
    if (strlen(text) > 60)
        snprintf(buf, len, "%.57s...", text);
    else
        snprintf(buf, len, "%s", text);
    free(text);
}

static int bad_value(const struct input *in, const char *key, const json_t *v, const char *rule,
                     struct reply *r)
{
    char name[160];
    char shown[80];

    render_value(v, shown, sizeof shown);
    reply_error(r, ERR_INVALID_PARAMETER_VALUE, "Invalid value %s for parameter '%s' supplied: %s",
                shown, field_name(in, key, name, sizeof name), rule);
    return JX_BAD;
}

/* Finds a field; from a query, unwraps to the first of its repeated values. */
static const json_t *lookup(const struct input *in, const char *key)
{
    const json_t *v = json_object_get(in->obj, key);
    if (v == NULL || json_is_null(v))
        return NULL;
    if (in->from_query && json_is_array(v))
        v = json_array_get(v, 0);
    return v;
}

int jx_string(const struct input *in, const char *key, const char **out, struct reply *r)
{
    const json_t *v = lookup(in, key);
    if (v == NULL)
        return JX_ABSENT;
    if (!json_is_string(v))
        return bad_value(in, key, v, "expected a string", r);
    *out = json_string_value(v);
    return JX_OK;
}

int jx_required_string(const struct input *in, const char *key, const char **out, struct reply *r)
{
    char name[160];
    int rc = jx_string(in, key, out, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (rc == JX_ABSENT || (*out)[0] == '\0') {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "Missing value for required parameter '%s'",
                    field_name(in, key, name, sizeof name));
        return JX_BAD;
    }
    return JX_OK;
}

int jx_parse_int64_text(const char *s, int64_t *out)
{
    char *end;

    /* Proto-JSON takes "123" but not "123.0" or " 123" for int64 fields. */
    if (!((s[0] >= '0' && s[0] <= '9') || (s[0] == '-' && s[1] >= '0' && s[1] <= '9')))
        return -1;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

int jx_int64(const struct input *in, const char *key, int64_t *out, struct reply *r)
{
    const json_t *v = lookup(in, key);
    if (v == NULL)
        return JX_ABSENT;
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return JX_OK;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d == floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
            *out = (int64_t)d;
            return JX_OK;
        }
    }
    if (json_is_string(v) && jx_parse_int64_text(json_string_value(v), out) == 0)
        return JX_OK;
    return bad_value(in, key, v, "expected a 64-bit integer", r);
}

int jx_parse_double_text(const char *s, double *out)
{
    char *end;

    if (strcmp(s, "NaN") == 0) {
        *out = NAN;
        return 0;
    }
    if (strcmp(s, "Infinity") == 0 || strcmp(s, "inf") == 0 || strcmp(s, "Inf") == 0) {
        *out = INFINITY;
        return 0;
    }
    if (strcmp(s, "-Infinity") == 0 || strcmp(s, "-inf") == 0 || strcmp(s, "-Inf") == 0) {
        *out = -INFINITY;
        return 0;
    }
    /* strtod would also take "nan", hex floats and leading spaces: refuse them. */
    const char *p = s[0] == '-' || s[0] == '+' ? s + 1 : s;
    if (!((*p >= '0' && *p <= '9') || *p == '.'))
        return -1;
    for (const char *q = p; *q; q++)
        if (*q == 'x' || *q == 'X')
            return -1;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || *end != '\0')
        return -1;
    *out = d; /* overflow gives +-HUGE_VAL = infinity, as protobuf does for "1e400" */
    return 0;
}

int jx_double(const struct input *in, const char *key, double *out, struct reply *r)
{
    const json_t *v = lookup(in, key);
    if (v == NULL)
        return JX_ABSENT;
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return JX_OK;
    }
    if (json_is_string(v) && jx_parse_double_text(json_string_value(v), out) == 0)
        return JX_OK;
    return bad_value(in, key, v, "expected a number, \"NaN\", \"Infinity\" or \"-Infinity\"", r);
}

int jx_bool(const struct input *in, const char *key, int *out, struct reply *r)
{
    const json_t *v = lookup(in, key);
    if (v == NULL)
        return JX_ABSENT;
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return JX_OK;
    }
    if (json_is_string(v)) {
        if (strcmp(json_string_value(v), "true") == 0) {
            *out = 1;
            return JX_OK;
        }
        if (strcmp(json_string_value(v), "false") == 0) {
            *out = 0;
            return JX_OK;
        }
    }
    return bad_value(in, key, v, "expected true or false", r);
}

int jx_enum(const struct input *in, const char *key, const char *const *names, int count, int *out,
            struct reply *r)
{
    const json_t *v = lookup(in, key);
    int64_t n;

    if (v == NULL)
        return JX_ABSENT;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        for (int i = 0; i < count; i++) {
            if (strcmp(s, names[i]) == 0) {
                *out = i + 1;
                return JX_OK;
            }
        }
        if (jx_parse_int64_text(s, &n) == 0 && n >= 1 && n <= count) {
            *out = (int)n;
            return JX_OK;
        }
    } else if (json_is_integer(v)) {
        n = json_integer_value(v);
        if (n >= 1 && n <= count) {
            *out = (int)n;
            return JX_OK;
        }
    }
    char rule[256];
    size_t used = (size_t)snprintf(rule, sizeof rule, "expected one of");
    for (int i = 0; i < count && used < sizeof rule; i++)
        used += (size_t)snprintf(rule + used, sizeof rule - used, "%s %s", i ? "," : "", names[i]);
    return bad_value(in, key, v, rule, r);
}

int jx_array(const struct input *in, const char *key, const json_t **out, struct reply *r)
{
    const json_t *v = json_object_get(in->obj, key);
    if (v == NULL || json_is_null(v))
        return JX_ABSENT;
    if (!json_is_array(v))
        return bad_value(in, key, v, "expected a list", r);
    *out = v;
    return JX_OK;
}

int jx_item(const json_t *array, size_t i, const char *key, char *where, size_t where_len,
            struct input *item, struct reply *r)
{
    const json_t *v = json_array_get(array, i);
    snprintf(where, where_len, "%s[%zu]", key, i);
    if (!json_is_object(v)) {
        struct input top = {NULL, 0, NULL};
        return bad_value(&top, where, v, "expected an object", r);
    }
    item->obj = v;
    item->from_query = 0;
    item->where = where;
    return JX_OK;
}

int jx_array_id(const json_t *array, size_t i, const char *key, char buf[32], const char **out,
                struct reply *r)
{
    const json_t *v = json_array_get(array, i);
    if (json_is_integer(v)) {
        /* ids sent as JSON numbers are taken as their decimal text */
        snprintf(buf, 32, "%lld", (long long)json_integer_value(v));
        *out = buf;
        return JX_OK;
    }
    return jx_array_string(array, i, key, out, r);
}

int jx_array_string(const json_t *array, size_t i, const char *key, const char **out,
                    struct reply *r)
{
    const json_t *v = json_array_get(array, i);
    if (!json_is_string(v)) {
        char where[96];
        struct input top = {NULL, 0, NULL};
        snprintf(where, sizeof where, "%s[%zu]", key, i);
        return bad_value(&top, where, v, "expected a string", r);
    }
    *out = json_string_value(v);
    return JX_OK;
}

json_t *jx_double_value(double v)
{
    if (isnan(v))
        return json_string("NaN");
    if (isinf(v))
        return json_string(v > 0 ? "Infinity" : "-Infinity");
    return json_real(v);
}

size_t jx_body_tree_budget(size_t len)
{
    if (len > (JX_TREE_MAX - JX_TREE_SLACK) / JX_TREE_PER_BYTE)
        return JX_TREE_MAX;
    return JX_TREE_SLACK + JX_TREE_PER_BYTE * len;
}

void jx_reply_tree_too_big(struct reply *r, size_t budget)
{
    reply_error(r, ERR_PAYLOAD_TOO_LARGE,
                "the request body's JSON tree would take more than %zu bytes of memory (the "
                "limit for a body of this size: %u MiB plus %u bytes per body byte, at most "
                "%u MiB); send fewer or smaller values per request",
                budget, JX_TREE_SLACK >> 20, JX_TREE_PER_BYTE, JX_TREE_MAX >> 20);
}

json_t *jx_parse_body(const char *body, size_t len, size_t cap, struct reply *r)
{
    json_error_t err;
    size_t i = 0;

    while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
        i++;
    if (i == len)
        return json_object();
    /* no reply is built in the scope: its text would live in the arena */
    if (cap > 0)
        jsonalloc_scope_begin(cap);
    json_t *v = json_loadb(body, len, JSON_DECODE_ANY, &err);
    if (v != NULL && json_is_string(v)) {
        json_t *inner = json_loads(json_string_value(v), JSON_DECODE_ANY, &err);
        json_decref(v);
        v = inner;
    }
    if (cap > 0 && jsonalloc_scope_end()) {
        json_decref(v);
        jx_reply_tree_too_big(r, cap);
        return NULL;
    }
    if (v == NULL) {
        snprintf(r->body_not_json_reason, sizeof r->body_not_json_reason,
                 "request body is not valid JSON (%.120s at line %d column %d)", err.text, err.line,
                 err.column);
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "%s", r->body_not_json_reason);
        r->body_not_json = 1;
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        snprintf(r->body_not_json_reason, sizeof r->body_not_json_reason,
                 "request body is not a JSON object");
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "%s", r->body_not_json_reason);
        r->body_not_json = 1;
        return NULL;
    }
    return v;
}
