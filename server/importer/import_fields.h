/* Field readers the import API's handlers share (api_import.c,
 * api_import_lm.c): optional times and bounded optional strings, with the
 * contract's error in the reply. Decoding only; no SQL, no store calls. */
#ifndef ET_SERVER_IMPORTER_IMPORT_FIELDS_H
#define ET_SERVER_IMPORTER_IMPORT_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "core/input.h"
#include "core/reply.h"

/* The wall clock in ms since the epoch: the default of an absent time. */
int64_t import_fields_now_ms(void);

/* Reads the optional time field key (ms since the epoch, >= 0) into *out;
 * absent gives fallback. Returns JX_OK, or JX_BAD with the error (wrong
 * type, negative) in r. */
int import_fields_time(const struct input *in, const char *key, int64_t fallback, int64_t *out,
                       struct reply *r);

/* Reads the optional string field key of at most max code points into *out
 * (borrowed from in; "" when absent). Returns JX_OK, or JX_BAD with the
 * error (wrong type, too long) in r. */
int import_fields_text(const struct input *in, const char *key, size_t max, const char **out,
                       struct reply *r);

#endif
