/* exptrackd gc: removes artifact blobs that no file references any more
 * (overwritten, deleted, or their run permanently deleted) and the chunks of
 * uploads that died without cleaning up. Safe to run while servers take
 * uploads: see store_artifact_gc for the locking. */
#include "gc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "db/db.h"
#include "core/log.h"
#include "db/pg_embedded.h"
#include "store_artifacts.h"
#include "db/store_schema.h"

#define DEFAULT_GRACE_SECONDS 3600
#define MAX_GRACE_SECONDS (100L * 24 * 3600) /* 100 days: anything longer is a typo */

/* The grace period for silent uploads; far above the HTTP layer's 120 s idle
 * timeout, so a live upload always beats more often than that. */
static int grace_seconds(void)
{
    const char *s = getenv("EXPTRACK_GC_GRACE_SECONDS");
    char *end;

    if (s == NULL || s[0] == '\0')
        return DEFAULT_GRACE_SECONDS;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < 0 || v > MAX_GRACE_SECONDS) {
        fprintf(stderr, "exptrackd gc: invalid EXPTRACK_GC_GRACE_SECONDS \"%s\"\n", s);
        return -1;
    }
    return (int)v;
}

int gc_main(int argc, char **argv)
{
    struct config cfg;
    char *embedded = NULL;
    struct artifact_gc_stats st;
    int status = 1;

    enum config_result cr = config_load(&cfg, argc, argv);
    if (cr != CONFIG_OK) {
        config_cleanup(&cfg);
        return cr == CONFIG_EXIT_OK ? 0 : 2;
    }
    log_set_format(cfg.log_format);
    int grace = grace_seconds();
    if (grace < 0)
        goto out;
    const char *conninfo = cfg.database_url;
    if (conninfo == NULL) {
        if (pg_embedded_start(cfg.data_dir, &embedded) < 0)
            goto out; /* a running exptrackd holds it: use --database-url instead */
        conninfo = embedded;
    }
    db_configure(conninfo, 0); /* no statement timeout: big collections take long */
    if (db_ping() != DB_OK || store_schema_migrate() < 0) {
        log_error("gc: the database is not usable");
        goto out;
    }
    int rc = store_artifact_gc(grace, &st);
    if (rc != DB_OK) {
        log_error("gc: failed (%d)", rc);
        goto out;
    }
    printf("gc: removed %lld unreferenced blobs (%lld bytes) and %lld abandoned uploads\n",
           (long long)st.blobs, (long long)st.bytes, (long long)st.pending);
    status = 0;
out:
    db_thread_close();
    if (embedded != NULL)
        pg_embedded_stop();
    free(embedded);
    config_cleanup(&cfg);
    return status;
}
