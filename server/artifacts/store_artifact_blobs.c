/* Blobs and chunks: streamed uploads (hashed as they come, one short
 * transaction per chunk under a pending blob, one transaction to commit),
 * chunked reads, and garbage collection. The pending-blob protocol is
 * described in schema/0004_artifacts.sql and store_artifacts.h. */
#include "store_artifacts.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/log.h"
#include "common/sbuf.h"
#include "db/store_util.h"
#include "common/xalloc.h"

#define MAX_TX_RETRIES 3
#define GC_BATCH "200"

/* Serialises commits to one run's (or model's) files (two-key advisory
 * lock, so it never meets the one-key lock of migrations): replacing a path
 * and the file-versus-directory check must see each other. */
#define RUN_LOCK_SQL "SELECT pg_advisory_xact_lock(1095914566, ($1::bigint % 2147483647)::int)"
#define MODEL_LOCK_SQL "SELECT pg_advisory_xact_lock(1095914567, hashtext($1))"

/* The chunk buffer starts this small and doubles up to a whole chunk, so an
 * upload that has sent little (or nothing yet) holds little memory. */
#define UPLOAD_BUF_MIN (64 * 1024)

struct artifact_upload {
    EVP_MD_CTX *md;
    char *buf; /* the chunk being filled; NULL until the first byte */
    size_t cap;
    size_t fill;
    int64_t size;     /* bytes received */
    int64_t blob_id;  /* the pending blob; 0 until the first full chunk */
    int32_t next_seq; /* chunks written */
};

struct artifact_upload *store_artifact_upload_new(void)
{
    struct artifact_upload *u = xcalloc(1, sizeof *u);
    u->md = EVP_MD_CTX_new();
    if (u->md == NULL || EVP_DigestInit_ex(u->md, EVP_sha256(), NULL) != 1) {
        log_error("cannot set up SHA-256");
        abort();
    }
    return u;
}

/* Makes room for fill + n bytes of the current chunk (n keeps it within a
 * chunk). */
static void reserve(struct artifact_upload *u, size_t n)
{
    size_t need = u->fill + n, cap = u->cap ? u->cap : UPLOAD_BUF_MIN;
    if (need <= u->cap)
        return;
    while (cap < need)
        cap *= 2;
    if (cap > ARTIFACT_CHUNK_SIZE)
        cap = ARTIFACT_CHUNK_SIZE;
    u->buf = xrealloc(u->buf, cap);
    u->cap = cap;
}

static void upload_free(struct artifact_upload *u)
{
    EVP_MD_CTX_free(u->md);
    free(u->buf);
    free(u);
}

int64_t store_artifact_upload_size(const struct artifact_upload *u)
{
    return u->size;
}

/* Creates the pending blob the upload's chunks hang off. */
static int create_pending(struct artifact_upload *u)
{
    char cs[16];
    const char *params[] = {cs};
    PGresult *res = NULL;

    snprintf(cs, sizeof cs, "%d", ARTIFACT_CHUNK_SIZE);
    int rc = db_exec("INSERT INTO artifact_blobs (chunk_size) VALUES ($1) RETURNING id", 1, params,
                     &res);
    if (rc != DB_OK)
        return rc;
    u->blob_id = su_int64(res, 0, 0);
    PQclear(res);
    return DB_OK;
}

/* Writes the buffered bytes as the next chunk of the pending blob and moves
 * its heartbeat, in one short transaction. DB_NOT_FOUND when gc took the
 * pending blob (its heartbeat had stopped for the grace period). The chunk
 * commits without waiting for its WAL flush: nothing refers to it until the
 * upload's final commit, which does wait, and WAL is flushed in order, so an
 * acknowledged file has all its chunks on disk. */
static int write_chunk(struct artifact_upload *u)
{
    char blob[24], seq[16];
    PGresult *res = NULL;
    int rc;

    snprintf(seq, sizeof seq, "%d", (int)u->next_seq);
    const char *params[] = {su_i64(blob, u->blob_id), seq, u->buf};
    const int lengths[] = {0, 0, (int)u->fill};
    const int formats[] = {0, 0, 1};
    if ((rc = db_begin()) != DB_OK)
        return rc;
    rc = db_exec("SET LOCAL synchronous_commit = off", 0, NULL, NULL);
    if (rc == DB_OK)
        rc = db_exec_bin("WITH live AS (UPDATE artifact_blobs SET heartbeat = now()"
                         "   WHERE id = $1 AND sha256 IS NULL RETURNING id)"
                         " INSERT INTO artifact_chunks (blob_id, seq, data)"
                         " SELECT id, $2, $3 FROM live RETURNING 1",
                         3, params, lengths, formats, &res);
    if (rc == DB_OK)
        rc = PQntuples(res) == 1 ? DB_OK : DB_NOT_FOUND;
    PQclear(res);
    if (rc == DB_OK)
        rc = db_commit();
    if (rc != DB_OK) {
        db_rollback();
        return rc;
    }
    u->next_seq++;
    u->fill = 0;
    return DB_OK;
}

int store_artifact_upload_write(struct artifact_upload *u, const char *buf, size_t len)
{
    if (len > 0 && EVP_DigestUpdate(u->md, buf, len) != 1)
        return DB_ERROR;
    u->size += (int64_t)len;
    while (len > 0) {
        size_t n = ARTIFACT_CHUNK_SIZE - u->fill;
        if (n > len)
            n = len;
        reserve(u, n);
        memcpy(u->buf + u->fill, buf, n);
        u->fill += n;
        buf += n;
        len -= n;
        if (u->fill < ARTIFACT_CHUNK_SIZE)
            break;
        int rc = u->blob_id == 0 ? create_pending(u) : DB_OK;
        if (rc == DB_OK)
            rc = write_chunk(u);
        if (rc != DB_OK)
            return rc;
    }
    return DB_OK;
}

/* Deletes a pending blob and its chunks (autocommit). */
static void drop_pending(int64_t blob_id)
{
    char blob[24];
    const char *params[] = {su_i64(blob, blob_id)};
    if (blob_id != 0)
        (void)db_exec("DELETE FROM artifact_blobs WHERE id = $1 AND sha256 IS NULL", 1, params,
                      NULL);
}

void store_artifact_upload_abort(struct artifact_upload *u)
{
    if (u == NULL)
        return;
    db_rollback();
    drop_pending(u->blob_id);
    upload_free(u);
}

/* Commit-time inputs that stay the same across retries. */
struct commit_args {
    struct artifact_upload *u;
    const struct artifact_owner *owner;
    const char *path;
    unsigned char digest[32];
    char size[24];
    char now[24];
};

/* The blob with this hash, locked against gc (FOR KEY SHARE); 0 if none. */
static int find_blob(const struct commit_args *a, int64_t *blob_id)
{
    const char *params[] = {(const char *)a->digest};
    const int lengths[] = {32};
    const int formats[] = {1};
    PGresult *res = NULL;

    *blob_id = 0;
    int rc = db_exec_bin("SELECT id FROM artifact_blobs WHERE sha256 = $1 FOR KEY SHARE", 1, params,
                         lengths, formats, &res);
    if (rc == DB_OK && PQntuples(res) > 0)
        *blob_id = su_int64(res, 0, 0);
    PQclear(res);
    return rc;
}

/* Makes the upload's bytes a named blob: the pending blob when there is
 * one, else a new blob with the buffered bytes (at most one chunk) as its
 * only chunk. DB_EXISTS when another commit named the same bytes first. */
static int name_blob(const struct commit_args *a, int64_t *blob_id)
{
    const struct artifact_upload *u = a->u;
    char pending[24], cs[16];
    PGresult *res = NULL;

    snprintf(cs, sizeof cs, "%d", ARTIFACT_CHUNK_SIZE);
    /* $3 is the pending blob, or the chunk size of a new one */
    const char *params[] = {(const char *)a->digest, a->size,
                            u->blob_id ? su_i64(pending, u->blob_id) : cs, u->buf};
    const int lengths[] = {32, 0, 0, (int)u->fill};
    const int formats[] = {1, 0, 0, 1};
    int rc;
    if (u->blob_id != 0)
        rc = db_exec_bin("UPDATE artifact_blobs SET sha256 = $1, size = $2"
                         " WHERE id = $3 AND sha256 IS NULL RETURNING id",
                         3, params, lengths, formats, &res);
    else
        rc = db_exec_bin("WITH b AS (INSERT INTO artifact_blobs (sha256, size, chunk_size)"
                         "   VALUES ($1, $2, $3) RETURNING id),"
                         " c AS (INSERT INTO artifact_chunks (blob_id, seq, data)"
                         "   SELECT id, 0, $4 FROM b WHERE $2::bigint > 0)"
                         " SELECT id FROM b",
                         4, params, lengths, formats, &res);
    if (rc != DB_OK)
        return rc;
    rc = PQntuples(res) == 1 ? DB_OK : DB_NOT_FOUND;
    if (rc == DB_OK)
        *blob_id = su_int64(res, 0, 0);
    PQclear(res);
    return rc;
}

/* Checks that the run is active (a model: that it exists) and the path
 * free, under the owner's lock. */
static int check_owner(const struct commit_args *a)
{
    const char *params[] = {a->owner->key};
    enum artifact_owner_kind kind = a->owner->kind;
    PGresult *res = NULL;

    /* models and traces share the text-keyed lock space (their ids differ) */
    int rc = db_exec(kind == ARTIFACT_OWNER_RUN ? RUN_LOCK_SQL : MODEL_LOCK_SQL, 1, params, NULL);
    if (rc == DB_OK)
        rc = db_exec(kind == ARTIFACT_OWNER_MODEL ? "SELECT 'active' FROM logged_models"
                                                    " WHERE model_id = $1"
                     : kind == ARTIFACT_OWNER_TRACE
                         ? "SELECT 'active' FROM traces"
                           " WHERE trace_id = $1 FOR KEY SHARE"
                         : "SELECT lifecycle_stage FROM runs WHERE id = $1",
                     1, params, &res);
    if (rc != DB_OK)
        return rc;
    if (PQntuples(res) == 0)
        rc = DB_NOT_FOUND;
    else if (!su_active(res, 0, 0))
        rc = DB_STATE;
    PQclear(res);
    return rc == DB_OK ? store_artifact_check_path(a->owner, a->path) : rc;
}

/* One attempt at the commit transaction. *reused: an existing blob was
 * linked, so the pending one is to be dropped. */
static int commit_once(const struct commit_args *a, int *reused)
{
    int64_t blob_id = 0;
    char sql[512];
    int rc;

    *reused = 0;
    if ((rc = db_begin()) != DB_OK)
        return rc;
    if ((rc = check_owner(a)) != DB_OK || (rc = find_blob(a, &blob_id)) != DB_OK)
        goto fail;
    *reused = blob_id != 0;
    if (blob_id == 0 && (rc = name_blob(a, &blob_id)) != DB_OK)
        goto fail;
    char blob[24];
    const char *params[] = {a->owner->key, a->path, su_i64(blob, blob_id), a->size, a->now};
    const char *table = store_artifact_files_table(a->owner);
    const char *column = store_artifact_files_column(a->owner);
    snprintf(sql, sizeof sql,
             "INSERT INTO %s (%s, path, blob_id, size, created)"
             " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (%s, path) DO UPDATE"
             " SET blob_id = EXCLUDED.blob_id, size = EXCLUDED.size,"
             "   created = EXCLUDED.created",
             table, column, column);
    rc = db_exec(sql, 5, params, NULL);
    if (rc != DB_OK)
        goto fail;
    return db_commit();
fail:
    db_rollback();
    return rc;
}

int store_artifact_upload_commit(struct artifact_upload *u, const struct artifact_owner *owner,
                                 const char *path, char sha256[65])
{
    struct commit_args a = {.u = u, .owner = owner, .path = path};
    unsigned int dlen = 0;
    int reused = 0;
    int rc = DB_OK;

    /* Past one chunk the tail goes the way every chunk went. */
    if (u->blob_id != 0 && u->fill > 0 && (rc = write_chunk(u)) != DB_OK)
        goto out;
    if (EVP_DigestFinal_ex(u->md, a.digest, &dlen) != 1 || dlen != 32) {
        rc = DB_ERROR;
        goto out;
    }
    su_i64(a.size, u->size);
    su_i64(a.now, store_now_ms());
    for (int attempt = 0; attempt < MAX_TX_RETRIES; attempt++) {
        rc = commit_once(&a, &reused);
        if (rc != DB_EXISTS && rc != DB_RETRY)
            break;
    }
    if (rc == DB_OK && sha256 != NULL)
        ids_hex(a.digest, 32, sha256);
out:
    if (rc != DB_OK || reused)
        drop_pending(u->blob_id);
    upload_free(u);
    return rc;
}

struct artifact_reader {
    struct artifact_file file;
    PGresult *chunk; /* the chunk last read, binary */
    int32_t seq;     /* its number; -1 before the first */
};

struct artifact_reader *store_artifact_reader_new(const struct artifact_file *f)
{
    struct artifact_reader *rd = xcalloc(1, sizeof *rd);
    rd->file = *f;
    rd->seq = -1;
    return rd;
}

/* Fetches chunk seq in binary form into rd->chunk. */
static int fetch_chunk(struct artifact_reader *rd, int32_t seq)
{
    char blob[24], seq_text[16];
    const char *params[] = {su_i64(blob, rd->file.blob_id), seq_text};
    PGconn *conn = db_conn();

    PQclear(rd->chunk);
    rd->chunk = NULL;
    rd->seq = -1;
    if (conn == NULL)
        return DB_UNAVAILABLE;
    snprintf(seq_text, sizeof seq_text, "%d", (int)seq);
    PGresult *res =
        PQexecParams(conn, "SELECT data FROM artifact_chunks WHERE blob_id = $1 AND seq = $2", 2,
                     NULL, params, NULL, NULL, 1);
    int rc = db_result_status(conn, res, "artifact chunk read");
    if (rc == DB_OK && PQntuples(res) != 1)
        rc = DB_NOT_FOUND;
    if (rc != DB_OK) {
        PQclear(res);
        return rc;
    }
    rd->chunk = res;
    rd->seq = seq;
    return DB_OK;
}

ssize_t store_artifact_reader_read(struct artifact_reader *rd, int64_t offset, char *buf,
                                   size_t max)
{
    if (offset >= rd->file.size)
        return 0;
    int64_t cs = rd->file.chunk_size;
    int32_t seq = (int32_t)(offset / cs);
    if (seq != rd->seq && fetch_chunk(rd, seq) != DB_OK) {
        log_warn("artifact blob %lld: chunk %d unreadable", (long long)rd->file.blob_id, (int)seq);
        return -1;
    }
    int64_t within = offset - (int64_t)seq * cs;
    int64_t avail = PQgetlength(rd->chunk, 0, 0) - within;
    if (avail <= 0)
        return -1; /* a chunk shorter than the size promised: never hand out zeros */
    size_t n = (size_t)avail < max ? (size_t)avail : max;
    memcpy(buf, PQgetvalue(rd->chunk, 0, 0) + within, n);
    return (ssize_t)n;
}

void store_artifact_reader_free(struct artifact_reader *rd)
{
    if (rd == NULL)
        return;
    PQclear(rd->chunk);
    free(rd);
}

/* Removes pending blobs whose upload stopped beating grace_seconds ago. */
static int gc_pending(int grace_seconds, int64_t *count)
{
    char grace[16];
    const char *params[] = {grace};
    PGresult *res = NULL;

    snprintf(grace, sizeof grace, "%d", grace_seconds);
    int rc = db_exec("WITH d AS (DELETE FROM artifact_blobs WHERE sha256 IS NULL"
                     "   AND heartbeat < now() - make_interval(secs => $1::int) RETURNING 1)"
                     " SELECT count(*) FROM d",
                     1, params, &res);
    if (rc != DB_OK)
        return rc;
    *count = su_int64(res, 0, 0);
    PQclear(res);
    return DB_OK;
}

/* One batch: lock unreferenced blobs no commit holds, then delete those
 * still unreferenced under a fresh snapshot (a commit that linked one
 * between the two statements has committed by then: its lock conflicted). */
static int gc_batch(struct artifact_gc_stats *out, int *more)
{
    PGresult *res = NULL;
    int rc;

    *more = 0;
    if ((rc = db_begin()) != DB_OK)
        return rc;
    rc = db_exec("SELECT coalesce(array_agg(id), '{}') FROM (SELECT id FROM artifact_blobs b"
                 "   WHERE sha256 IS NOT NULL AND NOT EXISTS"
                 "     (SELECT 1 FROM artifact_files f WHERE f.blob_id = b.id)"
                 "   AND NOT EXISTS"
                 "     (SELECT 1 FROM logged_model_artifact_files f WHERE f.blob_id = b.id)"
                 "   AND NOT EXISTS"
                 "     (SELECT 1 FROM trace_artifact_files f WHERE f.blob_id = b.id)"
                 "   LIMIT " GC_BATCH " FOR UPDATE SKIP LOCKED) c",
                 0, NULL, &res);
    if (rc != DB_OK)
        goto fail;
    const char *params[] = {PQgetvalue(res, 0, 0)};
    *more = strcmp(params[0], "{}") != 0;
    PGresult *del = NULL;
    rc = db_exec("WITH d AS (DELETE FROM artifact_blobs b WHERE id = ANY($1::bigint[])"
                 "   AND NOT EXISTS (SELECT 1 FROM artifact_files f WHERE f.blob_id = b.id)"
                 "   AND NOT EXISTS"
                 "     (SELECT 1 FROM logged_model_artifact_files f WHERE f.blob_id = b.id)"
                 "   AND NOT EXISTS"
                 "     (SELECT 1 FROM trace_artifact_files f WHERE f.blob_id = b.id)"
                 "   RETURNING size)"
                 " SELECT count(*), coalesce(sum(size), 0) FROM d",
                 1, params, &del);
    PQclear(res);
    res = del;
    if (rc != DB_OK)
        goto fail;
    out->blobs += su_int64(res, 0, 0);
    out->bytes += su_int64(res, 0, 1);
    PQclear(res);
    return db_commit();
fail:
    PQclear(res);
    db_rollback();
    return rc;
}

int store_artifact_gc(int grace_seconds, struct artifact_gc_stats *out)
{
    int more = 1;

    memset(out, 0, sizeof *out);
    int rc = gc_pending(grace_seconds, &out->pending);
    while (rc == DB_OK && more)
        rc = gc_batch(out, &more);
    return rc;
}
