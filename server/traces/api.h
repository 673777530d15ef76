/* Handlers of server/traces/: MLflow 3 GenAI traces (mlflow-models-api.md
 * section 3): the V2 protocol under /api/2.0/mlflow, the V3 protocol under
 * /api/3.0/mlflow, assessments, OTLP span ingest at /v1/traces, and the
 * rollups of /api/2.0/exptrack/traces/stats. Each decodes and validates its
 * input, calls the store, and encodes the reply; none writes SQL. Routes
 * with a trace id in the path are prefix routes: one handler per method
 * reads "<trace_id>[/...]" after "/mlflow/traces/". */
#ifndef ET_SERVER_TRACES_API_H
#define ET_SERVER_TRACES_API_H

#include "routes.h"

/* api_traces_v2.c */
/* POST /mlflow/traces (StartTrace). */
void api_traces_v2_start(const struct request *req, struct reply *r);
/* GET /mlflow/traces/{id}/info. */
void api_traces_v2_get_path(const struct request *req, struct reply *r);
/* PATCH /mlflow/traces/{id} (EndTrace) and /mlflow/traces/{id}/tags, both
 * versions. */
void api_traces_patch_path(const struct request *req, struct reply *r);
/* DELETE /mlflow/traces/{id}/tags, both versions, and the V3
 * .../{id}/assessments/{assessment_id}. */
void api_traces_delete_path(const struct request *req, struct reply *r);
/* POST /mlflow/traces/delete-traces, both versions. */
void api_traces_delete_traces(const struct request *req, struct reply *r);
/* POST /mlflow/traces/link-to-run. */
void api_traces_link_to_run(const struct request *req, struct reply *r);
/* GET /api/2.0/exptrack/traces/runs?trace_id=: the runs a trace names (its
 * source run and the runs linked by link-to-run), for the dashboard. */
void api_traces_runs(const struct request *req, struct reply *r);
/* POST /mlflow/traces/link-prompts. */
void api_traces_link_prompts(const struct request *req, struct reply *r);
/* GET /mlflow/get-trace-artifact?request_id=: the spans as traces.json. */
void api_traces_get_artifact(const struct request *req, struct reply *r);

/* api_traces_search.c */
/* GET /mlflow/traces (SearchTraces, V2). */
void api_traces_v2_search(const struct request *req, struct reply *r);
/* POST /api/3.0/mlflow/traces/search (SearchTracesV3). */
void api_traces_v3_search(const struct request *req, struct reply *r);
/* GET /api/2.0/exptrack/traces/stats: token and latency rollups. */
void api_traces_stats(const struct request *req, struct reply *r);

/* api_traces_v3.c */
/* POST /api/3.0/mlflow/traces (StartTraceV3: create or merge). */
void api_traces_v3_create(const struct request *req, struct reply *r);
/* GET /api/3.0/mlflow/traces/{id} and .../{id}/assessments/{aid}. */
void api_traces_v3_get_path(const struct request *req, struct reply *r);
/* POST /api/3.0/mlflow/traces/{id}/assessments. */
void api_traces_v3_post_path(const struct request *req, struct reply *r);
/* GET /api/3.0/mlflow/traces/get?trace_id=&allow_partial=. */
void api_traces_v3_get_trace(const struct request *req, struct reply *r);
/* GET /api/3.0/mlflow/traces/batchGet?trace_ids=... */
void api_traces_v3_batch_get(const struct request *req, struct reply *r);

/* api_traces_file.c */
/* Largest traces.json whose spans are stored (a larger one is a file only). */
#define TRACE_FILE_MAX_BYTES (64 * 1024 * 1024)
/* Called by the artifact proxy after it stored a trace's traces.json
 * (text[0..len)): parses the spans (the 3.x shape and the older 2.x one)
 * and replaces the trace's stored spans with them in one transaction.
 * Best effort: a file that does not parse, or names more than one trace,
 * leaves the stored spans as they were (logged). */
void api_traces_span_file(const char *trace_id, const char *text, size_t len);

/* api_traces_otlp.c */
/* POST /v1/traces: OTLP/HTTP span ingest (streamed body). */
extern const struct upload_ops api_traces_otlp_upload;

/* Sets the largest body POST /v1/traces takes, raw and once inflated
 * (bytes; --max-body-size, as the other routes' bodies). Call once before
 * the HTTP server starts; the default is 16 MiB. */
void api_traces_otlp_configure(size_t max_body);

#endif
