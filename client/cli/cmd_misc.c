/* exptrack log {metric,param,tag}, history, artifacts {upload,download,ls}
 * and sync. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char log_usage[] = "usage: exptrack log metric RUN KEY VALUE [--step N]\n"
                                "       exptrack log param RUN KEY VALUE\n"
                                "       exptrack log tag RUN KEY VALUE\n";
static const char history_usage[] = "usage: exptrack history RUN KEY [--csv]\n";
static const char artifacts_usage[] =
    "usage: exptrack artifacts upload RUN LOCAL_FILE [ARTIFACT_PATH]\n"
    "       exptrack artifacts download RUN ARTIFACT_PATH [LOCAL_FILE]\n"
    "       exptrack artifacts ls RUN [DIR]\n";
static const char sync_usage[] = "usage: exptrack sync DIR\n";

/* Shifts the subcommand word off; NULL (usage printed or help shown) if none. */
static int parse_i64(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || end == s)
        return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double *out)
{
    char *end;
    if (strcmp(s, "NaN") == 0 || strcmp(s, "nan") == 0) {
        *out = NAN;
        return 0;
    }
    errno = 0;
    *out = strtod(s, &end);
    return (*end != '\0' || end == s) ? -1 : 0;
}

/* Queues one point, waits for it to be delivered (or spooled). */
static int log_metric(struct cli *c, et_run *run, double v, int64_t step)
{
    et_stats st;

    int rc = et_log_metric(run, c->argv[1], v, step);
    if (rc == ET_OK)
        rc = et_run_flush(run, -1);
    et_client_stats(c->client, &st);
    if (rc == ET_OK && st.dropped > 0)
        rc = ET_EREJECTED;
    if (rc != ET_OK)
        return cli_fail("log metric", rc);
    if (st.spooled > 0)
        fprintf(stderr, "exptrack: server unreachable; the point was spooled (exptrack sync)\n");
    return 0;
}

int cmd_log(struct cli *c)
{
    int rc = EXIT_USAGE;
    const char *sub = cli_subcommand(c, log_usage, &rc), *step_s = NULL;
    int64_t step = 0;
    et_run *run = NULL;

    if (sub == NULL)
        return rc;
    int metric = strcmp(sub, "metric") == 0, param = strcmp(sub, "param") == 0;
    if (!metric && !param && strcmp(sub, "tag") != 0)
        return cli_usage(log_usage);
    if (metric && cli_take_opt(c, "--step", &step_s) < 0)
        return EXIT_USAGE;
    if (step_s != NULL && parse_i64(step_s, &step) < 0)
        return cli_usage(log_usage);
    if (cli_positional(c, 3, 3, log_usage) < 0)
        return EXIT_USAGE;
    double value = 0;
    if (metric && parse_double(c->argv[2], &value) < 0)
        return cli_usage(log_usage);
    if (cli_client(c) == NULL)
        return 1;
    if ((rc = et_run_attach(c->client, c->argv[0], &run)) != ET_OK)
        return cli_fail("log", rc);
    if (metric) {
        rc = log_metric(c, run, value, step);
    } else {
        int err = param ? et_log_param(run, c->argv[1], c->argv[2])
                        : et_set_tag(run, c->argv[1], c->argv[2]);
        rc = err == ET_OK ? 0 : cli_fail(param ? "log param" : "log tag", err);
    }
    if (rc == 0 && c->json)
        print_json(json_pack("{s:s, s:s}", "run_id", c->argv[0], "key", c->argv[1]));
    et_run_detach(run);
    return rc;
}

int cmd_history(struct cli *c)
{
    et_metric *pts = NULL;
    size_t n = 0;
    char num[40];

    if (c->help) {
        fputs(history_usage, stdout);
        return 0;
    }
    int csv = cli_take_flag(c, "--csv");
    if (cli_positional(c, 2, 2, history_usage) < 0)
        return EXIT_USAGE;
    if (cli_client(c) == NULL)
        return 1;
    int rc = et_metric_history(c->client, c->argv[0], c->argv[1], &pts, &n);
    if (rc != ET_OK)
        return cli_fail("history", rc);
    if (csv) {
        printf("step,timestamp,value\n");
        for (size_t i = 0; i < n; i++)
            printf("%lld,%lld,%s\n", (long long)pts[i].step, (long long)pts[i].timestamp,
                   fmt_double(pts[i].value, num, sizeof num));
    } else if (c->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, json_pack("{s:I, s:I, s:o}", "step", (json_int_t)pts[i].step,
                                                 "timestamp", (json_int_t)pts[i].timestamp, "value",
                                                 json_metric_value(pts[i].value)));
        print_json(arr);
    } else {
        static const char *const hdr[] = {"STEP", "TIMESTAMP", "VALUE"};
        struct table *t = table_new(3, hdr);
        for (size_t i = 0; i < n; i++) {
            char s[32], ts[32];
            snprintf(s, sizeof s, "%lld", (long long)pts[i].step);
            snprintf(ts, sizeof ts, "%lld", (long long)pts[i].timestamp);
            const char *row[] = {s, ts, fmt_double(pts[i].value, num, sizeof num)};
            table_add(t, row);
        }
        table_print(t);
        table_free(t);
    }
    free(pts);
    return 0;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static int artifacts_ls(struct cli *c)
{
    et_file_info *f = NULL;
    size_t n = 0;
    if (cli_positional(c, 1, 2, artifacts_usage) < 0)
        return EXIT_USAGE;
    if (cli_client(c) == NULL)
        return 1;
    int rc = et_artifact_list(c->client, c->argv[0], c->argc > 1 ? c->argv[1] : NULL, &f, &n);
    if (rc != ET_OK)
        return cli_fail("artifacts ls", rc);
    if (c->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *o = json_pack("{s:s, s:b}", "path", f[i].path, "is_dir", f[i].is_dir);
            if (!f[i].is_dir)
                json_object_set_new(o, "file_size", json_integer(f[i].size));
            json_array_append_new(arr, o);
        }
        print_json(arr);
    } else {
        static const char *const hdr[] = {"PATH", "SIZE"};
        struct table *t = table_new(2, hdr);
        for (size_t i = 0; i < n; i++) {
            char size[32];
            snprintf(size, sizeof size, "%lld", (long long)f[i].size);
            const char *row[] = {f[i].path, f[i].is_dir ? "dir" : size};
            table_add(t, row);
        }
        table_print(t);
        table_free(t);
    }
    et_file_list_free(f, n);
    return 0;
}

int cmd_artifacts(struct cli *c)
{
    int rc = EXIT_USAGE;
    const char *sub = cli_subcommand(c, artifacts_usage, &rc);
    if (sub == NULL)
        return rc;
    if (strcmp(sub, "ls") == 0)
        return artifacts_ls(c);
    int up = strcmp(sub, "upload") == 0;
    if (!up && strcmp(sub, "download") != 0)
        return cli_usage(artifacts_usage);
    if (cli_positional(c, 2, 3, artifacts_usage) < 0)
        return EXIT_USAGE;
    if (cli_client(c) == NULL)
        return 1;
    const char *third = c->argc > 2 ? c->argv[2] : base_name(c->argv[1]);
    rc = up ? et_artifact_upload(c->client, c->argv[0], c->argv[1], third)
            : et_artifact_download(c->client, c->argv[0], c->argv[1], third);
    if (rc != ET_OK)
        return cli_fail(up ? "artifacts upload" : "artifacts download", rc);
    if (c->json)
        print_json(json_pack("{s:s, s:s}", up ? "artifact_path" : "local_path", third, "run_id",
                             c->argv[0]));
    return 0;
}

int cmd_sync(struct cli *c)
{
    size_t n = 0;
    if (c->help) {
        fputs(sync_usage, stdout);
        return 0;
    }
    if (cli_positional(c, 1, 1, sync_usage) < 0)
        return EXIT_USAGE;
    if (cli_client(c) == NULL)
        return 1;
    int rc = et_spool_sync(c->client, c->argv[0], &n);
    if (c->json)
        print_json(json_pack("{s:I, s:b}", "records", (json_int_t)n, "complete", rc == ET_OK));
    else
        printf("%zu record(s) replayed\n", n);
    return rc == ET_OK ? 0 : cli_fail("sync", rc);
}
