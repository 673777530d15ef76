/* Open connections per client address in a small chained hash table under
 * one lock: a connection's open and close each take it once, which costs
 * nothing next to the accept and the request it serves. */
#include "conn_limit.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

#define BUCKETS 1024

struct addr_count {
    struct conn_addr addr;
    long n;
    struct addr_count *next;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct addr_count *buckets[BUCKETS];
static long open_total;
static long limit_total = 4096;
static long limit_per_ip = 2048;

void conn_limit_configure(long max_total, long max_per_ip)
{
    pthread_mutex_lock(&mu);
    limit_total = max_total > 0 ? max_total : 1;
    limit_per_ip = max_per_ip > 0 ? max_per_ip : 1;
    pthread_mutex_unlock(&mu);
}

void conn_addr_of(const struct sockaddr *sa, struct conn_addr *out)
{
    memset(out, 0, sizeof *out);
    if (sa == NULL)
        return;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        out->family = AF_INET;
        memcpy(out->bytes, &in->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        out->family = AF_INET6;
        memcpy(out->bytes, &in6->sin6_addr, 16);
    }
}

static unsigned bucket_of(const struct conn_addr *a)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < sizeof a->bytes; i++)
        h = (h ^ a->bytes[i]) * 16777619u;
    return (h ^ (uint32_t)a->family) % BUCKETS;
}

/* The count of addr, NULL when it has none. With mu held. */
static struct addr_count **find(const struct conn_addr *a)
{
    struct addr_count **p = &buckets[bucket_of(a)];
    while (*p != NULL && ((*p)->addr.family != a->family ||
                          memcmp((*p)->addr.bytes, a->bytes, sizeof a->bytes) != 0))
        p = &(*p)->next;
    return p;
}

enum conn_verdict conn_limit_enter(const struct conn_addr *addr)
{
    enum conn_verdict v = CONN_ADMITTED;
    pthread_mutex_lock(&mu);
    if (open_total >= limit_total) {
        v = CONN_OVER_TOTAL;
        goto out;
    }
    if (addr->family != 0) {
        struct addr_count **p = find(addr);
        if (*p != NULL && (*p)->n >= limit_per_ip) {
            v = CONN_OVER_PER_IP;
            goto out;
        }
        if (*p == NULL) {
            *p = xcalloc(1, sizeof **p);
            (*p)->addr = *addr;
        }
        (*p)->n++;
    }
    open_total++;
out:
    pthread_mutex_unlock(&mu);
    return v;
}

void conn_limit_leave(const struct conn_addr *addr)
{
    pthread_mutex_lock(&mu);
    open_total--;
    if (addr->family != 0) {
        struct addr_count **p = find(addr);
        if (*p != NULL && --(*p)->n == 0) {
            struct addr_count *gone = *p;
            *p = gone->next;
            free(gone);
        }
    }
    pthread_mutex_unlock(&mu);
}

long conn_limit_open(void)
{
    pthread_mutex_lock(&mu);
    long n = open_total;
    pthread_mutex_unlock(&mu);
    return n;
}
