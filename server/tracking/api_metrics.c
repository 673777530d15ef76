/* Metric history reads. A whole series (no max_results, no page token) is
 * streamed as it is read by api_history_stream (api_history.c): memory stays
 * constant however long the series is. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_common.h"
#include "api_history.h"
#include "core/sbuf.h"
#include "store_metrics.h"
#include "core/validate.h"
#include "core/xalloc.h"

#define HISTORY_MAX_RESULTS 1000000

void api_metrics_get_history(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct metric *points;
    size_t n = 0;
    const char *run_id, *key, *token;
    int64_t max_results = 0, offset = 0;

    if (input_run_id(&in, &run_id, r) != JX_OK)
        return;
    if (jx_required_string(&in, "metric_key", &key, r) != JX_OK)
        return;
    int rc = jx_int64(&in, "max_results", &max_results, r);
    if (rc == JX_BAD)
        return;
    if (max_results < 0 || max_results > HISTORY_MAX_RESULTS) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value %lld for parameter 'max_results' supplied: it must be between "
                    "0 (all points) and %d",
                    (long long)max_results, HISTORY_MAX_RESULTS);
        return;
    }
    rc = jx_string(&in, "page_token", &token, r);
    if (rc == JX_BAD)
        return;
    if (rc == JX_OK && token[0] && input_page_token_decode(token, &offset) < 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid page token for parameter 'page_token': it was not made by this "
                    "server");
        return;
    }
    /* Unknown runs have no history: {} as in MLflow, never a 404. */
    if (!validate_is_run_id(run_id)) {
        reply_json(r, json_object());
        return;
    }
    if (max_results == 0 && offset == 0) {
        api_history_stream(run_id, key, r);
        return;
    }
    arena_init(&arena);
    /* absent or 0: every point (MLflow 2.x behaviour); else a page plus one
     * row to tell whether another page exists */
    rc = store_metric_history(run_id, key, offset, max_results ? max_results + 1 : -1, &arena,
                              &points, &n);
    if (rc != DB_OK) {
        reply_store_error(r, rc, "metric history not found");
        goto out;
    }
    json_t *obj = json_object();
    size_t shown = max_results && n > (size_t)max_results ? (size_t)max_results : n;
    if (shown > 0) {
        json_t *list = json_array();
        for (size_t i = 0; i < shown; i++)
            json_array_append_new(list, api_metric_json(&points[i]));
        json_object_set_new(obj, "metrics", list);
    }
    if (shown < n) {
        char *next = input_page_token_encode(offset + max_results);
        json_object_set_new(obj, "next_page_token", json_string(next));
        free(next);
    }
    reply_json(r, obj);
out:
    arena_cleanup(&arena);
}
