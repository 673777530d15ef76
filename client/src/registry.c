/* The Model Registry: registered models and their versions, aliases, stages,
 * models:/ reference resolution and the download of a version's files
 * through the artifact proxy (artifacts.c does the transfers). Synchronous;
 * nothing is cached. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "internal.h"

#define API "/api/2.0/mlflow"
#define PAGE "1000"

static void version_cleanup(et_model_version *v)
{
    free(v->name);
    free(v->version);
    free(v->source);
    free(v->run_id);
    free(v->stage);
    free(v->status);
    free(v->description);
    for (size_t i = 0; i < v->naliases; i++)
        free(v->aliases[i]);
    free(v->aliases);
    et__free_kvs(v->tags, v->ntags);
    memset(v, 0, sizeof *v);
}

void et_model_version_free(et_model_version *v)
{
    if (v == NULL)
        return;
    version_cleanup(v);
    free(v);
}

void et_model_version_list_free(et_model_version *list, size_t n)
{
    for (size_t i = 0; list != NULL && i < n; i++)
        version_cleanup(&list[i]);
    free(list);
}

static void model_cleanup(et_model *m)
{
    free(m->name);
    free(m->description);
    et_model_version_list_free(m->latest_versions, m->nlatest);
    et__free_kvs(m->aliases, m->naliases);
    et__free_kvs(m->tags, m->ntags);
    memset(m, 0, sizeof *m);
}

void et_model_free(et_model *m)
{
    if (m == NULL)
        return;
    model_cleanup(m);
    free(m);
}

void et_model_list_free(et_model *list, size_t n)
{
    for (size_t i = 0; list != NULL && i < n; i++)
        model_cleanup(&list[i]);
    free(list);
}

static int decode_version(const json_t *j, et_model_version *v)
{
    const json_t *aliases = json_object_get(j, "aliases");

    memset(v, 0, sizeof *v);
    v->name = et__jdup(j, "name");
    v->version = et__jdup(j, "version");
    v->source = et__jdup(j, "source");
    v->run_id = et__jdup(j, "run_id");
    v->stage = et__jdup(j, "current_stage");
    v->status = et__jdup(j, "status");
    v->description = et__jdup(j, "description");
    v->creation_timestamp = et__jint(j, "creation_timestamp");
    v->last_updated_timestamp = et__jint(j, "last_updated_timestamp");
    if (!v->name || !v->version || !v->source || !v->run_id || !v->stage || !v->status ||
        !v->description)
        return ET_ENOMEM;
    if (json_array_size(aliases) > 0) {
        v->aliases = calloc(json_array_size(aliases), sizeof *v->aliases);
        if (v->aliases == NULL)
            return ET_ENOMEM;
        for (size_t i = 0; i < json_array_size(aliases); i++) {
            const char *a = json_string_value(json_array_get(aliases, i));
            if ((v->aliases[i] = et__util_strdup(a ? a : "")) == NULL)
                return ET_ENOMEM;
            v->naliases = i + 1;
        }
    }
    return et__decode_kvs(json_object_get(j, "tags"), &v->tags, &v->ntags);
}

/* [{alias, version}] -> key/value pairs. */
static int decode_aliases(const json_t *arr, et_kv **out, size_t *n)
{
    size_t cnt = json_array_size(arr);
    *out = NULL;
    *n = 0;
    if (cnt == 0)
        return ET_OK;
    if ((*out = calloc(cnt, sizeof **out)) == NULL)
        return ET_ENOMEM;
    for (size_t i = 0; i < cnt; i++) {
        const json_t *it = json_array_get(arr, i);
        (*out)[i].key = et__jdup(it, "alias");
        (*out)[i].value = et__jdup(it, "version");
        *n = i + 1;
        if ((*out)[i].key == NULL || (*out)[i].value == NULL)
            return ET_ENOMEM;
    }
    return ET_OK;
}

static int decode_model(const json_t *j, et_model *m)
{
    const json_t *latest = json_object_get(j, "latest_versions");
    size_t nl = json_array_size(latest);
    int rc;

    memset(m, 0, sizeof *m);
    m->name = et__jdup(j, "name");
    m->description = et__jdup(j, "description");
    m->creation_timestamp = et__jint(j, "creation_timestamp");
    m->last_updated_timestamp = et__jint(j, "last_updated_timestamp");
    if (m->name == NULL || m->description == NULL)
        return ET_ENOMEM;
    if (nl > 0 && (m->latest_versions = calloc(nl, sizeof *m->latest_versions)) == NULL)
        return ET_ENOMEM;
    for (size_t i = 0; i < nl; i++) {
        m->nlatest = i + 1;
        if ((rc = decode_version(json_array_get(latest, i), &m->latest_versions[i])) != ET_OK)
            return rc;
    }
    if ((rc = decode_aliases(json_object_get(j, "aliases"), &m->aliases, &m->naliases)) != ET_OK)
        return rc;
    return et__decode_kvs(json_object_get(j, "tags"), &m->tags, &m->ntags);
}

/* Decodes reply[field] (one object) into a new heap struct for *out. */
static int one_version(json_t *reply, et_model_version **out)
{
    et_model_version *v = calloc(1, sizeof *v);
    if (v == NULL)
        return ET_ENOMEM;
    int rc = decode_version(json_object_get(reply, "model_version"), v);
    if (rc != ET_OK) {
        et_model_version_free(v);
        return rc;
    }
    *out = v;
    return ET_OK;
}

static int one_model(json_t *reply, et_model **out)
{
    et_model *m = calloc(1, sizeof *m);
    if (m == NULL)
        return ET_ENOMEM;
    int rc = decode_model(json_object_get(reply, "registered_model"), m);
    if (rc != ET_OK) {
        et_model_free(m);
        return rc;
    }
    *out = m;
    return ET_OK;
}

/* GET path?name=..[&k2=v2] and decode its model_version into *out (may be NULL). */
static int get_version(et_client *c, const char *path, const char *name, const char *k2,
                       const char *v2, et_model_version **out)
{
    json_t *reply = NULL;

    int rc = et__ctl_get(c, path, "name", name, k2, v2, &reply);
    if (rc == ET_OK)
        rc = one_version(reply, out);
    json_decref(reply);
    return rc;
}

/* Sends body (consumed) and decodes the reply's model_version into *out
 * when out is not NULL. */
static int call_version(et_client *c, const char *method, const char *path, json_t *body,
                        et_model_version **out)
{
    json_t *reply = NULL;
    if (body == NULL)
        return ET_ENOMEM;
    int rc = et__ctl_call(c, method, path, body, NULL, &reply);
    json_decref(body);
    if (rc == ET_OK && out != NULL)
        rc = one_version(reply, out);
    json_decref(reply);
    return rc;
}

/* Every item of a paged GET search, appended to items (a JSON array). */
static int search_all(et_client *c, const char *path, const char *filter, const char *field,
                      json_t *items)
{
    char *token = NULL;
    int rc;

    do {
        struct et_dbuf q;
        json_t *reply = NULL;
        et__dbuf_init(&q);
        rc = et__query_add(&q, "max_results", PAGE);
        if (rc == ET_OK && filter != NULL)
            rc = et__query_add(&q, "filter", filter);
        if (rc == ET_OK && token != NULL)
            rc = et__query_add(&q, "page_token", token);
        free(token);
        token = NULL;
        if (rc == ET_OK)
            rc = et__ctl_call(c, "GET", path, NULL, q.data, &reply);
        et__dbuf_cleanup(&q);
        if (rc != ET_OK)
            break;
        if (json_array_extend(items, json_object_get(reply, field)) != 0 &&
            json_object_get(reply, field) != NULL)
            rc = ET_ENOMEM;
        const char *next = json_string_value(json_object_get(reply, "next_page_token"));
        if (rc == ET_OK && next != NULL && *next != '\0' && (token = strdup(next)) == NULL)
            rc = ET_ENOMEM;
        json_decref(reply);
    } while (rc == ET_OK && token != NULL);
    free(token);
    return rc;
}

int et_model_create(et_client *c, const char *name, et_model **out)
{
    json_t *reply = NULL;

    if (c == NULL || name == NULL)
        return ET_EINVAL;
    json_t *body = json_pack("{s:s}", "name", name);
    if (body == NULL)
        return ET_ENOMEM;
    int rc = et__ctl_call(c, "POST", API "/registered-models/create", body, NULL, &reply);
    json_decref(body);
    if (rc == ET_OK && out != NULL)
        rc = one_model(reply, out);
    json_decref(reply);
    return rc;
}

int et_model_get(et_client *c, const char *name, et_model **out)
{
    json_t *reply = NULL;

    if (c == NULL || name == NULL || out == NULL)
        return ET_EINVAL;
    int rc = et__ctl_get(c, API "/registered-models/get", "name", name, NULL, NULL, &reply);
    if (rc == ET_OK)
        rc = one_model(reply, out);
    json_decref(reply);
    return rc;
}

int et_model_list(et_client *c, const char *filter, et_model **out, size_t *n)
{
    et_model *list = NULL;
    size_t cnt = 0;

    if (c == NULL || out == NULL || n == NULL)
        return ET_EINVAL;
    json_t *items = json_array();
    if (items == NULL)
        return ET_ENOMEM;
    int rc = search_all(c, API "/registered-models/search", filter, "registered_models", items);
    size_t total = json_array_size(items);
    if (rc == ET_OK && total > 0 && (list = calloc(total, sizeof *list)) == NULL)
        rc = ET_ENOMEM;
    for (size_t i = 0; rc == ET_OK && i < total; i++) {
        cnt = i + 1;
        rc = decode_model(json_array_get(items, i), &list[i]);
    }
    json_decref(items);
    if (rc != ET_OK) {
        et_model_list_free(list, cnt);
        return rc;
    }
    *out = list;
    *n = cnt;
    return ET_OK;
}

int et_model_version_list(et_client *c, const char *name, et_model_version **out, size_t *n)
{
    struct et_dbuf filter;
    et_model_version *list = NULL;
    size_t cnt = 0;
    int rc;

    if (c == NULL || name == NULL || out == NULL || n == NULL)
        return ET_EINVAL;
    /* The filter language has no escapes: quote with the character name lacks. */
    char quote = strchr(name, '\'') == NULL ? '\'' : '"';
    if (strchr(name, quote) != NULL) {
        et__util_set_error("model name %s cannot be quoted in a filter", name);
        return ET_EINVAL;
    }
    et__dbuf_init(&filter);
    if (et__dbuf_addf(&filter, "name=%c%s%c", quote, name, quote) != ET_OK)
        return ET_ENOMEM;
    json_t *items = json_array();
    rc = items ? search_all(c, API "/model-versions/search", filter.data, "model_versions", items)
               : ET_ENOMEM;
    et__dbuf_cleanup(&filter);
    size_t total = json_array_size(items);
    if (rc == ET_OK && total > 0 && (list = calloc(total, sizeof *list)) == NULL)
        rc = ET_ENOMEM;
    for (size_t i = 0; rc == ET_OK && i < total; i++) {
        cnt = i + 1;
        rc = decode_version(json_array_get(items, i), &list[i]);
    }
    json_decref(items);
    if (rc != ET_OK) {
        et_model_version_list_free(list, cnt);
        return rc;
    }
    *out = list;
    *n = cnt;
    return ET_OK;
}

int et_model_register(et_client *c, const char *name, const char *run_id, const char *artifact_path,
                      et_model_version **out)
{
    struct et_dbuf source;
    et_run_info *ri = NULL;
    int rc;

    if (c == NULL || name == NULL || run_id == NULL)
        return ET_EINVAL;
    /* The run first: a typo in run_id should not leave an empty model behind. */
    if ((rc = et_run_get(c, run_id, &ri)) != ET_OK)
        return rc;
    et__dbuf_init(&source);
    const char *p = artifact_path ? artifact_path : "";
    while (*p == '/')
        p++;
    size_t base = strlen(ri->artifact_uri);
    while (base > 0 && ri->artifact_uri[base - 1] == '/')
        base--;
    rc = et__dbuf_addf(&source, "%.*s%s%s", (int)base, ri->artifact_uri, *p ? "/" : "", p);
    if (rc == ET_OK) {
        rc = et_model_create(c, name, NULL);
        if (rc == ET_EEXISTS)
            rc = ET_OK; /* exists already, or a concurrent register created it */
    }
    if (rc == ET_OK)
        rc = call_version(
            c, "POST", API "/model-versions/create",
            json_pack("{s:s, s:s, s:s}", "name", name, "source", source.data, "run_id", ri->run_id),
            out);
    et__dbuf_cleanup(&source);
    et_run_info_free(ri);
    return rc;
}

int et_model_alias_set(et_client *c, const char *name, const char *alias, const char *version)
{
    if (c == NULL || name == NULL || alias == NULL || version == NULL)
        return ET_EINVAL;
    json_t *body = json_pack("{s:s, s:s, s:s}", "name", name, "alias", alias, "version", version);
    if (body == NULL)
        return ET_ENOMEM;
    int rc = et__ctl_call(c, "POST", API "/registered-models/alias", body, NULL, NULL);
    json_decref(body);
    return rc;
}

int et_model_alias_delete(et_client *c, const char *name, const char *alias)
{
    if (c == NULL || name == NULL || alias == NULL)
        return ET_EINVAL;
    json_t *body = json_pack("{s:s, s:s}", "name", name, "alias", alias);
    if (body == NULL)
        return ET_ENOMEM;
    int rc = et__ctl_call(c, "DELETE", API "/registered-models/alias", body, NULL, NULL);
    json_decref(body);
    return rc;
}

int et_model_version_stage(et_client *c, const char *name, const char *version, const char *stage,
                           int archive_existing, et_model_version **out)
{
    if (c == NULL || name == NULL || version == NULL || stage == NULL)
        return ET_EINVAL;
    return call_version(c, "POST", API "/model-versions/transition-stage",
                        json_pack("{s:s, s:s, s:s, s:b}", "name", name, "version", version, "stage",
                                  stage, "archive_existing_versions", archive_existing != 0),
                        out);
}

/* NAME/latest or NAME/STAGE: the highest version get-latest-versions gives. */
static int latest_version(et_client *c, const char *name, const char *stage, et_model_version **out)
{
    json_t *reply = NULL, *best = NULL;
    json_t *body = json_pack("{s:s}", "name", name);
    int rc = ET_ENOMEM;

    if (body == NULL)
        return ET_ENOMEM;
    if (stage != NULL && json_object_set_new(body, "stages", json_pack("[s]", stage)) != 0)
        goto out;
    rc = et__ctl_call(c, "POST", API "/registered-models/get-latest-versions", body, NULL, &reply);
    if (rc != ET_OK)
        goto out;
    const json_t *arr = json_object_get(reply, "model_versions");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *v = json_array_get(arr, i);
        if (best == NULL || et__jint(v, "version") > et__jint(best, "version"))
            best = v;
    }
    if (best == NULL) {
        et__util_set_error("no versions of model %s%s%s", name, stage ? " in stage " : "",
                           stage ? stage : "");
        rc = ET_ENOTFOUND;
        goto out;
    }
    rc = get_version(c, API "/model-versions/get", name, "version",
                     json_string_value(json_object_get(best, "version")), out);
out:
    json_decref(body);
    json_decref(reply);
    return rc;
}

int et_model_version_resolve(et_client *c, const char *ref, et_model_version **out)
{
    if (c == NULL || ref == NULL || out == NULL)
        return ET_EINVAL;
    if (strncmp(ref, "models:/", 8) == 0)
        ref += 8;
    char *name = strdup(ref);
    if (name == NULL)
        return ET_ENOMEM;
    char *at = strrchr(name, '@'), *slash = strrchr(name, '/');
    int rc;
    if (at != NULL && at != name && at[1] != '\0' && (slash == NULL || slash < at)) {
        *at = '\0';
        rc = get_version(c, API "/registered-models/alias", name, "alias", at + 1, out);
    } else if (slash != NULL && slash != name && slash[1] != '\0') {
        const char *sel = slash + 1;
        *slash = '\0';
        if (strspn(sel, "0123456789") == strlen(sel))
            rc = get_version(c, API "/model-versions/get", name, "version", sel, out);
        else
            rc = latest_version(c, name, strcasecmp(sel, "latest") == 0 ? NULL : sel, out);
    } else {
        et__util_set_error("model reference %s is not NAME@ALIAS or NAME/VERSION", ref);
        rc = ET_EINVAL;
    }
    free(name);
    return rc;
}

/* The artifact-proxy path of an mlflow-artifacts: URI ("mlflow-artifacts:/p",
 * "mlflow-artifacts://host:port/p"); NULL for any other scheme. */
static const char *proxy_path(const char *uri)
{
    static const char scheme[] = "mlflow-artifacts:";
    if (strncmp(uri, scheme, sizeof scheme - 1) != 0)
        return NULL;
    uri += sizeof scheme - 1;
    if (strncmp(uri, "//", 2) == 0) {
        uri = strchr(uri + 2, '/');
        if (uri == NULL)
            return "";
    }
    while (*uri == '/')
        uri++;
    return uri;
}

/* A listed name is written below dir only when it is one plain component. */
static int plain_name(const char *s)
{
    return *s != '\0' && strchr(s, '/') == NULL && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static int make_dir(const char *dir)
{
    if (mkdir(dir, 0777) == 0 || errno == EEXIST)
        return ET_OK;
    et__util_set_error("cannot create %s: %s", dir, strerror(errno));
    return ET_EIO;
}

/* Creates dir and its missing parents. */
static int make_dirs(const char *dir)
{
    char *p = strdup(dir);
    int rc = p ? ET_OK : ET_ENOMEM;
    for (char *s = p ? p + 1 : NULL; rc == ET_OK && s && (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        rc = make_dir(p);
        *s = '/';
    }
    if (rc == ET_OK)
        rc = make_dir(dir);
    free(p);
    return rc;
}

/* Fetches the proxy directory rel into the existing local directory dir. */
static int fetch_tree(et_client *c, const char *rel, const char *dir, size_t *nfiles, int depth)
{
    et_file_info *f = NULL;
    size_t n = 0;
    struct et_dbuf sub, local;

    if (depth > 64) {
        et__util_set_error("artifact tree deeper than 64 levels at %s", rel);
        return ET_EPROTOCOL;
    }
    int rc = et__artifact_ls(c, rel, &f, &n);
    for (size_t i = 0; rc == ET_OK && i < n; i++) {
        const char *base = strrchr(f[i].path, '/') ? strrchr(f[i].path, '/') + 1 : f[i].path;
        if (!plain_name(base)) {
            et__util_set_error("artifact listing of %s names %s", rel, f[i].path);
            rc = ET_EPROTOCOL;
            break;
        }
        et__dbuf_init(&sub);
        et__dbuf_init(&local);
        if (et__dbuf_addf(&sub, "%s%s%s", rel, *rel ? "/" : "", base) != ET_OK ||
            et__dbuf_addf(&local, "%s/%s", dir, base) != ET_OK)
            rc = ET_ENOMEM;
        else if (f[i].is_dir && (rc = make_dir(local.data)) == ET_OK)
            rc = fetch_tree(c, sub.data, local.data, nfiles, depth + 1);
        else if (!f[i].is_dir && (rc = et__artifact_fetch(c, sub.data, local.data)) == ET_OK)
            (*nfiles)++;
        et__dbuf_cleanup(&sub);
        et__dbuf_cleanup(&local);
    }
    et_file_list_free(f, n);
    return rc;
}

/* The download URI of an already resolved version. *out malloc'd. */
static int download_uri(et_client *c, const et_model_version *v, char **out)
{
    json_t *reply = NULL;

    int rc = et__ctl_get(c, API "/model-versions/get-download-uri", "name", v->name, "version",
                         v->version, &reply);
    if (rc == ET_OK && (*out = et__jdup(reply, "artifact_uri")) == NULL)
        rc = ET_ENOMEM;
    json_decref(reply);
    return rc;
}

int et_model_version_download(et_client *c, const char *ref, const char *dir, size_t *nfiles)
{
    et_model_version *v = NULL;
    char *uri = NULL;
    size_t count = 0;
    struct et_dbuf local;

    if (nfiles != NULL)
        *nfiles = 0;
    if (c == NULL || ref == NULL || dir == NULL || *dir == '\0')
        return ET_EINVAL;
    et__dbuf_init(&local);
    int rc = et_model_version_resolve(c, ref, &v);
    if (rc == ET_OK)
        rc = download_uri(c, v, &uri);
    if (rc != ET_OK)
        goto out;
    const char *rel = proxy_path(uri);
    if (rel == NULL) {
        et__util_set_error("cannot download %s: only mlflow-artifacts: locations are supported",
                           uri);
        rc = ET_EINVAL;
        goto out;
    }
    if ((rc = make_dirs(dir)) != ET_OK || (rc = fetch_tree(c, rel, dir, &count, 0)) != ET_OK)
        goto out;
    if (count == 0 && *rel != '\0') {
        /* Nothing listed: the source may name one file rather than a directory. */
        const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
        if (et__dbuf_addf(&local, "%s/%s", dir, base) != ET_OK)
            rc = ET_ENOMEM;
        else if (plain_name(base) && (rc = et__artifact_fetch(c, rel, local.data)) == ET_OK)
            count = 1;
        else if (rc == ET_ENOTFOUND)
            rc = ET_OK; /* an empty directory */
    }
out:
    if (nfiles != NULL)
        *nfiles = count;
    et__dbuf_cleanup(&local);
    free(uri);
    et_model_version_free(v);
    return rc;
}
