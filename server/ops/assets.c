/* The dashboard's files: an index over the embedded copies (web_files, made
 * by cmake/web.cmake, each text file followed by its "<name>.gz" twin), or
 * reads from --web-dir. ETags are FNV-1a hashes of the content, computed once
 * for embedded files and per read for files on disk. No HTTP here. */
#include "assets.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/hash.h"
#include "db/embedded.h"
#include "core/log.h"
#include "common/xalloc.h"

#define ASSETS_MAX_DISK_FILE (64u * 1024 * 1024)
#define ASSETS_UPLOT_PREFIX "vendor/uplot/"

static char *web_dir;
static struct asset *table;
static size_t table_len;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static const char *assets_content_type(const char *path);

static void set_etag(struct asset *a)
{
    snprintf(a->etag, sizeof a->etag, "\"%016llx\"",
             (unsigned long long)hash_fnv1a(a->data, a->size));
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Finds "<path>.gz" among the embedded files. */
static const struct embedded_file *find_gz_twin(const char *path)
{
    size_t n = strlen(path);
    for (size_t i = 0; i < web_files_count; i++) {
        const char *p = web_files[i].path;
        if (strncmp(p, path, n) == 0 && strcmp(p + n, ".gz") == 0)
            return &web_files[i];
    }
    return NULL;
}

static void build_table(void)
{
    table = xcalloc(web_files_count ? web_files_count : 1, sizeof *table);
    for (size_t i = 0; i < web_files_count; i++) {
        const struct embedded_file *f = &web_files[i];
        if (ends_with(f->path, ".gz"))
            continue;
        struct asset *a = &table[table_len++];
        a->path = f->path;
        a->data = f->data;
        a->size = f->size;
        a->content_type = assets_content_type(f->path);
        const struct embedded_file *gz = find_gz_twin(f->path);
        if (gz != NULL && gz->size < f->size) {
            a->gz = gz->data;
            a->gz_size = gz->size;
        }
        set_etag(a);
    }
}

int assets_configure(const char *dir)
{
    free(web_dir);
    web_dir = NULL;
    if (dir == NULL || dir[0] == '\0')
        return 0;
    char *index = xasprintf("%s/index.html", dir);
    struct stat st;
    int ok = stat(index, &st) == 0 && S_ISREG(st.st_mode);
    free(index);
    if (!ok) {
        log_error("--web-dir %s: no index.html there", dir);
        return -1;
    }
    web_dir = xstrdup(dir);
    log_info("serving the dashboard from %s", web_dir);
    return 0;
}

void assets_cleanup(void)
{
    free(web_dir);
    web_dir = NULL;
}

/* A plain relative path: no empty, "." or ".." component, no backslash. */
static int path_is_plain(const char *path)
{
    if (path[0] == '\0' || path[0] == '/' || strchr(path, '\\') != NULL)
        return 0;
    for (const char *p = path; *p != '\0';) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return 0;
        p += n;
        if (*p == '/')
            p++;
        if (slash != NULL && *p == '\0')
            return 0; /* trailing slash: a directory */
    }
    return 1;
}

/* Reads web_dir/path whole. Returns the bytes (malloc'd) or NULL. */
static unsigned char *read_disk(const char *path, size_t *size)
{
    char *full = xasprintf("%s/%s", web_dir, path);
    unsigned char *buf = NULL;
    FILE *f = fopen(full, "rb");
    struct stat st;

    if (f == NULL)
        goto out;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
        (uint64_t)st.st_size > ASSETS_MAX_DISK_FILE)
        goto out;
    buf = xmalloc((size_t)st.st_size + 1);
    *size = fread(buf, 1, (size_t)st.st_size, f);
    if (ferror(f)) {
        log_warn("--web-dir: cannot read %s: %s", full, strerror(errno));
        free(buf);
        buf = NULL;
    }
out:
    if (f != NULL)
        fclose(f);
    free(full);
    return buf;
}

int assets_find(const char *path, struct asset *out, void **owned)
{
    *owned = NULL;
    if (!path_is_plain(path))
        return -1;
    if (web_dir != NULL) {
        size_t size = 0;
        unsigned char *buf = read_disk(path, &size);
        if (buf == NULL && strncmp(path, ASSETS_UPLOT_PREFIX, strlen(ASSETS_UPLOT_PREFIX)) == 0) {
            /* web/ itself holds uPlot under node_modules (cmake/web.cmake
             * renames it for the binary), so --web-dir web just works */
            char *alt = xasprintf("node_modules/uplot/dist/%s", path + strlen(ASSETS_UPLOT_PREFIX));
            buf = read_disk(alt, &size);
            free(alt);
        }
        if (buf == NULL)
            return -1;
        memset(out, 0, sizeof *out);
        out->path = path;
        out->data = buf;
        out->size = size;
        out->content_type = assets_content_type(path);
        set_etag(out);
        *owned = buf;
        return 0;
    }
    pthread_once(&table_once, build_table);
    for (size_t i = 0; i < table_len; i++) {
        if (strcmp(table[i].path, path) == 0) {
            *out = table[i];
            return 0;
        }
    }
    return -1;
}

/* The Content-Type for a file name, by extension (application/octet-stream
 * when unknown). */
static const char *assets_content_type(const char *path)
{
    static const struct {
        const char *ext;
        const char *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
        {".woff2", "font/woff2"},
    };
    const char *dot = strrchr(path, '.');
    if (dot != NULL && strchr(dot, '/') == NULL) {
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcasecmp(dot, types[i].ext) == 0)
                return types[i].type;
    }
    return "application/octet-stream";
}

/* Moves past spaces and tabs. */
static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

int assets_accepts_gzip(const char *header)
{
    if (header == NULL)
        return 0;
    for (const char *p = header; *p != '\0';) {
        p = skip_ws(p);
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        size_t name = strcspn(p, ";, \t");
        if (name > n)
            name = n;
        if ((name == 4 && strncasecmp(p, "gzip", 4) == 0) || (name == 1 && p[0] == '*')) {
            /* "q=0", "q=0.0", "q=0.000" refuse it; anything else accepts */
            const char *q = p + name;
            int refused = 0;
            while (q < p + n) {
                q = skip_ws(q);
                if (*q == ';') {
                    q = skip_ws(q + 1);
                    if ((q[0] == 'q' || q[0] == 'Q') && q[1] == '=') {
                        char *stop;
                        double v = strtod(q + 2, &stop);
                        refused = stop != q + 2 && v <= 0.0;
                    }
                }
                q++;
            }
            if (!refused)
                return 1;
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    return 0;
}

int assets_etag_matches(const char *header, const char *etag)
{
    if (header == NULL)
        return 0;
    size_t len = strlen(etag);
    for (const char *p = header; *p != '\0';) {
        p = skip_ws(p);
        if (*p == '*')
            return 1;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, etag, len) == 0 && (p[len] == '\0' || p[len] == ',' || p[len] == ' '))
            return 1;
        const char *comma = strchr(p, ',');
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return 0;
}
