/* exptrack: the command-line client. Global options, subcommand dispatch and
 * the argument helpers; each command group is in cmd_*.c. Exit status: 0 ok,
 * 1 error, 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage_text[] =
    "usage: exptrack [--url URL] [--json] COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  experiments {list,create,get,rename,delete}\n"
    "  runs {create,get,search,end,delete,restore}\n"
    "  log {metric,param,tag} RUN KEY VALUE\n"
    "  history RUN KEY [--csv]\n"
    "  artifacts {upload,download,ls}\n"
    "  models {list,get,create,versions,register,resolve,alias,stage,download}\n"
    "  sync DIR\n"
    "  import {mlruns DIR,mlflow --from URL}\n"
    "  export DIR\n"
    "\n"
    "The server URL comes from --url, $EXPTRACK_URL or $MLFLOW_TRACKING_URI.\n"
    "--json prints JSON instead of aligned tables; COMMAND --help shows its usage.\n";

int cli_usage(const char *text)
{
    fputs(text, stderr);
    return EXIT_USAGE;
}

const char *cli_subcommand(struct cli *c, const char *usage, int *rc)
{
    if (c->help) {
        fputs(usage, stdout);
        *rc = 0;
        return NULL;
    }
    if (c->argc < 1) {
        *rc = cli_usage(usage);
        return NULL;
    }
    c->argc--;
    return *c->argv++;
}

int cli_fail(const char *what, int rc)
{
    const char *detail = et_last_error();
    fprintf(stderr, "exptrack: %s: %s%s%s\n", what, et_strerror(rc), *detail ? ": " : "", detail);
    return 1;
}

static void drop(struct cli *c, int i, int n)
{
    memmove(&c->argv[i], &c->argv[i + n], (size_t)(c->argc - i - n + 1) * sizeof *c->argv);
    c->argc -= n;
}

int cli_take_opt(struct cli *c, const char *name, const char **value)
{
    size_t n = strlen(name);
    for (int i = 0; i < c->argc; i++) {
        if (strcmp(c->argv[i], "--") == 0)
            return 0;
        if (strncmp(c->argv[i], name, n) == 0 && c->argv[i][n] == '=') {
            *value = c->argv[i] + n + 1;
            drop(c, i, 1);
            return 1;
        }
        if (strcmp(c->argv[i], name) == 0) {
            if (i + 1 >= c->argc) {
                fprintf(stderr, "exptrack: %s needs a value\n", name);
                return -1;
            }
            *value = c->argv[i + 1];
            drop(c, i, 2);
            return 1;
        }
    }
    return 0;
}

int cli_take_multi(struct cli *c, const char *name, const char **vals, int max)
{
    int n = 0, rc;
    const char *v;
    while ((rc = cli_take_opt(c, name, &v)) == 1) {
        if (n == max) {
            fprintf(stderr, "exptrack: too many %s options (at most %d)\n", name, max);
            return -1;
        }
        vals[n++] = v;
    }
    return rc < 0 ? -1 : n;
}

int cli_take_flag(struct cli *c, const char *name)
{
    for (int i = 0; i < c->argc; i++) {
        if (strcmp(c->argv[i], name) == 0) {
            drop(c, i, 1);
            return 1;
        }
    }
    return 0;
}

int cli_positional(struct cli *c, int min, int max, const char *usage)
{
    int n = 0;
    for (int i = 0; i < c->argc; i++) {
        if (strcmp(c->argv[i], "--") == 0) {
            drop(c, i, 1);
            n += c->argc - i;
            break;
        }
        if (strncmp(c->argv[i], "--", 2) == 0 && c->argv[i][2] != '\0') {
            fprintf(stderr, "exptrack: unknown option %s\n", c->argv[i]);
            cli_usage(usage);
            return -1;
        }
        n++;
    }
    if (n < min || n > max) {
        cli_usage(usage);
        return -1;
    }
    return 0;
}

et_client *cli_client(struct cli *c)
{
    et_options o;
    if (c->client != NULL)
        return c->client;
    et_options_init(&o);
    o.url = c->url;
    o.control_retry_ms = 5000;
    o.spool_after_ms = 5000;
    o.flush_timeout_ms = 15000;
    int rc = et_client_new_opts(&o, &c->client);
    if (rc != ET_OK) {
        cli_fail("cannot open client", rc);
        return NULL;
    }
    return c->client;
}

static const struct {
    const char *name;
    int (*run)(struct cli *);
} commands[] = {
    {"experiments", cmd_experiments}, {"runs", cmd_runs},           {"log", cmd_log},
    {"history", cmd_history},         {"artifacts", cmd_artifacts}, {"sync", cmd_sync},
    {"models", cmd_models},           {"import", cmd_import},       {"export", cmd_export},
};

int main(int argc, char **argv)
{
    struct cli c = {0};
    int i = 1, rc = EXIT_USAGE;

    for (; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            c.json = 1;
        else if (strcmp(argv[i], "--url") == 0 && i + 1 < argc)
            c.url = argv[++i];
        else if (strncmp(argv[i], "--url=", 6) == 0)
            c.url = argv[i] + 6;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        } else
            break;
    }
    if (i >= argc)
        return cli_usage(usage_text);
    c.argc = argc - i - 1;
    c.argv = argv + i + 1;
    /* Global options may also follow the command. */
    const char *url;
    if (cli_take_opt(&c, "--url", &url) == 1)
        c.url = url;
    c.json |= cli_take_flag(&c, "--json");
    c.help = cli_take_flag(&c, "--help") | cli_take_flag(&c, "-h");
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++) {
        if (strcmp(argv[i], commands[k].name) == 0) {
            rc = commands[k].run(&c);
            et_client_free(c.client);
            return rc;
        }
    }
    fprintf(stderr, "exptrack: unknown command '%s'\n", argv[i]);
    return cli_usage(usage_text);
}
