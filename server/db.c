/* Per-thread PostgreSQL connections with reconnect backoff, and the one place
 * that maps libpq failures (SQLSTATE, broken connections) onto db_status. */
#include "db.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "xalloc.h"

#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 2000

static char *db_conninfo;
static int db_statement_timeout_ms;
static atomic_ulong db_errors;

struct thread_db {
    PGconn *conn;
    long long retry_at_ms; /* no reconnect attempt before this time */
    int backoff_ms;
};

static __thread struct thread_db tdb;

/* A thread that opened a connection closes it when it exits (the HTTP
 * pool's threads at shutdown), through this key's destructor. */
static pthread_key_t close_key;
static pthread_once_t close_key_once = PTHREAD_ONCE_INIT;

static void close_at_exit(void *conn)
{
    PQfinish(conn);
    tdb.conn = NULL;
}

static void make_close_key(void)
{
    pthread_key_create(&close_key, close_at_exit);
}

void db_configure(const char *conninfo, int statement_timeout_ms)
{
    free(db_conninfo);
    db_conninfo = xstrdup(conninfo);
    db_statement_timeout_ms = statement_timeout_ms;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Server notices ("relation already exists, skipping") are not news. */
static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Opens a connection with the session settings every statement relies on. */
static PGconn *open_conn(void)
{
    char timeout[128];
    const char *keys[] = {"dbname", "connect_timeout", "application_name", "options", NULL};
    const char *vals[] = {db_conninfo, "5", "exptrackd", timeout, NULL};

    snprintf(timeout, sizeof timeout,
             "-c statement_timeout=%d -c idle_in_transaction_session_timeout=60000",
             db_statement_timeout_ms);
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (conn == NULL)
        return NULL;
    if (PQstatus(conn) != CONNECTION_OK) {
        log_warn("database connection failed: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeProcessor(conn, ignore_notice, NULL);
    return conn;
}

PGconn *db_conn(void)
{
    if (tdb.conn != NULL && PQstatus(tdb.conn) == CONNECTION_OK)
        return tdb.conn;
    if (tdb.conn != NULL) {
        PQfinish(tdb.conn);
        tdb.conn = NULL;
        pthread_once(&close_key_once, make_close_key);
        pthread_setspecific(close_key, NULL);
    }
    long long now = now_ms();
    if (now < tdb.retry_at_ms)
        return NULL;
    tdb.conn = open_conn();
    if (tdb.conn == NULL) {
        tdb.backoff_ms = tdb.backoff_ms == 0 ? BACKOFF_MIN_MS : tdb.backoff_ms * 2;
        if (tdb.backoff_ms > BACKOFF_MAX_MS)
            tdb.backoff_ms = BACKOFF_MAX_MS;
        tdb.retry_at_ms = now + tdb.backoff_ms;
        return NULL;
    }
    tdb.backoff_ms = 0;
    tdb.retry_at_ms = 0;
    pthread_once(&close_key_once, make_close_key);
    pthread_setspecific(close_key, tdb.conn);
    return tdb.conn;
}

void db_thread_close(void)
{
    if (tdb.conn != NULL)
        PQfinish(tdb.conn);
    tdb.conn = NULL;
    pthread_once(&close_key_once, make_close_key);
    pthread_setspecific(close_key, NULL);
}

enum db_status db_ping(void)
{
    PGconn *conn = db_conn();
    if (conn == NULL)
        return DB_UNAVAILABLE;
    return db_exec("SELECT 1", 0, NULL, NULL);
}

enum db_status db_result_status(PGconn *conn, const PGresult *res, const char *what)
{
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_COPY_IN ||
        st == PGRES_COPY_OUT)
        return DB_OK;

    atomic_fetch_add(&db_errors, 1);
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (PQstatus(conn) != CONNECTION_OK || state == NULL) {
        log_warn("database unavailable during %s: %s", what, PQerrorMessage(conn));
        return DB_UNAVAILABLE;
    }
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    if (strcmp(state, "23505") == 0)
        return DB_EXISTS;
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
        return DB_RETRY;
    if (strcmp(state, "57014") == 0) {
        log_warn("statement timeout during %s", what);
        return DB_TIMEOUT;
    }
    /* class 08: connection exception; 57P0x: admin shutdown, crash shutdown,
     * cannot connect now; 53: insufficient resources */
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
        strncmp(state, "53", 2) == 0) {
        log_warn("database unavailable during %s: %s %s", what, state, msg ? msg : "");
        return DB_UNAVAILABLE;
    }
    if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0) {
        log_warn("data rejected during %s: %s %s", what, state, msg ? msg : "");
        return DB_INVALID;
    }
    log_error("database error during %s: %s %s", what, state, msg ? msg : "");
    return DB_ERROR;
}

enum db_status db_exec_bin(const char *sql, int nparams, const char *const *params,
                           const int *lengths, const int *formats, PGresult **res)
{
    PGconn *conn = db_conn();
    if (res != NULL)
        *res = NULL;
    if (conn == NULL)
        return DB_UNAVAILABLE;
    PGresult *r = PQexecParams(conn, sql, nparams, NULL, params, lengths, formats, 0);
    enum db_status st = db_result_status(conn, r, sql);
    if (st != DB_OK || res == NULL)
        PQclear(r);
    else
        *res = r;
    return st;
}

enum db_status db_exec(const char *sql, int nparams, const char *const *params, PGresult **res)
{
    return db_exec_bin(sql, nparams, params, NULL, NULL, res);
}

enum db_status db_begin(void)
{
    return db_exec("BEGIN", 0, NULL, NULL);
}

enum db_status db_commit(void)
{
    return db_exec("COMMIT", 0, NULL, NULL);
}

void db_rollback(void)
{
    PGconn *conn = tdb.conn;
    if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
        return;
    if (PQtransactionStatus(conn) == PQTRANS_IDLE)
        return;
    PGresult *r = PQexec(conn, "ROLLBACK");
    PQclear(r);
}

unsigned long db_error_count(void)
{
    return atomic_load(&db_errors);
}
