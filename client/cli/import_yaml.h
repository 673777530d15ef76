/* The small part of YAML that MLflow's file store writes (meta.yaml:
 * "key: value" lines, plain or quoted scalars, folded continuation lines,
 * one level of nested mapping such as "tags:"), read and written. */
#ifndef ET_CLI_IMPORT_YAML_H
#define ET_CLI_IMPORT_YAML_H

#include <stdint.h>
#include <stdio.h>

#include "import.h"

struct ymap {
    struct ikv *kv; /* nested entries are keyed "parent.child" */
    size_t n;
};

/* Reads path into *m. 0, or -1 when it cannot be read. */
int ymap_load(const char *path, struct ymap *m);
/* The value of key, or NULL when absent or null. */
const char *ymap_get(const struct ymap *m, const char *key);
/* key as an int64 (fallback when absent or not a number). */
int64_t ymap_int(const struct ymap *m, const char *key, int64_t fallback);
void ymap_free(struct ymap *m);

/* Writes "key: value" with value double-quoted and escaped (NULL: null). */
void yaml_put_str(FILE *f, const char *key, const char *value);
/* Writes "key: number". */
void yaml_put_int(FILE *f, const char *key, int64_t value);

#endif
