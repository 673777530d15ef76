/* Artifact path rules: what a client may name, and how a proxy path splits
 * into experiment, run and file. No I/O; the HTTP layer has percent-decoded
 * the path once (leaving "%00" as is, so a NUL can be refused here). */
#include "artifact_path.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DECODE_ROUNDS 3

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid
 * (overlong forms, surrogates, code points past U+10FFFF included). */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
    if (len == 0 || s[0] > 0xF4 || len > n)
        return 0;
    uint32_t v = s[0] & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

static int is_slash_like(uint32_t cp)
{
    return cp == 0xFF0F || cp == 0xFF3C || cp == 0x2215 || cp == 0x2044 || cp == 0x29F5 ||
           cp == 0x29F8 || cp == 0x29F9 || cp == 0xFE68;
}

/* How many '.' a code point reads as after Unicode compatibility folding. */
static int dots_of(uint32_t cp)
{
    if (cp == '.' || cp == 0x2024 || cp == 0xFE52 || cp == 0xFF0E)
        return 1;
    if (cp == 0x2025)
        return 2;
    if (cp == 0x2026)
        return 3;
    return 0;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (unsigned char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes buf[0..*n) in place; returns whether anything changed. */
static int decode_once(char *buf, size_t *n)
{
    size_t out = 0;
    int changed = 0;
    for (size_t i = 0; i < *n; i++) {
        int hi, lo;
        if (buf[i] == '%' && i + 2 < *n && (hi = hexval((unsigned char)buf[i + 1])) >= 0 &&
            (lo = hexval((unsigned char)buf[i + 2])) >= 0) {
            buf[out++] = (char)(hi * 16 + lo);
            i += 2;
            changed = 1;
        } else {
            buf[out++] = buf[i];
        }
    }
    *n = out;
    return changed;
}

static int has_forbidden_byte(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7F || c == '\\' || c == '/' || c == '#')
            return 1;
    }
    return 0;
}

/* Checks the form a segment takes once fully decoded: no hidden separator,
 * NUL or control byte, no look-alike slash, not only dots and spaces. */
static const char *check_decoded(const char *s, size_t n)
{
    int only_dots = 1;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = utf8_seq((const unsigned char *)s + i, n - i, &cp);
        if (k == 0) { /* decoded bytes that are not text: harmless here */
            k = 1;
            cp = 0xFFFD;
        }
        if (is_slash_like(cp))
            return "a path segment contains a character that reads as a slash";
        if (dots_of(cp) == 0 && cp != ' ')
            only_dots = 0;
        i += k;
    }
    return only_dots ? "'.' and '..' path segments are not allowed" : NULL;
}

static const char *check_segment(const char *s, size_t n)
{
    char buf[ARTIFACT_SEGMENT_MAX + 1];

    if (n == 0)
        return "empty path segments are not allowed";
    if (n > ARTIFACT_SEGMENT_MAX)
        return "a path segment exceeds 255 bytes";
    if (has_forbidden_byte(s, n))
        return "backslashes, '#' and control characters are not allowed in paths";
    if (n >= 2 && s[1] == ':' && ((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z'))
        return "drive letters are not allowed in paths";
    memcpy(buf, s, n);
    size_t len = n;
    for (int round = 0; round < DECODE_ROUNDS && memchr(buf, '%', len); round++) {
        if (!decode_once(buf, &len))
            break;
        if (has_forbidden_byte(buf, len))
            return "a path segment hides a separator, NUL or control character in "
                   "percent-encoding";
    }
    return check_decoded(buf, len);
}

const char *artifact_path_check(const char *path, int flags, size_t *len)
{
    size_t n = strlen(path);

    if (n > 0 && path[n - 1] == '/' && (flags & ARTIFACT_PATH_TRAILING_SLASH))
        n--;
    if (len != NULL)
        *len = n;
    if (n == 0)
        return (flags & ARTIFACT_PATH_EMPTY_OK) && path[0] == '\0' ? NULL : "the path is empty";
    if (n > ARTIFACT_PATH_MAX)
        return "the path exceeds 1024 bytes";
    if (path[0] == '/')
        return "absolute paths are not allowed";
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = utf8_seq((const unsigned char *)path + i, n - i, &cp);
        if (k == 0)
            return "the path is not valid UTF-8";
        i += k;
    }
    for (size_t start = 0; start <= n;) {
        const char *slash = memchr(path + start, '/', n - start);
        size_t end = slash ? (size_t)(slash - path) : n;
        const char *why = check_segment(path + start, end - start);
        if (why != NULL)
            return why;
        start = end + 1;
    }
    return NULL;
}

/* Parses a whole decimal experiment id of at most 18 digits. */
static int parse_experiment(const char *s, size_t n, int64_t *out)
{
    if (n == 0 || n > 18)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int is_run_id(const char *s, size_t n)
{
    if (n != 32)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* True when s[0..len) is "m-" and 32 lowercase hex digits. */
static int is_model_id(const char *s, size_t len)
{
    return len == 34 && s[0] == 'm' && s[1] == '-' && is_run_id(s + 2, 32);
}

/* True when s[0..len) is a trace id: 32 lowercase hex digits, or "tr-"
 * and 32 of them. */
static int is_trace_id(const char *s, size_t len)
{
    if (len == 35 && memcmp(s, "tr-", 3) == 0)
        return is_run_id(s + 3, 32);
    return is_run_id(s, len);
}

/* True when part is the word w. */
static int part_is(const char *part, size_t len, const char *w)
{
    return len == strlen(w) && memcmp(part, w, len) == 0;
}

int artifact_path_split(const char *path, size_t len, struct artifact_proxy_path *out)
{
    const char *parts[4];
    size_t lens[4];
    size_t pos = 0;
    int nparts = 0;

    memset(out, 0, sizeof *out);
    out->rel = "";
    /* a logged model's path has one part more: "<exp>/models/<model_id>/artifacts" */
    for (int i = 0; i < 4 && pos < len; i++) {
        const char *slash = memchr(path + pos, '/', len - pos);
        size_t end = slash ? (size_t)(slash - path) : len;
        parts[i] = path + pos;
        lens[i] = end - pos;
        nparts = i + 1;
        pos = end + 1;
        if (i == 2 && !part_is(parts[1], lens[1], "models") &&
            !part_is(parts[1], lens[1], "traces"))
            break; /* a run's path: the rest is the relative path */
    }
    if (nparts >= 1 && parse_experiment(parts[0], lens[0], &out->experiment_id) < 0)
        return -1;
    out->depth = nparts > 3 ? 3 : nparts;
    int first = 1; /* the part holding the run or model id */
    if (nparts >= 2 && lens[1] == 6 && memcmp(parts[1], "models", 6) == 0) {
        if (nparts < 3 || !is_model_id(parts[2], lens[2]))
            return -1;
        memcpy(out->model_id, parts[2], 34);
        out->model_id[34] = '\0';
        out->depth = nparts - 1;
        first = 2;
    } else if (nparts >= 2 && part_is(parts[1], lens[1], "traces")) {
        if (nparts < 3 || !is_trace_id(parts[2], lens[2]))
            return -1;
        memcpy(out->trace_id, parts[2], lens[2]);
        out->trace_id[lens[2]] = '\0';
        out->depth = nparts - 1;
        first = 2;
    } else if (nparts >= 2) {
        if (!is_run_id(parts[1], lens[1]))
            return -1;
        memcpy(out->run_id, parts[1], 32);
        out->run_id[32] = '\0';
    }
    if (nparts > first + 1) {
        const char *a = parts[first + 1];
        size_t alen = lens[first + 1];
        if (alen != strlen("artifacts") || memcmp(a, "artifacts", alen) != 0)
            return -1;
        if (pos < len) {
            out->rel = path + pos;
            out->rel_len = len - pos;
        }
    }
    return 0;
}

const char *artifact_path_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

struct type_row {
    const char *ext;
    const char *type;
};

static const struct type_row types[] = {
    {"txt", "text/plain"},
    {"log", "text/plain"},
    {"md", "text/markdown"},
    {"csv", "text/csv"},
    {"tsv", "text/tab-separated-values"},
    {"json", "application/json"},
    {"yaml", "application/yaml"},
    {"yml", "application/yaml"},
    {"html", "text/html"},
    {"htm", "text/html"},
    {"xml", "application/xml"},
    {"py", "text/x-python"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"svg", "image/svg+xml"},
    {"webp", "image/webp"},
    {"bmp", "image/bmp"},
    {"pdf", "application/pdf"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"tar", "application/x-tar"},
    {"mp4", "video/mp4"},
    {"wav", "audio/wav"},
    {"js", "text/javascript"},
    {"css", "text/css"},
};

const char *artifact_path_content_type(const char *name)
{
    const char *base = artifact_path_basename(name);
    const char *dot = strrchr(base, '.');
    if (dot == NULL || dot == base)
        return "application/octet-stream";
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcasecmp(dot + 1, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* Reads a decimal byte position; advances *s. -1 when none. */
static int64_t read_pos(const char **s)
{
    int64_t v = 0;
    const char *p = *s;
    if (*p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*p - '0');
    }
    *s = p;
    return v;
}

enum artifact_range artifact_path_range(const char *header, int64_t size, int64_t *start,
                                        int64_t *len)
{
    if (header == NULL || strncasecmp(header, "bytes=", 6) != 0)
        return RANGE_NONE;
    const char *p = header + 6;
    while (*p == ' ')
        p++;
    int64_t first = read_pos(&p);
    if (*p != '-')
        return RANGE_NONE;
    p++;
    int64_t last = read_pos(&p);
    while (*p == ' ')
        p++;
    if (*p != '\0' || (first < 0 && last < 0) || (first >= 0 && last >= 0 && last < first))
        return RANGE_NONE; /* several ranges or bad syntax: RFC 9110 says ignore it */
    if (first < 0) {       /* suffix: the last `last` bytes */
        if (last == 0 || size == 0)
            return RANGE_UNSATISFIABLE;
        *start = last >= size ? 0 : size - last;
        *len = size - *start;
        return RANGE_OK;
    }
    if (first >= size)
        return RANGE_UNSATISFIABLE;
    if (last < 0 || last >= size)
        last = size - 1;
    *start = first;
    *len = last - first + 1;
    return RANGE_OK;
}
