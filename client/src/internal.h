/* libexptrack internals shared by the library's files: the client struct,
 * the HTTP helper, the metric buffer, the spool and the batcher. Nothing
 * here is installed; the public API is include/exptrack.h.
 *
 * Naming: every global symbol these files define is et__* (double underscore)
 * so that libexptrack.a, which carries them all, cannot clash with a name in
 * the program it is linked into; public API functions are et_*. Anything used
 * by one file only is static. scripts/check/symbols.sh enforces the prefix. */
#ifndef ET_CLIENT_INTERNAL_H
#define ET_CLIENT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <jansson.h>

#include "exptrack.h"

#define ET_WUR __attribute__((warn_unused_result))

/* The contract's log-batch limit on metrics per request. */
#define ET_BATCH_MAX 1000
/* Upper bound of et_options.senders: log-batch requests in flight at once. */
#define ET_MAX_INFLIGHT 256
/* Popped batches (pops) not yet handled at once, at most. */
#define ET_MAX_POPS 16

/* ---- growable byte buffer (dbuf.c) ---- */
struct et_dbuf {
    char *data; /* NUL-terminated when non-NULL */
    size_t len, cap;
};
void et__dbuf_init(struct et_dbuf *b);
void et__dbuf_cleanup(struct et_dbuf *b);
int et__dbuf_add(struct et_dbuf *b, const void *p, size_t n) ET_WUR;
int et__dbuf_addf(struct et_dbuf *b, const char *fmt, ...) ET_WUR
    __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal (quotes included). */
int et__dbuf_add_jstr(struct et_dbuf *b, const char *s) ET_WUR;
/* Appends a double as JSON (NaN/Infinity as the contract's strings). */
int et__dbuf_add_jdouble(struct et_dbuf *b, double v) ET_WUR;

/* ---- time and randomness (util.c) ---- */
int64_t et__util_now_ms(void);  /* wall clock, ms since the epoch */
int64_t et__util_mono_ms(void); /* monotonic, ms */
void et__util_deadline(struct timespec *ts, int64_t ms_from_now);
/* 32 lowercase hex chars of randomness + NUL into out[33]. */
void et__util_random_hex32(char out[33]);
/* Uniform in [0, n). */
uint64_t et__util_rand_below(uint64_t n);
/* Thread-local last error message. */
void et__util_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* MLflow key rules: 0 when key is valid. */
int et__util_check_key(const char *key);
char *et__util_strdup(const char *s);

/* ---- HTTP (http.c) ---- */
struct http_reply {
    long status;         /* 0 when no HTTP answer (network error) */
    struct et_dbuf body; /* reply body */
};
/* Sets credentials on h from MLFLOW_TRACKING_USERNAME + MLFLOW_TRACKING_PASSWORD
 * (HTTP Basic) or else MLFLOW_TRACKING_TOKEN (Bearer), as the MLflow clients
 * read them. Call after curl_easy_reset. */
void et__http_auth(CURL *h);

/* One request on h (a reused easy handle: keeps its connection). body may be
 * NULL. idem_key may be NULL. Returns ET_OK when any HTTP answer arrived
 * (check rep->status), ET_ENETWORK otherwise, ET_ENOMEM. rep is reset first. */
int et__http_request(CURL *h, const char *url, const char *method, const char *body, size_t len,
                     const char *idem_key, int timeout_ms, struct http_reply *rep) ET_WUR;
/* The two halves of et__http_request for a transfer run elsewhere (a curl
 * multi handle): et__http_setup resets h and sets it up for one request
 * whose answer body goes to reply (emptied first); *hdrs (free with
 * curl_slist_free_all once the transfer is over) is set on ET_OK, the only
 * other answer being ET_ENOMEM. body must live until then. et__http_outcome
 * reads the result cc of the transfer on h: ET_OK with *status the HTTP
 * status when an answer arrived, else ET_ENETWORK or ET_ENOMEM (*status 0),
 * recording the message for et_last_error(). */
int et__http_setup(CURL *h, const char *url, const char *method, const char *body, size_t len,
                   const char *idem_key, int timeout_ms, struct et_dbuf *reply,
                   struct curl_slist **hdrs) ET_WUR;
int et__http_outcome(CURL *h, CURLcode cc, const char *method, const char *url, long *status);
/* True for answers worth retrying: none (network), 429, 5xx. */
int et__http_retryable(long status);
/* Backoff before attempt n (1-based): exponential from 100 ms to 10 s, full jitter. */
int64_t et__http_backoff_ms(int attempt);
/* Maps a non-200 status and MLflow error body to an ET_E* code, recording the
 * message for et_last_error(). */
int et__http_error_code(const struct http_reply *rep);

/* ---- metric buffer (buffer.c) ---- */
struct et_point_out {
    const char *run; /* interned; valid for the buffer's life */
    const char *key;
    double value;
    int64_t step;
    int64_t ts;
    uint32_t run_sid; /* the run's intern id (dense: indexes per-run tables) */
};

struct et_buffer;
/* capacity points. *out owned by caller (et__buffer_free). */
int et__buffer_new(size_t capacity, struct et_buffer **out) ET_WUR;
void et__buffer_free(struct et_buffer *b);
/* Interns s, returning its id in *id; strings live until et__buffer_free. */
int et__buffer_intern(struct et_buffer *b, const char *s, uint32_t *id) ET_WUR;
/* Appends a point, interning key (checked against MLflow's key rules the
 * first time: ET_EINVAL). While full it waits; under ET_FULL_SPOOL it also
 * asks the batcher to spool instead of waiting for the server. ET_ECLOSED
 * once closed. */
int et__buffer_push(struct et_buffer *b, uint32_t run, const char *key, double value, int64_t step,
                    int64_t ts, et_full_policy policy) ET_WUR;
/* Pops up to max points into out, waiting until at least `want` are queued,
 * a flush is requested, the buffer is closed, or timeout_ms pass. Returns the
 * number popped (maybe 0); when > 0, *ticket names the batch for
 * et__buffer_done(). At most ET_MAX_POPS batches may be outstanding. */
size_t et__buffer_pop(struct et_buffer *b, struct et_point_out *out, size_t max, size_t want,
                      int timeout_ms, uint64_t *ticket);
/* True when a pop would not wait: at least want points are queued, or a
 * flush is requested, the buffer is closed or a producer asks to spool. */
int et__buffer_ready(struct et_buffer *b, size_t want);
/* Popped batches not yet marked handled. */
int et__buffer_pops_out(struct et_buffer *b);
/* Marks a popped batch handled (delivered, spooled or dropped). */
void et__buffer_done(struct et_buffer *b, uint64_t ticket);
/* Sequence number of the next point to be pushed (for flush targets). */
uint64_t et__buffer_pushed(struct et_buffer *b);
/* Waits until all points with sequence < target are handled; ET_ETIMEDOUT. */
int et__buffer_wait_done(struct et_buffer *b, uint64_t target, int timeout_ms);
/* Closes: pushes fail with ET_ECLOSED; pops stop waiting. */
void et__buffer_close(struct et_buffer *b);
/* True (and clears it) when a producer found the buffer full under ET_FULL_SPOOL. */
int et__buffer_take_spool_request(struct et_buffer *b);
/* Points queued and not popped. */
size_t et__buffer_count(struct et_buffer *b);
/* Sleeps up to ms unless closed or spool-requested (flush kicks do not end it). */
void et__buffer_nap(struct et_buffer *b, int ms);

/* ---- spool (spool.c) ---- */
struct spool_rec {
    char *path;       /* request path, e.g. /api/2.0/mlflow/runs/log-batch */
    char key[33];     /* idempotency key, "" for none */
    uint32_t npoints; /* metric points carried (stats) */
    char *body;       /* JSON body */
    size_t body_len;
};
void et__spool_rec_cleanup(struct spool_rec *r);

struct et_spool;
/* Opens (creating) dir. own: this process appends to its own segment file
 * there (created at the first append). *out owned by caller (et__spool_close). */
int et__spool_open(const char *dir, int own, struct et_spool **out) ET_WUR;
/* Closes; an own segment that still has unacked records stays for later. */
void et__spool_close(struct et_spool *s);
/* Appends one record durably (write + fsync). */
int et__spool_append(struct et_spool *s, const struct spool_rec *r) ET_WUR;
/* The oldest unacknowledged record (orphaned segments first, then ours).
 * Returns 1 and fills *r (caller cleans up), 0 when nothing is pending, or
 * an error. Corrupt records are counted and skipped. */
int et__spool_peek(struct et_spool *s, struct spool_rec *r) ET_WUR;
/* Acknowledges the record last returned by et__spool_peek. */
int et__spool_ack(struct et_spool *s) ET_WUR;
/* Unacked records known (ours + adopted orphans); rescans orphans when rescan. */
size_t et__spool_pending(struct et_spool *s, int rescan);
/* Records skipped for checksum mismatch so far. */
size_t et__spool_corrupt_count(struct et_spool *s);

/* Low-level record codec (exposed for unit tests). */
uint32_t et__spool_crc32(const void *data, size_t len);

/* ---- the client ---- */
struct et_client {
    char *url;      /* base, no trailing slash */
    et_options opt; /* string members NULL; see spool_dir */
    char *spool_dir;
    struct et_buffer *buf;
    struct et_spool *spool; /* own segment; batcher + run_end append */
    pthread_mutex_t spool_mu;
    pthread_t thread; /* the batcher */
    int started;      /* the batcher thread runs */
    atomic_int closing;
    atomic_llong close_deadline; /* et__util_mono_ms() after which everything spools */

    pthread_mutex_t pool_mu; /* idle curl handles for control calls */
    CURL *pool[8];
    int npool;

    atomic_ullong st_queued, st_delivered, st_spooled, st_replayed, st_dropped, st_retries,
        st_requests;
};

struct et_run {
    et_client *c;
    char run_id[33];
    char *experiment_id;
    uint32_t run_sid; /* interned run id */
    pthread_mutex_t mu;
};

/* Takes an idle curl handle (or makes one); give it back with et__client_put_handle. */
CURL *et__client_get_handle(et_client *c);
void et__client_put_handle(et_client *c, CURL *h);

/* Control request: method, api path (after the base URL), JSON body (POST;
 * borrowed) or query (GET, already encoded, may be NULL). Retries network
 * errors and 429/5xx for control_retry_ms. On success *reply (may be NULL)
 * owns the parsed JSON object. */
int et__ctl_call(et_client *c, const char *method, const char *path, json_t *body,
                 const char *query, json_t **reply) ET_WUR;
/* A GET of path with the query k1=v1, and k2=v2 unless k2 is NULL (values
 * percent-encoded here), through et__ctl_call: same retries and *reply. */
int et__ctl_get(et_client *c, const char *path, const char *k1, const char *v1, const char *k2,
                const char *v2, json_t **reply) ET_WUR;
/* Same, sending a JSON text body once (no retry) with idem_key. */
int et__ctl_post_text(et_client *c, const char *path, const char *body, size_t len,
                      const char *idem_key, int retry_ms) ET_WUR;

/* JSON decoding helpers (control.c). et__jdup: a malloc'd copy of obj[key] as a
 * string ("" when absent, integers printed), NULL only on ENOMEM. et__jint:
 * obj[key] as an integer (numbers or numeric strings), 0 when absent. */
char *et__jdup(const json_t *obj, const char *key);
int64_t et__jint(const json_t *obj, const char *key);
/* [{key, value}] -> malloc'd array (*n set even on partial failure). */
int et__decode_kvs(const json_t *arr, et_kv **out, size_t *n) ET_WUR;
void et__free_kvs(et_kv *kv, size_t n);
/* Appends name=percent-encoded(s) (with '&' when b is non-empty). */
int et__query_add(struct et_dbuf *b, const char *name, const char *s) ET_WUR;

/* Artifact proxy by path relative to its root (artifacts.c): rel is
 * "<exp>/<run>/artifacts/..." or any other location under the proxy.
 * et__artifact_fetch streams one file to local_path (temporary file renamed
 * into place); et__artifact_ls lists one directory (et_file_list_free). */
int et__artifact_fetch(et_client *c, const char *rel, const char *local_path) ET_WUR;
int et__artifact_ls(et_client *c, const char *rel, et_file_info **out, size_t *n) ET_WUR;

/* Builds a log-batch body for n points of one run into b. */
int et__batch_encode(struct et_dbuf *b, const char *run_id, const struct et_point_out *pts,
                     size_t n) ET_WUR;

/* The batcher thread (batcher.c): one per client, with up to
 * c->opt.senders log-batch requests in flight. */
void *et__batcher_main(void *arg);
/* Appends a record to the client's spool under spool_mu (opening it if needed). */
int et__client_spool_append(et_client *c, const struct spool_rec *r) ET_WUR;
/* True when the client's own spool holds unacked records. */
int et__client_spool_busy(et_client *c);

#endif
