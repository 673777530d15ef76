/* The one-statement log-batch. Every write of a batch hangs off one CTE,
 * ok, which holds the run's internal id only when the run exists, is
 * active, and no param of the batch is stored with another value (read
 * from the statement's snapshot, as the transaction path reads it): so
 * either everything is written or nothing is, and the final row tells
 * which. Only the writes a batch needs are in its statement (a statement
 * that names a table fires that table's statement triggers, rows or not),
 * so there are eight prepared variants, one per mix of params, tags and
 * points. */
#include "store_batch.h"

#include <stdlib.h>

#include "core/mlflow_tags.h"
#include "common/sbuf.h"
#include "common/xalloc.h"
#include "db/store_call.h"
#include "db/store_util.h"
#include "store_metrics.h"
#include "store_metrics_sql.h"

/* The reads: $1 run uuid, $2/$3 param keys and values, $4/$5 tag keys and
 * values (the last of a repeated key wins), $6..$9 the points' key ids,
 * steps, timestamps and values (every variant names them all, so that
 * each parameter has its type). */
#define BATCH_READS                                                                                \
    "WITH run AS (SELECT id, experiment_id, lifecycle_stage FROM runs WHERE run_uuid = $1::uuid)," \
    " pin AS (SELECT * FROM unnest($2::text[], $3::text[]) AS u(k, v)),"                           \
    " bad AS (SELECT p.key, p.value, pin.v FROM run JOIN params p ON p.run_id = run.id"            \
    "   JOIN pin ON pin.k = p.key WHERE p.value <> pin.v LIMIT 1),"                                \
    " ok AS (SELECT id, experiment_id FROM run"                                                    \
    "   WHERE lifecycle_stage = 'active' AND NOT EXISTS (SELECT FROM bad)),"                       \
    " tin AS (SELECT DISTINCT ON (k) k, v FROM unnest($4::text[], $5::text[])"                     \
    "   WITH ORDINALITY AS u(k, v, o) ORDER BY k, o DESC),"                                        \
    " pts AS (SELECT ok.id AS run_id, p.key_id, p.step, p.timestamp, p.value, p.n FROM ok,"        \
    "   unnest($6::int[], $7::bigint[], $8::bigint[], $9::float8[])"                               \
    "   WITH ORDINALITY AS p(key_id, step, timestamp, value, n))"

/* Params are write-once: a stored equal one is skipped. One that another
 * transaction stored with another value after this statement's snapshot
 * was taken (so bad missed it) is returned with that value: the statement
 * then fails as a whole (BATCH_CLASH). Their keys go into experiment_keys
 * here, not by a trigger (schema/0038_setup_statement_keys.sql). */
#define BATCH_PARAMS                                                                               \
    ", pw AS (INSERT INTO params AS p (run_id, key, value) SELECT ok.id, pin.k, pin.v FROM ok, "   \
    "pin"                                                                                          \
    "   ORDER BY 2 ON CONFLICT (run_id, key) DO UPDATE SET value = p.value"                        \
    "   WHERE p.value <> EXCLUDED.value RETURNING p.key, p.value),"                                \
    " pk AS (INSERT INTO experiment_keys (experiment_id, kind, key)"                               \
    "   SELECT DISTINCT ok.experiment_id, 'p'::\"char\", pin.k FROM ok, pin ORDER BY 3"            \
    "   ON CONFLICT DO NOTHING)"

/* Tags are upserted, their keys recorded in experiment_keys (0038);
 * mlflow.runName renames the run too. */
#define BATCH_TAGS                                                                                 \
    ", tw AS (INSERT INTO tags (run_id, key, value) SELECT ok.id, tin.k, tin.v FROM ok, tin"       \
    "   ORDER BY 2 ON CONFLICT (run_id, key) DO UPDATE SET value = EXCLUDED.value),"               \
    " rn AS (UPDATE runs SET name = tin.v FROM ok, tin"                                            \
    "   WHERE runs.id = ok.id AND tin.k = '" MLFLOW_TAG_RUN_NAME "'),"                             \
    " tk AS (INSERT INTO experiment_keys (experiment_id, kind, key)"                               \
    "   SELECT ok.experiment_id, 't'::\"char\", tin.k FROM ok, tin ORDER BY 3"                     \
    "   ON CONFLICT DO NOTHING)"

/* Points: stored twins skipped, the blocks of those inserted raised, and
 * the best point per key (the first of equals) raising latest_metrics. */
#define BATCH_POINTS                                                                               \
    ", mw AS (INSERT INTO metrics (run_id, key_id, step, timestamp, value)"                        \
    "   SELECT run_id, key_id, step, timestamp, value FROM pts ON CONFLICT DO NOTHING"             \
    "   RETURNING run_id, key_id, step, timestamp, value),"                                        \
    " blk AS (" BLOCKS_SELECT " FROM mw" BLOCKS_GROUP "),"                                         \
    " best AS (SELECT DISTINCT ON (key_id) run_id, key_id, step, timestamp, value FROM pts"        \
    "   ORDER BY key_id, step DESC, timestamp DESC,"                                               \
    "   CASE WHEN value = 'NaN' THEN 0 ELSE value END DESC, n),"                                   \
    " lw AS (INSERT INTO latest_metrics AS l (run_id, key_id, step, timestamp, value)"             \
    "   SELECT run_id, key_id, step, timestamp, value FROM best ORDER BY key_id" LATEST_UPSERT ")"

/* One row when the run exists: its stage, and the first conflicting param
 * (key, stored value, new value) or NULLs. */
#define BATCH_ANSWER                                                                               \
    " SELECT run.lifecycle_stage, bad.key, bad.value, bad.v FROM run LEFT JOIN bad ON true"

/* With params: a clash found by the insert raises serialization_failure
 * (schema/0026_param_clash.sql, 0033), which undoes the statement's writes;
 * store_call_run runs it again, and the new snapshot's bad answers. */
#define BATCH_CLASH                                                                                \
    " WHERE NOT EXISTS (SELECT FROM pw JOIN pin ON pin.k = pw.key"                                 \
    "   WHERE CASE WHEN pw.value <> pin.v THEN exptrack_param_clash(pw.key) ELSE false END)"

enum { HAS_PARAMS = 1, HAS_TAGS = 2, HAS_POINTS = 4 };

/* Indexed by the HAS_* bits of a batch. */
static const char *const batch_sql[8] = {
    BATCH_READS BATCH_ANSWER,
    BATCH_READS BATCH_PARAMS BATCH_ANSWER BATCH_CLASH,
    BATCH_READS BATCH_TAGS BATCH_ANSWER,
    BATCH_READS BATCH_PARAMS BATCH_TAGS BATCH_ANSWER BATCH_CLASH,
    BATCH_READS BATCH_POINTS BATCH_ANSWER,
    BATCH_READS BATCH_PARAMS BATCH_POINTS BATCH_ANSWER BATCH_CLASH,
    BATCH_READS BATCH_TAGS BATCH_POINTS BATCH_ANSWER,
    BATCH_READS BATCH_PARAMS BATCH_TAGS BATCH_POINTS BATCH_ANSWER BATCH_CLASH,
};
static const char *const batch_names[8] = {
    "run_batch_none", "run_batch_p",  "run_batch_t",  "run_batch_pt",
    "run_batch_m",    "run_batch_pm", "run_batch_tm", "run_batch_ptm",
};

/* The points' columns as array literals into cols[0..4). */
static void point_arrays(const struct metric *metrics, const int32_t *ids, size_t n,
                         struct sbuf *cols)
{
    for (int c = 0; c < 4; c++) {
        sbuf_init(&cols[c]);
        sbuf_addc(&cols[c], '{');
    }
    for (size_t i = 0; i < n; i++) {
        su_array_int64(&cols[0], ids[i], i == 0);
        su_array_int64(&cols[1], metrics[i].step, i == 0);
        su_array_int64(&cols[2], metrics[i].timestamp, i == 0);
        su_array_double(&cols[3], metrics[i].value, i == 0);
    }
    for (int c = 0; c < 4; c++)
        sbuf_addc(&cols[c], '}');
}

int store_batch_call(const char *run_id, const struct metric *metrics, size_t nmetrics,
                     const struct kv *params, size_t nparams, const struct kv *tags, size_t ntags,
                     struct store_call *c)
{
    struct sbuf pk, pv, tk, tv, pc[4];
    int32_t *ids = xmalloc((nmetrics + 1) * sizeof *ids);
    int rc = nmetrics > 0 ? store_metrics_key_ids(metrics, nmetrics, ids) : DB_OK;
    int mix = (nparams > 0 ? HAS_PARAMS : 0) | (ntags > 0 ? HAS_TAGS : 0) |
              (nmetrics > 0 ? HAS_POINTS : 0);

    store_call_init(c, batch_names[mix], batch_sql[mix], 9);
    store_call_param(c, 0, run_id);
    su_kv_arrays(&pk, &pv, params, nparams);
    su_kv_arrays(&tk, &tv, tags, ntags);
    point_arrays(metrics, ids, rc == DB_OK ? nmetrics : 0, pc);
    store_call_param_sbuf(c, 1, &pk);
    store_call_param_sbuf(c, 2, &pv);
    store_call_param_sbuf(c, 3, &tk);
    store_call_param_sbuf(c, 4, &tv);
    for (int i = 0; i < 4; i++)
        store_call_param_sbuf(c, 5 + i, &pc[i]);
    free(ids);
    return rc;
}

int store_batch_answer(const struct store_call *c, struct arena *arena,
                       struct param_conflict *conflict)
{
    const PGresult *res = c->res;
    if (c->rc != DB_OK)
        return c->rc;
    if (PQntuples(res) == 0)
        return DB_NOT_FOUND;
    if (!su_active(res, 0, 0))
        return DB_STATE;
    if (PQgetisnull(res, 0, 1))
        return DB_OK;
    if (conflict != NULL && arena != NULL) {
        conflict->key = su_str(res, 0, 1, arena);
        conflict->old_value = su_str(res, 0, 2, arena);
        conflict->new_value = su_str(res, 0, 3, arena);
    }
    return DB_EXISTS;
}

int store_batch_write(const char *run_id, const struct metric *metrics, size_t nmetrics,
                      const struct kv *params, size_t nparams, const struct kv *tags, size_t ntags,
                      struct arena *arena, struct param_conflict *conflict)
{
    struct store_call c;
    int rc = store_batch_call(run_id, metrics, nmetrics, params, nparams, tags, ntags, &c);
    if (rc == DB_OK) {
        store_call_run(&c);
        rc = store_batch_answer(&c, arena, conflict);
    }
    store_call_cleanup(&c);
    return rc;
}
