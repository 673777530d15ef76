/* Handlers of server/importer/: the import API (docs/api-extensions.md,
 * "Import with the source's ids"). Admin only; used by `exptrack import`
 * to keep experiment and run ids, times, statuses and users that MLflow's
 * own API cannot set. */
#ifndef ET_SERVER_IMPORTER_API_H
#define ET_SERVER_IMPORTER_API_H

#include "routes.h"

/* POST /api/2.0/exptrack/import/experiments: creates an experiment with the
 * given id, name and times. A taken id or name is RESOURCE_ALREADY_EXISTS. */
void api_import_experiment(const struct request *req, struct reply *r);

/* POST /api/2.0/exptrack/import/runs: creates a run with the given id,
 * experiment, name, user, status and times. A taken run id is
 * RESOURCE_ALREADY_EXISTS; an unknown experiment RESOURCE_DOES_NOT_EXIST. */
void api_import_run(const struct request *req, struct reply *r);

/* POST /api/2.0/exptrack/import/logged-models: creates an MLflow 3 logged
 * model with the given id, experiment, name, status, lifecycle and times,
 * with params, tags and metric rows (at most 1,000 of each per call). A
 * repeated call for the same model (id, experiment, creation time) adds
 * what is missing and answers "created": false; an id held by another
 * model is RESOURCE_ALREADY_EXISTS. */
void api_import_logged_model(const struct request *req, struct reply *r);

#endif
