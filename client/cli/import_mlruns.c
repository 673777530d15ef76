/* The mlruns source: reads an MLflow file store directory (experiments,
 * .trash, runs, metrics, params, tags, dataset inputs, artifacts) and hands
 * everything to the writer. Metric files are streamed line by line; runs
 * are spread over --jobs threads, each with its own writer. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "import_mlruns.h"
#include "import_yaml.h"

struct xp {
    struct iexperiment e;
    char dir[4096];
    char dst[32];
    int skip;
};

struct job {
    size_t exp; /* index into experiments */
    char dir[4096];
};

struct mlruns {
    const struct import_opts *o;
    struct xp *xps;
    size_t nxps;
    struct job *jobs;
    size_t njobs, next;
    pthread_mutex_t mu;
    struct istate *state;
    struct iprog *prog;
    FILE *mapping;
    int failed;
};

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Sorted names of dir's entries (no "." entries); NULL when unreadable. */
static int list_dir(const char *dir, struct dirent ***out)
{
    return scandir(dir, out, NULL, alphasort);
}

static void free_list(struct dirent **l, int n)
{
    for (int i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

/* The whole small file at path (params, tags) as a string; NULL on error. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    if (f == NULL)
        return NULL;
    do {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *b = realloc(buf, cap);
            if (b == NULL)
                break;
            buf = b;
        }
        n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
    } while (n > 0 && len < (1u << 24));
    fclose(f);
    if (buf != NULL)
        buf[len] = '\0';
    return buf;
}

struct kvlist {
    struct ikv *kv;
    size_t n;
};

void ikv_read_dir(const char *dir, const char *prefix, struct ikv **kv, size_t *n)
{
    struct dirent **ents;
    int count = list_dir(dir, &ents);
    for (int i = 0; i < count; i++) {
        const char *name = ents[i]->d_name;
        char path[4096], key[1024];
        if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
            continue;
        ipathf(path, sizeof path, "%s/%s", dir, name);
        ipathf(key, sizeof key, "%s%s", prefix, name);
        if (is_dir(path)) {
            char sub[1100];
            ipathf(sub, sizeof sub, "%s/", key);
            ikv_read_dir(path, sub, kv, n);
            continue;
        }
        char *v = slurp(path);
        struct ikv *grown = realloc(*kv, (*n + 1) * sizeof *grown);
        if (v == NULL || grown == NULL) {
            free(v);
            continue;
        }
        *kv = grown;
        (*kv)[*n].key = strdup(key);
        (*kv)[*n].value = v;
        (*n)++;
    }
    if (count > 0)
        free_list(ents, count);
}

void ikv_free(struct ikv **kv, size_t *n)
{
    for (size_t i = 0; i < *n; i++) {
        free((*kv)[i].key);
        free((*kv)[i].value);
    }
    free(*kv);
    *kv = NULL;
    *n = 0;
}

static void read_kv_dir(const char *dir, const char *prefix, struct kvlist *l)
{
    ikv_read_dir(dir, prefix, &l->kv, &l->n);
}

static void free_kv(struct kvlist *l)
{
    ikv_free(&l->kv, &l->n);
}

int imlruns_metric_line(char **p, int64_t *ts, double *v, int64_t *step)
{
    char *end;
    *ts = strtoll(*p, &end, 10);
    if (end == *p)
        return -1;
    *p = end;
    *v = strtod(*p, &end);
    if (end == *p)
        return -1;
    *p = end;
    *step = strtoll(*p, &end, 10); /* 0 when absent */
    *p = end;
    return 0;
}

/* Streams one metric file: "timestamp value [step]" per line. */
static int send_metric_file(struct iw *w, const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;
    if (f == NULL)
        return 0;
    while (rc == 0 && getline(&line, &cap, f) > 0) {
        char *p = line;
        int64_t ts, step;
        double v;
        if (imlruns_metric_line(&p, &ts, &v, &step) == 0)
            rc = iw_point(w, key, v, ts, step);
    }
    free(line);
    fclose(f);
    return rc;
}

static int send_metrics(struct iw *w, const char *dir, const char *prefix)
{
    struct dirent **ents;
    int n = list_dir(dir, &ents), rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        const char *name = ents[i]->d_name;
        char path[4096], key[1024];
        if (name[0] == '.')
            continue;
        ipathf(path, sizeof path, "%s/%s", dir, name);
        ipathf(key, sizeof key, "%s%s", prefix, name);
        if (is_dir(path)) {
            char sub[1100];
            ipathf(sub, sizeof sub, "%s/", key);
            rc = send_metrics(w, path, sub);
        } else {
            rc = send_metric_file(w, path, key);
        }
    }
    if (n > 0)
        free_list(ents, n);
    return rc;
}

/* Dataset inputs: inputs/<id>/meta.yaml names a dataset of the experiment
 * (<exp>/datasets/<dataset id>/meta.yaml) and carries the input's tags. */
static int send_inputs(struct iw *w, const char *run_dir, const char *exp_dir)
{
    char dir[4200];
    struct dirent **ents;
    ipathf(dir, sizeof dir, "%s/inputs", run_dir);
    int n = list_dir(dir, &ents), rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        char path[4400], dpath[4400];
        struct ymap in, ds;
        if (ents[i]->d_name[0] == '.')
            continue;
        ipathf(path, sizeof path, "%s/%s/meta.yaml", dir, ents[i]->d_name);
        if (ymap_load(path, &in) != 0)
            continue;
        const char *src = ymap_get(&in, "source_id");
        ipathf(dpath, sizeof dpath, "%s/datasets/%s/meta.yaml", exp_dir, src ? src : "");
        if (src != NULL && ymap_load(dpath, &ds) == 0) {
            json_t *d = json_object();
            static const char *const fields[] = {"name",   "digest", "source_type",
                                                 "source", "schema", "profile"};
            for (size_t k = 0; k < sizeof fields / sizeof *fields; k++) {
                const char *v = ymap_get(&ds, fields[k]);
                if (v != NULL)
                    json_object_set_new(d, fields[k], json_string(v));
            }
            struct ikv tags[64];
            size_t nt = 0;
            for (size_t k = 0; k < in.n && nt < 64; k++) {
                if (strncmp(in.kv[k].key, "tags.", 5) == 0 && in.kv[k].value != NULL) {
                    tags[nt].key = in.kv[k].key + 5;
                    tags[nt++].value = in.kv[k].value;
                }
            }
            rc = iw_input(w, d, tags, nt);
            json_decref(d);
            ymap_free(&ds);
        }
        ymap_free(&in);
    }
    if (n > 0)
        free_list(ents, n);
    return rc;
}

static int import_run(struct mlruns *m, struct iw *w, const struct job *j)
{
    struct xp *x = &m->xps[j->exp];
    struct ymap meta;
    char path[4400];
    int rc = -1;

    ipathf(path, sizeof path, "%s/meta.yaml", j->dir);
    if (ymap_load(path, &meta) != 0)
        return 0;
    const char *id = ymap_get(&meta, "run_id");
    if (id == NULL)
        id = ymap_get(&meta, "run_uuid");
    const char *stage = ymap_get(&meta, "lifecycle_stage");
    struct irun run = {
        .run_id = (char *)(id ? id : strrchr(j->dir, '/') + 1),
        .experiment_id = x->dst,
        .name = (char *)(ymap_get(&meta, "run_name") ?: ""),
        .user = (char *)(ymap_get(&meta, "user_id") ?: ""),
        .lifecycle = (char *)(stage ? stage : "active"),
        .status = (int)ymap_int(&meta, "status", 3),
        .start_time = ymap_int(&meta, "start_time", 0),
        .end_time = ymap_int(&meta, "end_time", -1),
    };
    if (run.status < 1 || run.status > 5)
        run.status = 3;
    if (run.start_time < 0)
        run.start_time = 0;
    if (strcmp(run.lifecycle, "deleted") == 0 && !m->o->include_deleted) {
        iprog_skip(m->prog, "run %s: deleted (use --include-deleted)", run.run_id);
        rc = 0;
        goto out;
    }
    rc = iw_run_begin(w, &run, x->dst);
    if (rc != 0) {
        rc = rc == 1 ? 0 : -1;
        goto out;
    }
    struct kvlist params = {0}, tags = {0};
    ipathf(path, sizeof path, "%s/params", j->dir);
    read_kv_dir(path, "", &params);
    ipathf(path, sizeof path, "%s/tags", j->dir);
    read_kv_dir(path, "", &tags);
    rc = iw_params(w, params.kv, params.n);
    if (rc == 0)
        rc = iw_tags(w, tags.kv, tags.n);
    free_kv(&params);
    free_kv(&tags);
    ipathf(path, sizeof path, "%s/metrics", j->dir);
    if (rc == 0)
        rc = send_metrics(w, path, "");
    if (rc == 0)
        rc = send_inputs(w, j->dir, x->dir);
    ipathf(path, sizeof path, "%s/artifacts", j->dir);
    if (rc == 0 && is_dir(path))
        rc = iw_artifact_dir(w, path, NULL, "");
    if (rc == 0)
        rc = iw_run_end(w, &run);
out:
    ymap_free(&meta);
    return rc;
}

static void *worker(void *arg)
{
    struct mlruns *m = arg;
    struct iw w;
    if (iw_open(&w, m->o->url, m->state, m->prog, m->mapping, m->o->dry_run) != 0) {
        m->failed = 1;
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&m->mu);
        size_t i = m->next < m->njobs && !m->failed ? m->next++ : m->njobs;
        pthread_mutex_unlock(&m->mu);
        if (i == m->njobs)
            break;
        if (import_run(m, &w, &m->jobs[i]) != 0) {
            pthread_mutex_lock(&m->prog->mu);
            m->prog->failed++;
            pthread_mutex_unlock(&m->prog->mu);
            pthread_mutex_lock(&m->mu);
            m->failed = 1;
            pthread_mutex_unlock(&m->mu);
        }
    }
    iw_close(&w);
    return NULL;
}

/* Links one imported run to its logged models (import_logged_models.c). */
static int link_run(struct iw *w, const struct job *j)
{
    struct ymap meta;
    char path[4400], id[300];
    ipathf(path, sizeof path, "%s/meta.yaml", j->dir);
    if (ymap_load(path, &meta) != 0)
        return 0;
    const char *src = ymap_get(&meta, "run_id") ?: ymap_get(&meta, "run_uuid");
    ipathf(id, sizeof id, "%s", src ? src : strrchr(j->dir, '/') + 1);
    ymap_free(&meta);
    return import_mlruns_model_links(w, j->dir, id);
}

static int wanted(const struct import_opts *o, const struct iexperiment *e)
{
    if (o->nexperiments == 0)
        return 1;
    for (int i = 0; i < o->nexperiments; i++) {
        if (strcmp(o->experiments[i], e->id) == 0 || strcmp(o->experiments[i], e->name) == 0)
            return 1;
    }
    return 0;
}

/* Adds the experiment at dir (and its runs as jobs). */
static void scan_experiment(struct mlruns *m, const char *dir, int trashed)
{
    char path[4200];
    struct ymap meta;
    ipathf(path, sizeof path, "%s/meta.yaml", dir);
    if (ymap_load(path, &meta) != 0)
        return;
    struct xp *xs = realloc(m->xps, (m->nxps + 1) * sizeof *xs);
    if (xs == NULL) {
        ymap_free(&meta);
        return;
    }
    m->xps = xs;
    struct xp *x = &m->xps[m->nxps];
    memset(x, 0, sizeof *x);
    const char *id = ymap_get(&meta, "experiment_id");
    const char *stage = ymap_get(&meta, "lifecycle_stage");
    x->e.id = strdup(id ? id : strrchr(dir, '/') + 1);
    x->e.name = strdup(ymap_get(&meta, "name") ?: x->e.id);
    x->e.lifecycle =
        strdup(trashed || (stage && strcmp(stage, "deleted") == 0) ? "deleted" : "active");
    x->e.creation_time = ymap_int(&meta, "creation_time", 0);
    x->e.last_update_time = ymap_int(&meta, "last_update_time", x->e.creation_time);
    ipathf(x->dir, sizeof x->dir, "%s", dir);
    ymap_free(&meta);
    struct kvlist tags = {0};
    ipathf(path, sizeof path, "%s/tags", dir);
    read_kv_dir(path, "", &tags);
    x->e.tags = tags.kv;
    x->e.ntags = tags.n;
    m->nxps++;
    if (!wanted(m->o, &x->e)) {
        x->skip = 1;
        return;
    }
    if (strcmp(x->e.lifecycle, "deleted") == 0 && !m->o->include_deleted) {
        iprog_skip(m->prog, "experiment %s (%s): deleted (use --include-deleted)", x->e.id,
                   x->e.name);
        x->skip = 1;
        return;
    }
    struct dirent **ents;
    int n = list_dir(dir, &ents);
    for (int i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;
        char run_dir[4096], run_meta[4200];
        if (name[0] == '.' || strcmp(name, "tags") == 0 || strcmp(name, "datasets") == 0 ||
            strcmp(name, "models") == 0)
            continue;
        ipathf(run_dir, sizeof run_dir, "%s/%s", dir, name);
        ipathf(run_meta, sizeof run_meta, "%s/meta.yaml", run_dir);
        if (!is_dir(run_dir) || access(run_meta, R_OK) != 0)
            continue;
        struct job *js = realloc(m->jobs, (m->njobs + 1) * sizeof *js);
        if (js == NULL)
            break;
        m->jobs = js;
        m->jobs[m->njobs].exp = m->nxps - 1;
        ipathf(m->jobs[m->njobs].dir, sizeof m->jobs[m->njobs].dir, "%s", run_dir);
        m->njobs++;
    }
    if (n > 0)
        free_list(ents, n);
}

static void scan(struct mlruns *m, const char *root, int trashed)
{
    struct dirent **ents;
    int n = list_dir(root, &ents);
    for (int i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;
        char dir[4096];
        if (name[0] == '.' || strcmp(name, "models") == 0)
            continue;
        ipathf(dir, sizeof dir, "%s/%s", root, name);
        if (is_dir(dir))
            scan_experiment(m, dir, trashed);
    }
    if (n > 0)
        free_list(ents, n);
}

int import_mlruns(const struct import_opts *o)
{
    struct mlruns m = {.o = o};
    struct iprog prog;
    char trash[4200];
    int rc = 1;

    iprog_init(&prog);
    pthread_mutex_init(&m.mu, NULL);
    m.prog = &prog;
    if (!is_dir(o->dir)) {
        fprintf(stderr, "exptrack import: %s is not a directory\n", o->dir);
        return 1;
    }
    m.state = istate_open(o->dry_run ? NULL : o->state_path);
    if (m.state == NULL)
        return 1;
    if (o->mapping_path != NULL && !o->dry_run) {
        m.mapping = fopen(o->mapping_path, "a");
        if (m.mapping == NULL) {
            perror(o->mapping_path);
            goto out;
        }
    }
    scan(&m, o->dir, 0);
    ipathf(trash, sizeof trash, "%s/.trash", o->dir);
    scan(&m, trash, 1);
    prog.runs_total = (int64_t)m.njobs;

    struct iw w;
    if (iw_open(&w, o->url, m.state, &prog, m.mapping, o->dry_run) != 0)
        goto out;
    for (size_t i = 0; i < m.nxps && !m.failed; i++) {
        if (!m.xps[i].skip && iw_experiment(&w, &m.xps[i].e, m.xps[i].dst) != 0)
            m.failed = 1;
    }
    if (!m.failed) {
        int jobs = o->jobs < 1 ? 1 : o->jobs > 64 ? 64 : o->jobs;
        pthread_t th[64];
        int started = 0;
        for (int i = 0; i < jobs; i++)
            started += pthread_create(&th[started], NULL, worker, &m) == 0;
        for (int i = 0; i < started; i++)
            pthread_join(th[i], NULL);
    }
    for (size_t i = 0; i < m.nxps && !m.failed; i++) {
        if (!m.xps[i].skip &&
            import_mlruns_logged_models(&w, m.xps[i].dir, m.xps[i].dst, o->include_deleted) != 0)
            m.failed = 1;
    }
    for (size_t i = 0; i < m.njobs && !m.failed; i++)
        m.failed = link_run(&w, &m.jobs[i]) != 0;
    if (!m.failed)
        m.failed = import_mlruns_registry(o, &w) != 0;
    for (size_t i = 0; i < m.nxps && !m.failed; i++) {
        if (!m.xps[i].skip && iw_experiment_finish(&w, &m.xps[i].e, m.xps[i].dst) != 0)
            m.failed = 1;
    }
    iw_close(&w);
    iprog_summary(&prog, "import", o->dry_run, o->json);
    rc = m.failed ? 1 : 0;
out:
    for (size_t i = 0; i < m.nxps; i++) {
        free(m.xps[i].e.id);
        free(m.xps[i].e.name);
        free(m.xps[i].e.lifecycle);
        struct kvlist t = {m.xps[i].e.tags, m.xps[i].e.ntags};
        free_kv(&t);
    }
    free(m.xps);
    free(m.jobs);
    if (m.mapping)
        fclose(m.mapping);
    istate_close(m.state);
    return rc;
}
