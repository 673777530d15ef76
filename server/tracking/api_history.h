/* The history endpoints' own piece that other api files use: the streamed
 * whole-series reply of metrics/get-history (its number encoders are
 * core/json_writer's). The handlers themselves are declared in api.h. */
#ifndef ET_SERVER_API_HISTORY_H
#define ET_SERVER_API_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "core/reply.h"

/* Answers get-history of a whole series: {} when the run, the key or the
 * series does not exist (MLflow's reply), else {"metrics": [...]} in
 * (step, timestamp, value) order, streamed as it is read with constant
 * memory. run_id must be 32 lowercase hex (validated by the caller). */
void api_history_stream(const char *run_id, const char *key, struct reply *r);

#endif
