/* Unit tests for the model registry's filter and order_by parser
 * (server/registry/filter.c): what each search accepts, what it refuses
 * with which words, and the prompt rule. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "registry/filter.h"

/* Parses src for kind; returns the parser's result, *f filled. */
static int parse(enum reg_kind kind, const char *src, struct arena *arena, struct reg_filter *f,
                 char *err, size_t errlen)
{
    err[0] = '\0';
    return filter_parse(kind, src, arena, f, err, errlen);
}

static void accepted(void **state)
{
    (void)state;
    struct arena arena;
    struct reg_filter f;
    char err[512];

    arena_init(&arena);
    assert_int_equal(parse(REG_MODELS, "", &arena, &f, err, sizeof err), 0);
    assert_int_equal(f.n, 0);
    assert_int_equal(parse(REG_MODELS, NULL, &arena, &f, err, sizeof err), 0);

    assert_int_equal(
        parse(REG_MODELS, "name = 'a' and tags.k LIKE \"x%\"", &arena, &f, err, sizeof err), 0);
    assert_int_equal(f.n, 2);
    assert_int_equal(f.conds[0].field, RF_NAME);
    assert_int_equal(f.conds[0].op, RO_EQ);
    assert_string_equal(f.conds[0].value, "a");
    assert_int_equal(f.conds[1].field, RF_TAG);
    assert_string_equal(f.conds[1].tag_key, "k");
    assert_int_equal(f.conds[1].op, RO_LIKE);
    assert_string_equal(f.conds[1].value, "x%");

    assert_int_equal(parse(REG_MODELS, "tag.`a.b c` ILIKE 'v' AND attribute.name != 'n'", &arena,
                           &f, err, sizeof err),
                     0);
    assert_string_equal(f.conds[0].tag_key, "a.b c");
    assert_int_equal(f.conds[0].op, RO_ILIKE);
    assert_int_equal(f.conds[1].op, RO_NE);

    assert_int_equal(parse(REG_VERSIONS,
                           "version_number >= 2 AND version_number < '3.5' AND "
                           "run_id IN ('abc', 'DEF', 'ghi') AND source_path = 's3://x'",
                           &arena, &f, err, sizeof err),
                     0);
    assert_int_equal(f.n, 4);
    assert_int_equal(f.conds[0].field, RF_VERSION);
    assert_string_equal(f.conds[0].value, "2");
    assert_string_equal(f.conds[1].value, "3.5");
    assert_int_equal(f.conds[2].op, RO_IN);
    assert_int_equal(f.conds[2].nvalues, 2); /* uppercase values are dropped */
    assert_string_equal(f.conds[2].values[1], "ghi");
    assert_int_equal(f.conds[3].field, RF_SOURCE);
    arena_cleanup(&arena);
}

static void refused(void **state)
{
    (void)state;
    static const struct {
        enum reg_kind kind;
        const char *src;
        const char *mention;
    } cases[] = {
        {REG_MODELS, "attributes.name = 'x'", "Invalid entity type"},
        {REG_MODELS, "source_path = 'x'", "Invalid attribute key"},
        {REG_MODELS, "name = x", "Expected a quoted string value"},
        {REG_MODELS, "name = 'a' OR name = 'b'", "expected AND"},
        {REG_MODELS, "(name = 'a')", "Invalid clause(s)"},
        {REG_MODELS, "name IN ('a')", "not supported"},
        {REG_MODELS, "name = 'open", "unterminated"},
        {REG_MODELS, "name", "comparison operator"},
        {REG_MODELS, "name =", "end of input"},
        {REG_MODELS, "name ! 'a'", "unexpected character"},
        {REG_MODELS, "name = 'a' AND", "Invalid clause(s)"},
        {REG_VERSIONS, "current_stage = 'None'", "Invalid attribute key"},
        {REG_VERSIONS, "run_id NOT IN ('a')", "NOT"},
        {REG_VERSIONS, "run_id IN ()", "empty"},
        {REG_VERSIONS, "run_id IN ('a'", "Invalid clause(s)"},
        {REG_VERSIONS, "version_number = 'abc'", "number"},
        {REG_VERSIONS, "version_number = 1e999", "number"},
        {REG_VERSIONS, "version_number = 'nan'", "number"},
        {REG_VERSIONS, "version_number LIKE '1'", "not supported"},
        {REG_VERSIONS, "tags. = 'a'", "empty tag key"},
    };
    char err[512];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct arena arena;
        struct reg_filter f;
        arena_init(&arena);
        if (parse(cases[i].kind, cases[i].src, &arena, &f, err, sizeof err) != -1 ||
            strstr(err, cases[i].mention) == NULL)
            fail_msg("%s: got '%s', wanted a refusal mentioning '%s'", cases[i].src, err,
                     cases[i].mention);
        arena_cleanup(&arena);
    }
}

static void prompt_rule(void **state)
{
    (void)state;
    struct arena arena;
    struct reg_filter f;
    char err[512];

    arena_init(&arena);
    assert_int_equal(parse(REG_MODELS, "name = 'a'", &arena, &f, err, sizeof err), 0);
    assert_false(f.with_prompts);
    assert_int_equal(
        parse(REG_MODELS, "tags.`mlflow.prompt.is_prompt` = 'TRUE'", &arena, &f, err, sizeof err),
        0);
    assert_true(f.with_prompts);
    assert_int_equal(f.n, 1);
    assert_int_equal(parse(REG_MODELS, "tags.`mlflow.prompt.is_prompt` != 'true' AND name = 'a'",
                           &arena, &f, err, sizeof err),
                     0);
    assert_false(f.with_prompts);
    assert_int_equal(f.n, 1); /* the comparison asking for non-prompts is dropped */
    assert_int_equal(f.conds[0].field, RF_NAME);
    arena_cleanup(&arena);
}

static void order_by(void **state)
{
    (void)state;
    struct reg_order o = {0};
    char err[512];

    assert_int_equal(filter_order_add(REG_MODELS, "name DESC", &o, err, sizeof err), 0);
    assert_int_equal(filter_order_add(REG_MODELS, "`timestamp` asc", &o, err, sizeof err), 0);
    filter_order_finish(REG_MODELS, &o);
    assert_int_equal(o.n, 2);
    assert_int_equal(o.key[0], RK_NAME);
    assert_true(o.desc[0]);
    assert_int_equal(o.key[1], RK_UPDATED);

    struct reg_order d = {0};
    filter_order_finish(REG_VERSIONS, &d);
    assert_int_equal(d.n, 3);
    assert_int_equal(d.key[0], RK_UPDATED);
    assert_true(d.desc[0]);
    assert_int_equal(d.key[1], RK_NAME);
    assert_false(d.desc[1]);
    assert_int_equal(d.key[2], RK_VERSION);
    assert_true(d.desc[2]);

    struct reg_order v = {0};
    assert_int_equal(
        filter_order_add(REG_VERSIONS, "attribute.version_number", &v, err, sizeof err), 0);
    filter_order_finish(REG_VERSIONS, &v);
    assert_int_equal(v.n, 2);
    assert_int_equal(v.key[0], RK_VERSION);
    assert_false(v.desc[0]);

    struct reg_order bad = {0};
    assert_int_equal(filter_order_add(REG_MODELS, "creation_timestamp", &bad, err, sizeof err), -1);
    assert_non_null(strstr(err, "creation_timestamp"));
    assert_int_equal(filter_order_add(REG_VERSIONS, "tags.k", &bad, err, sizeof err), -1);
    assert_int_equal(filter_order_add(REG_MODELS, "name up", &bad, err, sizeof err), -1);
    assert_int_equal(filter_order_add(REG_MODELS, "name ASC extra", &bad, err, sizeof err), -1);
    assert_int_equal(filter_order_add(REG_MODELS, "", &bad, err, sizeof err), -1);
    assert_int_equal(filter_order_add(REG_MODELS, "name", &bad, err, sizeof err), 0);
    assert_int_equal(filter_order_add(REG_MODELS, "name DESC", &bad, err, sizeof err), -1);
    assert_non_null(strstr(err, "more than once"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepted),
        cmocka_unit_test(refused),
        cmocka_unit_test(prompt_rule),
        cmocka_unit_test(order_by),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
