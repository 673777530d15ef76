/* Normalizing the mlflow.modelVersions tag (model_versions.h). */
#include "model_versions.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* The version of an entry as text into buf; 0, or -1 when it has none
 * usable (not a string or an integer). */
static int version_text(const json_t *v, char *buf, size_t len)
{
    if (json_is_string(v)) {
        snprintf(buf, len, "%s", json_string_value(v));
        return strlen(json_string_value(v)) < len ? 0 : -1;
    }
    if (json_is_integer(v)) {
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
        return 0;
    }
    return -1;
}

/* True when an entry of out has this name and version (as text). */
static int seen(const json_t *out, const char *name, const char *version)
{
    size_t i;
    const json_t *e;
    json_array_foreach(out, i, e)
    {
        const json_t *n = json_object_get(e, "name"), *v = json_object_get(e, "version");
        if (json_is_string(n) && json_is_string(v) && strcmp(json_string_value(n), name) == 0 &&
            strcmp(json_string_value(v), version) == 0)
            return 1;
    }
    return 0;
}

char *lm_model_versions_normalize(const char *value)
{
    json_error_t err;
    json_t *in = json_loads(value, 0, &err);
    char *text = NULL;
    size_t i;
    json_t *e;

    if (in == NULL)
        return NULL;
    if (!json_is_array(in))
        goto out;
    json_t *out = json_array();
    json_array_foreach(in, i, e)
    {
        const json_t *n = json_object_get(e, "name");
        char version[64];
        if (!json_is_object(e) || !json_is_string(n) ||
            version_text(json_object_get(e, "version"), version, sizeof version) < 0) {
            json_array_append(out, e);
            continue;
        }
        if (seen(out, json_string_value(n), version))
            continue;
        json_t *copy = json_copy(e);
        json_object_set_new(copy, "version", json_string(version));
        json_array_append_new(out, copy);
    }
    /* Python's json.dumps spacing: ", " and ": " */
    text = json_dumps(out, JSON_PRESERVE_ORDER);
    json_decref(out);
out:
    json_decref(in);
    return text;
}
