/* The request fields every layer above core reads the same way: the input
 * of a request, run and experiment ids, offset page tokens, and the part of
 * a URL path after a route's prefix. Shared by the handlers and auth (which
 * must read the same ids the handler will), so they sit below both. Domain
 * replies (store errors, not-found messages, entity JSON) are not here. */
#ifndef ET_SERVER_INPUT_H
#define ET_SERVER_INPUT_H

#include <stdint.h>

#include "jsonx.h"
#include "request.h"

/* The request's input as a jsonx input (top level). Borrows req->input:
 * valid while the request lives. Never fails. */
struct input input_from(const struct request *req);

/* Reads the required run id: run_id, or its deprecated alias run_uuid.
 * *out points into the input. Returns JX_OK, or JX_BAD with a 400
 * INVALID_PARAMETER_VALUE in r (not a string, or missing/empty, or, read
 * from a query string, not 32 lowercase hex digits). */
int input_run_id(const struct input *in, const char **out, struct reply *r);

/* Reads a required experiment id (string or number) as an int64. Returns
 * JX_OK, or JX_BAD with the error in r: a missing or non-string field is a
 * 400; an id that is not a decimal number is reported as 404
 * RESOURCE_DOES_NOT_EXIST (it cannot exist), except in a query string
 * (GET), where it is a 400 INVALID_PARAMETER_VALUE. */
int input_experiment_id(const struct input *in, const char *key, int64_t *out, struct reply *r);

/* Checks a metric, param or tag key (validate_key_rule) and its length in
 * code points (at most max); field names it in the message. Returns JX_OK,
 * or JX_BAD with a 400 INVALID_PARAMETER_VALUE in r. */
int input_check_key(const char *key, const char *field, size_t max, struct reply *r);

/* Checks that a string field holds at most max code points. Returns JX_OK,
 * or JX_BAD with a 400 INVALID_PARAMETER_VALUE naming field and max in r. */
int input_check_length(const char *value, const char *field, size_t max, struct reply *r);

/* Offset page tokens: base64 of {"offset": N}, like MLflow's. Encode
 * returns a new string (caller free()s; aborts on out-of-memory). Decode
 * returns 0 and sets *offset (> 0), or -1 for a token this server did not
 * make (*offset untouched). */
char *input_page_token_encode(int64_t offset);
int input_page_token_decode(const char *token, int64_t *offset);

/* The JSON object a page token holds, for tokens that carry more than an
 * offset (a keyset): the base64 of at most max_len characters decoded and
 * parsed. Returns a new reference (json_decref it), or NULL for a token
 * that is not one: too long, not base64, not JSON. Its fields are the
 * caller's to check. */
json_t *input_page_token_object(const char *token, size_t max_len);

/* What follows route_path (e.g. "/mlflow-artifacts/artifacts/") in the
 * request's URL path, pointing into req->path; NULL when the path does not
 * hold it. */
const char *input_path_after(const struct request *req, const char *route_path);

#endif
