/* The first admin: at start, the session key shared by every exptrackd of
 * the database, and the user 'admin' when there is none (password from
 * --admin-password-file, or generated and shown once). */
#include "auth.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_internal.h"
#include "core/ids.h"
#include "core/log.h"
#include "common/xalloc.h"

static char *read_password_file(const char *path)
{
    char line[1100];
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        log_error("cannot read --admin-password-file %s: %s", path, strerror(errno));
        return NULL;
    }
    char *got = fgets(line, sizeof line, f);
    fclose(f);
    if (got == NULL)
        line[0] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    char *out = xstrdup(line);
    OPENSSL_cleanse(line, sizeof line);
    return out;
}

int auth_bootstrap(const char *password_file)
{
    struct arena arena;
    struct user u;
    struct reply r;
    char *password = NULL, *hash = NULL;
    int rc = -1, generated = 0;

    arena_init(&arena);
    reply_init(&r);
    unsigned char candidate[32];
    if (RAND_bytes(candidate, sizeof candidate) != 1 ||
        store_auth_secret("session", candidate, auth_cfg.session_key) != DB_OK) {
        log_error("auth: cannot set up the session key");
        goto out;
    }
    OPENSSL_cleanse(candidate, sizeof candidate);
    int st = store_user_get("admin", &arena, &u);
    if (st == DB_OK) {
        rc = 0;
        goto out;
    }
    if (st != DB_NOT_FOUND)
        goto out;
    if (password_file != NULL) {
        password = read_password_file(password_file);
        if (password == NULL)
            goto out;
        if (auth_password_ok(password, &r) < 0) {
            log_error("--admin-password-file: the password must be at least %d characters",
                      AUTH_MIN_PASSWORD);
            goto out;
        }
    } else {
        unsigned char raw[18];
        if (RAND_bytes(raw, sizeof raw) != 1)
            goto out;
        password = xmalloc(2 * sizeof raw + 1);
        ids_hex(raw, sizeof raw, password);
        generated = 1;
    }
    hash = auth_hash_password(password);
    if (hash == NULL)
        goto out;
    st = store_user_create("admin", hash, 1, NULL);
    if (st == DB_EXISTS) { /* another exptrackd made it first */
        rc = 0;
        goto out;
    }
    if (st != DB_OK)
        goto out;
    /* Through the log, so that it is one line of the log's format (a JSON
     * line under --log-format json) and ordered with the others. */
    if (generated)
        log_warn("\n*** exptrackd created the user 'admin' with the password %s\n"
                 "*** it is shown only this once: change it with users/update-password",
                 password);
    else
        log_info("created the user 'admin'");
    rc = 0;
out:
    if (password != NULL) {
        OPENSSL_cleanse(password, strlen(password));
        free(password);
    }
    free(hash);
    reply_cleanup(&r);
    arena_cleanup(&arena);
    return rc;
}
