/* exptrackd: settings -> database (embedded or external) -> migrations ->
 * HTTP -> wait for SIGINT/SIGTERM -> stop HTTP (in-flight requests finish)
 * -> stop the embedded database. */
#include <malloc.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops/assets.h"
#include "auth/auth.h"
#include "config.h"
#include "dispatch.h"
#include "routes.h"
#include "artifacts/api.h"
#include "traces/api.h"
#include "db/db.h"
#include "db/replicas.h"
#include "artifacts/gc.h"
#include "storage/compact.h"
#include "events/change_feed.h"
#include "tracking/group_commit.h"
#include "core/http.h"
#include "core/jsonalloc.h"
#include "core/log.h"
#include "ops/metrics.h"
#include "events/notify.h"
#include "registry/read_cache.h"
#include "webhooks/delivery.h"
#include "db/pg_embedded.h"
#include "db/store_schema.h"
#include "version.h"
#include "common/xalloc.h"

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

/* Largest PEM file read: a certificate chain is a few KiB. */
#define PEM_MAX_BYTES (1L << 20)

/* The whole of a PEM file (--tls-cert, --tls-key), or NULL (logged). */
static char *read_pem(const char *path)
{
    char *text = NULL;
    FILE *f = fopen(path, "r");
    if (f == NULL || fseek(f, 0, SEEK_END) != 0)
        goto fail;
    long size = ftell(f);
    if (size <= 0 || size > PEM_MAX_BYTES || fseek(f, 0, SEEK_SET) != 0)
        goto fail;
    text = xmalloc((size_t)size + 1);
    if (fread(text, 1, (size_t)size, f) != (size_t)size)
        goto fail;
    text[size] = '\0';
    fclose(f);
    return text;
fail:
    log_error("cannot read the PEM file %s", path);
    free(text);
    if (f != NULL)
        fclose(f);
    return NULL;
}

/* 1 for a loopback address or name (the default, safe without --auth). */
static int is_loopback(const char *host)
{
    return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
           strcmp(host, "::1") == 0;
}

/* Authentication and the Host allow-list; the first admin when --auth is on. */
static int start_auth(const struct config *cfg)
{
    enum store_perm def = STORE_PERM_READ;
    int loopback = is_loopback(cfg->host);

    (void)auth_perm_parse(cfg->default_permission, &def);
    size_t nroutes;
    const struct route *routes = routes_table(&nroutes);
    struct auth_options ao = {
        cfg->auth, def, cfg->allowed_hosts, loopback, cfg->tls_cert != NULL, routes, nroutes};
    if (auth_configure(&ao) < 0)
        return -1;
    if (!cfg->auth && !loopback)
        log_warn("\n"
                 "*** WARNING: listening on %s WITHOUT AUTHENTICATION: anyone who can reach\n"
                 "*** this address can read, change and delete every experiment.\n"
                 "*** Start with --auth (EXPTRACK_AUTH=1) on any shared network.",
                 cfg->host);
    if (!cfg->auth)
        return 0;
    int rc = auth_bootstrap(cfg->admin_password_file);
    db_thread_close();
    return rc;
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
    char *tls_cert = NULL, *tls_key = NULL;
    int status = 1;
    sigset_t set;

    if (argc > 1 && strcmp(argv[1], "gc") == 0) /* subcommand: exptrackd gc [flags] */
        return gc_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "compact") == 0) /* exptrackd compact [flags] */
        return compact_main(argc - 1, argv + 1);
    /* Keep freed memory for the next request instead of handing it back to
     * the kernel after each one: replies of a few hundred KiB were mmap'd
     * and unmapped per request, and the page faults of refilling them cost
     * about as much CPU as building a search page. Bounded: blocks past
     * 4 MiB are still mapped apart, and an arena's free tail past 8 MiB is
     * still returned. */
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
    mallopt(M_TRIM_THRESHOLD, 8 << 20);
    enum config_result cr = config_load(&cfg, argc, argv);
    if (cr != CONFIG_OK) {
        config_cleanup(&cfg);
        return cr == CONFIG_EXIT_OK ? 0 : 2;
    }
    log_set_format(cfg.log_format);
    jsonalloc_install();

    /* Every thread started from here on inherits this mask, so only
     * sigwait() in main sees the shutdown signals. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    (void)log_start_flusher(); /* access lines in bulk; the others stay at once */

    log_info("exptrackd %s starting", EXPTRACK_VERSION);
    if (assets_configure(cfg.web_dir) < 0)
        goto out;
    const char *conninfo = cfg.database_url;
    if (conninfo == NULL) {
        if (pg_embedded_start(cfg.data_dir, &embedded_conninfo) < 0)
            goto out;
        conninfo = embedded_conninfo;
    }
    db_configure(conninfo, cfg.statement_timeout_ms);
    struct db_replica_options ro = {.urls = (const char *const *)cfg.read_database_urls,
                                    .n = cfg.n_read_database_urls,
                                    .max_lag_bytes = cfg.replica_max_lag,
                                    .read_wait_ms = cfg.read_wait_ms,
                                    .check_interval_ms = cfg.replica_check_ms,
                                    .primary_conn = conninfo};
    if (db_replicas_configure(&ro) < 0)
        goto out;
    if (prepare_database() < 0)
        goto out;
    db_thread_close();
    if (db_replicas_start() < 0) /* reads: the replicas' health and lag */
        goto out;
    read_cache_configure(cfg.registry_cache);
    struct notify_registry_hooks hooks = {.listening = read_cache_listening,
                                          .changed = read_cache_invalidate};
    notify_set_registry_hooks(&hooks); /* the read cache is used only while they are heard */
    if (notify_start(conninfo) < 0)    /* live updates: LISTEN on its own connection */
        goto out;

    api_artifacts_configure(cfg.max_artifact);
    api_traces_otlp_configure(cfg.max_body);
    if (start_auth(&cfg) < 0)
        goto out;
    (void)group_commit_start(cfg.group_commit != GROUP_COMMIT_OFF,
                             cfg.group_commit == GROUP_COMMIT_ALL);
    (void)change_feed_start(); /* live updates: announce changes off the write path */
    if (compact_start(cfg.compact_delay_s) < 0) /* finished runs' points into chunks */
        log_warn("compact: the compaction thread did not start");
    struct webhook_options wo = {.allowed_schemes = cfg.webhook_schemes,
                                 .allow_private_ips = cfg.webhook_allow_private,
                                 .timeout_s = cfg.webhook_timeout_s,
                                 .max_retries = cfg.webhook_max_retries,
                                 .workers = cfg.webhook_workers,
                                 .secret_key_file = cfg.webhook_key_file};
    if (webhook_delivery_start(&wo) < 0) /* the outbox: registry webhooks */
        goto out;
    size_t nroutes;
    const struct route *routes = routes_table(&nroutes);
    metrics_init(routes, nroutes);
    if (cfg.tls_cert != NULL &&
        ((tls_cert = read_pem(cfg.tls_cert)) == NULL || (tls_key = read_pem(cfg.tls_key)) == NULL))
        goto out;
    struct http_options opts = {.host = cfg.host,
                                .port = cfg.port,
                                .threads = cfg.threads,
                                .event_loop = cfg.event_loop,
                                .max_body = cfg.max_body,
                                .tls_cert_pem = tls_cert,
                                .tls_key_pem = tls_key,
                                .header_timeout_s = cfg.header_timeout_s,
                                .max_connections = cfg.max_connections,
                                .max_connections_per_ip = cfg.max_connections_per_ip,
                                .dispatch = &dispatch_routes};
    server = http_start(&opts);
    if (server == NULL)
        goto out;
    const char *open_bracket = strchr(cfg.host, ':') ? "[" : "";
    const char *close_bracket = strchr(cfg.host, ':') ? "]" : "";
    /* Tests and scripts wait for "listening on URL" in this line; it is a
     * log line like the others (JSON under --log-format json). */
    log_info("listening on %s://%s%s%s:%d", tls_cert ? "https" : "http", open_bracket, cfg.host,
             close_bracket, http_port(server));

    int sig = wait_for_signal();
    log_info("received %s, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    status = 0;
out:
    /* Paused connections must be resumed before the HTTP server stops:
     * queued small writes are committed and answered, open streams end. */
    group_commit_stop();
    change_feed_stop();
    compact_stop();
    webhook_delivery_stop();
    notify_stop(); /* ends open streams, so the HTTP server can stop */
    http_stop(server);
    db_replicas_stop();
    if (embedded_conninfo != NULL)
        pg_embedded_stop();
    free(embedded_conninfo);
    free(tls_cert);
    if (tls_key != NULL)
        OPENSSL_cleanse(tls_key, strlen(tls_key));
    free(tls_key);
    assets_cleanup();
    config_cleanup(&cfg);
    log_stop_flusher();
    return status;
}
