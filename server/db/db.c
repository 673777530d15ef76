/* Per-thread PostgreSQL connections with reconnect backoff, and the one place
 * that maps libpq failures (SQLSTATE, broken connections) onto db_status. */
#include "db.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "common/xalloc.h"
#include "replicas.h"

#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 2000
/* A transaction left open this long (a stuck handler) is ended by the server. */
#define DB_IDLE_IN_TRANSACTION_MS 60000

/* Statements one connection keeps prepared (db_exec_prepared). */
#define DB_MAX_PREPARED 32

static char *db_conninfo;
static int db_statement_timeout_ms;

/* Failed statements by status, indexed by -status (DB_DISK_FULL is the lowest). */
#define NSTATUS (1 - DB_DISK_FULL)
static atomic_ulong db_errors[NSTATUS];
static atomic_ulong connect_failures;

/* What a thread's slot of the pool is doing. Only the owning thread moves
 * its slot; the counts of every state are shared. */
enum conn_state {
    CS_NONE,    /* no connection, none wanted yet */
    CS_IDLE,    /* open, between statements */
    CS_BUSY,    /* open, running a statement or inside a transaction */
    CS_BACKOFF, /* the last attempt to connect failed; waiting to retry */
    CS__COUNT
};
static atomic_long state_count[CS__COUNT];

/* One connection of a thread: to the primary (slot 0) or a replica. */
struct conn_slot {
    PGconn *conn;
    long long retry_at_ms; /* no reconnect attempt before this time */
    int backoff_ms;
    enum conn_state state;
    /* statements prepared on conn (db_exec_prepared): their names, by
     * pointer; emptied whenever a new connection is opened */
    const char *prepared[DB_MAX_PREPARED];
    int nprepared;
    int stale; /* its server went away under a statement: reopen before reuse */
};

/* A thread's connections, and where its statements go now. */
struct thread_db {
    struct conn_slot slots[1 + DB_MAX_REPLICAS]; /* 0: the primary; 1 + i: replica i */
    int cur;                                     /* the slot statements use */
    int read_mode;    /* db_route_read: the next db_conn() may pick a replica */
    int chosen;       /* the read's slot is picked */
    int broke;        /* a replica's connection broke during this read */
    uint64_t min_lsn; /* the read must see at least this WAL position */
    unsigned rotor;   /* spreads this thread's reads over the replicas */
    int key_set;      /* close_at_exit is registered for this thread */
    int read_setup;   /* db_read_send sent a setup statement ahead of its read */
};

static __thread struct thread_db tdb;

static void set_state(struct conn_slot *s, enum conn_state st)
{
    if (s->state == st)
        return;
    atomic_fetch_sub_explicit(&state_count[s->state], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&state_count[st], 1, memory_order_relaxed);
    s->state = st;
}

static void count_error(enum db_status st)
{
    if (st < 0 && -st < NSTATUS)
        atomic_fetch_add_explicit(&db_errors[-st], 1, memory_order_relaxed);
}

/* A thread that opened a connection closes it when it exits (the HTTP
 * pool's threads at shutdown), through this key's destructor. */
static pthread_key_t close_key;
static pthread_once_t close_key_once = PTHREAD_ONCE_INIT;

static void close_slot(struct conn_slot *s)
{
    PQfinish(s->conn);
    s->conn = NULL;
    set_state(s, CS_NONE);
}

static void close_at_exit(void *arg)
{
    struct thread_db *t = arg;
    for (size_t i = 0; i < sizeof t->slots / sizeof t->slots[0]; i++)
        close_slot(&t->slots[i]);
    t->key_set = 0;
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

int db_statement_timeout(void)
{
    return db_statement_timeout_ms;
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
static PGconn *open_conn(const char *conninfo)
{
    char timeout[128];
    const char *keys[] = {"dbname", "connect_timeout", "application_name", "options", NULL};
    const char *vals[] = {conninfo, "5", "exptrackd", timeout, NULL};

    /* jit off: exptrackd's statements are short reads and writes on large
     * tables, where the planner's cost threshold turns JIT on and its
     * compile time (0.7-2.9 s measured on history reads) dwarfs any gain. */
    snprintf(timeout, sizeof timeout,
             "-c statement_timeout=%d -c idle_in_transaction_session_timeout=%d -c jit=off",
             db_statement_timeout_ms, DB_IDLE_IN_TRANSACTION_MS);
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

/* Closes conn, one of the thread's connections (broken, or out of step
 * with it): the next db_conn() for its server opens a fresh one. */
static void drop_conn(PGconn *conn)
{
    for (size_t i = 0; i < sizeof tdb.slots / sizeof tdb.slots[0]; i++)
        if (tdb.slots[i].conn == conn && conn != NULL)
            close_slot(&tdb.slots[i]);
}

/* The connection of slot i, opened if needed (with backoff); NULL while
 * its server is unreachable. */
static PGconn *slot_conn(int i)
{
    struct conn_slot *s = &tdb.slots[i];
    if (s->stale) {
        close_slot(s);
        s->stale = 0;
    }
    if (s->conn != NULL && PQstatus(s->conn) == CONNECTION_OK) {
        set_state(s, CS_BUSY);
        return s->conn;
    }
    if (s->conn != NULL)
        close_slot(s);
    long long now = now_ms();
    if (now < s->retry_at_ms)
        return NULL;
    s->conn = open_conn(i == 0 ? db_conninfo : db_replica_conninfo(i - 1));
    if (s->conn == NULL) {
        atomic_fetch_add_explicit(&connect_failures, 1, memory_order_relaxed);
        set_state(s, CS_BACKOFF);
        s->backoff_ms = s->backoff_ms == 0 ? BACKOFF_MIN_MS : s->backoff_ms * 2;
        if (s->backoff_ms > BACKOFF_MAX_MS)
            s->backoff_ms = BACKOFF_MAX_MS;
        s->retry_at_ms = now + s->backoff_ms;
        return NULL;
    }
    set_state(s, CS_BUSY);
    s->backoff_ms = 0;
    s->retry_at_ms = 0;
    s->nprepared = 0;
    if (!tdb.key_set) {
        pthread_once(&close_key_once, make_close_key);
        pthread_setspecific(close_key, &tdb);
        tdb.key_set = 1;
    }
    return s->conn;
}

/* Whether replica i (connected on its slot) has replayed tdb.min_lsn. */
static int replica_has_replayed(int i)
{
    char lsn[DB_LSN_TEXT_MAX];
    db_lsn_format(tdb.min_lsn, lsn);
    const char *params[] = {lsn};
    PGconn *c = tdb.slots[1 + i].conn;
    PGresult *r = PQexecParams(c, "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", 1, NULL, params,
                               NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
             strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (PQstatus(c) != CONNECTION_OK) {
        close_slot(&tdb.slots[1 + i]);
        db_replica_mark_down(i);
    } else {
        set_state(&tdb.slots[1 + i], CS_IDLE);
    }
    return ok;
}

/* The slot a read goes to: a replica in rotation that has replayed the
 * read's WAL position (waiting up to the configured bound for one to get
 * there), else the primary. */
static int pick_read_slot(void)
{
    int n = db_replica_count();
    if (n == 0)
        return 0;
    unsigned start = tdb.rotor++;
    for (int k = 0; k < n; k++) {
        int i = (int)((start + (unsigned)k) % (unsigned)n);
        if (db_replica_usable(i, tdb.min_lsn) && slot_conn(1 + i) != NULL)
            return 1 + i;
    }
    if (tdb.min_lsn != 0) {
        long long deadline = now_ms() + db_replica_read_wait_ms();
        for (;;) {
            int up = 0;
            for (int k = 0; k < n; k++) {
                int i = (int)((start + (unsigned)k) % (unsigned)n);
                if (!db_replica_up(i) || slot_conn(1 + i) == NULL)
                    continue;
                up++;
                if (replica_has_replayed(i))
                    return 1 + i;
            }
            if (up == 0 || now_ms() >= deadline) /* none to wait for, or waited enough */
                break;
            struct timespec pause = {0, 2 * 1000 * 1000};
            nanosleep(&pause, NULL);
        }
    }
    return 0;
}

/* Whether slot i has no statement or transaction open. */
static int slot_idle(int i)
{
    PGconn *c = tdb.slots[i].conn;
    return c == NULL || PQstatus(c) != CONNECTION_OK || PQtransactionStatus(c) == PQTRANS_IDLE;
}

PGconn *db_conn(void)
{
    /* A read that ended on a replica with a transaction still open stays
     * there until it closes; then the thread is the primary's again. (A
     * streamed history reply leaves none open: its later pages, read in
     * libmicrohttpd's callbacks, go to the primary.) */
    if (!tdb.read_mode && tdb.cur != 0 && slot_idle(tdb.cur))
        tdb.cur = 0;
    if (tdb.read_mode && !tdb.chosen) {
        tdb.chosen = 1;
        tdb.cur = pick_read_slot();
        db_replica_count_read(tdb.cur - 1);
    }
    return slot_conn(tdb.cur);
}

void db_route_read(uint64_t min_lsn)
{
    tdb.read_mode = 1;
    tdb.chosen = 0;
    tdb.broke = 0;
    tdb.min_lsn = min_lsn;
}

void db_route_primary(void)
{
    tdb.read_mode = 0;
    tdb.chosen = 0;
    if (slot_idle(tdb.cur))
        tdb.cur = 0;
}

int db_route_failed(void)
{
    return tdb.broke;
}

int db_replicas_in_use(void)
{
    return db_replica_count() > 0;
}

enum db_status db_write_lsn(char *out, size_t n)
{
    PGresult *res = NULL;
    int saved = tdb.cur;
    tdb.cur = 0;
    enum db_status st = db_exec("SELECT pg_current_wal_lsn()::text", 0, NULL, &res);
    tdb.cur = saved;
    if (st == DB_OK)
        snprintf(out, n, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return st;
}

/* The current replica's connection failed under a statement: the replica
 * leaves rotation, the connection is closed before its next use, and the
 * rest of the request goes to the primary. */
static void replica_broke(struct conn_slot *s)
{
    set_state(s, CS_IDLE);
    s->stale = 1;
    db_replica_mark_down(tdb.cur - 1);
    tdb.broke = 1;
    tdb.cur = 0;
}

/* After a result on the thread's own connection: idle unless a transaction
 * (or a COPY) is still open on it. A replica's broken connection takes it
 * out of rotation and sends the rest of the request to the primary. */
static void settle_state(PGconn *conn)
{
    struct conn_slot *s = &tdb.slots[tdb.cur];
    if (conn == NULL || conn != s->conn)
        return;
    if (tdb.cur > 0 && PQstatus(conn) != CONNECTION_OK) {
        replica_broke(s);
        return;
    }
    PGTransactionStatusType ts = PQtransactionStatus(conn);
    set_state(s, ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR || ts == PQTRANS_ACTIVE ? CS_BUSY
                                                                                        : CS_IDLE);
}

void db_thread_close(void)
{
    close_at_exit(&tdb);
}

enum db_status db_ping(void)
{
    PGconn *conn = db_conn();
    if (conn == NULL)
        return DB_UNAVAILABLE;
    return db_exec("SELECT 1", 0, NULL, NULL);
}

/* A relation that cannot grow for want of space without the OS saying
 * ENOSPC: "cannot extend file ... beyond N blocks" (md.c) and a hash index
 * out of overflow pages, both SQLSTATE 54000. Told apart from the other
 * 54000 errors (an index row too large for its page: the value's fault) by
 * the reporting function, which, unlike the message, is never translated. */
static int relation_cannot_grow(const PGresult *res)
{
    const char *fn = PQresultErrorField(res, PG_DIAG_SOURCE_FUNCTION);
    return fn != NULL && (strstr(fn, "extend") != NULL || strcmp(fn, "_hash_getovflpage") == 0);
}

/* The status of a failed result with a SQLSTATE, logging what needs it. */
static enum db_status map_sqlstate(const PGresult *res, const char *state, const char *what)
{
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    if (msg == NULL)
        msg = "";
    if (strcmp(state, "23505") == 0)
        return DB_EXISTS;
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
        return DB_RETRY;
    if (strcmp(state, "57014") == 0) {
        log_warn("statement timeout during %s", what);
        return DB_TIMEOUT;
    }
    if (strcmp(state, "53100") == 0 || (strcmp(state, "54000") == 0 && relation_cannot_grow(res))) {
        log_error("database out of disk space during %s: %s %s", what, state, msg);
        return DB_DISK_FULL;
    }
    /* class 08: connection exception; 57P0x: admin shutdown, crash shutdown,
     * cannot connect now; 53: insufficient resources (memory, connections) */
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
        strncmp(state, "53", 2) == 0) {
        log_warn("database unavailable during %s: %s %s", what, state, msg);
        return DB_UNAVAILABLE;
    }
    if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0) {
        log_warn("data rejected during %s: %s %s", what, state, msg);
        return DB_INVALID;
    }
    log_error("database error during %s: %s %s", what, state, msg);
    return DB_ERROR;
}

enum db_status db_result_status(PGconn *conn, const PGresult *res, const char *what)
{
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    settle_state(conn);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_COPY_IN ||
        st == PGRES_COPY_OUT)
        return DB_OK;

    enum db_status rc;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (PQstatus(conn) != CONNECTION_OK || state == NULL) {
        log_warn("database unavailable during %s: %s", what, PQerrorMessage(conn));
        rc = DB_UNAVAILABLE;
    } else {
        rc = map_sqlstate(res, state, what);
    }
    /* a replica shutting down answers 57P0x before its socket closes */
    if (rc == DB_UNAVAILABLE && tdb.cur > 0 && conn == tdb.slots[tdb.cur].conn)
        replica_broke(&tdb.slots[tdb.cur]);
    count_error(rc);
    return rc;
}

/* PQexecParams on the thread's connection with the given result format
 * (0 text, 1 binary). */
static enum db_status exec_params(const char *sql, int nparams, const char *const *params,
                                  const int *lengths, const int *formats, int result_format,
                                  PGresult **res)
{
    PGconn *conn = db_conn();
    if (res != NULL)
        *res = NULL;
    if (conn == NULL) {
        count_error(DB_UNAVAILABLE);
        return DB_UNAVAILABLE;
    }
    PGresult *r = PQexecParams(conn, sql, nparams, NULL, params, lengths, formats, result_format);
    enum db_status st = db_result_status(conn, r, sql);
    if (st != DB_OK || res == NULL)
        PQclear(r);
    else
        *res = r;
    return st;
}

enum db_status db_exec_bin(const char *sql, int nparams, const char *const *params,
                           const int *lengths, const int *formats, PGresult **res)
{
    return exec_params(sql, nparams, params, lengths, formats, 0, res);
}

enum db_status db_exec(const char *sql, int nparams, const char *const *params, PGresult **res)
{
    return exec_params(sql, nparams, params, NULL, NULL, 0, res);
}

enum db_status db_query_binary(const char *sql, int nparams, const char *const *params,
                               PGresult **res)
{
    return exec_params(sql, nparams, params, NULL, NULL, 1, res);
}

/* Whether name is prepared on the thread's current connection. */
static int is_prepared(const char *name)
{
    const struct conn_slot *s = &tdb.slots[tdb.cur];
    for (int i = 0; i < s->nprepared; i++)
        if (s->prepared[i] == name)
            return 1;
    return 0;
}

/* Prepares sql as name on conn (the thread's current connection) unless
 * it is already; the caller checked that a slot is free or name is known. */
static enum db_status prepare_once(PGconn *conn, const char *name, const char *sql, int nparams)
{
    struct conn_slot *slot = &tdb.slots[tdb.cur];
    if (is_prepared(name))
        return DB_OK;
    PGresult *p = PQprepare(conn, name, sql, nparams, NULL);
    enum db_status st = db_result_status(conn, p, sql);
    PQclear(p);
    if (st == DB_OK)
        slot->prepared[slot->nprepared++] = name;
    return st;
}

/* db_exec_prepared with the given result format (0 text, 1 binary). */
static enum db_status exec_prepared(const char *name, const char *sql, int nparams,
                                    const char *const *params, int result_format, PGresult **res)
{
    if (res != NULL)
        *res = NULL;
    PGconn *conn = db_conn();
    struct conn_slot *slot = &tdb.slots[tdb.cur];
    if (conn != NULL && slot->nprepared >= DB_MAX_PREPARED && !is_prepared(name))
        return exec_params(sql, nparams, params, NULL, NULL, result_format, res);
    if (conn == NULL) {
        count_error(DB_UNAVAILABLE);
        return DB_UNAVAILABLE;
    }
    enum db_status prep = prepare_once(conn, name, sql, nparams);
    if (prep != DB_OK)
        return prep;
    PGresult *r = PQexecPrepared(conn, name, nparams, params, NULL, NULL, result_format);
    enum db_status st = db_result_status(conn, r, sql);
    if (st != DB_OK || res == NULL)
        PQclear(r);
    else
        *res = r;
    return st;
}

enum db_status db_exec_prepared(const char *name, const char *sql, int nparams,
                                const char *const *params, PGresult **res)
{
    return exec_prepared(name, sql, nparams, params, 0, res);
}

enum db_status db_exec_prepared_binary(const char *name, const char *sql, int nparams,
                                       const char *const *params, PGresult **res)
{
    return exec_prepared(name, sql, nparams, params, 1, res);
}

/* Reads the results of one pipelined statement up to its terminating NULL;
 * keeps the first in *res (if res) when it succeeded. */
static enum db_status pipeline_result(PGconn *conn, const char *what, PGresult **res)
{
    enum db_status rc = DB_OK;
    PGresult *r;
    while ((r = PQgetResult(conn)) != NULL) {
        /* skipped after an earlier statement failed: that failure is the news */
        int skipped = PQresultStatus(r) == PGRES_PIPELINE_ABORTED;
        enum db_status st = skipped ? DB_OK : db_result_status(conn, r, what);
        if (rc == DB_OK)
            rc = st;
        if (res != NULL && *res == NULL && st == DB_OK && !skipped)
            *res = r;
        else
            PQclear(r);
    }
    return rc;
}

static void clear_result(PGresult **res)
{
    if (res != NULL && *res != NULL) {
        PQclear(*res);
        *res = NULL;
    }
}

/* Gives up a pipeline that could not be sent whole: the connection is
 * dropped (db.c reopens it). Returns DB_UNAVAILABLE. */
static enum db_status pipeline_send_failed(PGconn *conn)
{
    log_warn("database pipeline failed to send: %s", PQerrorMessage(conn));
    drop_conn(conn);
    count_error(DB_UNAVAILABLE);
    return DB_UNAVAILABLE;
}

/* Reads a pipeline's closing sync and leaves pipeline mode. Returns 0, or
 * -1 when the pipeline was out of step (the connection is then dropped and
 * the error counted). */
static int pipeline_end(PGconn *conn)
{
    PGresult *sync = PQgetResult(conn);
    int synced = sync != NULL && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
    PQclear(sync);
    if (synced && PQexitPipelineMode(conn) == 1)
        return 0;
    log_warn("database pipeline out of step: %s", PQerrorMessage(conn));
    drop_conn(conn);
    count_error(DB_UNAVAILABLE);
    return -1;
}

enum db_status db_exec_pair(const char *sql1, int n1, const char *const *p1, PGresult **res1,
                            const char *sql2, int n2, const char *const *p2, PGresult **res2)
{
    PGconn *conn = db_conn();
    if (res1 != NULL)
        *res1 = NULL;
    if (res2 != NULL)
        *res2 = NULL;
    if (conn == NULL) {
        count_error(DB_UNAVAILABLE);
        return DB_UNAVAILABLE;
    }
    if (PQenterPipelineMode(conn) != 1 ||
        PQsendQueryParams(conn, sql1, n1, NULL, p1, NULL, NULL, 0) != 1 ||
        PQsendQueryParams(conn, sql2, n2, NULL, p2, NULL, NULL, 0) != 1 ||
        PQpipelineSync(conn) != 1) {
        return pipeline_send_failed(conn);
    }
    enum db_status rc1 = pipeline_result(conn, sql1, res1);
    enum db_status rc2 = pipeline_result(conn, sql2, res2);
    if (pipeline_end(conn) < 0) {
        clear_result(res1);
        clear_result(res2);
        return DB_UNAVAILABLE;
    }
    settle_state(conn);
    if (rc1 != DB_OK || rc2 != DB_OK) {
        clear_result(res1);
        clear_result(res2);
    }
    return rc1 != DB_OK ? rc1 : rc2;
}

/* Prepares s on conn when it has a name and room is left (prepare_once). */
static enum db_status read_prepare(PGconn *conn, const struct db_read_stmt *s)
{
    if (s == NULL || s->name == NULL || is_prepared(s->name) ||
        tdb.slots[tdb.cur].nprepared >= DB_MAX_PREPARED)
        return DB_OK;
    return prepare_once(conn, s->name, s->sql, s->nparams);
}

/* Queues s in conn's pipeline, prepared if read_prepare could. 1 when sent. */
static int read_queue(PGconn *conn, const struct db_read_stmt *s, int result_format)
{
    if (s->name != NULL && is_prepared(s->name))
        return PQsendQueryPrepared(conn, s->name, s->nparams, s->values, s->lengths, s->formats,
                                   result_format);
    return PQsendQueryParams(conn, s->sql, s->nparams, NULL, s->values, s->lengths, s->formats,
                             result_format);
}

enum db_status db_read_send(const struct db_read_stmt *setup, const struct db_read_stmt *stmt,
                            int result_format)
{
    PGconn *conn = db_conn();
    if (conn == NULL) {
        count_error(DB_UNAVAILABLE);
        return DB_UNAVAILABLE;
    }
    enum db_status rc = read_prepare(conn, setup);
    if (rc == DB_OK)
        rc = read_prepare(conn, stmt);
    if (rc != DB_OK)
        return rc;
    if (PQenterPipelineMode(conn) != 1 || (setup != NULL && read_queue(conn, setup, 0) != 1) ||
        read_queue(conn, stmt, result_format) != 1 || PQpipelineSync(conn) != 1) {
        return pipeline_send_failed(conn);
    }
    tdb.read_setup = setup != NULL;
    return DB_OK;
}

enum db_status db_read_collect(const char *what, PGresult **res)
{
    PGconn *conn = tdb.slots[tdb.cur].conn;
    enum db_status rc = DB_OK;
    *res = NULL;
    if (conn == NULL || PQpipelineStatus(conn) == PQ_PIPELINE_OFF) {
        count_error(DB_UNAVAILABLE);
        return DB_UNAVAILABLE; /* the connection was dropped since the send */
    }
    if (tdb.read_setup)
        rc = pipeline_result(conn, what, NULL);
    enum db_status st = pipeline_result(conn, what, res);
    if (rc == DB_OK)
        rc = st;
    if (pipeline_end(conn) < 0) {
        clear_result(res);
        return DB_UNAVAILABLE;
    }
    settle_state(conn);
    if (rc != DB_OK)
        clear_result(res);
    return rc;
}

/* Whether the thread's current connection can prepare every statement of
 * stmts[0..n) (known ones, plus new ones within DB_MAX_PREPARED). */
static int group_fits(const struct db_stmt *stmts, size_t n)
{
    int fresh = 0;
    for (size_t i = 0; i < n; i++) {
        int seen = is_prepared(stmts[i].name);
        for (size_t j = 0; j < i && !seen; j++)
            seen = stmts[j].name == stmts[i].name;
        fresh += !seen;
    }
    return tdb.slots[tdb.cur].nprepared + fresh <= DB_MAX_PREPARED;
}

enum db_status db_exec_group(const struct db_stmt *stmts, size_t n, PGresult **results)
{
    size_t failed_at;
    return db_exec_group_split(stmts, n, results, &failed_at, NULL, NULL);
}

enum db_status db_exec_group_split(const struct db_stmt *stmts, size_t n, PGresult **results,
                                   size_t *failed_at, void (*executed)(void *arg), void *arg)
{
    PGconn *conn = db_conn();
    enum db_status rc = DB_OK;
    *failed_at = n;
    for (size_t i = 0; i < n; i++)
        results[i] = NULL;
    if (conn == NULL) {
        count_error(DB_UNAVAILABLE);
        return DB_UNAVAILABLE;
    }
    if (!group_fits(stmts, n))
        return DB_ERROR;
    for (size_t i = 0; i < n && rc == DB_OK; i++)
        rc = prepare_once(conn, stmts[i].name, stmts[i].sql, stmts[i].nparams);
    if (rc != DB_OK)
        return rc;
    int sent = PQenterPipelineMode(conn) == 1 &&
               PQsendQueryParams(conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0) == 1;
    for (size_t i = 0; i < n && sent; i++)
        sent = PQsendQueryPrepared(conn, stmts[i].name, stmts[i].nparams, stmts[i].params, NULL,
                                   NULL, 0) == 1;
    if (!sent || PQsendQueryParams(conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) != 1 ||
        PQpipelineSync(conn) != 1) {
        return pipeline_send_failed(conn);
    }
    rc = pipeline_result(conn, "BEGIN", NULL);
    for (size_t i = 0; i < n; i++) {
        enum db_status st = pipeline_result(conn, stmts[i].sql, &results[i]);
        if (rc == DB_OK && st != DB_OK)
            *failed_at = i;
        if (rc == DB_OK)
            rc = st;
    }
    /* every statement ran well: the server is at the COMMIT (its WAL flush) */
    if (executed != NULL && rc == DB_OK)
        executed(arg);
    enum db_status st = pipeline_result(conn, "COMMIT", NULL);
    if (rc == DB_OK)
        rc = st;
    if (pipeline_end(conn) < 0) {
        rc = DB_UNAVAILABLE;
    } else if (rc != DB_OK) {
        db_rollback(); /* a failed statement left the transaction open and aborted */
    } else {
        settle_state(conn);
    }
    if (rc != DB_OK) {
        for (size_t i = 0; i < n; i++)
            clear_result(&results[i]);
    }
    return rc;
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
    PGconn *conn = tdb.slots[tdb.cur].conn;
    if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
        return;
    if (PQtransactionStatus(conn) == PQTRANS_IDLE)
        return;
    PGresult *r = PQexec(conn, "ROLLBACK");
    PQclear(r);
    settle_state(conn);
}

void db_pool_stats(struct db_pool_stats *out)
{
    out->open = atomic_load_explicit(&state_count[CS_IDLE], memory_order_relaxed) +
                atomic_load_explicit(&state_count[CS_BUSY], memory_order_relaxed);
    out->in_use = atomic_load_explicit(&state_count[CS_BUSY], memory_order_relaxed);
    out->backoff = atomic_load_explicit(&state_count[CS_BACKOFF], memory_order_relaxed);
    out->connect_failures = atomic_load_explicit(&connect_failures, memory_order_relaxed);
}

unsigned long db_error_count(enum db_status st)
{
    if (st >= 0 || -st >= NSTATUS)
        return 0;
    return atomic_load_explicit(&db_errors[-st], memory_order_relaxed);
}

const char *db_status_name(enum db_status st)
{
    switch (st) {
    case DB_OK:
        return "ok";
    case DB_NOT_FOUND:
        return "not_found";
    case DB_EXISTS:
        return "exists";
    case DB_INVALID:
        return "invalid";
    case DB_UNAVAILABLE:
        return "unavailable";
    case DB_TIMEOUT:
        return "timeout";
    case DB_ERROR:
        return "error";
    case DB_RETRY:
        return "retry";
    case DB_STATE:
        return "state";
    case DB_DISK_FULL:
        return "disk_full";
    }
    return "unknown";
}
