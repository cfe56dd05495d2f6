/* Tests for master/search: the --C-list and --solvers parsers, liblinear
 * 2.3's start C and its C path (the doubling, the cap at 1024, the count
 * of steps with unmoved weights that ends it, the first C counting as
 * unmoved), and the choice of the best result. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "master/search.h"

static void test_clist(void **state) {
    (void)state;
    double c[SEARCH_MAX_C];
    int n = -1;
    char err[256];
    assert_int_equal(search_parse_clist("0.25,1, 4 ,1e3", c, &n, err, sizeof err), 0);
    assert_int_equal(n, 4);
    assert_true(c[0] == 0.25 && c[1] == 1 && c[2] == 4 && c[3] == 1000);
    assert_int_equal(search_parse_clist("7", c, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);

    static const struct {
        const char *in, *err;
    } bad[] = {
        {"", "--C-list: empty list (give C values such as 0.25,1,4)"},
        {"1,", "--C-list: empty item in '1,'"},
        {",1", "--C-list: empty item in ',1'"},
        {"1,,2", "--C-list: empty item in '1,,2'"},
        {"0", "--C-list: C must be positive, not '0'"},
        {"-0.5", "--C-list: C must be positive, not '-0.5'"},
        {"1,x", "--C-list: 'x' is not a number"},
        {"2c", "--C-list: '2c' is not a number"},
        {"nan", "--C-list: 'nan' is not a number"},
        {"1e999", "--C-list: '1e999' is not a number"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        assert_int_equal(search_parse_clist(bad[i].in, c, &n, err, sizeof err), -1);
        assert_string_equal(err, bad[i].err);
    }
    char many[1024] = "1";
    for (int i = 1; i <= SEARCH_MAX_C; i++)
        strcat(many, ",1");
    assert_int_equal(search_parse_clist(many, c, &n, err, sizeof err), -1);
    assert_string_equal(err, "--C-list: more than 64 values");
}

static void test_solvers(void **state) {
    (void)state;
    int s[SEARCH_MAX_SOLVERS], n = -1;
    char err[256];
    assert_int_equal(search_parse_solvers("0,L2R_L2LOSS_SVC,2,0", s, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(s[0], 0);
    assert_int_equal(s[1], 2);
    assert_int_equal(search_parse_solvers("", s, &n, err, sizeof err), -1);
    assert_string_equal(err, "--solvers: empty list (give solvers such as 0,2)");
    assert_int_equal(search_parse_solvers("0,,2", s, &n, err, sizeof err), -1);
    assert_string_equal(err, "--solvers: empty item in '0,,2'");
    assert_int_equal(search_parse_solvers("9", s, &n, err, sizeof err), -1);
    assert_string_equal(err, "--solvers: unknown solver '9'");
    assert_int_equal(search_parse_solvers("0,6", s, &n, err, sizeof err), -1);
    assert_string_equal(err, "--solvers: solver L1R_LR (6) has no exact form: search runs "
                             "solvers 0 (L2R_LR) and 2 (L2R_L2LOSS_SVC)");
}

static void test_start_c(void **state) {
    (void)state;
    /* 1 / (3000 * 37.9736) = 2^-16.8: 2^-17 */
    assert_true(search_start_c(0, 3000, 37.9736) == ldexp(1, -17));
    /* solver 2 halves it: 2^-17.8, 2^-18 */
    assert_true(search_start_c(2, 3000, 37.9736) == ldexp(1, -18));
    /* exactly a power of two stays */
    assert_true(search_start_c(0, 4, 0.25) == 1);
    /* capped at 1024 */
    assert_true(search_start_c(0, 1, 1e-9) == SEARCH_MAX_PATH_C);
    assert_true(search_start_c(0, 0, 1) == 0);
    assert_true(search_start_c(0, 10, 0) == 0);
}

/* The Cs a path visits when the weights move for the first `moving` Cs
 * after the first, then stop moving. */
static int path_len(double start, int moving, double *last) {
    search_path_t p;
    search_path_init(&p, start);
    int n = 1;
    for (int k = 0;; k++) {
        *last = p.c;
        if (!search_path_next(&p, k >= 1 && k <= moving)) break;
        n++;
    }
    return n;
}

static void test_path(void **state) {
    (void)state;
    double last;
    /* moving all the way: from 2^-3 to 2^10, 14 values */
    assert_int_equal(path_len(0.125, 1000, &last), 14);
    assert_true(last == 1024);
    /* never moving: the first C counts as unmoved, five in all */
    assert_int_equal(path_len(0.125, 0, &last), 5);
    assert_true(last == 2);
    /* moving for the second C only: counter 1, 0, 1, 2, 3, 4, 5 */
    assert_int_equal(path_len(0.125, 1, &last), 7);
    assert_true(last == 8);
    /* a start at the cap runs once */
    assert_int_equal(path_len(1024, 1000, &last), 1);
    /* moving again resets the count */
    search_path_t p;
    search_path_init(&p, 1.0 / 64);
    assert_true(search_path_next(&p, false)); /* 1 */
    assert_true(search_path_next(&p, false)); /* 2 */
    assert_true(search_path_next(&p, true));  /* 0 */
    assert_true(search_path_next(&p, false)); /* 1 */
    assert_true(p.c == 1.0 / 4);
}

static void test_best(void **state) {
    (void)state;
    search_result_t r[4] = {{.c = 1, .accuracy = 0.5},
                            {.c = 2, .accuracy = 0.7},
                            {.c = 4, .accuracy = 0.7},
                            {.c = 8, .accuracy = 0.6}};
    assert_int_equal(search_best(r, 4), 1); /* a tie keeps the first */
    assert_int_equal(search_best(r, 1), 0);
    assert_int_equal(search_best(r, 0), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clist),   cmocka_unit_test(test_solvers),
        cmocka_unit_test(test_start_c), cmocka_unit_test(test_path),
        cmocka_unit_test(test_best),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
