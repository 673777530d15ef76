/* exptrackd's configuration: defaults, then EXPTRACK_* environment variables,
 * then command-line flags. Not the place that acts on settings. */
#ifndef ET_SERVER_CONFIG_H
#define ET_SERVER_CONFIG_H

#include <stddef.h>

#include "core/http.h"
#include "core/log.h"

struct config {
    char *host;                      /* --host, EXPTRACK_HOST (127.0.0.1) */
    int port;                        /* --port, EXPTRACK_PORT (5000; 0 = any free port) */
    char *database_url;              /* --database-url, EXPTRACK_DATABASE_URL (NULL: embedded) */
    char *data_dir;                  /* --data-dir, EXPTRACK_DATA_DIR (./exptrack-data) */
    int threads;                     /* --threads, EXPTRACK_THREADS (2 x cores, at least 4) */
    char *web_dir;                   /* --web-dir, EXPTRACK_WEB_DIR (NULL: embedded assets) */
    enum log_format log_format;      /* --log-format, EXPTRACK_LOG_FORMAT (text|json) */
    size_t max_body;                 /* --max-body-size, EXPTRACK_MAX_BODY_SIZE (16 MiB) */
    long long max_artifact;          /* --max-artifact-size, EXPTRACK_MAX_ARTIFACT_SIZE (5 GiB) */
    int statement_timeout_ms;        /* --statement-timeout, EXPTRACK_STATEMENT_TIMEOUT (30000) */
    int header_timeout_s;            /* --header-timeout, EXPTRACK_HEADER_TIMEOUT (30; 0 = none) */
    int group_commit;                /* --group-commit, EXPTRACK_GROUP_COMMIT (on) */
    enum http_event_loop event_loop; /* --event-loop, EXPTRACK_EVENT_LOOP (epoll) */
    int auth;                        /* --auth, EXPTRACK_AUTH (off) */
    char *admin_password_file;       /* --admin-password-file, EXPTRACK_ADMIN_PASSWORD_FILE */
    char *default_permission;        /* --default-permission, EXPTRACK_DEFAULT_PERMISSION (READ) */
    char *allowed_hosts;             /* --allowed-hosts, EXPTRACK_ALLOWED_HOSTS (NULL: default) */
    char *tls_cert;                  /* --tls-cert, EXPTRACK_TLS_CERT (NULL: plain HTTP) */
    char *tls_key;                   /* --tls-key, EXPTRACK_TLS_KEY */
};

enum config_result { CONFIG_OK, CONFIG_EXIT_OK, CONFIG_EXIT_USAGE };

/* Fills *cfg from defaults, the environment and argv. Prints --help or
 * --version (CONFIG_EXIT_OK) or one error per bad setting (CONFIG_EXIT_USAGE)
 * on stderr. On CONFIG_OK the caller owns cfg and frees it with config_cleanup. */
enum config_result config_load(struct config *cfg, int argc, char **argv);

/* Frees what config_load allocated. */
void config_cleanup(struct config *cfg);

#endif
