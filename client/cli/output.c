/* CLI output: aligned text tables for people, indented JSON for scripts,
 * and the struct -> JSON converters. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct table {
    int ncols;
    size_t nrows;
    char **cells; /* nrows * ncols copies; row 0 is the header */
};

struct table *table_new(int ncols, const char *const *header)
{
    struct table *t = calloc(1, sizeof *t);
    if (t == NULL) {
        perror("exptrack");
        exit(1);
    }
    t->ncols = ncols;
    table_add(t, header);
    return t;
}

void table_add(struct table *t, const char *const *cells)
{
    char **p = realloc(t->cells, (t->nrows + 1) * (size_t)t->ncols * sizeof *p);
    if (p == NULL) {
        perror("exptrack");
        exit(1);
    }
    t->cells = p;
    for (int i = 0; i < t->ncols; i++) {
        char *s = strdup(cells[i] ? cells[i] : "");
        if (s == NULL) {
            perror("exptrack");
            exit(1);
        }
        t->cells[t->nrows * (size_t)t->ncols + (size_t)i] = s;
    }
    t->nrows++;
}

void table_print(struct table *t)
{
    size_t w[16] = {0};
    for (size_t r = 0; r < t->nrows; r++)
        for (int i = 0; i < t->ncols && i < 16; i++) {
            size_t n = strlen(t->cells[r * (size_t)t->ncols + (size_t)i]);
            if (n > w[i])
                w[i] = n;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        for (int i = 0; i < t->ncols; i++) {
            const char *s = t->cells[r * (size_t)t->ncols + (size_t)i];
            if (i + 1 == t->ncols)
                printf("%s\n", s);
            else
                printf("%-*s  ", (int)w[i], s);
        }
    }
}

void table_free(struct table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}

void print_json(json_t *j)
{
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(j);
}

json_t *json_metric_value(double v)
{
    if (isnan(v))
        return json_string("NaN");
    if (isinf(v))
        return json_string(v > 0 ? "Infinity" : "-Infinity");
    return json_real(v);
}

const char *fmt_double(double v, char *buf, size_t n)
{
    if (isnan(v))
        return "NaN";
    if (isinf(v))
        return v > 0 ? "Infinity" : "-Infinity";
    snprintf(buf, n, "%.17g", v);
    return buf;
}

const char *status_name(et_run_status s)
{
    static const char *const names[] = {"?",        "RUNNING", "SCHEDULED",
                                        "FINISHED", "FAILED",  "KILLED"};
    return s >= 1 && s <= 5 ? names[s] : "?";
}

static json_t *kv_object(const et_kv *kv, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(o, kv[i].key, json_string(kv[i].value));
    return o;
}

json_t *json_experiment(const et_experiment *e)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:o}", "experiment_id", e->experiment_id,
                     "name", e->name, "artifact_location", e->artifact_location, "lifecycle_stage",
                     e->lifecycle_stage, "creation_time", (json_int_t)e->creation_time,
                     "last_update_time", (json_int_t)e->last_update_time, "tags",
                     kv_object(e->tags, e->ntags));
}

json_t *json_run(const et_run_info *r)
{
    json_t *metrics = json_object();
    for (size_t i = 0; i < r->nmetrics; i++)
        json_object_set_new(metrics, r->metrics[i].key,
                            json_pack("{s:o, s:I, s:I}", "value",
                                      json_metric_value(r->metrics[i].value), "step",
                                      (json_int_t)r->metrics[i].step, "timestamp",
                                      (json_int_t)r->metrics[i].timestamp));
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:o, s:o, s:o}", "run_id",
                     r->run_id, "experiment_id", r->experiment_id, "run_name", r->run_name,
                     "user_id", r->user_id, "status", status_name(r->status), "start_time",
                     (json_int_t)r->start_time, "end_time", (json_int_t)r->end_time, "artifact_uri",
                     r->artifact_uri, "lifecycle_stage", r->lifecycle_stage, "metrics", metrics,
                     "params", kv_object(r->params, r->nparams), "tags",
                     kv_object(r->tags, r->ntags));
}

json_t *json_model_version(const et_model_version *v)
{
    json_t *aliases = json_array();
    for (size_t i = 0; i < v->naliases; i++)
        json_array_append_new(aliases, json_string(v->aliases[i]));
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:o, s:o}", "name", v->name,
                     "version", v->version, "current_stage", v->stage, "status", v->status,
                     "source", v->source, "run_id", v->run_id, "description", v->description,
                     "creation_timestamp", (json_int_t)v->creation_timestamp,
                     "last_updated_timestamp", (json_int_t)v->last_updated_timestamp, "aliases",
                     aliases, "tags", kv_object(v->tags, v->ntags));
}

json_t *json_model(const et_model *m)
{
    json_t *latest = json_array();
    for (size_t i = 0; i < m->nlatest; i++)
        json_array_append_new(latest, json_model_version(&m->latest_versions[i]));
    return json_pack("{s:s, s:s, s:I, s:I, s:o, s:o, s:o}", "name", m->name, "description",
                     m->description, "creation_timestamp", (json_int_t)m->creation_timestamp,
                     "last_updated_timestamp", (json_int_t)m->last_updated_timestamp,
                     "latest_versions", latest, "aliases", kv_object(m->aliases, m->naliases),
                     "tags", kv_object(m->tags, m->ntags));
}
