/* exptrackd gc: removes artifact blobs that no file references any more
 * (overwritten, deleted, or their run permanently deleted) and the chunks of
 * uploads that died without cleaning up. Safe to run while servers take
 * uploads: see store_artifact_gc for the locking. */
#include "gc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "db/db.h"
#include "core/log.h"
#include "db/db_cli.h"
#include "store_artifacts.h"

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
    struct db_cli cli;
    struct artifact_gc_stats st;
    int status;

    if (db_cli_open(&cli, "gc", argc, argv, &status) < 0)
        goto out;
    status = 1;
    int grace = grace_seconds();
    if (grace < 0)
        goto out;
    int rc = store_artifact_gc(grace, &st);
    if (rc != DB_OK) {
        log_error("gc: failed (%d)", rc);
        goto out;
    }
    printf("gc: removed %lld unreferenced blobs (%lld bytes) and %lld abandoned uploads\n",
           (long long)st.blobs, (long long)st.bytes, (long long)st.pending);
    status = 0;
out:
    db_cli_close(&cli);
    return status;
}
