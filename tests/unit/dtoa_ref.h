/* The pre-issue-21 double encoder (tests/unit/dtoa_ref.c), for tests and
 * benchmarks only. */
#ifndef ET_TESTS_UNIT_DTOA_REF_H
#define ET_TESTS_UNIT_DTOA_REF_H

#include <stddef.h>

/* Writes v as jw_double_text wrote it at commit 6acbad1 into out (>= 32
 * bytes, not NUL-terminated) and returns its length. */
size_t dtoa_ref_double_text(char *out, double v);

#endif
