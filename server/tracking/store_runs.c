/* Runs, params, tags, dataset inputs and log-batch: all their SQL. A run is
 * addressed by its uuid from outside and by its bigint id inside. */
#include "store_runs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mlflow_tags.h"
#include "common/sbuf.h"
#include "common/xalloc.h"
#include "store_batch.h"
#include "store_idempotency.h"
#include "store_metrics.h"
#include "store_search.h"
#include "db/store_call.h"
#include "db/store_util.h"

#define MAX_TX_RETRIES 3

#define RUN_COLUMNS                                                                                \
    "r.id, r.run_uuid, r.experiment_id, r.name, r.user_id, r.status, r.start_time,"                \
    " r.end_time, r.lifecycle_stage, r.artifact_uri"

/* Finds a run: its internal id, and DB_STATE when it is deleted. */
static const char resolve_sql[] = "SELECT id, lifecycle_stage FROM runs WHERE run_uuid = $1::uuid";

/* The internal id of an active run from the result of resolve_sql. */
static int resolved(PGresult *res, int64_t *internal_id)
{
    int rc;
    if (PQntuples(res) == 0) {
        rc = DB_NOT_FOUND;
    } else {
        *internal_id = su_int64(res, 0, 0);
        rc = su_active(res, 0, 1) ? DB_OK : DB_STATE;
    }
    PQclear(res);
    return rc;
}

static int resolve(const char *run_id, int64_t *internal_id)
{
    const char *params[] = {run_id};
    PGresult *res = NULL;
    int rc = db_exec(resolve_sql, 1, params, &res);
    return rc == DB_OK ? resolved(res, internal_id) : rc;
}

/* BEGIN and resolve() in one round trip. */
static int begin_resolve(const char *run_id, int64_t *internal_id)
{
    const char *params[] = {run_id};
    PGresult *res = NULL;
    int rc = db_exec_pair("BEGIN", 0, NULL, NULL, resolve_sql, 1, params, &res);
    return rc == DB_OK ? resolved(res, internal_id) : rc;
}

static void add_kv_arrays(struct sbuf *keys, struct sbuf *vals, const struct kv *kv, size_t n)
{
    sbuf_addc(keys, '{');
    sbuf_addc(vals, '{');
    for (size_t i = 0; i < n; i++) {
        su_array_text(keys, kv[i].key, i == 0);
        su_array_text(vals, kv[i].value, i == 0);
    }
    sbuf_addc(keys, '}');
    sbuf_addc(vals, '}');
}

/* Upserts tags of a run (last value of a repeated key wins); a runName tag
 * renames the run too. Runs inside the caller's transaction. */
static int write_tags(int64_t internal_id, const struct kv *tags, size_t n)
{
    struct sbuf keys, vals;
    char id[24];
    int rc;

    if (n == 0)
        return DB_OK;
    sbuf_init(&keys);
    sbuf_init(&vals);
    add_kv_arrays(&keys, &vals, tags, n);
    const char *params[] = {su_i64(id, internal_id), keys.data, vals.data};
    rc = db_exec("WITH t AS ("
                 "  SELECT DISTINCT ON (k) k, v FROM unnest($2::text[], $3::text[])"
                 "  WITH ORDINALITY AS u(k, v, o) ORDER BY k, o DESC),"
                 " up AS (UPDATE runs SET name = t.v FROM t"
                 "  WHERE runs.id = $1 AND t.k = '" MLFLOW_TAG_RUN_NAME "'),"
                 " ek AS (INSERT INTO experiment_keys (experiment_id, kind, key)"
                 "  SELECT r.experiment_id, 't', t.k FROM runs r, t WHERE r.id = $1 ORDER BY 3"
                 "  ON CONFLICT DO NOTHING)"
                 " INSERT INTO tags (run_id, key, value) SELECT $1, k, v FROM t ORDER BY k"
                 " ON CONFLICT (run_id, key) DO UPDATE SET value = EXCLUDED.value",
                 3, params, NULL);
    sbuf_cleanup(&keys);
    sbuf_cleanup(&vals);
    return rc;
}

/* runs/create in one statement (its own transaction): the run inserted
 * only into an active experiment, with its tags (the last of a repeated
 * key wins). One row when the experiment exists: the run's RUN_COLUMNS
 * (NULL when none was inserted), then the experiment's stage. */
static const char create_sql[] =
    "WITH e AS (SELECT experiment_id, lifecycle_stage, artifact_location FROM experiments"
    "   WHERE experiment_id = $2),"
    " r AS (INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time,"
    "   artifact_uri)"
    "   SELECT $1::uuid, e.experiment_id, $3, $4, 1, $5,"
    "     e.artifact_location || '/' || $6::text || '/artifacts'"
    "   FROM e WHERE e.lifecycle_stage = 'active' RETURNING *),"
    " t AS (INSERT INTO tags (run_id, key, value)"
    "   SELECT r.id, u.k, u.v FROM r, (SELECT DISTINCT ON (k) k, v"
    "     FROM unnest($7::text[], $8::text[]) WITH ORDINALITY AS u(k, v, o) ORDER BY k, o DESC) u"
    "   ORDER BY 2),"
    " tk AS (INSERT INTO experiment_keys (experiment_id, kind, key)"
    "   SELECT DISTINCT r.experiment_id, 't'::\"char\", u.k FROM r, unnest($7::text[]) AS u(k)"
    "   ORDER BY 3 ON CONFLICT DO NOTHING)"
    " SELECT " RUN_COLUMNS ", e.lifecycle_stage FROM e LEFT JOIN r ON true";

/* A tag and its position in the request. */
struct tag_at {
    struct kv kv;
    size_t at;
};

static int cmp_tag_at(const void *pa, const void *pb)
{
    const struct tag_at *a = pa, *b = pb;
    int c = strcmp(a->kv.key, b->kv.key);
    return c != 0 ? c : (a->at > b->at) - (a->at < b->at);
}

/* The tags a create stored, as a read lists them: one per key (the last
 * given wins), sorted by key bytewise. */
static void created_tags(const struct kv *tags, size_t n, struct arena *arena, struct run *out)
{
    struct tag_at *all = xmalloc((n + 1) * sizeof *all);
    for (size_t i = 0; i < n; i++)
        all[i] = (struct tag_at){tags[i], i};
    qsort(all, n, sizeof *all, cmp_tag_at);
    out->tags = arena_alloc(arena, (n + 1) * sizeof *out->tags);
    out->ntags = 0;
    for (size_t i = 0; i < n; i++)
        if (i + 1 == n || strcmp(all[i].kv.key, all[i + 1].kv.key) != 0)
            out->tags[out->ntags++] = all[i].kv; /* the last of its key */
    free(all);
}

void store_run_create_call(const struct run_create *in, struct store_call *c)
{
    char exp[24], start[24];
    struct sbuf keys, vals;

    store_call_init(c, "run_create", create_sql, 8);
    store_call_param(c, 0, in->run_id);
    store_call_param(c, 1, su_i64(exp, in->experiment_id));
    store_call_param(c, 2, in->name);
    store_call_param(c, 3, in->user_id);
    store_call_param(c, 4, su_i64(start, in->start_time));
    store_call_param(c, 5, in->run_id);
    su_kv_arrays(&keys, &vals, in->tags, in->ntags);
    store_call_param_sbuf(c, 6, &keys);
    store_call_param_sbuf(c, 7, &vals);
}

int store_run_create_answer(const struct store_call *c, const struct run_create *in,
                            struct arena *arena, struct run *out)
{
    const PGresult *res = c->res;
    memset(out, 0, sizeof *out);
    if (c->rc != DB_OK)
        return c->rc;
    if (PQntuples(res) == 0)
        return DB_NOT_FOUND;
    if (!su_active(res, 0, 10) || PQgetisnull(res, 0, 0))
        return DB_STATE;
    su_run_info(res, 0, arena, &out->info);
    created_tags(in->tags, in->ntags, arena, out); /* a new run has nothing else */
    return DB_OK;
}

int store_run_create(const struct run_create *in, struct arena *arena, struct run *out)
{
    struct store_call c;

    store_run_create_call(in, &c);
    store_call_run(&c);
    int rc = store_run_create_answer(&c, in, arena, out);
    store_call_cleanup(&c);
    return rc;
}

int store_run_get(const char *run_id, struct arena *arena, struct run *out)
{
    const char *params[] = {run_id};
    PGresult *res = NULL;

    memset(out, 0, sizeof *out);
    int rc =
        db_exec("SELECT " RUN_COLUMNS " FROM runs r WHERE r.run_uuid = $1::uuid", 1, params, &res);
    if (rc != DB_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return DB_NOT_FOUND;
    }
    su_run_info(res, 0, arena, &out->info);
    PQclear(res);
    return store_search_load_children(out, 1, NULL, arena);
}

/* runs/update in one statement (its own transaction): the fields given
 * ($2 status, $3 end time, $4 name; NULL: unchanged) of an active run. One
 * row when the run exists: its RUN_COLUMNS after the update (NULL when it
 * is deleted), then its stage. */
#define UPDATE_RUN                                                                                 \
    "WITH cur AS (SELECT id, lifecycle_stage FROM runs WHERE run_uuid = $1::uuid),"                \
    " r AS (UPDATE runs u SET status = coalesce($2::smallint, u.status),"                          \
    "   end_time = CASE WHEN $3::bigint IS NULL THEN u.end_time ELSE $3 END,"                      \
    "   name = coalesce($4, u.name)"                                                               \
    "   FROM cur WHERE u.id = cur.id AND cur.lifecycle_stage = 'active' RETURNING u.*)"
#define UPDATE_ANSWER " SELECT " RUN_COLUMNS ", cur.lifecycle_stage FROM cur LEFT JOIN r ON true"
static const char update_sql[] = UPDATE_RUN UPDATE_ANSWER;
/* With a new name, which is mirrored into the mlflow.runName tag. */
static const char update_named_sql[] =
    UPDATE_RUN ", t AS (INSERT INTO tags (run_id, key, value)"
               "   SELECT id, '" MLFLOW_TAG_RUN_NAME "', $4 FROM r"
               "   ON CONFLICT (run_id, key) DO UPDATE SET value = EXCLUDED.value),"
               " tk AS (INSERT INTO experiment_keys (experiment_id, kind, key)"
               "   SELECT experiment_id, 't', '" MLFLOW_TAG_RUN_NAME "' FROM r"
               "   ON CONFLICT DO NOTHING)" UPDATE_ANSWER;

void store_run_update_call(const char *run_id, int status, int has_end_time, int64_t end_time,
                           const char *name, struct store_call *c)
{
    char st[8], end[24];
    int named = name != NULL && name[0];

    snprintf(st, sizeof st, "%d", status);
    if (named)
        store_call_init(c, "run_update_named", update_named_sql, 4);
    else
        store_call_init(c, "run_update", update_sql, 4);
    store_call_param(c, 0, run_id);
    store_call_param(c, 1, status ? st : NULL);
    store_call_param(c, 2, has_end_time ? su_i64(end, end_time) : NULL);
    store_call_param(c, 3, named ? name : NULL);
}

int store_run_update_answer(const struct store_call *c, struct arena *arena, struct run_info *out)
{
    const PGresult *res = c->res;
    if (c->rc != DB_OK)
        return c->rc;
    if (PQntuples(res) == 0)
        return DB_NOT_FOUND;
    if (!su_active(res, 0, 10) || PQgetisnull(res, 0, 0))
        return DB_STATE;
    su_run_info(res, 0, arena, out);
    return DB_OK;
}

int store_run_update(const char *run_id, int status, int has_end_time, int64_t end_time,
                     const char *name, struct arena *arena, struct run_info *out)
{
    struct store_call c;

    store_run_update_call(run_id, status, has_end_time, end_time, name, &c);
    store_call_run(&c);
    int rc = store_run_update_answer(&c, arena, out);
    store_call_cleanup(&c);
    return rc;
}

int store_run_set_deleted(const char *run_id, int deleted)
{
    char now[24];
    const char *params[] = {run_id, store_lifecycle_name(deleted),
                            deleted ? su_i64(now, store_now_ms()) : NULL};
    PGresult *res = NULL;
    int rc = db_exec("UPDATE runs SET lifecycle_stage = $2, deleted_time = $3::bigint"
                     " WHERE run_uuid = $1::uuid RETURNING 1",
                     3, params, &res);
    if (rc != DB_OK)
        return rc;
    rc = PQntuples(res) ? DB_OK : DB_NOT_FOUND;
    PQclear(res);
    return rc;
}

int store_run_set_tag(const char *run_id, const char *key, const char *value)
{
    struct kv tag = {key, value};
    return store_run_log_batch(run_id, NULL, 0, NULL, 0, &tag, 1, NULL, NULL);
}

int store_run_delete_tag(const char *run_id, const char *key, int *missing)
{
    int64_t internal_id = 0;
    char id[24];
    PGresult *res = NULL;

    *missing = 0;
    int rc = resolve(run_id, &internal_id);
    if (rc != DB_OK)
        return rc;
    const char *params[] = {su_i64(id, internal_id), key};
    rc = db_exec("DELETE FROM tags WHERE run_id = $1 AND key = $2 RETURNING 1", 2, params, &res);
    if (rc != DB_OK)
        return rc;
    *missing = PQntuples(res) == 0;
    PQclear(res);
    return DB_OK;
}

/* Inserts params not yet stored; DB_EXISTS with *conflict when a stored one
 * differs (the caller rolls back). The insert finds the stored value, also
 * one a concurrent transaction committed after this statement began (ON
 * CONFLICT reads the latest row, where a SELECT would read the snapshot):
 * such a row is "updated" to itself and returned. */
static int write_params(int64_t internal_id, const struct kv *params_in, size_t n,
                        struct arena *arena, struct param_conflict *conflict)
{
    struct sbuf keys, vals;
    char id[24];
    PGresult *res = NULL;
    int rc;

    if (n == 0)
        return DB_OK;
    sbuf_init(&keys);
    sbuf_init(&vals);
    add_kv_arrays(&keys, &vals, params_in, n);
    const char *params[] = {su_i64(id, internal_id), keys.data, vals.data};
    rc = db_exec("WITH i AS (SELECT * FROM unnest($2::text[], $3::text[]) AS u(k, v)),"
                 " ins AS (INSERT INTO params AS p (run_id, key, value)"
                 "   SELECT $1, k, v FROM i ORDER BY k ON CONFLICT (run_id, key)"
                 "   DO UPDATE SET value = p.value WHERE p.value <> EXCLUDED.value"
                 "   RETURNING p.key, p.value),"
                 " ek AS (INSERT INTO experiment_keys (experiment_id, kind, key)"
                 "   SELECT DISTINCT r.experiment_id, 'p'::\"char\", i.k FROM runs r, i"
                 "   WHERE r.id = $1 ORDER BY 3 ON CONFLICT DO NOTHING)"
                 " SELECT ins.key, ins.value, i.v FROM ins JOIN i ON i.k = ins.key"
                 " WHERE ins.value <> i.v LIMIT 1",
                 3, params, &res);
    sbuf_cleanup(&keys);
    sbuf_cleanup(&vals);
    if (rc != DB_OK)
        return rc;
    if (PQntuples(res) > 0) {
        if (conflict != NULL && arena != NULL) {
            conflict->key = su_str(res, 0, 0, arena);
            conflict->old_value = su_str(res, 0, 1, arena);
            conflict->new_value = su_str(res, 0, 2, arena);
        }
        rc = DB_EXISTS;
    }
    PQclear(res);
    return rc;
}

static int log_batch_once(const char *run_id, const char *idem_key, int *replayed,
                          const struct metric *metrics, size_t nmetrics, const struct kv *params,
                          size_t nparams, const struct kv *tags, size_t ntags, struct arena *arena,
                          struct param_conflict *conflict)
{
    int64_t internal_id = 0;
    int rc;

    if (idem_key != NULL) {
        if ((rc = db_begin()) != DB_OK)
            return rc;
        if ((rc = store_idempotency_claim(idem_key, replayed)) != DB_OK)
            goto fail;
        if (*replayed) {
            db_rollback(); /* applied before: write nothing */
            return DB_OK;
        }
        rc = resolve(run_id, &internal_id);
    } else {
        rc = begin_resolve(run_id, &internal_id);
    }
    if (rc != DB_OK)
        goto fail;
    if ((rc = write_params(internal_id, params, nparams, arena, conflict)) != DB_OK)
        goto fail;
    if ((rc = write_tags(internal_id, tags, ntags)) != DB_OK)
        goto fail;
    /* the points last: their last statement carries the COMMIT */
    if ((rc = store_metrics_write_commit(internal_id, metrics, nmetrics)) != DB_OK)
        goto fail;
    return DB_OK;
fail:
    db_rollback();
    return rc;
}

int store_run_log_batch(const char *run_id, const struct metric *metrics, size_t nmetrics,
                        const struct kv *params, size_t nparams, const struct kv *tags,
                        size_t ntags, struct arena *arena, struct param_conflict *conflict)
{
    return store_run_log_batch_idem(run_id, NULL, NULL, metrics, nmetrics, params, nparams, tags,
                                    ntags, arena, conflict);
}

/* Whether a batch's points allow the one-statement write: few enough, and
 * none for a logged model (those are written twice, on the transaction
 * path). */
static int one_statement(const struct metric *metrics, size_t n)
{
    if (n > STORE_BATCH_MAX_POINTS)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (metrics[i].link != NULL)
            return 0;
    return 1;
}

int store_run_log_batch_call(const char *run_id, const char *idem_key, const struct metric *metrics,
                             size_t nmetrics, const struct kv *params, size_t nparams,
                             const struct kv *tags, size_t ntags, struct store_call *c)
{
    if (idem_key != NULL || !one_statement(metrics, nmetrics))
        return STORE_NO_CALL;
    return store_batch_call(run_id, metrics, nmetrics, params, nparams, tags, ntags, c);
}

int store_run_log_batch_answer(const struct store_call *c, struct arena *arena,
                               struct param_conflict *conflict)
{
    return store_batch_answer(c, arena, conflict);
}

int store_run_log_batch_idem(const char *run_id, const char *idem_key, int *replayed,
                             const struct metric *metrics, size_t nmetrics, const struct kv *params,
                             size_t nparams, const struct kv *tags, size_t ntags,
                             struct arena *arena, struct param_conflict *conflict)
{
    int rc = DB_RETRY, dummy = 0;
    if (replayed == NULL)
        replayed = &dummy;
    *replayed = 0;
    if (idem_key == NULL && one_statement(metrics, nmetrics))
        return store_batch_write(run_id, metrics, nmetrics, params, nparams, tags, ntags, arena,
                                 conflict);
    for (int attempt = 0; attempt < MAX_TX_RETRIES && rc == DB_RETRY; attempt++)
        rc = log_batch_once(run_id, idem_key, replayed, metrics, nmetrics, params, nparams, tags,
                            ntags, arena, conflict);
    if (rc == DB_OK && idem_key != NULL && !*replayed)
        store_idempotency_expire_tick(1);
    return rc;
}

/* Links one dataset input to a run inside the caller's transaction. */
static int write_input(int64_t internal_id, const struct dataset_input *in)
{
    struct sbuf keys, vals;
    char id[24];
    const struct dataset *d = &in->dataset;

    sbuf_init(&keys);
    sbuf_init(&vals);
    add_kv_arrays(&keys, &vals, in->tags, in->ntags);
    const char *params[] = {su_i64(id, internal_id),
                            d->name,
                            d->digest,
                            d->source_type,
                            d->source,
                            d->schema,
                            d->profile,
                            keys.data,
                            vals.data};
    int rc = db_exec(
        "WITH run AS (SELECT experiment_id FROM runs WHERE id = $1),"
        " ins AS (INSERT INTO datasets (experiment_id, name, digest, source_type, source,"
        "   schema, profile) SELECT experiment_id, $2, $3, $4, $5, $6, $7 FROM run"
        "   ON CONFLICT (experiment_id, name, digest) DO NOTHING RETURNING id),"
        " ds AS (SELECT id FROM ins UNION ALL SELECT d.id FROM datasets d, run"
        "   WHERE d.experiment_id = run.experiment_id AND d.name = $2 AND d.digest = $3),"
        " link AS (INSERT INTO run_inputs (run_id, dataset_id) SELECT $1, id FROM ds LIMIT 1"
        "   ON CONFLICT DO NOTHING RETURNING dataset_id)"
        " INSERT INTO input_tags (run_id, dataset_id, key, value)"
        " SELECT DISTINCT ON (k) $1, link.dataset_id, k, v"
        " FROM link, unnest($8::text[], $9::text[]) WITH ORDINALITY AS u(k, v, o)"
        " ORDER BY k, o DESC",
        9, params, NULL);
    sbuf_cleanup(&keys);
    sbuf_cleanup(&vals);
    return rc;
}

/* The model id and step columns of links as array literals. */
static void model_link_arrays(struct sbuf *ids, struct sbuf *steps, const struct model_link *l,
                              size_t n)
{
    sbuf_init(ids);
    sbuf_init(steps);
    sbuf_addc(ids, '{');
    sbuf_addc(steps, '{');
    for (size_t i = 0; i < n; i++) {
        su_array_text(ids, l[i].model_id, i == 0);
        su_array_int64(steps, l[i].step, i == 0);
    }
    sbuf_addc(ids, '}');
    sbuf_addc(steps, '}');
}

/* Links logged models used by a run inside the caller's transaction. */
static int write_model_inputs(int64_t internal_id, const struct model_link *models, size_t n)
{
    struct sbuf ids, steps;
    char id[24];

    if (n == 0)
        return DB_OK;
    model_link_arrays(&ids, &steps, models, n);
    const char *params[] = {su_i64(id, internal_id), ids.data};
    int rc = db_exec("INSERT INTO run_model_inputs (run_id, model_id)"
                     " SELECT DISTINCT $1::bigint, m FROM unnest($2::text[]) AS u(m) ORDER BY 2"
                     " ON CONFLICT DO NOTHING",
                     2, params, NULL);
    sbuf_cleanup(&ids);
    sbuf_cleanup(&steps);
    return rc;
}

int store_run_log_inputs(const char *run_id, const struct dataset_input *inputs, size_t n,
                         const struct model_link *models, size_t nmodels)
{
    int64_t internal_id = 0;
    int rc;

    if ((rc = db_begin()) != DB_OK)
        return rc;
    if ((rc = resolve(run_id, &internal_id)) != DB_OK)
        goto fail;
    for (size_t i = 0; i < n; i++)
        if ((rc = write_input(internal_id, &inputs[i])) != DB_OK)
            goto fail;
    if ((rc = write_model_inputs(internal_id, models, nmodels)) != DB_OK)
        goto fail;
    return db_commit();
fail:
    db_rollback();
    return rc;
}

int store_run_log_outputs(const char *run_id, const struct model_link *models, size_t n)
{
    struct sbuf ids, steps;
    PGresult *res = NULL;

    model_link_arrays(&ids, &steps, models, n);
    const char *params[] = {run_id, ids.data, steps.data};
    /* one statement: the run looked up, the rows appended in request order
     * (seq is an identity, so the insert's order is their order) */
    int rc = db_exec("WITH run AS (SELECT id, lifecycle_stage FROM runs WHERE run_uuid = $1::uuid),"
                     " ins AS (INSERT INTO run_model_outputs (run_id, model_id, step)"
                     "   SELECT run.id, u.m, u.s FROM run,"
                     "     unnest($2::text[], $3::bigint[]) WITH ORDINALITY AS u(m, s, o)"
                     "   WHERE run.lifecycle_stage = 'active' ORDER BY u.o)"
                     " SELECT lifecycle_stage FROM run",
                     3, params, &res);
    if (rc == DB_OK)
        rc = PQntuples(res) == 0 ? DB_NOT_FOUND : su_active(res, 0, 0) ? DB_OK : DB_STATE;
    PQclear(res);
    sbuf_cleanup(&ids);
    sbuf_cleanup(&steps);
    return rc;
}
