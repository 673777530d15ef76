/* Replies for failed store calls: one mapping of the store's outcome codes
 * onto the wire's errors, shared by auth and every domain. */
#include "reply_store.h"

#include <stdio.h>

#include "store_status.h"

void reply_store_error(struct reply *r, int rc, const char *not_found_message)
{
    switch (rc) {
    case DB_NOT_FOUND:
        reply_error(r, ERR_RESOURCE_DOES_NOT_EXIST, "%s", not_found_message);
        return;
    case DB_UNAVAILABLE:
        reply_error(r, ERR_TEMPORARILY_UNAVAILABLE,
                    "the database is unavailable; retry in a moment");
        return;
    case DB_TIMEOUT:
        reply_error(r, ERR_TEMPORARILY_UNAVAILABLE, "the database did not answer in time");
        return;
    case DB_INVALID:
        reply_error(r, ERR_BAD_REQUEST, "a value was rejected by the database");
        return;
    case DB_RETRY:
        reply_error(r, ERR_TEMPORARILY_UNAVAILABLE,
                    "the write conflicted with concurrent writes; retry it");
        return;
    case DB_DISK_FULL:
        reply_error(r, ERR_RESOURCE_EXHAUSTED,
                    "the database is out of disk space; this request changed nothing. Retry "
                    "once an operator has freed space");
        return;
    default:
        reply_error(r, ERR_INTERNAL_ERROR, "internal database error");
        return;
    }
}

void reply_store_experiment_not_found(struct reply *r, int rc, int64_t id)
{
    char msg[96];
    snprintf(msg, sizeof msg, "No Experiment with id=%lld exists", (long long)id);
    reply_store_error(r, rc, msg);
}
