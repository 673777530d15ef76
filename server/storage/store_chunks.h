/* The SQL of metric compaction: which runs are due, and moving one run's
 * narrow metric rows into chunks (schema/0027_metric_chunks.sql). */
#ifndef ET_STORAGE_STORE_CHUNKS_H
#define ET_STORAGE_STORE_CHUNKS_H

#include <stddef.h>
#include <stdint.h>

/* Fills ids[0..*n) (at most cap) with the internal ids of runs that have
 * ended (FINISHED, FAILED or KILLED) at least delay_s seconds ago and
 * still have narrow metric rows and ids above after, lowest id first. Returns DB_OK or a
 * negative db_status. */
int store_chunks_due(int64_t delay_s, int64_t after, int64_t *ids, size_t cap, size_t *n);

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
