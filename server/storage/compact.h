/* Compaction of finished runs' metric points into chunks
 * (schema/0027_metric_chunks.sql): a background thread of exptrackd and
 * the one-shot `exptrackd compact` subcommand. */
#ifndef ET_STORAGE_COMPACT_H
#define ET_STORAGE_COMPACT_H

#include <stdint.h>

/* What a pass did: runs compacted, narrow rows moved, runs walked (every
 * run that still had narrow rows, due or not) and the pass's wall time. */
struct compact_result {
    int64_t runs;
    int64_t points;
    int64_t walked;
    double ms;
};

/* Compacts every run that ended at least delay_s seconds ago and still has
 * narrow metric rows, on the calling thread's connection, a run per
 * transaction, and fills *result. Returns 0, or -1 after a database failure
 * (the runs compacted before it stay compacted; *result counts them). */
int compact_pass(int64_t delay_s, struct compact_result *result)
    __attribute__((warn_unused_result));

/* Starts the compaction thread: a pass every minute (and once at start)
 * over runs that ended at least delay_s seconds ago. delay_s < 0 starts
 * nothing. Returns 0, or -1 when the thread cannot be created. */
int compact_start(long delay_s) __attribute__((warn_unused_result));

/* Stops the thread after the run it is compacting (its transaction commits
 * or rolls back whole). Safe when never started. */
void compact_stop(void);

/* Runs the compact subcommand: argv[0] is "compact", the other arguments
 * the server's own flags (--database-url, --data-dir, --compact-delay:
 * which runs are due, -1 counts as 0). Prints what was compacted; returns
 * the process exit status. */
int compact_main(int argc, char **argv);

#endif
