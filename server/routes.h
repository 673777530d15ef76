/* THE route table: every (method, path) the server answers and its handler.
 * Handlers get the request's decoded input (core/request.h) and fill a reply. */
#ifndef ET_SERVER_ROUTES_H
#define ET_SERVER_ROUTES_H

#include <stddef.h>

#include "core/reply.h"
#include "core/request.h"

/* Callbacks of a route whose body is streamed to the handler (BODY_STREAM),
 * never held whole in memory. req->input holds the query string. */
struct upload_ops {
    /* Called before any body byte. Returns the upload's state, or NULL with
     * an error set in r to refuse (the body is then read and dropped). */
    void *(*begin)(const struct request *req, struct reply *r);
    /* Called with each piece of the body, in order. Returns 0, or -1 with an
     * error set in r (the rest of the body is read and dropped). */
    int (*data)(void *state, const char *buf, size_t len, struct reply *r);
    /* Called exactly once per accepted upload and frees state. complete=1:
     * the whole body arrived and no data() call failed; set the reply.
     * complete=0: the client went away or data() failed; undo everything. */
    void (*end)(void *state, int complete, struct reply *r);
};

typedef void (*route_handler)(const struct request *req, struct reply *r);

enum route_body {
    BODY_NONE,   /* no body expected (GET) */
    BODY_JSON,   /* JSON object body; Content-Type application/json required on POST */
    BODY_LOOSE,  /* JSON body read without a Content-Type check (PATCH, DELETE) */
    BODY_STREAM, /* raw body streamed through route->upload; query string as input */
};

/* Where a route's path is mounted. */
enum route_mount {
    MOUNT_ROOT,        /* path is the whole URL path ("/health") */
    MOUNT_API,         /* path follows both "/api/2.0" and "/ajax-api/2.0" ("/mlflow/runs/get") */
    MOUNT_ROOT_PREFIX, /* path is a prefix of the URL path ("/static/") */
    MOUNT_API_PREFIX,  /* like MOUNT_API, but a prefix ("/mlflow-artifacts/artifacts/") */
};

/* Who may call a route (checked by auth_request() when --auth is on). */
enum route_perm {
    PERM_UNSET = 0, /* no rule: refused when authentication is on, and tests fail */
    PERM_PUBLIC,    /* anyone, signed in or not: /health, the dashboard's files */
    PERM_USER,      /* any signed-in user (search results are filtered by the handler) */
    PERM_READ,      /* READ on the target experiment or registered model */
    PERM_EDIT,      /* EDIT on the target experiment or registered model */
    PERM_MANAGE,    /* MANAGE on the target experiment or registered model */
    PERM_SELF,      /* the user named by the "username" field, or an admin */
    PERM_ADMIN,     /* admins only */
};

/* Where the experiment or registered model a PERM_READ/EDIT/MANAGE route
 * acts on is named. */
enum route_target {
    TARGET_NONE = 0,        /* no experiment */
    TARGET_EXPERIMENT_ID,   /* "experiment_id" */
    TARGET_EXPERIMENT_IDS,  /* every id of "experiment_id" and "experiment_ids" */
    TARGET_EXPERIMENT_NAME, /* "experiment_name" */
    TARGET_RUN_ID,          /* the experiment of "run_id" (or "run_uuid") */
    TARGET_RUN_IDS,         /* the experiments of every "run_id" and "run_ids" */
    TARGET_ARTIFACT_PATH,   /* "<experiment_id>/<run_id>/..." after the route's path */
    TARGET_ARTIFACT_QUERY,  /* the same, from the "path" field */
    TARGET_NEW_EXPERIMENT,  /* creates one: its creator gets MANAGE */
    TARGET_MODEL_NAME,      /* the registered model "name" (query for GET, else the body) */
    TARGET_NEW_MODEL,       /* creates a registered model: its creator gets MANAGE */
    TARGET_LOGGED_MODEL,   /* the experiment of the logged model "<model_id>" after the route's path
                            */
    TARGET_TRACE,          /* the experiments of the traces named by "<trace_id>" after
                            * "/mlflow/traces/" (prefix routes) and by the fields trace_id,
                            * request_id, trace_ids, request_ids */
    TARGET_TRACE_LOCATION, /* "experiment_id" of trace.trace_info.trace_location or of
                            * every locations[] entry (V3 create and search) */
    TARGET_OTLP_HEADER,    /* the x-mlflow-experiment-id header (POST /v1/traces) */
};

/* Where a route's statements run when replicas are configured
 * (--read-database-url). Rows that leave the field out read the primary. */
enum route_reads {
    READS_PRIMARY = 0, /* writes, and anything that must see a write at once */
    READS_REPLICA,     /* a pure read: a replica that has replayed the client's last write */
};

/* What the audit log (auth_after_finish, with --auth) records of a route's calls
 * that are not GET or HEAD. Rows that leave the field out get JOURNAL_CALLS. */
enum route_journal {
    JOURNAL_CALLS = 0, /* every call: who, what, the fields, the status */
    JOURNAL_NEVER,     /* none: high-volume logging, and reads sent as POST */
    JOURNAL_FAILURES,  /* refusals and failures only: a success wrote its own,
                        * finer row in its transaction (the registry's journal) */
};

struct route {
    const char *method;
    enum route_mount mount;
    const char *path;      /* e.g. "/mlflow/runs/get" under MOUNT_API */
    route_handler handler; /* NULL for BODY_STREAM routes */
    enum route_body body;
    const struct upload_ops *upload; /* BODY_STREAM only */
    enum route_perm perm;            /* who may call it */
    enum route_target target;        /* which experiment or model perm applies to */
    enum route_reads reads;          /* left out (READS_PRIMARY) by most rows */
    enum route_journal journal;      /* left out (JOURNAL_CALLS) by most rows */
};

/* Outcome of matching a request line against the table. */
enum route_match { ROUTE_FOUND, ROUTE_NO_PATH, ROUTE_BAD_METHOD };

/* Finds the route for method and path. On ROUTE_FOUND sets *out. */
enum route_match routes_match(const char *method, const char *path, const struct route **out);

/* The whole table (for docs and tests); *count gets its length. */
const struct route *routes_table(size_t *count);

#endif
