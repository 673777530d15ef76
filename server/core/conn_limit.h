/* Counts open client connections, in total and per client address, against
 * two limits. The HTTP glue asks here when a connection opens whether it
 * may be served, and tells here when a counted one closes. */
#ifndef ET_SERVER_CORE_CONN_LIMIT_H
#define ET_SERVER_CORE_CONN_LIMIT_H

#include <sys/socket.h>

/* A client address as the per-address count keys it. */
struct conn_addr {
    int family; /* AF_INET or AF_INET6; 0: unknown (counted in total only) */
    unsigned char bytes[16];
};

/* Why a connection was not admitted. */
enum conn_verdict {
    CONN_ADMITTED = 0,
    CONN_OVER_TOTAL,  /* the server's limit */
    CONN_OVER_PER_IP, /* its address's limit */
};

/* Sets the limits (at least 1 each). Call before the first connection. */
void conn_limit_configure(long max_total, long max_per_ip);

/* The key of a socket address (NULL or another family: family 0). */
void conn_addr_of(const struct sockaddr *sa, struct conn_addr *out);

/* Admits a new connection from addr and counts it, or returns why not
 * (then nothing is counted). Thread-safe. */
enum conn_verdict conn_limit_enter(const struct conn_addr *addr);

/* A connection conn_limit_enter admitted closed. Thread-safe. */
void conn_limit_leave(const struct conn_addr *addr);

/* Connections admitted and not yet closed. */
long conn_limit_open(void);

#endif
