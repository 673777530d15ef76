/* The history endpoints' own piece that other api files use: the streamed
 * whole-series reply of metrics/get-history (its number encoders are
 * core/json_writer's). The handlers themselves are declared in api.h. */
#ifndef ET_SERVER_API_HISTORY_H
#define ET_SERVER_API_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "core/reply.h"
#include "store_history.h"

/* Answers get-history: {} when the run, the key or the series does not
 * exist, or nothing is left after from (MLflow's reply), else
 * {"metrics": [...]} in (step, timestamp, value) order, streamed as it is
 * read with constant memory. from (NULL: the first point) is where the read
 * starts (api_history_token_decode). max_results > 0 makes it a page: at
 * most that many points, and "next_page_token" after them when more
 * follow; 0 reads to the end. run_id must be 32 lowercase hex (validated by
 * the caller). */
void api_history_stream(const char *run_id, const char *key, const struct history_start *from,
                        int64_t max_results, struct reply *r);

/* Decodes a get-history page token into where the next page starts: a
 * keyset token (the last point of the page before) or the offset token of
 * an earlier version (base64 of {"offset": N}, still accepted). Returns 0,
 * or -1 for a token this server did not make. */
int api_history_token_decode(const char *token, struct history_start *from);

#endif
