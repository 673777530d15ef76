/* The import API: experiments and runs created with the source's ids,
 * times, statuses and users, so that `exptrack import` keeps them. Decode
 * and validate -> store_import.c -> encode; no SQL here. */
#include <stdio.h>

#include "api.h"
#include "core/input.h"
#include "core/reply.h"
#include "core/reply_store.h"
#include "core/store_status.h"
#include "core/validate.h"
#include "import_fields.h"
#include "store_import.h"

static const char *const status_names[5] = {"RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"};

void api_import_experiment(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct import_experiment e;
    int64_t now = import_fields_now_ms();

    int rc = jx_int64(&in, "experiment_id", &e.experiment_id, r);
    if (rc == JX_BAD)
        return;
    if (rc == JX_ABSENT || e.experiment_id < 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter 'experiment_id': a non-negative integer is "
                    "required");
        return;
    }
    if (jx_required_string(&in, "name", &e.name, r) != JX_OK)
        return;
    if (input_check_length(e.name, "name", MAX_EXPERIMENT_NAME_LENGTH, r) != JX_OK)
        return;
    if (import_fields_time(&in, "creation_time", now, &e.creation_time, r) != JX_OK ||
        import_fields_time(&in, "last_update_time", e.creation_time, &e.last_update_time, r) !=
            JX_OK)
        return;
    rc = store_import_experiment(&e);
    if (rc == DB_EXISTS) {
        reply_error(r, ERR_RESOURCE_ALREADY_EXISTS,
                    "Experiment(experiment_id=%lld, name=%.500s) already exists: the id or the "
                    "name is taken",
                    (long long)e.experiment_id, e.name);
        return;
    }
    if (rc != DB_OK) {
        reply_store_error(r, rc, "experiment not found");
        return;
    }
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)e.experiment_id);
    reply_json(r, json_pack("{s:s}", "experiment_id", id));
}

void api_import_run(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct import_run run;
    int status = 1;

    if (jx_required_string(&in, "run_id", &run.run_id, r) != JX_OK)
        return;
    if (!validate_is_run_id(run.run_id)) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter 'run_id': it must be 32 lowercase hex digits");
        return;
    }
    if (input_experiment_id(&in, "experiment_id", &run.experiment_id, r) != JX_OK)
        return;
    if (import_fields_text(&in, "run_name", MAX_RUN_NAME_LENGTH, &run.name, r) != JX_OK ||
        import_fields_text(&in, "user_id", MAX_USER_ID_LENGTH, &run.user_id, r) != JX_OK)
        return;
    if (jx_enum(&in, "status", status_names, 5, &status, r) == JX_BAD)
        return;
    run.status = status;
    int rc = jx_int64(&in, "start_time", &run.start_time, r);
    if (rc == JX_BAD)
        return;
    if (rc == JX_ABSENT || run.start_time < 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter 'start_time': a non-negative time in ms is "
                    "required");
        return;
    }
    if (import_fields_time(&in, "end_time", -1, &run.end_time, r) != JX_OK)
        return;
    rc = store_import_run(&run);
    if (rc == DB_EXISTS) {
        reply_error(r, ERR_RESOURCE_ALREADY_EXISTS, "Run with id=%s already exists", run.run_id);
        return;
    }
    if (rc == DB_STATE) {
        reply_error(r, ERR_STATE_REFUSED,
                    "The experiment %lld must be in the 'active' state to import runs into it",
                    (long long)run.experiment_id);
        return;
    }
    if (rc != DB_OK) {
        reply_store_experiment_not_found(r, rc, run.experiment_id);
        return;
    }
    reply_json(r, json_pack("{s:s}", "run_id", run.run_id));
}
