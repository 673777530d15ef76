/* Calls: one statement with owned parameters, run alone or in a group. */
#include "store_call.h"

#include <stdlib.h>

#include "core/xalloc.h"
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

void store_call_group(struct store_call *const *calls, size_t n)
{
    struct db_stmt *stmts = xmalloc((n + 1) * sizeof *stmts);
    PGresult **results = xmalloc((n + 1) * sizeof *results);
    for (size_t i = 0; i < n; i++)
        stmts[i] =
            (struct db_stmt){calls[i]->name, calls[i]->sql, calls[i]->nparams, calls[i]->params};
    int rc = db_exec_group(stmts, n, results);
    for (size_t i = 0; i < n; i++) {
        PQclear(calls[i]->res);
        calls[i]->res = results[i];
        calls[i]->rc = rc;
    }
    free(stmts);
    free(results);
    if (rc == DB_OK || rc == DB_UNAVAILABLE || rc == DB_TIMEOUT || rc == DB_DISK_FULL)
        return;
    for (size_t i = 0; i < n; i++) /* a bad call fails alone */
        store_call_run(calls[i]);
}
