/* The HTTP side of `exptrack import` and `exptrack export`: one libcurl
 * handle per thread against one server (an MLflow server or exptrackd),
 * JSON calls with retries, and artifact transfers streamed through curl's
 * own small buffers (never a whole file in memory). */
#ifndef ET_CLI_IMPORT_HTTP_H
#define ET_CLI_IMPORT_HTTP_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

struct ih {
    CURL *h;
    char *base; /* server URL without a trailing '/' */
    char *user, *pass, *token;
    char err[512]; /* the last failure, for messages */
};

/* Opens a connection object for base. Credentials: basic auth when user is
 * set, else a bearer token when token is set (NULLs allowed). 0 or -1. */
int ih_open(struct ih *c, const char *base, const char *user, const char *pass, const char *token);

/* Frees what ih_open made; safe on a zeroed struct. */
void ih_close(struct ih *c);

/* One JSON call: method "GET" or "POST", path under the base ("/api/2.0/...",
 * query included), body (borrowed, may be NULL), an optional Idempotency-Key.
 * Retries network errors, 429 and 5xx with backoff for about a minute.
 * Returns the HTTP status (or -1 when the server was never reached);
 * *out (may be NULL) gets the parsed reply (or NULL), owned by the caller. On
 * a non-200 c->err holds the error_code and message. */
long ih_json(struct ih *c, const char *method, const char *path, json_t *body, const char *idem_key,
             json_t **out);

/* ih_json with the body as JSON text (borrowed, may be NULL), for bodies
 * built without jansson. When raw is not NULL and the status is 200, *raw
 * gets the reply text unparsed (caller frees; *out stays NULL); on any other
 * status the reply is parsed into *out as ih_json does. */
long ih_text(struct ih *c, const char *method, const char *path, const char *text,
             const char *idem_key, json_t **out, char **raw);

/* Streams GET path into f. Returns the HTTP status or -1. */
long ih_download(struct ih *c, const char *path, FILE *f);

/* GET path with If-None-Match: "<sha256>"; 304 means the server has those
 * bytes. Returns the status or -1; the body (if any) is discarded. */
long ih_if_none_match(struct ih *c, const char *path, const char *sha256_hex);

/* Streams f (size bytes, from its current position) as a PUT body to path.
 * Returns the HTTP status or -1. */
long ih_upload(struct ih *c, const char *path, FILE *f, int64_t size);

/* Appends s percent-encoded (all but unreserved characters and, when
 * keep_slash, '/') to buf of size n; returns 0, or -1 when it did not fit. */
int ih_escape(char *buf, size_t n, const char *s, int keep_slash);

/* The error_code of a reply object ("" when none). */
const char *ih_error_code(const json_t *reply);

#endif
