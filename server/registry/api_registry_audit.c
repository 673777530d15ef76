/* A registered model's audit trail (docs/api-extensions.md): who changed
 * what, when, from what to what, newest first, optionally for one version.
 * Decode -> store -> encode; no SQL. */
#include <stdio.h>
#include <stdlib.h>

#include "api.h"
#include "api_registry_common.h"
#include "store_registry_journal.h"

#define AUDIT_PAGE_DEFAULT 100
#define AUDIT_PAGE_MAX 1000

void api_registry_audit(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct rj_entry *e;
    const char *name, *text = NULL, *token = NULL;
    int64_t version = 0, limit = AUDIT_PAGE_DEFAULT, offset = 0;
    size_t n;

    arena_init(&arena);
    if (reg_name(&in, "name", 0, &name, r) != JX_OK)
        goto out;
    if (jx_string(&in, "version", &text, r) == JX_BAD)
        goto out;
    if (text != NULL && (jx_parse_int64_text(text, &version) != 0 || version < 1)) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Parameter 'version' must be a positive integer, got '%.100s'.", text);
        goto out;
    }
    if (jx_int64(&in, "max_results", &limit, r) == JX_BAD)
        goto out;
    if (limit < 1 || limit > AUDIT_PAGE_MAX) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "max_results must be between 1 and %d.",
                    AUDIT_PAGE_MAX);
        goto out;
    }
    if (jx_string(&in, "page_token", &token, r) == JX_BAD)
        goto out;
    if (token != NULL && token[0] != '\0' && input_page_token_decode(token, &offset) != 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "Invalid page token");
        goto out;
    }
    int rc = rj_list(name, version, limit + 1, offset, &arena, &e, &n);
    if (rc != DB_OK) {
        reply_store_error(r, rc, "not found");
        goto out;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n && i < (size_t)limit; i++) {
        json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:s}", "id", (json_int_t)e[i].id, "time",
                              (json_int_t)e[i].time, "username", e[i].username, "action",
                              e[i].action, "model", e[i].model);
        if (e[i].version > 0) {
            char v[24];
            snprintf(v, sizeof v, "%lld", (long long)e[i].version);
            json_object_set_new(o, "version", json_string(v));
        }
        if (e[i].field != NULL)
            json_object_set_new(o, "field", json_string(e[i].field));
        if (e[i].old_value != NULL)
            json_object_set_new(o, "old_value", json_string(e[i].old_value));
        if (e[i].new_value != NULL)
            json_object_set_new(o, "new_value", json_string(e[i].new_value));
        json_array_append_new(list, o);
    }
    json_t *o = json_pack("{s:o}", "entries", list);
    if (n > (size_t)limit) {
        char *next = input_page_token_encode(offset + limit);
        json_object_set_new(o, "next_page_token", json_string(next));
        free(next);
    }
    reply_json(r, o);
out:
    arena_cleanup(&arena);
}
