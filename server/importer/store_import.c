/* SQL of the import API. Every value is a bound parameter. */
#include "store_import.h"

#include <libpq-fe.h>
#include <stdio.h>

#include "db/db.h"
#include "db/store_util.h"
#include <string.h>

int store_import_experiment(const struct import_experiment *e)
{
    char id[24], created[24], updated[24];
    const char *params[] = {su_i64(id, e->experiment_id), e->name,
                            su_i64(created, e->creation_time),
                            su_i64(updated, e->last_update_time)};
    int rc;

    if ((rc = db_begin()) != DB_OK)
        return rc;
    rc = db_exec("INSERT INTO experiments (experiment_id, name, artifact_location,"
                 "   creation_time, last_update_time)"
                 " VALUES ($1::bigint, $2, 'mlflow-artifacts:/' || $1::text, $3, $4)",
                 4, params, NULL);
    if (rc != DB_OK)
        goto fail;
    /* Later experiments/create calls must not pick this id again. */
    rc = db_exec("SELECT setval('experiments_id_seq',"
                 " greatest($1::bigint, (SELECT last_value FROM experiments_id_seq)))",
                 1, params, NULL);
    if (rc != DB_OK)
        goto fail;
    return db_commit();
fail:
    db_rollback();
    return rc;
}

int store_import_run(const struct import_run *run)
{
    char exp[24], status[8], start[24], end[24];
    snprintf(status, sizeof status, "%d", run->status);
    const char *params[] = {run->run_id,
                            su_i64(exp, run->experiment_id),
                            run->name,
                            run->user_id,
                            status,
                            su_i64(start, run->start_time),
                            run->end_time < 0 ? NULL : su_i64(end, run->end_time),
                            run->run_id};
    PGresult *res = NULL;

    int rc = db_begin();
    if (rc != DB_OK)
        return rc;
    rc = db_exec("INSERT INTO runs (run_uuid, experiment_id, name, user_id, status,"
                 "   start_time, end_time, artifact_uri)"
                 " SELECT $1::uuid, e.experiment_id, $3, $4, $5::smallint, $6, $7,"
                 "   e.artifact_location || '/' || $8::text || '/artifacts'"
                 " FROM experiments e WHERE e.experiment_id = $2::bigint"
                 " RETURNING (SELECT lifecycle_stage FROM experiments"
                 "   WHERE experiment_id = $2::bigint)",
                 8, params, &res);
    if (rc != DB_OK)
        goto fail;
    if (PQntuples(res) == 0) {
        rc = DB_NOT_FOUND;
        goto fail;
    }
    if (strcmp(PQgetvalue(res, 0, 0), "active") != 0) {
        rc = DB_STATE;
        goto fail;
    }
    PQclear(res);
    return db_commit();
fail:
    PQclear(res);
    db_rollback();
    return rc;
}
