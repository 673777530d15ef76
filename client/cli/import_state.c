/* The import's state file: one line per finished piece of work,
 * "<kind>\t<source id>\t<destination id>\n", appended and flushed (fsync'd)
 * as each finishes, so a rerun after kill -9 skips exactly what was done.
 * A torn last line (no newline) is ignored. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "import.h"

struct entry {
    char *kind, *src, *dst;
};

struct istate {
    pthread_mutex_t mu;
    FILE *f;
    struct entry *e;
    size_t n, cap;
};

static int add(struct istate *s, const char *kind, const char *src, const char *dst)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct entry *e = realloc(s->e, cap * sizeof *e);
        if (e == NULL)
            return -1;
        s->e = e;
        s->cap = cap;
    }
    s->e[s->n].kind = strdup(kind);
    s->e[s->n].src = strdup(src);
    s->e[s->n].dst = strdup(dst);
    s->n++;
    return 0;
}

struct istate *istate_open(const char *path)
{
    struct istate *s = calloc(1, sizeof *s);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    if (s == NULL)
        return NULL;
    pthread_mutex_init(&s->mu, NULL);
    if (path == NULL)
        return s;
    s->f = fopen(path, "a+");
    if (s->f == NULL) {
        perror(path);
        istate_close(s);
        return NULL;
    }
    rewind(s->f);
    while ((len = getline(&line, &cap, s->f)) > 0) {
        if (line[len - 1] != '\n')
            break; /* torn by a kill: not done */
        line[len - 1] = '\0';
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (t2 == NULL)
            continue;
        *t1 = *t2 = '\0';
        add(s, line, t1 + 1, t2 + 1);
    }
    free(line);
    return s;
}

const char *istate_get(struct istate *s, const char *kind, const char *src)
{
    const char *dst = NULL;
    pthread_mutex_lock(&s->mu);
    for (size_t i = s->n; i-- > 0 && dst == NULL;) {
        if (strcmp(s->e[i].kind, kind) == 0 && strcmp(s->e[i].src, src) == 0)
            dst = s->e[i].dst;
    }
    pthread_mutex_unlock(&s->mu);
    return dst;
}

int istate_put(struct istate *s, const char *kind, const char *src, const char *dst)
{
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    if (add(s, kind, src, dst) != 0)
        rc = -1;
    if (s->f != NULL) {
        fprintf(s->f, "%s\t%s\t%s\n", kind, src, dst);
        if (fflush(s->f) != 0 || fsync(fileno(s->f)) != 0)
            rc = -1;
    }
    pthread_mutex_unlock(&s->mu);
    if (rc != 0)
        fprintf(stderr, "exptrack import: cannot write the state file\n");
    return rc;
}

void istate_close(struct istate *s)
{
    if (s == NULL)
        return;
    if (s->f != NULL)
        fclose(s->f);
    for (size_t i = 0; i < s->n; i++) {
        free(s->e[i].kind);
        free(s->e[i].src);
        free(s->e[i].dst);
    }
    free(s->e);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
