/* Server logging to stderr. Text lines look like
 * "2026-11-27T18:00:00.123Z info message"; JSON lines carry the same facts
 * as {"ts":..,"level":..,"msg":..}. Lines are written whole, under one
 * lock, so threads never interleave.
 *
 * Access lines are the one kind written in bulk: while the flusher thread
 * runs they collect in a buffer that it writes out ACCESS_FLUSH_MS after
 * the first of them came (or at once when the buffer is full). Under
 * single-point log-metric load one write(2) per request was about an eighth
 * of exptrackd's CPU. Every other line first writes out the access lines
 * before it, then itself, so the order of lines is the order of events and
 * a warning or error is never held back. */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/json_writer.h"
#include "worker.h"

#define ACCESS_FLUSH_MS 10
#define ACCESS_BUFFER_BYTES (64 * 1024) /* 10 ms of 100-byte lines at 60,000 requests/s */

static enum log_format current_format = LOG_FORMAT_TEXT;

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t flush_cv = PTHREAD_COND_INITIALIZER; /* access lines are waiting */
static char pending[ACCESS_BUFFER_BYTES];
static size_t pending_len;
static struct worker flusher = WORKER_INIT(&out_mu, &flush_cv);

void log_set_format(enum log_format format)
{
    current_format = format;
}

static void format_time(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* Writes all of buf to stderr. Called with out_mu held. */
static void write_all_locked(const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, buf, n);
        if (w <= 0)
            return; /* nowhere left to report a failed log write */
        buf += w;
        n -= (size_t)w;
    }
}

/* Writes out the buffered access lines. Called with out_mu held. */
static void flush_locked(void)
{
    write_all_locked(pending, pending_len);
    pending_len = 0;
}

/* Writes one line that is not an access line: after the access lines
 * before it, at once. */
static void write_line(const char *line, size_t n)
{
    pthread_mutex_lock(&out_mu);
    flush_locked();
    write_all_locked(line, n);
    pthread_mutex_unlock(&out_mu);
}

/* Buffers one access line while the flusher runs, else writes it. */
static void write_access_line(const char *line, size_t n)
{
    pthread_mutex_lock(&out_mu);
    if (!worker_running(&flusher)) {
        flush_locked();
        write_all_locked(line, n);
    } else {
        if (pending_len + n > sizeof pending)
            flush_locked();
        if (pending_len == 0)
            pthread_cond_signal(&flush_cv);
        memcpy(pending + pending_len, line, n);
        pending_len += n;
    }
    pthread_mutex_unlock(&out_mu);
}

static void *flusher_main(void *arg)
{
    const struct timespec delay = {0, ACCESS_FLUSH_MS * 1000000L};
    (void)arg;
    pthread_mutex_lock(&out_mu);
    while (!worker_stopping(&flusher)) {
        if (pending_len == 0) {
            worker_wait(&flusher, NULL);
            continue;
        }
        /* let the lines of the next few milliseconds join this write */
        pthread_mutex_unlock(&out_mu);
        nanosleep(&delay, NULL);
        pthread_mutex_lock(&out_mu);
        flush_locked();
    }
    pthread_mutex_unlock(&out_mu);
    return NULL;
}

int log_start_flusher(void)
{
    pthread_mutex_lock(&out_mu);
    int rc = worker_start(&flusher, flusher_main, NULL);
    pthread_mutex_unlock(&out_mu);
    return rc;
}

void log_stop_flusher(void)
{
    if (!worker_stop(&flusher))
        return;
    pthread_mutex_lock(&out_mu);
    flush_locked();
    pthread_mutex_unlock(&out_mu);
}

/* Formats one line of msg at level into line (LINE_BYTES), ending in a
 * newline; answers its length. */
#define LINE_BYTES 4608
static size_t format_line(char *line, const char *level, const char *msg)
{
    char ts[40];
    size_t n;

    format_time(ts, sizeof ts);
    if (current_format == LOG_FORMAT_JSON) {
        n = (size_t)snprintf(line, LINE_BYTES, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"", ts,
                             level);
        n = jw_escape_into(line, LINE_BYTES - 4, n, msg);
        memcpy(line + n, "\"}\n", 3);
        return n + 3;
    }
    int w = snprintf(line, LINE_BYTES, "%s %s %s\n", ts, level, msg);
    n = w < 0 ? 0 : (size_t)w;
    if (n >= LINE_BYTES) {
        n = LINE_BYTES - 1;
        line[n - 1] = '\n';
    }
    return n;
}

void log_msg(const char *level, const char *fmt, ...)
{
    char msg[2048], line[LINE_BYTES];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    write_line(line, format_line(line, level, msg));
}

void log_access(const char *method, const char *path, int status, size_t bytes, double ms,
                const char *request_id)
{
    char line[LINE_BYTES], ts[40];
    if (current_format != LOG_FORMAT_JSON) {
        char msg[2048];
        snprintf(msg, sizeof msg, "%s %s %d %zu %.1fms rid=%s", method, path, status, bytes, ms,
                 request_id);
        write_access_line(line, format_line(line, "info", msg));
        return;
    }
    format_time(ts, sizeof ts);
    size_t n = (size_t)snprintf(line, sizeof line,
                                "{\"ts\":\"%s\",\"level\":\"info\",\"msg\":\"access\","
                                "\"method\":\"",
                                ts);
    n = jw_escape_into(line, sizeof line - 256, n, method);
    n += (size_t)snprintf(line + n, sizeof line - n, "\",\"path\":\"");
    n = jw_escape_into(line, sizeof line - 200, n, path);
    n += (size_t)snprintf(line + n, sizeof line - n,
                          "\",\"status\":%d,\"bytes\":%zu,\"ms\":%.3f,\"request_id\":\"", status,
                          bytes, ms);
    n = jw_escape_into(line, sizeof line - 4, n, request_id);
    memcpy(line + n, "\"}\n", 3);
    n += 3;
    write_access_line(line, n);
}
