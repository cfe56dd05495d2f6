/* Unit tests for master/journal: exact training's restart point in SQLite. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "master/journal.h"

static char path[64];

static int setup(void **state) {
    (void)state;
    snprintf(path, sizeof path, "/tmp/test_journal.%ld.db", (long)getpid());
    return 0;
}

static int teardown(void **state) {
    (void)state;
    char p[96];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    return 0;
}

static void test_round_trip(void **state) {
    (void)state;
    char err[256];
    journal_t *j = journal_open(path, err, sizeof err);
    assert_non_null(j);
    double w0[3] = {1, 2, 3}, w1[3] = {-1, 0.5, 1e-300};
    journal_class_t c[2] = {
        {.cls = 0, .iter = 3, .delta = 0.25, .gnorm0 = 9, .n = 3, .w = w0},
        {.cls = 1, .iter = 5, .delta = 2, .gnorm0 = 8, .done = true, .n = 3, .w = w1}};
    assert_int_equal(journal_save(j, "k1", c, 2, err, sizeof err), 0);
    /* a later iteration of class 0 replaces the earlier row */
    w0[0] = 7;
    c[0].iter = 4;
    assert_int_equal(journal_save(j, "k1", c, 1, err, sizeof err), 0);
    journal_close(&j);
    assert_null(j);

    j = journal_open(path, err, sizeof err);
    assert_non_null(j);
    journal_class_t out[2];
    assert_int_equal(journal_load(j, "k1", 2, 3, out, err, sizeof err), 2);
    assert_int_equal(out[0].iter, 4);
    assert_true(out[0].w[0] == 7);
    assert_true(out[0].delta == 0.25);
    assert_false(out[0].done);
    assert_int_equal(out[1].iter, 5);
    assert_true(out[1].done);
    assert_memory_equal(out[1].w, w1, sizeof w1);
    journal_free_loaded(out, 2);
    /* another key finds nothing */
    assert_int_equal(journal_load(j, "k2", 2, 3, out, err, sizeof err), 0);
    /* a row that does not fit the job is an error, not a crash */
    assert_int_equal(journal_load(j, "k1", 2, 4, out, err, sizeof err), -1);
    assert_int_equal(journal_load(j, "k1", 1, 3, out, err, sizeof err), -1);
    assert_int_equal(journal_forget(j, "k1", err, sizeof err), 0);
    assert_int_equal(journal_load(j, "k1", 2, 3, out, err, sizeof err), 0);
    journal_close(&j);
}

static void test_open_fails(void **state) {
    (void)state;
    char err[256] = "";
    assert_null(journal_open("/nonexistent-dir/x/y.db", err, sizeof err));
    assert_true(strlen(err) > 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test(test_open_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
