/* The start-up and shut-down of the one-shot subcommands (db_cli.h): the
 * config, the log format and one database connection. The subcommands'
 * work lives in their own folders (artifacts/gc.c, storage/compact.c). */
#include "db_cli.h"

#include <stdlib.h>

#include "core/log.h"
#include "db.h"
#include "pg_embedded.h"
#include "store_schema.h"

int db_cli_open(struct db_cli *c, const char *name, int argc, char **argv, int *exit_status)
{
    c->embedded = NULL;
    enum config_result cr = config_load(&c->cfg, argc, argv);
    if (cr != CONFIG_OK) {
        *exit_status = cr == CONFIG_EXIT_OK ? 0 : 2;
        return -1;
    }
    log_set_format(c->cfg.log_format);
    *exit_status = 1;
    const char *conninfo = c->cfg.database_url;
    if (conninfo == NULL) {
        if (pg_embedded_start(c->cfg.data_dir, &c->embedded) < 0)
            return -1; /* a running exptrackd holds it: use --database-url instead */
        conninfo = c->embedded;
    }
    db_configure(conninfo, 0);
    if (db_ping() != DB_OK || store_schema_migrate() < 0) {
        log_error("%s: the database is not usable", name);
        return -1;
    }
    return 0;
}

void db_cli_close(struct db_cli *c)
{
    db_thread_close();
    if (c->embedded != NULL)
        pg_embedded_stop();
    free(c->embedded);
    c->embedded = NULL;
    config_cleanup(&c->cfg);
}
