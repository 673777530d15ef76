/* Server logging to stderr, one write(2) per line so threads never interleave.
 * Text lines look like "2026-11-27T18:00:00.123Z info message"; JSON lines
 * carry the same facts as {"ts":..,"level":..,"msg":..}. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_format current_format = LOG_FORMAT_TEXT;

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

/* Appends src to dst as the inside of a JSON string, escaping what JSON requires. */
static size_t json_escape(char *dst, size_t cap, size_t pos, const char *src)
{
    for (const unsigned char *p = (const unsigned char *)src; *p && pos + 7 < cap; p++) {
        if (*p == '"' || *p == '\\') {
            dst[pos++] = '\\';
            dst[pos++] = (char)*p;
        } else if (*p < 0x20) {
            pos += (size_t)snprintf(dst + pos, cap - pos, "\\u%04x", *p);
        } else {
            dst[pos++] = (char)*p;
        }
    }
    return pos;
}

void log_msg(const char *level, const char *fmt, ...)
{
    char msg[2048];
    char line[4608];
    char ts[40];
    va_list ap;
    size_t n;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    format_time(ts, sizeof ts);

    if (current_format == LOG_FORMAT_JSON) {
        n = (size_t)snprintf(line, sizeof line, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"", ts,
                             level);
        n = json_escape(line, sizeof line - 4, n, msg);
        memcpy(line + n, "\"}\n", 3);
        n += 3;
    } else {
        int w = snprintf(line, sizeof line, "%s %s %s\n", ts, level, msg);
        n = w < 0 ? 0 : (size_t)w;
        if (n >= sizeof line) {
            n = sizeof line - 1;
            line[n - 1] = '\n';
        }
    }
    ssize_t rc = write(STDERR_FILENO, line, n);
    (void)rc; /* nowhere left to report a failed log write */
}

void log_access(const char *method, const char *path, int status, size_t bytes, double ms,
                const char *request_id)
{
    if (current_format != LOG_FORMAT_JSON) {
        log_msg("info", "%s %s %d %zu %.1fms rid=%s", method, path, status, bytes, ms, request_id);
        return;
    }
    char line[4608], ts[40];
    format_time(ts, sizeof ts);
    size_t n = (size_t)snprintf(line, sizeof line,
                                "{\"ts\":\"%s\",\"level\":\"info\",\"msg\":\"access\","
                                "\"method\":\"",
                                ts);
    n = json_escape(line, sizeof line - 256, n, method);
    n += (size_t)snprintf(line + n, sizeof line - n, "\",\"path\":\"");
    n = json_escape(line, sizeof line - 200, n, path);
    n += (size_t)snprintf(line + n, sizeof line - n,
                          "\",\"status\":%d,\"bytes\":%zu,\"ms\":%.3f,\"request_id\":\"", status,
                          bytes, ms);
    n = json_escape(line, sizeof line - 4, n, request_id);
    memcpy(line + n, "\"}\n", 3);
    n += 3;
    ssize_t rc = write(STDERR_FILENO, line, n);
    (void)rc;
}
