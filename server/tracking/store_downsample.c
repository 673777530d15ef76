/* The sampled history reads of several runs (and keys) in one statement
 * each, sampling done in SQL so a million-point series never leaves the
 * database whole: get-history-bulk-interval and the dashboard's downsample
 * (store_search.h). A whole series page by page is store_history.c's. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "common/sbuf.h"
#include "db/db.h"
#include "db/store_util.h"
#include "store_bulk_walk.h"
#include "store_search.h"

/* get-history-bulk-interval. The distinct steps of all runs (in the step
 * range) are counted, then numbered in step order: one run whose series is
 * live (no packed chunks) straight off the primary key twice (ordered
 * index-only scans and a Unique, nothing held in memory); several runs, or
 * a packed series, through metric_points() and one hash of their steps.
 * Only one live run's request comes here now (its "one" path; a packed
 * run's, and several runs', are walked in exptrackd: store_bulk_walk.h); a
 * request with more distinct steps than store_bulk_walk holds does too.
 * Every ceil(n / $5)-th step is sampled, the last always, plus each run's
 * first and last step when there are several (for one run they are the
 * first and last sampled already); then every point at a sampled step, at
 * most $6 per run, by index probes of metrics or, for a packed series,
 * metric_points(). The branches are gated on the run count and the packed
 * flag when the statement runs. metric_points() is not inlined here (its
 * arguments are subqueries): reading a million-point live series through it
 * materialized every point four times over (4.5 s for a million points,
 * 466 ms before the packed chunks). Columns: ord, step, ts, value. */
static const char bulk_interval_sql[] =
    "WITH k AS MATERIALIZED (SELECT id FROM metric_keys WHERE name = $2),"
    " rs AS MATERIALIZED (SELECT u.ord, r.id, EXISTS (SELECT 1 FROM metric_chunks c"
    "     WHERE c.run_id = r.id AND c.key_id = (SELECT id FROM k)) AS packed"
    "   FROM unnest($1::uuid[]) WITH ORDINALITY AS u(id, ord)"
    "   JOIN runs r ON r.run_uuid = u.id),"
    " lim AS MATERIALIZED (SELECT coalesce($3::bigint, '-9223372036854775808'::bigint) AS lo,"
    "   coalesce($4::bigint, '9223372036854775807'::bigint) AS hi,"
    "   (SELECT count(*) FROM rs) AS nruns, (SELECT min(id) FROM rs) AS run1,"
    "   (SELECT bool_or(packed) FROM rs) AS packed),"
    " one AS NOT MATERIALIZED (SELECT DISTINCT m.step FROM metrics m"
    "   WHERE m.run_id = (SELECT run1 FROM lim) AND m.key_id = (SELECT id FROM k)"
    "     AND m.step BETWEEN (SELECT lo FROM lim) AND (SELECT hi FROM lim)"
    "     AND (SELECT nruns = 1 AND NOT packed FROM lim) ORDER BY m.step),"
    " several AS MATERIALIZED (SELECT DISTINCT m.step FROM rs"
    "   CROSS JOIN LATERAL metric_points(rs.id, (SELECT id FROM k), (SELECT lo FROM lim),"
    "     (SELECT hi FROM lim), NULL) m"
    "   WHERE (SELECT nruns > 1 OR packed FROM lim)),"
    " n AS MATERIALIZED (SELECT (SELECT count(*) FROM one) + (SELECT count(*) FROM several) AS n),"
    " ends AS MATERIALIZED (SELECT lo.step AS lo, hi.step AS hi FROM rs"
    "   CROSS JOIN LATERAL (SELECT m.step FROM metric_points(rs.id, (SELECT id FROM k),"
    "     (SELECT lo FROM lim), (SELECT hi FROM lim), 1) m ORDER BY m.step LIMIT 1) lo"
    "   CROSS JOIN LATERAL (SELECT m.step FROM metric_points(rs.id, (SELECT id FROM k),"
    "     (SELECT lo FROM lim), (SELECT hi FROM lim), -1) m ORDER BY m.step DESC LIMIT 1) hi"
    "   WHERE (SELECT nruns > 1 FROM lim)),"
    " sampled AS MATERIALIZED ("
    "   SELECT x.step FROM (SELECT one.step, row_number() OVER (ORDER BY one.step) - 1 AS i"
    "     FROM one"
    "     UNION ALL SELECT several.step, row_number() OVER (ORDER BY several.step) - 1"
    "       FROM several) x, n"
    "     WHERE n.n <= $5 OR x.i % ceil(n.n::float8 / $5)::bigint = 0 OR x.i = n.n - 1"
    "   UNION SELECT lo FROM ends UNION SELECT hi FROM ends),"
    " picked AS (SELECT rs.ord, p.step, p.timestamp, p.value, row_number() OVER"
    "   (PARTITION BY rs.ord ORDER BY p.step, p.timestamp, p.value) AS rn"
    "   FROM rs CROSS JOIN sampled CROSS JOIN LATERAL ("
    "     SELECT m.step, m.timestamp, m.value FROM metrics m"
    "      WHERE NOT rs.packed AND m.run_id = rs.id AND m.key_id = (SELECT id FROM k)"
    "        AND m.step = sampled.step"
    "     UNION ALL"
    "     SELECT m.step, m.timestamp, m.value FROM metric_points(rs.id, (SELECT id FROM k),"
    "       sampled.step, sampled.step, NULL) m WHERE rs.packed) p)"
    " SELECT ord, step, timestamp, value FROM picked WHERE rn <= $6"
    " ORDER BY ord, step, timestamp, value";

/* Downsampled history, one statement whether or not the series are
 * packed. Per series (run x key): whether it has chunks (schema 0027; such
 * a series may have narrow rows too, logged since its last compaction),
 * and the first and last step and the point count from its step blocks
 * (metric_blocks, schema/0009 and 0028: the first block's first point, the
 * last block's last point, the sum of the blocks' counts), which
 * compaction keeps as they are. Series with at most $3 points come whole.
 * The others are cut into at most $3 / 4 buckets of equal step width w
 * (computed in numeric, so no int8 overflow whatever the steps):
 *   - narrow buckets (w under one 256-step block) start at the first step;
 *     each bucket's count, lowest and highest value (NaN left out) is one
 *     aggregate over an index range of metrics: every point is read, as
 *     nothing finer than a block is kept; then its first and last point and
 *     the first point at its lowest and highest value, by index probes;
 *   - wider ones start at the first step's block and are runs of whole
 *     blocks: the statement returns the series' block rows, in block order,
 *     each with its bucket number and its four kept points, in one ordered
 *     scan of the series' blocks; split_downsample() then takes each
 *     bucket's four points from its rows (the first block's first point,
 *     the last block's last point, and the point kept with the value by the
 *     first block that holds each extreme): no point is read, packed or
 *     not, and no block is probed again per bucket (those probes were about
 *     two thirds of the coarse read's page visits, docs/benchmarks.md,
 *     "Experiment chart view, round 6"). From 1,024 steps w is rounded up
 *     to whole blocks (at least 80% of the
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
 * whole.
 * Where points are read (whole series, narrow buckets), a packed series
 * reads them through metric_points() and the others straight from metrics
 * (a chart of live runs took 2-3 times the PostgreSQL CPU through
 * metric_points): each such part is two branches filtered on the series'
 * flag, so a series runs one of them. Being one statement (one snapshot),
 * a compaction that commits meanwhile cannot hide a series' points from it.
 * The fragments below are the text the branches share.
 * Columns: run ord, key ord, total, step, ts, value, then bucket and a
 * block row's last, lowest and highest points (NULL on point rows; see
 * split_downsample()). */
#define DS_MIN "'-9223372036854775808'::bigint"
#define DS_MAX "'9223372036854775807'::bigint"

/* The series, their step range and count, and their buckets' layout (a,
 * the first bucket's start; w, the width; blocky, whole blocks). */
#define DS_SERIES                                                                                  \
    "WITH s AS MATERIALIZED (SELECT ru.ord AS ri, ku.ord AS ki, r.id AS run_id, k.id AS"           \
    "  key_id, EXISTS (SELECT 1 FROM metric_chunks c"                                              \
    "     WHERE c.run_id = r.id AND c.key_id = k.id) AS packed"                                    \
    "   FROM unnest($1::uuid[]) WITH ORDINALITY AS ru(u, ord)"                                     \
    "   JOIN runs r ON r.run_uuid = ru.u"                                                          \
    "   CROSS JOIN unnest($2::text[]) WITH ORDINALITY AS ku(name, ord)"                            \
    "   JOIN metric_keys k ON k.name = ku.name),"                                                  \
    " st AS MATERIALIZED (SELECT s.*, lo.first_step AS lo, hi.last_step AS hi,"                    \
    "     (SELECT sum(b.n) FROM metric_blocks b"                                                   \
    "       WHERE b.run_id = s.run_id AND b.key_id = s.key_id)::bigint AS n"                       \
    "   FROM s"                                                                                    \
    "   CROSS JOIN LATERAL (SELECT b.first_step FROM metric_blocks b WHERE b.run_id = s.run_id"    \
    "     AND b.key_id = s.key_id ORDER BY b.block LIMIT 1) lo"                                    \
    "   CROSS JOIN LATERAL (SELECT b.last_step FROM metric_blocks b WHERE b.run_id = s.run_id"     \
    "     AND b.key_id = s.key_id ORDER BY b.block DESC LIMIT 1) hi),"                             \
    " ly AS MATERIALIZED (SELECT st.*, x.w >= 256 AS blocky, x.w >= 1024 AS whole,"                \
    "     CASE WHEN x.w >= 256 THEN floor(st.lo::numeric / 256) * 256"                             \
    "       ELSE st.lo::numeric END AS a"                                                          \
    "   FROM st CROSS JOIN LATERAL (SELECT floor((st.hi::numeric - st.lo) / ($3 / 4)) + 1"         \
    "     AS w) x"                                                                                 \
    "   WHERE st.n > $3),"                                                                         \
    " lw AS MATERIALIZED (SELECT ly.*, CASE WHEN ly.whole"                                         \
    "     THEN ceil((floor((ly.hi - ly.a) / ($3 / 4)) + 1) / 256) * 256"                           \
    "     ELSE floor((ly.hi - ly.a) / ($3 / 4)) + 1 END AS w FROM ly),"

/* A narrow bucket's range [s0, s1] and its count, lowest and highest value
 * over the points m that the text following it gives. */
#define DS_NARROW_BUCKET                                                                           \
    "   SELECT lw.ri, lw.ki, lw.run_id, lw.key_id, g.s0, g.s1, a.n, a.vlo, a.vhi"                  \
    "   FROM lw"                                                                                   \
    "   CROSS JOIN LATERAL generate_series(0::numeric,"                                            \
    "     least($3 / 4 - 1, floor((lw.hi - lw.a) / lw.w))) AS i"                                   \
    "   CROSS JOIN LATERAL (SELECT (lw.a + i * lw.w)::bigint AS s0,"                               \
    "     least(lw.a + i * lw.w + lw.w - 1, lw.hi)::bigint AS s1) g"                               \
    "   CROSS JOIN LATERAL (SELECT count(*) AS n, nullif(min(m.value), 'NaN') AS vlo,"             \
    "       max(m.value) FILTER (WHERE m.value <> 'NaN') AS vhi"

/* The start of a whole series' branch and of a narrow bucket's four
 * points' branch; the point sources follow each. */
#define DS_NO_BLOCK                                                                                \
    ", NULL::bigint AS bucket, NULL::bigint, NULL::bigint, NULL::float8, NULL::bigint,"            \
    " NULL::bigint, NULL::float8, NULL::bigint, NULL::bigint, NULL::float8"
#define DS_WHOLE                                                                                   \
    " SELECT st.ri, st.ki, st.n, m.step, m.timestamp AS ts, m.value" DS_NO_BLOCK " FROM st"        \
    "   CROSS JOIN LATERAL (SELECT m.step, m.timestamp, m.value FROM"
#define DS_WHOLE_END " ORDER BY m.step, m.timestamp, m.value) m WHERE st.n <= $3"
#define DS_FOUR                                                                                    \
    " SELECT bk.ri, bk.ki, st.n, p.step, p.ts, p.value" DS_NO_BLOCK " FROM bk"                     \
    "   JOIN st ON st.ri = bk.ri AND st.ki = bk.ki"                                                \
    "   CROSS JOIN LATERAL ("
#define DS_FIRST_ORDER " ORDER BY m.step, m.timestamp, m.value LIMIT 1)"
#define DS_LAST_ORDER " ORDER BY m.step DESC, m.timestamp DESC, m.value DESC LIMIT 1)"

static const char downsample_sql[] = DS_SERIES
    " bk AS MATERIALIZED (" DS_NARROW_BUCKET
    "     FROM metrics m WHERE m.run_id = lw.run_id AND m.key_id = lw.key_id"
    "       AND m.step BETWEEN g.s0 AND g.s1) a"
    "   WHERE NOT lw.blocky AND NOT lw.packed"
    "   UNION ALL" DS_NARROW_BUCKET
    "     FROM metric_points(lw.run_id, lw.key_id, g.s0, g.s1, NULL) m) a"
    "   WHERE NOT lw.blocky AND lw.packed)" DS_WHOLE
    "     metrics m WHERE m.run_id = st.run_id AND m.key_id = st.key_id" DS_WHOLE_END
    " AND NOT st.packed"
    " UNION ALL" DS_WHOLE "     metric_points(st.run_id, st.key_id, " DS_MIN ", " DS_MAX
    ", NULL) m" DS_WHOLE_END " AND st.packed"
    " UNION ALL" DS_FOUR "     (SELECT m.step, m.timestamp AS ts, m.value FROM metrics m"
    "       WHERE m.run_id = bk.run_id AND m.key_id = bk.key_id AND m.step >= bk.s0" DS_FIRST_ORDER
    "     UNION (SELECT m.step, m.timestamp, m.value FROM metrics m"
    "       WHERE m.run_id = bk.run_id AND m.key_id = bk.key_id AND m.step <= bk.s1" DS_LAST_ORDER
    "     UNION (SELECT m.step, m.timestamp, m.value FROM metrics m"
    "       WHERE m.run_id = bk.run_id AND m.key_id = bk.key_id AND m.step BETWEEN bk.s0"
    "         AND bk.s1"
    "         AND m.value = bk.vlo ORDER BY m.step, m.timestamp LIMIT 1)"
    "     UNION (SELECT m.step, m.timestamp, m.value FROM metrics m"
    "       WHERE m.run_id = bk.run_id AND m.key_id = bk.key_id AND m.step BETWEEN bk.s0"
    "         AND bk.s1"
    "         AND m.value = bk.vhi ORDER BY m.step, m.timestamp LIMIT 1)) p"
    "   WHERE bk.n > 0 AND NOT st.packed"
    " UNION ALL" DS_FOUR "     (SELECT m.step, m.timestamp AS ts, m.value"
    "       FROM metric_points(bk.run_id, bk.key_id, bk.s0, bk.s1, 1) m" DS_FIRST_ORDER
    "     UNION (SELECT m.step, m.timestamp, m.value"
    "       FROM metric_points(bk.run_id, bk.key_id, bk.s0, bk.s1, -1) m" DS_LAST_ORDER
    "     UNION (SELECT m.step, m.timestamp, m.value"
    "       FROM metric_points(bk.run_id, bk.key_id, bk.s0, bk.s1, NULL) m"
    "       WHERE m.value = bk.vlo ORDER BY m.step, m.timestamp LIMIT 1)"
    "     UNION (SELECT m.step, m.timestamp, m.value"
    "       FROM metric_points(bk.run_id, bk.key_id, bk.s0, bk.s1, NULL) m"
    "       WHERE m.value = bk.vhi ORDER BY m.step, m.timestamp LIMIT 1)) p"
    "   WHERE bk.n > 0 AND st.packed"
    " UNION ALL"
    " SELECT lw.ri, lw.ki, lw.n, b.first_step, b.first_ts, b.first_value,"
    "   floor((b.block::numeric * 256 - lw.a) / lw.w)::bigint, b.last_step, b.last_ts,"
    "   b.last_value, b.min_step, b.min_ts, b.vmin, b.max_step, b.max_ts, b.vmax"
    "   FROM lw"
    "   CROSS JOIN LATERAL (SELECT b.* FROM metric_blocks b"
    "     WHERE b.run_id = lw.run_id AND b.key_id = lw.key_id ORDER BY b.block) b"
    "   WHERE lw.blocky"
    " ORDER BY 1, 2, 4, 5, 6";

/* Settings of a sampling statement, local to its own (implicit)
 * transaction: no JIT (the planner's cost of these statements passes
 * jit_above_cost, and compiling them takes far longer than running them);
 * room in memory for the distinct steps of a million-point series; sorts
 * only where no ordered index path exists, so that a table never analyzed
 * yet (a fresh bulk load) still gets the ordered primary-key scans; no
 * sequential scan where an index path exists; and the generic plan from
 * the first execution on, for a prepared statement.
 * Sequential scans are off because a connection keeps its generic plan
 * until an ANALYZE of a table in it: planned while the tables were empty
 * (a new server, or any table just analyzed empty), the plan scanned each
 * partition of metrics whole inside every bucket's lateral subquery, and
 * once the series had grown (300 runs x 3 metrics x 10,000 steps, read
 * before autovacuum came) a chart read of 100 runs at 400 points ran past
 * the 30 s statement timeout on the connection that had planned it early,
 * against 1-2 s on the others. Every table here is read by key, so index
 * paths always exist.
 * The downsample reaches every partition of metrics: planned per request it
 * took 4-28 ms to plan (EXPLAIN, 100 runs), its generic plan 0.1 ms; its
 * runs and keys come from joins, so a custom plan prunes nothing a generic
 * one does not (the partitions are chosen per series as the plan runs
 * either way). Sent with every read, as PostgreSQL plans a prepared
 * statement again whenever it drops the plan. */
static const char sampling_setup_sql[] =
    "SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true),"
    " set_config('enable_sort', 'off', true), set_config('enable_seqscan', 'off', true),"
    " set_config('plan_cache_mode', 'force_generic_plan', true)";

/* The downsample's prepared name (db_read_stmt). The bulk interval is not
 * prepared: on its generic plan (which assumes ten runs) it took 15-20%
 * more of PostgreSQL's CPU for ten runs than its custom plan, whose
 * planning costs about 4 ms (tests/bench/history_chart_ab.sh). */
static const char downsample_name[] = "history_downsample";

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

/* PostgreSQL's float8 order (NaN above every number, equal to itself; -0
 * equal to 0): <0, 0 or >0. */
static int pg_float_cmp(double a, double b)
{
    if (isnan(a))
        return isnan(b) ? 0 : 1;
    if (isnan(b))
        return -1;
    return a < b ? -1 : a > b ? 1 : 0;
}

/* (step, timestamp, value) order, values in PostgreSQL's order. */
static int point_cmp(const struct metric *a, const struct metric *b)
{
    if (a->step != b->step)
        return a->step < b->step ? -1 : 1;
    if (a->timestamp != b->timestamp)
        return a->timestamp < b->timestamp ? -1 : 1;
    return pg_float_cmp(a->value, b->value);
}

/* Adds p to the bucket's points (at most four, kept in point order) unless
 * an equal point is there: the UNION of the four picks. */
static void bucket_add(struct metric *pts, int *n, struct metric p)
{
    int i = 0;
    while (i < *n && point_cmp(&pts[i], &p) < 0)
        i++;
    if (i < *n && point_cmp(&pts[i], &p) == 0)
        return;
    for (int j = *n; j > i; j--)
        pts[j] = pts[j - 1];
    pts[i] = p;
    (*n)++;
}

/* A point of a block row: its step, timestamp and value columns. */
static struct metric block_point(const PGresult *res, int row, int col, const char *key)
{
    struct metric m = {key, su_double(res, row, col + 2), su_int64(res, row, col + 1),
                       su_int64(res, row, col), NULL};
    return m;
}

/* The downsample's columns: ri, ki, total, step, ts, value (the first point
 * of a block row), bucket (NULL on a point row), then a block row's last
 * point (7-9), lowest point (10-12) and highest point (13-15). */
enum { DS_BUCKET = 6, DS_LAST = 7, DS_LOW = 10, DS_HIGH = 13 };

/* The points of the bucket of block rows [r, end) of one series, appended to
 * s: the first block's first point, the last block's last point, and the
 * point kept with the lowest (highest) value by the first block holding
 * it (blocks of NaN only hold none), each point once, in point order. */
static void bucket_points(const PGresult *res, int r, int end, const char *key, struct series *s)
{
    struct metric pts[4];
    int n = 0;
    int low = -1, high = -1;
    for (int i = r; i < end; i++) {
        if (!PQgetisnull(res, i, DS_LOW + 2) &&
            (low < 0 || su_double(res, i, DS_LOW + 2) < su_double(res, low, DS_LOW + 2)))
            low = i;
        if (!PQgetisnull(res, i, DS_HIGH + 2) &&
            (high < 0 || su_double(res, i, DS_HIGH + 2) > su_double(res, high, DS_HIGH + 2)))
            high = i;
    }
    bucket_add(pts, &n, block_point(res, r, 3, key));
    bucket_add(pts, &n, block_point(res, end - 1, DS_LAST, key));
    if (low >= 0)
        bucket_add(pts, &n, block_point(res, low, DS_LOW, key));
    if (high >= 0)
        bucket_add(pts, &n, block_point(res, high, DS_HIGH, key));
    for (int i = 0; i < n; i++)
        s->points[s->n++] = pts[i];
}

/* Splits the downsample's rows into series by their (run, key) ordinals.
 * A series' point rows are its points; its block rows (bucket not NULL, in
 * block order) are cut into buckets, each giving bucket_points(). Series
 * and points are arena. */
static void split_downsample(const PGresult *res, const char *const *keys, struct arena *arena,
                             struct series **out, size_t *n, int64_t **totals)
{
    int rows = PQntuples(res);
    size_t count = 0;
    for (int r = 0; r < rows; r++)
        if (r == 0 || su_int64(res, r, 0) != su_int64(res, r - 1, 0) ||
            su_int64(res, r, 1) != su_int64(res, r - 1, 1))
            count++;
    *out = count ? arena_alloc(arena, count * sizeof **out) : NULL;
    *totals = count ? arena_alloc(arena, count * sizeof **totals) : NULL;
    *n = 0;
    for (int r = 0; r < rows;) {
        struct series *s = &(*out)[(*n)++];
        s->run_index = (size_t)su_int64(res, r, 0) - 1;
        s->key_index = (size_t)su_int64(res, r, 1) - 1;
        s->n = 0;
        int end = r;
        while (end < rows && su_int64(res, end, 0) == su_int64(res, r, 0) &&
               su_int64(res, end, 1) == su_int64(res, r, 1))
            end++;
        (*totals)[*n - 1] = su_int64(res, r, 2);
        /* at most four points a block row (a bucket has one or more) */
        s->points = arena_alloc(arena, (size_t)(end - r) * 4 * sizeof *s->points);
        const char *key = arena_strdup(arena, keys[s->key_index]);
        for (int i = r; i < end;) {
            if (PQgetisnull(res, i, DS_BUCKET)) {
                s->points[s->n++] = block_point(res, i, 3, key);
                i++;
                continue;
            }
            int j = i;
            while (j < end && !PQgetisnull(res, j, DS_BUCKET) &&
                   su_int64(res, j, DS_BUCKET) == su_int64(res, i, DS_BUCKET))
                j++;
            bucket_points(res, i, j, key, s);
            i = j;
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
    int answered;
    int rc = store_bulk_walk(run_ids, nruns, key, has_range, start_step, end_step, max_steps,
                             per_run, arena, out, n, &answered);
    if (rc != DB_OK || answered)
        return rc;
    sbuf_init(&ids);
    uuid_array(&ids, run_ids, nruns);
    const char *params[] = {ids.data,
                            key,
                            has_range ? su_i64(lo, start_step) : NULL,
                            has_range ? su_i64(hi, end_step) : NULL,
                            su_i64(mx, max_steps),
                            su_i64(pr, per_run)};
    rc = exec_sampling(NULL, bulk_interval_sql, 6, params, &res);
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
    int rc = exec_sampling(downsample_name, downsample_sql, 3, params, &res);
    sbuf_cleanup(&ids);
    sbuf_cleanup(&names);
    if (rc != DB_OK)
        return rc;
    split_downsample(res, keys, arena, out, n, totals);
    PQclear(res);
    return DB_OK;
}
