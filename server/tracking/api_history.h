/* The history endpoints' own pieces that other api files use: the streamed
 * whole-series reply of metrics/get-history and the number encoders behind
 * it. The handlers themselves are declared in api.h. */
#ifndef ET_SERVER_API_HISTORY_H
#define ET_SERVER_API_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "core/reply.h"

/* Longest text api_history_double writes. */
#define API_HISTORY_DOUBLE_MAX 32

/* Answers get-history of a whole series: {} when the run, the key or the
 * series does not exist (MLflow's reply), else {"metrics": [...]} in
 * (step, timestamp, value) order, streamed as it is read with constant
 * memory. run_id must be 32 lowercase hex (validated by the caller). */
void api_history_stream(const char *run_id, const char *key, struct reply *r);

/* Writes v as a JSON value into out (>= API_HISTORY_DOUBLE_MAX bytes, not
 * NUL-terminated) and returns its length: NaN and the infinities as the
 * contract's strings "NaN", "Infinity", "-Infinity"; any other value as a
 * number in the fewest digits (Grisu2: shortest in all but rare cases, never
 * more than 17) that read back as exactly v, with ".0" on integers in plain
 * notation (1.0, -0.0, 1e+300 as "1e300"). */
size_t api_history_double(char *out, double v);

/* Writes v in decimal into out (>= 20 bytes, not NUL-terminated); returns
 * the length. */
size_t api_history_int64(char *out, int64_t v);

#endif
