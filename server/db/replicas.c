/* The read replicas' health: one thread polls the primary's WAL position and
 * each standby's replay position, and keeps each standby in rotation while
 * it answers, is in recovery and is within the lag bound. Requests read the
 * result through relaxed atomics; nothing here is on a request's path but
 * those loads. */
#include "replicas.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/worker.h"
#include "common/xalloc.h"

struct replica {
    char *conninfo;
    PGconn *check; /* the health thread's own connection */
    atomic_int up;
    atomic_ullong replay; /* last polled replay position */
    atomic_llong lag;     /* bytes behind the primary; -1 unknown */
    atomic_ulong reads;
    atomic_ulong taken_out;
};

static struct replica replicas[DB_MAX_REPLICAS];
static int nreplicas;
static long long max_lag_bytes;
static int read_wait_ms;
static int check_interval_ms;
static char *primary_conninfo;
static PGconn *primary_check;
static atomic_ulong fallbacks;

static pthread_mutex_t health_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t health_cv = PTHREAD_COND_INITIALIZER;
static struct worker health = WORKER_INIT(&health_mu, &health_cv);

int db_replicas_configure(const struct db_replica_options *opts)
{
    if (opts->n > DB_MAX_REPLICAS) {
        log_error("at most %d --read-database-url replicas, got %d", DB_MAX_REPLICAS, opts->n);
        return -1;
    }
    for (int i = 0; i < opts->n; i++) {
        replicas[i].conninfo = xstrdup(opts->urls[i]);
        atomic_store(&replicas[i].up, 0);
        atomic_store(&replicas[i].lag, -1);
    }
    nreplicas = opts->n;
    max_lag_bytes = opts->max_lag_bytes;
    read_wait_ms = opts->read_wait_ms;
    check_interval_ms = opts->check_interval_ms > 0 ? opts->check_interval_ms : 500;
    free(primary_conninfo);
    primary_conninfo = opts->primary_conn ? xstrdup(opts->primary_conn) : NULL;
    return 0;
}

int db_replica_count(void)
{
    return nreplicas;
}

const char *db_replica_conninfo(int i)
{
    return replicas[i].conninfo;
}

int db_replica_read_wait_ms(void)
{
    return read_wait_ms;
}

int db_replica_up(int i)
{
    return atomic_load_explicit(&replicas[i].up, memory_order_relaxed);
}

int db_replica_usable(int i, uint64_t min_lsn)
{
    return db_replica_up(i) &&
           atomic_load_explicit(&replicas[i].replay, memory_order_relaxed) >= min_lsn;
}

/* Moves replica i in or out of rotation, logging the change. */
static void set_up(int i, int up, const char *why)
{
    int was = atomic_exchange(&replicas[i].up, up);
    if (was == up)
        return;
    if (up) {
        log_info("replica %d is back in rotation", i);
    } else {
        atomic_fetch_add(&replicas[i].taken_out, 1);
        log_warn("replica %d taken out of rotation: %s", i, why);
    }
}

void db_replica_mark_down(int i)
{
    /* Lag first: whoever sees the replica out of rotation also sees its lag
       as unknown, as the health thread records it. */
    atomic_store(&replicas[i].lag, -1);
    set_up(i, 0, "its connection broke during a read");
}

void db_replica_count_read(int i)
{
    if (i < 0)
        atomic_fetch_add_explicit(&fallbacks, 1, memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&replicas[i].reads, 1, memory_order_relaxed);
}

void db_replica_stats(int i, struct db_replica_stats *out)
{
    /* Ordered loads: lag is stored before up changes, so a replica seen out of
       rotation is never reported with a stale lag. */
    out->up = atomic_load(&replicas[i].up);
    out->lag_bytes = atomic_load(&replicas[i].lag);
    out->reads = atomic_load_explicit(&replicas[i].reads, memory_order_relaxed);
    out->taken_out = atomic_load_explicit(&replicas[i].taken_out, memory_order_relaxed);
}

unsigned long db_replica_fallbacks(void)
{
    return atomic_load_explicit(&fallbacks, memory_order_relaxed);
}

int db_lsn_parse(const char *s, uint64_t *out)
{
    uint64_t hi = 0, lo = 0;
    int nhi = 0, nlo = 0;
    const char *p = s;
    for (; *p && *p != '/'; p++, nhi++) {
        int d = *p >= '0' && *p <= '9'   ? *p - '0'
                : *p >= 'A' && *p <= 'F' ? *p - 'A' + 10
                : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10
                                         : -1;
        if (d < 0 || nhi >= 8)
            return -1;
        hi = hi * 16 + (uint64_t)d;
    }
    if (*p != '/' || nhi == 0)
        return -1;
    for (p++; *p; p++, nlo++) {
        int d = *p >= '0' && *p <= '9'   ? *p - '0'
                : *p >= 'A' && *p <= 'F' ? *p - 'A' + 10
                : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10
                                         : -1;
        if (d < 0 || nlo >= 8)
            return -1;
        lo = lo * 16 + (uint64_t)d;
    }
    if (nlo == 0)
        return -1;
    *out = hi << 32 | lo;
    return 0;
}

void db_lsn_format(uint64_t lsn, char *out)
{
    snprintf(out, DB_LSN_TEXT_MAX, "%" PRIX64 "/%" PRIX64, lsn >> 32, lsn & 0xffffffffu);
}

/* Opens a health connection (short connect timeout: a dead standby must
 * not hold the poll). NULL when it cannot. */
static PGconn *open_check(const char *conninfo)
{
    const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
    const char *vals[] = {conninfo, "2", "exptrackd-health", NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (c != NULL && PQstatus(c) != CONNECTION_OK) {
        PQfinish(c);
        c = NULL;
    }
    return c;
}

/* Runs one single-row query on *conn (opened if needed); the first column
 * of its row copied to out (size n), and the second (when wanted) to out2.
 * Returns 0, or -1 with *conn closed. */
static int poll_one(PGconn **conn, const char *conninfo, const char *sql, char *out, size_t n,
                    char *out2, size_t n2)
{
    if (*conn == NULL && (*conn = open_check(conninfo)) == NULL)
        return -1;
    PGresult *r = PQexec(*conn, sql);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    if (ok) {
        snprintf(out, n, "%s", PQgetvalue(r, 0, 0));
        if (out2 != NULL)
            snprintf(out2, n2, "%s", PQgetisnull(r, 0, 1) ? "" : PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    if (!ok) {
        PQfinish(*conn);
        *conn = NULL;
        return -1;
    }
    return 0;
}

/* One round: the primary's position, then each replica's. */
static void poll_replicas(uint64_t *primary_lsn)
{
    char text[64], replay_text[64];
    uint64_t lsn;
    if (primary_conninfo != NULL &&
        poll_one(&primary_check, primary_conninfo, "SELECT pg_current_wal_lsn()::text", text,
                 sizeof text, NULL, 0) == 0 &&
        db_lsn_parse(text, &lsn) == 0)
        *primary_lsn = lsn;
    for (int i = 0; i < nreplicas; i++) {
        struct replica *rp = &replicas[i];
        if (poll_one(&rp->check, rp->conninfo,
                     "SELECT pg_is_in_recovery()::text, pg_last_wal_replay_lsn()::text", text,
                     sizeof text, replay_text, sizeof replay_text) < 0) {
            atomic_store(&rp->lag, -1);
            set_up(i, 0, "it does not answer");
            continue;
        }
        if (strcmp(text, "true") != 0 || db_lsn_parse(replay_text, &lsn) < 0) {
            atomic_store(&rp->lag, -1);
            set_up(i, 0, "it is not a standby in recovery");
            continue;
        }
        atomic_store(&rp->replay, lsn);
        long long lag = *primary_lsn > lsn ? (long long)(*primary_lsn - lsn) : 0;
        atomic_store(&rp->lag, lag);
        if (lag > max_lag_bytes) {
            char why[96];
            snprintf(why, sizeof why, "%lld bytes of WAL behind (bound %lld)", lag, max_lag_bytes);
            set_up(i, 0, why);
        } else {
            set_up(i, 1, NULL);
        }
    }
}

static void *health_main(void *arg)
{
    uint64_t primary_lsn = 0;
    (void)arg;
    pthread_mutex_lock(&health_mu);
    while (!worker_stopping(&health)) {
        pthread_mutex_unlock(&health_mu);
        poll_replicas(&primary_lsn);
        pthread_mutex_lock(&health_mu);
        struct timespec deadline;
        worker_deadline(&deadline, check_interval_ms);
        while (!worker_wait(&health, &deadline)) {
            struct timespec now;
            clock_gettime(CLOCK_REALTIME, &now);
            if (now.tv_sec > deadline.tv_sec ||
                (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec))
                break;
        }
    }
    pthread_mutex_unlock(&health_mu);
    PQfinish(primary_check);
    primary_check = NULL;
    for (int i = 0; i < nreplicas; i++) {
        PQfinish(replicas[i].check);
        replicas[i].check = NULL;
    }
    return NULL;
}

int db_replicas_start(void)
{
    if (nreplicas == 0)
        return 0;
    pthread_mutex_lock(&health_mu);
    int rc = worker_start(&health, health_main, NULL);
    pthread_mutex_unlock(&health_mu);
    if (rc != 0) {
        log_error("cannot start the replica health thread");
        return -1;
    }
    log_info("reading from %d replica%s, checked every %d ms", nreplicas, nreplicas == 1 ? "" : "s",
             check_interval_ms);
    return 0;
}

void db_replicas_stop(void)
{
    (void)worker_stop(&health);
    for (int i = 0; i < nreplicas; i++) {
        free(replicas[i].conninfo);
        replicas[i].conninfo = NULL;
    }
    nreplicas = 0;
    free(primary_conninfo);
    primary_conninfo = NULL;
}
