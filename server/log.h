/* Server logging: one line per event on stderr, as text or JSON lines.
 * Not for the access log's formatting rules beyond the line itself; http.c
 * decides what an access line contains. */
#ifndef ET_SERVER_LOG_H
#define ET_SERVER_LOG_H

#include <stddef.h>

enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

/* Selects the output format for every later line. Call once at start-up. */
void log_set_format(enum log_format format);

/* Logs a printf-style message at the given level ("info", "warn", "error").
 * Thread-safe: each line is written with one write(2). */
void log_msg(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Logs one access line: text "METHOD PATH STATUS BYTES DURATIONms rid=ID", or
 * a JSON line with the fields method, path, status, bytes, ms, request_id. */
void log_access(const char *method, const char *path, int status, size_t bytes, double ms,
                const char *request_id);

#define log_info(...) log_msg("info", __VA_ARGS__)
#define log_warn(...) log_msg("warn", __VA_ARGS__)
#define log_error(...) log_msg("error", __VA_ARGS__)

#endif
