/* exptrack import {mlruns DIR, mlflow --from URL}: brings an MLflow file
 * store or a running MLflow server into exptrackd (import_*.c do the work).
 * `import mlflow` copies run by run from server to server (import_rest.c). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "import_mlruns.h"

static const char usage[] =
    "usage: exptrack import mlruns DIR [OPTIONS]\n"
    "       exptrack import mlflow --from URL [--work-dir DIR] [OPTIONS]\n"
    "options:\n"
    "  --experiment NAME|ID   only these experiments (repeatable)\n"
    "  --include-deleted      also deleted experiments and runs\n"
    "  --jobs N               runs written in parallel (default 4)\n"
    "  --dry-run              count what would be imported, write nothing\n"
    "  --state FILE           resume file (default DIR/.exptrack-import-state; for mlflow\n"
    "                         --work-dir/.exptrack-import-state or ./.exptrack-import-<hash>)\n"
    "  --mapping FILE         where source ids that had to change are listed\n"
    "The destination is --url, $EXPTRACK_URL or $MLFLOW_TRACKING_URI (mlruns only);\n"
    "its credentials $EXPTRACK_USERNAME/$EXPTRACK_PASSWORD or $EXPTRACK_TOKEN (else the\n"
    "$MLFLOW_TRACKING_* ones). The source server of `import mlflow` uses\n"
    "$MLFLOW_TRACKING_TOKEN or $MLFLOW_TRACKING_USERNAME/$MLFLOW_TRACKING_PASSWORD.\n";

static int common_opts(struct cli *c, struct import_opts *o)
{
    const char *v;
    int n = cli_take_multi(c, "--experiment", o->experiments, 64);
    if (n < 0)
        return -1;
    o->nexperiments = n;
    o->include_deleted = cli_take_flag(c, "--include-deleted");
    o->dry_run = cli_take_flag(c, "--dry-run");
    o->jobs = 4;
    int rc = cli_take_opt(c, "--jobs", &v);
    if (rc < 0)
        return -1;
    if (rc == 1) {
        o->jobs = atoi(v);
        if (o->jobs < 1 || o->jobs > 64) {
            fprintf(stderr, "exptrack import: --jobs must be 1..64\n");
            return -1;
        }
    }
    if (cli_take_opt(c, "--state", &o->state_path) < 0 ||
        cli_take_opt(c, "--mapping", &o->mapping_path) < 0)
        return -1;
    o->json = c->json;
    return 0;
}

static const char *dest_url(struct cli *c, int allow_mlflow_env)
{
    const char *url = c->url ? c->url : getenv("EXPTRACK_URL");
    if ((url == NULL || !url[0]) && allow_mlflow_env)
        url = getenv("MLFLOW_TRACKING_URI");
    if (url == NULL || !url[0])
        fprintf(stderr, "exptrack import: no destination (--url or $EXPTRACK_URL)\n");
    return url && url[0] ? url : NULL;
}

static int run_mlruns(struct cli *c, struct import_opts *o, char *state_buf, size_t n)
{
    if (o->state_path == NULL) {
        snprintf(state_buf, n, "%s/.exptrack-import-state", o->dir);
        o->state_path = state_buf;
    }
    return import_mlruns(o);
    (void)c;
}

static int cmd_import_mlflow(struct cli *c)
{
    struct import_opts o = {0};
    const char *from = NULL, *work = NULL;
    char state[4200];
    if (common_opts(c, &o) != 0 || cli_take_opt(c, "--from", &from) < 0 ||
        cli_take_opt(c, "--work-dir", &work) < 0 || cli_positional(c, 0, 0, usage) != 0)
        return EXIT_USAGE;
    if (from == NULL)
        return cli_usage(usage);
    if ((o.url = dest_url(c, 0)) == NULL)
        return EXIT_USAGE;
    if (o.state_path == NULL) {
        /* the same source and destination find the same state file again */
        uint64_t h = ifnv(ifnv(1469598103934665603ULL, from), o.url);
        if (work != NULL)
            snprintf(state, sizeof state, "%s/.exptrack-import-state", work);
        else
            snprintf(state, sizeof state, ".exptrack-import-%016llx", (unsigned long long)h);
        o.state_path = state;
        if (!o.dry_run && !o.json)
            fprintf(stderr, "exptrack import: state file %s (rerun to resume)\n", state);
    }
    struct ih src;
    if (ih_open(&src, from, getenv("MLFLOW_TRACKING_USERNAME"), getenv("MLFLOW_TRACKING_PASSWORD"),
                getenv("MLFLOW_TRACKING_TOKEN")) != 0)
        return 1;
    int rc = import_rest(&o, &src, work);
    ih_close(&src);
    return rc;
}

static int cmd_import_mlruns(struct cli *c)
{
    struct import_opts o = {0};
    char state[4200];
    if (common_opts(c, &o) != 0 || cli_positional(c, 1, 1, usage) != 0)
        return EXIT_USAGE;
    o.dir = c->argv[0];
    if ((o.url = dest_url(c, 1)) == NULL)
        return EXIT_USAGE;
    return run_mlruns(c, &o, state, sizeof state);
}

int cmd_import(struct cli *c)
{
    int rc;
    const char *sub = cli_subcommand(c, usage, &rc);
    if (sub == NULL)
        return rc;
    if (strcmp(sub, "mlruns") == 0)
        return cmd_import_mlruns(c);
    if (strcmp(sub, "mlflow") == 0)
        return cmd_import_mlflow(c);
    fprintf(stderr, "exptrack import: unknown source '%s'\n", sub);
    return cli_usage(usage);
}
