/* The storage layer's shared types: plain C records that carry experiments,
 * runs and metrics between api_* code and store_* code. No JSON, no HTTP, no
 * libpq types. Strings in records read from the database live in the
 * caller's arena. */
#ifndef ET_SERVER_STORE_H
#define ET_SERVER_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "db.h"

/* RunStatus numbers, as on the wire. */
enum run_status {
    RUN_RUNNING = 1,
    RUN_SCHEDULED = 2,
    RUN_FINISHED = 3,
    RUN_FAILED = 4,
    RUN_KILLED = 5,
};

/* ViewType numbers, as on the wire. */
enum view_type {
    VIEW_ACTIVE_ONLY = 1,
    VIEW_DELETED_ONLY = 2,
    VIEW_ALL = 3,
};

/* The two lifecycle stages of runs and experiments, spelled as the
 * lifecycle_stage columns hold them (their CHECK allows only these) and as
 * the wire carries them. */
#define STORE_LIFECYCLE_ACTIVE "active"
#define STORE_LIFECYCLE_DELETED "deleted"

/* The lifecycle stage text of a deleted flag (0: active). */
static inline const char *store_lifecycle_name(int deleted)
{
    return deleted ? STORE_LIFECYCLE_DELETED : STORE_LIFECYCLE_ACTIVE;
}

struct kv {
    const char *key;
    const char *value;
};

struct experiment {
    int64_t id;
    const char *name;
    const char *artifact_location;
    int deleted;
    int64_t creation_time;
    int64_t last_update_time;
    struct kv *tags;
    size_t ntags;
};

/* What ties a metric point to an MLflow 3 logged model (log-metric and
 * log-batch points with a model_id). */
struct metric_link {
    const char *model_id;       /* "m-" + 32 lowercase hex */
    const char *dataset_name;   /* "" when none */
    const char *dataset_digest; /* "" when none */
};

struct metric {
    const char *key;
    double value;
    int64_t timestamp;
    int64_t step;
    const struct metric_link *link; /* NULL: the point is the run's only */
};

/* A run's link to a logged model: runs/outputs (with the step) and
 * runs/log-inputs "models" (step unused). */
struct model_link {
    const char *model_id;
    int64_t step;
};

struct dataset {
    const char *name;
    const char *digest;
    const char *source_type;
    const char *source;
    const char *schema;  /* NULL when not given */
    const char *profile; /* NULL when not given */
};

struct dataset_input {
    struct dataset dataset;
    struct kv *tags;
    size_t ntags;
};

struct run_info {
    int64_t internal_id;
    char run_id[33]; /* 32 lowercase hex digits */
    int64_t experiment_id;
    const char *name;
    const char *user_id;
    int status;
    int64_t start_time;
    int64_t end_time;
    int has_end_time;
    int deleted;
    const char *artifact_uri;
};

struct run {
    struct run_info info;
    struct metric *metrics; /* latest value per key */
    size_t nmetrics;
    struct kv *params;
    size_t nparams;
    struct kv *tags;
    size_t ntags;
    struct dataset_input *inputs;
    size_t ninputs;
    struct model_link *model_outputs; /* in the order they were logged */
    size_t nmodel_outputs;
    struct model_link *model_inputs;
    size_t nmodel_inputs;
};

/* Milliseconds since the Unix epoch, from the server's clock. */
int64_t store_now_ms(void);

#endif
