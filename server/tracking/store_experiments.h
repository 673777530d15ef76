/* Experiments and their tags in PostgreSQL. Returns db_status values (and
 * DB_STATE from store.h); never JSON, never HTTP. */
#ifndef ET_SERVER_STORE_EXPERIMENTS_H
#define ET_SERVER_STORE_EXPERIMENTS_H

#include "db/store.h"

/* Creates an experiment. artifact_location NULL means "mlflow-artifacts:/<id>".
 * Stores *id. DB_EXISTS when the name is taken (by an active or deleted one). */
int store_experiment_create(const char *name, const char *artifact_location, const struct kv *tags,
                            size_t ntags, int64_t *id);

/* Reads one experiment with its tags into *out (strings in arena).
 * DB_NOT_FOUND when there is none. Deleted experiments are returned. */
int store_experiment_get(int64_t id, struct arena *arena, struct experiment *out);

/* Like store_experiment_get, by exact name. */
int store_experiment_get_by_name(const char *name, struct arena *arena, struct experiment *out);

/* Renames. DB_NOT_FOUND, DB_STATE (not active), DB_EXISTS (name taken). */
int store_experiment_rename(int64_t id, const char *new_name);

/* Soft-deletes (deleted=1) or restores (deleted=0) the experiment and all its
 * runs. DB_NOT_FOUND when absent or already in that state. */
int store_experiment_set_deleted(int64_t id, int deleted);

/* Upserts a tag. DB_NOT_FOUND, DB_STATE (experiment deleted). */
int store_experiment_set_tag(int64_t id, const char *key, const char *value);

/* Deletes a tag. DB_NOT_FOUND (experiment), DB_STATE (deleted); *missing is
 * set when the experiment is fine but had no such tag. */
int store_experiment_delete_tag(int64_t id, const char *key, int *missing);

/* Run counts and activity of one experiment (store_experiment_stats). Times
 * are ms since the epoch, 0 when there is nothing to take them from. */
struct experiment_stats {
    int64_t experiment_id;
    int64_t active_runs;    /* runs in the active lifecycle stage */
    int64_t deleted_runs;   /* runs in the deleted lifecycle stage */
    int64_t running_runs;   /* active runs with status RUNNING */
    int64_t last_run_start; /* newest start_time of an active run */
    /* the latest of: the experiment's last_update_time, an active run's
     * start or end time, and the newest point timestamp of an active RUNNING run */
    int64_t last_activity;
};

/* Reads the stats of the experiments in ids (n of them, duplicates allowed)
 * into *out (arena memory), one record per existing experiment, in the order
 * of ids' first occurrence; unknown ids are left out. One statement: per
 * experiment an index-only range scan of runs_experiment_stats (migration
 * 0008), plus the latest points of its RUNNING runs. */
int store_experiment_stats(const int64_t *ids, size_t n, struct arena *arena,
                           struct experiment_stats **out, size_t *nout);

#endif
