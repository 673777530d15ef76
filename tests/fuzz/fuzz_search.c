/* libFuzzer target for the search filter language: lexer, parser, renderer
 * and SQL compiler. The first byte picks what to parse (run filter,
 * experiment filter, order_by entry); the rest is the text, not
 * NUL-terminated. Checks that the compiled SQL never carries user text
 * (no byte >= 0x80, every $n within the bound parameters). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search/search.h"
#include "search/search_sql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_sql(const struct sql_query *q)
{
    const char *s = q->text.data;
    for (size_t i = 0; s[i]; i++) {
        if ((unsigned char)s[i] >= 0x80)
            abort(); /* user text reached the SQL */
        if (s[i] == '$') {
            long n = strtol(s + i + 1, NULL, 10);
            if (n < 1 || n > q->nparams)
                abort();
        }
    }
}

static void filter(enum search_dialect d, const char *text, size_t len)
{
    struct arena arena;
    struct search_error err;
    struct search_node *node;
    char buf[256];

    arena_init(&arena);
    if (search_parse_filter(d, text, len, &arena, &node, &err) == 0) {
        struct sql_query q;
        search_render(node, buf, sizeof buf);
        sq_init(&q, &arena);
        search_sql_filter(&q, d, node);
        check_sql(&q);
        sq_cleanup(&q);
    } else if (err.column < 1 || strstr(err.message, "at column") == NULL) {
        abort(); /* every error names its position */
    }
    arena_cleanup(&arena);
}

static void order(const char *text, size_t len)
{
    struct arena arena;
    struct search_error err;
    struct search_order o;

    arena_init(&arena);
    if (search_parse_order(SEARCH_RUNS, text, len, &arena, &o, &err) == 0) {
        struct sql_query q;
        struct sbuf joins;
        struct search_sort_key key;
        sq_init(&q, &arena);
        sbuf_init(&joins);
        search_sql_sort_key(&q, &joins, SEARCH_RUNS, &o, 0, &key);
        if (joins.data)
            for (size_t i = 0; joins.data[i]; i++)
                if ((unsigned char)joins.data[i] >= 0x80)
                    abort();
        sbuf_cleanup(&joins);
        sq_cleanup(&q);
    }
    arena_cleanup(&arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    /* a private copy without a terminator, so reads past len are caught */
    size_t len = size - 1;
    char *text = malloc(len ? len : 1);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, len);
    switch (data[0] % 3) {
    case 0:
        filter(SEARCH_RUNS, text, len);
        break;
    case 1:
        filter(SEARCH_EXPERIMENTS, text, len);
        break;
    default:
        order(text, len);
        break;
    }
    free(text);
    return 0;
}
