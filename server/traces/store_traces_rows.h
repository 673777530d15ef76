/* Reading trace rows and their children (tags, metadata, assessments);
 * shared by the trace reads and the search. Store-internal. */
#ifndef ET_SERVER_TRACES_STORE_TRACES_ROWS_H
#define ET_SERVER_TRACES_STORE_TRACES_ROWS_H

#include <libpq-fe.h>

#include "store_traces.h"

/* The columns trace_row reads, for "SELECT " TRACE_COLUMNS " FROM traces t". */
#define TRACE_COLUMNS                                                                              \
    "t.trace_id, t.experiment_id, t.request_time, t.execution_duration, t.state,"                  \
    " t.client_request_id, t.request_preview, t.response_preview"

/* Reads row into *out (strings into arena); children left empty. */
void trace_row(const PGresult *res, int row, struct arena *arena, struct trace_info *out);

/* Attaches tags, metadata and assessments to infos[0..n) (three statements). */
int trace_load_children(struct trace_info *infos, size_t n, struct arena *arena);

/* The columns assessment_row reads, for "SELECT " ASSESSMENT_COLUMNS " FROM assessments a". */
#define ASSESSMENT_COLUMNS                                                                         \
    "a.assessment_id, a.trace_id, a.name, a.span_id, a.source_type, a.source_id, a.kind,"          \
    " a.value::text, a.extra::text, a.rationale, a.metadata::text, a.overrides, a.valid,"          \
    " a.create_time, a.last_update_time"

void assessment_row(const PGresult *res, int row, struct arena *arena,
                    struct trace_assessment *out);

#endif
