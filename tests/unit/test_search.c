/* Data-driven tests of the filter language: every tests/data/search/NAME.case
 * file holds records separated by blank lines:
 *   dialect: runs | experiments     (optional, default runs)
 *   filter: <text>  or  order: <text>
 *   ast: <canonical rendering>      (search_render; for order: "<entity>:[key] ASC|DESC")
 *   sql: <compiled WHERE fragment>  params: <p1> | <p2> ...
 *   error: <substring of the message>   column: <N>
 * Set SEARCH_CASE_PRINT=1 to print what each record produced. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "search/search.h"
#include "search/search_sql.h"

#ifndef SEARCH_CASE_DIR
#error "SEARCH_CASE_DIR must name tests/data/search"
#endif

struct record {
    char dialect[32];
    char filter[4096];
    int is_order;
    int has_filter;
    char ast[4096];
    char sql[8192];
    char params[4096];
    char error[512];
    int column;
    int line;
};

static int failures;

static void fail_record(const char *file, const struct record *rec, const char *what,
                        const char *want, const char *got)
{
    fprintf(stderr, "%s:%d: %s mismatch for %s\n  want: %s\n  got:  %s\n", file, rec->line, what,
            rec->filter, want, got);
    failures++;
}

/* Renders an order key like the ast line of an order record. */
static void render_order(const struct search_order *o, char *buf, size_t size)
{
    static const char *const entities[] = {"metric", "param", "tag", "attr", "dataset"};
    char key[512];
    if (o->ident.attr != SA_NONE) {
        /* reuse the filter renderer's attribute names via a fake comparison */
        struct search_node n = {.kind = SN_CMP, .ident = o->ident, .op = SO_IS_NULL};
        search_render(&n, key, sizeof key);
        char *sp = strchr(key, ' ');
        if (sp)
            *sp = '\0';
        snprintf(buf, size, "%s %s", key, o->desc ? "DESC" : "ASC");
        return;
    }
    snprintf(buf, size, "%s:[%s] %s", entities[o->ident.entity], o->ident.key,
             o->desc ? "DESC" : "ASC");
}

static void check_error(const char *file, const struct record *rec, int rc,
                        const struct search_error *err, const char *got_ok)
{
    if (rc == 0) {
        fail_record(file, rec, "error", rec->error, got_ok);
        return;
    }
    if (strstr(err->message, rec->error) == NULL)
        fail_record(file, rec, "error", rec->error, err->message);
    if (rec->column && rec->column != err->column) {
        char want[16], got[16];
        snprintf(want, sizeof want, "%d", rec->column);
        snprintf(got, sizeof got, "%d", err->column);
        fail_record(file, rec, "column", want, got);
    }
}

static void check_sql(const char *file, const struct record *rec, enum search_dialect d,
                      const struct search_node *node, struct arena *arena)
{
    struct sql_query q;
    char params[4096] = "";
    size_t used = 0;

    sq_init(&q, arena);
    search_sql_filter(&q, d, node);
    for (int i = 0; i < q.nparams && used < sizeof params; i++)
        used += (size_t)snprintf(params + used, sizeof params - used, "%s%s", i ? " | " : "",
                                 q.params[i] ? q.params[i] : "NULL");
    if (getenv("SEARCH_CASE_PRINT"))
        printf("sql: %s\nparams: %s\n", q.text.data, params);
    if (rec->sql[0] && strcmp(rec->sql, q.text.data) != 0)
        fail_record(file, rec, "sql", rec->sql, q.text.data);
    if (rec->sql[0] && strcmp(rec->params, params) != 0)
        fail_record(file, rec, "params", rec->params, params);
    sq_cleanup(&q);
}

static void run_record(const char *file, const struct record *rec)
{
    struct arena arena;
    struct search_error err;
    char got[4096] = "";
    enum search_dialect d =
        strcmp(rec->dialect, "experiments") == 0 ? SEARCH_EXPERIMENTS : SEARCH_RUNS;
    int rc;

    arena_init(&arena);
    if (rec->is_order) {
        struct search_order o;
        rc = search_parse_order(d, rec->filter, strlen(rec->filter), &arena, &o, &err);
        if (rc == 0)
            render_order(&o, got, sizeof got);
    } else {
        struct search_node *node;
        rc = search_parse_filter(d, rec->filter, strlen(rec->filter), &arena, &node, &err);
        if (rc == 0) {
            search_render(node, got, sizeof got);
            if (getenv("SEARCH_CASE_PRINT"))
                printf("%s: %s\nast: %s\n", rec->is_order ? "order" : "filter", rec->filter, got);
            check_sql(file, rec, d, node, &arena);
        }
    }
    if (getenv("SEARCH_CASE_PRINT") && rc != 0)
        printf("%s\nerror: %s (column %d)\n\n", rec->filter, err.message, err.column);
    if (rec->error[0])
        check_error(file, rec, rc, &err, got);
    else if (rc != 0)
        fail_record(file, rec, "parse", rec->ast, err.message);
    else if (rec->ast[0] && strcmp(rec->ast, got) != 0)
        fail_record(file, rec, "ast", rec->ast, got);
    arena_cleanup(&arena);
}

/* Copies the value of "name: value" into out when line starts with name. */
static int field(const char *line, const char *name, char *out, size_t size)
{
    size_t n = strlen(name);
    if (strncmp(line, name, n) != 0 || line[n] != ':')
        return 0;
    const char *v = line + n + 1;
    if (*v == ' ')
        v++;
    size_t len = strlen(v);
    if (len >= size)
        len = size - 1; /* a case longer than the record's field is cut, and then fails */
    memcpy(out, v, len);
    out[len] = '\0';
    return 1;
}

static void parse_line(struct record *rec, const char *line)
{
    char num[32];
    if (field(line, "filter", rec->filter, sizeof rec->filter)) {
        rec->has_filter = 1;
    } else if (field(line, "order", rec->filter, sizeof rec->filter)) {
        rec->has_filter = 1;
        rec->is_order = 1;
    } else if (field(line, "column", num, sizeof num)) {
        rec->column = (int)strtol(num, NULL, 10);
    } else if (!field(line, "dialect", rec->dialect, sizeof rec->dialect) &&
               !field(line, "ast", rec->ast, sizeof rec->ast) &&
               !field(line, "sql", rec->sql, sizeof rec->sql) &&
               !field(line, "params", rec->params, sizeof rec->params) &&
               !field(line, "error", rec->error, sizeof rec->error)) {
        fprintf(stderr, "unknown line: %s\n", line);
        failures++;
    }
}

static int run_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[8192];
    struct record rec;
    int count = 0, lineno = 0;

    assert_non_null(f);
    memset(&rec, 0, sizeof rec);
    for (;;) {
        char *got = fgets(line, sizeof line, f);
        lineno++;
        if (got != NULL)
            line[strcspn(line, "\n")] = '\0';
        if (got == NULL || line[0] == '\0') {
            if (rec.has_filter) {
                run_record(path, &rec);
                count++;
            }
            memset(&rec, 0, sizeof rec);
            if (got == NULL)
                break;
            continue;
        }
        if (line[0] == '#')
            continue;
        if (!rec.has_filter && rec.line == 0)
            rec.line = lineno;
        parse_line(&rec, line);
    }
    fclose(f);
    return count;
}

static void test_case_files(void **state)
{
    DIR *dir = opendir(SEARCH_CASE_DIR);
    struct dirent *e;
    int files = 0, records = 0;
    char path[1024];

    (void)state;
    assert_non_null(dir);
    while ((e = readdir(dir)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".case") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", SEARCH_CASE_DIR, e->d_name);
        records += run_file(path);
        files++;
    }
    closedir(dir);
    printf("search cases: %d records in %d files, %d failures\n", records, files, failures);
    assert_true(files > 0);
    assert_true(records >= 50);
    assert_int_equal(failures, 0);
}

/* Inputs that are not NUL-terminated are read only within their length. */
static void test_length_bound(void **state)
{
    struct arena arena;
    struct search_error err;
    struct search_node *node;
    const char text[] = "metrics.a > 1xyz";

    (void)state;
    arena_init(&arena);
    assert_int_equal(search_parse_filter(SEARCH_RUNS, text, 13, &arena, &node, &err), 0);
    assert_non_null(node);
    assert_string_equal(node->text, "1");
    arena_cleanup(&arena);
}

/* Every user value ends up in params, never in the SQL text. */
static void test_values_are_bound(void **state)
{
    struct arena arena;
    struct search_error err;
    struct search_node *node;
    struct sql_query q;
    const char *f = "params.`x'; DROP TABLE runs; --` = 'y''); DELETE FROM runs; --' OR "
                    "tags.evil LIKE '%$1%' OR metrics.`\"q\"` > 1";

    (void)state;
    arena_init(&arena);
    assert_int_equal(search_parse_filter(SEARCH_RUNS, f, strlen(f), &arena, &node, &err), 0);
    sq_init(&q, &arena);
    search_sql_filter(&q, SEARCH_RUNS, node);
    assert_null(strstr(q.text.data, "DROP"));
    assert_null(strstr(q.text.data, "DELETE"));
    assert_null(strstr(q.text.data, "evil"));
    assert_null(strstr(q.text.data, "\"q\""));
    assert_true(q.nparams >= 6);
    sq_cleanup(&q);
    arena_cleanup(&arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case_files),
        cmocka_unit_test(test_length_bound),
        cmocka_unit_test(test_values_are_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
