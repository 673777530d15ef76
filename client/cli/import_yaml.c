/* meta.yaml reading and writing (see import_yaml.h for the subset). */
#include "import_yaml.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static void push(struct ymap *m, const char *key, char *value)
{
    struct ikv *kv = realloc(m->kv, (m->n + 1) * sizeof *kv);
    if (kv == NULL) {
        free(value);
        return;
    }
    m->kv = kv;
    m->kv[m->n].key = strdup(key);
    m->kv[m->n].value = value;
    m->n++;
}

/* The scalar raw (trimmed) as a malloc'd string; NULL for null. */
static char *unquote(const char *raw)
{
    size_t n = strlen(raw);
    char *out = malloc(n + 1), *o = out;
    if (out == NULL)
        return NULL;
    if (n >= 2 && raw[0] == '\'' && raw[n - 1] == '\'') {
        for (size_t i = 1; i + 1 < n; i++) {
            *o++ = raw[i];
            if (raw[i] == '\'' && raw[i + 1] == '\'')
                i++;
        }
    } else if (n >= 2 && raw[0] == '"' && raw[n - 1] == '"') {
        for (size_t i = 1; i + 1 < n; i++) {
            if (raw[i] != '\\' || i + 2 >= n) {
                *o++ = raw[i];
                continue;
            }
            char c = raw[++i];
            if (c == 'x' && i + 2 < n - 1) {
                char hex[3] = {raw[i + 1], raw[i + 2], 0};
                *o++ = (char)strtol(hex, NULL, 16);
                i += 2;
                continue;
            }
            *o++ = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c == '0' ? '\0' : c;
        }
    } else {
        if (n == 0 || strcmp(raw, "null") == 0 || strcmp(raw, "~") == 0 || strcmp(raw, "{}") == 0 ||
            strcmp(raw, "[]") == 0) {
            free(out);
            return NULL;
        }
        memcpy(out, raw, n);
        o = out + n;
    }
    *o = '\0';
    return out;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Appends " " + more to *acc (folding a continuation line). */
static void fold(char **acc, const char *more)
{
    size_t a = strlen(*acc), b = strlen(more);
    char *n = realloc(*acc, a + b + 2);
    if (n == NULL)
        return;
    n[a] = ' ';
    memcpy(n + a + 1, more, b + 1);
    *acc = n;
}

int ymap_load(const char *path, struct ymap *m)
{
    FILE *f = fopen(path, "r");
    char *line = NULL, *pending = NULL, key[512] = "", parent[512] = "";
    size_t cap = 0;
    ssize_t len;

    memset(m, 0, sizeof *m);
    if (f == NULL)
        return -1;
    while ((len = getline(&line, &cap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        int indented = isspace((unsigned char)line[0]);
        char *colon = strstr(line, ": ");
        if (colon == NULL && len > 0 && line[len - 1] == ':')
            colon = line + len - 1;
        if (indented && pending != NULL) {
            fold(&pending, trim(line));
            continue;
        }
        if (pending != NULL) {
            push(m, key, unquote(pending));
            free(pending);
            pending = NULL;
        }
        if (colon == NULL || line[0] == '#' || line[0] == '-')
            continue;
        *colon = '\0';
        char *k = trim(line), *v = trim(colon + 1);
        if (k[0] == '\'' || k[0] == '"') {
            char *uk = unquote(k);
            snprintf(key, sizeof key, "%s", uk ? uk : "");
            free(uk);
        } else {
            snprintf(key, sizeof key, "%s", k);
        }
        if (!indented)
            parent[0] = '\0';
        if (!indented && v[0] == '\0') {
            snprintf(parent, sizeof parent, "%s", key);
            continue;
        }
        if (indented && parent[0]) {
            char full[1024];
            size_t pl = strlen(parent);
            if (pl + 1 + strlen(key) < sizeof key) {
                memcpy(full, parent, pl);
                full[pl] = '.';
                strcpy(full + pl + 1, key);
                strcpy(key, full);
            }
        }
        pending = strdup(v);
    }
    if (pending != NULL) {
        push(m, key, unquote(pending));
        free(pending);
    }
    free(line);
    fclose(f);
    return 0;
}

const char *ymap_get(const struct ymap *m, const char *key)
{
    for (size_t i = 0; i < m->n; i++) {
        if (strcmp(m->kv[i].key, key) == 0)
            return m->kv[i].value;
    }
    return NULL;
}

int64_t ymap_int(const struct ymap *m, const char *key, int64_t fallback)
{
    const char *v = ymap_get(m, key);
    char *end;
    if (v == NULL)
        return fallback;
    long long x = strtoll(v, &end, 10);
    return end != v && *end == '\0' ? (int64_t)x : fallback;
}

void ymap_free(struct ymap *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->kv[i].key);
        free(m->kv[i].value);
    }
    free(m->kv);
    memset(m, 0, sizeof *m);
}

void yaml_put_str(FILE *f, const char *key, const char *value)
{
    fprintf(f, "%s: ", key);
    if (value == NULL) {
        fputs("null\n", f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p == '\t')
            fputs("\\t", f);
        else if (*p == '\r')
            fputs("\\r", f);
        else if (*p < 0x20)
            fprintf(f, "\\x%02x", *p);
        else
            fputc(*p, f);
    }
    fputs("\"\n", f);
}

void yaml_put_int(FILE *f, const char *key, int64_t value)
{
    fprintf(f, "%s: %lld\n", key, (long long)value);
}
