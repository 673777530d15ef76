/* Users, bearer tokens, experiment permissions and the audit log in
 * PostgreSQL. Stores password hashes and token digests it is given; never
 * hashes, never sees JSON or HTTP. Returns db_status values. */
#ifndef ET_SERVER_STORE_AUTH_H
#define ET_SERVER_STORE_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "db/store.h"

/* Permission levels, ordered: a higher one includes the lower ones. */
enum store_perm {
    STORE_PERM_NONE = 0, /* NO_PERMISSIONS */
    STORE_PERM_READ = 1,
    STORE_PERM_EDIT = 2,
    STORE_PERM_MANAGE = 3,
};

struct user {
    int64_t id;
    const char *username;
    const char *password_hash;
    int is_admin;
};

struct experiment_perm {
    int64_t experiment_id;
    int64_t user_id;
    enum store_perm perm;
};

struct model_perm {
    const char *name; /* the registered model */
    enum store_perm perm;
};

struct token_info {
    int64_t id;
    const char *name;
    int64_t created_time;
    int revoked;
};

/* Creates a user. DB_EXISTS when the name is taken. Stores *id (may be NULL). */
int store_user_create(const char *username, const char *password_hash, int is_admin, int64_t *id);

/* Reads a user by name (strings in arena). DB_NOT_FOUND when absent. */
int store_user_get(const char *username, struct arena *arena, struct user *out);

/* Reads a user by id (strings in arena). DB_NOT_FOUND when absent. */
int store_user_get_by_id(int64_t id, struct arena *arena, struct user *out);

/* Replaces a user's password hash. DB_NOT_FOUND when absent. */
int store_user_set_password(const char *username, const char *password_hash);

/* Sets or clears the admin flag. DB_NOT_FOUND when absent. */
int store_user_set_admin(const char *username, int is_admin);

/* Deletes a user with their tokens and permissions. DB_NOT_FOUND when absent. */
int store_user_delete(const char *username);

/* The user's explicit permission on an experiment: DB_OK with *perm, or
 * DB_NOT_FOUND when none is stored (the default permission applies). */
int store_perm_get(int64_t experiment_id, int64_t user_id, enum store_perm *perm);

/* Every explicit permission of a user, into arena. */
int store_perm_list(int64_t user_id, struct arena *arena, struct experiment_perm **out, size_t *n);

/* Creates (create=1: DB_EXISTS when one exists) or updates (create=0:
 * DB_NOT_FOUND when none exists) a permission. DB_INVALID when the
 * experiment does not exist. */
int store_perm_put(int64_t experiment_id, int64_t user_id, enum store_perm perm, int create);

/* Grants perm, replacing any stored one (creators get MANAGE). */
int store_perm_grant(int64_t experiment_id, int64_t user_id, enum store_perm perm);

/* Deletes a permission. DB_NOT_FOUND when none is stored. */
int store_perm_delete(int64_t experiment_id, int64_t user_id);

/* The user's explicit permission on a registered model: DB_OK with *perm,
 * or DB_NOT_FOUND when none is stored (the default permission applies). */
int store_model_perm_get(const char *name, int64_t user_id, enum store_perm *perm);

/* Every explicit registered-model permission of a user, by name, into arena. */
int store_model_perm_list(int64_t user_id, struct arena *arena, struct model_perm **out, size_t *n);

/* Creates (create=1: DB_EXISTS when one exists) or updates (create=0:
 * DB_NOT_FOUND when none exists) a model permission. DB_INVALID when the
 * model does not exist. */
int store_model_perm_put(const char *name, int64_t user_id, enum store_perm perm, int create);

/* Grants perm on a model, replacing any stored one (creators get MANAGE). */
int store_model_perm_grant(const char *name, int64_t user_id, enum store_perm perm);

/* Deletes a model permission. DB_NOT_FOUND when none is stored. */
int store_model_perm_delete(const char *name, int64_t user_id);

/* The experiment a run (32 hex digits) belongs to. DB_NOT_FOUND when absent. */
int store_auth_run_experiment(const char *run_id, int64_t *experiment_id);

/* The experiment a logged model ("m-" + 32 hex) belongs to, deleted models
 * included. DB_NOT_FOUND when absent. */
int store_auth_logged_model_experiment(const char *model_id, int64_t *experiment_id);

/* The experiment a trace (32 hex, or "tr-" + 32 hex) belongs to.
 * DB_NOT_FOUND when absent. */
int store_auth_trace_experiment(const char *trace_id, int64_t *experiment_id);

/* The id of the experiment with this exact name. DB_NOT_FOUND when absent. */
int store_auth_experiment_by_name(const char *name, int64_t *experiment_id);

/* Stores a token's SHA-256 for a user; *id gets the token's id. */
int store_token_create(int64_t user_id, const unsigned char digest[32], const char *name,
                       int64_t *id);

/* Finds the user of an unrevoked token by its SHA-256. DB_NOT_FOUND when none. */
int store_token_user(const unsigned char digest[32], int64_t *user_id);

/* Revokes a token. user_id > 0 limits it to that user's tokens. DB_NOT_FOUND
 * when there is no such (unrevoked) token. */
int store_token_revoke(int64_t token_id, int64_t user_id);

/* Lists a user's tokens (never the secrets), into arena. */
int store_token_list(int64_t user_id, struct arena *arena, struct token_info **out, size_t *n);

/* The server-wide secret called name: stores candidate (32 bytes) when none
 * exists yet, then reads the one that won into out (32 bytes). */
int store_auth_secret(const char *name, const unsigned char candidate[32], unsigned char out[32]);

/* Appends one audit record. */
int store_audit_add(const char *username, const char *action, const char *target, int status);

struct audit_entry {
    int64_t id;
    int64_t time;
    const char *username;
    const char *action;
    const char *target;
    int status;
    /* registry changes (schema/0015_registry_audit.sql); NULL / 0 otherwise */
    const char *model;
    int64_t version;
    const char *field;
    const char *old_value;
    const char *new_value;
};

/* Reads up to limit audit records with id < before (0: newest), newest first. */
int store_audit_list(int64_t before, int64_t limit, struct arena *arena, struct audit_entry **out,
                     size_t *n);

#endif
