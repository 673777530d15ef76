/* exptrack experiments {list,create,get,rename,delete}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] = "usage: exptrack experiments list [--view active|deleted|all]\n"
                            "       exptrack experiments create NAME\n"
                            "       exptrack experiments get ID|NAME\n"
                            "       exptrack experiments rename ID|NAME NEW_NAME\n"
                            "       exptrack experiments delete ID|NAME\n";

static int list(struct cli *c)
{
    const char *view = "active";
    et_experiment *e = NULL;
    size_t n = 0;

    if (cli_take_opt(c, "--view", &view) < 0 || cli_positional(c, 0, 0, usage) < 0)
        return EXIT_USAGE;
    et_view v = strcmp(view, "all") == 0       ? ET_VIEW_ALL
                : strcmp(view, "deleted") == 0 ? ET_VIEW_DELETED
                : strcmp(view, "active") == 0  ? ET_VIEW_ACTIVE
                                               : 0;
    if (v == 0)
        return cli_usage(usage);
    if (cli_client(c) == NULL)
        return 1;
    int rc = et_experiment_list(c->client, v, &e, &n);
    if (rc != ET_OK)
        return cli_fail("experiments list", rc);
    if (c->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, json_experiment(&e[i]));
        print_json(arr);
    } else {
        static const char *const hdr[] = {"ID", "NAME", "STAGE", "ARTIFACT LOCATION"};
        struct table *t = table_new(4, hdr);
        for (size_t i = 0; i < n; i++) {
            const char *row[] = {e[i].experiment_id, e[i].name, e[i].lifecycle_stage,
                                 e[i].artifact_location};
            table_add(t, row);
        }
        table_print(t);
        table_free(t);
    }
    et_experiment_list_free(e, n);
    return 0;
}

/* Resolves ID|NAME to an id (malloc'd) via get. */
static int resolve(struct cli *c, const char *ref, char **id)
{
    et_experiment *e = NULL;
    int rc = et_experiment_get(c->client, ref, &e);
    if (rc != ET_OK)
        return rc;
    *id = e->experiment_id;
    e->experiment_id = NULL;
    et_experiment_free(e);
    return ET_OK;
}

static int get(struct cli *c)
{
    et_experiment *e = NULL;
    if (cli_positional(c, 1, 1, usage) < 0)
        return EXIT_USAGE;
    if (cli_client(c) == NULL)
        return 1;
    int rc = et_experiment_get(c->client, c->argv[0], &e);
    if (rc != ET_OK)
        return cli_fail("experiments get", rc);
    if (c->json) {
        print_json(json_experiment(e));
    } else {
        printf("experiment_id      %s\nname               %s\nlifecycle_stage    %s\n"
               "artifact_location  %s\ncreation_time      %lld\n",
               e->experiment_id, e->name, e->lifecycle_stage, e->artifact_location,
               (long long)e->creation_time);
        for (size_t i = 0; i < e->ntags; i++)
            printf("tag %-14s %s\n", e->tags[i].key, e->tags[i].value);
    }
    et_experiment_free(e);
    return 0;
}

static int create(struct cli *c)
{
    char *id = NULL;
    if (cli_positional(c, 1, 1, usage) < 0)
        return EXIT_USAGE;
    if (cli_client(c) == NULL)
        return 1;
    int rc = et_experiment_create(c->client, c->argv[0], &id);
    if (rc != ET_OK)
        return cli_fail("experiments create", rc);
    if (c->json)
        print_json(json_pack("{s:s}", "experiment_id", id));
    else
        printf("%s\n", id);
    free(id);
    return 0;
}

/* rename and delete: both take ID|NAME first. */
static int change(struct cli *c, int is_rename)
{
    char *id = NULL;
    if (cli_positional(c, is_rename ? 2 : 1, is_rename ? 2 : 1, usage) < 0)
        return EXIT_USAGE;
    if (cli_client(c) == NULL)
        return 1;
    int rc = resolve(c, c->argv[0], &id);
    if (rc == ET_OK)
        rc = is_rename ? et_experiment_rename(c->client, id, c->argv[1])
                       : et_experiment_delete(c->client, id);
    if (rc != ET_OK) {
        free(id);
        return cli_fail(is_rename ? "experiments rename" : "experiments delete", rc);
    }
    if (c->json)
        print_json(json_pack("{s:s}", "experiment_id", id));
    free(id);
    return 0;
}

int cmd_experiments(struct cli *c)
{
    int rc = EXIT_USAGE;
    const char *sub = cli_subcommand(c, usage, &rc);
    if (sub == NULL)
        return rc;
    if (strcmp(sub, "list") == 0)
        return list(c);
    if (strcmp(sub, "create") == 0)
        return create(c);
    if (strcmp(sub, "get") == 0)
        return get(c);
    if (strcmp(sub, "rename") == 0)
        return change(c, 1);
    if (strcmp(sub, "delete") == 0)
        return change(c, 0);
    fprintf(stderr, "exptrack: unknown experiments command '%s'\n", sub);
    return cli_usage(usage);
}
