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

/* The channel of experiment-wide changes (sent by the change feed; the hub
 * listens on it too): trace writes with the experiment id as the payload,
 * logged-model changes with "models:<experiment id>". */
#define STORE_TRACES_CHANNEL "exptrack_traces"

/* Sends one notification on STORE_NOTIFY_CHANNEL per (run_ids[i],
 * kinds[i]) pair whose run exists, in one transaction, with the payload
 * {"run_id":"<32 hex>","experiment_id":"<id>","kind":"<kind>"}. run_ids
 * are 32-hex ids. Returns a db_status. */
int store_notify_runs(const char *const *run_ids, const char *const *kinds, size_t n);

/* Sends one notification on STORE_TRACES_CHANNEL per experiment id of
 * experiment_ids[0..n), in one transaction, with the id as the payload
 * (models 0: trace writes) or "models:<id>" (models 1: logged-model
 * changes). Returns a db_status. */
int store_notify_experiments(const int64_t *experiment_ids, size_t n, int models);

#endif
