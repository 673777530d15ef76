/* PostgreSQL connections: one per request thread, opened lazily, reopened
 * with backoff after a failure. Store files run their SQL through these
 * helpers; nothing else in the server talks to libpq. */
#ifndef ET_SERVER_DB_H
#define ET_SERVER_DB_H

#include <libpq-fe.h>

/* Outcome of a database call, mapped by api code onto the wire's errors. */
enum db_status {
    DB_OK = 0,
    DB_NOT_FOUND = -1,   /* the row the caller asked about does not exist */
    DB_EXISTS = -2,      /* unique violation */
    DB_INVALID = -3,     /* the data broke a constraint (value too long, bad reference) */
    DB_UNAVAILABLE = -4, /* no connection, or it broke: retry later (503) */
    DB_TIMEOUT = -5,     /* statement timeout */
    DB_ERROR = -6,       /* anything else; logged with its SQLSTATE */
    DB_RETRY = -7,       /* serialization failure or deadlock: run the transaction again */
};

/* Sets the conninfo and statement timeout every later connection uses.
 * Call once before any request thread starts. Copies conninfo. */
void db_configure(const char *conninfo, int statement_timeout_ms);

/* Opens one connection now and checks it answers; used at start-up and by
 * /health. Returns DB_OK or DB_UNAVAILABLE. */
enum db_status db_ping(void);

/* The calling thread's connection, opened if needed. NULL while the database
 * is unreachable (the thread then backs off before trying again). */
PGconn *db_conn(void);

/* Closes the calling thread's connection (at thread exit). */
void db_thread_close(void);

/* Runs one statement with text parameters (NULL = SQL NULL). On success
 * returns DB_OK and, when res is non-NULL, the result (caller PQclear()s).
 * On failure logs the SQLSTATE and message and returns the mapped status. */
enum db_status db_exec(const char *sql, int nparams, const char *const *params, PGresult **res);

/* Like db_exec with per-parameter lengths and formats (binary parameters). */
enum db_status db_exec_bin(const char *sql, int nparams, const char *const *params,
                           const int *lengths, const int *formats, PGresult **res);

/* Transaction control on the calling thread's connection. db_rollback is safe
 * after any failure and when no transaction is open. */
enum db_status db_begin(void);
enum db_status db_commit(void);
void db_rollback(void);

/* Maps a failed result to a status, logging it. Exposed for store code that
 * runs COPY or pipelines. */
enum db_status db_result_status(PGconn *conn, const PGresult *res, const char *what);

/* Counts statements that failed for database reasons since start (for /metrics). */
unsigned long db_error_count(void);

#endif
