/* The contract's validation rules for names and values (mlflow-api.md §14),
 * as pure functions: no I/O, no JSON, unit-tested directly. */
#ifndef ET_SERVER_VALIDATE_H
#define ET_SERVER_VALIDATE_H

#include <stddef.h>

#define MAX_ENTITY_KEY_LENGTH 250
#define MAX_PARAM_VALUE_LENGTH 6000
#define MAX_TAG_VALUE_LENGTH 8000
#define MAX_EXPERIMENT_TAG_KEY_LENGTH 250
#define MAX_EXPERIMENT_TAG_VALUE_LENGTH 5000
#define MAX_EXPERIMENT_NAME_LENGTH 500
#define MAX_ARTIFACT_LOCATION_LENGTH 2048
#define MAX_METRICS_PER_BATCH 1000
#define MAX_PARAMS_TAGS_PER_BATCH 100
#define MAX_ENTITIES_PER_BATCH 1000
#define MAX_RUN_NAME_LENGTH 250
#define MAX_USER_ID_LENGTH 256 /* MLflow's runs.user_id column */
#define MAX_DATASET_NAME_LENGTH 500
#define MAX_DATASET_DIGEST_LENGTH 36
#define MAX_DATASET_SOURCE_TYPE_LENGTH 36
#define MAX_DATASET_SOURCE_LENGTH 65535
#define MAX_DATASET_SCHEMA_LENGTH 1048575
#define MAX_DATASET_PROFILE_LENGTH 16777215
#define MAX_INPUT_TAG_KEY_LENGTH 255
#define MAX_INPUT_TAG_VALUE_LENGTH 500

/* 1 when s[0..len) is well-formed UTF-8: no overlong forms, no UTF-16
 * surrogates, nothing past U+10FFFF, no truncated sequence. NUL bytes are
 * well-formed; callers that refuse them check for them. */
int validate_utf8(const char *s, size_t len);

/* Number of code points in a valid UTF-8 string (what Python's len() says). */
size_t validate_utf8_length(const char *s);

/* Returns s cut to at most max code points, as a byte length. */
size_t validate_utf8_prefix(const char *s, size_t max);

/* Checks a metric, param or tag key against the contract's charset and path
 * rules. Returns NULL when valid, else a static text saying which rule
 * failed (for the error message). */
const char *validate_key_rule(const char *key);

/* True when s is 32 lowercase hex digits: the only run ids exptrack makes. */
int validate_is_run_id(const char *s);

/* True when s matches the contract's log-batch run id pattern
 * ^[a-zA-Z0-9][\w\-]{0,255}$ (ASCII word characters). */
int validate_run_id_pattern(const char *s);

/* True when s is a logged model id as exptrack makes them: "m-" and 32
 * lowercase hex digits. */
int validate_is_logged_model_id(const char *s);

#endif
