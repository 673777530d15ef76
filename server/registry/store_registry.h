/* The model registry in PostgreSQL: registered models, model versions,
 * their tags and aliases, and the two searches. Plain records in, plain
 * records out (strings in the caller's arena); returns db_status values
 * (db/db.h) and DB_STATE (db/store.h). Never JSON, never HTTP. */
#ifndef ET_SERVER_REGISTRY_STORE_REGISTRY_H
#define ET_SERVER_REGISTRY_STORE_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "db/store.h"
#include "filter.h"

struct model_version {
    const char *name;
    int64_t version;
    int64_t creation_time;
    int64_t last_updated_time;
    int has_last_updated;
    const char *current_stage;
    const char *description; /* NULL when stored as null */
    const char *source;
    const char *run_id;
    const char *run_link;
    const char *status;
    const char *status_message;
    struct kv *tags;
    size_t ntags;
    const char **aliases; /* only filled where the contract prints them */
    size_t naliases;
};

struct registered_model {
    const char *name;
    int64_t creation_time;
    int64_t last_updated_time;
    const char *description; /* NULL or "" when unset */
    struct kv *tags;
    size_t ntags;
    struct kv *aliases; /* key = alias, value = version as decimal text */
    size_t naliases;
    struct model_version *latest; /* per stage, the highest version, as
                                   * store_rm_latest orders them; no aliases */
    size_t nlatest;
};

/* What model-versions/create stores. */
struct model_version_new {
    const char *name;
    const char *source;
    const char *storage_location;
    const char *run_id;
    const char *run_link;
    const char *description;
    const struct kv *tags;
    size_t ntags;
    /* [3.x] logged models (NULL: none). source_model_id: the source was
     * models:/<id>, so the location (and a missing run id) come from that
     * model; model_id: the request's model_id field, a missing run id comes
     * from it. With link_model, the mlflow.modelVersions tag of model_id
     * (else source_model_id) gains the new version. */
    const char *source_model_id;
    const char *model_id;
    int link_model;
};

/* store_registry_models.c and store_registry_versions.c: every change
 * below takes actor (the signed-in user's name, "" or NULL when anonymous)
 * and writes, in its own transaction, its audit row and the outbox rows of
 * the webhook event it fires (store_registry_journal.h). */

/* store_registry_models.c */

/* Creates a model with its tags (last value wins for a repeated key).
 * DB_EXISTS when the name is taken. */
int store_rm_create(const char *name, const char *description, const struct kv *tags, size_t ntags,
                    const char *actor) __attribute__((warn_unused_result));

/* Reads a model with tags, aliases and latest versions. DB_NOT_FOUND. */
int store_rm_get(const char *name, struct arena *arena, struct registered_model *out)
    __attribute__((warn_unused_result));

/* Fills tags, aliases and latest versions of models[0..n) (three statements). */
int store_rm_load_children(struct registered_model *models, size_t n, struct arena *arena)
    __attribute__((warn_unused_result));

/* Renames a model; versions (tombstones too), tags and aliases follow, and
 * the model and its versions get last_updated_time = now, in one
 * transaction. DB_NOT_FOUND, DB_EXISTS (new name taken). */
int store_rm_rename(const char *name, const char *new_name, const char *actor)
    __attribute__((warn_unused_result));

/* Sets the description (NULL stores "") and bumps the update time. DB_NOT_FOUND. */
int store_rm_update(const char *name, const char *description, const char *actor)
    __attribute__((warn_unused_result));

/* Deletes a model and everything under it. DB_NOT_FOUND. */
int store_rm_delete(const char *name, const char *actor) __attribute__((warn_unused_result));

/* Upserts or deletes (value NULL) a model tag. DB_NOT_FOUND for the model;
 * deleting a missing key succeeds. */
int store_rm_tag(const char *name, const char *key, const char *value, const char *actor)
    __attribute__((warn_unused_result));

/* For each stage of stages[0..n) (canonical names; n = 0: all four), the
 * highest non-deleted version in it, stages in the order their first
 * version appears (MLflow's order), each with
 * tags and, when with_aliases, aliases. DB_NOT_FOUND for the model. */
int store_rm_latest(const char *name, const char *const *stages, size_t nstages, int with_aliases,
                    struct arena *arena, struct model_version **out, size_t *n)
    __attribute__((warn_unused_result));

/* Points alias at a live version (upsert). DB_NOT_FOUND: no such version. */
int store_alias_set(const char *name, const char *alias, int64_t version, const char *actor)
    __attribute__((warn_unused_result));

/* Deletes an alias. DB_NOT_FOUND for the model; a missing alias succeeds. */
int store_alias_delete(const char *name, const char *alias, const char *actor)
    __attribute__((warn_unused_result));

/* The version an alias points to, with tags and aliases. DB_NOT_FOUND for
 * the model, DB_STATE when the alias does not exist. */
int store_alias_get(const char *name, const char *alias, struct arena *arena,
                    struct model_version *out) __attribute__((warn_unused_result));

/* store_registry_versions.c */

/* Creates the model's next version (number taken under the model row's
 * lock, so concurrent creates get distinct consecutive numbers) and bumps
 * the model's update time; *version gets the number. With logged models
 * (see struct model_version_new) they are read under their row lock, and
 * the tag written, in the version's transaction, with the journal's rows
 * (actor: who). DB_NOT_FOUND: no such registered model, or *missing_model
 * (else NULL) names the logged model that is absent or deleted. */
int store_mv_create(const struct model_version_new *in, int64_t *version, const char *actor,
                    const char **missing_model) __attribute__((warn_unused_result));

/* Reads a live version with tags and aliases. DB_NOT_FOUND (absent or
 * deleted). */
int store_mv_get(const char *name, int64_t version, struct arena *arena, struct model_version *out)
    __attribute__((warn_unused_result));

/* Like store_mv_get, for the model's highest live version ("latest").
 * DB_NOT_FOUND for the model, DB_STATE when it has no live version. */
int store_mv_get_latest(const char *name, struct arena *arena, struct model_version *out)
    __attribute__((warn_unused_result));

/* Sets (NULL: nulls) the description, bumps the version's update time. */
int store_mv_update(const char *name, int64_t version, const char *description, const char *actor)
    __attribute__((warn_unused_result));

/* Moves a live version to stage; with archive, the model's other live
 * versions in that stage go to Archived. One statement. DB_NOT_FOUND. */
int store_mv_transition(const char *name, int64_t version, const char *stage, int archive,
                        const char *actor) __attribute__((warn_unused_result));

/* Turns a live version into a tombstone and drops its aliases. DB_NOT_FOUND. */
int store_mv_delete(const char *name, int64_t version, const char *actor)
    __attribute__((warn_unused_result));

/* Upserts or deletes (value NULL) a tag of a live version. DB_NOT_FOUND. */
int store_mv_tag(const char *name, int64_t version, const char *key, const char *value,
                 const char *actor) __attribute__((warn_unused_result));

/* The storage location (else source) of a live version. DB_NOT_FOUND. */
int store_mv_download_uri(const char *name, int64_t version, struct arena *arena, const char **uri)
    __attribute__((warn_unused_result));

/* Fills the tags of versions[0..n) (one statement). */
int store_mv_load_tags(struct model_version *versions, size_t n, struct arena *arena)
    __attribute__((warn_unused_result));

/* store_registry_search.c */

/* Registered models matching f, in order, rows offset..offset+limit-1,
 * with their children. */
int store_rm_search(const struct reg_filter *f, const struct reg_order *order, int64_t limit,
                    int64_t offset, struct arena *arena, struct registered_model **out, size_t *n)
    __attribute__((warn_unused_result));

/* Live model versions matching f, likewise, with tags (no aliases). */
int store_mv_search(const struct reg_filter *f, const struct reg_order *order, int64_t limit,
                    int64_t offset, struct arena *arena, struct model_version **out, size_t *n)
    __attribute__((warn_unused_result));

#endif
