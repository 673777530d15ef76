/* Calls: one statement with owned parameters, run alone or in a group. */
#include "store_call.h"

#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "db/db.h"

#define MAX_ATTEMPTS 3

void store_call_init(struct store_call *c, const char *name, const char *sql, int nparams)
{
    c->name = name;
    c->sql = sql;
    c->nparams = nparams;
    c->rc = DB_ERROR;
    c->res = NULL;
    for (int i = 0; i < STORE_CALL_MAX_PARAMS; i++) {
        c->params[i] = NULL;
        sbuf_init(&c->text[i]);
    }
}

void store_call_param(struct store_call *c, int i, const char *s)
{
    sbuf_cleanup(&c->text[i]);
    sbuf_init(&c->text[i]);
    c->params[i] = NULL;
    if (s == NULL)
        return;
    sbuf_adds(&c->text[i], s);
    sbuf_addc(&c->text[i], '\0'); /* "" too gets memory of its own */
    c->params[i] = c->text[i].data;
}

void store_call_param_sbuf(struct store_call *c, int i, struct sbuf *b)
{
    sbuf_cleanup(&c->text[i]);
    c->text[i] = *b;
    sbuf_init(b);
    c->params[i] = c->text[i].data;
}

void store_call_cleanup(struct store_call *c)
{
    for (int i = 0; i < STORE_CALL_MAX_PARAMS; i++)
        sbuf_cleanup(&c->text[i]);
    PQclear(c->res);
    c->res = NULL;
}

int store_call_run(struct store_call *c)
{
    int rc = DB_RETRY;
    for (int attempt = 0; attempt < MAX_ATTEMPTS && rc == DB_RETRY; attempt++) {
        PQclear(c->res);
        c->res = NULL;
        rc = db_exec_prepared(c->name, c->sql, c->nparams, c->params, &c->res);
    }
    c->rc = rc == DB_EXISTS ? DB_ERROR : rc;
    return c->rc;
}

/* Calls executed(arg) the first time only. */
struct once {
    void (*fn)(void *arg);
    void *arg;
    int done;
};

static void call_once(void *p)
{
    struct once *o = p;
    if (o->done || o->fn == NULL)
        return;
    o->done = 1;
    o->fn(o->arg);
}

/* Whether a group that failed with rc failed for all of its calls alike:
 * the database unreachable, full, or out of time. */
static int fails_all(int rc)
{
    return rc == DB_UNAVAILABLE || rc == DB_TIMEOUT || rc == DB_DISK_FULL;
}

void store_call_group(struct store_call *const *calls, size_t n, void (*executed)(void *arg),
                      void *arg)
{
    struct db_stmt *stmts = xmalloc((n + 1) * sizeof *stmts);
    PGresult **results = xmalloc((n + 1) * sizeof *results);
    struct store_call **left = xmalloc((n + 1) * sizeof *left);
    struct once once = {executed, arg, 0};
    size_t m = n;

    for (size_t i = 0; i < n; i++)
        left[i] = calls[i];
    while (m > 0) {
        size_t failed_at;
        for (size_t i = 0; i < m; i++)
            stmts[i] =
                (struct db_stmt){left[i]->name, left[i]->sql, left[i]->nparams, left[i]->params};
        int rc = db_exec_group_split(stmts, m, results, &failed_at, call_once, &once);
        for (size_t i = 0; i < m; i++) {
            PQclear(left[i]->res);
            left[i]->res = results[i];
            left[i]->rc = rc;
        }
        if (rc == DB_OK || fails_all(rc))
            break;
        /* Nothing was committed. The statement that failed runs again
           alone (retried when it can be, failing alone when not); its peers
           before it ran well and those after it did not run: they go again
           as a group. A failure that was no statement's: each alone. */
        if (failed_at >= m) {
            for (size_t i = 0; i < m; i++)
                store_call_run(left[i]);
            break;
        }
        store_call_run(left[failed_at]);
        memmove(&left[failed_at], &left[failed_at + 1], (m - failed_at - 1) * sizeof *left);
        m--;
    }
    call_once(&once);
    free(left);
    free(stmts);
    free(results);
}
