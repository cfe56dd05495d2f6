/* Unit tests for master/journal: exact training's restart point in SQLite. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
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

/* The training driver saves after every Newton iteration on the job's own
 * thread; another connection (the dashboard's history writer shares the
 * file) may hold the write lock. A save then neither waits for the lock nor
 * fails: it is written once the lock is free, and classes saved meanwhile
 * are merged (the newest state of each class wins). */
static void test_save_while_locked(void **state) {
    (void)state;
    char err[256];
    journal_t *j = journal_open(path, err, sizeof err);
    assert_non_null(j);
    sqlite3 *other = NULL;
    assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    double w0[2] = {1, 2}, w1[2] = {3, 4};
    journal_class_t c[2] = {{.cls = 0, .iter = 1, .delta = 1, .gnorm0 = 1, .n = 2, .w = w0},
                            {.cls = 1, .iter = 1, .delta = 1, .gnorm0 = 1, .n = 2, .w = w1}};
    assert_int_equal(journal_save(j, "k", c, 2, err, sizeof err), 0);
    w0[0] = 5; /* the journal copied the weights: the caller's vector moves on */
    c[0].iter = 2;
    assert_int_equal(journal_save(j, "k", c, 1, err, sizeof err), 0);
    assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);

    /* a load on the same handle sees every save made before it */
    journal_class_t out[2];
    assert_int_equal(journal_load(j, "k", 2, 2, out, err, sizeof err), 2);
    assert_int_equal(out[0].iter, 2);
    assert_true(out[0].w[0] == 5 && out[0].w[1] == 2);
    assert_int_equal(out[1].iter, 1);
    assert_true(out[1].w[0] == 3 && out[1].w[1] == 4);
    journal_free_loaded(out, 2);
    journal_close(&j);
}

/* A save not yet written when the journal closes is written, not dropped. */
static void test_close_writes_pending(void **state) {
    (void)state;
    char err[256];
    journal_t *j = journal_open(path, err, sizeof err);
    assert_non_null(j);
    double w[3] = {0.5, -0.5, 2};
    journal_class_t c = {
        .cls = 2, .iter = 7, .delta = 3, .gnorm0 = 4, .done = true, .n = 3, .w = w};
    for (int i = 0; i < 50; i++) {
        c.iter = 7 + i;
        assert_int_equal(journal_save(j, "k", &c, 1, err, sizeof err), 0);
    }
    journal_close(&j);
    j = journal_open(path, err, sizeof err);
    assert_non_null(j);
    journal_class_t out[3];
    assert_int_equal(journal_load(j, "k", 3, 3, out, err, sizeof err), 1);
    assert_int_equal(out[2].iter, 56);
    assert_true(out[2].done);
    assert_memory_equal(out[2].w, w, sizeof w);
    journal_free_loaded(out, 3);
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
        cmocka_unit_test_setup_teardown(test_save_while_locked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_writes_pending, setup, teardown),
        cmocka_unit_test(test_open_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
