/* The digits of a double for the JSON writer (json_writer.h): the
 * decimal digits and exponent of a finite positive double, as Grisu2 picks
 * them, without the writer's formatting. Split from json_writer.c so the
 * digit search can be tested and measured on its own (issue 21). */
#ifndef ET_COMMON_DTOA_H
#define ET_COMMON_DTOA_H

/* Room dtoa_digits needs in buf (it writes at most 17 digits; the rest is
 * margin for the generic path's scratch). */
#define DTOA_DIGITS_MAX 24

#include <stdint.h>

/* 10^0 .. 10^19. */
extern const uint64_t dtoa_pow10[20];

/* "00" "01" .. "99": the two digits of n (< 100) at 2 * n. */
extern const char dtoa_digit_pairs[201];

/* The number of decimal digits of u (1 for 0). Inline: the JSON writer
 * counts every integer's digits with it. */
static inline int dtoa_u64_len(uint64_t u)
{
    u |= 1;
    int t = (64 - __builtin_clzll(u)) * 1233 >> 12; /* about log10(2^bits) */
    return t - (u < dtoa_pow10[t]) + 1;
}

/* Writes the decimal digits of v (finite, > 0) into buf (>= DTOA_DIGITS_MAX
 * bytes, not NUL-terminated), sets *k so that v reads back as
 * digits * 10^*k, and returns the digit count (1..17). The digits are
 * Grisu2's (Loitsch 2010, with 64-bit cached powers of ten): they read back
 * as exactly v, are the fewest that do for all but about 0.06% of doubles,
 * and, among those, the closest to v for all but about 0.03%. Every double
 * gets the same digits as the digit-by-digit Grisu2 of exptrack before
 * issue 21 (tests/unit/test_dtoa.c compares them); they are found by one
 * 128-bit product and a few divisions instead of one loop turn per digit.
 * No allocation, no locale, no global state. */
int dtoa_digits(double v, char *buf, int *k);

#endif
