/* Micro-benchmark and one-off checker of the double encoder (issue 21):
 * jw_double_text (core/dtoa.c's digits) against the encoder before issue
 * 21 (tests/unit/dtoa_ref.c, kept for tests).
 *
 *   dtoa_bench [N]                 ns per double, old and new, on N values
 *                                  (default 2,000,000) of each kind, in
 *                                  alternating rounds; CPU time (the
 *                                  process's), so a loaded machine slows
 *                                  both alike and the ratio holds
 *   dtoa_bench --compare N [SEED]  writes N random doubles (of every kind
 *                                  below, in turn) with both and counts the
 *                                  texts that differ; exits 1 if any does
 *
 * Kinds: uniform in [0, 1) (training curves: 16-17 digits), random bit
 * patterns (every exponent), short decimals (0.75, 3e-4: few digits), and
 * floats widened to double (what float32 models log). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json_writer.h"
#include "dtoa_ref.h"

#define KINDS 4
#define ROUNDS 5

static const char *kind_names[KINDS] = {"uniform [0,1)", "random bits", "short decimals",
                                        "float32 widened"};

static uint64_t xorshift(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* A random double of the given kind (finite). */
static double make_value(int kind, uint64_t *x)
{
    uint64_t u = xorshift(x);
    double v;
    switch (kind) {
    case 0:
        return (double)(u >> 11) / 9007199254740992.0;
    case 1:
        memcpy(&v, &u, sizeof v);
        return isfinite(v) ? v : (double)(u >> 11);
    case 2: {
        char text[40];
        snprintf(text, sizeof text, "%" PRIu64 "e%d", u % 100000, (int)(u >> 40) % 20 - 12);
        return strtod(text, NULL);
    }
    default: {
        uint32_t b = (uint32_t)(u >> 33);
        float f;
        memcpy(&f, &b, sizeof f);
        return isfinite(f) ? f : 1.5;
    }
    }
}

static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* CPU ns per double of one pass of enc over vs; adds the lengths to *sink
 * so the calls cannot be dropped. */
static double pass(size_t (*enc)(char *, double), const double *vs, long n, size_t *sink)
{
    char text[JW_DOUBLE_MAX];
    double t0 = cpu_ns();
    for (long i = 0; i < n; i++)
        *sink += enc(text, vs[i]) + (size_t)text[1];
    return (cpu_ns() - t0) / (double)n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int bench(long n)
{
    double *vs = malloc(sizeof *vs * (size_t)n);
    if (vs == NULL)
        return 1;
    size_t sink = 0;
    uint64_t x = 0x9e3779b97f4a7c15u;
    printf("%-16s %10s %10s %7s   (median of %d alternating rounds, CPU ns/double)\n", "kind",
           "old", "new", "new/old", ROUNDS);
    for (int kind = 0; kind < KINDS; kind++) {
        for (long i = 0; i < n; i++)
            vs[i] = make_value(kind, &x);
        double old_ns[ROUNDS], new_ns[ROUNDS];
        for (int r = 0; r < ROUNDS; r++) {
            old_ns[r] = pass(dtoa_ref_double_text, vs, n, &sink);
            new_ns[r] = pass(jw_double_text, vs, n, &sink);
        }
        qsort(old_ns, ROUNDS, sizeof old_ns[0], cmp_double);
        qsort(new_ns, ROUNDS, sizeof new_ns[0], cmp_double);
        double o = old_ns[ROUNDS / 2], w = new_ns[ROUNDS / 2];
        printf("%-16s %10.1f %10.1f %7.2f\n", kind_names[kind], o, w, w / o);
    }
    free(vs);
    return sink == 0;
}

static int compare(long n, uint64_t seed)
{
    uint64_t x = seed ? seed : 1;
    long differ = 0;
    char got[JW_DOUBLE_MAX + 1], want[JW_DOUBLE_MAX + 1];
    for (long i = 0; i < n; i++) {
        double v = make_value((int)(i % KINDS), &x);
        size_t a = jw_double_text(got, v), b = dtoa_ref_double_text(want, v);
        if (a != b || memcmp(got, want, a) != 0) {
            got[a] = want[b] = '\0';
            if (differ++ < 20)
                printf("differ: %a new %s old %s\n", v, got, want);
        }
    }
    printf("compared %ld doubles (seed %" PRIu64 "): %ld texts differ\n", n, seed, differ);
    return differ != 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "--compare") == 0)
        return compare(atol(argv[2]), argc > 3 ? strtoull(argv[3], NULL, 0) : 1);
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    if (n < 1) {
        fprintf(stderr, "usage: dtoa_bench [N] | dtoa_bench --compare N [SEED]\n");
        return 2;
    }
    return bench(n);
}
