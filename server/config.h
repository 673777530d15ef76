/* exptrackd's configuration: defaults, then EXPTRACK_* environment variables,
 * then command-line flags. Not the place that acts on settings. Each field's
 * flag, variable, default and help are in the settings table of config.c. */
#ifndef ET_SERVER_CONFIG_H
#define ET_SERVER_CONFIG_H

#include <stddef.h>

#include "core/http.h"
#include "core/log.h"

/* Most --read-database-url flags (db/replicas.h DB_MAX_REPLICAS). */
#define CONFIG_MAX_READ_URLS 8

/* What --group-commit lets share commits. */
enum group_commit_mode {
    GROUP_COMMIT_OFF,     /* nothing: a commit per request */
    GROUP_COMMIT_METRICS, /* small metric writes */
    GROUP_COMMIT_ALL,     /* those and the control-plane writes (calls) */
};

struct config {
    char *host;                                     /* --host */
    int port;                                       /* --port (0 = any free port) */
    char *database_url;                             /* --database-url (NULL: embedded) */
    char *data_dir;                                 /* --data-dir */
    int threads;                                    /* --threads */
    char *web_dir;                                  /* --web-dir (NULL: embedded assets) */
    enum log_format log_format;                     /* --log-format */
    size_t max_body;                                /* --max-body-size */
    long long max_artifact;                         /* --max-artifact-size */
    int statement_timeout_ms;                       /* --statement-timeout */
    int header_timeout_s;                           /* --header-timeout (0 = none) */
    enum group_commit_mode group_commit;            /* --group-commit */
    int registry_cache;                             /* --registry-cache */
    enum http_event_loop event_loop;                /* --event-loop */
    int auth;                                       /* --auth */
    char *admin_password_file;                      /* --admin-password-file */
    char *default_permission;                       /* --default-permission */
    char *allowed_hosts;                            /* --allowed-hosts (NULL: default) */
    char *tls_cert;                                 /* --tls-cert (NULL: plain HTTP) */
    char *tls_key;                                  /* --tls-key */
    char *webhook_schemes;                          /* --webhook-allowed-schemes */
    int webhook_allow_private;                      /* --webhook-allow-private-ips */
    int webhook_timeout_s;                          /* --webhook-timeout */
    int webhook_max_retries;                        /* --webhook-max-retries */
    int webhook_workers;                            /* --webhook-workers */
    char *webhook_key_file;                         /* --webhook-secret-key-file (NULL: none) */
    char *read_database_urls[CONFIG_MAX_READ_URLS]; /* --read-database-url, repeated */
    int n_read_database_urls;
    int read_wait_ms;           /* --read-wait */
    long long replica_max_lag;  /* --replica-max-lag (bytes of WAL) */
    int replica_check_ms;       /* --replica-check-interval */
    int max_connections;        /* --max-connections */
    int max_connections_per_ip; /* --max-connections-per-ip */
    long compact_delay_s;       /* --compact-delay (-1: no compaction thread) */
};

enum config_result { CONFIG_OK, CONFIG_EXIT_OK, CONFIG_EXIT_USAGE };

/* Fills *cfg from defaults, the environment and argv. Prints --help or
 * --version (CONFIG_EXIT_OK) or one error per bad setting (CONFIG_EXIT_USAGE)
 * on stderr. On CONFIG_OK the caller owns cfg and frees it with config_cleanup. */
enum config_result config_load(struct config *cfg, int argc, char **argv);

/* Frees what config_load allocated. */
void config_cleanup(struct config *cfg);

#endif
