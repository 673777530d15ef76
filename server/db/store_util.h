/* Small helpers shared by store_* files: reading typed columns out of libpq
 * results and building PostgreSQL array literals. Store-internal. */
#ifndef ET_SERVER_STORE_UTIL_H
#define ET_SERVER_STORE_UTIL_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "common/sbuf.h"

/* Column value as int64 (0 when NULL). */
int64_t su_int64(const PGresult *res, int row, int col);

/* Column value as double ("NaN", "Infinity", "-Infinity" understood). */
double su_double(const PGresult *res, int row, int col);

/* A float8 in PostgreSQL's text form ("NaN", "Infinity", "-Infinity" or a
 * number) as a double. */
double su_parse_double(const char *text);

/* 1 when the lifecycle_stage column is active, 0 when it is deleted (the
 * one other value the schema allows). The one reading of that column. */
int su_active(const PGresult *res, int row, int col);

/* Column value copied into the arena (NULL when SQL NULL). */
const char *su_str(const PGresult *res, int row, int col, struct arena *arena);

/* Decimal text of an int64 into buf (>= 24 bytes); returns buf. */
const char *su_i64(char *buf, int64_t v);

/* Appends one element to an array literal being built in b ("{" ... "}"):
 * the caller writes "{" first and "}" last; these add the separator. */
void su_array_text(struct sbuf *b, const char *s, int first);
void su_array_double(struct sbuf *b, double v, int first);
void su_array_int64(struct sbuf *b, int64_t v, int first);

struct kv;

/* Initializes keys and vals and fills them with the array literals of
 * kv[0..n)'s keys and values, in order (for unnest($k::text[], $v::text[])).
 * The caller cleans both up. */
void su_kv_arrays(struct sbuf *keys, struct sbuf *vals, const struct kv *kv, size_t n);

/* Big-endian values into p[0..4) and p[0..8), as PostgreSQL's binary
 * formats take int4, int8 and float8 (a double's bits). */
void su_put_be32(char *p, uint32_t v);
void su_put_be64(char *p, uint64_t v);

/* The big-endian values at p[0..4) and p[0..8): a binary result's int4
 * and int8 (and a float8's bits). */
uint32_t su_get_be32(const char *p);
uint64_t su_get_be64(const char *p);

/* Builds a binary-format array parameter in b (PostgreSQL's array_send
 * layout: one dimension, no NULLs), sent with format 1 and length b->len.
 * su_barray_begin empties b (initialised) and writes the header for n elements of the
 * type elem_oid (INT4OID 23, INT8OID 20, FLOAT8OID 701); then append
 * exactly n elements of that type. No printing and parsing of numbers:
 * a float8 goes as its bits, NaN and infinities included. */
void su_barray_begin(struct sbuf *b, uint32_t elem_oid, size_t n);
void su_barray_int4(struct sbuf *b, int32_t v);
void su_barray_int8(struct sbuf *b, int64_t v);
void su_barray_float8(struct sbuf *b, double v);

/* Formats a run's uuid column text (with dashes) as 32 hex digits into out. */
void su_run_id(const char *uuid_text, char out[33]);

/* Row readers shared by the store files. A run row has the columns
 * id, run_uuid, experiment_id, name, user_id, status, start_time, end_time,
 * lifecycle_stage, artifact_uri; an experiment row experiment_id, name,
 * artifact_location, lifecycle_stage, creation_time, last_update_time. */
struct run_info;
struct experiment;
void su_run_info(const PGresult *res, int row, struct arena *arena, struct run_info *out);
void su_experiment(const PGresult *res, int row, struct arena *arena, struct experiment *out);

/* Attaches the tags of exps[0..n) (one statement). Returns a db_status. */
int su_experiment_tags(struct experiment *exps, size_t n, struct arena *arena);

#endif
