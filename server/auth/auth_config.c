/* The configuration auth_configure sets once at start (auth_internal.h),
 * and the names of the experiment permissions. */
#include "auth.h"

#include <ctype.h>
#include <string.h>

#include "auth_internal.h"
#include "core/log.h"
#include "common/xalloc.h"

const char *const auth_perm_names[4] = {"NO_PERMISSIONS", "READ", "EDIT", "MANAGE"};

struct auth_config auth_cfg;

int auth_enabled(void)
{
    return auth_cfg.enabled;
}

const struct route *auth_routes(size_t *count)
{
    *count = auth_cfg.nroutes;
    return auth_cfg.routes;
}

int auth_perm_parse(const char *name, enum store_perm *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, auth_perm_names[i]) == 0) {
            *out = (enum store_perm)i;
            return 0;
        }
    }
    return -1;
}

static void add_host(const char *name, size_t len)
{
    if (auth_cfg.nhosts >= MAX_HOSTS || len == 0)
        return;
    char *h = xmalloc(len + 1);
    for (size_t i = 0; i < len; i++)
        h[i] = (char)tolower((unsigned char)name[i]);
    h[len] = '\0';
    auth_cfg.hosts[auth_cfg.nhosts++] = h;
}

int auth_configure(const struct auth_options *opts)
{
    size_t n = opts->nroutes;
    const struct route *table = opts->routes;
    int bad = 0;

    for (size_t i = 0; i < n; i++) {
        if (table[i].perm == PERM_UNSET) {
            log_error("route %s %s has no permission rule (server/routes.c)", table[i].method,
                      table[i].path);
            bad = 1;
        }
    }
    if (bad)
        return -1;
    auth_cfg.routes = table;
    auth_cfg.nroutes = n;
    auth_cfg.enabled = opts->enabled;
    auth_cfg.default_perm = opts->default_perm;
    auth_cfg.tls = opts->tls;
    if (auth_password_init() < 0)
        return -1;
    const char *list = opts->allowed_hosts;
    if (list == NULL && opts->loopback)
        list = "localhost,127.0.0.1,[::1],::1";
    if (list == NULL || strcmp(list, "*") == 0)
        return 0;
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        while (len > 0 && *p == ' ')
            p++, len--;
        add_host(p, len);
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}
