/* Idempotency keys of log-batch requests (schema/0003_idempotency.sql): a
 * key is stored in the transaction of the batch it guards, so it exists
 * iff its batch was applied; a repeat is answered without being applied. */
#ifndef ET_SERVER_STORE_IDEMPOTENCY_H
#define ET_SERVER_STORE_IDEMPOTENCY_H

#include <stddef.h>

/* Records key in the caller's open transaction. *replayed = 1 when it was
 * stored already (a concurrent twin waits on its row lock, then sees it):
 * the caller then writes nothing. Returns DB_OK or the db_status. */
int store_idempotency_claim(const char *key, int *replayed);

/* Counts n more keyed batches applied and, on every 1,000th, deletes the
 * keys older than 24 hours (one indexed range delete). Call outside any
 * transaction, after the batches committed; failure only delays cleanup. */
void store_idempotency_expire_tick(size_t n);

#endif
