/* Unit tests for the lexer the registry, logged-model and trace filters
 * share (server/search/filter_lex.c): every token kind with its text and
 * key, where one token ends and the next begins, and each refusal with the
 * character and position it reports. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "search/filter_lex.h"

struct want {
    enum flt_kind kind;
    const char *text;
    const char *key; /* NULL: no key */
};

/* Lexes src and checks its tokens against want[0..n), then FLT_END. */
static void expect_tokens(const char *src, const struct want *want, size_t n)
{
    struct arena arena;
    struct flt_lexer lx;
    struct flt_token t;

    arena_init(&arena);
    flt_init(&lx, src, &arena);
    for (size_t i = 0; i < n; i++) {
        if (flt_next(&lx, &t) != 0)
            fail_msg("%s: token %zu refused (error %d)", src, i, (int)lx.error);
        if (t.kind != want[i].kind || strcmp(t.text, want[i].text) != 0)
            fail_msg("%s: token %zu is kind %d '%s', wanted kind %d '%s'", src, i, (int)t.kind,
                     t.text, (int)want[i].kind, want[i].text);
        if ((want[i].key == NULL) != (t.key == NULL) ||
            (want[i].key != NULL && strcmp(t.key, want[i].key) != 0))
            fail_msg("%s: token %zu key '%s', wanted '%s'", src, i, t.key ? t.key : "(none)",
                     want[i].key ? want[i].key : "(none)");
    }
    assert_int_equal(flt_next(&lx, &t), 0);
    assert_int_equal(t.kind, FLT_END);
    assert_int_equal(flt_next(&lx, &t), 0); /* and again at the end */
    assert_int_equal(t.kind, FLT_END);
    arena_cleanup(&arena);
}

static void comparisons(void **state)
{
    (void)state;
    const struct want a[] = {{FLT_WORD, "tags.", "a b"}, {FLT_OP, "!=", NULL},
                             {FLT_STRING, "x y", NULL},  {FLT_WORD, "AND", NULL},
                             {FLT_WORD, "name", NULL},   {FLT_OP, "<>", NULL},
                             {FLT_STRING, "it", NULL}};
    expect_tokens("tags.`a b` != 'x y' AND\tname<>\"it\"", a, sizeof a / sizeof a[0]);

    const struct want b[] = {{FLT_WORD, "run_id", NULL}, {FLT_WORD, "IN", NULL},
                             {FLT_LPAREN, "(", NULL},    {FLT_STRING, "a", NULL},
                             {FLT_COMMA, ",", NULL},     {FLT_STRING, "", NULL},
                             {FLT_RPAREN, ")", NULL}};
    expect_tokens("run_id IN ('a',\r\n'')", b, sizeof b / sizeof b[0]);

    /* a whole backticked name, a double-quoted key after a dot, dashes and
       non-ASCII bytes inside words */
    const struct want c[] = {{FLT_WORD, "", "name"},       {FLT_OP, "<=", NULL},
                             {FLT_WORD, "tag.", "k.v"},    {FLT_OP, ">=", NULL},
                             {FLT_WORD, "my-key.é", NULL}, {FLT_OP, "=", NULL},
                             {FLT_OP, "<", NULL},          {FLT_OP, ">", NULL}};
    expect_tokens("`name` <= tag.\"k.v\" >= my-key.é = < >", c, sizeof c / sizeof c[0]);
}

static void numbers(void **state)
{
    (void)state;
    /* kept as written; the callers convert them and refuse what is malformed */
    const struct want a[] = {{FLT_NUMBER, "12", NULL},     {FLT_NUMBER, "-3.5", NULL},
                             {FLT_NUMBER, "+1e-9", NULL},  {FLT_NUMBER, ".25", NULL},
                             {FLT_NUMBER, "5abc", NULL},   {FLT_NUMBER, "1.2.3", NULL},
                             {FLT_NUMBER, "1E+400", NULL}, {FLT_WORD, "-x", NULL}};
    expect_tokens("12 -3.5 +1e-9 .25 5abc 1.2.3 1E+400 -x", a, sizeof a / sizeof a[0]);

    /* a sign binds to the number only at its start or after an exponent */
    const struct want b[] = {{FLT_NUMBER, "1", NULL}, {FLT_NUMBER, "-2", NULL}};
    expect_tokens("1-2", b, sizeof b / sizeof b[0]);
}

static void refused(void **state)
{
    (void)state;
    static const struct {
        const char *src;
        enum flt_error error;
        char bad;
        size_t pos;
    } cases[] = {
        {"name = 'open", FLT_UNTERMINATED, '\'', 7},
        {"name = \"open", FLT_UNTERMINATED, '"', 7},
        {"tags.`open = 'x'", FLT_UNTERMINATED, '`', 5},
        {"`open", FLT_UNTERMINATED, '`', 0},
        {"name ! 'a'", FLT_BAD_CHAR, '!', 5},
        {"name = 'a'; DROP", FLT_BAD_CHAR, ';', 10},
        {"a + b", FLT_BAD_CHAR, '+', 2},
        {"name`x` = 'a'", FLT_BAD_BACKTICK, '`', 4},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct arena arena;
        struct flt_lexer lx;
        struct flt_token t;
        int rc;

        arena_init(&arena);
        flt_init(&lx, cases[i].src, &arena);
        while ((rc = flt_next(&lx, &t)) == 0 && t.kind != FLT_END)
            ;
        if (rc != -1 || lx.error != cases[i].error || lx.bad != cases[i].bad ||
            lx.pos != cases[i].pos)
            fail_msg("%s: rc %d error %d '%c' at %zu, wanted error %d '%c' at %zu", cases[i].src,
                     rc, (int)lx.error, lx.bad ? lx.bad : '-', lx.pos, (int)cases[i].error,
                     cases[i].bad, cases[i].pos);
        arena_cleanup(&arena);
    }
}

static void null_source(void **state)
{
    (void)state;
    expect_tokens(NULL, NULL, 0);
    expect_tokens(" \t\r\n", NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(comparisons),
        cmocka_unit_test(numbers),
        cmocka_unit_test(refused),
        cmocka_unit_test(null_source),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
