/* The HTTP server: libmicrohttpd glue. Reads each request (bounded body),
 * decodes its input into a JSON object, dispatches through the route table,
 * sends the reply and writes one access-log line. */
#ifndef ET_SERVER_HTTP_H
#define ET_SERVER_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct http_server;

/* How the request threads wait on their connections. epoll, the default,
 * stays cheap with many connections open and served mixed traffic (writes,
 * searches, artifact reads from 64 connections) 25% faster than poll() in
 * tests/bench/mixed.sh, but pays two epoll_ctl calls each time a request
 * waits for a group commit or a live event (libmicrohttpd takes a paused
 * connection out of the set). poll() skips those: about a third less CPU
 * per single-point log-metric while a few hundred connections or fewer are
 * open. */
enum http_event_loop { HTTP_EVENT_LOOP_POLL, HTTP_EVENT_LOOP_EPOLL };

struct http_options {
    const char *host; /* numeric IPv4/IPv6 address or "localhost" */
    int port;         /* 0: any free port */
    int threads;
    enum http_event_loop event_loop;
    size_t max_body;
    const char *tls_cert_pem; /* PEM certificate chain; NULL: plain HTTP */
    const char *tls_key_pem;  /* PEM private key, with tls_cert_pem */
    int header_timeout_s;     /* close a connection whose request headers are not complete
                                 this many seconds after it opened or its last request
                                 ended (plus the idle allowance); 0: never */
};

/* Starts listening and serving on a thread pool. Returns NULL (logged) when
 * the address cannot be bound. */
struct http_server *http_start(const struct http_options *opts);

/* The port actually bound (useful with port 0). */
int http_port(const struct http_server *s);

/* Stops accepting, lets in-flight requests finish, frees the server. */
void http_stop(struct http_server *s);

#endif
