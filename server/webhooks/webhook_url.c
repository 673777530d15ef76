/* Webhook URL checks: the scheme allow-list, a host, and public addresses
 * only (unless allowed otherwise). Parsing is libcurl's URL parser, the same
 * one that later sends the request. */
#include "webhook_url.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static char schemes_list[256] = "https";
static int allow_private;

void webhook_url_configure(const char *schemes, int allow_private_ips)
{
    snprintf(schemes_list, sizeof schemes_list, "%s", schemes ? schemes : "https");
    allow_private = allow_private_ips;
}

static int scheme_allowed(const char *scheme)
{
    const char *p = schemes_list;
    size_t n = strlen(scheme);
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t len = strcspn(p, ", ");
        if (len == n && strncasecmp(p, scheme, n) == 0)
            return 1;
        p += len;
    }
    return 0;
}

/* Whether addr (bits high-first) starts with the prefix of plen bits. */
static int in_prefix(const unsigned char *addr, const unsigned char *prefix, int plen)
{
    for (int i = 0; i < plen; i++) {
        int bit = 7 - i % 8;
        if (((addr[i / 8] >> bit) & 1) != ((prefix[i / 8] >> bit) & 1))
            return 0;
    }
    return 1;
}

static int v4_public(const unsigned char *a)
{
    static const struct {
        unsigned char p[4];
        int len;
    } blocked[] = {
        {{0, 0, 0, 0}, 8},      {{10, 0, 0, 0}, 8},     {{100, 64, 0, 0}, 10},
        {{127, 0, 0, 0}, 8},    {{169, 254, 0, 0}, 16}, {{172, 16, 0, 0}, 12},
        {{192, 0, 0, 0}, 24},   {{192, 0, 2, 0}, 24},   {{192, 88, 99, 0}, 24},
        {{192, 168, 0, 0}, 16}, {{198, 18, 0, 0}, 15},  {{198, 51, 100, 0}, 24},
        {{203, 0, 113, 0}, 24}, {{224, 0, 0, 0}, 4},    {{240, 0, 0, 0}, 4},
    };
    for (size_t i = 0; i < sizeof blocked / sizeof blocked[0]; i++)
        if (in_prefix(a, blocked[i].p, blocked[i].len))
            return 0;
    return 1;
}

int webhook_ip_is_public(const unsigned char *addr, size_t len)
{
    if (len == 4)
        return v4_public(addr);
    if (len != 16)
        return 0;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char zero[12] = {0};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
    if (memcmp(addr, mapped, 12) == 0 || memcmp(addr, nat64, 12) == 0)
        return v4_public(addr + 12);
    if (memcmp(addr, zero, 12) == 0)
        return 0; /* ::, ::1 and the old IPv4-compatible form */
    static const struct {
        unsigned char p[16];
        int len;
    } blocked[] = {
        {{0xfc}, 7},                    /* unique local */
        {{0xfe, 0x80}, 10},             /* link-local */
        {{0xfe, 0xc0}, 10},             /* site-local (deprecated) */
        {{0xff}, 8},                    /* multicast */
        {{0x20, 0x01, 0x0d, 0xb8}, 32}, /* documentation */
        {{0x01, 0x00}, 64},             /* discard */
        {{0x20, 0x01, 0x00, 0x00}, 23}, /* IETF protocol assignments */
        {{0x20, 0x02}, 16},             /* 6to4 */
    };
    for (size_t i = 0; i < sizeof blocked / sizeof blocked[0]; i++)
        if (in_prefix(addr, blocked[i].p, blocked[i].len))
            return 0;
    return 1;
}

/* Resolves host and checks every address. 0 with pin set, or -1 with why. */
static int check_host(const char *host, int port, char *why, size_t why_len, char *pin,
                      size_t pin_len)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *list = NULL;
    char text[INET6_ADDRSTRLEN] = "";
    char bare[256];

    /* libcurl gives IPv6 literals in brackets */
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']')
        snprintf(bare, sizeof bare, "%.*s", (int)(n - 2), host + 1);
    else
        snprintf(bare, sizeof bare, "%s", host);
    if (getaddrinfo(bare, NULL, &hints, &list) != 0 || list == NULL) {
        snprintf(why, why_len, "Webhook URL host '%.200s' could not be resolved.", bare);
        return -1;
    }
    int rc = 0;
    for (struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next) {
        const unsigned char *a;
        size_t len;
        if (ai->ai_family == AF_INET) {
            a = (const unsigned char *)&((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr;
            len = 4;
        } else if (ai->ai_family == AF_INET6) {
            a = (const unsigned char *)&((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr;
            len = 16;
        } else {
            continue;
        }
        inet_ntop(ai->ai_family, a, text, sizeof text);
        if (!allow_private && !webhook_ip_is_public(a, len)) {
            snprintf(why, why_len,
                     "Webhook URL must not resolve to a non-public IP address: '%.200s' resolves "
                     "to %s.",
                     bare, text);
            rc = -1;
            break;
        }
        if (pin[0] == '\0')
            snprintf(pin, pin_len, "%s:%d:%s%s%s", host, port, len == 16 ? "[" : "", text,
                     len == 16 ? "]" : "");
    }
    freeaddrinfo(list);
    if (rc < 0)
        pin[0] = '\0';
    return rc;
}

int webhook_url_check(const char *url, char *why, size_t why_len, char *pin, size_t pin_len)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc = -1;

    pin[0] = '\0';
    if (u == NULL) {
        snprintf(why, why_len, "Webhook URL could not be checked.");
        return -1;
    }
    if (url[strspn(url, " \t\r\n")] == '\0') {
        snprintf(why, why_len, "Webhook URL cannot be empty.");
        goto out;
    }
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
        snprintf(why, why_len, "Invalid webhook URL: '%.300s'.", url);
        goto out;
    }
    if (!scheme_allowed(scheme)) {
        snprintf(why, why_len, "Invalid webhook URL scheme '%.50s'. Allowed schemes are: %s.",
                 scheme, schemes_list);
        goto out;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host == NULL || host[0] == '\0') {
        snprintf(why, why_len, "Webhook URL must have a host: '%.300s'.", url);
        goto out;
    }
    if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK || port == NULL) {
        snprintf(why, why_len, "Invalid webhook URL port: '%.300s'.", url);
        goto out;
    }
    rc = check_host(host, atoi(port), why, why_len, pin, pin_len);
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}
