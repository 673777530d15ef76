/* A training-loop stand-in the fault tests drive: starts a run (retrying
 * while the server is down), logs N points of metric "x" (step i, value i)
 * spread over DURATION_MS, then either ends the run ("end") or flushes and
 * waits to be killed ("hold"). Prints the run id, then a stats line.
 *
 *   usage: client_fault_logger URL EXPERIMENT N DURATION_MS SPOOL_DIR SPOOL_AFTER_MS end|hold */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <exptrack.h>

static void print_stats(const char *what, et_client *c)
{
    et_stats s;
    et_client_stats(c, &s);
    printf("%s {\"queued\":%" PRIu64 ",\"delivered\":%" PRIu64 ",\"spooled\":%" PRIu64
           ",\"replayed\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"retries\":%" PRIu64 "}\n",
           what, s.queued, s.delivered, s.spooled, s.replayed, s.dropped, s.retries);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    et_options o;
    et_client *c;
    et_run *run;

    if (argc != 8) {
        fprintf(stderr,
                "usage: %s URL EXPERIMENT N DURATION_MS SPOOL_DIR SPOOL_AFTER_MS end|hold\n",
                argv[0]);
        return 2;
    }
    long n = strtol(argv[3], NULL, 10), duration = strtol(argv[4], NULL, 10);
    et_options_init(&o);
    o.url = argv[1];
    o.spool_dir = argv[5];
    o.spool_after_ms = (int)strtol(argv[6], NULL, 10);
    o.flush_timeout_ms = 120000;
    o.control_retry_ms = 120000;
    o.flush_interval_ms = 200;
    int rc = et_client_new_opts(&o, &c);
    if (rc == ET_OK)
        rc = et_run_start(c, argv[2], "fault", &run);
    if (rc != ET_OK) {
        fprintf(stderr, "fault_logger: start: %s (%s)\n", et_strerror(rc), et_last_error());
        return 1;
    }
    printf("run %s\n", et_run_id(run));
    fflush(stdout);
    long chunk = n / 100 > 0 ? n / 100 : 1;
    for (long i = 0; i < n; i++) {
        if ((rc = et_log_metric(run, "x", (double)i, i)) != ET_OK) {
            fprintf(stderr, "fault_logger: log: %s\n", et_strerror(rc));
            return 1;
        }
        if (i % chunk == chunk - 1) {
            struct timespec ts = {0, (duration / 100) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    print_stats("logged", c);
    if (strcmp(argv[7], "hold") == 0) {
        rc = et_run_flush(run, 120000);
        print_stats(rc == ET_OK ? "flushed" : "flush-timeout", c);
        for (;;)
            pause();
    }
    rc = et_run_end(run, ET_RUN_FINISHED);
    print_stats(rc == ET_OK ? "ended" : "end-failed", c);
    et_client_free(c);
    return rc == ET_OK ? 0 : 1;
}
