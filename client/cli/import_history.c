/* Reading a metric's whole history for import and export: get-history pages
 * of 25,000 points, parsed by a small scanner for the one shape servers
 * send ({"metrics":[{"key":..,"value":..,"timestamp":..,"step":..}],
 * "next_page_token":..}) into plain point arrays, with jansson as the
 * fallback for anything else (escapes, unknown fields, quoted integers), so
 * what is read never depends on which path read it. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* A string without escapes at *p: its inside in *s, *len. 0, or -1 for an
 * escape, a control character or the end of the text. */
static int plain_string(const char **p, const char **s, size_t *len)
{
    const char *q = *p;
    if (*q != '"')
        return -1;
    const char *start = ++q;
    for (; *q != '"'; q++) {
        if (*q == '\\' || (unsigned char)*q < 0x20)
            return -1;
    }
    *s = start;
    *len = (size_t)(q - start);
    *p = q + 1;
    return 0;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A JSON integer in int64 range at *p (no fraction, no exponent). 0 or -1
 * (jansson would read a real, or fail on the overflow). */
static int scan_int64(const char **p, int64_t *v)
{
    const char *q = *p;
    int neg = *q == '-';
    uint64_t u = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    q += neg;
    if (!is_digit(*q) || (*q == '0' && is_digit(q[1])))
        return -1;
    for (; is_digit(*q); q++) {
        uint64_t d = (uint64_t)(*q - '0');
        if (u > (limit - d) / 10)
            return -1;
        u = u * 10 + d;
    }
    if (*q == '.' || *q == 'e' || *q == 'E')
        return -1;
    *v = neg ? (int64_t)(0 - u) : (int64_t)u;
    *p = q;
    return 0;
}

/* A metric value at *p: a JSON number (an integer one as jansson reads it,
 * a real through strtod, overflow refused as jansson refuses it) or one of
 * the strings "NaN", "Infinity", "-Infinity". 0 or -1. */
static int scan_value(const char **p, double *v)
{
    const char *q = *p, *s;
    size_t n;
    if (*q == '"') {
        if (plain_string(&q, &s, &n) != 0)
            return -1;
        if (n == 3 && memcmp(s, "NaN", 3) == 0)
            *v = NAN;
        else if (n == 8 && memcmp(s, "Infinity", 8) == 0)
            *v = INFINITY;
        else if (n == 9 && memcmp(s, "-Infinity", 9) == 0)
            *v = -INFINITY;
        else
            return -1;
        *p = q;
        return 0;
    }
    int64_t i;
    if (scan_int64(&q, &i) == 0) {
        *v = (double)i;
        *p = q;
        return 0;
    }
    /* a real: check the JSON grammar, then let strtod read exactly it */
    const char *end = q + (*q == '-');
    if (!is_digit(*end) || (*end == '0' && is_digit(end[1])))
        return -1;
    while (is_digit(*end))
        end++;
    if (*end == '.') {
        if (!is_digit(*++end))
            return -1;
        while (is_digit(*end))
            end++;
    }
    if (*end == 'e' || *end == 'E') {
        end++;
        end += *end == '+' || *end == '-';
        if (!is_digit(*end))
            return -1;
        while (is_digit(*end))
            end++;
    }
    char *got;
    errno = 0;
    *v = strtod(q, &got);
    if (got != end || (isinf(*v) && errno == ERANGE))
        return -1;
    *p = end;
    return 0;
}

/* An object member's name and its colon at *p, leaving *p at the value.
 * 0 or -1. */
static int member_name(const char **p, const char **s, size_t *n)
{
    const char *q = *p;
    if (plain_string(&q, s, n) != 0)
        return -1;
    q = skip_ws(q);
    if (*q++ != ':')
        return -1;
    *p = skip_ws(q);
    return 0;
}

static int name_is(const char *s, size_t n, const char *want)
{
    return strlen(want) == n && memcmp(s, want, n) == 0;
}

/* One {"key","value","timestamp","step"} object at *p into pt (missing
 * fields as the jansson path defaults them). 0 or -1. */
static int scan_point(const char **p, struct ipoint *pt)
{
    const char *q = skip_ws(*p), *s;
    size_t n;
    *pt = (struct ipoint){NAN, 0, 0};
    if (*q++ != '{')
        return -1;
    q = skip_ws(q);
    if (*q == '}') {
        *p = q + 1;
        return 0;
    }
    for (;;) {
        if (member_name(&q, &s, &n) != 0)
            return -1;
        const char *ignored;
        size_t ignored_len;
        int rc = name_is(s, n, "value")       ? scan_value(&q, &pt->value)
                 : name_is(s, n, "timestamp") ? scan_int64(&q, &pt->timestamp)
                 : name_is(s, n, "step")      ? scan_int64(&q, &pt->step)
                 : name_is(s, n, "key")       ? plain_string(&q, &ignored, &ignored_len)
                                              : -1;
        if (rc != 0)
            return -1;
        q = skip_ws(q);
        if (*q == '}')
            break;
        if (*q++ != ',')
            return -1;
        q = skip_ws(q);
    }
    *p = q + 1;
    return 0;
}

/* Appends one point to *pts (grown by doubling). 0 or -1. */
static int push_point(struct ipoints *pp, struct ipoint pt)
{
    if (pp->n == pp->cap) {
        size_t cap = pp->cap ? pp->cap * 2 : 1024;
        struct ipoint *np = realloc(pp->pts, cap * sizeof *np);
        if (np == NULL)
            return -1;
        pp->pts = np;
        pp->cap = cap;
    }
    pp->pts[pp->n++] = pt;
    return 0;
}

/* The fast path: 0, or -1 when the text is not exactly the known shape. */
static int scan_page(const char *text, struct ipoints *pp, char **token)
{
    const char *q = skip_ws(text), *s;
    size_t n;
    if (*q++ != '{')
        return -1;
    q = skip_ws(q);
    while (*q != '}') {
        if (member_name(&q, &s, &n) != 0)
            return -1;
        if (name_is(s, n, "next_page_token")) {
            const char *t;
            size_t tn;
            if (plain_string(&q, &t, &tn) != 0)
                return -1;
            free(*token);
            if ((*token = strndup(t, tn)) == NULL)
                return -1;
        } else if (name_is(s, n, "metrics")) {
            if (*q++ != '[')
                return -1;
            q = skip_ws(q);
            pp->n = 0;
            while (*q != ']') {
                struct ipoint pt;
                if (scan_point(&q, &pt) != 0 || push_point(pp, pt) != 0)
                    return -1;
                q = skip_ws(q);
                if (*q == ',')
                    q = skip_ws(q + 1);
                else if (*q != ']')
                    return -1;
            }
            q++;
        } else {
            return -1;
        }
        q = skip_ws(q);
        if (*q == ',')
            q = skip_ws(q + 1);
        else if (*q != '}')
            return -1;
    }
    return *skip_ws(q + 1) == '\0' ? 0 : -1;
}

/* The general path, as the importer read pages before the scanner. */
static int load_page(const char *text, struct ipoints *pp, char **token)
{
    json_error_t jerr;
    json_t *reply = json_loads(text, 0, &jerr);
    int rc = -1;
    if (reply == NULL)
        goto out;
    const json_t *metrics = json_object_get(reply, "metrics");
    pp->n = 0;
    for (size_t i = 0; i < json_array_size(metrics); i++) {
        const json_t *m = json_array_get(metrics, i);
        struct ipoint pt = {ex_jdouble(json_object_get(m, "value")), ex_jint(m, "timestamp", 0),
                            ex_jint(m, "step", 0)};
        if (push_point(pp, pt) != 0)
            goto out;
    }
    const char *t = json_string_value(json_object_get(reply, "next_page_token"));
    if (t != NULL && t[0] && (*token = strdup(t)) == NULL)
        goto out;
    rc = 0;
out:
    json_decref(reply);
    return rc;
}

int ihist_parse(const char *text, struct ipoints *pp, char **token)
{
    *token = NULL;
    pp->n = 0;
    if (scan_page(text, pp, token) == 0) {
        if (*token != NULL && !(*token)[0]) {
            free(*token);
            *token = NULL;
        }
        return 0;
    }
    free(*token);
    *token = NULL;
    return load_page(text, pp, token);
}

int ex_history_pages(struct ih *src, const char *run_id, const char *key,
                     int (*page)(void *ctx, const struct ipoint *pts, size_t n), void *ctx)
{
    char esc[1200], url[2400];
    char *token = NULL;
    struct ipoints pp = {0};
    int rc = 0;
    if (ih_escape(esc, sizeof esc, key, 0) != 0) {
        snprintf(src->err, sizeof src->err, "metric key '%.60s...' is too long for a URL", key);
        return -1;
    }
    do {
        char tesc[1024] = "";
        char *text = NULL;
        if (token != NULL)
            ih_escape(tesc, sizeof tesc, token, 0);
        ipathf(url, sizeof url,
               "/api/2.0/mlflow/metrics/get-history?run_id=%s&metric_key=%s&max_results=25000%s%s",
               run_id, esc, token ? "&page_token=" : "", tesc);
        free(token);
        token = NULL;
        if (ih_text(src, "GET", url, NULL, NULL, NULL, &text) != 200) {
            rc = -1;
            break;
        }
        if (ihist_parse(text, &pp, &token) != 0) {
            snprintf(src->err, sizeof src->err, "GET %.200s: the reply is not a metric history",
                     url);
            free(text);
            rc = -1;
            break;
        }
        free(text);
        rc = page(ctx, pp.pts, pp.n);
        if (rc != 0) {
            free(token);
            token = NULL;
        }
    } while (token != NULL);
    free(pp.pts);
    return rc;
}
