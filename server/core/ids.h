/* Identifiers the server makes: run ids (libuuid), random run names, and
 * the hex text of digests and random tokens. */
#ifndef ET_SERVER_IDS_H
#define ET_SERVER_IDS_H

#include <stddef.h>

/* Writes a new random run id, 32 lowercase hex digits, into out. */
void ids_new_run_id(char out[33]);

/* Writes a random "adjective-noun-N" run name of at most 20 characters. */
void ids_random_run_name(char *out, size_t len);

/* Writes the n bytes of in as 2n lowercase hex digits and a NUL into out
 * (2n + 1 bytes). */
void ids_hex(const unsigned char *in, size_t n, char *out);

#endif
