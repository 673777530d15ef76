/* Unit tests for the logged-model search language
 * (server/logged_models/filter.c): what the filter parser accepts and how
 * it records it, what it refuses with which words, the order_by field
 * names, the status spellings, and the mlflow.modelVersions normalizer
 * (server/logged_models/model_versions.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "logged_models/filter.h"
#include "logged_models/model_versions.h"

static int parse(const char *src, struct arena *arena, struct lm_filter *f, char *err, size_t len)
{
    err[0] = '\0';
    return lm_filter_parse(src, arena, f, err, len);
}

static void accepted(void **state)
{
    (void)state;
    struct arena arena;
    struct lm_filter f;
    char err[600];

    arena_init(&arena);
    assert_int_equal(parse(NULL, &arena, &f, err, sizeof err), 0);
    assert_int_equal(f.n, 0);
    assert_int_equal(parse("  ", &arena, &f, err, sizeof err), 0);
    assert_int_equal(f.n, 0);

    assert_int_equal(parse("metrics.acc >= 0.9 AND params.lr = '0.1' and tags.`a b` LIKE 'x%'",
                           &arena, &f, err, sizeof err),
                     0);
    assert_int_equal(f.n, 3);
    assert_true(f.has_metric);
    assert_int_equal(f.conds[0].entity, LME_METRIC);
    assert_string_equal(f.conds[0].key, "acc");
    assert_int_equal(f.conds[0].op, LMO_GE);
    assert_true(f.conds[0].numeric);
    assert_true(f.conds[0].number > 0.89 && f.conds[0].number < 0.91);
    assert_int_equal(f.conds[1].entity, LME_PARAM);
    assert_string_equal(f.conds[1].value, "0.1");
    assert_int_equal(f.conds[2].entity, LME_TAG);
    assert_string_equal(f.conds[2].key, "a b");
    assert_int_equal(f.conds[2].op, LMO_LIKE);

    /* keys may hold dots; double quotes stay part of the value */
    assert_int_equal(parse("params.a.b = \"x\"", &arena, &f, err, sizeof err), 0);
    assert_string_equal(f.conds[0].key, "a.b");
    assert_string_equal(f.conds[0].value, "\"x\"");

    /* attributes, bare or prefixed, with MLflow's aliases in both places */
    assert_int_equal(parse("creation_time > 5 AND attributes.last_updated_timestamp < 1e3 AND "
                           "attributes.name != 'n' AND model_type ILIKE '%sk%'",
                           &arena, &f, err, sizeof err),
                     0);
    assert_int_equal(f.conds[0].attr, LMA_CREATION_TIME);
    assert_true(f.conds[0].numeric);
    assert_int_equal(f.conds[1].attr, LMA_LAST_UPDATED_TIME);
    assert_int_equal(f.conds[2].attr, LMA_NAME);
    assert_int_equal(f.conds[2].op, LMO_NE);
    assert_false(f.conds[2].numeric);
    assert_int_equal(f.conds[3].op, LMO_ILIKE);
    assert_false(f.has_metric);

    /* status by enum name, short name, number; IN lists */
    assert_int_equal(parse("status = 'LOGGED_MODEL_READY'", &arena, &f, err, sizeof err), 0);
    assert_string_equal(f.conds[0].value, "2");
    assert_int_equal(parse("status = 'ready'", &arena, &f, err, sizeof err), 0);
    assert_string_equal(f.conds[0].value, "2");
    assert_int_equal(parse("status NOT IN ('PENDING', 3)", &arena, &f, err, sizeof err), 0);
    assert_int_equal(f.conds[0].op, LMO_NOT_IN);
    assert_int_equal(f.conds[0].nvalues, 2);
    assert_string_equal(f.conds[0].values[0], "1");
    assert_string_equal(f.conds[0].values[1], "3");
    assert_int_equal(
        parse("name IN ('a','b','c','d','e','f','g','h','i','j')", &arena, &f, err, sizeof err), 0);
    assert_int_equal(f.conds[0].nvalues, 10);
    assert_string_equal(f.conds[0].values[9], "j");

    /* many conditions grow the list */
    char many[2000] = "name = 'a'";
    for (int i = 0; i < 20; i++)
        strcat(many, " AND metrics.m > -1.5e-3");
    assert_int_equal(parse(many, &arena, &f, err, sizeof err), 0);
    assert_int_equal(f.n, 21);
    assert_true(f.conds[20].number < 0);
    arena_cleanup(&arena);
}

/* Each refused filter and a word its message must hold. */
static void refused(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"name = 'a' OR name = 'b'", "Expected a list of comparisons separated by 'AND'"},
        {"metric.acc > 1", "Invalid entity type 'metric'"},
        {"Metrics.acc > 1", "Invalid entity type 'Metrics'"},
        {"foo = 'x'", "Invalid attribute name 'foo'"},
        {"attributes.nope = 'x'", "Invalid attribute name 'nope'"},
        {"name like 'x'", "Invalid comparison operator 'like'"},
        {"name < 'x'", "for string field"},
        {"metrics.a IN (1)", "for numeric field"},
        {"metrics.a > 'x'", "Invalid numeric value 'x'"},
        {"creation_time = 'soon'", "Invalid numeric value"},
        {"status = 'DONE'", "Invalid status 'DONE'"},
        {"status IN ('READY', 'NOPE')", "Invalid status 'NOPE'"},
        {"status ILIKE '%'", "status compares with"},
        {"name = 'x", "Expected a list"},
        {"name =", "Expected a list"},
        {"name", "Expected a list"},
        {"name = 'x' AND", "Expected a list"},
        {"name = 'x' name = 'y'", "Expected a list"},
        {"name IN 'x'", "IN expects a list"},
        {"name IN ('x' 'y')", "IN expects a list"},
        {"name IN (", "IN expects a list"},
        {"name NOT LIKE 'x'", "Invalid comparison operator 'NOT LIKE'"},
        {"metrics. > 1", "a key must follow"},
        {"tags.`k", "Expected a list"},
        {"`name` = 'x'", "Invalid attribute name 'name'"},
        {"name = 'x' ; DROP", "Expected a list"},
        {"(name = 'x')", "Expected a list"},
    };
    struct arena arena;
    struct lm_filter f;
    char err[600];

    arena_init(&arena);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = parse(cases[i][0], &arena, &f, err, sizeof err);
        if (rc != -1 || strstr(err, cases[i][1]) == NULL)
            fail_msg("filter [%s]: rc %d, message [%s], wanted [%s]", cases[i][0], rc, err,
                     cases[i][1]);
    }
    arena_cleanup(&arena);
}

static void order_fields(void **state)
{
    (void)state;
    struct lm_order_field o;
    char err[300];

    assert_int_equal(lm_order_field_parse("name", &o, err, sizeof err), 0);
    assert_int_equal(o.entity, LME_ATTR);
    assert_int_equal(o.attr, LMA_NAME);
    assert_int_equal(lm_order_field_parse("creation_timestamp", &o, err, sizeof err), 0);
    assert_int_equal(o.attr, LMA_CREATION_TIME);
    assert_int_equal(lm_order_field_parse("metrics.a.b", &o, err, sizeof err), 0);
    assert_int_equal(o.entity, LME_METRIC);
    assert_string_equal(o.key, "a.b");
    assert_int_equal(lm_order_field_parse("nope", &o, err, sizeof err), -1);
    assert_string_equal(err, "Invalid order by field name: nope");
    assert_int_equal(lm_order_field_parse("params.x", &o, err, sizeof err), -1);
    assert_string_equal(err, "Invalid order by field name: params.x. Only metrics are supported.");
    assert_int_equal(lm_order_field_parse("metrics.", &o, err, sizeof err), -1);
}

static void statuses(void **state)
{
    (void)state;
    assert_int_equal(lm_status_parse("LOGGED_MODEL_STATUS_UNSPECIFIED"), 0);
    assert_int_equal(lm_status_parse("LOGGED_MODEL_PENDING"), 1);
    assert_int_equal(lm_status_parse("upload_failed"), 3);
    assert_int_equal(lm_status_parse("2"), 2);
    assert_int_equal(lm_status_parse("4"), -1);
    assert_int_equal(lm_status_parse("22"), -1);
    assert_int_equal(lm_status_parse("logged_model_ready"), -1);
    assert_string_equal(lm_status_name(3), "LOGGED_MODEL_UPLOAD_FAILED");
    assert_string_equal(lm_status_name(9), "LOGGED_MODEL_STATUS_UNSPECIFIED");
}

static void model_versions(void **state)
{
    (void)state;
    char *s = lm_model_versions_normalize(
        "[{\"name\": \"iris\", \"version\": 1}, {\"name\": \"iris\", \"version\": \"1\"},"
        " {\"name\": \"iris\", \"version\": \"2\"}, 7, {\"name\": \"x\"}]");
    assert_non_null(s);
    assert_string_equal(s, "[{\"name\": \"iris\", \"version\": \"1\"}, {\"name\": \"iris\", "
                           "\"version\": \"2\"}, 7, {\"name\": \"x\"}]");
    free(s);
    s = lm_model_versions_normalize("[]");
    assert_string_equal(s, "[]");
    free(s);
    assert_null(lm_model_versions_normalize("{\"name\": \"iris\"}"));
    assert_null(lm_model_versions_normalize("not json"));
    assert_null(lm_model_versions_normalize(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepted),       cmocka_unit_test(refused),
        cmocka_unit_test(order_fields),   cmocka_unit_test(statuses),
        cmocka_unit_test(model_versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
