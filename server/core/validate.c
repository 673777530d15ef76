/* Name and value rules of the MLflow contract, as pure functions. */
#include "validate.h"

#include <locale.h>
#include <pthread.h>
#include <string.h>
#include <wctype.h>

int validate_utf8(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = u[i];
        size_t n;
        unsigned cp, min;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            n = 2, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            n = 3, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            n = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (len - i < n)
            return 0;
        for (size_t k = 1; k < n; k++) {
            if ((u[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (u[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += n;
    }
    return 1;
}

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

static locale_t utf8_locale;
static pthread_once_t utf8_locale_once = PTHREAD_ONCE_INIT;

static void open_utf8_locale(void)
{
    utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* Decodes the UTF-8 code point at *p and moves *p past it; -1 when the
 * bytes are not UTF-8 (the JSON reader lets none of those through). */
static long next_code_point(const unsigned char **p)
{
    const unsigned char *s = *p;
    int extra = s[0] < 0x80             ? 0
                : (s[0] & 0xE0) == 0xC0 ? 1
                : (s[0] & 0xF0) == 0xE0 ? 2
                : (s[0] & 0xF8) == 0xF0 ? 3
                                        : -1;
    if (extra < 0) {
        (*p)++;
        return -1;
    }
    long cp = extra == 0 ? s[0] : s[0] & (0x3F >> extra);
    for (int i = 1; i <= extra; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *p += i;
            return -1;
        }
        cp = cp << 6 | (s[i] & 0x3F);
    }
    *p += extra + 1;
    return cp;
}

/* MLflow's key charset: Python's \w (letters and digits of any script,
 * and '_') plus '/', '.', '-', ' ' and ':'. Outside ASCII, letters and
 * digits are what the C.UTF-8 locale classifies as alphanumeric: an emoji
 * or a symbol is refused, as MLflow refuses it. */
static int is_key_char(long cp)
{
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9'))
        return 1;
    if (cp < 0x80)
        return cp == '_' || cp == '/' || cp == '.' || cp == '-' || cp == ' ' || cp == ':';
    pthread_once(&utf8_locale_once, open_utf8_locale);
    if (utf8_locale == (locale_t)0)
        return 1; /* no C.UTF-8 locale: every non-ASCII character, as before */
    return iswalnum_l((wint_t)cp, utf8_locale) != 0;
}

const char *validate_key_rule(const char *key)
{
    for (const unsigned char *p = (const unsigned char *)key; *p;)
        if (!is_key_char(next_code_point(&p)))
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
