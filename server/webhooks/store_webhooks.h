/* Webhooks in PostgreSQL: the subscriptions (webhooks, webhook_events),
 * the transactional outbox the registry writes into, and the delivery
 * worker's claims on it. Plain records in and out; returns db_status values
 * (db/db.h). Never JSON objects, never HTTP. */
#ifndef ET_SERVER_WEBHOOKS_STORE_WEBHOOKS_H
#define ET_SERVER_WEBHOOKS_STORE_WEBHOOKS_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/store_status.h"

/* One subscribed event, lowercase as in payloads ("model_version", "created"). */
struct webhook_event_pair {
    const char *entity;
    const char *action;
};

struct webhook {
    const char *id; /* UUID text with dashes */
    const char *name;
    const char *description; /* "" when unset */
    const char *url;
    const char *secret; /* "" when none; never leaves the server */
    int secret_sealed;  /* secret is secret_box_seal()'s output */
    const char *status; /* "ACTIVE" or "DISABLED" */
    int64_t creation_time;
    int64_t last_updated_time;
    struct webhook_event_pair *events;
    size_t nevents;
};

/* Inserts w (id, times and every field set by the caller) with its events. */
int store_webhook_create(const struct webhook *w) __attribute__((warn_unused_result));

/* Reads a live (not deleted) webhook with its events. DB_NOT_FOUND. */
int store_webhook_get(const char *id, struct arena *arena, struct webhook *out)
    __attribute__((warn_unused_result));

/* Live webhooks, newest first, rows offset..offset+limit-1, with events. */
int store_webhook_list(int64_t limit, int64_t offset, struct arena *arena, struct webhook **out,
                       size_t *n) __attribute__((warn_unused_result));

/* Changes the fields of patch that are non-NULL (events when nevents > 0,
 * replacing all of them) and sets last_updated_time = now, in one
 * transaction. DB_NOT_FOUND for a missing or deleted webhook. */
int store_webhook_update(const char *id, const struct webhook *patch)
    __attribute__((warn_unused_result));

/* Marks a live webhook deleted (soft delete) and gives up its pending
 * deliveries (failed, "webhook deleted"). DB_NOT_FOUND. */
int store_webhook_delete(const char *id) __attribute__((warn_unused_result));

/* The registry changes that may fire an event; whether the model or the
 * prompt variant fires is decided from the model's mlflow.prompt.is_prompt
 * tag at enqueue time. */
enum webhook_change {
    WEBHOOK_CHANGE_NONE = 0,
    WEBHOOK_MODEL_CREATED,
    WEBHOOK_VERSION_CREATED,
    WEBHOOK_VERSION_TAG_SET,
    WEBHOOK_VERSION_TAG_DELETED,
    WEBHOOK_MODEL_TAG_SET, /* prompts only: models have no tag events */
    WEBHOOK_MODEL_TAG_DELETED,
    WEBHOOK_ALIAS_CREATED,
    WEBHOOK_ALIAS_DELETED,
};

/* Inside the caller's open transaction (after the change itself): inserts
 * one outbox row per ACTIVE webhook subscribed to the event that change
 * fires on model name (version: 0 for none; key: the tag key or alias;
 * value: the tag value), the payload built from bound parameters and the
 * rows as they are now. *queued gets the number of rows written. */
int store_webhook_enqueue(enum webhook_change change, const char *name, int64_t version,
                          const char *key, const char *value, int *queued)
    __attribute__((warn_unused_result));

/* A delivery taken from the outbox. */
struct webhook_delivery {
    int64_t id;
    const char *webhook_id;
    int attempts; /* including this one */
    const char *url;
    const char *secret; /* "" when none */
    int secret_sealed;  /* secret is secret_box_seal()'s output */
    const char *body;   /* the exact JSON text to send and sign */
};

/* Takes the oldest due pending row (FOR UPDATE SKIP LOCKED, so concurrent
 * workers and servers never share one), counts the attempt and leases the
 * row for lease_s seconds (a crash mid-delivery makes it due again then).
 * DB_NOT_FOUND when nothing is due. */
int store_webhook_claim(int lease_s, struct arena *arena, struct webhook_delivery *out)
    __attribute__((warn_unused_result));

/* How a delivery attempt ended. */
enum webhook_outcome { WEBHOOK_DELIVERED, WEBHOOK_RETRY, WEBHOOK_FAILED };

/* Records an attempt's outcome: delivered or failed for good (finished now),
 * or due again retry_ms from now. http_status 0: none; error may be NULL. */
int store_webhook_finish(int64_t id, enum webhook_outcome outcome, int http_status,
                         const char *error, int64_t retry_ms) __attribute__((warn_unused_result));

/* Removes delivered outbox rows finished more than days days ago. */
int store_webhook_prune(int days) __attribute__((warn_unused_result));

#endif
