/* A training-loop stand-in the fault tests drive: starts RUNS runs (default
 * 1; retrying while the server is down), logs N points of metric "x" (step
 * i, value i) to each, the runs taking turns, spread over DURATION_MS, then
 * either ends the runs ("end") or flushes and waits to be killed ("hold").
 * Prints each run id ("run ID"), then a stats line.
 *
 *   usage: client_fault_logger URL EXPERIMENT N DURATION_MS SPOOL_DIR SPOOL_AFTER_MS end|hold
 *          [RUNS] */
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
    et_run *runs[64];

    if (argc != 8 && argc != 9) {
        fprintf(stderr,
                "usage: %s URL EXPERIMENT N DURATION_MS SPOOL_DIR SPOOL_AFTER_MS end|hold [RUNS]\n",
                argv[0]);
        return 2;
    }
    long n = strtol(argv[3], NULL, 10), duration = strtol(argv[4], NULL, 10);
    long nruns = argc == 9 ? strtol(argv[8], NULL, 10) : 1;
    if (nruns < 1 || nruns > 64) {
        fprintf(stderr, "fault_logger: RUNS must be 1..64\n");
        return 2;
    }
    et_options_init(&o);
    o.url = argv[1];
    o.spool_dir = argv[5];
    o.spool_after_ms = (int)strtol(argv[6], NULL, 10);
    o.flush_timeout_ms = 120000;
    o.control_retry_ms = 120000;
    o.flush_interval_ms = 200;
    int rc = et_client_new_opts(&o, &c);
    for (long r = 0; r < nruns && rc == ET_OK; r++) {
        rc = et_run_start(c, argv[2], "fault", &runs[r]);
        if (rc == ET_OK)
            printf("run %s\n", et_run_id(runs[r]));
    }
    if (rc != ET_OK) {
        fprintf(stderr, "fault_logger: start: %s (%s)\n", et_strerror(rc), et_last_error());
        return 1;
    }
    fflush(stdout);
    long chunk = n / 100 > 0 ? n / 100 : 1;
    for (long i = 0; i < n; i++) {
        for (long r = 0; r < nruns; r++) {
            if ((rc = et_log_metric(runs[r], "x", (double)i, i)) != ET_OK) {
                fprintf(stderr, "fault_logger: log: %s\n", et_strerror(rc));
                return 1;
            }
        }
        if (i % chunk == chunk - 1) {
            struct timespec ts = {0, (duration / 100) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    print_stats("logged", c);
    if (strcmp(argv[7], "hold") == 0) {
        rc = et_run_flush(runs[0], 120000);
        print_stats(rc == ET_OK ? "flushed" : "flush-timeout", c);
        for (;;)
            pause();
    }
    for (long r = 0; r < nruns; r++) {
        int end_rc = et_run_end(runs[r], ET_RUN_FINISHED);
        rc = rc == ET_OK ? end_rc : rc;
    }
    print_stats(rc == ET_OK ? "ended" : "end-failed", c);
    et_client_free(c);
    return rc == ET_OK ? 0 : 1;
}
