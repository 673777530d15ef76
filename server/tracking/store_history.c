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

/* get-history-bulk-interval. The distinct steps of all runs (in the step
 * range) are counted, then numbered in step order: with one run straight off
 * the primary key twice (ordered index-only scans, nothing held in memory),
 * with several through one hash of their steps and a sort. Every
 * ceil(n / $5)-th step is sampled, the last always, plus each run's first
 * and last step; then every point at a sampled step, at most $6 per run, by
 * index probes. The one-run and several-run branches are gated on the run
 * count when the statement runs. Columns: ord, step, ts, value. */
static const char bulk_interval_sql[] =
    "WITH rs AS MATERIALIZED (SELECT u.ord, r.id FROM unnest($1::uuid[]) WITH ORDINALITY"
    "  AS u(id, ord)"
    "   JOIN runs r ON r.run_uuid = u.id),"
    " k AS MATERIALIZED (SELECT id FROM metric_keys WHERE name = $2),"
    " lim AS MATERIALIZED (SELECT coalesce($3::bigint, '-9223372036854775808'::bigint) AS"
    "   lo,"
    "   coalesce($4::bigint, '9223372036854775807'::bigint) AS hi,"
    "   (SELECT count(*) FROM rs) AS nruns, (SELECT min(id) FROM rs) AS run1),"
    " one AS NOT MATERIALIZED (SELECT DISTINCT m.step FROM metric_points((SELECT run1 FROM"
    "   lim), (SELECT id FROM k), (SELECT lo FROM lim), (SELECT hi FROM lim), NULL) m"
    "   WHERE (SELECT nruns FROM lim) = 1 ORDER BY m.step),"
    " several AS MATERIALIZED (SELECT DISTINCT m.step FROM rs"
    "   CROSS JOIN LATERAL metric_points(rs.id, (SELECT id FROM k), (SELECT lo FROM lim),"
    "     (SELECT hi FROM lim), NULL) m"
    "   WHERE (SELECT nruns FROM lim) > 1),"
    " n AS MATERIALIZED (SELECT (SELECT count(*) FROM one) + (SELECT count(*) FROM"
    "   several) AS n),"
    " ends AS MATERIALIZED (SELECT lo.step AS lo, hi.step AS hi FROM rs"
    "   CROSS JOIN LATERAL (SELECT m.step FROM metric_points(rs.id, (SELECT id FROM k),"
    "     (SELECT lo FROM lim), (SELECT hi FROM lim), 1) m"
    "     ORDER BY m.step LIMIT 1) lo"
    "   CROSS JOIN LATERAL (SELECT m.step FROM metric_points(rs.id, (SELECT id FROM k),"
    "     (SELECT lo FROM lim), (SELECT hi FROM lim), -1) m"
    "     ORDER BY m.step DESC LIMIT 1) hi),"
    " sampled AS MATERIALIZED ("
    "   SELECT x.step FROM (SELECT one.step, row_number() OVER (ORDER BY one.step) - 1 AS"
    "     i FROM one"
    "     UNION ALL SELECT several.step, row_number() OVER (ORDER BY several.step) - 1"
    "       FROM several) x, n"
    "     WHERE n.n <= $5 OR x.i % ceil(n.n::float8 / $5)::bigint = 0 OR x.i = n.n - 1"
    "   UNION SELECT lo FROM ends UNION SELECT hi FROM ends),"
    " picked AS (SELECT rs.ord, p.step, p.timestamp, p.value, row_number() OVER"
    "   (PARTITION BY rs.ord"
    "     ORDER BY p.step, p.timestamp, p.value) AS rn"
    "   FROM rs CROSS JOIN sampled CROSS JOIN LATERAL (SELECT m.step, m.timestamp,"
    "     m.value FROM metric_points(rs.id, (SELECT id FROM k), sampled.step, sampled.step,"
    "       NULL) m) p)"
    " SELECT ord, step, timestamp, value FROM picked WHERE rn <= $6 ORDER BY ord, step,"
    "   timestamp, value";

/* Downsampled history. Per series (run x key): the first and last step and
 * the point count from its step blocks (metric_blocks, schema/0009 and
 * 0028: the first block's first point, the last block's last point, the sum
 * of the blocks' counts). Series with at most $3 points come whole.
 * The others are cut into at most $3 / 4 buckets of equal step width w
 * (computed in numeric, so no int8 overflow whatever the steps):
 *   - narrow buckets (w under one 256-step block) start at the first step;
 *     each bucket's count, lowest and highest value (NaN left out) is one
 *     aggregate over an index range of metrics: every point is read, as
 *     nothing finer than a block is kept; then its first and last point and
 *     the first point at its lowest and highest value, by index probes;
 *   - wider ones start at the first step's block and are runs of whole
 *     blocks: one grouped pass over the series' blocks gives every bucket's
 *     first and last block and its lowest and highest value, and the four
 *     points come from block rows alone (the first block's first point, the
 *     last block's last point, and the point kept with the value by the
 *     first block that holds each extreme): no point of metrics is read.
 *     From 1,024 steps w is rounded up to whole blocks (at least 80% of the
 *     buckets, boundaries that stay put while a run grows). Under it,
 *     rounding would halve the buckets (257 becomes 512), so a block goes to
 *     the bucket of width w (from the first block's start) that its first
 *     step falls in: bucket i is blocks ceil(i w / 256) to
 *     ceil((i + 1) w / 256) - 1, one or more since w >= 256, and there are
 *     as many buckets as with width w.
 * A bucket's points are at most four (UNION drops a point picked twice).
 * Whole series are read through a lateral subquery (its ORDER BY, the
 * primary key's, keeps the planner from making it a join again), so by the
 * primary key of their run's partition: as a join, the plan hashed them and
 * scanned every partition of metrics whole as soon as one series came
 * whole. Columns: run ord, key ord, total, step, ts, value. */
static const char downsample_sql[] =
    "WITH s AS MATERIALIZED (SELECT ru.ord AS ri, ku.ord AS ki, r.id AS run_id, k.id AS"
    "  key_id"
    "   FROM unnest($1::uuid[]) WITH ORDINALITY AS ru(u, ord)"
    "   JOIN runs r ON r.run_uuid = ru.u"
    "   CROSS JOIN unnest($2::text[]) WITH ORDINALITY AS ku(name, ord)"
    "   JOIN metric_keys k ON k.name = ku.name),"
    " st AS MATERIALIZED (SELECT s.*, lo.first_step AS lo, hi.last_step AS hi,"
    "     (SELECT sum(b.n) FROM metric_blocks b"
    "       WHERE b.run_id = s.run_id AND b.key_id = s.key_id)::bigint AS n"
    "   FROM s"
    "   CROSS JOIN LATERAL (SELECT b.first_step FROM metric_blocks b WHERE b.run_id = s.run_id"
    "     AND b.key_id = s.key_id ORDER BY b.block LIMIT 1) lo"
    "   CROSS JOIN LATERAL (SELECT b.last_step FROM metric_blocks b WHERE b.run_id = s.run_id"
    "     AND b.key_id = s.key_id ORDER BY b.block DESC LIMIT 1) hi),"
    " ly AS MATERIALIZED (SELECT st.*, x.w >= 256 AS blocky, x.w >= 1024 AS whole,"
    "     CASE WHEN x.w >= 256 THEN floor(st.lo::numeric / 256) * 256"
    "       ELSE st.lo::numeric END AS a"
    "   FROM st CROSS JOIN LATERAL (SELECT floor((st.hi::numeric - st.lo) / ($3 / 4)) + 1"
    "     AS w) x"
    "   WHERE st.n > $3),"
    " lw AS MATERIALIZED (SELECT ly.*, CASE WHEN ly.whole"
    "     THEN ceil((floor((ly.hi - ly.a) / ($3 / 4)) + 1) / 256) * 256"
    "     ELSE floor((ly.hi - ly.a) / ($3 / 4)) + 1 END AS w FROM ly),"
    " bk AS MATERIALIZED ("
    "   SELECT lw.ri, lw.ki, lw.run_id, lw.key_id, g.s0, g.s1, a.n, a.vlo, a.vhi"
    "   FROM lw"
    "   CROSS JOIN LATERAL generate_series(0::numeric,"
    "     least($3 / 4 - 1, floor((lw.hi - lw.a) / lw.w))) AS i"
    "   CROSS JOIN LATERAL (SELECT (lw.a + i * lw.w)::bigint AS s0,"
    "     least(lw.a + i * lw.w + lw.w - 1, lw.hi)::bigint AS s1) g"
    "   CROSS JOIN LATERAL (SELECT count(*) AS n, nullif(min(m.value), 'NaN') AS vlo,"
    "       max(m.value) FILTER (WHERE m.value <> 'NaN') AS vhi"
    "     FROM metrics m WHERE m.run_id = lw.run_id AND m.key_id = lw.key_id"
    "       AND m.step BETWEEN g.s0 AND g.s1) a"
    "   WHERE NOT lw.blocky),"
    " bb AS MATERIALIZED ("
    "   SELECT lw.ri, lw.ki, lw.run_id, lw.key_id, a.b0, a.b1, a.vlo, a.vhi"
    "   FROM lw"
    "   CROSS JOIN LATERAL (SELECT floor((b.block::numeric * 256 - lw.a) / lw.w) AS i,"
    "       min(b.block) AS b0, max(b.block) AS b1, min(b.vmin) AS vlo, max(b.vmax) AS vhi"
    "     FROM metric_blocks b WHERE b.run_id = lw.run_id AND b.key_id = lw.key_id"
    "     GROUP BY 1) a"
    "   WHERE lw.blocky)"
    " SELECT st.ri, st.ki, st.n, m.step, m.timestamp AS ts, m.value FROM st"
    "   CROSS JOIN LATERAL (SELECT m.step, m.timestamp, m.value FROM metrics m"
    "     WHERE m.run_id = st.run_id AND m.key_id = st.key_id"
    "     ORDER BY m.step, m.timestamp, m.value) m WHERE st.n <= $3"
    " UNION ALL"
    " SELECT bk.ri, bk.ki, st.n, p.step, p.ts, p.value FROM bk"
    "   JOIN st ON st.ri = bk.ri AND st.ki = bk.ki"
    "   CROSS JOIN LATERAL ("
    "     (SELECT m.step, m.timestamp AS ts, m.value FROM metrics m"
    "       WHERE m.run_id = bk.run_id AND m.key_id = bk.key_id AND m.step >= bk.s0"
    "       ORDER BY m.step, m.timestamp, m.value LIMIT 1)"
    "     UNION (SELECT m.step, m.timestamp, m.value FROM metrics m"
    "       WHERE m.run_id = bk.run_id AND m.key_id = bk.key_id AND m.step <= bk.s1"
    "       ORDER BY m.step DESC, m.timestamp DESC, m.value DESC LIMIT 1)"
    "     UNION (SELECT m.step, m.timestamp, m.value FROM metrics m"
    "       WHERE m.run_id = bk.run_id AND m.key_id = bk.key_id AND m.step BETWEEN bk.s0"
    "         AND bk.s1"
    "         AND m.value = bk.vlo ORDER BY m.step, m.timestamp LIMIT 1)"
    "     UNION (SELECT m.step, m.timestamp, m.value FROM metrics m"
    "       WHERE m.run_id = bk.run_id AND m.key_id = bk.key_id AND m.step BETWEEN bk.s0"
    "         AND bk.s1"
    "         AND m.value = bk.vhi ORDER BY m.step, m.timestamp LIMIT 1)) p"
    "   WHERE bk.n > 0"
    " UNION ALL"
    " SELECT bb.ri, bb.ki, st.n, p.step, p.ts, p.value FROM bb"
    "   JOIN st ON st.ri = bb.ri AND st.ki = bb.ki"
    "   CROSS JOIN LATERAL ("
    "     (SELECT b.first_step AS step, b.first_ts AS ts, b.first_value AS value"
    "       FROM metric_blocks b"
    "       WHERE b.run_id = bb.run_id AND b.key_id = bb.key_id AND b.block = bb.b0)"
    "     UNION (SELECT b.last_step, b.last_ts, b.last_value FROM metric_blocks b"
    "       WHERE b.run_id = bb.run_id AND b.key_id = bb.key_id AND b.block = bb.b1)"
    "     UNION (SELECT b.min_step, b.min_ts, b.vmin FROM metric_blocks b"
    "       WHERE b.run_id = bb.run_id AND b.key_id = bb.key_id"
    "         AND b.block BETWEEN bb.b0 AND bb.b1 AND b.vmin = bb.vlo"
    "       ORDER BY b.block LIMIT 1)"
    "     UNION (SELECT b.max_step, b.max_ts, b.vmax FROM metric_blocks b"
    "       WHERE b.run_id = bb.run_id AND b.key_id = bb.key_id"
    "         AND b.block BETWEEN bb.b0 AND bb.b1 AND b.vmax = bb.vhi"
    "       ORDER BY b.block LIMIT 1)) p"
    " ORDER BY 1, 2, 4, 5, 6";

/* The same downsample for series of which some have chunks (schema 0027):
 * every point source is metric_points. Only such reads pay for its unions
 * and sorts (a chart of live runs took 2-3 times the PostgreSQL CPU through
 * it); downsample_has_chunks_sql picks. */
static const char downsample_chunked_sql[] =
    "WITH s AS MATERIALIZED (SELECT ru.ord AS ri, ku.ord AS ki, r.id AS run_id, k.id AS"
    "  key_id"
    "   FROM unnest($1::uuid[]) WITH ORDINALITY AS ru(u, ord)"
    "   JOIN runs r ON r.run_uuid = ru.u"
    "   CROSS JOIN unnest($2::text[]) WITH ORDINALITY AS ku(name, ord)"
    "   JOIN metric_keys k ON k.name = ku.name),"
    " st AS MATERIALIZED (SELECT s.*, lo.step AS lo, hi.step AS hi,"
    "     (SELECT sum(b.n) FROM metric_blocks b"
    "       WHERE b.run_id = s.run_id AND b.key_id = s.key_id)::bigint AS n"
    "   FROM s"
    "   CROSS JOIN LATERAL (SELECT m.step FROM metric_points(s.run_id, s.key_id,"
    "     '-9223372036854775808'::bigint, '9223372036854775807'::bigint, 1) m"
    "     ORDER BY m.step LIMIT 1) lo"
    "   CROSS JOIN LATERAL (SELECT m.step FROM metric_points(s.run_id, s.key_id,"
    "     '-9223372036854775808'::bigint, '9223372036854775807'::bigint, -1) m"
    "     ORDER BY m.step DESC LIMIT 1) hi),"
    " ly AS MATERIALIZED (SELECT st.*, x.w >= 256 AS blocky, x.w >= 1024 AS whole,"
    "     CASE WHEN x.w >= 256 THEN floor(st.lo::numeric / 256) * 256"
    "       ELSE st.lo::numeric END AS a"
    "   FROM st CROSS JOIN LATERAL (SELECT floor((st.hi::numeric - st.lo) / ($3 / 4)) + 1"
    "     AS w) x"
    "   WHERE st.n > $3),"
    " lw AS MATERIALIZED (SELECT ly.*, CASE WHEN ly.whole"
    "     THEN ceil((floor((ly.hi - ly.a) / ($3 / 4)) + 1) / 256) * 256"
    "     ELSE floor((ly.hi - ly.a) / ($3 / 4)) + 1 END AS w FROM ly),"
    " bk AS MATERIALIZED ("
    "   SELECT lw.ri, lw.ki, lw.run_id, lw.key_id, g.s0, g.s1, a.n, a.vlo, a.vhi,"
    "     g.s0 AS flo, g.s0 AS fhi"
    "   FROM lw"
    "   CROSS JOIN LATERAL generate_series(0::numeric,"
    "     least($3 / 4 - 1, floor((lw.hi - lw.a) / lw.w))) AS i"
    "   CROSS JOIN LATERAL (SELECT (lw.a + i * lw.w)::bigint AS s0,"
    "     least(lw.a + i * lw.w + lw.w - 1, lw.hi)::bigint AS s1) g"
    "   CROSS JOIN LATERAL (SELECT count(*) AS n, nullif(min(m.value), 'NaN') AS vlo,"
    "       max(m.value) FILTER (WHERE m.value <> 'NaN') AS vhi"
    "     FROM metric_points(lw.run_id, lw.key_id, g.s0, g.s1, NULL) m) a"
    "   WHERE NOT lw.blocky"
    "   UNION ALL"
    "   SELECT lw.ri, lw.ki, lw.run_id, lw.key_id, g.s0, g.s1, a.n, a.vlo, a.vhi,"
    "     greatest(g.s0, fl.block * 256), greatest(g.s0, fh.block * 256)"
    "   FROM lw"
    "   CROSS JOIN LATERAL (SELECT floor((b.block::numeric * 256 - lw.a) / lw.w) AS i,"
    "       sum(b.n) AS n, min(b.vmin) AS vlo, max(b.vmax) AS vhi"
    "     FROM metric_blocks b WHERE b.run_id = lw.run_id AND b.key_id = lw.key_id"
    "     GROUP BY 1) a"
    "   CROSS JOIN LATERAL (SELECT (lw.a + ceil(a.i * lw.w / 256) * 256)::bigint AS s0,"
    "     least(lw.a + ceil((a.i + 1) * lw.w / 256) * 256 - 1, lw.hi)::bigint AS s1) g"
    "   LEFT JOIN LATERAL (SELECT b.block FROM metric_blocks b"
    "     WHERE b.run_id = lw.run_id AND b.key_id = lw.key_id"
    "       AND b.block BETWEEN g.s0 >> 8 AND g.s1 >> 8 AND b.vmin = a.vlo"
    "     ORDER BY b.block LIMIT 1) fl ON true"
    "   LEFT JOIN LATERAL (SELECT b.block FROM metric_blocks b"
    "     WHERE b.run_id = lw.run_id AND b.key_id = lw.key_id"
    "       AND b.block BETWEEN g.s0 >> 8 AND g.s1 >> 8 AND b.vmax = a.vhi"
    "     ORDER BY b.block LIMIT 1) fh ON true"
    "   WHERE lw.blocky)"
    " SELECT st.ri, st.ki, st.n, m.step, m.timestamp AS ts, m.value FROM st"
    "   CROSS JOIN LATERAL (SELECT m.step, m.timestamp, m.value FROM metric_points(st.run_id,"
    "     st.key_id, '-9223372036854775808'::bigint, '9223372036854775807'::bigint, NULL) m"
    "     ORDER BY m.step, m.timestamp, m.value) m WHERE st.n <= $3"
    " UNION ALL"
    " SELECT bk.ri, bk.ki, st.n, p.step, p.ts, p.value FROM bk"
    "   JOIN st ON st.ri = bk.ri AND st.ki = bk.ki"
    "   CROSS JOIN LATERAL ("
    "     (SELECT m.step, m.timestamp AS ts, m.value"
    "       FROM metric_points(bk.run_id, bk.key_id, bk.s0, bk.s1, 1) m"
    "       ORDER BY m.step, m.timestamp, m.value LIMIT 1)"
    "     UNION (SELECT m.step, m.timestamp, m.value"
    "       FROM metric_points(bk.run_id, bk.key_id, bk.s0, bk.s1, -1) m"
    "       ORDER BY m.step DESC, m.timestamp DESC, m.value DESC LIMIT 1)"
    "     UNION (SELECT m.step, m.timestamp, m.value"
    "       FROM metric_points(bk.run_id, bk.key_id, bk.flo, bk.s1, NULL) m"
    "       WHERE m.value = bk.vlo ORDER BY m.step, m.timestamp LIMIT 1)"
    "     UNION (SELECT m.step, m.timestamp, m.value"
    "       FROM metric_points(bk.run_id, bk.key_id, bk.fhi, bk.s1, NULL) m"
    "       WHERE m.value = bk.vhi ORDER BY m.step, m.timestamp LIMIT 1)) p"
    "   WHERE bk.n > 0"
    " ORDER BY 1, 2, 4, 5, 6";

/* Settings of a sampling statement, local to its own (implicit)
 * transaction: no JIT (the planner's cost of these statements passes
 * jit_above_cost, and compiling them takes far longer than running them);
 * room in memory for the distinct steps of a million-point series; sorts
 * only where no ordered index path exists, so that a table never analyzed
 * yet (a fresh bulk load) still gets the ordered primary-key scans; and the
 * generic plan from the first execution on, for a prepared statement.
 * The downsample reaches every partition of metrics: planned per request it
 * took 4-28 ms to plan (EXPLAIN, 100 runs), its generic plan 0.1 ms; its
 * runs and keys come from joins, so a custom plan prunes nothing a generic
 * one does not (the partitions are chosen per series as the plan runs
 * either way). Sent with every read, as PostgreSQL plans a prepared
 * statement again whenever it drops the plan. */
static const char sampling_setup_sql[] =
    "SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true),"
    " set_config('enable_sort', 'off', true),"
    " set_config('plan_cache_mode', 'force_generic_plan', true)";

/* The downsample's prepared name (db_read_stmt). The bulk interval is not
 * prepared: on its generic plan (which assumes ten runs) it took 15-20%
 * more of PostgreSQL's CPU for ten runs than its custom plan, whose
 * planning costs about 4 ms (tests/bench/history_chart_ab.sh). */
static const char downsample_name[] = "history_downsample";
static const char downsample_chunked_name[] = "history_downsample_chunked";

/* Whether any of the runs ($1, uuids) has chunks: then the downsample
 * reads through metric_points. A compaction committed between this and
 * the downsample leaves that request one empty series; the next sees it. */
static const char downsample_has_chunks_sql[] =
    "SELECT EXISTS (SELECT 1 FROM runs r JOIN metric_chunks c ON c.run_id = r.id"
    " WHERE r.run_uuid = ANY($1::uuid[]))";

/* Runs one sampling statement, prepared once per connection under name
 * (NULL: sent as text, planned each time), text parameters and rows, after
 * its settings: one round trip. */
static int exec_sampling(const char *name, const char *sql, int nparams, const char *const *params,
                         PGresult **res)
{
    static const struct db_read_stmt setup = {
        "history_sampling_setup", sampling_setup_sql, 0, NULL, NULL, NULL};
    const struct db_read_stmt stmt = {name, sql, nparams, params, NULL, NULL};
    *res = NULL;
    int rc = db_read_send(&setup, &stmt, 0);
    if (rc != DB_OK)
        return rc;
    return db_read_collect(name != NULL ? name : "history sampling", res);
}

static void text_array(struct sbuf *b, const char *const *items, size_t n)
{
    sbuf_addc(b, '{');
    for (size_t i = 0; i < n; i++)
        su_array_text(b, items[i], i == 0);
    sbuf_addc(b, '}');
}

/* Splits rows into series by the (run, key) ordinals in columns 0 and
 * key_col (-1: one key); point columns start at col. Series are arena. */
static void split_series(const PGresult *res, int key_col, int col, const char *const *keys,
                         struct arena *arena, struct series **out, size_t *n, int64_t **totals)
{
    int rows = PQntuples(res);
    size_t count = 0;
    for (int r = 0; r < rows; r++)
        if (r == 0 || su_int64(res, r, 0) != su_int64(res, r - 1, 0) ||
            (key_col >= 0 && su_int64(res, r, key_col) != su_int64(res, r - 1, key_col)))
            count++;
    *out = count ? arena_alloc(arena, count * sizeof **out) : NULL;
    if (totals)
        *totals = count ? arena_alloc(arena, count * sizeof **totals) : NULL;
    *n = 0;
    for (int r = 0; r < rows;) {
        struct series *s = &(*out)[(*n)++];
        s->run_index = (size_t)su_int64(res, r, 0) - 1;
        s->key_index = key_col >= 0 ? (size_t)su_int64(res, r, key_col) - 1 : 0;
        int end = r;
        while (end < rows && su_int64(res, end, 0) == su_int64(res, r, 0) &&
               (key_col < 0 || su_int64(res, end, key_col) == su_int64(res, r, key_col)))
            end++;
        if (totals)
            (*totals)[*n - 1] = su_int64(res, r, key_col + 1);
        s->points = arena_alloc(arena, (size_t)(end - r) * sizeof *s->points);
        const char *key = arena_strdup(arena, keys[s->key_index]);
        for (int i = r; i < end; i++) {
            struct metric *m = &s->points[s->n++];
            m->key = key;
            m->step = su_int64(res, i, col);
            m->timestamp = su_int64(res, i, col + 1);
            m->value = su_double(res, i, col + 2);
        }
        r = end;
    }
}

/* The uuid array literal of 32-hex run ids (validated by the caller). */
static void uuid_array(struct sbuf *b, const char *const *run_ids, size_t n)
{
    text_array(b, run_ids, n);
}

int store_history_bulk_interval(const char *const *run_ids, size_t nruns, const char *key,
                                int has_range, int64_t start_step, int64_t end_step,
                                int64_t max_steps, int64_t per_run, struct arena *arena,
                                struct series **out, size_t *n)
{
    struct sbuf ids;
    char lo[24], hi[24], mx[24], pr[24];
    PGresult *res = NULL;

    *out = NULL;
    *n = 0;
    sbuf_init(&ids);
    uuid_array(&ids, run_ids, nruns);
    const char *params[] = {ids.data,
                            key,
                            has_range ? su_i64(lo, start_step) : NULL,
                            has_range ? su_i64(hi, end_step) : NULL,
                            su_i64(mx, max_steps),
                            su_i64(pr, per_run)};
    int rc = exec_sampling(NULL, bulk_interval_sql, 6, params, &res);
    sbuf_cleanup(&ids);
    if (rc != DB_OK)
        return rc;
    split_series(res, -1, 1, &key, arena, out, n, NULL);
    PQclear(res);
    return DB_OK;
}

int store_history_downsample(const char *const *run_ids, size_t nruns, const char *const *keys,
                             size_t nkeys, int64_t max_points, struct arena *arena,
                             struct series **out, size_t *n, int64_t **totals)
{
    struct sbuf ids, names;
    char mx[24];
    PGresult *res = NULL;

    *out = NULL;
    *n = 0;
    *totals = NULL;
    sbuf_init(&ids);
    sbuf_init(&names);
    uuid_array(&ids, run_ids, nruns);
    text_array(&names, keys, nkeys);
    const char *params[] = {ids.data, names.data, su_i64(mx, max_points)};
    int chunked = 0;
    int rc = db_exec_prepared("history_downsample_has_chunks", downsample_has_chunks_sql, 1, params,
                              &res);
    if (rc == DB_OK)
        chunked = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    res = NULL;
    if (rc == DB_OK)
        rc = chunked
                 ? exec_sampling(downsample_chunked_name, downsample_chunked_sql, 3, params, &res)
                 : exec_sampling(downsample_name, downsample_sql, 3, params, &res);
    sbuf_cleanup(&ids);
    sbuf_cleanup(&names);
    if (rc != DB_OK)
        return rc;
    split_series(res, 1, 3, keys, arena, out, n, totals);
    PQclear(res);
    return DB_OK;
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
