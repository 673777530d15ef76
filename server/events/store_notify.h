/* Sends live-update notifications (change_feed.h) through PostgreSQL. */
#ifndef ET_SERVER_STORE_NOTIFY_H
#define ET_SERVER_STORE_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

/* The channel the notification hub listens on. */
#define STORE_NOTIFY_CHANNEL "exptrack_runs"

/* The channel every registry change notifies in its transaction (the
 * registry journal sends it; the hub listens on it too). Empty payload. */
#define STORE_REGISTRY_CHANNEL "exptrack_registry"

/* The channel every trace write notifies in its transaction, with the
 * trace's experiment id as the payload (the hub listens on it too). */
#define STORE_TRACES_CHANNEL "exptrack_traces"

/* Sends one notification on STORE_NOTIFY_CHANNEL per (run_ids[i],
 * kinds[i]) pair whose run exists, in one transaction, with the payload
 * {"run_id":"<32 hex>","experiment_id":"<id>","kind":"<kind>"}. run_ids
 * are 32-hex ids. Returns a db_status. */
int store_notify_runs(const char *const *run_ids, const char *const *kinds, size_t n);

/* Notifies STORE_TRACES_CHANNEL that traces of experiment_id changed. Call
 * inside the write's transaction: PostgreSQL delivers it on commit only, and
 * once per transaction however often it is called. Returns a db_status. */
int store_notify_traces(int64_t experiment_id);

#endif
