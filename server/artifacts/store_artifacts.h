/* Artifacts in PostgreSQL: content-addressed blobs (SHA-256) cut into
 * ARTIFACT_CHUNK_SIZE bytea chunks and shared by every file with the same
 * bytes, and a per-run table of files pointing at them. Paths given here have
 * passed artifact_path_check. Returns db_status values, DB_STATE and the
 * codes below. No HTTP, no JSON. */
#ifndef ET_SERVER_STORE_ARTIFACTS_H
#define ET_SERVER_STORE_ARTIFACTS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "db/store.h"

#define ARTIFACT_CHUNK_SIZE (1024 * 1024)

/* A file and a directory would share a path: "a" is a file and "a/b" is to
 * be written, or "a/b" exists and "a" is to be written. */
#define DB_ARTIFACT_CONFLICT (-20)

/* Whose files: a run's (artifact_files), a logged model's
 * (logged_model_artifact_files) or a trace's (trace_artifact_files). All
 * share the blobs. */
enum artifact_owner_kind { ARTIFACT_OWNER_RUN, ARTIFACT_OWNER_MODEL, ARTIFACT_OWNER_TRACE };

struct artifact_owner {
    enum artifact_owner_kind kind;
    char key[40]; /* a run's internal id in decimal, a model's "m-..." id, a trace's id */
};

/* What artifact code needs to know of a run or a logged model. */
struct artifact_run {
    struct artifact_owner owner;
    int64_t experiment_id;
    int deleted;              /* runs only: a deleted model's files stay writable, as in MLflow */
    const char *artifact_uri; /* in the arena */
};

/* The table holding owner's files and its owner column: SQL identifiers
 * (constants, never user text) for the statements of the artifact store. */
const char *store_artifact_files_table(const struct artifact_owner *owner);
const char *store_artifact_files_column(const struct artifact_owner *owner);

/* Looks a run up by its 32-hex id. DB_NOT_FOUND when there is none. */
int store_artifact_run(const char *run_id, struct arena *arena, struct artifact_run *out);

/* Looks a logged model up by its id (deleted ones too). DB_NOT_FOUND when
 * there is none. */
int store_artifact_model(const char *model_id, struct arena *arena, struct artifact_run *out);

/* Looks a trace up by its id. DB_NOT_FOUND when there is none. */
int store_artifact_trace(const char *trace_id, struct arena *arena, struct artifact_run *out);

/* A stored file. */
struct artifact_file {
    int64_t blob_id;
    int64_t size;
    int64_t created; /* ms since the epoch */
    int chunk_size;
    char sha256[65]; /* lowercase hex */
};

/* Reads the file at path ("" is never a file). DB_NOT_FOUND when no file has
 * that path (it may still be a directory). */
int store_artifact_stat(const struct artifact_owner *owner, const char *path,
                        struct artifact_file *out);

/* One entry of a directory listing. */
struct artifact_entry {
    const char *name; /* the entry's own name (no '/'), in the arena */
    int is_dir;
    int64_t size; /* files only */
};

/* Lists the direct children of directory dir ("" for the run's root) sorted
 * bytewise by name, into *out (arena). A missing directory and a file list as
 * nothing (*n = 0). */
int store_artifact_list(const struct artifact_owner *owner, const char *dir, struct arena *arena,
                        struct artifact_entry **out, size_t *n);

/* Deletes the file at path, or every file under directory path ("" = all of
 * the run's files). *removed gets the number of files deleted (0 when the
 * path names nothing). Blobs are left to store_artifact_gc. */
int store_artifact_delete(const struct artifact_owner *owner, const char *path, int64_t *removed);

/* DB_OK when a file may be written at path now, DB_ARTIFACT_CONFLICT when a
 * directory has that path or a file has the path of one of its parents.
 * Uploads check again when they commit; this is for refusing early. */
int store_artifact_check_path(const struct artifact_owner *owner, const char *path);

/* An upload in flight: bytes are hashed as they come and written chunk by
 * chunk, each chunk in its own short transaction, under a pending blob whose
 * heartbeat moves on with every chunk (so gc leaves it alone). Only the
 * commit makes the file visible. Must stay on the thread that began it (it
 * uses that thread's connection); holds at most one chunk in memory. */
struct artifact_upload;

/* Starts an upload. Never fails (nothing touches the database until a whole
 * chunk has arrived). Free with commit or abort. */
struct artifact_upload *store_artifact_upload_new(void);

/* Adds bytes to the upload; writes a chunk whenever one is full. On failure
 * the upload can only be aborted. */
int store_artifact_upload_write(struct artifact_upload *u, const char *buf, size_t len);

/* Bytes received so far. */
int64_t store_artifact_upload_size(const struct artifact_upload *u);

/* Writes the last chunk and, in one transaction, names the blob by its hash
 * (or, when a blob with that hash exists, uses that one and drops the
 * upload's chunks) and links owner/path to it, replacing any file there.
 * DB_STATE: the run is deleted; DB_ARTIFACT_CONFLICT: see above;
 * DB_NOT_FOUND: the run vanished, or gc removed the pending blob. On success
 * sha256 (may be NULL) gets the content hash in hex. Frees u either way. */
int store_artifact_upload_commit(struct artifact_upload *u, const struct artifact_owner *owner,
                                 const char *path, char sha256[65]);

/* Drops the upload and everything it wrote (best effort: what a broken
 * connection leaves behind is gc's). Frees u; NULL is fine. */
void store_artifact_upload_abort(struct artifact_upload *u);

/* Reads a stored file's bytes chunk by chunk; one chunk in memory. Must stay
 * on the thread that made it. */
struct artifact_reader;

/* Starts reading the blob of f (copied). Never fails. */
struct artifact_reader *store_artifact_reader_new(const struct artifact_file *f);

/* Copies up to max bytes from byte offset of the file into buf. Returns the
 * count (> 0), 0 at the end, -1 when the database failed or the blob is gone. */
ssize_t store_artifact_reader_read(struct artifact_reader *rd, int64_t offset, char *buf,
                                   size_t max);

/* Frees a reader; NULL is fine. */
void store_artifact_reader_free(struct artifact_reader *rd);

/* What a garbage collection removed. */
struct artifact_gc_stats {
    int64_t pending; /* abandoned uploads (no heartbeat for grace_seconds) */
    int64_t blobs;   /* complete blobs no file points at */
    int64_t bytes;   /* their sizes */
};

/* Removes blobs no file references, and pending uploads whose heartbeat is
 * older than grace_seconds. Safe against concurrent uploads: a commit that
 * reuses a blob locks it (FOR KEY SHARE) before linking; gc locks candidates
 * FOR UPDATE SKIP LOCKED and re-checks them with a fresh snapshot before
 * deleting, so a blob is never deleted once a file has been linked to it. */
int store_artifact_gc(int grace_seconds, struct artifact_gc_stats *out);

#endif
