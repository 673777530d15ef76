/* libFuzzer target for query strings: the input is a raw query string
 * ("a=1&b=%41&a=3"). It is split the way libmicrohttpd splits it (pairs at
 * '&', the name at the first '=', '+' read as a space), each part is
 * percent-decoded by exptrackd's own decoder (url_query.c: "%00" kept
 * literal), and the values go into the {name: [values]} object http.c hands
 * to handlers, built by the same url_query_add (values that are not UTF-8
 * are dropped). Then every reader a GET handler applies to that object
 * runs on it: the typed getters, run and experiment ids, page tokens, artifact paths, and the
 * filter and order_by parsers of runs/search and experiments/search. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/artifact_path.h"
#include "core/input.h"
#include "core/jsonx.h"
#include "core/reply.h"
#include "search/search.h"
#include "core/url_query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *split(char *q)
{
    json_t *obj = json_object();
    for (char *p = q; p != NULL && *p;) {
        char *amp = strchr(p, '&');
        if (amp != NULL)
            *amp = '\0';
        for (char *c = p; *c; c++)
            if (*c == '+')
                *c = ' ';
        char *eq = strchr(p, '=');
        if (eq != NULL)
            *eq = '\0';
        url_unescape(p);
        if (eq != NULL)
            url_unescape(eq + 1);
        url_query_add(obj, p, eq ? eq + 1 : "");
        p = amp ? amp + 1 : NULL;
    }
    return obj;
}

/* A failed read must leave an error reply that says why. */
static void settle(int rc, struct reply *r)
{
    if (rc == JX_BAD && (!r->is_error || r->body == NULL || r->body_len == 0))
        abort();
    reply_cleanup(r);
    reply_init(r);
}

static void search_texts(const struct input *in, struct reply *r)
{
    static const char *const names[] = {"filter", "filter_string", "order_by"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *s;
        if (jx_string(in, names[i], &s, r) != JX_OK || s == NULL) {
            settle(JX_OK, r);
            continue;
        }
        struct arena arena;
        struct search_error err;
        arena_init(&arena);
        if (i < 2) {
            struct search_node *node;
            for (int d = 0; d < 2; d++)
                if (search_parse_filter(d ? SEARCH_EXPERIMENTS : SEARCH_RUNS, s, strlen(s), &arena,
                                        &node, &err) != 0 &&
                    err.message[0] == '\0')
                    abort();
        } else {
            struct search_order o;
            if (search_parse_order(SEARCH_RUNS, s, strlen(s), &arena, &o, &err) != 0 &&
                err.message[0] == '\0')
                abort();
        }
        arena_cleanup(&arena);
    }
}

static void read_all(const struct input *in)
{
    static const char *const fields[] = {"run_id",   "run_uuid",    "experiment_id", "path",
                                         "key",      "max_results", "page_token",    "view_type",
                                         "username", "name",        "step",          "timestamp"};
    static const char *const views[] = {"ACTIVE_ONLY", "DELETED_ONLY", "ALL"};
    struct reply r;
    const char *s;
    int64_t v, offset;
    double d;
    int b, e;

    reply_init(&r);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        settle(jx_string(in, fields[i], &s, &r), &r);
        settle(jx_required_string(in, fields[i], &s, &r), &r);
        settle(jx_int64(in, fields[i], &v, &r), &r);
        settle(jx_double(in, fields[i], &d, &r), &r);
        settle(jx_bool(in, fields[i], &b, &r), &r);
        settle(jx_enum(in, fields[i], views, 3, &e, &r), &r);
    }
    settle(input_experiment_id(in, "experiment_id", &v, &r), &r);
    settle(input_run_id(in, &s, &r), &r);
    if (jx_string(in, "page_token", &s, &r) == JX_OK && s != NULL)
        (void)input_page_token_decode(s, &offset);
    settle(JX_OK, &r);
    if (jx_string(in, "path", &s, &r) == JX_OK && s != NULL) {
        size_t len;
        for (int flags = 0; flags < 4; flags++)
            if (artifact_path_check(s, flags, &len) == NULL && len > strlen(s))
                abort();
    }
    settle(JX_OK, &r);
    search_texts(in, &r);
    reply_cleanup(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16 * 1024)
        return 0;
    char *q = malloc(size + 1);
    if (q == NULL)
        return 0;
    memcpy(q, data, size);
    q[size] = '\0';
    json_t *obj = split(q);
    struct input in = {obj, 1, NULL};
    read_all(&in);
    json_decref(obj);
    free(q);
    return 0;
}
