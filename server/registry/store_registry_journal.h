/* The registry's journal: what every registry change writes in its own
 * transaction besides the change itself, namely its webhook outbox rows
 * (webhooks/store_webhooks.h) and its audit trail row (audit_log, with the
 * value before and after). Also the transaction helpers the registry store
 * uses around them and the per-model audit read. No JSON, no HTTP. */
#ifndef ET_SERVER_REGISTRY_STORE_REGISTRY_JOURNAL_H
#define ET_SERVER_REGISTRY_STORE_REGISTRY_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "webhooks/store_webhooks.h"

/* One registry change as the journal records it. */
struct rj_change {
    const char *actor;         /* the signed-in user; NULL or "" when anonymous */
    const char *action;        /* what was done: "version.stage", "alias.set", ... */
    const char *model;         /* the model's name (after a rename: the new one) */
    int64_t version;           /* 0: the change is on the model itself */
    const char *field;         /* what changed: "stage", "aliases.champion", ...; NULL: none */
    const char *old_value;     /* NULL: there was none */
    const char *new_value;     /* NULL: it is gone */
    enum webhook_change event; /* the webhook event it fires, or WEBHOOK_CHANGE_NONE */
    const char *key;           /* for the event: tag key or alias */
    const char *value;         /* for the event: tag value */
};

/* Opens the transaction of a registry change. */
int rj_begin(void) __attribute__((warn_unused_result));

/* Inside it, after the change: writes the outbox rows of c's event, then
 * c's audit row (so a failing audit write also takes the events back). */
int rj_record(const struct rj_change *c) __attribute__((warn_unused_result));

/* Inside it: moves the audit rows of a renamed model to its new name. */
int rj_rename(const char *name, const char *new_name) __attribute__((warn_unused_result));

/* Ends the transaction: commits when rc is DB_OK (returning the commit's
 * status), with a notification on STORE_REGISTRY_CHANNEL in the same
 * transaction, else rolls back and returns rc; then invalidates this
 * process's registry read cache (read_cache.h) whatever happened; after a
 * commit that wrote outbox rows, wakes the delivery threads. */
int rj_end(int rc);

/* Runs sql (which locks what it reads) and takes its first column of its
 * first row: *old gets a copy (free()) or NULL for SQL NULL. DB_NOT_FOUND
 * when there is no row. */
int rj_old(const char *sql, int nparams, const char *const *params, char **old)
    __attribute__((warn_unused_result));

/* One row of a model's audit trail. */
struct rj_entry {
    int64_t id;
    int64_t time;         /* ms since the epoch */
    const char *username; /* "" when anonymous */
    const char *action;
    const char *model;
    int64_t version;       /* 0: none */
    const char *field;     /* NULL: none */
    const char *old_value; /* NULL: none */
    const char *new_value; /* NULL: none */
};

/* The audit rows of model (and of its version, when version > 0), newest
 * first, rows offset..offset+limit-1. */
int rj_list(const char *model, int64_t version, int64_t limit, int64_t offset, struct arena *arena,
            struct rj_entry **out, size_t *n) __attribute__((warn_unused_result));

#endif
