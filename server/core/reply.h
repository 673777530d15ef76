/* What a handler answers: a status, a content type and a body. The one place
 * that picks an HTTP status: a named helper per kind of reply, and for
 * errors the status of errors.def with the MLflow error body
 * {"error_code": ..., "message": ...}. Knows nothing of libmicrohttpd. */
#ifndef ET_SERVER_REPLY_H
#define ET_SERVER_REPLY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum api_error {
#define ERROR_ROW(name, status) ERR_##name,
#define ERROR_ALIAS(name, code, status) ERR_##name,
#include "errors.def"
#undef ERROR_ALIAS
#undef ERROR_ROW
    ERR__COUNT
};

#define REPLY_MAX_HEADERS 8

/* Fills buf with up to max bytes of a streamed body from offset pos.
 * Returns the bytes written (> 0), 0 at the end, -1 on error (the
 * connection is then closed), or REPLY_STREAM_PAUSE: nothing to send right
 * now. A paused stream holds no thread; it is called again at the same pos
 * after wake_up() on the request's wake handle (wake.h). */
typedef ssize_t (*reply_stream_fn)(void *state, uint64_t pos, char *buf, size_t max);
#define REPLY_STREAM_PAUSE (-2)

struct reply;

/* Completes a deferred reply (see reply_defer): fills r from state, then
 * frees state. Runs on an HTTP worker thread after wake_up(). */
typedef void (*reply_finish_fn)(void *state, struct reply *r);

struct reply_header {
    const char *name; /* static string */
    char *value;      /* owned */
};

struct reply {
    int status;               /* HTTP status */
    const char *content_type; /* static string */
    char *body;               /* malloc'd, owned by the reply */
    size_t body_len;
    int retry_after;      /* seconds for a Retry-After header; 0 = none */
    enum api_error error; /* valid when is_error */
    int is_error;
    reply_stream_fn stream; /* when set, the body is streamed instead */
    void (*stream_free)(void *state);
    void *stream_state;
    int64_t stream_size;    /* -1: unknown (chunked) */
    reply_finish_fn finish; /* when set, the reply is deferred (reply_defer) */
    void *finish_state;
    struct reply_header headers[REPLY_MAX_HEADERS];
    int nheaders;
    int body_not_json;              /* set by jx_parse_body: the body was not JSON */
    char body_not_json_reason[256]; /* ...and the parser's words for why */
};

/* Initialises an empty reply (200, no body). */
void reply_init(struct reply *r);

/* Frees the body. The reply can be reused after reply_init. */
void reply_cleanup(struct reply *r);

/* Sets a 200 JSON reply from obj. Steals the reference to obj. NaN and
 * infinities must already be encoded as strings (see jx_double_value). */
void reply_json(struct reply *r, json_t *obj);

/* Sets a 200 JSON reply of an already-encoded body (takes ownership of body). */
void reply_json_text(struct reply *r, char *body, size_t len);

/* Sets an error reply: the status from errors.def and the MLflow error body
 * with a printf-formatted message. A later call replaces an earlier one. */
void reply_error(struct reply *r, enum api_error code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets a 200 streamed body of size bytes (-1: unknown) with the given
 * type; fn reads it, free_fn (may be NULL) frees state when the response
 * is done, also when it never started. */
void reply_stream(struct reply *r, const char *content_type, int64_t size, reply_stream_fn fn,
                  void (*free_fn)(void *), void *state);

/* Makes a reply 206 Partial Content: its body is the range the client
 * asked for (the caller adds Content-Range). */
void reply_partial(struct reply *r);

/* Defers the reply: the request's connection is paused, holding no
 * thread, until wake_up() on its wake handle (wake.h); then finish(state,
 * r) fills the reply. The handler must have handed the wake handle to the
 * thread that will call wake_up, and that thread must call it exactly
 * once. */
void reply_defer(struct reply *r, reply_finish_fn finish, void *state);

/* Adds a response header (the value is copied). Silently ignores headers
 * past REPLY_MAX_HEADERS: callers add a few known ones. */
void reply_header(struct reply *r, const char *name, const char *value);

/* Puts prefix before the message of an error reply (no-op otherwise). */
void reply_prefix_message(struct reply *r, const char *prefix);

/* Sets a 200 reply of text with the given type (for /health, /version). */
void reply_text(struct reply *r, const char *content_type, const char *text);

/* Sets a 304 Not Modified reply: no body, the client's copy is current. */
void reply_not_modified(struct reply *r, const char *content_type);

/* Sets a 303 See Other reply to location with a short plain-text body. */
void reply_see_other(struct reply *r, const char *location, const char *text);

/* Sets a 404 plain-text reply, for paths outside the API (the dashboard's
 * files), where the MLflow error body would mean nothing. */
void reply_not_found_text(struct reply *r, const char *text);

/* Sets a 503 plain-text reply with Retry-After: retry_after seconds (0:
 * none), for the probes (/health, /ready) that load balancers read. */
void reply_unavailable(struct reply *r, int retry_after, const char *text);

/* The MLflow name of an error code ("INVALID_PARAMETER_VALUE"). */
const char *reply_error_name(enum api_error code);

/* The HTTP status of an error code. */
int reply_error_status(enum api_error code);

#endif
