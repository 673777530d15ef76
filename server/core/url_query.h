/* The request URL's decoding: percent-decoding of the path and query
 * values, and the {name: [values]} object a query string becomes. Pure
 * functions, shared by http.c and the fuzz target that exercises them. */
#ifndef ET_SERVER_URL_QUERY_H
#define ET_SERVER_URL_QUERY_H

#include <jansson.h>
#include <stddef.h>

/* Percent-decodes s in place and returns its new length. "%00" stays as it
 * is: decoded, it would cut the C string short, and "a.txt%00.png" would
 * quietly become "a.txt"; kept literal, handlers see it and refuse it. A '%'
 * not followed by two hex digits is kept as it is. */
size_t url_unescape(char *s);

/* Appends value to query[key] (an array, created on first use). Returns 0,
 * or -1 when the name or the value is not UTF-8: the pair is then left
 * out, and the HTTP layer refuses the request with a 400. */
int url_query_add(json_t *query, const char *key, const char *value);

#endif
