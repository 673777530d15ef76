/* Paused requests. A handler that waits for another thread (a group
 * commit, a live event) need not hold its HTTP worker thread: the HTTP
 * layer pauses the connection and the other thread resumes it through the
 * request's wake handle. The handle is an interface (struct wake_ops) that
 * the HTTP layer implements; request.c only forwards to it. */
#ifndef ET_SERVER_WAKE_H
#define ET_SERVER_WAKE_H

#include "request.h"

/* The operations behind a wake handle, implemented by the HTTP layer. */
struct wake_ops {
    void (*up)(struct wake *w);    /* see wake_up */
    void (*unref)(struct wake *w); /* see wake_unref */
};

/* A reference-counted handle on one request's connection. The HTTP layer
 * embeds this as the first member of its own handle. */
struct wake {
    const struct wake_ops *ops;
};

/* A new reference to the request's wake handle, made on the first call
 * (one handle per request). Call from the handler, on the HTTP worker
 * thread, of a request that came through the HTTP layer (req->ops set).
 * Drop it with wake_unref. */
struct wake *request_wake(const struct request *req);

/* From any thread: resumes the request's connection if it is paused, or
 * remembers the wake-up so that its next pause returns at once. A no-op
 * once the connection has closed. Takes only a short lock. */
void wake_up(struct wake *w);

/* Drops a reference; the handle is freed with the last one. NULL is a no-op. */
void wake_unref(struct wake *w);

#endif
