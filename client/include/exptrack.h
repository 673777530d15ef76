/* libexptrack: the C client of exptrack (and of any MLflow tracking server).
 * This is the only header a user includes. Control calls are synchronous;
 * et_log_metric() only appends to a bounded in-memory buffer that a
 * background thread ships as log-batch requests, retried and, when the
 * server stays away, spooled to disk and replayed exactly once.
 *
 * Conventions: every int-returning function returns ET_OK (0) or a negative
 * ET_E* code (et_strerror() names it). Strings passed in are copied; strings
 * and structs handed out are owned as documented at each function. All
 * functions are thread-safe; one et_run may be used from several threads.
 * The library never prints and never aborts; out of memory is ET_ENOMEM. */
#ifndef ET_EXPTRACK_H
#define ET_EXPTRACK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ET_VERSION_STRING "0.1.0"

/* Marks the exported API (the shared library hides everything else). */
#define ET_API __attribute__((visibility("default")))

/* Error codes (negative). */
enum {
    ET_OK = 0,
    ET_ENOMEM = -1,    /* out of memory */
    ET_EINVAL = -2,    /* bad argument (NULL handle, invalid key, bad URL) */
    ET_ENETWORK = -3,  /* the server could not be reached (after retries) */
    ET_ESERVER = -4,   /* the server answered 5xx or 429 (after retries) */
    ET_ENOTFOUND = -5, /* RESOURCE_DOES_NOT_EXIST (HTTP 404) */
    ET_EEXISTS = -6,   /* RESOURCE_ALREADY_EXISTS */
    ET_EREJECTED = -7, /* the server refused the request (other 4xx) */
    ET_EPROTOCOL = -8, /* the reply was not what the contract promises */
    ET_ETIMEDOUT = -9, /* a flush did not finish within its timeout */
    ET_EIO = -10,      /* local file or spool I/O failed */
    ET_ECORRUPT = -11, /* a spool record failed its checksum */
    ET_ECLOSED = -12,  /* the client is shutting down */
};

/* Terminal run states accepted by et_run_end(); values are MLflow's RunStatus. */
typedef enum et_run_status {
    ET_RUN_RUNNING = 1,
    ET_RUN_SCHEDULED = 2,
    ET_RUN_FINISHED = 3,
    ET_RUN_FAILED = 4,
    ET_RUN_KILLED = 5,
} et_run_status;

/* What et_log_metric() does when the in-memory buffer is full. */
typedef enum et_full_policy {
    ET_FULL_BLOCK = 0, /* wait until the batcher frees room (default) */
    ET_FULL_SPOOL = 1, /* the batcher moves buffered points to the disk spool at once,
                          without waiting for the server; the call waits only for that */
} et_full_policy;

/* Lifecycle filter of searches. */
typedef enum et_view {
    ET_VIEW_ACTIVE = 1,
    ET_VIEW_DELETED = 2,
    ET_VIEW_ALL = 3,
} et_view;

typedef struct et_client et_client;
typedef struct et_run et_run;
typedef struct et_run_iter et_run_iter;

/* Client configuration; start from et_options_init(). String members are
 * borrowed for the duration of et_client_new_opts() only (copied). */
typedef struct et_options {
    const char *url;        /* NULL: $EXPTRACK_URL, else $MLFLOW_TRACKING_URI */
    size_t buffer_points;   /* in-memory metric buffer capacity (262144) */
    int flush_interval_ms;  /* batcher ships at least this often (1000; $EXPTRACK_FLUSH_MS) */
    int flush_timeout_ms;   /* et_run_end()/et_client_free() wait at most this (30000) */
    int spool_after_ms;     /* a batch failing this long goes to the spool (30000) */
    int request_timeout_ms; /* one HTTP request (30000) */
    int control_retry_ms;   /* control calls retry network errors/5xx this long (60000) */
    int senders;            /* log-batch requests in flight, 1..256 (32; $EXPTRACK_SENDERS) */
    et_full_policy full_policy;
    const char *spool_dir; /* NULL: $EXPTRACK_SPOOL_DIR, else
                              $XDG_STATE_HOME or ~/.local/state + /exptrack/spool */
} et_options;

/* Fills *o with the defaults above. */
ET_API void et_options_init(et_options *o);

/* Creates a client for url (NULL: from the environment, see et_options.url)
 * with default options and starts its batching thread. On success *out owns
 * the client (free with et_client_free()). Returns ET_EINVAL when no URL is
 * known, ET_ENOMEM, ET_EIO when the spool directory cannot be created. */
ET_API int et_client_new(const char *url, et_client **out);

/* Like et_client_new() with explicit options (NULL = defaults). */
ET_API int et_client_new_opts(const et_options *opts, et_client **out);

/* Flushes buffered points (waiting at most flush_timeout_ms), spools what
 * could not be delivered, stops the thread and frees c. Runs not yet ended
 * are freed without changing their status. NULL is accepted. */
ET_API void et_client_free(et_client *c);

/* The server base URL in use (owned by c). */
ET_API const char *et_client_url(const et_client *c);

/* A short English description of an error code (static storage). */
ET_API const char *et_strerror(int code);

/* The server's message for the last failed call on this thread (thread-local
 * storage, valid until the next call on this thread), or "". */
ET_API const char *et_last_error(void);

/* ---- runs and the metric path ---------------------------------------- */

/* Gets or creates the experiment named experiment_name (NULL or "" = the
 * Default experiment "0"), creates a RUNNING run named run_name (NULL: the
 * server picks) and returns its handle in *out (free with et_run_end() or
 * et_run_detach()). Retries network errors and 5xx for control_retry_ms, so
 * a run started while the server is down starts when it comes up. */
ET_API int et_run_start(et_client *c, const char *experiment_name, const char *run_name,
                        et_run **out);

/* Like et_run_start() with an experiment id and initial tags (keys[i],
 * values[i], ntags of them; may be 0/NULL). */
ET_API int et_run_create(et_client *c, const char *experiment_id, const char *run_name,
                         const char *const *tag_keys, const char *const *tag_values, size_t ntags,
                         et_run **out);

/* A handle for logging to an existing run (no server call). */
ET_API int et_run_attach(et_client *c, const char *run_id, et_run **out);

/* Queues one metric point (timestamp = now, ms) and returns without I/O.
 * ET_EINVAL for an invalid key (MLflow's key rules), ET_ECLOSED while the
 * client shuts down. With ET_FULL_BLOCK a full buffer makes this wait. */
ET_API int et_log_metric(et_run *r, const char *key, double value, int64_t step);

/* Like et_log_metric() with an explicit timestamp (ms since the epoch). */
ET_API int et_log_metric_ts(et_run *r, const char *key, double value, int64_t step,
                            int64_t timestamp_ms);

/* Logs a param (synchronous; params are immutable on the server). */
ET_API int et_log_param(et_run *r, const char *key, const char *value);

/* Logs n params in one request (n <= 100). */
ET_API int et_log_params(et_run *r, const char *const *keys, const char *const *values, size_t n);

/* Sets a run tag (synchronous, upsert). */
ET_API int et_set_tag(et_run *r, const char *key, const char *value);

/* Waits until every point queued on r's client before this call is
 * delivered or spooled, at most timeout_ms (< 0: flush_timeout_ms).
 * ET_ETIMEDOUT when time ran out (points stay queued). */
ET_API int et_run_flush(et_run *r, int timeout_ms);

/* Flushes (flush_timeout_ms), sets status and end time, and frees r (also on
 * failure). When the server cannot be reached the status change is spooled
 * and applied by a later replay. Returns the flush or update error, if any. */
ET_API int et_run_end(et_run *r, et_run_status status);

/* Flushes and frees r without changing the run's status. */
ET_API int et_run_detach(et_run *r);

/* The run's 32-hex id (owned by r). */
ET_API const char *et_run_id(const et_run *r);

/* The run's experiment id (owned by r; "" for attached runs). */
ET_API const char *et_run_experiment_id(const et_run *r);

/* Delivery counters of a client (monotonic since et_client_new). */
typedef struct et_stats {
    uint64_t queued;    /* points accepted by et_log_metric */
    uint64_t delivered; /* points acknowledged by the server */
    uint64_t spooled;   /* points written to the disk spool */
    uint64_t replayed;  /* spooled points later acknowledged */
    uint64_t dropped;   /* points the server refused (4xx); see et_last_error */
    uint64_t retries;   /* log-batch attempts that failed and were retried */
    uint64_t requests;  /* log-batch requests acknowledged */
} et_stats;

/* Copies c's counters into *out. */
ET_API void et_client_stats(et_client *c, et_stats *out);

/* ---- control calls --------------------------------------------------- */

typedef struct et_kv {
    char *key;
    char *value;
} et_kv;

typedef struct et_experiment {
    char *experiment_id;
    char *name;
    char *artifact_location;
    char *lifecycle_stage;
    int64_t creation_time;
    int64_t last_update_time;
    et_kv *tags;
    size_t ntags;
} et_experiment;

typedef struct et_metric {
    char *key;
    double value;
    int64_t timestamp;
    int64_t step;
} et_metric;

typedef struct et_run_info {
    char *run_id;
    char *experiment_id;
    char *run_name;
    char *user_id;
    et_run_status status;
    int64_t start_time;
    int64_t end_time; /* 0 while unset */
    char *artifact_uri;
    char *lifecycle_stage;
    et_metric *metrics; /* latest value per key */
    size_t nmetrics;
    et_kv *params;
    size_t nparams;
    et_kv *tags;
    size_t ntags;
} et_run_info;

/* Frees one experiment / run info (and what it points to); NULL is accepted. */
ET_API void et_experiment_free(et_experiment *e);
ET_API void et_run_info_free(et_run_info *ri);

/* Experiment id of name, created if missing; *id_out is malloc'd (free()). */
ET_API int et_experiment_ensure(et_client *c, const char *name, char **id_out);

/* Creates an experiment; ET_EEXISTS when the name is taken. *id_out malloc'd. */
ET_API int et_experiment_create(et_client *c, const char *name, char **id_out);

/* Reads an experiment by id or, when id_or_name is not all digits, by name.
 * *out is owned by the caller (et_experiment_free). */
ET_API int et_experiment_get(et_client *c, const char *id_or_name, et_experiment **out);

/* All experiments in view, every page; *out is an array of *n structs owned
 * by the caller: free with et_experiment_list_free(*out, *n). */
ET_API int et_experiment_list(et_client *c, et_view view, et_experiment **out, size_t *n);
ET_API void et_experiment_list_free(et_experiment *list, size_t n);

/* Renames / soft-deletes / restores an experiment. */
ET_API int et_experiment_rename(et_client *c, const char *experiment_id, const char *new_name);
ET_API int et_experiment_delete(et_client *c, const char *experiment_id);
ET_API int et_experiment_restore(et_client *c, const char *experiment_id);

/* Reads a run; *out owned by the caller (et_run_info_free). */
ET_API int et_run_get(et_client *c, const char *run_id, et_run_info **out);

/* Sets a run's status and end time (end_time_ms 0 = now). */
ET_API int et_run_update(et_client *c, const char *run_id, et_run_status status,
                         int64_t end_time_ms);

/* Soft-deletes / restores a run. */
ET_API int et_run_delete(et_client *c, const char *run_id);
ET_API int et_run_restore(et_client *c, const char *run_id);

/* Search parameters; strings borrowed for et_run_search() only. */
typedef struct et_search {
    const char *const *experiment_ids; /* NULL/0: every active experiment */
    size_t nexperiments;
    const char *filter;   /* MLflow filter string or NULL */
    const char *order_by; /* one clause ("metrics.loss ASC") or NULL */
    et_view view;         /* 0 = ET_VIEW_ACTIVE */
    int64_t max_results;  /* total cap, 0 = no cap */
    int page_size;        /* 0 = 1000 */
} et_search;

/* Starts a paged search; *out owned by the caller (et_run_iter_free). */
ET_API int et_run_search(et_client *c, const et_search *s, et_run_iter **out);

/* Next run: returns 1 and sets *out (owned by it, valid until the next call),
 * 0 at the end, or an error code. Fetches pages as needed. */
ET_API int et_run_iter_next(et_run_iter *it, const et_run_info **out);
ET_API void et_run_iter_free(et_run_iter *it);

/* Every point of run_id's metric key, in step order; *out is a malloc'd
 * array of *n points owned by the caller (free(); key members are NULL). */
ET_API int et_metric_history(et_client *c, const char *run_id, const char *key, et_metric **out,
                             size_t *n);

/* ---- artifacts (proxied: /api/2.0/mlflow-artifacts) -------------------- */

typedef struct et_file_info {
    char *path; /* basename */
    int is_dir;
    int64_t size; /* -1 for directories */
} et_file_info;

/* Uploads local_path to the run's artifacts at artifact_path (streamed). */
ET_API int et_artifact_upload(et_client *c, const char *run_id, const char *local_path,
                              const char *artifact_path);

/* Downloads the run's artifact_path to local_path (streamed to a temporary
 * file, renamed into place when complete). */
ET_API int et_artifact_download(et_client *c, const char *run_id, const char *artifact_path,
                                const char *local_path);

/* Lists a directory of the run's artifacts (dir NULL or "": the root); *out
 * is an array of *n entries owned by the caller (et_file_list_free). */
ET_API int et_artifact_list(et_client *c, const char *run_id, const char *dir, et_file_info **out,
                            size_t *n);
ET_API void et_file_list_free(et_file_info *list, size_t n);

/* ---- Model Registry (/api/2.0/mlflow/registered-models, model-versions) --
 * Synchronous like the control calls above: each blocks for its request(s),
 * retrying network errors and 5xx for control_retry_ms. A missing model,
 * version or alias is ET_ENOTFOUND; a name already taken is ET_EEXISTS; a
 * value the server refuses (bad stage, reserved alias) is ET_EREJECTED; the
 * server's message is in et_last_error(). */

typedef struct et_model_version {
    char *name;
    char *version; /* decimal string ("3"), as the contract sends it */
    char *source;  /* as given at registration */
    char *run_id;  /* "" when none */
    char *stage;   /* current_stage: "None", "Staging", "Production" or "Archived" */
    char *status;  /* "READY", "PENDING_REGISTRATION" or "FAILED_REGISTRATION" */
    char *description;
    int64_t creation_timestamp;
    int64_t last_updated_timestamp;
    char **aliases; /* only filled by single-version calls (the server omits them in searches) */
    size_t naliases;
    et_kv *tags;
    size_t ntags;
} et_model_version;

typedef struct et_model {
    char *name;
    char *description; /* "" when none */
    int64_t creation_timestamp;
    int64_t last_updated_timestamp;
    et_model_version *latest_versions; /* the highest version per stage */
    size_t nlatest;
    et_kv *aliases; /* key = alias, value = version */
    size_t naliases;
    et_kv *tags;
    size_t ntags;
} et_model;

/* Frees one model / version (and what it points to); NULL is accepted. */
ET_API void et_model_free(et_model *m);
ET_API void et_model_version_free(et_model_version *v);
/* Frees an array returned by et_model_list() / et_model_version_list(). */
ET_API void et_model_list_free(et_model *list, size_t n);
ET_API void et_model_version_list_free(et_model_version *list, size_t n);

/* Creates the registered model name. ET_EEXISTS when the name is taken. *out
 * (may be NULL) gets the new model, owned by the caller (et_model_free). */
ET_API int et_model_create(et_client *c, const char *name, et_model **out);

/* Reads a registered model; *out owned by the caller (et_model_free). */
ET_API int et_model_get(et_client *c, const char *name, et_model **out);

/* Every registered model matching filter (the registry's filter language,
 * e.g. "name LIKE 'iris%'"; NULL = all), every page. *out is an array of *n
 * models owned by the caller (et_model_list_free). */
ET_API int et_model_list(et_client *c, const char *filter, et_model **out, size_t *n);

/* Every version of the model name (model-versions/search, name='name'), every
 * page; an unknown model gives an empty list, not ET_ENOTFOUND. *out owned by
 * the caller (et_model_version_list_free). ET_EINVAL when name holds both
 * quote characters (the filter language cannot spell it). */
ET_API int et_model_version_list(et_client *c, const char *name, et_model_version **out, size_t *n);

/* Registers run_id's artifact_path (a file or directory in the run's
 * artifacts; NULL or "" = the root) as a new version of the model name, as
 * mlflow.register_model does: creates the model when missing (a concurrent
 * creator is fine), then creates a version whose source is the run's
 * artifact URI + "/" + artifact_path. Not idempotent: each call adds a
 * version. *out (may be NULL) gets the version (et_model_version_free). */
ET_API int et_model_register(et_client *c, const char *name, const char *run_id,
                             const char *artifact_path, et_model_version **out);

/* Points alias of model name at version (moving it if set) / removes it.
 * Deleting an alias that is not set succeeds. */
ET_API int et_model_alias_set(et_client *c, const char *name, const char *alias,
                              const char *version);
ET_API int et_model_alias_delete(et_client *c, const char *name, const char *alias);

/* Resolves a model reference to one version: "NAME@ALIAS", "NAME/VERSION",
 * "NAME/latest" (highest version), "NAME/STAGE" (highest version in that
 * stage), each optionally prefixed "models:/". The alias is split at the
 * last '@', the version at the last '/'. ET_EINVAL for a reference of none
 * of these forms; ET_ENOTFOUND for an unknown model, alias or version, or no
 * version in the stage. *out owned by the caller (et_model_version_free). */
ET_API int et_model_version_resolve(et_client *c, const char *ref, et_model_version **out);

/* Moves version of model name to stage ("None", "Staging", "Production",
 * "Archived"; any case). With archive_existing, the model's other versions
 * in that stage move to "Archived" (stage must be Staging or Production).
 * *out (may be NULL) gets the updated version (et_model_version_free). */
ET_API int et_model_version_stage(et_client *c, const char *name, const char *version,
                                  const char *stage, int archive_existing, et_model_version **out);

/* Downloads the files of the version ref names (any form et_model_version_resolve
 * accepts) into dir, keeping their relative paths: resolves it, asks the
 * server for the version's download URI, then lists and fetches every file
 * through the artifact proxy, one request at a time; each file is written
 * to a temporary name and renamed into place. dir and subdirectories are
 * created as needed; existing files are replaced. A version whose source is
 * a single file yields that file in dir. *nfiles (may be NULL) gets the
 * number of files written, also on failure. ET_EINVAL when the download URI
 * is not an mlflow-artifacts: URI (only the proxy is supported); ET_EPROTOCOL
 * when a listed name is not a plain file name; ET_EIO on local file errors. */
ET_API int et_model_version_download(et_client *c, const char *ref, const char *dir,
                                     size_t *nfiles);

/* ---- spool ------------------------------------------------------------- */

/* Replays every spool file in dir that no live process owns, in order,
 * deleting each once fully acknowledged. *records (may be NULL) gets the
 * number of requests delivered. Stops at the first network/server error. */
ET_API int et_spool_sync(et_client *c, const char *dir, size_t *records);

#ifdef __cplusplus
}
#endif

#endif
