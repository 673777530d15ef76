/* The monotonic clock in milliseconds, for timing work and for deadlines
 * that must not move with the wall clock. */
#ifndef ET_CORE_CLOCK_H
#define ET_CORE_CLOCK_H

/* CLOCK_MONOTONIC now, in milliseconds (fractions kept). Never fails on
 * Linux; it does not move when the wall clock is set. */
double clock_ms(void);

#endif
