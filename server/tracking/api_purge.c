/* POST /api/2.0/exptrack/runs/purge: permanent deletion of runs that are in
 * the deleted lifecycle stage (admins only, by its route rule; audited by
 * auth_after_finish like every state change). Decode -> store -> encode; no SQL. */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "api_common.h"
#include "common/sbuf.h"
#include "store_purge.h"
#include "core/validate.h"

#define PURGE_MAX_RUNS 1000
#define PURGE_LIST_SHOWN 20 /* ids named in an error message, at most */

/* "a, b, c and 7 more" of the first ids into b. */
static void id_list(struct sbuf *b, const char *const *ids, size_t n)
{
    for (size_t i = 0; i < n && i < PURGE_LIST_SHOWN; i++)
        sbuf_addf(b, "%s%s", i ? ", " : "", ids[i]);
    if (n > PURGE_LIST_SHOWN)
        sbuf_addf(b, " and %zu more", n - PURGE_LIST_SHOWN);
}

/* Reads run_ids (1..PURGE_MAX_RUNS, each 32 lowercase hex). */
static int read_run_ids(const json_t *arr, struct arena *arena, const char ***ids, size_t *n,
                        struct reply *r)
{
    *n = json_array_size(arr);
    if (*n == 0 || *n > PURGE_MAX_RUNS) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter 'run_ids': give between 1 and %d run ids",
                    PURGE_MAX_RUNS);
        return JX_BAD;
    }
    *ids = arena_alloc(arena, (*n + 1) * sizeof **ids);
    for (size_t i = 0; i < *n; i++) {
        if (jx_array_string(arr, i, "run_ids", &(*ids)[i], r) != JX_OK)
            return JX_BAD;
        if (!validate_is_run_id((*ids)[i])) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                        "Invalid value '%.64s' for parameter 'run_ids': a run id is 32 lowercase "
                        "hexadecimal digits",
                        (*ids)[i]);
            return JX_BAD;
        }
    }
    return JX_OK;
}

static void refuse(struct reply *r, int rc, const struct purge_result *res)
{
    struct sbuf b;
    sbuf_init(&b);
    id_list(&b, res->refused, res->nrefused);
    if (rc == DB_STATE)
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter 'run_ids': only deleted runs can be purged, and "
                    "these are not deleted: %s",
                    b.data);
    else
        reply_error(r, ERR_RESOURCE_DOES_NOT_EXIST, "No run exists with these ids: %s", b.data);
    sbuf_cleanup(&b);
}

static json_t *result_json(const struct purge_result *res)
{
    json_t *ids = json_array();
    for (size_t i = 0; i < res->npurged; i++)
        json_array_append_new(ids, json_string(res->purged[i]));
    return json_pack("{s:o, s:I, s:I, s:I, s:I}", "purged_run_ids", ids, "metric_points",
                     (json_int_t)res->points, "artifact_files", (json_int_t)res->artifact_files,
                     "artifact_blobs", (json_int_t)res->blobs, "artifact_bytes",
                     (json_int_t)res->bytes);
}

/* {experiment_id, older_than?}: every deleted run of the experiment. */
static void purge_experiment(const struct input *in, struct arena *arena, struct reply *r)
{
    int64_t exp, older = 0;
    struct purge_result res;

    if (input_experiment_id(in, "experiment_id", &exp, r) != JX_OK)
        return;
    int has_older = jx_int64(in, "older_than", &older, r);
    if (has_older == JX_BAD)
        return;
    int rc = store_purge_experiment(exp, has_older == JX_OK, older, arena, &res);
    if (rc != DB_OK) {
        reply_store_experiment_not_found(r, rc, exp);
        return;
    }
    reply_json(r, result_json(&res));
}

void api_exptrack_runs_purge(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    const json_t *arr;
    const char **ids;
    size_t n;
    struct purge_result res;

    arena_init(&arena);
    int has_ids = jx_array(&in, "run_ids", &arr, r);
    if (has_ids == JX_BAD)
        goto out;
    int has_exp = json_object_get(req->input, "experiment_id") != NULL;
    if ((has_ids == JX_OK) == has_exp) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameters 'run_ids' and 'experiment_id': give exactly "
                    "one of them");
        goto out;
    }
    if (has_exp) {
        purge_experiment(&in, &arena, r);
        goto out;
    }
    if (read_run_ids(arr, &arena, &ids, &n, r) != JX_OK)
        goto out;
    int rc = store_purge_runs((const char *const *)ids, n, &arena, &res);
    if (rc == DB_NOT_FOUND || rc == DB_STATE)
        refuse(r, rc, &res);
    else if (rc != DB_OK)
        reply_store_error(r, rc, "run not found");
    else
        reply_json(r, result_json(&res));
out:
    arena_cleanup(&arena);
}
