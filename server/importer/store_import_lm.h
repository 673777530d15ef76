/* SQL of the logged-model import: a model created with the caller's id,
 * times, status and lifecycle, with its params, tags and metric rows. */
#ifndef ET_SERVER_IMPORTER_STORE_IMPORT_LM_H
#define ET_SERVER_IMPORTER_STORE_IMPORT_LM_H

#include <stddef.h>
#include <stdint.h>

#include "db/store.h"

/* One metric row of a model; run_id and the dataset fields are "" when the
 * point had none. */
struct import_lm_metric {
    const char *key;
    double value;
    int64_t timestamp;
    int64_t step;
    const char *run_id;
    const char *dataset_name;
    const char *dataset_digest;
};

/* A logged model as the importer gives it. */
struct import_lm {
    const char *model_id; /* "m-" + 32 lowercase hex */
    int64_t experiment_id;
    const char *name;
    const char *model_type;
    const char *source_run_id;
    int status; /* LoggedModelStatus number 0..3 */
    int deleted;
    int64_t creation_time;
    int64_t last_updated_time;
    const struct kv *params; /* keys distinct */
    size_t nparams;
    const struct kv *tags; /* a repeated key keeps its last value */
    size_t ntags;
    const struct import_lm_metric *metrics;
    size_t nmetrics;
};

/* In one transaction: inserts the model (artifact location as logged-models
 * create makes it) unless a model with that id, experiment and creation
 * time exists already (an earlier, interrupted import: *created is then 0),
 * then adds params (a key already there is kept), tags (upserted) and
 * metric rows (identical rows ignored). So a repeated call changes nothing.
 * DB_EXISTS: the id is taken by another model; DB_NOT_FOUND: no such
 * experiment; DB_STATE: the experiment is deleted. */
int store_import_logged_model(const struct import_lm *m, int *created);

#endif
