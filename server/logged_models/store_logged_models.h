/* MLflow 3 logged models in PostgreSQL (schema/0012_logged_models.sql):
 * the models, their tags and params, the metric rows linked to them (read
 * only here: the tracking writes fill them), and the search. Plain records
 * in and out (strings in the caller's arena); returns db_status values and
 * the codes below. Never JSON, never HTTP. */
#ifndef ET_SERVER_LOGGED_MODELS_STORE_LOGGED_MODELS_H
#define ET_SERVER_LOGGED_MODELS_STORE_LOGGED_MODELS_H

#include <stddef.h>
#include <stdint.h>

#include "db/store.h"
#include "filter.h"

/* delete-tag: the model exists, the tag does not. */
#define DB_LM_NO_TAG (-30)

/* A row of logged_model_metrics. run_id and the dataset fields are "" when
 * the point had none. */
struct lm_metric {
    const char *key;
    double value;
    int64_t timestamp;
    int64_t step;
    const char *run_id;
    const char *dataset_name;
    const char *dataset_digest;
};

struct logged_model {
    const char *model_id;
    int64_t experiment_id;
    const char *name;
    const char *model_type;
    const char *source_run_id;
    int status; /* LoggedModelStatus number */
    const char *artifact_location;
    int deleted;
    int64_t creation_time;
    int64_t last_updated_time;
    struct kv *tags;
    size_t ntags;
    struct kv *params;
    size_t nparams;
    struct lm_metric *metrics;
    size_t nmetrics;
};

/* What logged-models create stores. */
struct logged_model_new {
    const char *model_id; /* "m-" + 32 hex, made by the caller */
    int64_t experiment_id;
    const char *name;
    const char *model_type;
    const char *source_run_id;
    const struct kv *params; /* keys distinct (the caller checks) */
    size_t nparams;
    const struct kv *tags; /* a repeated key keeps its last value */
    size_t ntags;
};

/* Creates a PENDING model in one transaction, its artifact location
 * "<experiment artifact_location>/models/<model_id>/artifacts".
 * DB_NOT_FOUND: no such experiment; DB_STATE: the experiment is deleted. */
int store_lm_create(const struct logged_model_new *in);

/* Reads a model with its tags, params and metric rows. DB_NOT_FOUND when
 * absent, or deleted and allow_deleted is 0. */
int store_lm_get(const char *model_id, int allow_deleted, struct arena *arena,
                 struct logged_model *out);

/* Sets the status (any of 0..3) and bumps the update time; deleted models
 * too. On DB_OK stores the model's experiment in *experiment_id (for the
 * live-update announcement). DB_NOT_FOUND when absent. */
int store_lm_finalize(const char *model_id, int status, int64_t *experiment_id);

/* Marks the model deleted and bumps its update time; on DB_OK stores its
 * experiment in *experiment_id. DB_NOT_FOUND when absent or already deleted. */
int store_lm_delete(const char *model_id, int64_t *experiment_id);

/* Upserts tags (a repeated key keeps its last value); on DB_OK stores the
 * model's experiment in *experiment_id. DB_NOT_FOUND when the model is absent. */
int store_lm_set_tags(const char *model_id, const struct kv *tags, size_t n,
                      int64_t *experiment_id);

/* Deletes one tag; on DB_OK stores the model's experiment in
 * *experiment_id. DB_NOT_FOUND: no model; DB_LM_NO_TAG: no such key. */
int store_lm_delete_tag(const char *model_id, const char *key, int64_t *experiment_id);

/* Inserts params (keys distinct). DB_NOT_FOUND: no model; DB_EXISTS: a key
 * is already logged. Nothing is written on failure. */
int store_lm_log_params(const char *model_id, const struct kv *params, size_t n);

/* A dataset restriction of a search or an order key ("" digest: any). */
struct lm_dataset {
    const char *name;
    const char *digest;
};

struct lm_order {
    struct lm_order_field field;
    int ascending;
    const char *dataset_name;   /* metric keys; NULL: any dataset */
    const char *dataset_digest; /* NULL: any digest */
};

struct lm_search {
    const int64_t *experiment_ids;
    size_t nexperiments;
    const struct lm_filter *filter;
    const struct lm_dataset *datasets;
    size_t ndatasets;
    const struct lm_order *order;
    size_t norder;
    int64_t offset;
    int64_t limit;
};

/* One statement: active models of the experiments matching every
 * condition, ordered (creation time DESC and model id ASC appended), up to
 * limit + 1 rows from offset, so *more tells whether a next page exists.
 * The models come with tags, params and metrics. */
int store_lm_search(const struct lm_search *q, struct arena *arena, struct logged_model **out,
                    size_t *n, int *more);

#endif
