/* Schema migrations: embedded SQL files applied in order under an advisory
 * lock, so two servers starting on one empty database both come up. A
 * database that a newer build has migrated past what this build knows is
 * refused: this build's statements would write rows without what the newer
 * schema's readers expect (schema 0028's block points, for one). */
#include "store_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "embedded.h"
#include "core/log.h"
#include "common/sbuf.h"

/* Any constant shared by every exptrackd; "exptrack" in ASCII. */
#define MIGRATE_LOCK_KEY "6878765658727565"

/* The version is the file name's leading number ("0001_init.sql" -> 1). */
static int file_version(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char *end;
    long v = strtol(base, &end, 10);
    return end != base && *end == '_' && v > 0 ? (int)v : -1;
}

static int is_applied(int version, int *applied)
{
    char buf[16];
    const char *params[] = {buf};
    PGresult *res;

    snprintf(buf, sizeof buf, "%d", version);
    if (db_exec("SELECT 1 FROM schema_migrations WHERE version = $1", 1, params, &res) != DB_OK)
        return -1;
    *applied = PQntuples(res) > 0;
    PQclear(res);
    return 0;
}

static int apply_one(const struct embedded_file *f, int version)
{
    char buf[16];
    const char *params[] = {buf, f->path};
    PGconn *conn = db_conn();

    if (conn == NULL || db_begin() != DB_OK)
        return -1;
    /* The file may hold many statements: simple-query protocol runs them all. */
    PGresult *res = PQexec(conn, (const char *)f->data);
    enum db_status st = db_result_status(conn, res, f->path);
    PQclear(res);
    if (st != DB_OK)
        goto fail;
    snprintf(buf, sizeof buf, "%d", version);
    if (db_exec("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", 2, params, NULL) !=
        DB_OK)
        goto fail;
    if (db_commit() != DB_OK)
        goto fail;
    log_info("applied migration %s", f->path);
    return 0;
fail:
    db_rollback();
    log_error("migration %s failed", f->path);
    return -1;
}

/* Fails with a message naming the first applied migration that this
 * build has no file for (a newer build applied it). */
static int check_not_newer(void)
{
    struct sbuf known;
    PGresult *res = NULL;
    int rc = -1;

    sbuf_init(&known);
    sbuf_addc(&known, '{');
    for (size_t i = 0; i < schema_files_count; i++)
        sbuf_addf(&known, "%s%d", i ? "," : "", file_version(schema_files[i].path));
    sbuf_addc(&known, '}');
    const char *params[] = {known.data};
    if (db_exec("SELECT version, name FROM schema_migrations WHERE version <> ALL($1::integer[])"
                " ORDER BY version LIMIT 1",
                1, params, &res) != DB_OK)
        goto out;
    if (PQntuples(res) > 0) {
        log_error(
            "the database has migration %s (%s), which this exptrackd does not know: a newer "
            "exptrackd has migrated it. Run that build or a newer one; stop every server of an "
            "older build before starting a newer one on the same database",
            PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
        goto out;
    }
    rc = 0;
out:
    PQclear(res);
    sbuf_cleanup(&known);
    return rc;
}

int store_schema_migrate(void)
{
    int rc = -1;
    int locked = 0;

    if (db_exec("SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", 0, NULL, NULL) != DB_OK)
        goto out;
    locked = 1;
    if (db_exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())",
                0, NULL, NULL) != DB_OK)
        goto out;
    for (size_t i = 0; i < schema_files_count; i++) {
        int version = file_version(schema_files[i].path);
        int applied;
        if (version < 0) {
            log_error("schema file %s has no NNNN_ version prefix", schema_files[i].path);
            goto out;
        }
        if (is_applied(version, &applied) < 0)
            goto out;
        if (!applied && apply_one(&schema_files[i], version) < 0)
            goto out;
    }
    if (check_not_newer() < 0)
        goto out;
    rc = 0;
out:
    if (locked)
        (void)db_exec("SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", 0, NULL, NULL);
    return rc;
}
