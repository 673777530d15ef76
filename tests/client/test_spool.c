/* Unit tests of the disk spool: order across processes' segments, acks,
 * deletion when fully acknowledged, a torn last record skipped, a checksum
 * mismatch detected and skipped. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"

static char dir[256];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/et-spool-test-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void append_n(struct et_spool *s, int from, int n)
{
    for (int i = from; i < from + n; i++) {
        char body[64];
        struct spool_rec r = {0};
        r.path = (char *)"/api/2.0/mlflow/runs/log-batch";
        snprintf(r.key, sizeof r.key, "key%d", i);
        r.npoints = (uint32_t)i;
        r.body_len = (size_t)snprintf(body, sizeof body, "{\"n\":%d}", i);
        r.body = body;
        assert_int_equal(et__spool_append(s, &r), ET_OK);
    }
}

/* Drains everything pending, checking bodies are n = first, first+1, ... */
static int drain(struct et_spool *s, int first)
{
    struct spool_rec r;
    int n = 0, rc;
    while ((rc = et__spool_peek(s, &r)) == 1) {
        char want[64];
        snprintf(want, sizeof want, "{\"n\":%d}", first + n);
        assert_string_equal(r.body, want);
        snprintf(want, sizeof want, "key%d", first + n);
        assert_string_equal(r.key, want);
        assert_string_equal(r.path, "/api/2.0/mlflow/runs/log-batch");
        assert_int_equal(et__spool_ack(s), ET_OK);
        et__spool_rec_cleanup(&r);
        n++;
    }
    assert_int_equal(rc, 0);
    return n;
}

static int count_files(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL)
        n += strstr(e->d_name, ".etspool") != NULL;
    closedir(d);
    return n;
}

/* The single segment file's path into out. */
static void segment_path(char *out, size_t n)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".etspool"))
            snprintf(out, n, "%s/%s", dir, e->d_name);
    closedir(d);
}

static void replay_in_order_and_delete(void **state)
{
    struct et_spool *s;
    assert_int_equal(et__spool_open(dir, 1, &s), ET_OK);
    append_n(s, 0, 10);
    assert_int_equal(et__spool_pending(s, 0), 10);
    assert_int_equal(drain(s, 0), 10);
    assert_int_equal(count_files(), 0); /* fully acknowledged: deleted */
    append_n(s, 10, 3);
    assert_int_equal(drain(s, 10), 3);
    et__spool_close(s);
}

static void later_process_adopts_in_order(void **state)
{
    struct et_spool *a, *b, *c;
    assert_int_equal(et__spool_open(dir, 1, &a), ET_OK);
    append_n(a, 0, 5);
    /* a acknowledges two, then "dies" (close keeps the file). */
    struct spool_rec r;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(et__spool_peek(a, &r), 1);
        et__spool_rec_cleanup(&r);
        assert_int_equal(et__spool_ack(a), ET_OK);
    }
    /* While a holds its lock, nobody else adopts it. */
    assert_int_equal(et__spool_open(dir, 0, &b), ET_OK);
    assert_int_equal(et__spool_pending(b, 0), 0);
    et__spool_close(b);
    et__spool_close(a);
    assert_int_equal(count_files(), 1);
    assert_int_equal(et__spool_open(dir, 0, &c), ET_OK);
    assert_int_equal(et__spool_pending(c, 0), 3);
    assert_int_equal(drain(c, 2), 3);
    et__spool_close(c);
    assert_int_equal(count_files(), 0);
}

static void torn_last_record_is_skipped(void **state)
{
    struct et_spool *s;
    char path[512];
    struct stat st;

    assert_int_equal(et__spool_open(dir, 1, &s), ET_OK);
    append_n(s, 0, 4);
    et__spool_close(s); /* crash: the file stays */
    segment_path(path, sizeof path);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, st.st_size - 3), 0); /* the last write was cut short */
    assert_int_equal(et__spool_open(dir, 0, &s), ET_OK);
    assert_int_equal(et__spool_pending(s, 0), 3);
    assert_int_equal(drain(s, 0), 3);
    assert_int_equal(et__spool_corrupt_count(s), 0); /* torn, not corrupt */
    et__spool_close(s);
}

static void checksum_mismatch_is_detected(void **state)
{
    struct et_spool *s;
    char path[512];

    assert_int_equal(et__spool_open(dir, 1, &s), ET_OK);
    append_n(s, 0, 3);
    et__spool_close(s);
    segment_path(path, sizeof path);
    /* Flip one byte in the first record's payload. */
    int fd = open(path, O_RDWR);
    unsigned char ch;
    assert_int_equal(pread(fd, &ch, 1, 20), 1);
    ch ^= 0x55;
    assert_int_equal(pwrite(fd, &ch, 1, 20), 1);
    close(fd);
    assert_int_equal(et__spool_open(dir, 0, &s), ET_OK);
    assert_int_equal(et__spool_corrupt_count(s), 1);
    assert_int_equal(et__spool_pending(s, 0), 2);
    assert_int_equal(drain(s, 1), 2); /* the intact records still replay, in order */
    et__spool_close(s);
}

static void crc32_known_value(void **state)
{
    assert_int_equal(et__spool_crc32("123456789", 9), 0xCBF43926u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(replay_in_order_and_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(later_process_adopts_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(torn_last_record_is_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(checksum_mismatch_is_detected, setup, teardown),
        cmocka_unit_test(crc32_known_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
