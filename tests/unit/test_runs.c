/* master/runs: retention's choice (pure) and params.json's content. */
#include "master/runs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define DAY 86400000LL

/* Newest first, as the history lists them. */
static const runs_entry_t runs[] = {
    {6, 10 * DAY, true}, /* running: never removed */
    {5, 9 * DAY, false}, {4, 8 * DAY, false},
    {3, 5 * DAY, false}, {2, 2 * DAY, true}, /* queued long ago: kept too */
    {1, 1 * DAY, false},
};
#define NRUNS (sizeof runs / sizeof runs[0])

static void test_keep_nothing_by_default(void **state) {
    (void)state;
    uint32_t out[NRUNS];
    assert_int_equal(runs_expired(runs, NRUNS, 0, 0, 11 * DAY, out), 0);
}

static void test_keep_count(void **state) {
    (void)state;
    uint32_t out[NRUNS];
    size_t n = runs_expired(runs, NRUNS, 3, 0, 11 * DAY, out);
    assert_int_equal(n, 2); /* 6 5 4 are the newest three; 2 is queued */
    assert_int_equal(out[0], 3);
    assert_int_equal(out[1], 1);
    n = runs_expired(runs, NRUNS, 1, 0, 11 * DAY, out);
    assert_int_equal(n, 4);
}

static void test_max_age(void **state) {
    (void)state;
    uint32_t out[NRUNS];
    /* now day 11, 4 days: runs started before day 7 go (3 and 1; 2 is queued) */
    size_t n = runs_expired(runs, NRUNS, 0, 4, 11 * DAY, out);
    assert_int_equal(n, 2);
    assert_int_equal(out[0], 3);
    assert_int_equal(out[1], 1);
    /* exactly max_age old is kept */
    n = runs_expired(runs, NRUNS, 0, 3, 11 * DAY, out);
    assert_int_equal(n, 2);
    /* both rules: a run goes when either says so */
    n = runs_expired(runs, NRUNS, 2, 9, 11 * DAY, out);
    assert_int_equal(n, 3); /* 4, 3 (count), 1 (count and age) */
    assert_int_equal(out[0], 4);
}

static void test_params(void **state) {
    (void)state;
    config_t c;
    master_opts_t o;
    memset(&o, 0, sizeof o);
    config_defaults(&c);
    o.cmd = CMD_TRAIN;
    o.cv_folds = 5;
    o.min_workers = 2;
    c.model.C = 4;
    json_object *p = runs_params(&c, &o, 3), *v;
    assert_non_null(p);
    assert_true(json_object_object_get_ex(p, "mode", &v));
    assert_string_equal(json_object_get_string(v), "train");
    assert_true(json_object_object_get_ex(p, "data", &v));
    assert_string_equal(json_object_get_string(v), "Data/train.csv");
    assert_true(json_object_object_get_ex(p, "C", &v));
    assert_true(json_object_get_double(v) == 4);
    assert_true(json_object_object_get_ex(p, "cv", &v));
    assert_int_equal(json_object_get_int(v), 5);
    assert_true(json_object_object_get_ex(p, "shard_rows", &v));
    assert_int_equal(json_object_get_int(v), 20000);
    assert_true(json_object_object_get_ex(p, "workers", &v));
    assert_int_equal(json_object_get_int(v), 3);
    json_object_put(p);
    o.cmd = CMD_TEST; /* a test job: its data, no training options */
    p = runs_params(&c, &o, 0);
    assert_true(json_object_object_get_ex(p, "data", &v));
    assert_string_equal(json_object_get_string(v), "Data/test.csv");
    assert_false(json_object_object_get_ex(p, "C", &v));
    json_object_put(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keep_nothing_by_default),
        cmocka_unit_test(test_keep_count),
        cmocka_unit_test(test_max_age),
        cmocka_unit_test(test_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
