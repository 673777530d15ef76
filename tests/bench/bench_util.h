/* Small helpers shared by the benchmark programs (loadgen, mixed_load,
 * search_gen): argument parsing, latency percentiles, CPU time and the
 * fixed-width numbers that let a request body be rewritten in place. */
#ifndef ET_BENCH_UTIL_H
#define ET_BENCH_UTIL_H

#include <stddef.h>

/* Parses a whole decimal number in [min, max] into *out; 0, or -1 when s
 * is not one. */
int bench_parse_long(const char *s, long min, long max, long *out);

/* qsort comparator for doubles, ascending. */
int bench_cmp_double(const void *a, const void *b);

/* The q-quantile (0..1, nearest rank) of n ascending values; 0 when n is 0. */
double bench_percentile(const double *sorted, size_t n, double q);

/* User plus system CPU seconds of this process so far. */
double bench_cpu_seconds(void);

/* Writes v (>= 0) right-aligned in exactly width characters, padded with
 * spaces (JSON allows them around a number); -1 when it does not fit or
 * v is negative. */
int bench_put_fixed(char *dst, int width, long long v);

#endif
