/* exptrackd: settings -> database (embedded or external) -> migrations ->
 * HTTP -> wait for SIGINT/SIGTERM -> stop HTTP (in-flight requests finish)
 * -> stop the embedded database. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "pg_embedded.h"
#include "store_schema.h"
#include "version.h"

#define STARTUP_DB_WAIT_SECONDS 60

/* Waits for the database to answer and brings its schema up to date. An
 * external database may still be starting: retry for a while. */
static int prepare_database(void)
{
    for (int waited = 0;; waited++) {
        if (db_ping() == DB_OK)
            return store_schema_migrate();
        if (waited >= STARTUP_DB_WAIT_SECONDS) {
            log_error("the database did not answer within %d s", STARTUP_DB_WAIT_SECONDS);
            return -1;
        }
        if (waited == 0)
            log_info("waiting for the database to answer");
        struct timespec second = {1, 0};
        nanosleep(&second, NULL);
    }
}

static int wait_for_signal(void)
{
    sigset_t set;
    int sig = 0;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigwait(&set, &sig);
    return sig;
}

int main(int argc, char **argv)
{
    struct config cfg;
    char *embedded_conninfo = NULL;
    struct http_server *server = NULL;
    int status = 1;
    sigset_t set;

    enum config_result cr = config_load(&cfg, argc, argv);
    if (cr != CONFIG_OK) {
        config_cleanup(&cfg);
        return cr == CONFIG_EXIT_OK ? 0 : 2;
    }
    log_set_format(cfg.log_format);

    /* Every thread started from here on inherits this mask, so only
     * sigwait() in main sees the shutdown signals. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    log_info("exptrackd %s starting", EXPTRACK_VERSION);
    const char *conninfo = cfg.database_url;
    if (conninfo == NULL) {
        if (pg_embedded_start(cfg.data_dir, &embedded_conninfo) < 0)
            goto out;
        conninfo = embedded_conninfo;
    }
    db_configure(conninfo, cfg.statement_timeout_ms);
    if (prepare_database() < 0)
        goto out;
    db_thread_close();

    struct http_options opts = {cfg.host, cfg.port, cfg.threads, cfg.max_body};
    server = http_start(&opts);
    if (server == NULL)
        goto out;
    const char *open_bracket = strchr(cfg.host, ':') ? "[" : "";
    const char *close_bracket = strchr(cfg.host, ':') ? "]" : "";
    /* The exact line tests and scripts wait for. */
    fprintf(stderr, "listening on http://%s%s%s:%d\n", open_bracket, cfg.host, close_bracket,
            http_port(server));
    fflush(stderr);

    int sig = wait_for_signal();
    log_info("received %s, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    status = 0;
out:
    http_stop(server);
    if (embedded_conninfo != NULL)
        pg_embedded_stop();
    free(embedded_conninfo);
    config_cleanup(&cfg);
    return status;
}
