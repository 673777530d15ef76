/* The dashboard's HTTP face: GET / (index.html) and GET /static/<path>.
 * Picks the representation (gzip when the client accepts it), answers 304 to
 * a matching If-None-Match, and sets the cache and security headers. The
 * files themselves come from assets.c. */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "assets.h"
#include "common/xalloc.h"

#define STATIC_PREFIX "/static/"

/* Every asset is revalidated (names carry no hash); a 304 costs one RTT. */
#define WEB_CACHE_CONTROL "no-cache"
#define WEB_CSP                                                                                    \
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "                    \
    "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "         \
    "frame-ancestors 'none'"

struct body_source {
    const unsigned char *data;
    size_t size;
    void *owned; /* freed with the source (files read from --web-dir) */
};

static ssize_t read_body(void *state, uint64_t pos, char *buf, size_t max)
{
    struct body_source *src = state;
    if (pos >= src->size)
        return 0;
    size_t n = src->size - (size_t)pos;
    if (n > max)
        n = max;
    memcpy(buf, src->data + pos, n);
    return (ssize_t)n;
}

static void free_body(void *state)
{
    struct body_source *src = state;
    free(src->owned);
    free(src);
}

static void add_common_headers(struct reply *r, int is_html)
{
    reply_header(r, "X-Content-Type-Options", "nosniff");
    reply_header(r, "Cache-Control", WEB_CACHE_CONTROL);
    if (is_html) {
        reply_header(r, "Content-Security-Policy", WEB_CSP);
        reply_header(r, "Referrer-Policy", "no-referrer");
        reply_header(r, "X-Frame-Options", "DENY"); /* frame-ancestors for old browsers */
    }
}

/* Answers with the asset at path (relative to web/), or 404. */
static void serve(const struct request *req, struct reply *r, const char *path)
{
    struct asset a;
    void *owned = NULL;

    if (assets_find(path, &a, &owned) < 0) {
        reply_not_found_text(r, "not found");
        reply_header(r, "X-Content-Type-Options", "nosniff");
        return;
    }
    int is_html = strncmp(a.content_type, "text/html", 9) == 0;
    int gzip = a.gz != NULL && assets_accepts_gzip(request_header(req, "Accept-Encoding"));
    /* Each representation has its own strong tag; either one validates. */
    char gz_etag[ASSETS_ETAG_LEN + 4];
    size_t len = strlen(a.etag);
    memcpy(gz_etag, a.etag, len - 1);
    memcpy(gz_etag + len - 1, "-gz\"", 5);
    const char *etag = gzip ? gz_etag : a.etag;

    const char *inm = request_header(req, "If-None-Match");
    if (assets_etag_matches(inm, a.etag) || assets_etag_matches(inm, gz_etag)) {
        free(owned);
        reply_not_modified(r, a.content_type);
        reply_header(r, "ETag", etag);
        if (a.gz != NULL)
            reply_header(r, "Vary", "Accept-Encoding");
        add_common_headers(r, is_html);
        return;
    }
    struct body_source *src = xmalloc(sizeof *src);
    src->data = gzip ? a.gz : a.data;
    src->size = gzip ? a.gz_size : a.size;
    src->owned = owned;
    reply_stream(r, a.content_type, (int64_t)src->size, read_body, free_body, src);
    reply_header(r, "ETag", etag);
    if (a.gz != NULL)
        reply_header(r, "Vary", "Accept-Encoding");
    if (gzip)
        reply_header(r, "Content-Encoding", "gzip");
    add_common_headers(r, is_html);
}

void api_web_index(const struct request *req, struct reply *r)
{
    serve(req, r, "index.html");
}

void api_web_static(const struct request *req, struct reply *r)
{
    size_t n = strlen(STATIC_PREFIX);
    if (strncmp(req->path, STATIC_PREFIX, n) != 0) {
        reply_not_found_text(r, "not found");
        return;
    }
    serve(req, r, req->path + n);
}
