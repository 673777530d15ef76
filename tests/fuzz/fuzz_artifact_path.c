/* libFuzzer target for artifact paths (server/artifact_path.c): the safety
 * check every artifact endpoint applies, the proxy-path split, the basename
 * and content type, and Range headers. The first byte picks the flags and
 * the mode; the rest is the path (or "header\nsize" for Range).
 *
 * Besides "no crash, no overread", an accepted path is checked against an
 * independent statement of the rules: it never names a parent or the
 * current directory, nor hides one (or a separator) behind up to three
 * rounds of percent-encoding, never starts with '/', and fits the limits. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/artifact_path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (c | 0x20) - 'a' + 10;
    return -1;
}

/* One round of percent-decoding of s[0..n) into out; returns the length. */
static size_t decode(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 &&
            (lo = hexval(s[i + 2])) >= 0) {
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    return o;
}

/* A segment that is "." or ".." or only dots (and spaces), or that holds a
 * separator, a NUL or a backslash: what an accepted path must never carry
 * at any decoding depth. */
static int dangerous(const char *s, size_t n)
{
    int only_dots = 1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '/' || s[i] == '\\' || s[i] == '\0')
            return 1;
        if (s[i] != '.' && s[i] != ' ')
            only_dots = 0;
    }
    return only_dots;
}

static void check_segment(const char *s, size_t n)
{
    char a[ARTIFACT_SEGMENT_MAX + 1], b[ARTIFACT_SEGMENT_MAX + 1];

    if (n == 0 || n > ARTIFACT_SEGMENT_MAX || dangerous(s, n))
        abort();
    memcpy(a, s, n);
    for (int round = 0; round < 3; round++) {
        size_t m = decode(a, n, b);
        if (m == n)
            break; /* nothing left to decode */
        if (dangerous(b, m))
            abort();
        memcpy(a, b, m);
        n = m;
    }
}

/* An accepted path against the rules, stated independently. */
static void check_accepted(const char *path, size_t n, int flags)
{
    if (n > ARTIFACT_PATH_MAX)
        abort();
    if (n == 0) {
        if (!(flags & ARTIFACT_PATH_EMPTY_OK) || path[0] != '\0')
            abort();
        return;
    }
    if (path[0] == '/' || memchr(path, '\0', n) != NULL)
        abort();
    for (size_t start = 0; start <= n;) {
        const char *slash = memchr(path + start, '/', n - start);
        size_t end = slash ? (size_t)(slash - path) : n;
        check_segment(path + start, end - start);
        start = end + 1;
    }
}

static void check_split(const char *path, size_t n)
{
    struct artifact_proxy_path pp;
    if (artifact_path_split(path, n, &pp) != 0)
        return;
    if (pp.depth < 0 || pp.depth > 3 || pp.experiment_id < 0)
        abort();
    /* from the id on, the path is a run's, a logged model's or a trace's:
       exactly one of the three ids is set, in its own shape */
    size_t run = strlen(pp.run_id), model = strlen(pp.model_id), trace = strlen(pp.trace_id);
    if (pp.depth >= 2 && (run != 0) + (model != 0) + (trace != 0) != 1)
        abort();
    if ((run != 0 && run != 32) || (model != 0 && model != 34) ||
        (trace != 0 && trace != 32 && trace != 35))
        abort();
    if (pp.depth == 3 && pp.rel_len > 0 &&
        (pp.rel < path || pp.rel + pp.rel_len != path + n || pp.rel[0] == '/'))
        abort();
}

static void path_mode(const char *path, int flags)
{
    size_t n = strlen(path), checked;
    const char *why = artifact_path_check(path, flags, &checked);
    if (checked > n)
        abort();
    if (why == NULL) {
        check_accepted(path, checked, flags);
        check_split(path, checked);
    } else if (why[0] == '\0') {
        abort(); /* a refusal always says why */
    }
    const char *base = artifact_path_basename(path);
    if (base < path || base > path + n)
        abort();
    const char *type = artifact_path_content_type(path);
    if (type == NULL || strchr(type, '/') == NULL)
        abort();
}

/* "header\nsize": a Range header against a file of that size. */
static void range_mode(char *text)
{
    char *nl = strchr(text, '\n');
    int64_t size = 1000;
    if (nl != NULL) {
        *nl = '\0';
        size = strtoll(nl + 1, NULL, 10);
        if (size < 0)
            size = -(size + 1);
    }
    int64_t start = -1, len = -1;
    enum artifact_range kind = artifact_path_range(text, size, &start, &len);
    if (kind == RANGE_OK && (start < 0 || len <= 0 || start > size - len))
        abort();
    if (kind != RANGE_OK && kind != RANGE_NONE && kind != RANGE_UNSATISFIABLE)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 4 * ARTIFACT_PATH_MAX)
        return 0;
    char *text = malloc(size); /* the rest plus a terminator, no slack */
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    if (data[0] & 0x80)
        range_mode(text);
    else
        path_mode(text, data[0] & 3);
    free(text);
    return 0;
}
