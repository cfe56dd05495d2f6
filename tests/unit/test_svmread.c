/* Tests for common/svmread: liblinear's reading rules and error wording. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/svmread.h"

typedef struct got {
    int labels[8];
    int idx[8][4];
    double val[8][4];
    size_t n[8];
    uint64_t line[8];
    size_t rows;
} got_t;

static int on_row(void *ctx, int label, const struct feature_node *x, size_t n, uint64_t line,
                  char *err, size_t errlen) {
    got_t *g = ctx;
    assert_true(g->rows < 8 && n <= 4);
    g->labels[g->rows] = label;
    for (size_t i = 0; i < n; i++) {
        g->idx[g->rows][i] = x[i].index;
        g->val[g->rows][i] = x[i].value;
    }
    g->n[g->rows] = n;
    g->line[g->rows] = line;
    g->rows++;
    return 0;
}

static int parse(const char *d, got_t *g, char *err) {
    memset(g, 0, sizeof *g);
    return svmread_parse("d.svm", d, strlen(d), 5, on_row, g, err, 256);
}

static void test_good(void **state) {
    (void)state;
    got_t g;
    char err[256];
    assert_int_equal(parse("+1 1:0.5 3:-2\n-1\t2:1e2 \n2.7  4:0\n3 1:1", &g, err), 0);
    assert_int_equal(g.rows, 4);
    assert_int_equal(g.labels[0], 1);
    assert_int_equal(g.labels[1], -1);
    assert_int_equal(g.labels[2], 2); /* liblinear groups by the int part */
    assert_int_equal(g.n[0], 2);
    assert_int_equal(g.idx[0][1], 3);
    assert_true(g.val[0][1] == -2.0);
    assert_int_equal(g.n[1], 1);
    assert_true(g.val[1][0] == 100.0);
    assert_int_equal(g.n[2], 1);
    assert_int_equal(g.line[3], 8);
}

static void test_errors(void **state) {
    (void)state;
    got_t g;
    char err[256];
    assert_int_equal(parse("1 1:1\nspam 1:1\n", &g, err), -1);
    assert_string_equal(err, "d.svm:6: Wrong input format at line 6: the label is not a number");
    assert_int_equal(parse("1 2:1 2:3\n", &g, err), -1);
    assert_string_equal(err,
                        "d.svm:5: Wrong input format at line 5: feature index 2 is not ascending");
    assert_int_equal(parse("1 3:1 2:3\n", &g, err), -1);
    assert_non_null(strstr(err, "not ascending"));
    assert_int_equal(parse("1 0:1\n", &g, err), -1);
    assert_non_null(strstr(err, "feature index 0 is not positive"));
    assert_int_equal(parse("1 -3:1\n", &g, err), -1);
    assert_non_null(strstr(err, "not positive"));
    assert_int_equal(parse("1 1:x\n", &g, err), -1);
    assert_non_null(strstr(err, "bad feature value"));
    assert_int_equal(parse("1 a:1\n", &g, err), -1);
    assert_non_null(strstr(err, "bad feature index"));
    assert_int_equal(parse("1 1:1\n\n", &g, err), -1);
    assert_string_equal(err, "d.svm:6: Wrong input format at line 6: empty line");
    assert_int_equal(parse("1e300 1:1\n", &g, err), -1);
    assert_non_null(strstr(err, "out of range"));
    char nul[] = "1 1:1\n1 2\0:1\n";
    memset(&g, 0, sizeof g);
    assert_int_equal(svmread_parse("d.svm", nul, sizeof nul - 1, 1, on_row, &g, err, 256), -1);
    assert_string_equal(err, "d.svm:2:4: NUL byte in the data (is this a text file?)");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
