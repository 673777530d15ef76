/* THE route table: every (method, path) the server answers and its handler.
 * Handlers get the request's decoded input and fill a reply. */
#ifndef ET_SERVER_ROUTES_H
#define ET_SERVER_ROUTES_H

#include <jansson.h>

#include "reply.h"

struct request {
    const char *method;
    const char *path;
    const json_t *input; /* the JSON body, or the query string as {name: [values]} */
    int from_query;      /* input came from the query string */
};

typedef void (*route_handler)(const struct request *req, struct reply *r);

enum route_body {
    BODY_NONE,  /* no body expected (GET) */
    BODY_JSON,  /* JSON object body; Content-Type application/json required on POST */
    BODY_LOOSE, /* JSON body read without a Content-Type check (PATCH, DELETE) */
};

/* Where a route's path is mounted. */
enum route_mount {
    MOUNT_ROOT,   /* path is the whole URL path ("/health") */
    MOUNT_MLFLOW, /* path follows both "/api/2.0/mlflow" and "/ajax-api/2.0/mlflow" */
};

struct route {
    const char *method;
    enum route_mount mount;
    const char *path; /* e.g. "/runs/get" under MOUNT_MLFLOW */
    route_handler handler;
    enum route_body body;
};

/* Outcome of matching a request line against the table. */
enum route_match { ROUTE_FOUND, ROUTE_NO_PATH, ROUTE_BAD_METHOD };

/* Finds the route for method and path. On ROUTE_FOUND sets *out. */
enum route_match routes_match(const char *method, const char *path, const struct route **out);

/* The whole table (for docs and tests); *count gets its length. */
const struct route *routes_table(size_t *count);

#endif
