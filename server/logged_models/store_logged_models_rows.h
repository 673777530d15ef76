/* Row reading shared by the logged-model store files. Store-internal. */
#ifndef ET_SERVER_LOGGED_MODELS_STORE_LOGGED_MODELS_ROWS_H
#define ET_SERVER_LOGGED_MODELS_STORE_LOGGED_MODELS_ROWS_H

#include <libpq-fe.h>

#include "common/sbuf.h"
#include "store_logged_models.h"

/* The columns lm_row reads, in order, for logged_models aliased m. */
#define LM_COLUMNS                                                                                 \
    "m.model_id, m.experiment_id, m.name, m.model_type, m.source_run_id, m.status,"                \
    " m.artifact_location, m.lifecycle_stage, m.creation_time, m.last_updated_time"

/* Reads LM_COLUMNS of row into out (children empty). */
void lm_row(const PGresult *res, int row, struct arena *arena, struct logged_model *out);

/* Fills tags, params and metrics of models[0..n) (three statements). */
int lm_load_children(struct logged_model *models, size_t n, struct arena *arena)
    __attribute__((warn_unused_result));

#endif
