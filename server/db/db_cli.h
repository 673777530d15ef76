/* The start-up shared by exptrackd's one-shot subcommands (gc, compact):
 * read the server's flags, open the database they name (or the embedded
 * cluster), shut it down again. It does not run the subcommand's work. */
#ifndef ET_SERVER_DB_CLI_H
#define ET_SERVER_DB_CLI_H

#include "config.h"

struct db_cli {
    struct config cfg; /* the flags and environment, as the server reads them */
    char *embedded;    /* conninfo of the embedded cluster this process started, or NULL */
};

/* Loads the config from argv (argv[0] is the subcommand's name; --help
 * prints the server's help), sets the log format, then connects this thread
 * to --database-url or, without one, to the embedded cluster under
 * --data-dir, which it starts (failing when a running exptrackd holds it).
 * The connection has no statement timeout (a subcommand's work may take
 * long); the schema is migrated. name prefixes the log line of a failure.
 * Returns 0 when connected. Otherwise returns -1 and stores in *exit_status
 * the status the process exits with: 0 after --help, 2 for a bad flag, 1
 * when the database is not usable. Call db_cli_close in either case. */
int db_cli_open(struct db_cli *c, const char *name, int argc, char **argv, int *exit_status)
    __attribute__((warn_unused_result));

/* Closes this thread's connection, stops the embedded cluster if
 * db_cli_open started it, and frees the config. */
void db_cli_close(struct db_cli *c);

#endif
