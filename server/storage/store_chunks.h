/* The SQL of metric compaction: which runs are due, and moving one run's
 * narrow metric rows into chunks (schema/0027_metric_chunks.sql). */
#ifndef ET_STORAGE_STORE_CHUNKS_H
#define ET_STORAGE_STORE_CHUNKS_H

#include <stddef.h>
#include <stdint.h>

/* Walks, lowest id first, the next runs above id after that still have
 * narrow metric rows: at most cap of them, at a cost that grows with cap,
 * not with the runs the database holds. Fills due[0..*n_due) (due has room
 * for cap) with those that ended (FINISHED, FAILED or KILLED) at least
 * delay_s seconds ago, sets *walked to how many runs were walked (fewer
 * than cap: the walk reached the last such run) and *last to the highest id
 * walked (after when none: the next call's after). Returns DB_OK or a
 * negative db_status. */
int store_chunks_due(int64_t delay_s, int64_t after, size_t cap, int64_t *due, size_t *n_due,
                     size_t *walked, int64_t *last);

/* Compacts every series of run id in one transaction: its narrow rows are
 * deleted and written, merged with the series' existing chunks (points
 * equal to a chunk's are dropped and their metric_blocks counts fixed), as
 * chunks of up to 4,096 points. Points committed by others while it runs
 * stay narrow for the next pass. A run another compactor holds, or that a
 * purge removed, is skipped. *moved and *packed (either may be NULL) get
 * the narrow rows moved and the points now in the rebuilt chunks. Returns
 * DB_OK or a negative db_status (nothing changed). */
int store_chunks_compact_run(int64_t id, int64_t *moved, int64_t *packed);

#endif
