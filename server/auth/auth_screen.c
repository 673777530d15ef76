/* Screening, before anything else and with or without --auth: the Host
 * header against --allowed-hosts (DNS rebinding), the Origin of
 * state-changing requests (cross-site forgery), and the JSON depth. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "auth_internal.h"
#include "core/reply.h"

/* The host part of "name:port", "[v6]:port" or "name", lower-cased into out. */
static void host_name(const char *hostport, size_t len, char *out, size_t max)
{
    size_t n = len;
    if (len > 0 && hostport[0] == '[') {
        const char *close = memchr(hostport, ']', len);
        n = close ? (size_t)(close - hostport) + 1 : len;
    } else {
        const char *colon = memchr(hostport, ':', len);
        if (colon != NULL && memchr(colon + 1, ':', len - (size_t)(colon - hostport) - 1) == NULL)
            n = (size_t)(colon - hostport);
    }
    if (n >= max)
        n = max - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)hostport[i]);
    out[n] = '\0';
}

static int host_allowed(const char *hostport, size_t len)
{
    char name[256];
    if (auth_cfg.nhosts == 0)
        return 1;
    host_name(hostport, len, name, sizeof name);
    for (int i = 0; i < auth_cfg.nhosts; i++)
        if (strcmp(auth_cfg.hosts[i], name) == 0)
            return 1;
    return 0;
}

int auth_is_safe_method(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
           strcmp(method, "OPTIONS") == 0;
}

int auth_screen_origin(const struct request *req, struct reply *r)
{
    const char *host = request_header(req, "Host");
    if (host != NULL && !host_allowed(host, strlen(host))) {
        reply_error(r, ERR_PERMISSION_DENIED, "host '%.100s' is not allowed (see --allowed-hosts)",
                    host);
        return -1;
    }
    if (auth_is_safe_method(req->method))
        return 0;
    const char *site = request_header(req, "Sec-Fetch-Site");
    if (site != NULL && strcasecmp(site, "cross-site") == 0) {
        reply_error(r, ERR_PERMISSION_DENIED, "cross-site requests may not change anything");
        return -1;
    }
    const char *origin = request_header(req, "Origin");
    if (origin == NULL)
        return 0;
    const char *authority = strstr(origin, "://");
    authority = authority ? authority + 3 : origin;
    size_t alen = strcspn(authority, "/");
    int same = host != NULL && strlen(host) == alen && strncasecmp(host, authority, alen) == 0;
    if (!same &&
        (strcmp(origin, "null") == 0 || auth_cfg.nhosts == 0 || !host_allowed(authority, alen))) {
        reply_error(r, ERR_PERMISSION_DENIED, "cross-origin request from '%.100s' refused", origin);
        return -1;
    }
    return 0;
}

int auth_json_depth(const json_t *v, int limit)
{
    int deepest = 0;
    if (limit < 0)
        return 1;
    if (json_is_object(v)) {
        const char *k;
        const json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            int d = auth_json_depth(x, limit - 1);
            if (d > deepest)
                deepest = d;
            if (deepest > limit)
                break;
        }
        return deepest + 1;
    }
    if (json_is_array(v)) {
        size_t i;
        const json_t *x;
        json_array_foreach(v, i, x)
        {
            int d = auth_json_depth(x, limit - 1);
            if (d > deepest)
                deepest = d;
            if (deepest > limit)
                break;
        }
        return deepest + 1;
    }
    return 0;
}
