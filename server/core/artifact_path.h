/* Artifact paths: the safety rules every artifact endpoint applies before a
 * path reaches the store, the split of a proxy path into experiment, run and
 * run-relative parts, and the content type a file name suggests. Pure
 * functions: no I/O, no JSON; unit-tested in tests/unit/test_artifact_path.c. */
#ifndef ET_SERVER_ARTIFACT_PATH_H
#define ET_SERVER_ARTIFACT_PATH_H

#include <stddef.h>
#include <stdint.h>

#define ARTIFACT_PATH_MAX 1024   /* bytes in a whole path */
#define ARTIFACT_SEGMENT_MAX 255 /* bytes in one segment (a file name) */

/* Flags of artifact_path_check. */
enum {
    ARTIFACT_PATH_EMPTY_OK = 1,      /* "" is a valid path (the root) */
    ARTIFACT_PATH_TRAILING_SLASH = 2 /* one trailing '/' is allowed (and dropped) */
};

/* Checks a '/'-separated relative path, already percent-decoded once by the
 * HTTP layer. Rejected: absolute paths, empty segments, "." and ".." segments
 * (also when further percent-decoding or Unicode look-alike dots would make
 * one), backslashes and look-alike slashes, '#', control characters, a
 * percent-encoded NUL, drive letters ("C:"), invalid UTF-8, segments of only
 * dots and spaces, and paths over ARTIFACT_PATH_MAX or segments over
 * ARTIFACT_SEGMENT_MAX bytes. Returns NULL when valid, else a static text
 * naming the rule. *len gets the path's length without an allowed trailing
 * slash (may be NULL). */
const char *artifact_path_check(const char *path, int flags, size_t *len);

/* A proxy path "<experiment_id>/<run_id>/artifacts/<rel>", a logged
 * model's "<experiment_id>/models/<model_id>/artifacts/<rel>", or a
 * trace's "<experiment_id>/traces/<trace_id>/artifacts/<rel>", taken apart.
 * For a model or a trace, "models/<model_id>" ("traces/<trace_id>") counts
 * as one part. */
struct artifact_proxy_path {
    int depth;             /* leading parts present: 0 root .. 3 (artifacts root or below) */
    int64_t experiment_id; /* depth >= 1 */
    char run_id[33];       /* depth >= 2 of a run's path; 32 lowercase hex digits, else "" */
    char model_id[35];     /* depth >= 2 of a model's path; "m-" + 32 hex digits, else "" */
    char trace_id[36];     /* depth >= 2 of a trace's path; [tr-] + 32 hex digits, else "" */
    const char *rel;       /* depth 3: points into the input; "" for the run's root */
    size_t rel_len;
};

/* Splits a proxy path that passed artifact_path_check (trailing slash
 * dropped: pass the checked length). Returns 0, or -1 when the path is not
 * shaped like a run's or a model's artifact path (a non-numeric experiment
 * id, a run id that is not 32 lowercase hex digits, "models" not followed by
 * a model id, a part other than "artifacts" after the id). */
int artifact_path_split(const char *path, size_t len, struct artifact_proxy_path *out);

/* The last segment of a path (the path itself when it has no '/'). */
const char *artifact_path_basename(const char *path);

/* A Content-Type for a file name, from its extension; a static string,
 * "application/octet-stream" when nothing better is known. */
const char *artifact_path_content_type(const char *name);

/* Outcome of artifact_path_range. */
enum artifact_range { RANGE_NONE, RANGE_OK, RANGE_UNSATISFIABLE };

/* Reads an HTTP Range header (NULL: none) against a file of size bytes.
 * RANGE_OK: one satisfiable byte range, *start and *len set (clamped to the
 * file). RANGE_NONE: no header, not understood, or several ranges: send the
 * whole file. RANGE_UNSATISFIABLE: answer 416. */
enum artifact_range artifact_path_range(const char *header, int64_t size, int64_t *start,
                                        int64_t *len);

#endif
