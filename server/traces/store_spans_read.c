/* Reading the stored spans of one trace (store_traces.h): one statement,
 * the rows in binary form, ordered here over four small fields. */
#include "store_traces.h"

#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "db/db.h"

/* The read order of a span row: roots first, then start time, span id. */
struct span_order {
    int row;
    int child;
    int64_t start_ns;
    const char *span_id;
};

struct span_cursor {
    PGresult *res;
    char *trace_id; /* every row's: not read back from the database */
    struct span_order *order;
    size_t n;    /* rows */
    size_t next; /* the next entry of order to hand out */
};

static int cmp_order(const void *a, const void *b)
{
    const struct span_order *x = a, *y = b;
    if (x->child != y->child)
        return x->child - y->child;
    if (x->start_ns != y->start_ns)
        return x->start_ns < y->start_ns ? -1 : 1;
    return strcmp(x->span_id, y->span_id);
}

/* A text column of row r, NULL when SQL NULL (points into res; libpq ends
 * every value, binary ones too, with a NUL). */
static const char *text_or_null(const PGresult *res, int r, int c)
{
    return PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);
}

/* A bigint column (binary: 8 bytes, big-endian), or dflt when SQL NULL.
 * Decoded here rather than by su_get_be64: four per row, 40,000 calls for
 * a large trace. */
static int64_t int8_or(const PGresult *res, int r, int c, int64_t dflt)
{
    if (PQgetisnull(res, r, c))
        return dflt;
    const unsigned char *p = (const unsigned char *)PQgetvalue(res, r, c);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return (int64_t)v;
}

/* A smallint column (binary: 2 bytes, big-endian). */
static int int2_at(const PGresult *res, int r, int c)
{
    const unsigned char *p = (const unsigned char *)PQgetvalue(res, r, c);
    return (int)(int16_t)(uint16_t)(p[0] << 8 | p[1]);
}

int store_spans_open(const char *trace_id, struct span_cursor **out)
{
    const char *params[] = {trace_id};
    PGresult *res = NULL;

    *out = NULL;
    /* Unordered: PostgreSQL would sort the wide rows (their JSON text
     * included) and spill them to disk for a large trace; the order is
     * made below over four small fields. Binary: the numbers come as
     * bytes, not text to print and parse again. The trace id is not
     * selected: it is the parameter (36 bytes x 10,000 rows less to send
     * and parse). */
    int rc = db_exec_prepared_binary("spans_read_by_trace",
                                     "SELECT span_id, parent_span_id, name, span_type,"
                                     "   kind, trace_state, status_code, status_message, start_ns,"
                                     "   end_ns, attributes, events, input_tokens, output_tokens"
                                     " FROM trace_spans WHERE trace_id = $1",
                                     1, params, &res);
    if (rc != DB_OK)
        return rc;
    struct span_cursor *c = xcalloc(1, sizeof *c);
    int rows = PQntuples(res);
    c->res = res;
    c->trace_id = xstrdup(trace_id);
    c->n = (size_t)rows;
    c->order = xmalloc(((size_t)rows + 1) * sizeof *c->order);
    for (int r = 0; r < rows; r++) {
        c->order[r].row = r;
        c->order[r].child = !PQgetisnull(res, r, 1);
        c->order[r].start_ns = int8_or(res, r, 8, 0);
        c->order[r].span_id = PQgetvalue(res, r, 0);
    }
    qsort(c->order, c->n, sizeof *c->order, cmp_order);
    *out = c;
    return DB_OK;
}

size_t store_spans_count(const struct span_cursor *c)
{
    return c->n;
}

int store_spans_next(struct span_cursor *c, struct trace_span *s)
{
    if (c->next >= c->n)
        return 0;
    const PGresult *res = c->res;
    int r = c->order[c->next].row;
    *s = (struct trace_span){
        .trace_id = c->trace_id,
        .span_id = PQgetvalue(res, r, 0),
        .parent_span_id = text_or_null(res, r, 1),
        .name = PQgetvalue(res, r, 2),
        .span_type = text_or_null(res, r, 3),
        .kind = int2_at(res, r, 4),
        .trace_state = text_or_null(res, r, 5),
        .status_code = int2_at(res, r, 6),
        .status_message = text_or_null(res, r, 7),
        .start_ns = c->order[c->next].start_ns,
        .end_ns = int8_or(res, r, 9, -1),
        .attributes = text_or_null(res, r, 10),
        .events = text_or_null(res, r, 11),
        .input_tokens = int8_or(res, r, 12, -1),
        .output_tokens = int8_or(res, r, 13, -1),
    };
    c->next++;
    return 1;
}

void store_spans_close(struct span_cursor *c)
{
    if (c == NULL)
        return;
    PQclear(c->res);
    free(c->trace_id);
    free(c->order);
    free(c);
}
