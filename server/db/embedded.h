/* Files compiled into the binary by cmake/embed.cmake (schema, dashboard). */
#ifndef ET_SERVER_EMBEDDED_H
#define ET_SERVER_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
    const char *path;          /* relative to the embedded folder, '/'-separated */
    const unsigned char *data; /* NUL-terminated for convenience; size excludes it */
    size_t size;
};

/* The schema migrations, schema/NNNN_*.sql, in apply order. */
extern const struct embedded_file schema_files[];
extern const size_t schema_files_count;

/* The dashboard, web/ plus the vendored uPlot files, each text file followed
 * by its build-time "<path>.gz" (see cmake/web.cmake and assets.c). */
extern const struct embedded_file web_files[];
extern const size_t web_files_count;

#endif
