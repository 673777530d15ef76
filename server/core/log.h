/* Server logging: one line per event on stderr, as text or JSON lines.
 * Not for the access log's formatting rules beyond the line itself; http.c
 * decides what an access line contains. */
#ifndef ET_SERVER_LOG_H
#define ET_SERVER_LOG_H

#include <stddef.h>

enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

/* Selects the output format for every later line. Call once at start-up. */
void log_set_format(enum log_format format);

/* Logs a printf-style message at the given level ("info", "warn", "error"),
 * after any access lines still buffered. Returns once the line is written,
 * or after 100 ms when stderr is not being read (the line may then be
 * dropped and counted, see log_access). Thread-safe: lines never
 * interleave. */
void log_msg(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Logs one access line: text "METHOD PATH STATUS BYTES DURATIONms rid=ID", or
 * a JSON line with the fields method, path, status, bytes, ms, request_id.
 * While the flusher runs, the line is buffered and written within about
 * 10 ms, with the others of that time in one write(2); else at once. Never
 * blocks a caller for long on a reader that stops reading: once the buffers
 * stay full for 100 ms, lines are dropped, and a warning line says how many
 * as soon as stderr takes writes again. */
void log_access(const char *method, const char *path, int status, size_t bytes, double ms,
                const char *request_id);

/* Starts the thread that writes out buffered access lines; until it runs,
 * and after log_stop_flusher, access lines are written at once. Answers 0,
 * or -1 when the thread cannot start (lines are then written at once). */
int log_start_flusher(void);

/* Stops the flusher and writes out what it had not written yet, giving a
 * stderr that is not being read about 2 s before the rest is lost. Call
 * before exit: buffered lines are otherwise lost. No-op when it does not
 * run. */
void log_stop_flusher(void);

#define log_info(...) log_msg("info", __VA_ARGS__)
#define log_warn(...) log_msg("warn", __VA_ARGS__)
#define log_error(...) log_msg("error", __VA_ARGS__)

#endif
