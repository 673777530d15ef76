/* A request as handlers, auth and the route table see it: method, path,
 * decoded input, the signed-in user, and the few operations they need from
 * the HTTP layer (headers, a wake handle) behind a table of function
 * pointers that the HTTP glue fills. No libmicrohttpd here. */
#ifndef ET_SERVER_REQUEST_H
#define ET_SERVER_REQUEST_H

#include <jansson.h>
#include <stdint.h>

struct request;
struct wake;

/* What the HTTP layer does for a request; http.c fills one static table. */
struct request_ops {
    /* A request header's value (case-insensitive name), or NULL. */
    const char *(*header)(const struct request *req, const char *name);
    /* A new reference to the request's wake handle (see wake.h). */
    struct wake *(*wake)(const struct request *req);
};

struct request {
    const char *method;
    const char *path;
    const json_t *input;           /* the JSON body, or the query string as {name: [values]} */
    int from_query;                /* input came from the query string */
    const struct request_ops *ops; /* the HTTP layer's; NULL: a request made without one */
    void *conn;                    /* the HTTP layer's connection, for ops only */
    void *http_ctx;                /* the HTTP layer's state of this request, for ops only */
    struct request_user {
        int64_t id;   /* users.id; 0: anonymous (authentication off, or a public route) */
        int is_admin; /* admins bypass permission checks */
        char name[256];
    } user; /* set by auth_request() (auth.h) before the handler runs */
};

/* A request header's value (case-insensitive name), or NULL when absent or
 * when req has no HTTP layer (ops NULL). The string belongs to the HTTP
 * layer and stays valid until the request ends. */
const char *request_header(const struct request *req, const char *name);

#endif
