/* Metric history reads: one whole series page by page for get-history's
 * streamed reply (store_history.h), and the bulk and downsampled history of
 * several runs (and keys) in one statement each, sampling done in SQL so a
 * million-point series never leaves the database whole (store_search.h).
 * Every read takes its points from metric_points() (schema 0027): the
 * narrow rows through the metrics primary key (run_id, key_id, step,
 * timestamp, value), index-only (schema/0007_history_perf.sql explains why
 * no other index is needed), and the chunks of a compacted series. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "core/sbuf.h"
#include "store_history.h"
#include "store_search.h"
#include "db/store_util.h"
#include "core/xalloc.h"

/* Points per page of a whole-series read: big enough that statement
 * overhead is small next to the rows, small enough that a page (two are
 * held) stays a few MiB. A read starts with a small page and grows it four
 * times a page up to that size: the reply's first bytes go out once a small
 * page is in, and from then on every page is read while the one before it
 * is encoded (a 25,000-point page of the MLflow client waited for 16,384
 * points before its first byte, four times per 100,000). */
#define HISTORY_PAGE 16384
#define HISTORY_FIRST_PAGE 1024

struct history_cursor {
    char run[8], key[4];    /* the run's and the key's ids, binary parameters */
    struct metric *page[2]; /* page[cur] is handed out; the other is being filled */
    size_t n[2];
    size_t want[2]; /* the LIMIT each page was read with: fewer rows means the end */
    int cur;
    int64_t size;       /* the LIMIT of the next page, before the cursor's own limit */
    int64_t left;       /* points still to read (-1: no limit) */
    int64_t offset;     /* points to skip before the first page (old offset tokens) */
    int in_flight;      /* a page statement was sent and not yet collected */
    int ended;          /* the last page handed out was short: nothing follows */
    int error;          /* DB_OK, or the status of the read that failed */
    int chunked;        /* the series has chunks (schema 0027): read through metric_points */
    struct metric last; /* the last point handed out, or the start's keyset */
    int has_last;
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

/* The same pages of a series with chunks: narrow rows and chunks through
 * metric_points, which unpacks only the chunks the page needs. Only these
 * pay for the union and its sort; a live run's pages stay as above. */
static const char first_chunked_sql[] =
    "SELECT step, timestamp, value FROM metric_points($1::bigint, $2::integer,"
    "   '-9223372036854775808', '9223372036854775807', $3::bigint)"
    " ORDER BY step, timestamp, value LIMIT $3::bigint";
static const char offset_chunked_sql[] =
    "SELECT step, timestamp, value FROM metric_points($1::bigint, $2::integer,"
    "   '-9223372036854775808', '9223372036854775807', $4::bigint + $3::bigint)"
    " ORDER BY step, timestamp, value OFFSET $4::bigint LIMIT $3::bigint";
static const char next_chunked_sql[] =
    "SELECT step, timestamp, value FROM metric_points($1::bigint, $2::integer, $4::bigint,"
    "   '9223372036854775807', $3::bigint)"
    " WHERE (step, timestamp, value) > ($4::bigint, $5::bigint, $6::float8)"
    " ORDER BY step, timestamp, value LIMIT $3::bigint";

/* Settings of a page, local to its own (implicit) transaction. Without
 * statistics (a table loaded and read before autovacuum has analyzed it)
 * the planner guesses a series has a handful of rows and would read all
 * that is left of it into a sort for every page: with sorts off the
 * ordered primary-key scan is its only choice. The generic plan is taken
 * from the first execution on: it prunes the partitions as it starts, and
 * PostgreSQL would otherwise plan every page anew (it costs a generic plan
 * of sixteen partitions above the custom plan of one). Sent with every
 * page, as PostgreSQL plans a prepared statement again whenever it drops
 * the plan (after an ANALYZE of metrics). */
static const char page_setup_sql[] = "SELECT set_config('enable_sort', 'off', true),"
                                     " set_config('plan_cache_mode', 'force_generic_plan', true)";

static uint64_t get_be64(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint64_t)u[0] << 56 | (uint64_t)u[1] << 48 | (uint64_t)u[2] << 40 |
           (uint64_t)u[3] << 32 | (uint64_t)u[4] << 24 | (uint64_t)u[5] << 16 |
           (uint64_t)u[6] << 8 | (uint64_t)u[7];
}

/* Sends the statement for the page after `after` (NULL: the first, after
 * the cursor's offset if it has one), at most c->size points and no more
 * than are left of the cursor's limit; the setting and the statement go in
 * one round trip (db_read_send). */
static int send_page(struct history_cursor *c, const struct metric *after)
{
    static const struct db_read_stmt setup = {
        "history_page_setup", page_setup_sql, 0, NULL, NULL, NULL};
    char lim[8], step[8], ts[8], val[8], off[8];
    uint64_t bits;
    int64_t want = c->left >= 0 && c->left < c->size ? c->left : c->size;
    su_put_be64(lim, (uint64_t)want);
    const char *values[] = {c->run, c->key, lim, step, ts, val};
    const int lengths[] = {8, 4, 8, 8, 8, 8};
    const int formats[] = {1, 1, 1, 1, 1, 1};
    struct db_read_stmt page = {"history_first_page", first_page_sql, 3, values, lengths, formats};
    if (c->chunked)
        page = (struct db_read_stmt){
            "history_first_chunked", first_chunked_sql, 3, values, lengths, formats};
    if (after != NULL) {
        su_put_be64(step, (uint64_t)after->step);
        su_put_be64(ts, (uint64_t)after->timestamp);
        memcpy(&bits, &after->value, sizeof bits);
        su_put_be64(val, bits);
        page = c->chunked ? (struct db_read_stmt){"history_next_chunked",
                                                  next_chunked_sql,
                                                  6,
                                                  values,
                                                  lengths,
                                                  formats}
                          : (struct db_read_stmt){
                                "history_next_page", next_page_sql, 6, values, lengths, formats};
    } else if (c->offset > 0) {
        su_put_be64(off, (uint64_t)c->offset);
        values[3] = off;
        page = (struct db_read_stmt){
            NULL, c->chunked ? offset_chunked_sql : offset_page_sql, 4, values, lengths, formats};
    }
    int rc = db_read_send(&setup, &page, 1);
    if (rc != DB_OK)
        return rc;
    c->in_flight = 1;
    c->want[1 - c->cur] = (size_t)want;
    if (c->left >= 0)
        c->left -= want;
    c->size = c->size * 4 < HISTORY_PAGE ? c->size * 4 : HISTORY_PAGE;
    return DB_OK;
}

/* Collects the page in flight into page[1 - cur]. */
static int receive_page(struct history_cursor *c)
{
    PGresult *res = NULL;
    int slot = 1 - c->cur;

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
    if (*n < c->want[c->cur] && (c->chunked || !compacted_meanwhile(c))) {
        c->ended = 1; /* a short page is the last one */
        return;
    }
    if (*n < c->want[c->cur] && c->left >= 0)
        c->left += (int64_t)(c->want[c->cur] - *n); /* the short page's unread share */
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
