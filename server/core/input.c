/* Request field readers shared by handlers and auth (input.h). Reads only:
 * the one reply they set is the 400/404 of a field they refuse. */
#include "input.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "validate.h"
#include "common/xalloc.h"

struct input input_from(const struct request *req)
{
    struct input in = {req->input, req->from_query, NULL};
    return in;
}

/* A GET's run id must be one this server could have made: else a 400,
 * not an empty answer or a 404 for something that cannot exist. */
static int check_query_run_id(const struct input *in, const char *key, const char *id,
                              struct reply *r)
{
    if (!in->from_query || validate_is_run_id(id))
        return JX_OK;
    reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                "Invalid value for parameter '%s': a run id is 32 lowercase hex digits", key);
    return JX_BAD;
}

int input_run_id(const struct input *in, const char **out, struct reply *r)
{
    int rc = jx_string(in, "run_id", out, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (rc == JX_OK && (*out)[0] != '\0')
        return check_query_run_id(in, "run_id", *out, r);
    rc = jx_string(in, "run_uuid", out, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (rc == JX_OK && (*out)[0] != '\0')
        return check_query_run_id(in, "run_uuid", *out, r);
    reply_error(r, ERR_INVALID_PARAMETER_VALUE, "Missing value for required parameter 'run_id'");
    return JX_BAD;
}

int input_check_key(const char *key, const char *field, size_t max, struct reply *r)
{
    const char *rule = validate_key_rule(key);
    if (rule != NULL) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value '%.250s' for parameter '%s' supplied: %s", key, field, rule);
        return JX_BAD;
    }
    return input_check_length(key, field, max, r);
}

int input_check_length(const char *value, const char *field, size_t max, struct reply *r)
{
    if (validate_utf8_length(value) <= max)
        return JX_OK;
    reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                "Invalid value for parameter '%s' supplied: it exceeds the maximum length of %zu "
                "characters",
                field, max);
    return JX_BAD;
}

int input_experiment_id(const struct input *in, const char *key, int64_t *out, struct reply *r)
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
    errno = 0;
    long long id = strtoll(s, &end, 10);
    int bad = *end != '\0' || id < 0 || s[0] == '-' || s[0] == '+' || s[0] == ' ' || s[0] == '\0';
    if (in->from_query && (bad || errno == ERANGE)) {
        /* a GET's id that cannot be one: a 400, as for run ids */
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter '%s': an experiment id is a decimal number "
                    "below 2^63",
                    key);
        return JX_BAD;
    }
    if (bad) {
        reply_error(r, ERR_RESOURCE_DOES_NOT_EXIST, "No Experiment with id=%.100s exists", s);
        return JX_BAD;
    }
    *out = id;
    return JX_OK;
}

char *input_page_token_encode(int64_t offset)
{
    char text[64];

    int n = snprintf(text, sizeof text, "{\"offset\": %lld}", (long long)offset);
    return b64_encode_new(text, (size_t)n);
}

json_t *input_page_token_object(const char *token, size_t max_len)
{
    unsigned char raw[192];
    size_t len = strlen(token), n;

    if (len > max_len || b64_decode(token, len, raw, sizeof raw, &n) < 0)
        return NULL;
    return json_loadb((const char *)raw, n, 0, NULL);
}

int input_page_token_decode(const char *token, int64_t *offset)
{
    int rc = -1;
    json_t *obj = input_page_token_object(token, 128);
    json_t *v = json_object_get(obj, "offset");
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        *offset = json_integer_value(v);
        rc = 0;
    }
    json_decref(obj);
    return rc;
}

const char *input_path_after(const struct request *req, const char *route_path)
{
    const char *p = strstr(req->path, route_path);
    return p ? p + strlen(route_path) : NULL;
}
