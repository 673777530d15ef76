/* Helpers shared by the benchmark programs (bench_util.h). */
#include "bench_util.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>

int bench_parse_long(const char *s, long min, long max, long *out)
{
    char *end;

    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_percentile(const double *sorted, size_t n, double q)
{
    if (n == 0)
        return 0.0;
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return sorted[i < n ? i : n - 1];
}

double bench_seconds(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

double bench_cpu_seconds(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

int bench_put_fixed(char *dst, int width, long long v)
{
    int i = width - 1;

    if (v < 0)
        return -1;
    do {
        dst[i--] = (char)('0' + v % 10);
        v /= 10;
    } while (v && i >= 0);
    while (i >= 0)
        dst[i--] = ' ';
    return v ? -1 : 0;
}
