/* Read replicas (hot standbys named by --read-database-url): their
 * conninfo, and a health thread that polls each one's replay position and
 * lag behind the primary and takes it out of (and back into) rotation.
 * db.c asks here which replica may serve a read; /metrics reads the stats. */
#ifndef ET_SERVER_DB_REPLICAS_H
#define ET_SERVER_DB_REPLICAS_H

#include <stdint.h>

/* Most replicas one exptrackd reads from. */
#define DB_MAX_REPLICAS 8

/* How the replicas are used. */
struct db_replica_options {
    const char *const *urls;  /* libpq URLs or conninfo strings of hot standbys */
    int n;                    /* how many (0: none, every read on the primary) */
    long long max_lag_bytes;  /* a replica further behind the primary is taken out */
    int read_wait_ms;         /* how long a read carrying a WAL position waits for a replica */
    int check_interval_ms;    /* how often the health thread polls */
    const char *primary_conn; /* the primary's conninfo, for its WAL position */
};

/* Sets the replicas (copies everything). Call once before any request
 * thread starts. Returns 0, or -1 (logged) when there are too many. */
int db_replicas_configure(const struct db_replica_options *opts);

/* Starts the health thread (no-op without replicas). Until its first poll
 * every replica counts as down. Returns 0, or -1 (logged). */
int db_replicas_start(void);

/* Stops the health thread and closes its connections. */
void db_replicas_stop(void);

/* The number of configured replicas. */
int db_replica_count(void);

/* The conninfo of replica i (0 <= i < db_replica_count()). */
const char *db_replica_conninfo(int i);

/* How long a read carrying a WAL position may wait for a replica (ms). */
int db_replica_read_wait_ms(void);

/* Whether replica i is in rotation (connected, in recovery, within the lag
 * bound) and, as last polled, has replayed min_lsn (0: any position). */
int db_replica_usable(int i, uint64_t min_lsn);

/* Whether replica i is in rotation at all (its replay position aside). */
int db_replica_up(int i);

/* Takes replica i out of rotation now (a request saw its connection
 * break); the health thread puts it back once it answers again. */
void db_replica_mark_down(int i);

/* Counts a read statement-set served by replica i, or (i < 0) a read
 * that was meant for a replica but went to the primary. */
void db_replica_count_read(int i);

/* What /metrics shows of replica i. */
struct db_replica_stats {
    int up;                  /* in rotation */
    long long lag_bytes;     /* primary WAL position minus replay position; -1: unknown */
    unsigned long reads;     /* reads it served since start */
    unsigned long taken_out; /* times it left rotation */
};

/* Fills *out for replica i. Thread-safe. */
void db_replica_stats(int i, struct db_replica_stats *out);

/* Reads meant for a replica that the primary served (none usable, or the
 * wait for a WAL position ran out, or a replica broke mid-read). */
unsigned long db_replica_fallbacks(void);

/* Parses a WAL position "X/Y" (hex halves) into *out. Returns 0, or -1
 * when s is not one. */
int db_lsn_parse(const char *s, uint64_t *out);

/* Writes lsn as "X/Y" into out (at least DB_LSN_TEXT_MAX bytes). */
#define DB_LSN_TEXT_MAX 24
void db_lsn_format(uint64_t lsn, char *out);

#endif
