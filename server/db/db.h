/* PostgreSQL connections: one per request thread, opened lazily, reopened
 * with backoff after a failure. Store files run their SQL through these
 * helpers; nothing else in the server talks to libpq. */
#ifndef ET_SERVER_DB_H
#define ET_SERVER_DB_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "core/store_status.h"

/* Sets the conninfo and statement timeout every later connection uses.
 * Call once before any request thread starts. Copies conninfo. */
void db_configure(const char *conninfo, int statement_timeout_ms);

/* The statement timeout db_configure set, in milliseconds (0: none): the
 * budget of work that spans several statements, such as a walk of many
 * series page by page. */
int db_statement_timeout(void);

/* Opens one connection now and checks it answers; used at start-up and by
 * /health. Returns DB_OK or DB_UNAVAILABLE. */
enum db_status db_ping(void);

/* The calling thread's connection, opened if needed, and counted as in use
 * (for /metrics) until a result passed to db_result_status (every db_exec
 * does) leaves it outside any transaction. NULL while the database is
 * unreachable (the thread then backs off before trying again). */
PGconn *db_conn(void);

/* Closes the calling thread's connections (at thread exit). */
void db_thread_close(void);

/* Read routing (replicas.h names the replicas). After db_route_read the
 * calling thread's next db_conn() picks where the request's statements go:
 * a replica in rotation that has replayed min_lsn (0: any; waiting up to
 * the configured bound for one), else the primary. Without replicas every
 * statement goes to the primary. Call db_route_primary when the request
 * is over: later statements of the thread go to the primary again. */
void db_route_read(uint64_t min_lsn);
void db_route_primary(void);

/* Whether, since db_route_read, a replica's connection broke under the
 * read (the replica is out of rotation and the thread is back on the
 * primary): the caller may run the read again, now on the primary. */
int db_route_failed(void);

/* Whether any replica is configured (reads may be routed, writes must tell
 * their WAL position to the client). */
int db_replicas_in_use(void);

/* The primary's current WAL position ("X/Y") into out (n bytes): a read
 * that must see the writes acknowledged so far waits for it. Runs on the
 * primary whatever the routing. DB_OK or the failure's status. */
enum db_status db_write_lsn(char *out, size_t n);

/* Runs one statement with text parameters (NULL = SQL NULL). On success
 * returns DB_OK and, when res is non-NULL, the result (caller PQclear()s).
 * On failure logs the SQLSTATE and message and returns the mapped status. */
enum db_status db_exec(const char *sql, int nparams, const char *const *params, PGresult **res);

/* Like db_exec with per-parameter lengths and formats (binary parameters). */
enum db_status db_exec_bin(const char *sql, int nparams, const char *const *params,
                           const int *lengths, const int *formats, PGresult **res);

/* Like db_exec for a hot statement: prepares sql under name once per
 * connection (parse and plan once) and then only executes it. name must
 * be a string constant (it is remembered by address) and always go with
 * the same sql; a few names per process (over the limit, db_exec). */
enum db_status db_exec_prepared(const char *name, const char *sql, int nparams,
                                const char *const *params, PGresult **res);

/* db_exec and db_exec_prepared with every result column in binary form
 * (PQgetvalue gives the type's send format: big-endian numbers, arrays as
 * array_send writes them), for reads too large to spend time on text. */
enum db_status db_query_binary(const char *sql, int nparams, const char *const *params,
                               PGresult **res);
enum db_status db_exec_prepared_binary(const char *name, const char *sql, int nparams,
                                       const char *const *params, PGresult **res);

/* Runs two statements in one round trip (a libpq pipeline): sql2 runs only
 * when sql1 succeeded. Parameters and results as db_exec; on failure neither
 * result is returned and the status is the first failure's. Used to start a
 * transaction with its first statement ("BEGIN" first) and to end one with
 * its last ("COMMIT" second). */
enum db_status db_exec_pair(const char *sql1, int n1, const char *const *p1, PGresult **res1,
                            const char *sql2, int n2, const char *const *p2, PGresult **res2);

/* One statement of db_read_send: PQsendQueryParams's parameters (binary
 * ones allowed). With a name (a string constant always going with the same
 * sql, as for db_exec_prepared) it is prepared once per connection, so that
 * later sends skip PostgreSQL's parse and plan; NULL, or no room left for
 * another prepared statement: sent as text each time. */
struct db_read_stmt {
    const char *name;
    const char *sql;
    int nparams;
    const char *const *values;
    const int *lengths;
    const int *formats;
};

/* Sends setup (NULL: none) and then stmt (result_format 1 for binary rows)
 * as one libpq pipeline, one implicit transaction, and returns without
 * waiting: one round trip in all, so the caller can work while PostgreSQL
 * runs them. setup is a statement run first in the same transaction, such
 * as "SELECT set_config('enable_sort', 'off', true)" for a setting of
 * stmt's own. The thread must call db_read_collect before any other
 * statement and before its callback returns to the event loop: the
 * connection is busy until then. DB_OK, or the failed preparation's status,
 * or DB_UNAVAILABLE. */
enum db_status db_read_send(const struct db_read_stmt *setup, const struct db_read_stmt *stmt,
                            int result_format);

/* Waits for what db_read_send sent. DB_OK with stmt's result in *res (the
 * caller PQclear()s), or the first failure's status with *res NULL (the
 * transaction rolled back). The connection is idle afterwards. what names
 * the read in logs. */
enum db_status db_read_collect(const char *what, PGresult **res);

/* One prepared statement of a group (db_exec_group): name and sql as for
 * db_exec_prepared, text parameters (NULL = SQL NULL). */
struct db_stmt {
    const char *name;
    const char *sql;
    int nparams;
    const char *const *params;
};

/* Runs stmts[0..n) in one transaction and one round trip (a pipeline of
 * BEGIN, the statements prepared as needed, COMMIT): DB_OK once committed,
 * with results[i] the result of stmts[i] (caller PQclear()s each). On any
 * failure nothing is committed, no result is returned, and the status is the
 * first failure's (DB_ERROR, unlogged, when the connection cannot keep that
 * many prepared statements). Used by the group commit. */
enum db_status db_exec_group(const struct db_stmt *stmts, size_t n, PGresult **results);

/* db_exec_group that also says which statement failed and when the
 * statements are done: *failed_at is the index of the first statement that
 * failed (n when none did, or the failure was not a statement's: the
 * connection, BEGIN, COMMIT). executed(arg), when not NULL, is called once
 * every statement has succeeded and the server is at the COMMIT, before its
 * WAL flush is waited for; when a statement failed, or the pipeline could
 * not be sent, it is not called. */
enum db_status db_exec_group_split(const struct db_stmt *stmts, size_t n, PGresult **results,
                                   size_t *failed_at, void (*executed)(void *arg), void *arg);

/* Transaction control on the calling thread's connection. db_rollback is safe
 * after any failure and when no transaction is open. */
enum db_status db_begin(void);
enum db_status db_commit(void);
void db_rollback(void);

/* Maps a failed result to a status, logging it. Exposed for store code that
 * runs COPY or pipelines. */
enum db_status db_result_status(PGconn *conn, const PGresult *res, const char *what);

/* The connection pool as /metrics shows it: one connection per thread that
 * has talked to the database (request threads, group-commit writer). */
struct db_pool_stats {
    long open;                      /* connections held open */
    long in_use;                    /* of those, running a statement or inside a transaction */
    long backoff;                   /* threads without a connection, waiting to retry */
    unsigned long connect_failures; /* connection attempts that failed since start */
};

/* Fills *out with the current pool gauges and counters. Thread-safe; the
 * fields are read one by one, so they may be a moment apart. */
void db_pool_stats(struct db_pool_stats *out);

/* Counts statements that failed with status st (a negative db_status) since
 * start; 0 for DB_OK and for statuses db_result_status never answers. */
unsigned long db_error_count(enum db_status st);

/* The lower-case name of a status for logs and /metrics labels
 * ("unavailable", "disk_full", ...); "unknown" for any other value. */
const char *db_status_name(enum db_status st);

#endif
