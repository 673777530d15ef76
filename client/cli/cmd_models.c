/* exptrack models {list,get,create,versions,register,resolve,alias,stage,
 * download}: the Model Registry. Each subcommand is one libexptrack call
 * and its output; the library does the requests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: exptrack models list [--filter F]\n"
    "       exptrack models get NAME\n"
    "       exptrack models create NAME\n"
    "       exptrack models versions NAME\n"
    "       exptrack models register NAME RUN [ARTIFACT_PATH]\n"
    "       exptrack models resolve NAME@ALIAS|NAME/VERSION|NAME/STAGE|models:/...\n"
    "       exptrack models alias NAME ALIAS VERSION\n"
    "       exptrack models alias --delete NAME ALIAS\n"
    "       exptrack models stage NAME VERSION STAGE [--archive-existing]\n"
    "       exptrack models download NAME@ALIAS|NAME/VERSION|models:/... DIR\n";

/* The highest version number among m's latest versions ("-" when none). */
static const char *latest_of(const et_model *m)
{
    const char *best = "-";
    long long top = -1;
    for (size_t i = 0; i < m->nlatest; i++) {
        long long v = strtoll(m->latest_versions[i].version, NULL, 10);
        if (v > top) {
            top = v;
            best = m->latest_versions[i].version;
        }
    }
    return best;
}

static void print_version(struct cli *c, const et_model_version *v)
{
    if (c->json) {
        print_json(json_model_version(v));
        return;
    }
    printf("name                    %s\nversion                 %s\ncurrent_stage           %s\n"
           "status                  %s\nsource                  %s\nrun_id                  %s\n"
           "creation_timestamp      %lld\nlast_updated_timestamp  %lld\n",
           v->name, v->version, v->stage, v->status, v->source, v->run_id,
           (long long)v->creation_timestamp, (long long)v->last_updated_timestamp);
    for (size_t i = 0; i < v->naliases; i++)
        printf("alias   %s\n", v->aliases[i]);
    for (size_t i = 0; i < v->ntags; i++)
        printf("tag     %s = %s\n", v->tags[i].key, v->tags[i].value);
}

static void print_model(struct cli *c, const et_model *m)
{
    if (c->json) {
        print_json(json_model(m));
        return;
    }
    printf("name                    %s\ndescription             %s\ncreation_timestamp      %lld\n"
           "last_updated_timestamp  %lld\n",
           m->name, m->description, (long long)m->creation_timestamp,
           (long long)m->last_updated_timestamp);
    for (size_t i = 0; i < m->nlatest; i++)
        printf("latest  %s = %s\n", m->latest_versions[i].stage, m->latest_versions[i].version);
    for (size_t i = 0; i < m->naliases; i++)
        printf("alias   %s = %s\n", m->aliases[i].key, m->aliases[i].value);
    for (size_t i = 0; i < m->ntags; i++)
        printf("tag     %s = %s\n", m->tags[i].key, m->tags[i].value);
}

static int list(struct cli *c)
{
    const char *filter = NULL;
    et_model *m = NULL;
    size_t n = 0;

    if (cli_take_opt(c, "--filter", &filter) < 0 || cli_positional(c, 0, 0, usage) < 0)
        return EXIT_USAGE;
    if (cli_client(c) == NULL)
        return 1;
    int rc = et_model_list(c->client, filter, &m, &n);
    if (rc != ET_OK)
        return cli_fail("models list", rc);
    if (c->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, json_model(&m[i]));
        print_json(arr);
    } else {
        static const char *const hdr[] = {"NAME", "LATEST", "DESCRIPTION"};
        struct table *t = table_new(3, hdr);
        for (size_t i = 0; i < n; i++) {
            const char *row[] = {m[i].name, latest_of(&m[i]), m[i].description};
            table_add(t, row);
        }
        table_print(t);
        table_free(t);
    }
    et_model_list_free(m, n);
    return 0;
}

/* get and create: one model by name. */
static int get_or_create(struct cli *c, int create)
{
    et_model *m = NULL;
    if (cli_positional(c, 1, 1, usage) < 0)
        return EXIT_USAGE;
    if (cli_client(c) == NULL)
        return 1;
    int rc = create ? et_model_create(c->client, c->argv[0], &m)
                    : et_model_get(c->client, c->argv[0], &m);
    if (rc != ET_OK)
        return cli_fail(create ? "models create" : "models get", rc);
    if (create && !c->json)
        printf("%s\n", m->name);
    else
        print_model(c, m);
    et_model_free(m);
    return 0;
}

static int versions(struct cli *c)
{
    et_model_version *v = NULL;
    size_t n = 0;

    if (cli_positional(c, 1, 1, usage) < 0)
        return EXIT_USAGE;
    if (cli_client(c) == NULL)
        return 1;
    /* An unknown model searches to an empty list; say so as get would. */
    et_model *m = NULL;
    int rc = et_model_get(c->client, c->argv[0], &m);
    et_model_free(m);
    if (rc == ET_OK)
        rc = et_model_version_list(c->client, c->argv[0], &v, &n);
    if (rc != ET_OK)
        return cli_fail("models versions", rc);
    if (c->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, json_model_version(&v[i]));
        print_json(arr);
    } else {
        static const char *const hdr[] = {"VERSION", "STAGE", "STATUS", "RUN ID", "SOURCE"};
        struct table *t = table_new(5, hdr);
        for (size_t i = 0; i < n; i++) {
            const char *row[] = {v[i].version, v[i].stage, v[i].status, v[i].run_id, v[i].source};
            table_add(t, row);
        }
        table_print(t);
        table_free(t);
    }
    et_model_version_list_free(v, n);
    return 0;
}

/* register, resolve and stage: each ends with one version to print. */
static int one_version(struct cli *c, const char *sub)
{
    et_model_version *v = NULL;
    int archive = 0, rc;

    if (strcmp(sub, "stage") == 0)
        archive = cli_take_flag(c, "--archive-existing");
    int reg = strcmp(sub, "register") == 0, stage = strcmp(sub, "stage") == 0;
    if (cli_positional(c, reg ? 2 : stage ? 3 : 1, reg ? 3 : stage ? 3 : 1, usage) < 0)
        return EXIT_USAGE;
    if (cli_client(c) == NULL)
        return 1;
    if (reg)
        rc = et_model_register(c->client, c->argv[0], c->argv[1], c->argc > 2 ? c->argv[2] : NULL,
                               &v);
    else if (stage)
        rc = et_model_version_stage(c->client, c->argv[0], c->argv[1], c->argv[2], archive, &v);
    else
        rc = et_model_version_resolve(c->client, c->argv[0], &v);
    if (rc != ET_OK) {
        char what[32];
        snprintf(what, sizeof what, "models %s", sub);
        return cli_fail(what, rc);
    }
    if (reg && !c->json)
        printf("%s\n", v->version);
    else
        print_version(c, v);
    et_model_version_free(v);
    return 0;
}

static int alias(struct cli *c)
{
    int del = cli_take_flag(c, "--delete");
    if (cli_positional(c, del ? 2 : 3, del ? 2 : 3, usage) < 0)
        return EXIT_USAGE;
    if (cli_client(c) == NULL)
        return 1;
    int rc = del ? et_model_alias_delete(c->client, c->argv[0], c->argv[1])
                 : et_model_alias_set(c->client, c->argv[0], c->argv[1], c->argv[2]);
    if (rc != ET_OK)
        return cli_fail("models alias", rc);
    if (c->json && del)
        print_json(
            json_pack("{s:s, s:s, s:b}", "name", c->argv[0], "alias", c->argv[1], "deleted", 1));
    else if (c->json)
        print_json(json_pack("{s:s, s:s, s:s}", "name", c->argv[0], "alias", c->argv[1], "version",
                             c->argv[2]));
    return 0;
}

static int download(struct cli *c)
{
    size_t n = 0;
    if (cli_positional(c, 2, 2, usage) < 0)
        return EXIT_USAGE;
    if (cli_client(c) == NULL)
        return 1;
    int rc = et_model_version_download(c->client, c->argv[0], c->argv[1], &n);
    if (rc != ET_OK)
        return cli_fail("models download", rc);
    if (c->json)
        print_json(json_pack("{s:s, s:s, s:I}", "model", c->argv[0], "dir", c->argv[1], "files",
                             (json_int_t)n));
    else
        printf("%zu file(s) of %s in %s\n", n, c->argv[0], c->argv[1]);
    return 0;
}

int cmd_models(struct cli *c)
{
    int rc = EXIT_USAGE;
    const char *sub = cli_subcommand(c, usage, &rc);
    if (sub == NULL)
        return rc;
    if (strcmp(sub, "list") == 0)
        return list(c);
    if (strcmp(sub, "get") == 0)
        return get_or_create(c, 0);
    if (strcmp(sub, "create") == 0)
        return get_or_create(c, 1);
    if (strcmp(sub, "versions") == 0)
        return versions(c);
    if (strcmp(sub, "register") == 0 || strcmp(sub, "resolve") == 0 || strcmp(sub, "stage") == 0)
        return one_version(c, sub);
    if (strcmp(sub, "alias") == 0)
        return alias(c);
    if (strcmp(sub, "download") == 0)
        return download(c);
    fprintf(stderr, "exptrack: unknown models command '%s'\n", sub);
    return cli_usage(usage);
}
