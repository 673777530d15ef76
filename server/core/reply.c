/* Replies and errors: the only place that picks an HTTP status. */
#include "reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

struct error_row {
    const char *name;
    int status;
};

static const struct error_row error_rows[ERR__COUNT] = {
#define ERROR_ROW(name, status) {#name, status},
#define ERROR_ALIAS(name, code, status) {#code, status},
#include "errors.def"
#undef ERROR_ALIAS
#undef ERROR_ROW
};

/* A reply that gets a plain body stops being a stream. */
static void drop_stream(struct reply *r)
{
    if (r->stream_free != NULL && r->stream_state != NULL)
        r->stream_free(r->stream_state);
    r->stream = NULL;
    r->stream_free = NULL;
    r->stream_state = NULL;
}

void reply_init(struct reply *r)
{
    memset(r, 0, sizeof *r);
    r->status = 200;
    r->content_type = "application/json";
}

void reply_cleanup(struct reply *r)
{
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
    drop_stream(r);
    for (int i = 0; i < r->nheaders; i++)
        free(r->headers[i].value);
    r->nheaders = 0;
}

void reply_stream(struct reply *r, const char *content_type, int64_t size, reply_stream_fn fn,
                  void (*free_fn)(void *), void *state)
{
    drop_stream(r);
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
    r->status = 200;
    r->content_type = content_type;
    r->is_error = 0;
    r->stream = fn;
    r->stream_free = free_fn;
    r->stream_state = state;
    r->stream_size = size;
}

void reply_partial(struct reply *r)
{
    r->status = 206;
}

void reply_defer(struct reply *r, reply_finish_fn finish, void *state)
{
    r->finish = finish;
    r->finish_state = state;
}

void reply_header(struct reply *r, const char *name, const char *value)
{
    if (r->nheaders >= REPLY_MAX_HEADERS)
        return;
    r->headers[r->nheaders].name = name;
    r->headers[r->nheaders].value = xstrdup(value);
    r->nheaders++;
}

static void set_body(struct reply *r, char *body, size_t len)
{
    drop_stream(r);
    free(r->body);
    r->body = body;
    r->body_len = len;
}

void reply_json(struct reply *r, json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (text == NULL) {
        reply_error(r, ERR_INTERNAL_ERROR, "could not encode the response");
        return;
    }
    reply_json_text(r, text, strlen(text));
}

void reply_json_text(struct reply *r, char *body, size_t len)
{
    r->status = 200;
    r->content_type = "application/json";
    r->is_error = 0;
    set_body(r, body, len);
}

void reply_error(struct reply *r, enum api_error code, const char *fmt, ...)
{
    char message[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);

    json_t *obj = json_pack("{s:s, s:s}", "error_code", error_rows[code].name, "message", message);
    char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    if (text == NULL) /* the message was not UTF-8 or memory ran out: say less */
        text = xasprintf("{\"error_code\":\"%s\",\"message\":\"invalid request\"}",
                         error_rows[code].name);
    r->status = error_rows[code].status;
    r->content_type = "application/json";
    r->is_error = 1;
    r->error = code;
    r->retry_after = code == ERR_TEMPORARILY_UNAVAILABLE ? 1 : 0;
    set_body(r, text, strlen(text));
}

void reply_prefix_message(struct reply *r, const char *prefix)
{
    if (!r->is_error || r->body == NULL)
        return;
    json_t *obj = json_loadb(r->body, r->body_len, 0, NULL);
    const char *message = json_string_value(json_object_get(obj, "message"));
    if (message != NULL)
        reply_error(r, r->error, "%s%s", prefix, message);
    json_decref(obj);
}

static void set_text(struct reply *r, int status, const char *content_type, const char *text)
{
    r->status = status;
    r->content_type = content_type;
    r->is_error = status >= 400;
    set_body(r, xstrdup(text), strlen(text));
}

void reply_text(struct reply *r, const char *content_type, const char *text)
{
    set_text(r, 200, content_type, text);
}

void reply_not_modified(struct reply *r, const char *content_type)
{
    set_text(r, 304, content_type, "");
}

void reply_see_other(struct reply *r, const char *location, const char *text)
{
    set_text(r, 303, "text/plain; charset=utf-8", text);
    reply_header(r, "Location", location);
}

void reply_not_found_text(struct reply *r, const char *text)
{
    set_text(r, 404, "text/plain; charset=utf-8", text);
}

void reply_unavailable(struct reply *r, int retry_after, const char *text)
{
    set_text(r, 503, "text/plain; charset=utf-8", text);
    r->retry_after = retry_after;
}

const char *reply_error_name(enum api_error code)
{
    return error_rows[code].name;
}

int reply_error_status(enum api_error code)
{
    return error_rows[code].status;
}
