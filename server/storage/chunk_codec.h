/* Unpacking metric_chunks rows (schema/0027_metric_chunks.sql) in C from
 * PostgreSQL's binary array format, so that get-history reads a packed
 * series without unnest() in SQL. Pure functions over bytes: no libpq, no
 * SQL; every length comes from the row and is checked before it is used. */
#ifndef ET_STORAGE_CHUNK_CODEC_H
#define ET_STORAGE_CHUNK_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "db/store.h"

/* Points of every chunk of a series but its last: compaction numbers a
 * series' points from 0 in (step, timestamp, value) order and puts point p
 * in chunk p / CHUNK_POINTS (store_chunks.c's statement). As compaction
 * only ever adds points, a point never moves to a lower chunk: once a
 * full chunk's last point is read, no point after it is in that chunk or
 * one before it, whatever compaction commits later. */
#define CHUNK_POINTS 4096

/* Element type oids of the chunk arrays (pg_type). */
#define CHUNK_OID_INT4 23u
#define CHUNK_OID_INT8 20u
#define CHUNK_OID_FLOAT8 701u

/* A one-dimensional array in binary send format, checked: n elements of
 * elem_size bytes, none NULL; element i's bytes (big-endian) start at
 * data + i * (4 + elem_size). */
struct chunk_array {
    int64_t n;
    int elem_size;
    const char *data;
};

/* Checks buf[0..len) as the binary form of a one-dimensional array of
 * element type oid (CHUNK_OID_*) without NULL elements, and fills *out. An
 * empty array (no dimensions) has n 0. Returns 0, or -1 when the bytes are
 * not such an array (short, a wrong type, more dimensions, a NULL or
 * wrongly sized element, trailing bytes). */
int chunk_array_parse(const char *buf, size_t len, uint32_t oid, struct chunk_array *out)
    __attribute__((warn_unused_result));

/* One chunk row as read in binary: the scalars decoded, each array column
 * as its bytes (NULL: SQL NULL). */
struct chunk_row {
    int64_t first_step, last_step, t0;
    int64_t n;
    const char *soff, *sraw, *toff, *traw, *vals;
    size_t soff_len, sraw_len, toff_len, traw_len, vals_len;
};

/* Unpacks row's n points into out[0..n) (keys NULL): steps from sraw, else
 * first_step + soff, else first_step, first_step + 1, ... (then last_step
 * must be first_step + n - 1); timestamps from traw, else t0 + toff;
 * values from vals. Returns n, or -1 when the row is inconsistent: an
 * array missing, of another length than n or malformed, an offset that
 * overflows int64, or points not strictly ascending in (step, timestamp,
 * value) order (chunk_point_cmp). out must have room for row->n points
 * (n itself is checked against cap first). */
int64_t chunk_unpack(const struct chunk_row *row, struct metric *out, size_t cap)
    __attribute__((warn_unused_result));

/* Compares two points in the metrics primary key's order: step, then
 * timestamp, then value as PostgreSQL orders float8 (-0 equals 0, NaN
 * equals NaN and is above every number). <0, 0 or >0; 0 means the primary
 * key would hold them as one point. */
int chunk_point_cmp(const struct metric *a, const struct metric *b);

#endif
