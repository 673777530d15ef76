/* Metric history reads: one whole series page by page for get-history's
 * streamed reply (store_history.h). A live series' pages are narrow rows
 * read through the metrics primary key (run_id, key_id, step, timestamp,
 * value), index-only (schema/0007_history_perf.sql explains why no other
 * index is needed); a packed series' pages are its chunk rows
 * (schema/0027) in binary, unpacked here (storage/chunk_codec.h) and merged
 * with the narrow rows logged since its compaction. The sampled reads of
 * several series are store_downsample.c's. The experiments' key lists too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "core/log.h"
#include "common/sbuf.h"
#include "store_history.h"
#include "store_search.h"
#include "db/store_util.h"
#include "common/xalloc.h"
#include "storage/chunk_codec.h"

/* Points per page of a whole-series read: big enough that statement
 * overhead is small next to the rows, small enough that a page (two are
 * held) stays a few MiB. A read starts with a small page and grows it four
 * times a page up to that size: the reply's first bytes go out once a small
 * page is in, and from then on every page is read while the one before it
 * is encoded (a 25,000-point page of the MLflow client waited for 16,384
 * points before its first byte, four times per 100,000). */
#define HISTORY_PAGE 16384
#define HISTORY_FIRST_PAGE 1024

/* A full chunk of the last chunk page read: its number and last point. */
struct seen_chunk {
    int32_t chunk;
    struct metric last;
};

struct history_cursor {
    char run[8], key[4];    /* the run's and the key's ids, binary parameters */
    struct metric *page[2]; /* page[cur] is handed out; the other is being filled */
    size_t n[2];
    size_t cap[2];  /* points page[slot] has room for */
    size_t want[2]; /* the LIMIT each page was read with: fewer rows means the end */
    int packed[2];  /* the page was read from chunks (then more[] says whether it ends) */
    int more[2];
    int cur;
    int64_t size;       /* the LIMIT of the next page, before the cursor's own limit */
    int64_t left;       /* points still to read (-1: no limit) */
    int64_t offset;     /* points to skip before the first page (old offset tokens) */
    int in_flight;      /* a page statement was sent and not yet collected */
    int ended;          /* the last page handed out was short: nothing follows */
    int error;          /* DB_OK, or the status of the read that failed */
    int chunked;        /* the series has chunks (schema 0027): pages of chunk rows */
    struct metric last; /* the last point handed out, or the start's keyset */
    int has_last;
    /* a page of chunk rows in flight: its keyset, how many chunk rows and
     * narrow rows it asked for, the points it may still hand out, and the
     * points still to skip (an offset token on a packed series) */
    struct metric from;
    int has_from;
    int64_t chunk_rows, narrow_rows, skip;
    struct metric *scratch; /* the page's unpacked chunks, then its narrow rows */
    size_t scratch_cap;
    /* the full chunks (CHUNK_POINTS) of the last chunk page: the next page
     * asks only for chunks after those whose last point lies at or before
     * its keyset (without this, every page read again the chunk the page
     * before had ended with, and unpacked it to skip all of it) */
    struct seen_chunk *seen;
    size_t nseen, seen_cap;
};

/* The series' run and key ids, looked up once per read (one small round
 * trip): the pages then name the run's partition of metrics by value, so
 * a prepared page statement is planned once per connection and pruned to
 * one partition as it starts. A page that found the run and key by
 * subquery could do neither: every page planned, and started, the
 * primary-key scans of all sixteen partitions (about half of
 * PostgreSQL's time on a page). Columns: run id, key id (binary). */
static const char series_ids_sql[] =
    "SELECT r.id, k.id, EXISTS (SELECT 1 FROM metric_chunks c"
    "   WHERE c.run_id = r.id AND c.key_id = k.id)"
    " FROM runs r, metric_keys k WHERE r.run_uuid = $1::uuid AND k.name = $2::text";

/* Whether a series has chunks now: asked when a read of narrow rows comes
 * to its end, in case a compaction moved the rest of it meanwhile. */
static const char has_chunks_sql[] = "SELECT EXISTS (SELECT 1 FROM metric_chunks WHERE run_id = "
                                     "$1::bigint AND key_id = $2::integer)";

/* Series pages: binary ids, limit and keyset, binary rows. The row
 * comparison is an index condition on the primary key, so each page starts
 * where the last one stopped; a point logged meanwhile before that place
 * is not read, one after it is, and nothing read moves. The OFFSET form
 * only serves the first page after an old offset token (not prepared). */
static const char first_page_sql[] = "SELECT step, timestamp, value FROM metrics"
                                     " WHERE run_id = $1::bigint AND key_id = $2::integer"
                                     " ORDER BY step, timestamp, value LIMIT $3::bigint";
static const char offset_page_sql[] =
    "SELECT step, timestamp, value FROM metrics"
    " WHERE run_id = $1::bigint AND key_id = $2::integer"
    " ORDER BY step, timestamp, value OFFSET $4::bigint LIMIT $3::bigint";
static const char next_page_sql[] =
    "SELECT step, timestamp, value FROM metrics"
    " WHERE run_id = $1::bigint AND key_id = $2::integer"
    "   AND (step, timestamp, value) > ($4::bigint, $5::bigint, $6::float8)"
    " ORDER BY step, timestamp, value LIMIT $3::bigint";

/* The pages of a series with chunks, one statement each (one snapshot:
 * a compaction committing meanwhile moves narrow rows into chunks
 * together, so no point is missed or read twice): up to $4 of its chunk
 * rows in chunk order (the first that can hold a point after the keyset,
 * the step $5, and those after it), then one row holding up to $3 of its
 * narrow rows after the keyset as arrays (chunk -1; n 0 and NULL arrays
 * when there are none), all in binary. The chunks are unpacked and merged
 * with the narrow rows in C (receive_chunks). */
#define CHUNK_ROWS                                                                                 \
    "(SELECT c.chunk, c.first_step, c.last_step, c.n::bigint, c.t0, c.soff, c.sraw, c.toff,"       \
    "   c.traw, c.vals FROM metric_chunks c WHERE c.run_id = $1::bigint AND c.key_id = "           \
    "$2::integer"
#define NARROW_ROWS                                                                                \
    " ORDER BY c.chunk LIMIT $4::bigint)"                                                          \
    " UNION ALL"                                                                                   \
    " SELECT -1, 0::bigint, 0::bigint, count(*), 0::bigint, NULL::integer[],"                      \
    "   array_agg(m.step ORDER BY m.step, m.timestamp, m.value), NULL::integer[],"                 \
    "   array_agg(m.timestamp ORDER BY m.step, m.timestamp, m.value),"                             \
    "   array_agg(m.value ORDER BY m.step, m.timestamp, m.value)"                                  \
    " FROM (SELECT step, timestamp, value FROM metrics"                                            \
    "   WHERE run_id = $1::bigint AND key_id = $2::integer"
#define NARROW_END " ORDER BY step, timestamp, value LIMIT $3::bigint) m"
static const char first_chunks_sql[] = CHUNK_ROWS NARROW_ROWS NARROW_END;
static const char next_chunks_sql[] =
    CHUNK_ROWS " AND c.last_step >= $5::bigint AND c.chunk > $8::integer" NARROW_ROWS
               "   AND (step, timestamp, value) > ($5::bigint, $6::bigint, $7::float8)" NARROW_END;

/* Settings of a page, local to its own (implicit) transaction. Without
 * statistics (a table loaded and read before autovacuum has analyzed it)
 * the planner guesses a series has a handful of rows and would read all
 * that is left of it into a sort for every page: with sorts off the
 * ordered primary-key scan is its only choice. The generic plan is taken
 * from the first execution on: it prunes the partitions as it starts, and
 * PostgreSQL would otherwise plan every page anew (it costs a generic plan
 * of sixteen partitions above the custom plan of one). Sent with every
 * page, as PostgreSQL plans a prepared statement again whenever it drops
 * the plan (after an ANALYZE of metrics). Sequential scans are off for the
 * same reason as the downsample's (store_downsample.c): a generic plan made
 * while metric_chunks or a partition of metrics was empty would scan it
 * whole on every page once it has grown. */
static const char page_setup_sql[] = "SELECT set_config('enable_sort', 'off', true),"
                                     " set_config('enable_seqscan', 'off', true),"
                                     " set_config('plan_cache_mode', 'force_generic_plan', true)";

static uint64_t get_be64(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint64_t)u[0] << 56 | (uint64_t)u[1] << 48 | (uint64_t)u[2] << 40 |
           (uint64_t)u[3] << 32 | (uint64_t)u[4] << 24 | (uint64_t)u[5] << 16 |
           (uint64_t)u[6] << 8 | (uint64_t)u[7];
}

/* The highest chunk number of the last chunk page whose points all lie at
 * or before c->from: none after the keyset is in it or below it
 * (CHUNK_POINTS says why only full chunks count). -1 when there is none. */
static int32_t chunks_read_through(const struct history_cursor *c)
{
    int32_t through = -1;
    for (size_t i = 0; i < c->nseen; i++) {
        if (c->seen[i].chunk > through && chunk_point_cmp(&c->seen[i].last, &c->from) <= 0)
            through = c->seen[i].chunk;
    }
    return through;
}

/* Sends the chunk-row statement for the page after c->from (when
 * has_from, else from the first point), asking for c->chunk_rows chunks
 * (after those the last page read to their end) and c->narrow_rows narrow
 * rows. */
static int send_chunks(struct history_cursor *c)
{
    static const struct db_read_stmt setup = {
        "history_page_setup", page_setup_sql, 0, NULL, NULL, NULL};
    char nlim[8], clim[8], step[8], ts[8], val[8], through[4];
    uint64_t bits;
    su_put_be64(nlim, (uint64_t)c->narrow_rows);
    su_put_be64(clim, (uint64_t)c->chunk_rows);
    su_put_be64(step, (uint64_t)c->from.step);
    su_put_be64(ts, (uint64_t)c->from.timestamp);
    memcpy(&bits, &c->from.value, sizeof bits);
    su_put_be64(val, bits);
    su_put_be32(through, (uint32_t)(c->has_from ? chunks_read_through(c) : -1));
    const char *values[] = {c->run, c->key, nlim, clim, step, ts, val, through};
    const int lengths[] = {8, 4, 8, 8, 8, 8, 8, 4};
    const int formats[] = {1, 1, 1, 1, 1, 1, 1, 1};
    const struct db_read_stmt page =
        c->has_from ? (struct db_read_stmt){"history_next_chunks",
                                            next_chunks_sql,
                                            8,
                                            values,
                                            lengths,
                                            formats}
                    : (struct db_read_stmt){
                          "history_first_chunks", first_chunks_sql, 4, values, lengths, formats};
    int rc = db_read_send(&setup, &page, 1);
    if (rc == DB_OK)
        c->in_flight = 1;
    return rc;
}

/* Sends the statement for the page after `after` (NULL: the first, after
 * the cursor's offset if it has one), at most c->size points and no more
 * than are left of the cursor's limit; the setting and the statement go in
 * one round trip (db_read_send). A packed series' page asks for as many
 * chunk rows as hold that many points and hands out every point they hold
 * (up to the limit): its page is not cut at c->size. */
static int send_page(struct history_cursor *c, const struct metric *after)
{
    static const struct db_read_stmt setup = {
        "history_page_setup", page_setup_sql, 0, NULL, NULL, NULL};
    char lim[8], step[8], ts[8], val[8], off[8];
    uint64_t bits;
    int64_t want = c->left >= 0 && c->left < c->size ? c->left : c->size;
    int slot = 1 - c->cur;
    if (c->chunked) {
        c->packed[slot] = 1;
        c->has_from = after != NULL;
        if (after != NULL)
            c->from = *after;
        c->narrow_rows = want;
        c->chunk_rows = (want + CHUNK_POINTS - 1) / CHUNK_POINTS;
        int rc = send_chunks(c);
        /* a chunk page hands out whole chunks: the next grows from what
         * this one holds, not from the smaller size it was asked for */
        int64_t grown = c->chunk_rows * CHUNK_POINTS * 4;
        if (rc == DB_OK)
            c->size = grown < HISTORY_PAGE ? grown : HISTORY_PAGE;
        return rc;
    }
    c->packed[slot] = 0;
    su_put_be64(lim, (uint64_t)want);
    const char *values[] = {c->run, c->key, lim, step, ts, val};
    const int lengths[] = {8, 4, 8, 8, 8, 8};
    const int formats[] = {1, 1, 1, 1, 1, 1};
    struct db_read_stmt page = {"history_first_page", first_page_sql, 3, values, lengths, formats};
    if (after != NULL) {
        su_put_be64(step, (uint64_t)after->step);
        su_put_be64(ts, (uint64_t)after->timestamp);
        memcpy(&bits, &after->value, sizeof bits);
        su_put_be64(val, bits);
        page =
            (struct db_read_stmt){"history_next_page", next_page_sql, 6, values, lengths, formats};
    } else if (c->offset > 0) {
        su_put_be64(off, (uint64_t)c->offset);
        values[3] = off;
        page = (struct db_read_stmt){NULL, offset_page_sql, 4, values, lengths, formats};
    }
    int rc = db_read_send(&setup, &page, 1);
    if (rc != DB_OK)
        return rc;
    c->in_flight = 1;
    c->want[slot] = (size_t)want;
    if (c->left >= 0)
        c->left -= want;
    c->size = c->size * 4 < HISTORY_PAGE ? c->size * 4 : HISTORY_PAGE;
    return DB_OK;
}

/* Room for n points in *buf (capacity *cap). */
static void reserve(struct metric **buf, size_t *cap, size_t n)
{
    if (n <= *cap)
        return;
    *buf = xrealloc(*buf, n * sizeof **buf);
    *cap = n;
}

static int64_t be_int64(const PGresult *res, int row, int col)
{
    return (int64_t)get_be64(PQgetvalue(res, row, col));
}

/* Reads one row of a chunk page (columns as CHUNK_ROWS) into *r; -1 when
 * a scalar column is not the width of its type. */
static int chunk_row_of(const PGresult *res, int row, struct chunk_row *r)
{
    for (int col = 1; col <= 4; col++)
        if (PQgetisnull(res, row, col) || PQgetlength(res, row, col) != 8)
            return -1;
    r->first_step = be_int64(res, row, 1);
    r->last_step = be_int64(res, row, 2);
    r->n = be_int64(res, row, 3);
    r->t0 = be_int64(res, row, 4);
    const char **arrays[] = {&r->soff, &r->sraw, &r->toff, &r->traw, &r->vals};
    size_t *lens[] = {&r->soff_len, &r->sraw_len, &r->toff_len, &r->traw_len, &r->vals_len};
    for (int i = 0; i < 5; i++) {
        int isnull = PQgetisnull(res, row, 5 + i);
        *arrays[i] = isnull ? NULL : PQgetvalue(res, row, 5 + i);
        *lens[i] = isnull ? 0 : (size_t)PQgetlength(res, row, 5 + i);
    }
    return 0;
}

static int32_t be_int32(const PGresult *res, int row, int col)
{
    const unsigned char *u = (const unsigned char *)PQgetvalue(res, row, col);
    return (int32_t)((uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3]);
}

/* Unpacks row `row` of a chunk page at c->scratch + at (room made); *n
 * gets its points. -1 on a row that does not unpack (chunk_unpack). */
static int unpack_row(struct history_cursor *c, const PGresult *res, int row, size_t at, size_t *n)
{
    struct chunk_row r;

    *n = 0;
    if (chunk_row_of(res, row, &r) < 0 || r.n < 0 || r.n > (1 << 24))
        return -1;
    if (r.n == 0) /* the narrow rows' row when there are none; a chunk is never empty */
        return be_int32(res, row, 0) < 0 ? 0 : -1;
    /* the values' bytes must be n elements' before n sizes anything: a
     * damaged n cannot make the cursor allocate more than the row holds */
    if (r.vals == NULL || r.vals_len != 20 + (size_t)r.n * 12)
        return -1;
    reserve(&c->scratch, &c->scratch_cap, at + (size_t)r.n);
    if (chunk_unpack(&r, c->scratch + at, (size_t)r.n) != r.n)
        return -1;
    *n = (size_t)r.n;
    return 0;
}

/* Unpacks a chunk page's rows into c->scratch: the chunks' points in
 * chunk order (*nc of them), then the narrow rows' (*nn). *rows gets the
 * number of chunk rows. -1 on a row that does not unpack. */
static int unpack_rows(struct history_cursor *c, const PGresult *res, size_t *nc, size_t *nn,
                       int64_t *rows)
{
    int nrows = PQntuples(res), narrow = -1, k = 0, rc = 0;
    int *order = xmalloc((size_t)(nrows + 1) * sizeof *order);

    *nc = *nn = 0;
    *rows = 0;
    c->nseen = 0;
    /* chunk rows by chunk number: UNION ALL keeps its branches' order in
     * practice, and sorting the few rows makes it not matter */
    for (int i = 0; i < nrows && rc == 0; i++) {
        if (PQgetisnull(res, i, 0) || PQgetlength(res, i, 0) != 4) {
            rc = -1;
            break;
        }
        int32_t chunk = be_int32(res, i, 0);
        if (chunk < 0) {
            rc = narrow < 0 ? 0 : -1;
            narrow = i;
            continue;
        }
        int j = k++;
        for (; j > 0 && be_int32(res, order[j - 1], 0) > chunk; j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
    for (int i = 0; i < k && rc == 0; i++) {
        size_t n;
        rc = unpack_row(c, res, order[i], *nc, &n);
        *nc += n;
        if (rc == 0 && n == CHUNK_POINTS) {
            if (c->nseen == c->seen_cap) {
                c->seen_cap = c->seen_cap ? c->seen_cap * 2 : 8;
                c->seen = xrealloc(c->seen, c->seen_cap * sizeof *c->seen);
            }
            c->seen[c->nseen].chunk = be_int32(res, order[i], 0);
            c->seen[c->nseen].last = c->scratch[*nc - 1];
            c->nseen++;
        }
    }
    if (rc == 0 && narrow >= 0)
        rc = unpack_row(c, res, narrow, *nc, nn);
    free(order);
    *rows = k;
    return rc;
}

/* Merges a chunk page's points (c->scratch: nc chunk points, then nn
 * narrow ones, each ascending) into page[slot]: those after the page's
 * keyset, a point in both kept once (as the primary key of metrics would),
 * up to the first point that a source not read to its end may still have
 * something before (its last point read), and no more than the cursor's
 * limit; the first c->skip of them skipped. *ended when both sources were
 * read to their end and every point handed on. *consumed and *lastp: the
 * points taken (skipped ones included) and the last of them. */
static size_t merge_page(struct history_cursor *c, int slot, size_t nc, size_t nn, int chunks_end,
                         int narrow_end, int *ended, size_t *consumed, struct metric *lastp)
{
    const struct metric *a = c->scratch, *b = c->scratch + nc;
    const struct metric *bound = NULL;
    size_t i = 0, j = 0, out = 0;
    int64_t cap = c->left >= 0 ? c->left : INT64_MAX;

    if (!chunks_end && nc > 0)
        bound = &a[nc - 1];
    if (!narrow_end && nn > 0 && (bound == NULL || chunk_point_cmp(&b[nn - 1], bound) < 0))
        bound = &b[nn - 1];
    if (c->has_from) {
        while (i < nc && chunk_point_cmp(&a[i], &c->from) <= 0)
            i++;
        while (j < nn && chunk_point_cmp(&b[j], &c->from) <= 0)
            j++;
    }
    reserve(&c->page[slot], &c->cap[slot], nc + nn);
    *consumed = 0;
    while ((i < nc || j < nn) && (int64_t)out < cap) {
        const struct metric *p;
        if (j == nn || (i < nc && chunk_point_cmp(&a[i], &b[j]) <= 0)) {
            p = &a[i];
            if (j < nn && chunk_point_cmp(&a[i], &b[j]) == 0)
                j++; /* the narrow copy of a packed point */
            i++;
        } else {
            p = &b[j++];
        }
        if (bound != NULL && chunk_point_cmp(p, bound) > 0)
            break; /* the point is not consumed: it was read, but is left for the next page */
        *lastp = *p;
        ++*consumed;
        if (c->skip > 0)
            c->skip--;
        else
            c->page[slot][out++] = *p;
    }
    *ended = chunks_end && narrow_end && i == nc && j == nn;
    return out;
}
/* Collects the page in flight into page[1 - cur]. */
static int receive_chunks(struct history_cursor *c, int slot);

static int receive_page(struct history_cursor *c)
{
    PGresult *res = NULL;
    int slot = 1 - c->cur;

    if (c->packed[slot])
        return receive_chunks(c, slot);
    c->in_flight = 0;
    c->n[slot] = 0;
    int rc = db_read_collect("metric history page", &res);
    if (rc != DB_OK)
        return rc;
    int rows = PQntuples(res);
    struct metric *out = c->page[slot];
    for (int i = 0; i < rows; i++) {
        uint64_t bits = get_be64(PQgetvalue(res, i, 2));
        out[i].key = NULL;
        out[i].step = (int64_t)get_be64(PQgetvalue(res, i, 0));
        out[i].timestamp = (int64_t)get_be64(PQgetvalue(res, i, 1));
        memcpy(&out[i].value, &bits, sizeof bits);
    }
    c->n[slot] = (size_t)rows;
    PQclear(res);
    return DB_OK;
}

/* Collects a page of chunk rows into page[slot]. When nothing of it can
 * be handed out yet (every point it read lies before the keyset or is
 * skipped: many points at one step, an offset token), asks again from
 * further on, or for twice the chunk rows, until something can or the
 * series ends: each turn moves the keyset or reads more. A row that does
 * not unpack fails the read (DB_ERROR, logged), never the process. */
static int receive_chunks(struct history_cursor *c, int slot)
{
    c->n[slot] = 0;
    c->more[slot] = 0;
    for (;;) {
        PGresult *res = NULL;
        size_t nc, nn, consumed = 0, out;
        int64_t rows;
        int ended;
        struct metric lastp;

        c->in_flight = 0;
        int rc = db_read_collect("metric history chunks", &res);
        if (rc != DB_OK)
            return rc;
        rc = unpack_rows(c, res, &nc, &nn, &rows);
        PQclear(res);
        if (rc < 0) {
            const unsigned char *k = (const unsigned char *)c->key;
            log_error("history: a chunk of run %lld, key %lu does not unpack",
                      (long long)get_be64(c->run),
                      (unsigned long)k[0] << 24 | (unsigned long)k[1] << 16 |
                          (unsigned long)k[2] << 8 | k[3]);
            return DB_ERROR;
        }
        out = merge_page(c, slot, nc, nn, rows < c->chunk_rows, (int64_t)nn < c->narrow_rows,
                         &ended, &consumed, &lastp);
        c->n[slot] = out;
        c->more[slot] = !ended;
        if (c->left >= 0)
            c->left -= (int64_t)out;
        if (out > 0 || ended || c->left == 0)
            return DB_OK;
        if (consumed > 0) {
            c->from = lastp;
            c->has_from = 1;
        } else {
            c->chunk_rows *= 2;
        }
        rc = send_chunks(c);
        if (rc != DB_OK)
            return rc;
    }
}

/* Finds the run's and the key's ids for c. DB_NOT_FOUND when either is
 * unknown. */
static int find_series(struct history_cursor *c, const char *run_id, const char *key)
{
    const char *params[] = {run_id, key};
    PGresult *res = NULL;
    int rc = db_exec_prepared_binary("history_series_ids", series_ids_sql, 2, params, &res);
    if (rc != DB_OK)
        return rc;
    if (PQntuples(res) != 1 || PQgetlength(res, 0, 0) != 8 || PQgetlength(res, 0, 1) != 4 ||
        PQgetlength(res, 0, 2) != 1) {
        PQclear(res);
        return DB_NOT_FOUND;
    }
    memcpy(c->run, PQgetvalue(res, 0, 0), 8);
    memcpy(c->key, PQgetvalue(res, 0, 1), 4);
    c->chunked = PQgetvalue(res, 0, 2)[0] != 0;
    PQclear(res);
    return DB_OK;
}

int store_history_open(const char *run_id, const char *key, const struct history_start *from,
                       int64_t limit, struct history_cursor **out)
{
    *out = NULL;
    if (strlen(run_id) != 32)
        return DB_NOT_FOUND;
    struct history_cursor *c = xcalloc(1, sizeof *c);
    c->left = limit > 0 ? limit : -1;
    c->size = HISTORY_FIRST_PAGE;
    c->page[0] = xmalloc(HISTORY_PAGE * sizeof *c->page[0]);
    c->page[1] = xmalloc(HISTORY_PAGE * sizeof *c->page[1]);
    c->cap[0] = c->cap[1] = HISTORY_PAGE;
    c->cur = 1; /* the first page lands in page[0] */
    struct metric after = {0};
    if (from != NULL && from->has_after) {
        after.step = from->step;
        after.timestamp = from->timestamp;
        after.value = from->value;
        c->last = after;
        c->has_last = 1;
    } else if (from != NULL) {
        c->offset = from->offset;
    }
    int rc = find_series(c, run_id, key);
    if (rc == DB_NOT_FOUND) { /* an empty first page: the series has no points */
        c->want[0] = 1;
        *out = c;
        return DB_OK;
    }
    if (rc == DB_OK && c->chunked && !c->has_last)
        c->skip = c->offset; /* an offset token: its points are skipped as they are merged */
    if (rc == DB_OK)
        rc = send_page(c, from != NULL && from->has_after ? &after : NULL);
    if (rc == DB_OK)
        rc = receive_page(c);
    if (rc != DB_OK) {
        store_history_close(c);
        return rc;
    }
    *out = c;
    return DB_OK;
}

/* At the short page that ends a read of narrow rows: whether the series
 * has chunks now (a compaction committed during the read moved the rest of
 * it). Then the cursor reads on through metric_points from its keyset; a
 * failed check ends the read as it would have. */
static int compacted_meanwhile(struct history_cursor *c)
{
    const char *values[] = {c->run, c->key};
    const int lengths[] = {8, 4};
    const int formats[] = {1, 1};
    const struct db_read_stmt check = {
        "history_has_chunks", has_chunks_sql, 2, values, lengths, formats};
    PGresult *res = NULL;

    if (db_read_send(NULL, &check, 1) != DB_OK || db_read_collect("history chunks", &res) != DB_OK)
        return 0;
    int yes = PQntuples(res) == 1 && PQgetlength(res, 0, 0) == 1 && PQgetvalue(res, 0, 0)[0] != 0;
    PQclear(res);
    if (yes)
        c->chunked = 1;
    return yes;
}

void store_history_next(struct history_cursor *c, const struct metric **points, size_t *n)
{
    c->cur = 1 - c->cur;
    *points = c->page[c->cur];
    *n = c->ended ? 0 : c->n[c->cur];
    if (c->ended)
        return;
    if (*n > 0) {
        c->last = c->page[c->cur][*n - 1];
        c->has_last = 1;
    }
    if (c->left == 0) {
        c->ended = 1; /* the limit's page is the last one */
        return;
    }
    if (c->packed[c->cur]) {
        if (!c->more[c->cur]) {
            c->ended = 1;
            return;
        }
    } else if (*n < c->want[c->cur]) {
        if (c->chunked || !compacted_meanwhile(c)) {
            c->ended = 1; /* a short page is the last one */
            return;
        }
        if (!c->has_last)
            c->skip = c->offset; /* read from the start: an offset token's points skipped */
        if (c->left >= 0)
            c->left += (int64_t)(c->want[c->cur] - *n); /* the short page's unread share */
    }
    int rc = send_page(c, c->has_last ? &c->last : NULL);
    if (rc != DB_OK) {
        c->error = rc;
        c->ended = 1;
    }
}

int store_history_settle(struct history_cursor *c)
{
    if (c->in_flight) {
        int rc = receive_page(c);
        if (rc != DB_OK) {
            c->error = rc;
            c->ended = 1;
        }
    }
    return c->error;
}

void store_history_close(struct history_cursor *c)
{
    if (c == NULL)
        return;
    if (c->in_flight)
        receive_page(c);
    free(c->page[0]);
    free(c->page[1]);
    free(c->scratch);
    free(c->seen);
    free(c);
}

/* Reads one kind's keys ("m", "p", "t") of the experiments, sorted. */
static int keys_of(const char *ids, const char *kind, struct arena *arena, const char ***out,
                   size_t *n)
{
    const char *params[] = {ids, kind};
    PGresult *res = NULL;
    int rc =
        db_exec("SELECT DISTINCT key FROM experiment_keys"
                " WHERE experiment_id = ANY($1::bigint[]) AND kind = $2::\"char\" ORDER BY key",
                2, params, &res);
    if (rc != DB_OK)
        return rc;
    *n = (size_t)PQntuples(res);
    *out = arena_alloc(arena, (*n + 1) * sizeof **out);
    for (int r = 0; r < PQntuples(res); r++)
        (*out)[r] = su_str(res, r, 0, arena);
    PQclear(res);
    return DB_OK;
}

int store_experiment_keys(const int64_t *experiment_ids, size_t nexp, struct arena *arena,
                          const char ***metrics, size_t *nmetrics, const char ***params,
                          size_t *nparams, const char ***tags, size_t *ntags)
{
    struct sbuf ids;
    sbuf_init(&ids);
    sbuf_addc(&ids, '{');
    for (size_t i = 0; i < nexp; i++)
        su_array_int64(&ids, experiment_ids[i], i == 0);
    sbuf_addc(&ids, '}');
    int rc = keys_of(ids.data, "m", arena, metrics, nmetrics);
    if (rc == DB_OK)
        rc = keys_of(ids.data, "p", arena, params, nparams);
    if (rc == DB_OK)
        rc = keys_of(ids.data, "t", arena, tags, ntags);
    sbuf_cleanup(&ids);
    return rc;
}
