/* Pieces shared by the registry's api_* files: the contract's field rules
 * (1.7), its error wording (1.8) and the JSON of registered models and
 * model versions (1.2). No SQL. */
#ifndef ET_SERVER_REGISTRY_API_REGISTRY_COMMON_H
#define ET_SERVER_REGISTRY_API_REGISTRY_COMMON_H

#include <jansson.h>
#include <stdint.h>

#include "core/mlflow_tags.h"
#include "core/input.h"
#include "core/jsonx.h"
#include "core/reply_store.h"
#include "read_cache.h"
#include "store_registry.h"

#define MAX_MODEL_NAME_LENGTH 256
#define MAX_REGISTRY_KEY_LENGTH 250
#define MAX_MODEL_TAG_VALUE_LENGTH 5000
#define MAX_VERSION_TAG_VALUE_LENGTH 100000
#define MAX_DESCRIPTION_LENGTH 5000
#define MAX_ALIAS_LENGTH 255
#define MAX_SOURCE_LENGTH 500
#define MAX_RUN_LINK_LENGTH 500
#define MAX_VERSION_RUN_ID_LENGTH 32

/* Reads a required string: absent, null or "" is MLflow's "Missing value
 * for required parameter 'key'. See the API docs..." 400. */
int reg_required(const struct input *in, const char *key, const char **out, struct reply *r);

/* Reads the required model name of field key; with strict (create,
 * rename), also applies the name rules of 1.3 and the 256 limit. */
int reg_name(const struct input *in, const char *key, int strict, const char **out,
             struct reply *r);

/* Reads the required "version" (a decimal string or JSON integer). */
int reg_version(const struct input *in, int64_t *out, struct reply *r);

/* Canonical spelling of a stage ("production" -> "Production"), or NULL
 * with the 400 in r. */
const char *reg_stage(const char *stage, struct reply *r);

/* Checks a tag key and value against 1.7 (value limit max_value). */
int reg_check_tag(const char *key, const char *value, size_t max_value, struct reply *r);

/* Checks an optional string field against a length limit (in characters). */
int reg_check_length(const char *field, const char *value, size_t max, struct reply *r);

/* Checks an alias name; for_set also refuses the reserved names. */
int reg_check_alias(const char *alias, int for_set, struct reply *r);

/* Reads the optional "tags" list ([{key, value}]) into arena memory,
 * each tag checked with value limit max_value; a null value is "" with
 * null_ok, else refused ("Tag value cannot be None", version tags). */
int reg_tags(const struct input *in, size_t max_value, int null_ok, struct arena *arena,
             struct kv **tags, size_t *n, struct reply *r);

/* The tag that marks a registered model or version as a prompt ([3.x]). */

/* The contract's not-found replies (404). */
void reg_model_not_found(struct reply *r, int rc, const char *name);
void reg_version_not_found(struct reply *r, int rc, const char *name, int64_t version);

/* JSON of a registered model and of a model version (new references). */
json_t *reg_model_json(const struct registered_model *m);
json_t *reg_version_json(const struct model_version *v, int with_aliases);

/* Answers r from the registry read cache when it holds (kind, a, b) and
 * returns 1; else returns 0 and sets *gen for reg_cache_store. */
int reg_cache_reply(enum read_cache_kind kind, const char *a, const char *b, struct reply *r,
                    uint64_t *gen);

/* Keeps r's body under (kind, a, b) when r is a 200 JSON reply (errors are
 * never kept) and gen (from reg_cache_reply) is still current. */
void reg_cache_store(enum read_cache_kind kind, const char *a, const char *b, uint64_t gen,
                     const struct reply *r);

#endif
