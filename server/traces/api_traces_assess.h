/* Assessment handlers reached through the trace path routes
 * (mlflow-models-api.md 3.7). rest is what follows
 * "<trace_id>/assessments/" in the path. */
#ifndef ET_SERVER_TRACES_API_TRACES_ASSESS_H
#define ET_SERVER_TRACES_API_TRACES_ASSESS_H

#include "routes.h"

/* POST .../traces/{id}/assessments. */
void api_traces_assessment_create(const struct request *req, const char *trace_id, struct reply *r);
/* GET .../traces/{id}/assessments/{assessment_id}. */
void api_traces_assessment_get(const struct request *req, const char *trace_id, const char *rest,
                               struct reply *r);
/* PATCH .../traces/{id}/assessments/{assessment_id}. */
void api_traces_assessment_update(const struct request *req, const char *trace_id, const char *rest,
                                  struct reply *r);
/* DELETE .../traces/{id}/assessments/{assessment_id}. */
void api_traces_assessment_delete(const struct request *req, const char *trace_id, const char *rest,
                                  struct reply *r);

#endif
