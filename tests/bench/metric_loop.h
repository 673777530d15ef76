/* The single-point log-metric load of loadgen --log-metric: many keep-alive
 * connections driven from one thread by epoll, each logging into its own
 * run, as wrk drives its connections. One thread per connection (the
 * log-batch load) costs this 2-core machine a context switch per request on
 * the client side too, CPU the server under test then does not get. */
#ifndef ET_METRIC_LOOP_H
#define ET_METRIC_LOOP_H

#include <stddef.h>

struct metric_loop_result {
    unsigned long long requests; /* timed requests sent */
    unsigned long long errors;   /* of them, not answered 200 */
    unsigned long long warmup;   /* untimed points logged first (one per connection) */
    double seconds;              /* from the start to the last timed reply */
    double *lat_ms;              /* latency of each timed request answered 200 (malloc) */
    size_t nlat;
};

/* Opens one connection to url ("http://HOST:PORT", IPv4 or a name) per run
 * id, logs one untimed point on each (warm-up), then keeps every connection
 * busy with runs/log-metric of one point at increasing steps for duration
 * seconds, and waits for the replies in flight. Fills *out (free
 * out->lat_ms). Returns 0, or -1 when a connection could not be set up or
 * failed (logged). */
int metric_loop_run(const char *url, char *const *run_ids, int nconns, double duration,
                    struct metric_loop_result *out);

#endif
