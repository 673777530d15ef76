/* libexptrack benchmark: the cost of et_log_metric() as seen by a training
 * loop, and end-to-end delivery from one process.
 *
 *   usage: client_bench URL [CALLS]        (CALLS default 10,000,000)
 *
 * Calls are made in rounds of up to 1M (the buffer holds a round, so the
 * figure is the call's cost, not back-pressure), timed in blocks of 1,000
 * calls; "ns/call" is the median block time / 1,000. After each round the
 * bench waits for the flush. End-to-end points/s = CALLS / (time from the
 * first call until the last point was acknowledged by the server). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <exptrack.h>

#define BLOCK 1000
#define ROUND 1000000

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    et_options o;
    et_client *c;
    et_run *run;
    et_stats st;

    if (argc < 2) {
        fprintf(stderr, "usage: %s URL [CALLS]\n", argv[0]);
        return 2;
    }
    int64_t calls = argc > 2 ? strtoll(argv[2], NULL, 10) : 10000000;
    calls -= calls % BLOCK;
    int64_t *blocks = malloc((size_t)(calls / BLOCK) * sizeof *blocks);
    et_options_init(&o);
    o.url = argv[1];
    o.buffer_points = ROUND + BLOCK;
    o.flush_timeout_ms = 600000;
    if (blocks == NULL || et_client_new_opts(&o, &c) != ET_OK ||
        et_run_start(c, "client-bench", "bench", &run) != ET_OK) {
        fprintf(stderr, "client_bench: setup failed: %s\n", et_last_error());
        return 1;
    }
    int64_t nb = 0, step = 0, start = now_ns(), flush_ns = 0;
    while (step < calls) {
        int64_t round_end = step + ROUND < calls ? step + ROUND : calls;
        while (step < round_end) {
            int64_t t0 = now_ns();
            for (int i = 0; i < BLOCK; i++, step++)
                (void)et_log_metric(run, "loss", (double)step * 1e-6, step);
            blocks[nb++] = now_ns() - t0;
        }
        int64_t f0 = now_ns();
        if (et_run_flush(run, 600000) != ET_OK) {
            fprintf(stderr, "client_bench: flush timed out\n");
            return 1;
        }
        flush_ns += now_ns() - f0;
    }
    int64_t total = now_ns() - start;
    qsort(blocks, (size_t)nb, sizeof *blocks, cmp_i64);
    et_client_stats(c, &st);
    double median = (double)blocks[nb / 2] / BLOCK, p99 = (double)blocks[nb * 99 / 100] / BLOCK;
    printf("calls               %" PRId64 "\n", calls);
    printf("ns/call median      %.1f\n", median);
    printf("ns/call p99 block   %.1f\n", p99);
    printf("end-to-end points/s %.0f\n", (double)calls / ((double)total / 1e9));
    printf("log-batch requests  %" PRIu64 " (%.0f points each)\n", st.requests,
           st.requests ? (double)st.delivered / (double)st.requests : 0.0);
    printf("delivered %" PRIu64 " spooled %" PRIu64 " dropped %" PRIu64 " retries %" PRIu64 "\n",
           st.delivered, st.spooled, st.dropped, st.retries);
    printf("BENCH client_ns_per_call=%.1f client_points_per_s=%.0f\n", median,
           (double)calls / ((double)total / 1e9));
    (void)flush_ns;
    int rc = et_run_end(run, ET_RUN_FINISHED);
    et_client_free(c);
    free(blocks);
    return rc == ET_OK && st.delivered == (uint64_t)calls ? 0 : 1;
}
