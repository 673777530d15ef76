/* Unit tests for the trace search language (server/traces/filter.c): what
 * the filter parser accepts and how it records it, what it refuses with
 * which words, the order_by strings and their duplicates, the State
 * spellings; and the Timestamp/Duration forms of the V3 protocol
 * (server/traces/api_traces_common.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "traces/api_traces_common.h"
#include "traces/filter.h"

static int parse(const char *src, struct arena *arena, struct trace_filter *f, char *err,
                 size_t len)
{
    err[0] = '\0';
    return trace_filter_parse(src, arena, f, err, len);
}

static void accepted(void **state)
{
    (void)state;
    struct arena arena;
    struct trace_filter f;
    char err[600];

    arena_init(&arena);
    assert_int_equal(parse(NULL, &arena, &f, err, sizeof err), 0);
    assert_int_equal(f.n, 0);
    assert_int_equal(parse("   ", &arena, &f, err, sizeof err), 0);
    assert_int_equal(f.n, 0);

    assert_int_equal(parse("attributes.status = 'ERROR' and tag.`mlflow.traceName` LIKE 'p%' AND "
                           "timestamp_ms >= 1700000000000 AND request_metadata.k IS NOT NULL AND "
                           "run_id NOT IN ('a', 'b') AND metadata.x IS NULL",
                           &arena, &f, err, sizeof err),
                     0);
    assert_int_equal(f.n, 6);
    assert_int_equal(f.conds[0].entity, TE_ATTR);
    assert_int_equal(f.conds[0].attr, TA_STATUS);
    assert_string_equal(f.conds[0].value, "2");
    assert_int_equal(f.conds[1].entity, TE_TAG);
    assert_string_equal(f.conds[1].key, "mlflow.traceName");
    assert_int_equal(f.conds[1].op, TO_LIKE);
    assert_string_equal(f.conds[1].value, "p%");
    assert_true(f.conds[2].numeric);
    assert_int_equal(f.conds[2].op, TO_GE);
    assert_true(f.conds[2].number == 1700000000000LL);
    assert_int_equal(f.conds[3].entity, TE_META);
    assert_int_equal(f.conds[3].op, TO_IS_NOT_NULL);
    assert_int_equal(f.conds[4].attr, TA_RUN_ID);
    assert_int_equal(f.conds[4].op, TO_NOT_IN);
    assert_int_equal(f.conds[4].nvalues, 2);
    assert_string_equal(f.conds[4].values[1], "b");
    assert_int_equal(f.conds[5].op, TO_IS_NULL);

    /* aliases: bare names, trace./attribute. prefixes, V3 names */
    assert_int_equal(parse("trace.state IN ('OK', 'in_progress') AND execution_duration < 5 AND "
                           "end_time_ms = 7 AND request_id = 'x' AND client_request_id ILIKE 'C%' "
                           "AND name != 'n'",
                           &arena, &f, err, sizeof err),
                     0);
    assert_int_equal(f.n, 6);
    assert_string_equal(f.conds[0].values[0], "1");
    assert_string_equal(f.conds[0].values[1], "3");
    assert_int_equal(f.conds[1].attr, TA_EXECUTION_TIME);
    assert_int_equal(f.conds[2].attr, TA_END_TIME);
    assert_int_equal(f.conds[3].attr, TA_TRACE_ID);
    assert_int_equal(f.conds[4].op, TO_ILIKE);
    assert_int_equal(f.conds[5].op, TO_NE);
    arena_cleanup(&arena);
}

static void refused(void **state)
{
    (void)state;
    static const struct {
        const char *filter;
        const char *words;
    } cases[] = {
        {"span.name = 'x'", "span"},
        {"feedback.correct = 'yes'", "feedback"},
        {"expectation.x = 'y'", "expectation"},
        {"text ILIKE '%x%'", "text"},
        {"nope = 'x'", "nope"},
        {"experiment_id = '1'", "experiment_id"},
        {"status = 'DONE'", "DONE"},
        {"status LIKE 'O%'", "status"},
        {"timestamp_ms > 'soon'", "numeric"},
        {"timestamp_ms > 1.5", "numeric"},
        {"timestamp_ms > 99999999999999999999", "numeric"},
        {"timestamp_ms IN (1, 2)", "numeric"},
        {"execution_time LIKE '1%'", "numeric"},
        {"name < 'b'", "string"},
        {"tag.k = 'open", "unterminated"},
        {"tag.k = 'a' OR tag.k = 'b'", "AND"},
        {"tag.k = 'a' AND", "AND"},
        {"status IS NULL", "tags and metadata"},
        {"tag.k IS 'x'", "NULL"},
        {"tag. = 'x'", "key"},
        {"tag.k NOT LIKE 'x'", "NOT LIKE"},
        {"timestamp_ms IN ('a')", "numeric"},
        {"tag.k IN 'a'", "list"},
        {"tag.k IN ('a' 'b')", "list"},
        {"tag.k = 'a' ; DROP TABLE traces", "character"},
    };
    struct arena arena;
    struct trace_filter f;
    char err[600];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        arena_init(&arena);
        assert_int_equal(parse(cases[i].filter, &arena, &f, err, sizeof err), -1);
        if (strstr(err, cases[i].words) == NULL)
            fail_msg("'%s': message '%s' lacks '%s'", cases[i].filter, err, cases[i].words);
        arena_cleanup(&arena);
    }
}

static void many_comparisons(void **state)
{
    (void)state;
    struct arena arena;
    struct trace_filter f;
    char err[600], src[4096] = "";

    arena_init(&arena);
    for (int i = 0; i < 64; i++)
        strcat(src, i ? " AND tag.k = 'v'" : "tag.k = 'v'");
    assert_int_equal(parse(src, &arena, &f, err, sizeof err), 0);
    assert_int_equal(f.n, 64);
    strcat(src, " AND tag.k = 'v'");
    assert_int_equal(parse(src, &arena, &f, err, sizeof err), -1);
    assert_non_null(strstr(err, "64"));
    arena_cleanup(&arena);
}

static void order_by(void **state)
{
    (void)state;
    struct arena arena;
    struct trace_order a, b;
    char err[600];

    arena_init(&arena);
    assert_int_equal(trace_order_parse("timestamp_ms DESC", &arena, &a, err, sizeof err), 0);
    assert_int_equal(a.attr, TA_TIMESTAMP);
    assert_false(a.ascending);
    assert_int_equal(trace_order_parse("attributes.timestamp", &arena, &b, err, sizeof err), 0);
    assert_true(b.ascending);
    assert_true(trace_order_same(&a, &b));
    assert_int_equal(trace_order_parse("tag.`a b` asc", &arena, &a, err, sizeof err), 0);
    assert_int_equal(a.entity, TE_TAG);
    assert_string_equal(a.key, "a b");
    assert_int_equal(trace_order_parse("metadata.`a b`", &arena, &b, err, sizeof err), 0);
    assert_false(trace_order_same(&a, &b));
    assert_int_equal(trace_order_parse("experiment_id", &arena, &b, err, sizeof err), 0);
    assert_int_equal(trace_order_parse("run_id", &arena, &b, err, sizeof err), 0);
    assert_int_equal(trace_order_parse("timestamp_ms DESC x", &arena, &b, err, sizeof err), -1);
    assert_int_equal(trace_order_parse("timestamp_ms UP", &arena, &b, err, sizeof err), -1);
    assert_non_null(strstr(err, "ASC"));
    assert_int_equal(trace_order_parse("span.name", &arena, &b, err, sizeof err), -1);
    assert_int_equal(trace_order_parse("client_request_id", &arena, &b, err, sizeof err), -1);
    assert_int_equal(trace_order_parse("", &arena, &b, err, sizeof err), -1);
    arena_cleanup(&arena);
}

static void states(void **state)
{
    (void)state;
    assert_int_equal(trace_state_parse("OK"), 1);
    assert_int_equal(trace_state_parse("error"), 2);
    assert_int_equal(trace_state_parse("IN_PROGRESS"), 3);
    assert_int_equal(trace_state_parse("TRACE_STATUS_UNSPECIFIED"), 0);
    assert_int_equal(trace_state_parse("STATE_UNSPECIFIED"), 0);
    assert_int_equal(trace_state_parse("2"), 2);
    assert_int_equal(trace_state_parse("4"), -1);
    assert_int_equal(trace_state_parse(""), -1);
    assert_string_equal(trace_state_name(3), "IN_PROGRESS");
    assert_string_equal(trace_status_name(0), "TRACE_STATUS_UNSPECIFIED");
    assert_string_equal(trace_state_name(9), "STATE_UNSPECIFIED");
}

static void times(void **state)
{
    (void)state;
    int64_t ms;
    char buf[40];

    assert_int_equal(trace_parse_time("2025-08-20T10:00:00.123Z", &ms), 0);
    assert_true(ms == 1755684000123LL);
    assert_string_equal(trace_format_time(ms, buf, sizeof buf), "2025-08-20T10:00:00.123Z");
    assert_int_equal(trace_parse_time("2025-08-20T12:00:00.123456789+02:00", &ms), 0);
    assert_true(ms == 1755684000123LL);
    assert_int_equal(trace_parse_time("2025-08-20T10:00:00Z", &ms), 0);
    assert_true(ms == 1755684000000LL);
    assert_int_equal(trace_parse_time("2025-08-20T10:00:00", &ms), -1);
    assert_int_equal(trace_parse_time("2025-13-20T10:00:00Z", &ms), -1);
    assert_int_equal(trace_parse_time("2025-08-20T10:00:00.Z", &ms), -1);
    assert_int_equal(trace_parse_time("2025-08-20T10:00:00.1234567891Z", &ms), -1);
    assert_int_equal(trace_parse_time("yesterday", &ms), -1);
    assert_int_equal(trace_parse_time("2025-08-20T10:00:00Zjunk", &ms), -1);

    assert_int_equal(trace_parse_duration("1.5s", &ms), 0);
    assert_true(ms == 1500);
    assert_int_equal(trace_parse_duration("0s", &ms), 0);
    assert_true(ms == 0);
    assert_int_equal(trace_parse_duration("2.000000001s", &ms), 0);
    assert_true(ms == 2000);
    assert_string_equal(trace_format_duration(1234, buf, sizeof buf), "1.234s");
    assert_string_equal(trace_format_duration(2000, buf, sizeof buf), "2s");
    assert_int_equal(trace_parse_duration("-1s", &ms), -1);
    assert_int_equal(trace_parse_duration("1", &ms), -1);
    assert_int_equal(trace_parse_duration("1.s", &ms), -1);
    assert_int_equal(trace_parse_duration("99999999999999999999s", &ms), -1);
}

static void ids(void **state)
{
    (void)state;
    assert_true(trace_id_valid("0af7651916cd43dd8448eb211c80319c"));
    assert_true(trace_id_valid("tr-0af7651916cd43dd8448eb211c80319c"));
    assert_false(trace_id_valid("tr-0AF7651916cd43dd8448eb211c80319c"));
    assert_false(trace_id_valid("tr-0af7651916cd43dd8448eb211c80319"));
    assert_false(trace_id_valid("0af7651916cd43dd8448eb211c80319c0"));
    assert_false(trace_id_valid(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepted), cmocka_unit_test(refused), cmocka_unit_test(many_comparisons),
        cmocka_unit_test(order_by), cmocka_unit_test(states),  cmocka_unit_test(times),
        cmocka_unit_test(ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
