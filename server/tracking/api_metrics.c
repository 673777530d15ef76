/* metrics/get-history. Every read, whole series or a page of it, is
 * streamed as it is read by api_history_stream (api_history.c): memory stays
 * constant however long the series is, and a page of N points costs what N
 * points of the whole-series read cost. */
#include <stdint.h>

#include "api.h"
#include "api_common.h"
#include "api_history.h"
#include "core/validate.h"

#define HISTORY_MAX_RESULTS 1000000

void api_metrics_get_history(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct history_start from = {0};
    const char *run_id, *key, *token;
    int64_t max_results = 0;

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
    if (rc == JX_OK && token[0] && api_history_token_decode(token, &from) < 0) {
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
    /* max_results absent or 0: every point left (MLflow 2.x behaviour) */
    api_history_stream(run_id, key, &from, max_results, r);
}
