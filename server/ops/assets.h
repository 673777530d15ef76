/* The dashboard's static files: the copies compiled into the binary (with
 * their build-time gzip twins), or, with --web-dir, the files on disk.
 * Knows types, ETags and encodings; knows nothing of HTTP or routes. */
#ifndef ET_SERVER_ASSETS_H
#define ET_SERVER_ASSETS_H

#include <stddef.h>

#define ASSETS_ETAG_LEN 24 /* quotes + 16 hex + "-gz" + NUL, with room */

struct asset {
    const char *path;          /* relative, '/'-separated ("js/app.js") */
    const unsigned char *data; /* the identity bytes */
    size_t size;
    const unsigned char *gz; /* the gzip bytes, or NULL when none is smaller */
    size_t gz_size;
    const char *content_type;   /* static string */
    char etag[ASSETS_ETAG_LEN]; /* quoted strong tag of data, e.g. "\"9a3f...\"" */
};

/* Chooses where assets come from: web_dir (a directory holding index.html,
 * served fresh from disk on every request, for development) or, when NULL,
 * the embedded copies. Call once at start, before serving. The string is
 * copied. Returns 0, or -1 (logged) when web_dir has no index.html. */
int assets_configure(const char *web_dir) __attribute__((warn_unused_result));

/* Frees what assets_configure kept. */
void assets_cleanup(void);

/* Looks up the asset at path ("index.html", "js/app.js"). Returns 0 and fills
 * *out, or -1 when there is none or the path is not a plain relative path
 * (empty, absolute, "..", "." or empty components, backslashes). With
 * --web-dir the bytes are read from disk into *owned (malloc'd; the caller
 * frees it after use, also on failure it is NULL); embedded assets leave
 * *owned NULL and point into the binary. Thread-safe. */
int assets_find(const char *path, struct asset *out, void **owned)
    __attribute__((warn_unused_result));

/* Whether an Accept-Encoding header value (may be NULL) allows gzip: a
 * "gzip" token whose q is not 0. */
int assets_accepts_gzip(const char *accept_encoding);

/* Whether an If-None-Match header value (may be NULL) names etag (or "*"),
 * comparing weakly (a W/ prefix is ignored). */
int assets_etag_matches(const char *if_none_match, const char *etag);

#endif
