/* Percent-decoding and query-string objects (url_query.h). */
#include "url_query.h"

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (c | 0x20) - 'a' + 10;
    return -1;
}

size_t url_unescape(char *s)
{
    char *out = s;
    int hi, lo;

    for (const char *in = s; *in;) {
        if (in[0] == '%' && (hi = hex_digit(in[1])) >= 0 && (lo = hex_digit(in[2])) >= 0 &&
            (hi | lo) != 0) {
            *out++ = (char)(hi * 16 + lo);
            in += 3;
        } else {
            *out++ = *in++;
        }
    }
    *out = '\0';
    return (size_t)(out - s);
}

int url_query_add(json_t *query, const char *key, const char *value)
{
    json_t *v = json_string(value ? value : "");
    if (v == NULL) /* not UTF-8 */
        return -1;
    json_t *values = json_object_get(query, key);
    if (values == NULL) {
        values = json_array();
        if (json_object_set_new(query, key, values) != 0) {
            /* the name is not UTF-8: jansson refused it and freed values */
            json_decref(v);
            return -1;
        }
    }
    json_array_append_new(values, v);
    return 0;
}
