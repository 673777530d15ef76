/* Name and value rules of the MLflow contract, as pure functions. */
#include "validate.h"

#include <string.h>

size_t validate_utf8_length(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xC0) != 0x80)
            n++;
    return n;
}

size_t validate_utf8_prefix(const char *s, size_t max)
{
    size_t chars = 0;
    size_t i = 0;
    const unsigned char *p = (const unsigned char *)s;

    for (; p[i]; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            if (chars == max)
                break;
            chars++;
        }
    }
    return i;
}

static int is_key_char(unsigned char c)
{
    if (c >= 0x80) /* part of a non-ASCII code point: letters of other scripts */
        return 1;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c == '_' || c == '/' || c == '.' || c == '-' || c == ' ' || c == ':';
}

const char *validate_key_rule(const char *key)
{
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        if (!is_key_char(*p))
            return "names may only contain alphanumerics, underscores (_), dashes (-), "
                   "periods (.), spaces ( ), colons (:) and slashes (/)";
    if (key[0] == '/')
        return "names may not start with '/'";
    if (strncmp(key, "..", 2) == 0 || strcmp(key, ".") == 0)
        return "names may not be '.' or start with '..'";
    /* The key must already be a normalized relative path: no empty, '.' or
     * '..' segments and no trailing slash. */
    size_t len = strlen(key);
    if (len > 0 && key[len - 1] == '/')
        return "names may not end with '/'";
    const char *seg = key;
    while (1) {
        const char *slash = strchr(seg, '/');
        size_t seglen = slash ? (size_t)(slash - seg) : strlen(seg);
        if (slash && seglen == 0)
            return "names may not contain '//'";
        if ((seglen == 1 && seg[0] == '.') || (seglen == 2 && seg[0] == '.' && seg[1] == '.'))
            return "names may not contain '.' or '..' path segments";
        if (!slash)
            break;
        seg = slash + 1;
    }
    return NULL;
}

int validate_is_run_id(const char *s)
{
    size_t i = 0;
    for (; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return i == 32;
}

int validate_run_id_pattern(const char *s)
{
    size_t i = 0;
    for (; s[i]; i++) {
        char c = s[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (i == 0 ? !alnum : !(alnum || c == '_' || c == '-'))
            return 0;
    }
    return i >= 1 && i <= 256;
}

int validate_is_logged_model_id(const char *s)
{
    return s[0] == 'm' && s[1] == '-' && validate_is_run_id(s + 2);
}
