/* Idempotency keys: claiming one inside a batch's transaction, and the
 * cleanup that rides on the write path (no thread of its own). */
#include "store_idempotency.h"

#include <stdatomic.h>

#include "db/db.h"

/* How long a key is remembered (an SQL interval), and how many keyed
 * batches pass between two cleanups. */
#define IDEMPOTENCY_KEY_TTL "24 hours"
#define IDEMPOTENCY_EXPIRE_EVERY 1000

int store_idempotency_claim(const char *key, int *replayed)
{
    const char *params[] = {key};
    PGresult *res = NULL;
    int rc = db_exec("INSERT INTO idempotency_keys (key) VALUES ($1)"
                     " ON CONFLICT (key) DO NOTHING RETURNING 1",
                     1, params, &res);
    if (rc != DB_OK)
        return rc;
    *replayed = PQntuples(res) == 0;
    PQclear(res);
    return DB_OK;
}

void store_idempotency_expire_tick(size_t n)
{
    static atomic_size_t counter;
    if (n == 0)
        return;
    size_t before = atomic_fetch_add(&counter, n);
    if (before / IDEMPOTENCY_EXPIRE_EVERY == (before + n) / IDEMPOTENCY_EXPIRE_EVERY)
        return;
    (void)db_exec(
        "DELETE FROM idempotency_keys WHERE created_at < now() - interval '" IDEMPOTENCY_KEY_TTL
        "'",
        0, NULL, NULL);
}
