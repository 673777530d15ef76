/* Running a handler's store call through the group commit: the request's
 * connection is paused until the transaction that holds the call has
 * committed (or failed), then the handler's answer fills the reply. */
#ifndef ET_SERVER_API_CALL_H
#define ET_SERVER_API_CALL_H

#include "db/store_call.h"
#include "routes.h"

struct group_write;

/* Embedded first in a handler's heap state. */
struct api_call {
    struct store_call call; /* built by a store_*_call function */
    struct group_write *gw;
    /* Reads call's outcome, fills r, then cleans up the call and frees the
     * state that embeds this struct. Runs exactly once. */
    void (*answer)(struct api_call *c, struct reply *r);
};

/* Runs c->call through the group commit, the reply deferred until it is
 * committed; without the group (off, stopping) or without an HTTP layer
 * (req->ops NULL), runs it at once. Either way c->answer(c, r) fills the
 * reply and frees c. */
void api_call_run(const struct request *req, struct api_call *c, struct reply *r);

#endif
