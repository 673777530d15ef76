/* libFuzzer target for the HTTP request head checks (core/framing.c): the
 * input is a raw request head, split into its version and header fields the
 * way libmicrohttpd splits them (name up to the first ':', value with its
 * leading blanks dropped), then checked. Besides "no crash", checks each
 * verdict against an independent statement of the smuggling rules: a head
 * with both Content-Length and Transfer-Encoding, two Host headers, or an
 * HTTP/1.1 head without Host is never accepted, and a refusal always leaves
 * an error reply with a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/framing.h"
#include "core/reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FIELDS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 8192)
        return 0;
    /* the first byte: the body limit, in KiB (0: none known) */
    size_t max_body = data[0] == 0 ? SIZE_MAX : (size_t)data[0] * 1024;
    char *head = malloc(size);
    memcpy(head, data + 1, size - 1);
    head[size - 1] = '\0';

    struct http_field fields[MAX_FIELDS];
    size_t n = 0;
    int hosts = 0, lengths = 0, encodings = 0;
    char *line = head, *version = NULL;
    for (int first = 1; line != NULL && n < MAX_FIELDS; first = 0) {
        char *end = strchr(line, '\n');
        if (end != NULL) {
            *end = '\0';
            if (end > line && end[-1] == '\r')
                end[-1] = '\0';
        }
        if (first) {
            char *sp = strrchr(line, ' ');
            version = sp != NULL ? sp + 1 : line;
        } else {
            char *colon = strchr(line, ':');
            if (colon != NULL) {
                *colon = '\0';
                char *value = colon + 1;
                while (*value == ' ' || *value == '\t')
                    value++;
                fields[n].name = line;
                fields[n].value = value;
                hosts += strcasecmp(line, "Host") == 0;
                lengths += strcasecmp(line, "Content-Length") == 0;
                encodings += strcasecmp(line, "Transfer-Encoding") == 0;
                n++;
            }
        }
        line = end != NULL ? end + 1 : NULL;
    }

    struct reply r;
    reply_init(&r);
    int rc = framing_check(version, fields, n, max_body, &r);
    if (rc == 0 && ((lengths > 0 && encodings > 0) || hosts > 1 ||
                    (hosts == 0 && version != NULL && strcmp(version, "HTTP/1.1") == 0)))
        abort(); /* a smuggling shape got through */
    if (rc != 0 && (!r.is_error || r.body == NULL || r.body_len == 0 || r.status < 400))
        abort(); /* a refusal must say why */
    if (rc != 0 && r.status != 400 && r.status != 413 && r.status != 501)
        abort();
    reply_cleanup(&r);
    free(head);
    return 0;
}
