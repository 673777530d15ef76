/* Assessments: feedback, expectations and issues on a trace or a span
 * (mlflow-models-api.md 3.7). Decode -> store -> encode; no SQL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_traces_assess.h"
#include "api_traces_common.h"
#include "core/ids.h"
#include "core/reply_store.h"
#include "core/validate.h"

#define MAX_VALUE_BYTES (1024 * 1024)
#define MAX_RATIONALE 100000

static const char *const source_names[] = {"SOURCE_TYPE_UNSPECIFIED", "HUMAN", "LLM_JUDGE", "CODE"};

static int assessment_id_valid(const char *s)
{
    return strncmp(s, "a-", 2) == 0 && strlen(s) == 34 && trace_id_valid(s + 2);
}

static void not_found(struct reply *r, int rc, const char *id)
{
    char msg[200];
    if (assessment_id_valid(id))
        snprintf(msg, sizeof msg, "Assessment with ID '%s' not found.", id);
    else
        snprintf(msg, sizeof msg, "Assessment not found: not an assessment id this server makes.");
    reply_store_error(r, rc, msg);
}

/* JSON text of v in the arena; -1 with a 400 when larger than the cap. */
static int dump_value(const json_t *v, const char *field, struct arena *arena, const char **out,
                      struct reply *r)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s == NULL || strlen(s) > MAX_VALUE_BYTES) {
        free(s);
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "'%s' is larger than %d bytes", field,
                    MAX_VALUE_BYTES);
        return -1;
    }
    *out = arena_strdup(arena, s);
    free(s);
    return 0;
}

/* Reads feedback / expectation / issue into kind, value and extra. */
static int read_body(const json_t *a, struct arena *arena, struct trace_assessment *out,
                     struct reply *r)
{
    static const char *const kinds[] = {"feedback", "expectation", "issue"};
    int found = 0;
    for (int k = 0; k < 3; k++) {
        const json_t *b = json_object_get(a, kinds[k]);
        if (b == NULL || json_is_null(b))
            continue;
        if (!json_is_object(b)) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE, "'assessment.%s' must be an object",
                        kinds[k]);
            return -1;
        }
        if (found++) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                        "An assessment holds exactly one of 'feedback', 'expectation' and "
                        "'issue'");
            return -1;
        }
        out->kind = k + 1;
        const json_t *value = json_object_get(b, "value");
        out->value = NULL;
        if (value != NULL && dump_value(value, "value", arena, &out->value, r) < 0)
            return -1;
        json_t *extra = json_deep_copy(b);
        json_object_del(extra, "value");
        int rc = 0;
        out->extra = NULL;
        if (json_object_size(extra) > 0)
            rc = dump_value(extra, kinds[k], arena, &out->extra, r);
        json_decref(extra);
        if (rc < 0)
            return -1;
    }
    if (!found) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "An assessment needs one of 'feedback', 'expectation' or 'issue'");
        return -1;
    }
    return 0;
}

static int read_metadata(const struct input *a, struct arena *arena, const char **out,
                         struct reply *r)
{
    struct kv *kv;
    size_t n;
    *out = NULL;
    if (trace_read_kv_map(a, "metadata", arena, &kv, &n, r) != JX_OK)
        return -1;
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(o, kv[i].key, json_string(kv[i].value));
    int rc = dump_value(o, "metadata", arena, out, r);
    json_decref(o);
    return rc;
}

static int read_name(const struct input *a, const char **name, struct reply *r)
{
    if (jx_required_string(a, "assessment_name", name, r) != JX_OK)
        return -1;
    if (validate_utf8_length(*name) > 250) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "'assessment_name' exceeds the maximum length of 250 characters");
        return -1;
    }
    return 0;
}

static int read_rationale(const struct input *a, const char **out, struct reply *r)
{
    *out = NULL;
    if (jx_string(a, "rationale", out, r) == JX_BAD)
        return -1;
    if (*out && validate_utf8_length(*out) > MAX_RATIONALE) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "'rationale' exceeds the maximum length of %d characters", MAX_RATIONALE);
        return -1;
    }
    return 0;
}

/* The "assessment" object of the body. */
static int assessment_input(const struct request *req, struct input *a, struct reply *r)
{
    const json_t *obj = json_object_get(req->input, "assessment");
    if (obj == NULL || json_is_null(obj)) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Missing value for required parameter 'assessment'.");
        return -1;
    }
    if (!json_is_object(obj)) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "'assessment' must be an object");
        return -1;
    }
    *a = (struct input){obj, 0, "assessment"};
    return 0;
}

static void reply_assessment(struct reply *r, const char *trace_id, const char *id)
{
    struct arena arena;
    struct trace_assessment a;
    arena_init(&arena);
    int rc = store_assessment_get(trace_id, id, &arena, &a);
    if (rc != DB_OK)
        not_found(r, rc, id);
    else
        reply_json(r, json_pack("{s:o}", "assessment", trace_assessment_json(&a)));
    arena_cleanup(&arena);
}

void api_traces_assessment_create(const struct request *req, const char *trace_id, struct reply *r)
{
    struct input a;
    struct arena arena;
    struct trace_assessment x = {0};
    char hex[33], id[35];
    const char *body_trace = NULL;

    arena_init(&arena);
    if (assessment_input(req, &a, r) < 0 || read_name(&a, &x.name, r) < 0 ||
        jx_string(&a, "trace_id", &body_trace, r) == JX_BAD ||
        jx_string(&a, "span_id", &x.span_id, r) == JX_BAD ||
        jx_string(&a, "overrides", &x.overrides, r) == JX_BAD ||
        read_rationale(&a, &x.rationale, r) < 0 || read_body(a.obj, &arena, &x, r) < 0 ||
        read_metadata(&a, &arena, &x.metadata, r) < 0)
        goto out;
    if (body_trace && body_trace[0] && strcmp(body_trace, trace_id) != 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "'assessment.trace_id' does not match the trace id in the path");
        goto out;
    }
    if (x.span_id && x.span_id[0] == '\0')
        x.span_id = NULL;
    if (x.span_id && strlen(x.span_id) > 64) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "'span_id' is longer than 64 characters");
        goto out;
    }
    x.valid = 1;
    if (jx_bool(&a, "valid", &x.valid, r) == JX_BAD)
        goto out;
    const json_t *src = json_object_get(a.obj, "source");
    if (src != NULL && !json_is_null(src)) {
        struct input s = {src, 0, "assessment.source"};
        if (!json_is_object(src)) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE, "'assessment.source' must be an object");
            goto out;
        }
        int st = 0;
        if (jx_enum(&s, "source_type", source_names + 1, 3, &st, r) == JX_BAD ||
            jx_string(&s, "source_id", &x.source_id, r) == JX_BAD)
            goto out;
        if (st < 0 || st > 3) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE, "'source_type' must be 0-3");
            goto out;
        }
        x.source_type = st;
        if (x.source_id && validate_utf8_length(x.source_id) > 250) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                        "'source_id' exceeds the maximum length of 250 characters");
            goto out;
        }
    }
    if (x.overrides && !assessment_id_valid(x.overrides)) {
        not_found(r, DB_NOT_FOUND, x.overrides);
        goto out;
    }
    if (!trace_id_valid(trace_id)) {
        trace_not_found(r, DB_NOT_FOUND, trace_id);
        goto out;
    }
    ids_new_run_id(hex);
    snprintf(id, sizeof id, "a-%s", hex);
    x.assessment_id = id;
    x.trace_id = trace_id;
    int rc = store_assessment_create(&x);
    if (rc == DB_TRACE_NO_TAG)
        not_found(r, DB_NOT_FOUND, x.overrides);
    else if (rc != DB_OK)
        trace_not_found(r, rc, trace_id);
    else
        reply_assessment(r, trace_id, id);
out:
    arena_cleanup(&arena);
}

/* "{assessment_id}" alone in rest; NULL otherwise. */
static const char *single_id(const char *rest)
{
    return rest[0] && strchr(rest, '/') == NULL ? rest : NULL;
}

void api_traces_assessment_get(const struct request *req, const char *trace_id, const char *rest,
                               struct reply *r)
{
    (void)req;
    const char *id = single_id(rest);
    if (id == NULL || !assessment_id_valid(id) || !trace_id_valid(trace_id)) {
        not_found(r, DB_NOT_FOUND, id ? id : "");
        return;
    }
    reply_assessment(r, trace_id, id);
}

/* Reads the update mask: a comma-separated string (or a list of paths). */
static int read_mask(const struct request *req, int *mask, struct reply *r)
{
    const json_t *m = json_object_get(req->input, "update_mask");
    char buf[512];
    *mask = 0;
    if (json_is_object(m))
        m = json_object_get(m, "paths");
    if (json_is_array(m)) {
        size_t off = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < json_array_size(m) && off < sizeof buf - 1; i++) {
            const json_t *p = json_array_get(m, i);
            if (!json_is_string(p))
                goto bad;
            off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%s", i ? "," : "",
                                    json_string_value(p));
        }
    } else if (json_is_string(m) && json_string_length(m) < sizeof buf) {
        snprintf(buf, sizeof buf, "%s", json_string_value(m));
    } else if (m == NULL || json_is_null(m)) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Missing value for required parameter 'update_mask'.");
        return -1;
    } else {
        goto bad;
    }
    static const struct {
        const char *camel, *snake;
        int bit;
    } paths[] = {{"assessmentName", "assessment_name", ASSESS_NAME},
                 {"expectation", "expectation", ASSESS_VALUE},
                 {"feedback", "feedback", ASSESS_VALUE},
                 {"rationale", "rationale", ASSESS_RATIONALE},
                 {"metadata", "metadata", ASSESS_METADATA},
                 {"valid", "valid", ASSESS_VALID}};
    char *save = NULL;
    for (char *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        while (*p == ' ')
            p++;
        int found = 0;
        for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
            if (strcmp(p, paths[i].camel) == 0 || strcmp(p, paths[i].snake) == 0) {
                *mask |= paths[i].bit;
                found = 1;
            }
        if (!found) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                        "Invalid update_mask path '%.100s': expected assessment_name, "
                        "expectation, feedback, rationale, metadata or valid",
                        p);
            return -1;
        }
    }
    if (*mask == 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "'update_mask' names no field");
        return -1;
    }
    return 0;
bad:
    reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                "'update_mask' must be a comma-separated string of field paths");
    return -1;
}

void api_traces_assessment_update(const struct request *req, const char *trace_id, const char *rest,
                                  struct reply *r)
{
    struct input a;
    struct arena arena;
    struct trace_assessment x = {0};
    int mask;
    const char *id = single_id(rest);

    arena_init(&arena);
    if (assessment_input(req, &a, r) < 0 || read_mask(req, &mask, r) < 0)
        goto out;
    if ((mask & ASSESS_NAME) && read_name(&a, &x.name, r) < 0)
        goto out;
    if ((mask & ASSESS_VALUE) && read_body(a.obj, &arena, &x, r) < 0)
        goto out;
    if ((mask & ASSESS_RATIONALE) && read_rationale(&a, &x.rationale, r) < 0)
        goto out;
    if ((mask & ASSESS_METADATA) && read_metadata(&a, &arena, &x.metadata, r) < 0)
        goto out;
    x.valid = 1;
    if ((mask & ASSESS_VALID) && jx_bool(&a, "valid", &x.valid, r) == JX_BAD)
        goto out;
    if (id == NULL || !assessment_id_valid(id) || !trace_id_valid(trace_id)) {
        not_found(r, DB_NOT_FOUND, id ? id : "");
        goto out;
    }
    x.trace_id = trace_id;
    x.assessment_id = id;
    int rc = store_assessment_update(&x, mask);
    if (rc != DB_OK)
        not_found(r, rc, id);
    else
        reply_assessment(r, trace_id, id);
out:
    arena_cleanup(&arena);
}

void api_traces_assessment_delete(const struct request *req, const char *trace_id, const char *rest,
                                  struct reply *r)
{
    (void)req;
    const char *id = single_id(rest);
    if (id == NULL || !assessment_id_valid(id) || !trace_id_valid(trace_id)) {
        not_found(r, DB_NOT_FOUND, id ? id : "");
        return;
    }
    int rc = store_assessment_delete(trace_id, id);
    if (rc != DB_OK)
        not_found(r, rc, id);
    else
        reply_json(r, json_object());
}
