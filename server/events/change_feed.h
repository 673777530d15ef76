/* Announcing changes to runs, and trace writes per experiment, for live
 * updates, off the write path.
 *
 * PostgreSQL's NOTIFY takes a database-wide lock at commit and holds it
 * through the commit's WAL flush, so a NOTIFY inside every write
 * transaction would serialize all commits. Writers instead record here,
 * after their commit, which run changed and how; one thread sends what was
 * recorded, coalesced, every CHANGE_FEED_INTERVAL_MS in one short
 * transaction of its own (store_notify.h). Every exptrackd on the database
 * receives the notifications through its hub (notify.h). A change recorded
 * just before a crash may go unannounced; it is committed all the same. */
#ifndef ET_SERVER_CHANGE_FEED_H
#define ET_SERVER_CHANGE_FEED_H

/* Longest time between a change and its notification being sent. */
#define CHANGE_FEED_INTERVAL_MS 50

#include <stdint.h>

/* Starts the sending thread. Call once, after db_configure. Returns 0, or
 * -1 when the thread could not start (logged; changes are then dropped). */
int change_feed_start(void);

/* Sends what is recorded, then stops the thread. Safe when never started. */
void change_feed_stop(void);

/* Records that the run (32-hex id) changed. kind is a static string:
 * "metrics", "params", "tags", "status", "created", "deleted", "restored".
 * Never blocks on the database; repeats before the next send coalesce. */
void change_feed_run(const char *run_id, const char *kind);

/* Records that traces of the experiment were written (started, created,
 * ended, spans sent). Never blocks on the database; repeats coalesce. */
void change_feed_traces(int64_t experiment_id);

/* Records that logged models of the experiment changed (created,
 * finalized, tags set or deleted, deleted). Never blocks on the database;
 * repeats coalesce. */
void change_feed_models(int64_t experiment_id);

#endif
