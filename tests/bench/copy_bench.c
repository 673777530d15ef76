/* The physical limit of metric ingest: N sessions, each COPYing rows of the
 * same shape as loadgen's into metrics with COPY ... FROM STDIN (FORMAT
 * binary), a fixed number of rows per transaction. tests/bench/run.sh divides
 * exptrackd's rate by this one. Not a correctness test. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

struct options {
    const char *conninfo;
    int threads;
    long rows;      /* rows per session */
    long chunk;     /* rows per transaction */
    int keys;       /* distinct key ids, as loadgen's keys per request */
    long long run0; /* run id of session 0; session s uses run0 + s */
};

struct session {
    pthread_t thread;
    int index;
    const struct options *opt;
    int failed;
};

struct buf {
    char *data;
    size_t len, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 65536;
        while (cap < b->len + n)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (d == NULL) {
            fprintf(stderr, "copy_bench: out of memory\n");
            exit(1);
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void put_be(struct buf *b, uint64_t v, int bytes)
{
    unsigned char out[8];
    for (int i = 0; i < bytes; i++)
        out[i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
    put(b, out, (size_t)bytes);
}

static void put_i64(struct buf *b, uint64_t v)
{
    put_be(b, 8, 4);
    put_be(b, v, 8);
}

/* One chunk of rows [first, first + n) of a session, as a COPY BINARY stream. */
static void build_chunk(struct buf *b, long long run, int keys, long first, long n)
{
    static const char signature[] = "PGCOPY\n\377\r\n";
    b->len = 0;
    put(b, signature, sizeof signature);
    put_be(b, 0, 4);
    put_be(b, 0, 4);
    for (long i = first; i < first + n; i++) {
        long long step = i / keys;
        int key = (int)(i % keys) + 1;
        double value = 1.0 / (1.0 + (double)(step % 100)) + 0.001 * key + 1e-7 * (double)i;
        uint64_t bits;
        memcpy(&bits, &value, sizeof bits);
        put_be(b, 5, 2);
        put_i64(b, (uint64_t)run);
        put_be(b, 4, 4);
        put_be(b, (uint32_t)key, 4);
        put_i64(b, (uint64_t)step);
        put_i64(b, (uint64_t)(1700000000000LL + step));
        put_i64(b, bits);
    }
    put_be(b, 0xffff, 2);
}

static int run_sql(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_COPY_IN;
    if (!ok)
        fprintf(stderr, "copy_bench: %s: %s", sql, PQerrorMessage(conn));
    PQclear(res);
    return ok ? 0 : -1;
}

static int copy_chunk(PGconn *conn, const struct buf *b)
{
    int rc = 0;
    if (run_sql(conn, "COPY metrics (run_id, key_id, step, timestamp, value) FROM STDIN"
                      " (FORMAT binary)") < 0)
        return -1;
    if (PQputCopyData(conn, b->data, (int)b->len) != 1 || PQputCopyEnd(conn, NULL) != 1)
        rc = -1;
    PGresult *res;
    while ((res = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            fprintf(stderr, "copy_bench: COPY: %s", PQerrorMessage(conn));
            rc = -1;
        }
        PQclear(res);
    }
    return rc;
}

static void *session_main(void *arg)
{
    struct session *s = arg;
    const struct options *o = s->opt;
    struct buf b = {0};
    PGconn *conn = PQconnectdb(o->conninfo);

    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "copy_bench: connect: %s", PQerrorMessage(conn));
        s->failed = 1;
        goto out;
    }
    /* autocommit: each COPY is its own transaction, one commit per chunk */
    for (long first = 0; first < o->rows; first += o->chunk) {
        long n = o->rows - first < o->chunk ? o->rows - first : o->chunk;
        build_chunk(&b, o->run0 + s->index, o->keys, first, n);
        if (copy_chunk(conn, &b) < 0) {
            s->failed = 1;
            break;
        }
    }
out:
    free(b.data);
    PQfinish(conn);
    return NULL;
}

static long parse_long(const char *s, const char *what)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v <= 0) {
        fprintf(stderr, "copy_bench: bad %s '%s'\n", what, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    struct options o = {NULL, 8, 100000, 1000, 10, 2200000000LL};
    static const struct option longopts[] = {{"conninfo", required_argument, NULL, 'c'},
                                             {"threads", required_argument, NULL, 't'},
                                             {"rows", required_argument, NULL, 'n'},
                                             {"chunk", required_argument, NULL, 'C'},
                                             {"keys", required_argument, NULL, 'k'},
                                             {"run", required_argument, NULL, 'r'},
                                             {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "c:t:n:C:k:r:", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o.conninfo = optarg;
            break;
        case 't':
            o.threads = (int)parse_long(optarg, "--threads");
            break;
        case 'n':
            o.rows = parse_long(optarg, "--rows");
            break;
        case 'C':
            o.chunk = parse_long(optarg, "--chunk");
            break;
        case 'k':
            o.keys = (int)parse_long(optarg, "--keys");
            break;
        case 'r':
            o.run0 = parse_long(optarg, "--run");
            break;
        default:
            fprintf(stderr, "usage: copy_bench --conninfo C [--threads N] [--rows N per session]"
                            " [--chunk ROWS/TX] [--keys K] [--run FIRST_RUN_ID]\n");
            return 2;
        }
    }
    if (o.conninfo == NULL) {
        fprintf(stderr, "copy_bench: --conninfo is required\n");
        return 2;
    }
    struct session *s = calloc((size_t)o.threads, sizeof *s);
    struct timespec t0, t1;
    int failed = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < o.threads; i++) {
        s[i] = (struct session){.index = i, .opt = &o};
        if (pthread_create(&s[i].thread, NULL, session_main, &s[i]) != 0) {
            fprintf(stderr, "copy_bench: cannot start a thread\n");
            return 1;
        }
    }
    for (int i = 0; i < o.threads; i++) {
        pthread_join(s[i].thread, NULL);
        failed |= s[i].failed;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    free(s);
    if (failed)
        return 1;
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    double rows = (double)o.rows * o.threads;
    printf("RESULT rows=%.0f seconds=%.3f rows_per_s=%.0f\n", rows, secs, rows / secs);
    return 0;
}
