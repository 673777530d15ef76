/* exptrack export DIR: the server's experiments, runs, histories, params,
 * tags, dataset inputs, artifacts and registry in MLflow's mlruns layout
 * (export_mlruns.c). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export_mlruns.h"

static const char usage[] = "usage: exptrack export DIR [--experiment NAME|ID]... "
                            "[--include-deleted] [--jobs N]\n"
                            "Writes MLflow's file-store layout: `mlflow ui --backend-store-uri "
                            "DIR` and `exptrack import mlruns DIR` read it.\n";

int cmd_export(struct cli *c)
{
    struct export_opts o = {0};
    if (c->help) {
        fputs(usage, stdout);
        return 0;
    }
    int n = cli_take_multi(c, "--experiment", o.experiments, 64);
    if (n < 0)
        return EXIT_USAGE;
    o.nexperiments = n;
    o.include_deleted = cli_take_flag(c, "--include-deleted");
    o.json = c->json;
    o.jobs = 4;
    const char *jobs;
    int rc = cli_take_opt(c, "--jobs", &jobs);
    if (rc < 0)
        return EXIT_USAGE;
    if (rc == 1 && ((o.jobs = atoi(jobs)) < 1 || o.jobs > 64)) {
        fprintf(stderr, "exptrack export: --jobs must be 1..64\n");
        return EXIT_USAGE;
    }
    if (cli_positional(c, 1, 1, usage) != 0)
        return EXIT_USAGE;
    o.dir = c->argv[0];
    const char *url = c->url ? c->url : getenv("EXPTRACK_URL");
    if (url == NULL || !url[0])
        url = getenv("MLFLOW_TRACKING_URI");
    if (url == NULL || !url[0]) {
        fprintf(stderr, "exptrack export: no server (--url or $EXPTRACK_URL)\n");
        return EXIT_USAGE;
    }
    const char *user = getenv("EXPTRACK_USERNAME"), *token = getenv("EXPTRACK_TOKEN");
    const char *pass = getenv("EXPTRACK_PASSWORD");
    if ((user == NULL || !user[0]) && (token == NULL || !token[0])) {
        user = getenv("MLFLOW_TRACKING_USERNAME");
        pass = getenv("MLFLOW_TRACKING_PASSWORD");
        token = getenv("MLFLOW_TRACKING_TOKEN");
    }
    struct ih src;
    if (ih_open(&src, url, user, pass, token) != 0)
        return 1;
    rc = export_mlruns(&src, &o);
    ih_close(&src);
    return rc;
}
