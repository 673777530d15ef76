/* libFuzzer target for request decoding: the JSON body reader (jx_parse_body)
 * and every typed getter the handlers use on it, the same getters on a query
 * string's {name: [values]} form, page tokens, and artifact paths and Range
 * headers. The first byte picks the mode; the rest is the input. Checks that
 * every failure leaves an error reply with a message, never a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/artifact_path.h"
#include "core/input.h"
#include "core/jsonx.h"
#include "core/reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fields[] = {
    "name", "experiment_id",  "run_id",     "run_uuid", "key",        "value",   "timestamp",
    "step", "max_results",    "page_token", "filter",   "view_type",  "metrics", "params",
    "tags", "experiment_ids", "path",       "username", "permission", "is_admin"};
#define NFIELDS (sizeof fields / sizeof fields[0])

/* A getter failed: the reply must say why. */
static void check_error(int rc, struct reply *r)
{
    if (rc == JX_BAD && (!r->is_error || r->body == NULL || r->body_len == 0))
        abort();
    reply_cleanup(r);
    reply_init(r);
}

static void read_items(const struct input *in, const char *key, struct reply *r)
{
    const json_t *arr;
    char where[96];
    if (jx_array(in, key, &arr, r) != JX_OK) {
        reply_cleanup(r);
        reply_init(r);
        return;
    }
    for (size_t i = 0; i < json_array_size(arr) && i < 16; i++) {
        struct input item;
        const char *s;
        int64_t v;
        double d;
        if (jx_item(arr, i, key, where, sizeof where, &item, r) == JX_OK) {
            check_error(jx_string(&item, "key", &s, r), r);
            check_error(jx_double(&item, "value", &d, r), r);
            check_error(jx_int64(&item, "timestamp", &v, r), r);
        } else {
            reply_cleanup(r);
            reply_init(r);
        }
        check_error(jx_array_string(arr, i, key, &s, r), r);
    }
}

static void read_all(const struct input *in)
{
    static const char *const names[] = {"ACTIVE_ONLY", "DELETED_ONLY", "ALL"};
    struct reply r;
    const char *s;
    int64_t v;
    double d;
    int b, e;

    reply_init(&r);
    for (size_t i = 0; i < NFIELDS; i++) {
        check_error(jx_string(in, fields[i], &s, &r), &r);
        check_error(jx_required_string(in, fields[i], &s, &r), &r);
        check_error(jx_int64(in, fields[i], &v, &r), &r);
        check_error(jx_double(in, fields[i], &d, &r), &r);
        check_error(jx_bool(in, fields[i], &b, &r), &r);
        check_error(jx_enum(in, fields[i], names, 3, &e, &r), &r);
        read_items(in, fields[i], &r);
    }
    check_error(input_experiment_id(in, "experiment_id", &v, &r), &r);
    check_error(input_run_id(in, &s, &r), &r);
    reply_cleanup(&r);
}

static void body(const char *text, size_t len)
{
    struct reply r;
    reply_init(&r);
    json_t *obj = jx_parse_body(text, len, 0, &r);
    if (obj == NULL) {
        if (!r.is_error)
            abort(); /* a refused body always says why */
    } else {
        struct input in = {obj, 0, NULL};
        read_all(&in);
        json_decref(obj);
    }
    reply_cleanup(&r);
}

/* "a=1&b=2&a=3" -> {"a": ["1", "3"], "b": ["2"]}, as http.c builds it. */
static void query(const char *text, size_t len)
{
    json_t *obj = json_object();
    char *copy = malloc(len + 1);
    if (copy == NULL)
        abort();
    memcpy(copy, text, len);
    copy[len] = '\0';
    for (char *p = copy; p != NULL && *p;) {
        char *amp = strchr(p, '&');
        if (amp != NULL)
            *amp = '\0';
        char *eq = strchr(p, '=');
        if (eq != NULL)
            *eq = '\0';
        json_t *v = json_string(eq ? eq + 1 : "");
        if (v != NULL) { /* not UTF-8: dropped, as http.c does */
            json_t *values = json_object_get(obj, p);
            if (values == NULL) {
                values = json_array();
                if (json_object_set_new(obj, p, values) != 0) { /* name not UTF-8: */
                    json_decref(v);                             /* jansson has freed `values` */
                    values = NULL;
                }
            }
            if (values != NULL)
                json_array_append_new(values, v);
        }
        p = amp ? amp + 1 : NULL;
    }
    struct input in = {obj, 1, NULL};
    read_all(&in);
    int64_t offset;
    char *token = strchr(copy, '\0') == copy ? NULL : copy;
    if (token != NULL)
        (void)input_page_token_decode(token, &offset);
    free(copy);
    json_decref(obj);
}

static void artifact(const char *text, size_t len)
{
    char *copy = malloc(len + 1);
    if (copy == NULL)
        abort();
    memcpy(copy, text, len);
    copy[len] = '\0';
    size_t checked;
    for (int flags = 0; flags < 4; flags++) {
        if (artifact_path_check(copy, flags, &checked) == NULL) {
            struct artifact_proxy_path pp;
            if (checked > strlen(copy))
                abort();
            if (artifact_path_split(copy, checked, &pp) == 0 && pp.depth >= 3 &&
                pp.rel + pp.rel_len > copy + len)
                abort();
        }
    }
    (void)artifact_path_basename(copy);
    (void)artifact_path_content_type(copy);
    int64_t start, n;
    if (artifact_path_range(copy, 1000, &start, &n) == RANGE_OK &&
        (start < 0 || n <= 0 || start + n > 1000))
        abort();
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t len = size - 1;
    char *text = malloc(len ? len : 1); /* no terminator: overreads are caught */
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, len);
    switch (data[0] % 3) {
    case 0:
        body(text, len);
        break;
    case 1:
        query(text, len);
        break;
    default:
        artifact(text, len);
        break;
    }
    free(text);
    return 0;
}
