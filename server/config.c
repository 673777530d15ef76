/* exptrackd's settings: defaults, then EXPTRACK_* environment variables, then
 * flags. Each bad setting gets one error line naming it and the rule. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "version.h"
#include "common/xalloc.h"

enum opt_id {
    OPT_HOST = 1,
    OPT_PORT,
    OPT_DATABASE_URL,
    OPT_DATA_DIR,
    OPT_THREADS,
    OPT_WEB_DIR,
    OPT_LOG_FORMAT,
    OPT_MAX_BODY,
    OPT_MAX_ARTIFACT,
    OPT_STATEMENT_TIMEOUT,
    OPT_HEADER_TIMEOUT,
    OPT_GROUP_COMMIT,
    OPT_EVENT_LOOP,
    OPT_AUTH,
    OPT_ADMIN_PASSWORD_FILE,
    OPT_DEFAULT_PERMISSION,
    OPT_ALLOWED_HOSTS,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_WEBHOOK_SCHEMES,
    OPT_WEBHOOK_PRIVATE,
    OPT_WEBHOOK_TIMEOUT,
    OPT_WEBHOOK_RETRIES,
    OPT_WEBHOOK_WORKERS,
    OPT_WEBHOOK_KEY_FILE,
    OPT_REGISTRY_CACHE,
    OPT_READ_DATABASE_URL,
    OPT_READ_WAIT,
    OPT_REPLICA_MAX_LAG,
    OPT_REPLICA_CHECK,
    OPT_MAX_CONNECTIONS,
    OPT_MAX_CONNECTIONS_PER_IP,
    OPT_COMPACT_DELAY,
};

/* One row per setting, the only place its flag, variable, default and help
 * are written: set_defaults, the environment, getopt and --help all read
 * it. A default is a string parsed by apply() like any flag value, so it
 * obeys the same rules; NULL means unset (or computed: --threads). */
struct setting {
    enum opt_id id;
    const char *flag;     /* --flag */
    const char *arg;      /* the value's name in --help; NULL: a switch, no value */
    const char *env;      /* EXPTRACK_* */
    const char *def;      /* the default, NULL: none */
    const char *def_text; /* the default in --help when def alone does not say it */
    const char *help;     /* one line, or lines separated by \n */
};

static const struct setting settings[] = {
    {OPT_HOST, "host", "ADDR", "EXPTRACK_HOST", "127.0.0.1", NULL, "address to listen on"},
    {OPT_PORT, "port", "N", "EXPTRACK_PORT", "5000", NULL, "TCP port, 0 = any free port"},
    {OPT_DATABASE_URL, "database-url", "URL", "EXPTRACK_DATABASE_URL", NULL,
     "an embedded cluster in --data-dir", "PostgreSQL to use"},
    {OPT_DATA_DIR, "data-dir", "DIR", "EXPTRACK_DATA_DIR", "./exptrack-data", NULL,
     "embedded database location"},
    {OPT_THREADS, "threads", "N", "EXPTRACK_THREADS", NULL, "2 x cores, at least 4",
     "request threads"},
    {OPT_WEB_DIR, "web-dir", "DIR", "EXPTRACK_WEB_DIR", NULL, "the dashboard compiled in",
     "serve the dashboard from DIR"},
    {OPT_LOG_FORMAT, "log-format", "text|json", "EXPTRACK_LOG_FORMAT", "text", NULL,
     "log line format"},
    {OPT_MAX_BODY, "max-body-size", "BYTES", "EXPTRACK_MAX_BODY_SIZE", "16777216", NULL,
     "largest JSON request body"},
    {OPT_MAX_ARTIFACT, "max-artifact-size", "BYTES", "EXPTRACK_MAX_ARTIFACT_SIZE", "5368709120",
     NULL, "largest artifact upload"},
    {OPT_STATEMENT_TIMEOUT, "statement-timeout", "MS", "EXPTRACK_STATEMENT_TIMEOUT", "30000", NULL,
     "longest SQL statement"},
    {OPT_HEADER_TIMEOUT, "header-timeout", "SECS", "EXPTRACK_HEADER_TIMEOUT", "30", NULL,
     "close connections whose request headers are not complete\n"
     "this long after they opened, 0 = never"},
    {OPT_GROUP_COMMIT, "group-commit", "on|metrics|off", "EXPTRACK_GROUP_COMMIT", "on", NULL,
     "share one commit among concurrent small writes: on = metric\n"
     "writes and runs/create, runs/update, log-batch, log-parameter,\n"
     "set-tag; metrics = small metric writes only"},
    {OPT_EVENT_LOOP, "event-loop", "epoll|poll", "EXPTRACK_EVENT_LOOP", "epoll", NULL,
     "how request threads wait on connections; poll costs less\n"
     "per group-committed write with up to a few hundred open, but\n"
     "serves slow requests worse"},
    {OPT_AUTH, "auth", NULL, "EXPTRACK_AUTH", "off", NULL,
     "require sign-in (HTTP Basic or bearer token)"},
    {OPT_ADMIN_PASSWORD_FILE, "admin-password-file", "FILE", "EXPTRACK_ADMIN_PASSWORD_FILE", NULL,
     "generated, printed once", "password of the 'admin' created at first start"},
    {OPT_DEFAULT_PERMISSION, "default-permission", "P", "EXPTRACK_DEFAULT_PERMISSION", "READ", NULL,
     "READ|EDIT|MANAGE|NO_PERMISSIONS on experiments without a grant"},
    {OPT_ALLOWED_HOSTS, "allowed-hosts", "LIST", "EXPTRACK_ALLOWED_HOSTS", NULL,
     "loopback names on loopback, else *", "Host header names to answer, comma-separated, * = any"},
    {OPT_TLS_CERT, "tls-cert", "FILE", "EXPTRACK_TLS_CERT", NULL, "plain HTTP",
     "serve HTTPS with this PEM certificate chain"},
    {OPT_TLS_KEY, "tls-key", "FILE", "EXPTRACK_TLS_KEY", NULL, "none",
     "...and this PEM private key"},
    {OPT_WEBHOOK_SCHEMES, "webhook-allowed-schemes", "LIST", "EXPTRACK_WEBHOOK_ALLOWED_SCHEMES",
     "https", NULL, "URL schemes webhooks may use, comma-separated (http,https)"},
    {OPT_WEBHOOK_PRIVATE, "webhook-allow-private-ips", NULL, "EXPTRACK_WEBHOOK_ALLOW_PRIVATE_IPS",
     "off", NULL, "let webhook URLs resolve to loopback and private addresses"},
    {OPT_WEBHOOK_TIMEOUT, "webhook-timeout", "SECS", "EXPTRACK_WEBHOOK_TIMEOUT", "30", NULL,
     "longest webhook delivery request"},
    {OPT_WEBHOOK_RETRIES, "webhook-max-retries", "N", "EXPTRACK_WEBHOOK_MAX_RETRIES", "3", NULL,
     "webhook delivery attempts after the first (429, 5xx, connection errors)"},
    {OPT_WEBHOOK_WORKERS, "webhook-workers", "N", "EXPTRACK_WEBHOOK_WORKERS", "2", NULL,
     "webhook delivery threads, 1 to 4"},
    {OPT_WEBHOOK_KEY_FILE, "webhook-secret-key-file", "FILE", "EXPTRACK_WEBHOOK_SECRET_KEY_FILE",
     NULL, "none: secrets stored as given", "seal webhook secrets with a key derived from FILE"},
    {OPT_REGISTRY_CACHE, "registry-cache", "on|off", "EXPTRACK_REGISTRY_CACHE", "on", NULL,
     "keep registry reads (get-by-alias, model and version get) in\n"
     "memory, invalidated by every registry change (NOTIFY)"},
    {OPT_READ_DATABASE_URL, "read-database-url", "URL", "EXPTRACK_READ_DATABASE_URL", NULL,
     "none: every read on the primary",
     "a hot standby of --database-url to serve reads (searches, gets,\n"
     "history); repeat for more (the variable: URLs separated by spaces)"},
    {OPT_READ_WAIT, "read-wait", "MS", "EXPTRACK_READ_WAIT", "200", NULL,
     "how long a read carrying its client's last write position waits\n"
     "for a replica to replay it before the primary serves it"},
    {OPT_REPLICA_MAX_LAG, "replica-max-lag", "BYTES", "EXPTRACK_REPLICA_MAX_LAG", "16777216", NULL,
     "a replica further behind the primary's WAL leaves rotation"},
    {OPT_REPLICA_CHECK, "replica-check-interval", "MS", "EXPTRACK_REPLICA_CHECK_INTERVAL", "500",
     NULL, "how often each replica's health and lag are polled"},
    {OPT_MAX_CONNECTIONS, "max-connections", "N", "EXPTRACK_MAX_CONNECTIONS", "4096", NULL,
     "open client connections answered; past it a request gets 503\n"
     "with Retry-After and the connection is closed"},
    {OPT_MAX_CONNECTIONS_PER_IP, "max-connections-per-ip", "N", "EXPTRACK_MAX_CONNECTIONS_PER_IP",
     "2048", NULL, "the same, per client address (a proxy or NAT is one address)"},
    {OPT_COMPACT_DELAY, "compact-delay", "SECS", "EXPTRACK_COMPACT_DELAY", "600", NULL,
     "pack the metric points of runs that ended this long ago into\n"
     "chunks: 14 bytes a point instead of 128, read back as fast\n"
     "(a background thread, a pass a minute; -1 = never, `exptrackd\n"
     "compact` still does)"},
};

#define N_SETTINGS (sizeof settings / sizeof settings[0])

/* Parses a whole decimal number in [min, max]; 0 on success. */
static int parse_long(const char *s, long long min, long long max, long long *out)
{
    char *end;

    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Which of two allowed words value is: 0 for first, 1 for second, -1 for
 * neither. */
static int pick(const char *value, const char *first, const char *second)
{
    if (strcmp(value, first) == 0)
        return 0;
    return strcmp(value, second) == 0 ? 1 : -1;
}

static void replace_string(char **slot, const char *value)
{
    free(*slot);
    *slot = value[0] ? xstrdup(value) : NULL;
}

/* The accepted ranges: past these a value is a typo, not a choice. */
#define PORT_MAX 65535
#define HEADER_TIMEOUT_MAX_S 3600
#define THREADS_MAX 1024
#define MAX_BODY_MIN 1024 /* bytes: smaller would refuse ordinary API calls */
#define MAX_BODY_MAX ((long long)1 << 40)
#define MAX_ARTIFACT_MAX ((long long)1 << 50)
#define WEBHOOK_SCHEMES_MAX 200
#define WEBHOOK_TIMEOUT_MAX_S 300
#define WEBHOOK_RETRIES_MAX 20
#define WEBHOOK_WORKERS_MAX 4                  /* webhooks/delivery.h WEBHOOK_MAX_WORKERS */
#define COMPACT_DELAY_MAX_S (366L * 24 * 3600) /* a year: anything longer is a typo */
#define READ_WAIT_MAX_MS 10000
#define REPLICA_CHECK_MIN_MS 10
#define REPLICA_CHECK_MAX_MS 60000
#define CONNECTIONS_MAX 1000000

/* Adds one --read-database-url; the variable may hold several, separated
 * by spaces. 0, or -1 when empty or past CONFIG_MAX_READ_URLS. */
static int add_read_urls(struct config *cfg, const char *value, int split)
{
    const char *p = value;
    int added = 0;
    while (*p != '\0') {
        size_t n = split ? strcspn(p, " \t") : strlen(p);
        if (n > 0) {
            if (cfg->n_read_database_urls >= CONFIG_MAX_READ_URLS)
                return -1;
            cfg->read_database_urls[cfg->n_read_database_urls++] = xstrndup(p, n);
            added++;
        }
        p += n;
        while (split && (*p == ' ' || *p == '\t'))
            p++;
    }
    return added > 0 ? 0 : -1;
}

/* Applies one setting; prints an error naming `source` and returns -1 when bad. */
static int apply(struct config *cfg, enum opt_id id, const char *value, const char *source)
{
    long long n;
    int k;

    switch (id) {
    case OPT_HOST:
        if (value[0] == '\0')
            goto bad;
        replace_string(&cfg->host, value);
        return 0;
    case OPT_PORT:
        if (parse_long(value, 0, PORT_MAX, &n) < 0)
            goto bad;
        cfg->port = (int)n;
        return 0;
    case OPT_DATABASE_URL:
        replace_string(&cfg->database_url, value);
        return 0;
    case OPT_DATA_DIR:
        if (value[0] == '\0')
            goto bad;
        replace_string(&cfg->data_dir, value);
        return 0;
    case OPT_HEADER_TIMEOUT:
        if (parse_long(value, 0, HEADER_TIMEOUT_MAX_S, &n) < 0)
            goto bad;
        cfg->header_timeout_s = (int)n;
        return 0;
    case OPT_THREADS:
        if (parse_long(value, 1, THREADS_MAX, &n) < 0)
            goto bad;
        cfg->threads = (int)n;
        return 0;
    case OPT_WEB_DIR:
        replace_string(&cfg->web_dir, value);
        return 0;
    case OPT_LOG_FORMAT:
        if ((k = pick(value, "text", "json")) < 0)
            goto bad;
        cfg->log_format = k == 0 ? LOG_FORMAT_TEXT : LOG_FORMAT_JSON;
        return 0;
    case OPT_MAX_BODY:
        if (parse_long(value, MAX_BODY_MIN, MAX_BODY_MAX, &n) < 0)
            goto bad;
        cfg->max_body = (size_t)n;
        return 0;
    case OPT_MAX_ARTIFACT:
        if (parse_long(value, 0, MAX_ARTIFACT_MAX, &n) < 0)
            goto bad;
        cfg->max_artifact = n;
        return 0;
    case OPT_STATEMENT_TIMEOUT:
        if (parse_long(value, 0, INT_MAX, &n) < 0)
            goto bad;
        cfg->statement_timeout_ms = (int)n;
        return 0;
    case OPT_GROUP_COMMIT:
        if (strcmp(value, "metrics") == 0)
            k = GROUP_COMMIT_METRICS;
        else if ((k = pick(value, "off", "on")) < 0)
            goto bad;
        else
            k = k ? GROUP_COMMIT_ALL : GROUP_COMMIT_OFF;
        cfg->group_commit = k;
        return 0;
    case OPT_REGISTRY_CACHE:
        if ((k = pick(value, "off", "on")) < 0)
            goto bad;
        cfg->registry_cache = k;
        return 0;
    case OPT_EVENT_LOOP:
        if ((k = pick(value, "epoll", "poll")) < 0)
            goto bad;
        cfg->event_loop = k == 0 ? HTTP_EVENT_LOOP_EPOLL : HTTP_EVENT_LOOP_POLL;
        return 0;
    case OPT_AUTH:
        if (strcmp(value, "1") == 0 || strcmp(value, "true") == 0 || strcmp(value, "on") == 0)
            cfg->auth = 1;
        else if (strcmp(value, "0") == 0 || strcmp(value, "false") == 0 ||
                 strcmp(value, "off") == 0 || value[0] == '\0')
            cfg->auth = 0;
        else
            goto bad;
        return 0;
    case OPT_ADMIN_PASSWORD_FILE:
        replace_string(&cfg->admin_password_file, value);
        return 0;
    case OPT_DEFAULT_PERMISSION:
        if (strcmp(value, "READ") != 0 && strcmp(value, "EDIT") != 0 &&
            strcmp(value, "MANAGE") != 0 && strcmp(value, "NO_PERMISSIONS") != 0)
            goto bad;
        replace_string(&cfg->default_permission, value);
        return 0;
    case OPT_ALLOWED_HOSTS:
        replace_string(&cfg->allowed_hosts, value);
        return 0;
    case OPT_TLS_CERT:
        replace_string(&cfg->tls_cert, value);
        return 0;
    case OPT_TLS_KEY:
        replace_string(&cfg->tls_key, value);
        return 0;
    case OPT_WEBHOOK_SCHEMES:
        if (value[0] == '\0' || strlen(value) > WEBHOOK_SCHEMES_MAX)
            goto bad;
        replace_string(&cfg->webhook_schemes, value);
        return 0;
    case OPT_WEBHOOK_PRIVATE:
        if (strcmp(value, "1") == 0 || strcmp(value, "true") == 0 || strcmp(value, "on") == 0)
            cfg->webhook_allow_private = 1;
        else if (strcmp(value, "0") == 0 || strcmp(value, "false") == 0 ||
                 strcmp(value, "off") == 0 || value[0] == '\0')
            cfg->webhook_allow_private = 0;
        else
            goto bad;
        return 0;
    case OPT_WEBHOOK_TIMEOUT:
        if (parse_long(value, 1, WEBHOOK_TIMEOUT_MAX_S, &n) < 0)
            goto bad;
        cfg->webhook_timeout_s = (int)n;
        return 0;
    case OPT_WEBHOOK_RETRIES:
        if (parse_long(value, 0, WEBHOOK_RETRIES_MAX, &n) < 0)
            goto bad;
        cfg->webhook_max_retries = (int)n;
        return 0;
    case OPT_WEBHOOK_KEY_FILE:
        replace_string(&cfg->webhook_key_file, value);
        return 0;
    case OPT_READ_DATABASE_URL:
        if (add_read_urls(cfg, value, strncmp(source, "--", 2) != 0) < 0)
            goto bad;
        return 0;
    case OPT_READ_WAIT:
        if (parse_long(value, 0, READ_WAIT_MAX_MS, &n) < 0)
            goto bad;
        cfg->read_wait_ms = (int)n;
        return 0;
    case OPT_REPLICA_MAX_LAG:
        if (parse_long(value, 0, LLONG_MAX, &n) < 0)
            goto bad;
        cfg->replica_max_lag = n;
        return 0;
    case OPT_REPLICA_CHECK:
        if (parse_long(value, REPLICA_CHECK_MIN_MS, REPLICA_CHECK_MAX_MS, &n) < 0)
            goto bad;
        cfg->replica_check_ms = (int)n;
        return 0;
    case OPT_MAX_CONNECTIONS:
        if (parse_long(value, 1, CONNECTIONS_MAX, &n) < 0)
            goto bad;
        cfg->max_connections = (int)n;
        return 0;
    case OPT_MAX_CONNECTIONS_PER_IP:
        if (parse_long(value, 1, CONNECTIONS_MAX, &n) < 0)
            goto bad;
        cfg->max_connections_per_ip = (int)n;
        return 0;
    case OPT_WEBHOOK_WORKERS:
        if (parse_long(value, 1, WEBHOOK_WORKERS_MAX, &n) < 0)
            goto bad;
        cfg->webhook_workers = (int)n;
        return 0;
    case OPT_COMPACT_DELAY:
        if (parse_long(value, -1, COMPACT_DELAY_MAX_S, &n) < 0)
            goto bad;
        cfg->compact_delay_s = n;
        return 0;
    }
bad:
    fprintf(stderr, "exptrackd: invalid value \"%s\" for %s (see --help)\n", value, source);
    return -1;
}

/* Column of the help text in --help. */
#define USAGE_HELP_COLUMN 30

static void print_usage(void)
{
    fputs("usage: exptrackd [options]\n"
          "\n"
          "An MLflow-compatible experiment-tracking server backed by PostgreSQL.\n"
          "Every option can also be set through the environment variable in brackets.\n"
          "\n",
          stdout);
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const struct setting *s = &settings[i];
        int n = printf("  --%s%s%s", s->flag, s->arg ? " " : "", s->arg ? s->arg : "");
        const char *line = s->help;
        for (;;) {
            const char *nl = strchr(line, '\n');
            int len = nl ? (int)(nl - line) : (int)strlen(line);
            printf("%*s%.*s\n", n < USAGE_HELP_COLUMN ? USAGE_HELP_COLUMN - n : 1, "", len, line);
            if (nl == NULL)
                break;
            line = nl + 1;
            n = 0;
        }
        printf("%*s[%s] (default: %s)\n", USAGE_HELP_COLUMN, "", s->env,
               s->def_text ? s->def_text : s->def);
    }
    printf("  %-*s%s\n  %-*s%s\n", USAGE_HELP_COLUMN - 2, "-h, --help", "show this help",
           USAGE_HELP_COLUMN - 2, "-V, --version", "show the version");
}

/* The defaults of the table, then the computed ones. 0, or -1 when a
 * default of the table does not parse (a bug, reported like a bad flag). */
static int set_defaults(struct config *cfg)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int rc = 0;

    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < N_SETTINGS; i++)
        if (settings[i].def != NULL && apply(cfg, settings[i].id, settings[i].def, "a default") < 0)
            rc = -1;
    cfg->threads = cores > 2 ? (int)(2 * cores) : 4;
    return rc;
}

enum config_result config_load(struct config *cfg, int argc, char **argv)
{
    struct option longopts[N_SETTINGS + 3];
    int bad = 0;
    int c;

    if (set_defaults(cfg) < 0)
        bad = 1;
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const char *v = getenv(settings[i].env);
        if (v != NULL && apply(cfg, settings[i].id, v, settings[i].env) < 0)
            bad = 1;
        longopts[i] =
            (struct option){settings[i].flag, settings[i].arg ? required_argument : no_argument,
                            NULL, settings[i].id};
    }
    longopts[N_SETTINGS] = (struct option){"help", no_argument, NULL, 'h'};
    longopts[N_SETTINGS + 1] = (struct option){"version", no_argument, NULL, 'V'};
    longopts[N_SETTINGS + 2] = (struct option){0};

    optind = 1;
    while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
        if (c == 'h') {
            print_usage();
            return CONFIG_EXIT_OK;
        }
        if (c == 'V') {
            printf("exptrackd %s\n", EXPTRACK_VERSION);
            return CONFIG_EXIT_OK;
        }
        if (c == '?' || c == ':') {
            bad = 1;
            continue;
        }
        char source[64];
        snprintf(source, sizeof source, "--%s", longopts[c - 1].name);
        if (apply(cfg, (enum opt_id)c, optarg ? optarg : "1", source) < 0)
            bad = 1;
    }
    if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL)) {
        fprintf(stderr, "exptrackd: --tls-cert and --tls-key go together\n");
        bad = 1;
    }
    if (optind < argc) {
        fprintf(stderr, "exptrackd: unexpected argument \"%s\" (see --help)\n", argv[optind]);
        bad = 1;
    }
    return bad ? CONFIG_EXIT_USAGE : CONFIG_OK;
}

void config_cleanup(struct config *cfg)
{
    free(cfg->host);
    free(cfg->database_url);
    free(cfg->data_dir);
    free(cfg->web_dir);
    free(cfg->admin_password_file);
    free(cfg->default_permission);
    free(cfg->allowed_hosts);
    free(cfg->tls_cert);
    free(cfg->tls_key);
    free(cfg->webhook_schemes);
    free(cfg->webhook_key_file);
    for (int i = 0; i < cfg->n_read_database_urls; i++)
        free(cfg->read_database_urls[i]);
    memset(cfg, 0, sizeof *cfg);
}
