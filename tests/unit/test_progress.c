/* progress: the shown fraction never goes back, the ETA only when it means
 * something, and the lines a terminal and a log get. */
#include "master/progress.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void test_advance_never_back(void **state) {
    (void)state;
    /* what the round-by-round figures did: 0 %, 50 %, 0 % again (a new round) */
    double seq[] = {0, 0.5, 0, 0.25, 0.75, 0.5, 1.0, 0};
    double shown = 0, last = 0;
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        shown = progress_advance(shown, seq[i]);
        assert_true(shown >= last);
        last = shown;
    }
    assert_true(shown == 1.0);
    assert_true(progress_advance(0.3, 7.0) == 1.0);       /* capped */
    assert_true(progress_advance(0.3, 0.0 / 0.0) == 0.3); /* NaN: no move */
}

static void test_eta_only_when_meaningful(void **state) {
    (void)state;
    assert_true(progress_eta(0, 10) < 0);    /* nothing done: no ETA, not "~0s" */
    assert_true(progress_eta(0.01, 10) < 0); /* too early to tell */
    assert_true(progress_eta(0.5, 1) < 0);   /* too soon */
    assert_true(progress_eta(1, 10) < 0);    /* done */
    assert_true(progress_eta(0.9, 5) < 0);   /* under a second left: no "ETA 0s" */
    assert_true(progress_eta(0.5, 10) == 10);
    assert_true(progress_eta(0.25, 3) == 9);
}

static void test_format(void **state) {
    (void)state;
    char line[256];
    progress_view_t t = {.phase = "training",
                         .frac = 0.25,
                         .newton = true,
                         .iter = 5,
                         .cg = 312,
                         .tasks_done = 1,
                         .tasks_total = 2,
                         .workers = 2,
                         .eta = 9.2};
    progress_format(&t, true, line, sizeof line);
    assert_string_equal(line, "training   [#####...............]  25% iteration 5, 312 CG steps, 2 "
                              "workers, ETA 9s");
    progress_format(&t, false, line, sizeof line);
    assert_string_equal(line, "training: 25% iteration 5, 312 CG steps, 2 workers, ETA 9s");
    progress_view_t r = {.phase = "predicting",
                         .frac = 0.5,
                         .rows_done = 1000,
                         .rows_total = 2000,
                         .tasks_done = 1,
                         .tasks_total = 2,
                         .rate = 51234,
                         .workers = 1,
                         .eta = -1};
    progress_format(&r, false, line, sizeof line);
    assert_string_equal(line, "predicting: 50% 1000/2000 rows, 51234 rows/s, 1 worker");
    char tiny[12];
    progress_format(&r, true, tiny, sizeof tiny);
    assert_int_equal(strlen(tiny), sizeof tiny - 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_advance_never_back),
        cmocka_unit_test(test_eta_only_when_meaningful),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
