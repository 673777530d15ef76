/* What a handler answers: a status, a content type and a body. The one place
 * that turns an error code into an HTTP status and the MLflow error body
 * {"error_code": ..., "message": ...}. Knows nothing of libmicrohttpd. */
#ifndef ET_SERVER_REPLY_H
#define ET_SERVER_REPLY_H

#include <jansson.h>
#include <stddef.h>

enum api_error {
#define ERROR_ROW(name, status) ERR_##name,
#include "errors.def"
#undef ERROR_ROW
    ERR__COUNT
};

struct reply {
    int status;               /* HTTP status */
    const char *content_type; /* static string */
    char *body;               /* malloc'd, owned by the reply */
    size_t body_len;
    int retry_after;      /* seconds for a Retry-After header; 0 = none */
    enum api_error error; /* valid when is_error */
    int is_error;
    int body_not_json;              /* set by jx_parse_body: the body was not JSON */
    char body_not_json_reason[256]; /* ...and the parser's words for why */
};

/* Initialises an empty reply (200, no body). */
void reply_init(struct reply *r);

/* Frees the body. The reply can be reused after reply_init. */
void reply_cleanup(struct reply *r);

/* Sets a 200 JSON reply from obj. Steals the reference to obj. NaN and
 * infinities must already be encoded as strings (see jsonx_double). */
void reply_json(struct reply *r, json_t *obj);

/* Sets a 200 JSON reply of an already-encoded body (takes ownership of body). */
void reply_json_text(struct reply *r, char *body, size_t len);

/* Sets an error reply: the status from errors.def and the MLflow error body
 * with a printf-formatted message. A later call replaces an earlier one. */
void reply_error(struct reply *r, enum api_error code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Puts prefix before the message of an error reply (no-op otherwise). */
void reply_prefix_message(struct reply *r, const char *prefix);

/* Sets a plain-text reply with the given status (for /health, /version). */
void reply_text(struct reply *r, int status, const char *content_type, const char *text);

/* The MLflow name of an error code ("INVALID_PARAMETER_VALUE"). */
const char *reply_error_name(enum api_error code);

/* The HTTP status of an error code. */
int reply_error_status(enum api_error code);

#endif
