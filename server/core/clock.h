/* The monotonic clock in milliseconds, for timing work and for deadlines
 * that must not move with the wall clock. */
#ifndef ET_CORE_CLOCK_H
#define ET_CORE_CLOCK_H

#include <time.h>

/* CLOCK_MONOTONIC now, in milliseconds (fractions kept). */
static inline double clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

#endif
