/* The exptrack CLI's shared pieces: parsed arguments, option helpers,
 * output (aligned tables or JSON) and the subcommand entry points. */
#ifndef ET_CLI_CLI_H
#define ET_CLI_CLI_H

#include <jansson.h>

#include "exptrack.h"

#define EXIT_USAGE 2

struct cli {
    const char *url; /* --url, or NULL for the environment */
    int json;        /* --json */
    int help;        /* --help given for the subcommand */
    int argc;        /* remaining words after the subcommand (options included) */
    char **argv;
    et_client *client; /* opened by cli_client() */
};

/* Removes "--name VALUE" or "--name=VALUE" from c->argv; 1 found, 0 absent,
 * -1 missing value (usage error printed). */
int cli_take_opt(struct cli *c, const char *name, const char **value);
/* Removes every occurrence of --name VALUE into vals (up to max); count or -1. */
int cli_take_multi(struct cli *c, const char *name, const char **vals, int max);
/* Removes a flag; 1 when it was present. */
int cli_take_flag(struct cli *c, const char *name);
/* Checks that exactly min..max positionals remain and no unknown options;
 * prints usage (text) and returns -1 otherwise. */
int cli_positional(struct cli *c, int min, int max, const char *usage);
/* Opens the client (once). Prints the error and returns NULL on failure. */
et_client *cli_client(struct cli *c);
/* Prints "exptrack: what: <error>" to stderr; returns 1 (the error exit). */
int cli_fail(const char *what, int rc);
/* Prints a usage message to stderr; returns EXIT_USAGE. */
int cli_usage(const char *text);
/* Takes the subcommand word off c->argv. NULL when there is none to run:
 * --help printed usage to stdout (*rc = 0), or the word is missing (usage
 * on stderr, *rc = EXIT_USAGE). */
const char *cli_subcommand(struct cli *c, const char *usage, int *rc);

/* Tables: rows of ncols strings printed with aligned columns. */
struct table;
struct table *table_new(int ncols, const char *const *header);
void table_add(struct table *t, const char *const *cells);
void table_print(struct table *t);
void table_free(struct table *t);

/* Prints j (consumed) as indented JSON on stdout. */
void print_json(json_t *j);
json_t *json_experiment(const et_experiment *e);
json_t *json_run(const et_run_info *r);
/* Registry objects; aliases and tags of a model as {alias: version} / {key: value}. */
json_t *json_model(const et_model *m);
json_t *json_model_version(const et_model_version *v);
/* A double as the contract writes it (NaN/Infinity strings). */
json_t *json_metric_value(double v);
/* Formats v for humans/CSV into buf. */
const char *fmt_double(double v, char *buf, size_t n);
const char *status_name(et_run_status s);

int cmd_experiments(struct cli *c);
int cmd_runs(struct cli *c);
int cmd_log(struct cli *c);
int cmd_history(struct cli *c);
int cmd_artifacts(struct cli *c);
int cmd_sync(struct cli *c);
int cmd_models(struct cli *c);
int cmd_import(struct cli *c);
int cmd_export(struct cli *c);

#endif
