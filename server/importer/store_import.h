/* SQL of the import API: rows created with the caller's ids and times. */
#ifndef ET_SERVER_IMPORTER_STORE_IMPORT_H
#define ET_SERVER_IMPORTER_STORE_IMPORT_H

#include <stdint.h>

/* An experiment as the importer gives it. */
struct import_experiment {
    int64_t experiment_id;
    const char *name;
    int64_t creation_time;
    int64_t last_update_time;
};

/* A run as the importer gives it; end_time < 0 means unset. */
struct import_run {
    const char *run_id; /* 32 lowercase hex digits */
    int64_t experiment_id;
    const char *name;
    const char *user_id;
    int status; /* RunStatus number 1..5 */
    int64_t start_time;
    int64_t end_time;
};

/* Inserts the experiment with its id (artifact location
 * mlflow-artifacts:/<id>) and raises the id sequence past it, in one
 * transaction. DB_EXISTS when the id or the name is taken. */
int store_import_experiment(const struct import_experiment *e);

/* Inserts the run under its experiment (artifact URI built like
 * runs/create's). DB_EXISTS when the run id is taken, DB_NOT_FOUND when the
 * experiment does not exist, DB_STATE when it is deleted. */
int store_import_run(const struct import_run *run);

#endif
