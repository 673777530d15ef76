/* Webhook delivery: worker threads that drain the outbox (store_webhooks.h)
 * over HTTP with libcurl, sign each body, retry with backoff and record the
 * outcome in the outbox row; and the one-off send the test endpoint uses.
 * Knows nothing of the API layer. */
#ifndef ET_SERVER_WEBHOOKS_DELIVERY_H
#define ET_SERVER_WEBHOOKS_DELIVERY_H

#include <stddef.h>

#define WEBHOOK_MAX_WORKERS 4

struct webhook_options {
    const char *allowed_schemes; /* comma-separated, e.g. "https" */
    int allow_private_ips;       /* 1: skip the public-address check */
    int timeout_s;               /* per request */
    int max_retries;             /* attempts after the first */
    int workers;                 /* delivery threads, 1..WEBHOOK_MAX_WORKERS */
    const char *secret_key_file; /* seals secrets at rest (secret_box.h); NULL: none */
};

/* Configures the URL checks and the secrets' key and starts the delivery
 * threads. Returns 0, or -1 (logged) when the key file is bad or a thread
 * cannot start. */
int webhook_delivery_start(const struct webhook_options *o) __attribute__((warn_unused_result));

/* Stops the delivery threads: requests in flight are aborted and their
 * rows scheduled again (sent by the next start, of this or another
 * exptrackd); also aborts a test send in flight. Safe when never started. */
void webhook_delivery_stop(void);

/* Tells the delivery threads that outbox rows were committed (n of them),
 * so they look now instead of at the next poll (every second). Any thread. */
void webhook_delivery_kick(int n);

/* The outcome of one HTTP attempt. */
struct webhook_result {
    int sent;         /* 1: an HTTP response came back */
    long status;      /* its status */
    long retry_after; /* its Retry-After in seconds, -1 when absent */
    char body[1024];  /* the start of its body */
    char error[512];  /* when !sent: what went wrong */
};

/* Sends body to url once (after the URL check), with the delivery headers
 * and, when secret is non-empty, the signature. Blocks up to the timeout. */
void webhook_send(const char *url, const char *secret, const char *body,
                  struct webhook_result *out);

/* The signature header value for a delivery: "v1," + base64 of
 * HMAC-SHA256(secret, "<id>.<timestamp>.<body>"), into out (>= 64 bytes). */
void webhook_sign(const char *secret, const char *delivery_id, const char *timestamp,
                  const char *body, char *out, size_t out_len);

#endif
