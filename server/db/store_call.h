/* A write built as one prepared statement that owns copies of its
 * parameters, so that it can be run now (store_call_run) or later, by the
 * group commit's thread, inside a transaction shared with its concurrent
 * peers (store_call_group). The store function that built a call reads its
 * outcome and result; the layers above only hold it and pass it on. */
#ifndef ET_SERVER_STORE_CALL_H
#define ET_SERVER_STORE_CALL_H

#include <stddef.h>

#include "common/sbuf.h"

#define STORE_CALL_MAX_PARAMS 9

struct pg_result; /* libpq's PGresult */

struct store_call {
    const char *name; /* prepared statement name: a string constant, always with sql */
    const char *sql;
    int nparams;
    const char *params[STORE_CALL_MAX_PARAMS]; /* NULL: SQL NULL */
    struct sbuf text[STORE_CALL_MAX_PARAMS];   /* the parameters' own copies */
    int rc;                                    /* once run: DB_OK or the failure */
    struct pg_result *res;                     /* once run with DB_OK: the result */
};

/* Starts a call of the prepared statement name with nparams parameters,
 * all NULL so far. */
void store_call_init(struct store_call *c, const char *name, const char *sql, int nparams);

/* Sets parameter i (0-based) to a copy of s (NULL: SQL NULL). */
void store_call_param(struct store_call *c, int i, const char *s);

/* Sets parameter i to the contents of b, which the call takes over (b is
 * left empty). */
void store_call_param_sbuf(struct store_call *c, int i, struct sbuf *b);

/* Frees the copies and the result. */
void store_call_cleanup(struct store_call *c);

/* Runs c in its own implicit transaction, again on a deadlock or a
 * serialization failure (up to 3 attempts); sets and returns c->rc. A
 * serialization failure also says that a concurrent write committed after
 * the statement's snapshot was taken (a param clash, schema/0026 and 0033),
 * which the next attempt reads. The statements answer their expected
 * conflicts in rows, so a unique violation is a bug: DB_ERROR, not retried. */
int store_call_run(struct store_call *c);

/* Runs calls[0..n) in one transaction with one commit (a pipeline of
 * BEGIN, the statements and COMMIT: db_exec_group_split). When a statement
 * fails, nothing is committed: that call runs again alone (store_call_run:
 * retried on a serialization failure or deadlock, else failing alone) and
 * the others again as a group, so that a bad call fails alone and its
 * peers still share a commit; a failure that is no statement's (BEGIN,
 * COMMIT, prepared statements) runs each call alone, and an unreachable or
 * full database or a timeout fails them all. Sets every call's rc (and res).
 * executed(arg), when not NULL, is called exactly once: when a group's
 * statements all ran and its COMMIT is being flushed, else before
 * returning. The caller may let another connection run its statements from
 * then on (until then this one may hold row locks it still needs). */
void store_call_group(struct store_call *const *calls, size_t n, void (*executed)(void *arg),
                      void *arg);

#endif
