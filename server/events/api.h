/* Handlers of server/events/: the live stream. */
#ifndef ET_SERVER_EVENTS_API_H
#define ET_SERVER_EVENTS_API_H

#include "routes.h"

/* GET exptrack/stream?run_id=..&experiment_id=..: server-sent events of the
 * watched runs and experiments, fed by the notification hub (notify.h); at
 * least one id, at most 100 of each, every one existing and (with --auth)
 * readable. "retry: 2000", then `event: run` with data {"run_id",
 * "experiment_id", "kind"} per change, `event: resync` when changes may
 * have been missed, ": ping" comments while idle. An open stream holds no
 * HTTP worker thread (api_stream.c). */
void api_stream(const struct request *req, struct reply *r);

#endif
