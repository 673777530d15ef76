/* Typed reads of request fields from jansson values, following the proto-JSON
 * rules of the MLflow contract (int64 as number or numeric string, doubles as
 * number or "NaN"/"Infinity"/"-Infinity", enums as name or number), and the
 * writes that JSON cannot do natively (NaN, infinities). Every failure sets an
 * INVALID_PARAMETER_VALUE reply that names the field. Never named json_*:
 * that prefix is jansson's. */
#ifndef ET_SERVER_JSONX_H
#define ET_SERVER_JSONX_H

#include <jansson.h>
#include <stdint.h>

#include "reply.h"

/* Where fields are read from. `from_query` inputs hold every value as an array
 * of strings (query parameters may repeat); scalar reads take the first. */
struct input {
    const json_t *obj;
    int from_query;
    const char *where; /* prefix for messages, e.g. "metrics[3]"; NULL at top level */
};

/* Results of a read: the value was set, absent (or JSON null), or bad (the
 * reply now holds the error). */
enum { JX_OK = 0, JX_ABSENT = 1, JX_BAD = -1 };

/* Reads a string field. *out points into the JSON value (valid while it lives). */
int jx_string(const struct input *in, const char *key, const char **out, struct reply *r);

/* Like jx_string, but absent or "" is an error ("Missing value for required
 * parameter"). Returns JX_OK or JX_BAD. */
int jx_required_string(const struct input *in, const char *key, const char **out, struct reply *r);

/* Reads an int64: a JSON integer, an integral real, or a decimal string. */
int jx_int64(const struct input *in, const char *key, int64_t *out, struct reply *r);

/* Reads a double: a number, "NaN", "Infinity", "-Infinity" or a numeric string. */
int jx_double(const struct input *in, const char *key, double *out, struct reply *r);

/* Reads a boolean: true/false, or "true"/"false" from a query. */
int jx_bool(const struct input *in, const char *key, int *out, struct reply *r);

/* Reads an enum given by name (names[i] has number i + 1) or by number. */
int jx_enum(const struct input *in, const char *key, const char *const *names, int count, int *out,
            struct reply *r);

/* Reads an array field; a lone string from a query counts as a one-element
 * array. *out is borrowed. */
int jx_array(const struct input *in, const char *key, const json_t **out, struct reply *r);

/* Reads element i of an array as an object and prepares *item to read its
 * fields, with messages naming "key[i]". `where` is caller storage (>= 80 bytes). */
int jx_item(const json_t *array, size_t i, const char *key, char *where, size_t where_len,
            struct input *item, struct reply *r);

/* Reads a string from element i of a string array (query or JSON). *out
 * points into the array. */
int jx_array_string(const json_t *array, size_t i, const char *key, const char **out,
                    struct reply *r);

/* Like jx_array_string, but an id given as a JSON integer (the contract lets
 * clients send experiment ids as numbers) is written as decimal text into
 * buf, which *out then points to: valid until buf is reused. */
int jx_array_id(const json_t *array, size_t i, const char *key, char buf[32], const char **out,
                struct reply *r);

/* Encodes a double for a response: a JSON real, or the strings "NaN",
 * "Infinity", "-Infinity". Returns a new reference. */
json_t *jx_double_value(double v);

/* The bound of a request body's JSON tree: the memory jansson may take to
 * parse a body of len bytes (jx_parse_body's cap). A body of ordinary
 * values takes a few times its size; one of millions of tiny members or
 * empty objects takes 20 to 70 times, and is refused instead of costing
 * hundreds of MB. */
#define JX_TREE_PER_BYTE 32u
#define JX_TREE_SLACK (8u << 20)
#define JX_TREE_MAX (256u << 20)
size_t jx_body_tree_budget(size_t len);

/* Sets r to the 413 (ERR_PAYLOAD_TOO_LARGE) of a body whose JSON tree would
 * take more than budget bytes, naming the limit's rule. For callers that
 * bound a parse of their own (OTLP's protobuf-built tree). */
void jx_reply_tree_too_big(struct reply *r, size_t budget);

/* Parses a request body: "" is {}, a JSON string holding JSON is decoded again
 * (old clients double-encode), anything but an object is an error. Returns a
 * new reference or NULL with the reply set; when the body was not JSON at
 * all, r->body_not_json is also set (callers may read it as {}).
 * cap > 0 parses in a bounded jsonalloc scope (jsonalloc.h): the tree lives
 * in the thread's arena (release it before jsonalloc_reset), and a body
 * whose tree would take more than cap bytes is refused with 413
 * (ERR_PAYLOAD_TOO_LARGE) naming the limit. cap 0: on the heap, unbounded. */
json_t *jx_parse_body(const char *body, size_t len, size_t cap, struct reply *r);

/* Parses a numeric string the way the contract's int64 fields allow
 * ("123", "-5"; not "1.0"). Returns 0 on success. */
int jx_parse_int64_text(const char *s, int64_t *out);

/* Parses a numeric string for a double field: decimal/exponent forms,
 * "NaN", "Infinity", "-Infinity", "inf". Returns 0 on success. */
int jx_parse_double_text(const char *s, double *out);

#endif
