/* The import API's shared field readers (import_fields.h): one wording of
 * each rule for experiments, runs and logged models. */
#include "import_fields.h"

#include <time.h>

#include "core/validate.h"

int64_t import_fields_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int import_fields_time(const struct input *in, const char *key, int64_t fallback, int64_t *out,
                       struct reply *r)
{
    int rc = jx_int64(in, key, out, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (rc == JX_ABSENT) {
        *out = fallback;
        return JX_OK;
    }
    if (*out < 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value %lld for parameter '%s': a time must not be negative",
                    (long long)*out, key);
        return JX_BAD;
    }
    return JX_OK;
}

int import_fields_text(const struct input *in, const char *key, size_t max, const char **out,
                       struct reply *r)
{
    *out = "";
    int rc = jx_string(in, key, out, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (rc == JX_ABSENT)
        *out = "";
    return input_check_length(*out, key, max, r);
}
