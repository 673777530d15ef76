/* Small helpers shared by the benchmark programs (loadgen, mixed_load,
 * search_gen): argument parsing, latency percentiles, CPU time and the
 * fixed-width numbers that let a request body be rewritten in place. */
#ifndef ET_BENCH_UTIL_H
#define ET_BENCH_UTIL_H

#include <stddef.h>
#include <time.h>

/* The metric request templates' fixed-width step and timestamp fields
 * (bench_put_fixed rewrites them in place) and the timestamp of step 0. */
#define BENCH_STEP_WIDTH 13
#define BENCH_TS_WIDTH 14
#define BENCH_TS_BASE 1700000000000LL

/* Parses a whole decimal number in [min, max] into *out; 0, or -1 when s
 * is not one. */
int bench_parse_long(const char *s, long min, long max, long *out);

/* qsort comparator for doubles, ascending. */
int bench_cmp_double(const void *a, const void *b);

/* The q-quantile (0..1, nearest rank) of n ascending values; 0 when n is 0. */
double bench_percentile(const double *sorted, size_t n, double q);

/* Seconds from a to b (CLOCK_MONOTONIC readings). */
double bench_seconds(const struct timespec *a, const struct timespec *b);

/* User plus system CPU seconds of this process so far. */
double bench_cpu_seconds(void);

/* Writes v (>= 0) right-aligned in exactly width characters, padded with
 * spaces (JSON allows them around a number); -1 when it does not fit or
 * v is negative. */
int bench_put_fixed(char *dst, int width, long long v);

#endif
