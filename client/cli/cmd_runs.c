/* exptrack runs {create,get,search,end,delete,restore}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char usage[] =
    "usage: exptrack runs create [--experiment NAME|ID] [--name NAME] [--tag KEY=VALUE]...\n"
    "       exptrack runs get RUN\n"
    "       exptrack runs search [--experiment NAME|ID]... [--filter F] [--order-by O]\n"
    "                            [--max N] [--view active|deleted|all]\n"
    "       exptrack runs end RUN [--status FINISHED|FAILED|KILLED]\n"
    "       exptrack runs delete RUN\n"
    "       exptrack runs restore RUN\n";

/* ID|NAME -> experiment id (malloc'd); a name that does not exist is an error. */
static int experiment_id(struct cli *c, const char *ref, char **id)
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

static void print_run(struct cli *c, const et_run_info *r)
{
    char num[40];
    if (c->json) {
        print_json(json_run(r));
        return;
    }
    printf("run_id           %s\nrun_name         %s\nexperiment_id    %s\nstatus           %s\n"
           "lifecycle_stage  %s\nstart_time       %lld\nend_time         %lld\n"
           "artifact_uri     %s\n",
           r->run_id, r->run_name, r->experiment_id, status_name(r->status), r->lifecycle_stage,
           (long long)r->start_time, (long long)r->end_time, r->artifact_uri);
    for (size_t i = 0; i < r->nparams; i++)
        printf("param   %s = %s\n", r->params[i].key, r->params[i].value);
    for (size_t i = 0; i < r->nmetrics; i++)
        printf("metric  %s = %s (step %lld)\n", r->metrics[i].key,
               fmt_double(r->metrics[i].value, num, sizeof num), (long long)r->metrics[i].step);
    for (size_t i = 0; i < r->ntags; i++)
        printf("tag     %s = %s\n", r->tags[i].key, r->tags[i].value);
}

static int create(struct cli *c)
{
    const char *exp = NULL, *name = NULL, *tags[100], *keys[100], *vals[100];
    char *split[100] = {0}, *exp_id = NULL;
    et_run *run = NULL;
    int nt, rc;

    if (cli_take_opt(c, "--experiment", &exp) < 0 || cli_take_opt(c, "--name", &name) < 0 ||
        (nt = cli_take_multi(c, "--tag", tags, 100)) < 0 || cli_positional(c, 0, 0, usage) < 0)
        return EXIT_USAGE;
    for (int i = 0; i < nt; i++) {
        const char *eq = strchr(tags[i], '=');
        if (eq == NULL || eq == tags[i])
            return cli_usage(usage);
        split[i] = strndup(tags[i], (size_t)(eq - tags[i]));
        keys[i] = split[i];
        vals[i] = eq + 1;
    }
    if (cli_client(c) == NULL)
        return 1;
    rc = exp ? experiment_id(c, exp, &exp_id) : ET_OK;
    if (rc == ET_OK)
        rc = et_run_create(c->client, exp_id ? exp_id : "0", name, keys, vals, (size_t)nt, &run);
    for (int i = 0; i < nt; i++)
        free(split[i]);
    free(exp_id);
    if (rc != ET_OK)
        return cli_fail("runs create", rc);
    if (c->json)
        print_json(json_pack("{s:s, s:s}", "run_id", et_run_id(run), "experiment_id",
                             et_run_experiment_id(run)));
    else
        printf("%s\n", et_run_id(run));
    return et_run_detach(run) == ET_OK ? 0 : 1;
}

static int get(struct cli *c)
{
    et_run_info *r = NULL;
    if (cli_positional(c, 1, 1, usage) < 0)
        return EXIT_USAGE;
    if (cli_client(c) == NULL)
        return 1;
    int rc = et_run_get(c->client, c->argv[0], &r);
    if (rc != ET_OK)
        return cli_fail("runs get", rc);
    print_run(c, r);
    et_run_info_free(r);
    return 0;
}

static void time_text(int64_t ms, char *buf, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (ms <= 0 || gmtime_r(&t, &tm) == NULL)
        snprintf(buf, n, "-");
    else
        strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
}

static int print_results(struct cli *c, et_run_iter *it)
{
    static const char *const hdr[] = {"RUN ID", "NAME", "EXPERIMENT", "STATUS", "START (UTC)"};
    struct table *t = c->json ? NULL : table_new(5, hdr);
    json_t *arr = c->json ? json_array() : NULL;
    const et_run_info *r;
    int rc;

    while ((rc = et_run_iter_next(it, &r)) == 1) {
        if (arr != NULL) {
            json_array_append_new(arr, json_run(r));
        } else {
            char when[32];
            time_text(r->start_time, when, sizeof when);
            const char *row[] = {r->run_id, r->run_name, r->experiment_id, status_name(r->status),
                                 when};
            table_add(t, row);
        }
    }
    if (rc == 0) {
        if (arr != NULL)
            print_json(arr);
        else
            table_print(t);
    } else {
        json_decref(arr);
    }
    table_free(t);
    return rc;
}

static int search(struct cli *c)
{
    const char *refs[64], *filter = NULL, *order = NULL, *max = NULL, *view = NULL;
    char *ids[64] = {0};
    et_search s = {0};
    et_run_iter *it = NULL;
    int ne, rc = ET_OK;

    if ((ne = cli_take_multi(c, "--experiment", refs, 64)) < 0 ||
        cli_take_opt(c, "--filter", &filter) < 0 || cli_take_opt(c, "--order-by", &order) < 0 ||
        cli_take_opt(c, "--max", &max) < 0 || cli_take_opt(c, "--view", &view) < 0 ||
        cli_positional(c, 0, 0, usage) < 0)
        return EXIT_USAGE;
    if (max != NULL) {
        char *end;
        s.max_results = strtoll(max, &end, 10);
        if (*end != '\0' || s.max_results <= 0)
            return cli_usage(usage);
    }
    if (view != NULL)
        s.view = strcmp(view, "all") == 0       ? ET_VIEW_ALL
                 : strcmp(view, "deleted") == 0 ? ET_VIEW_DELETED
                                                : ET_VIEW_ACTIVE;
    if (cli_client(c) == NULL)
        return 1;
    for (int i = 0; i < ne && rc == ET_OK; i++)
        rc = experiment_id(c, refs[i], &ids[i]);
    s.experiment_ids = (const char *const *)ids;
    s.nexperiments = (size_t)ne;
    s.filter = filter;
    s.order_by = order;
    if (rc == ET_OK)
        rc = et_run_search(c->client, &s, &it);
    if (rc == ET_OK)
        rc = print_results(c, it);
    et_run_iter_free(it);
    for (int i = 0; i < ne; i++)
        free(ids[i]);
    return rc == ET_OK ? 0 : cli_fail("runs search", rc);
}

static int end(struct cli *c)
{
    const char *status = "FINISHED";
    if (cli_take_opt(c, "--status", &status) < 0 || cli_positional(c, 1, 1, usage) < 0)
        return EXIT_USAGE;
    et_run_status st = strcmp(status, "FINISHED") == 0 ? ET_RUN_FINISHED
                       : strcmp(status, "FAILED") == 0 ? ET_RUN_FAILED
                       : strcmp(status, "KILLED") == 0 ? ET_RUN_KILLED
                                                       : 0;
    if (st == 0)
        return cli_usage(usage);
    if (cli_client(c) == NULL)
        return 1;
    int rc = et_run_update(c->client, c->argv[0], st, 0);
    if (rc != ET_OK)
        return cli_fail("runs end", rc);
    if (c->json)
        print_json(json_pack("{s:s, s:s}", "run_id", c->argv[0], "status", status));
    return 0;
}

static int delete_or_restore(struct cli *c, int del)
{
    if (cli_positional(c, 1, 1, usage) < 0)
        return EXIT_USAGE;
    if (cli_client(c) == NULL)
        return 1;
    int rc = del ? et_run_delete(c->client, c->argv[0]) : et_run_restore(c->client, c->argv[0]);
    if (rc != ET_OK)
        return cli_fail(del ? "runs delete" : "runs restore", rc);
    if (c->json)
        print_json(json_pack("{s:s}", "run_id", c->argv[0]));
    return 0;
}

int cmd_runs(struct cli *c)
{
    int rc = EXIT_USAGE;
    const char *sub = cli_subcommand(c, usage, &rc);
    if (sub == NULL)
        return rc;
    if (strcmp(sub, "create") == 0)
        return create(c);
    if (strcmp(sub, "get") == 0)
        return get(c);
    if (strcmp(sub, "search") == 0)
        return search(c);
    if (strcmp(sub, "end") == 0)
        return end(c);
    if (strcmp(sub, "delete") == 0)
        return delete_or_restore(c, 1);
    if (strcmp(sub, "restore") == 0)
        return delete_or_restore(c, 0);
    fprintf(stderr, "exptrack: unknown runs command '%s'\n", sub);
    return cli_usage(usage);
}
