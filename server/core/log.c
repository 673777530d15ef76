/* Server logging to stderr. Text lines look like
 * "2026-11-27T18:00:00.123Z info message"; JSON lines carry the same facts
 * as {"ts":..,"level":..,"msg":..}. Lines are appended whole to one buffer,
 * under one lock, so threads never interleave.
 *
 * While the flusher thread runs, it is the one writer of stderr. Access
 * lines collect in the buffer and go out ACCESS_FLUSH_MS after the first of
 * them came, many in one write(2) (under single-point log-metric load one
 * write per request was about an eighth of exptrackd's CPU). Any other line
 * wakes the flusher at once, and its caller waits until it is written, so
 * a warning or error is out before the caller goes on (or aborts).
 *
 * A reader that stops reading (a stalled log shipper, a pipe nobody
 * empties) must not stop the server. The flusher writes outside the lock,
 * from a second buffer, in pieces that a pipe with room takes without
 * blocking. When both buffers are full, a caller waits SPACE_WAIT_MS for
 * room; if none comes, the output counts as stalled and lines are dropped
 * without waiting until a write gets through, and then a warning says how
 * many were lost. A stop gives a stalled output STOP_WAIT_MS, not forever. */
#include "log.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/json_writer.h"
#include "worker.h"

#define ACCESS_FLUSH_MS 10
#define LOG_BUFFER_BYTES (64 * 1024) /* 10 ms of 100-byte lines at 60,000 requests/s */
#define SPACE_WAIT_MS 100            /* a caller's wait for room (or for its line to be out) */
#define WRITE_PIECE 4096             /* PIPE_BUF: a pipe that polls writable takes it whole */
#define POLL_MS 200       /* the flusher looks at the stop flag this often while stderr is full */
#define STOP_WAIT_MS 2000 /* how long a stop (or a write without the flusher) waits for room */

static enum log_format current_format = LOG_FORMAT_TEXT;

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t flush_cv = PTHREAD_COND_INITIALIZER;    /* lines are waiting, or a stop */
static pthread_cond_t progress_cv = PTHREAD_COND_INITIALIZER; /* a buffer was taken or written */
static char buffers[2][LOG_BUFFER_BYTES];
static char *pending = buffers[0]; /* the buffer callers append to */
static size_t pending_len;
static int urgent;                 /* a line that should not wait ACCESS_FLUSH_MS is pending */
static unsigned long taken;        /* buffers the flusher has taken */
static unsigned long written;      /* of those, written out (or given up on) */
static int stalled;                /* a wait for room timed out: drop, do not wait */
static int gave_up;                /* a write waited STOP_WAIT_MS in vain: wait no more */
static unsigned long long dropped; /* lines dropped since the flusher last took a buffer */
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

/* Waits up to ms for stderr to take WRITE_PIECE bytes. Answers 1 when it
 * can, 0 when the time ran out, -1 when it is closed or broken. */
static int wait_writable(int ms)
{
    struct pollfd p = {.fd = STDERR_FILENO, .events = POLLOUT};
    int r;
    do
        r = poll(&p, 1, ms);
    while (r < 0 && errno == EINTR);
    if (r < 0 || (r > 0 && !(p.revents & POLLOUT)))
        return -1;
    return r > 0;
}

/* Writes one piece that wait_writable said fits. Answers bytes written, or
 * -1 when stderr is broken. */
static ssize_t write_piece(const char *buf, size_t n)
{
    ssize_t w;
    do
        w = write(STDERR_FILENO, buf, n < WRITE_PIECE ? n : WRITE_PIECE);
    while (w < 0 && errno == EINTR);
    return w > 0 ? w : -1;
}

/* Whether a stop of the flusher was asked. Called without out_mu. */
static int stop_asked(void)
{
    pthread_mutex_lock(&out_mu);
    int stopping = worker_stopping(&flusher);
    pthread_mutex_unlock(&out_mu);
    return stopping;
}

/* Writes all of buf to stderr. A caller's write (patient = 0) waits for
 * room at most wait_ms a piece; the flusher's (patient = 1) waits as long
 * as no stop is asked, then STOP_WAIT_MS more. Called without out_mu when
 * patient. Answers 0 when written, -1 when the wait ran out or stderr is
 * broken (the rest is lost: nowhere left to report it). */
static int write_out(const char *buf, size_t n, int wait_ms, int patient)
{
    int waited_stopping = 0;
    while (n > 0) {
        int ready = wait_writable(patient ? POLL_MS : wait_ms);
        if (ready < 0)
            return -1;
        if (ready == 0) {
            if (!patient || (stop_asked() && (waited_stopping += POLL_MS) >= STOP_WAIT_MS))
                return -1;
            continue;
        }
        ssize_t w = write_piece(buf, n);
        if (w < 0)
            return -1;
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Writes buf to stderr at once: for when the flusher does not run (start,
 * stop). Called with out_mu held. */
static void write_direct_locked(const char *buf, size_t n)
{
    if (write_out(buf, n, gave_up ? 0 : STOP_WAIT_MS, 0) < 0)
        gave_up = 1;
}

/* Makes room for n bytes in pending: wakes the flusher and waits for it to
 * take the buffer, SPACE_WAIT_MS at most, then counts the output as
 * stalled. Answers whether there is room. Called with out_mu held. */
static int room_locked(size_t n)
{
    if (pending_len + n <= LOG_BUFFER_BYTES)
        return 1;
    if (stalled || gave_up)
        return 0;
    struct timespec deadline;
    worker_deadline(&deadline, SPACE_WAIT_MS);
    urgent = 1;
    pthread_cond_signal(&flush_cv);
    while (pending_len + n > LOG_BUFFER_BYTES && worker_running(&flusher)) {
        if (pthread_cond_timedwait(&progress_cv, &out_mu, &deadline) == ETIMEDOUT) {
            if (pending_len + n <= LOG_BUFFER_BYTES)
                break;
            stalled = 1;
            return 0;
        }
    }
    return pending_len + n <= LOG_BUFFER_BYTES;
}

/* Appends one line for the flusher, or counts it dropped when there is no
 * room. Answers the number of the buffer it went into (0: dropped).
 * Called with out_mu held while the flusher runs. */
static unsigned long append_locked(const char *line, size_t n)
{
    if (!room_locked(n) || !worker_running(&flusher)) {
        dropped++;
        return 0;
    }
    if (pending_len == 0)
        pthread_cond_signal(&flush_cv);
    memcpy(pending + pending_len, line, n);
    pending_len += n;
    return taken + 1;
}

/* Writes one line that is not an access line: with the flusher, handed to
 * it at once and waited for (SPACE_WAIT_MS at most), else written here. */
static void write_line(const char *line, size_t n)
{
    pthread_mutex_lock(&out_mu);
    if (!worker_running(&flusher)) {
        write_direct_locked(line, n);
        goto out;
    }
    unsigned long ticket = append_locked(line, n);
    if (ticket == 0)
        goto out;
    urgent = 1;
    pthread_cond_signal(&flush_cv);
    struct timespec deadline;
    worker_deadline(&deadline, SPACE_WAIT_MS);
    while (written < ticket && !stalled && worker_running(&flusher))
        if (pthread_cond_timedwait(&progress_cv, &out_mu, &deadline) == ETIMEDOUT)
            break;
out:
    pthread_mutex_unlock(&out_mu);
}

/* Buffers one access line while the flusher runs, else writes it. */
static void write_access_line(const char *line, size_t n)
{
    pthread_mutex_lock(&out_mu);
    if (worker_running(&flusher))
        (void)append_locked(line, n);
    else
        write_direct_locked(line, n);
    pthread_mutex_unlock(&out_mu);
}

static size_t format_line(char *line, const char *level, const char *msg);

/* Writes the warning that lost lines were dropped. Called by the flusher,
 * without out_mu, right after the lines that came before them. */
static void report_dropped(unsigned long long lost)
{
    char msg[128], line[256];
    snprintf(msg, sizeof msg, "%llu log lines dropped: stderr was not being read", lost);
    (void)write_out(line, format_line(line, "warn", msg), 0, 1);
}

/* Whether the deadline (CLOCK_REALTIME) has passed. */
static int passed(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return now.tv_sec > deadline->tv_sec ||
           (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

static void *flusher_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&out_mu);
    for (;;) {
        if (pending_len == 0) {
            if (worker_stopping(&flusher))
                break;
            worker_wait(&flusher, NULL);
            continue;
        }
        /* let the access lines of the next few milliseconds join this write */
        struct timespec deadline;
        worker_deadline(&deadline, ACCESS_FLUSH_MS);
        while (!urgent && !worker_stopping(&flusher) && !passed(&deadline))
            worker_wait(&flusher, &deadline);
        /* take the buffer; callers fill the other one meanwhile */
        char *out = pending;
        size_t out_len = pending_len;
        unsigned long long lost = dropped;
        pending = pending == buffers[0] ? buffers[1] : buffers[0];
        pending_len = 0;
        urgent = 0;
        dropped = 0;
        taken++;
        pthread_cond_broadcast(&progress_cv);
        int skip = gave_up;
        pthread_mutex_unlock(&out_mu);

        int rc = skip ? -1 : write_out(out, out_len, 0, 1);
        if (rc == 0 && lost > 0)
            report_dropped(lost);

        pthread_mutex_lock(&out_mu);
        written++;
        if (rc == 0)
            stalled = 0;
        else
            gave_up = 1; /* broken, or a stop found it full: no more waiting */
        pthread_cond_broadcast(&progress_cv);
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
    /* the flusher writes out what is pending before it returns */
    if (!worker_stop(&flusher))
        return;
    pthread_mutex_lock(&out_mu);
    /* a line appended after the flusher's last look, before the join */
    write_direct_locked(pending, pending_len);
    pending_len = 0;
    pthread_cond_broadcast(&progress_cv); /* callers still waiting for it */
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
