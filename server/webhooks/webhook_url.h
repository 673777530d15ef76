/* The contract's URL rules for webhooks (mlflow-models-api.md 5.2): a
 * scheme from the allow-list, a host, and unless private addresses are
 * allowed, a host that resolves only to public (globally routable) IP
 * addresses. Checked when a webhook is created or changed and again before
 * every delivery. */
#ifndef ET_SERVER_WEBHOOKS_WEBHOOK_URL_H
#define ET_SERVER_WEBHOOKS_WEBHOOK_URL_H

#include <stddef.h>

/* Sets the allowed schemes (comma-separated, case-insensitive; copied) and
 * whether non-public addresses are allowed. Call before any thread uses
 * webhook_url_check. */
void webhook_url_configure(const char *schemes, int allow_private_ips);

/* Checks url. Returns 0 when it may be used, with pin (pin_len bytes) set
 * to "host:port:address" (a libcurl CURLOPT_RESOLVE entry that makes the
 * connection go to the address checked here, not to a later DNS answer) or
 * to "" when nothing is pinned. Returns -1 with a message for the client in
 * why (why_len bytes) otherwise. */
int webhook_url_check(const char *url, char *why, size_t why_len, char *pin, size_t pin_len);

/* Whether the IPv4 address (4 bytes) or IPv6 address (16 bytes) is public:
 * not loopback, private, link-local, shared, documentation, multicast,
 * reserved or unspecified. */
int webhook_ip_is_public(const unsigned char *addr, size_t len);

#endif
