/* Model versions: create (with the contract's source rules, 1.5), get,
 * update, transition-stage, delete, tags and get-download-uri. Decode ->
 * store -> encode; no SQL. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "api_registry_common.h"
#include "core/validate.h"

/* Length of s's URI scheme including the ':' ("s3:" -> 3), or 0. */
static size_t scheme_length(const char *s)
{
    if (!isalpha((unsigned char)s[0]))
        return 0;
    size_t n = 1;
    while (isalnum((unsigned char)s[n]) || s[n] == '+' || s[n] == '-' || s[n] == '.')
        n++;
    return s[n] == ':' ? n + 1 : 0;
}

/* Percent-decodes (and '+' -> ' ') s into out, in place-safe. Returns the length. */
static size_t unquote_plus(const char *s, char *out)
{
    size_t n = 0;
    for (; *s; s++) {
        if (*s == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
            char hex[3] = {s[1], s[2], 0};
            out[n++] = (char)strtol(hex, NULL, 16);
            s += 2;
        } else {
            out[n++] = *s == '+' ? ' ' : *s;
        }
    }
    out[n] = '\0';
    return n;
}

/* True when a non-local source has relative path parts (1.5): decoded until
 * stable, it holds NUL, a ".." segment, or a path that normalization would
 * change ("." segments, or not absolute). */
static int has_relative_parts(const char *source, struct arena *arena)
{
    size_t len = strlen(source);
    char *cur = arena_strndup(arena, source, len);
    char *next = arena_alloc(arena, len + 1);
    for (;;) {
        size_t n = unquote_plus(cur, next);
        if (n != strlen(next))
            return 1; /* a decoded NUL */
        if (strcmp(next, cur) == 0)
            break;
        char *t = cur;
        cur = next;
        next = t;
    }
    /* any "/"-separated segment equal to ".." */
    for (const char *p = cur; *p;) {
        const char *e = strchr(p, '/');
        size_t seg = e ? (size_t)(e - p) : strlen(p);
        if (seg == 2 && p[0] == '.' && p[1] == '.')
            return 1;
        p += seg + (e ? 1 : 0);
    }
    /* the URL's path: after the scheme and an authority, before ? and # */
    const char *path = cur + scheme_length(cur);
    if (path[0] == '/' && path[1] == '/') {
        path = strchr(path + 2, '/');
        if (path == NULL)
            return 1; /* empty path: Python's resolve() makes it the cwd */
    }
    size_t plen = strcspn(path, "?#");
    if (plen == 0 || path[0] != '/')
        return 1;
    /* collapse "//", drop a trailing "/", then any "." segment would change */
    for (size_t i = 0; i < plen;) {
        while (i < plen && path[i] == '/')
            i++;
        size_t start = i;
        while (i < plen && path[i] != '/')
            i++;
        if (i - start == 1 && path[start] == '.')
            return 1;
    }
    return 0;
}

static int bad_source(struct reply *r, const char *source, const char *why)
{
    reply_error(r, ERR_INVALID_PARAMETER_VALUE, "Invalid model version source: '%.300s'. %s",
                source, why);
    return JX_BAD;
}

/* The source checks of 1.5 for a request (prompt: it has the prompt tag). */
static int check_source(const char *source, int prompt, struct arena *arena, struct reply *r)
{
    size_t scheme = scheme_length(source);
    int file = scheme == 5 && strncasecmp(source, "file:", 5) == 0;
    if (prompt) {
        if (file || source[0] == '/') {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                        "Invalid prompt source: '%.300s'. Local source paths are not allowed for "
                        "prompts.",
                        source);
            return JX_BAD;
        }
        if (scheme == 0)
            return JX_OK;
    } else if (scheme == 0 || file) {
        return bad_source(r, source,
                          "To use a local path as a model version source, the run_id request "
                          "parameter has to be specified and the local path has to be contained "
                          "within the artifact directory of the run specified by the run_id.");
    }
    if (has_relative_parts(source, arena))
        return bad_source(r, source,
                          "If supplying a source as an http, https, local file path, ftp, "
                          "objectstore, or mlflow-artifacts uri, an absolute path must be "
                          "provided without relative path references present. Please provide "
                          "an absolute path.");
    return JX_OK;
}

static void logged_model_not_found(struct reply *r, const char *model_id)
{
    reply_error(r, ERR_RESOURCE_DOES_NOT_EXIST, "Logged model with ID '%.300s' not found.",
                model_id);
}

/* Resolves where a version's files are (1.5): models:/<name>/<version> is
 * that version's location; models:/<model_id> sets mv->source_model_id
 * (the store reads that logged model's location); other models:/ forms
 * are refused. */
static int storage_location(struct model_version_new *mv, struct arena *arena, struct reply *r)
{
    const char *source = mv->source;
    const char **out = &mv->storage_location;
    *out = source;
    if (strncmp(source, "models:/", 8) != 0)
        return JX_OK;
    const char *rest = source + 8;
    const char *slash = strchr(rest, '/');
    if (strchr(rest, '@') == NULL && slash == NULL && rest[0] != '\0') {
        /* [3.x] a logged model id; only ids of exptrack's shape can exist */
        if (!validate_is_logged_model_id(rest)) {
            logged_model_not_found(r, rest);
            return JX_BAD;
        }
        mv->source_model_id = rest;
        return JX_OK;
    }
    int64_t version;
    if (slash != NULL && slash > rest && strchr(rest, '@') == NULL &&
        strchr(slash + 1, '/') == NULL && jx_parse_int64_text(slash + 1, &version) == 0) {
        char *name = arena_strndup(arena, rest, (size_t)(slash - rest));
        int rc = store_mv_download_uri(name, version, arena, out);
        if (rc != DB_OK) {
            reg_version_not_found(r, rc, name, version);
            return JX_BAD;
        }
        return JX_OK;
    }
    return bad_source(r, source,
                      "A models:/ source must be models:/<name>/<version> or "
                      "models:/<model_id>.");
}

static void reply_version(struct reply *r, const char *name, int64_t version)
{
    struct arena arena;
    struct model_version v;

    arena_init(&arena);
    int rc = store_mv_get(name, version, &arena, &v);
    if (rc != DB_OK)
        reg_version_not_found(r, rc, name, version);
    else
        reply_json(r, json_pack("{s:o}", "model_version", reg_version_json(&v, 1)));
    arena_cleanup(&arena);
}

/* The optional model_id field of create ([3.x]): absent or "" is none;
 * else a logged model id of exptrack's shape. */
static int request_model_id(const struct input *in, const char **out, struct reply *r)
{
    *out = NULL;
    int rc = jx_string(in, "model_id", out, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (rc == JX_ABSENT || (*out)[0] == '\0') {
        *out = NULL;
        return JX_OK;
    }
    if (!validate_is_logged_model_id(*out)) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value '%.100s' for parameter 'model_id' supplied: a model id is 'm-' "
                    "followed by 32 lowercase hex digits",
                    *out);
        return JX_BAD;
    }
    return JX_OK;
}

void api_registry_versions_create(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct model_version_new mv = {0};
    struct kv *tags;
    size_t ntags;
    int64_t version;

    arena_init(&arena);
    if (reg_name(&in, "name", 0, &mv.name, r) != JX_OK ||
        reg_required(&in, "source", &mv.source, r) != JX_OK)
        goto out;
    if (jx_string(&in, "run_id", &mv.run_id, r) == JX_BAD ||
        jx_string(&in, "run_link", &mv.run_link, r) == JX_BAD ||
        jx_string(&in, "description", &mv.description, r) == JX_BAD)
        goto out;
    if (reg_check_length("source", mv.source, MAX_SOURCE_LENGTH, r) != JX_OK ||
        reg_check_length("run_id", mv.run_id, MAX_VERSION_RUN_ID_LENGTH, r) != JX_OK ||
        reg_check_length("run_link", mv.run_link, MAX_RUN_LINK_LENGTH, r) != JX_OK ||
        reg_check_length("description", mv.description, MAX_DESCRIPTION_LENGTH, r) != JX_OK)
        goto out;
    if (reg_tags(&in, MAX_VERSION_TAG_VALUE_LENGTH, 0, &arena, &tags, &ntags, r) != JX_OK)
        goto out;
    int prompt = 0;
    for (size_t i = 0; i < ntags; i++)
        if (strcmp(tags[i].key, MLFLOW_TAG_IS_PROMPT) == 0)
            prompt = 1;
    if (check_source(mv.source, prompt, &arena, r) != JX_OK)
        goto out;
    if (storage_location(&mv, &arena, r) != JX_OK)
        goto out;
    if (request_model_id(&in, &mv.model_id, r) != JX_OK)
        goto out;
    mv.tags = tags;
    mv.ntags = ntags;
    mv.link_model = !prompt; /* 1.3 step 8: not for prompts */
    const char *missing_model = NULL;
    int rc = store_mv_create(&mv, &version, req->user.name, &missing_model);
    if (rc == DB_NOT_FOUND && missing_model != NULL)
        logged_model_not_found(r, missing_model);
    else if (rc != DB_OK)
        reg_model_not_found(r, rc, mv.name);
    else
        reply_version(r, mv.name, version);
out:
    arena_cleanup(&arena);
}

/* Reads the name and version every version endpoint takes. */
static int name_version(const struct input *in, const char **name, int64_t *version,
                        struct reply *r)
{
    if (reg_name(in, "name", 0, name, r) != JX_OK)
        return JX_BAD;
    return reg_version(in, version, r);
}

void api_registry_versions_get(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    const char *name;
    int64_t version;
    char key[24];
    uint64_t gen;

    if (name_version(&in, &name, &version, r) != JX_OK)
        return;
    snprintf(key, sizeof key, "%lld", (long long)version);
    if (reg_cache_reply(READ_CACHE_VERSION, name, key, r, &gen))
        return;
    reply_version(r, name, version);
    reg_cache_store(READ_CACHE_VERSION, name, key, gen, r);
}

void api_registry_versions_update(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    const char *name, *description = NULL;
    int64_t version;

    if (name_version(&in, &name, &version, r) != JX_OK)
        return;
    /* absent: stored as null (cleared); "" stays "" */
    if (jx_string(&in, "description", &description, r) == JX_BAD ||
        reg_check_length("description", description, MAX_DESCRIPTION_LENGTH, r) != JX_OK)
        return;
    int rc = store_mv_update(name, version, description, req->user.name);
    if (rc != DB_OK)
        reg_version_not_found(r, rc, name, version);
    else
        reply_version(r, name, version);
}

void api_registry_versions_transition(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    const char *name, *text, *stage;
    int64_t version;
    int archive = 0;

    if (name_version(&in, &name, &version, r) != JX_OK ||
        reg_required(&in, "stage", &text, r) != JX_OK || (stage = reg_stage(text, r)) == NULL ||
        jx_bool(&in, "archive_existing_versions", &archive, r) == JX_BAD)
        return;
    if (archive && strcmp(stage, "Staging") != 0 && strcmp(stage, "Production") != 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Model version transition cannot archive existing model versions because "
                    "'%s' is not an Active stage. Valid stages are ['Staging', 'Production']",
                    stage);
        return;
    }
    int rc = store_mv_transition(name, version, stage, archive, req->user.name);
    if (rc != DB_OK)
        reg_version_not_found(r, rc, name, version);
    else
        reply_version(r, name, version);
}

void api_registry_versions_delete(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    const char *name;
    int64_t version;

    if (name_version(&in, &name, &version, r) != JX_OK)
        return;
    int rc = store_mv_delete(name, version, req->user.name);
    if (rc != DB_OK)
        reg_version_not_found(r, rc, name, version);
    else
        reply_json(r, json_object());
}

static void tag(const struct request *req, struct reply *r, int set)
{
    struct input in = input_from(req);
    const char *name, *key, *value = "";
    int64_t version;

    if (name_version(&in, &name, &version, r) != JX_OK ||
        reg_required(&in, "key", &key, r) != JX_OK)
        return;
    if (set) {
        const json_t *v = json_object_get(in.obj, "value");
        if (v != NULL && json_is_null(v)) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE, "Tag value cannot be None");
            return;
        }
        if (jx_string(&in, "value", &value, r) == JX_BAD)
            return;
    }
    if (reg_check_tag(key, value, MAX_VERSION_TAG_VALUE_LENGTH, r) != JX_OK)
        return;
    int rc = store_mv_tag(name, version, key, set ? value : NULL, req->user.name);
    if (rc != DB_OK)
        reg_version_not_found(r, rc, name, version);
    else
        reply_json(r, json_object());
}

void api_registry_versions_set_tag(const struct request *req, struct reply *r)
{
    tag(req, r, 1);
}

void api_registry_versions_delete_tag(const struct request *req, struct reply *r)
{
    tag(req, r, 0);
}

void api_registry_versions_download_uri(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    const char *name, *uri;
    int64_t version;

    if (name_version(&in, &name, &version, r) != JX_OK)
        return;
    arena_init(&arena);
    int rc = store_mv_download_uri(name, version, &arena, &uri);
    if (rc != DB_OK)
        reg_version_not_found(r, rc, name, version);
    else
        reply_json(r, json_pack("{s:s}", "artifact_uri", uri));
    arena_cleanup(&arena);
}
