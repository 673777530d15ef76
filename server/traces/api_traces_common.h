/* What the trace handlers share: ids, not-found replies, the V2 and V3
 * trace info JSON, assessments JSON, key/value readers, and the
 * Timestamp/Duration forms of the V3 protocol. No SQL. */
#ifndef ET_SERVER_TRACES_API_TRACES_COMMON_H
#define ET_SERVER_TRACES_API_TRACES_COMMON_H

#include <jansson.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/input.h"
#include "core/reply.h"
#include "store_traces.h"

/* Storage width of tag and metadata values (longer ones are cut). */
#define TRACE_MAX_VALUE 8000
#define TRACE_MAX_KEY 250
/* Most tags or metadata entries one request may carry. */
#define TRACE_MAX_ITEMS 1000
/* Width of the previews. */
#define TRACE_MAX_PREVIEW 1000

/* 1 when s is a trace id this server stores: 32 lowercase hex (V2) or
 * "tr-" + 32 lowercase hex (V3, OTLP). */
int trace_id_valid(const char *s);

/* A 404 for an unknown trace (or the store's error for any other rc). */
void trace_not_found(struct reply *r, int rc, const char *trace_id);

/* The store's error for a failed trace write that names an experiment. */
void trace_write_error(struct reply *r, int rc, int64_t experiment_id, const char *trace_id);

/* The V2 TraceInfo and the V3 TraceInfoV3 objects (new references). */
json_t *trace_info_v2_json(const struct trace_info *t);
json_t *trace_info_v3_json(const struct trace_info *t);

/* An Assessment object (new reference). */
json_t *trace_assessment_json(const struct trace_assessment *a);

/* Reads an optional [{key, value}] list (V2). Keys are checked (<= 250,
 * non-empty), values cut to 8000 characters. Returns JX_OK or JX_BAD. */
int trace_read_kv_list(const struct input *in, const char *field, struct arena *arena,
                       struct kv **out, size_t *n, struct reply *r);

/* Reads an optional {key: value} map (V3), like trace_read_kv_list. */
int trace_read_kv_map(const struct input *in, const char *field, struct arena *arena,
                      struct kv **out, size_t *n, struct reply *r);

/* Checks a tag key and cuts its value (set-tag). Returns JX_OK or JX_BAD. */
int trace_check_tag(const char *key, const char **value, struct arena *arena, struct reply *r);

/* RFC 3339 UTC text of ms since the epoch into buf (>= 32 bytes). */
const char *trace_format_time(int64_t ms, char *buf, size_t len);

/* Parses an RFC 3339 timestamp (any fraction length, Z or +hh:mm offset)
 * into ms. Returns 0, or -1. */
int trace_parse_time(const char *s, int64_t *ms);

/* "1.234s" text of ms into buf (>= 32 bytes). */
const char *trace_format_duration(int64_t ms, char *buf, size_t len);

/* Parses a Duration ("1.5s", "0s", any fraction length) into ms (>= 0).
 * Returns 0, or -1. */
int trace_parse_duration(const char *s, int64_t *ms);

/* s cut to at most max code points (s itself when short enough). */
const char *trace_cut(const char *s, size_t max, struct arena *arena);

/* The part of the URL path after "/mlflow/traces/" ("" when nothing). */
const char *trace_path_rest(const struct request *req);

/* Copies the first path segment of rest into id (cut to 63 bytes) and
 * points *after at what follows its '/' ("" when nothing). */
void trace_path_split(const char *rest, char id[64], const char **after);

#endif
