/* Tests for common/svmread: liblinear's reading rules and error wording. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/svmread.h"
#include "tests/oracle/svmread_ref.h"

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

/* Pieces of lines, most of them odd: the in-place reader must agree with
 * liblinear's strtok reading on every combination. */
static const char *const LABELS[] = {
    "1",   "+1", "-1", "2.7", "1e0", "0x10",  "inf",        "nan",         "1e300", "spam", "",
    "\r1", "-0", "3.", ".5",  "1e",  "00012", "2147483647", "-2147483649", "1.5e1", "\v2"};
static const char *const BLANKS[] = {" ", "\t", "  ", " \t", "\r", "\v", "\f", ""};
static const char *const INDICES[] = {"0",           "-3",         "+4",         " 5",  "5 ", "007",
                                      "99999999999", "2147483646", "2147483645", "a",   "",   ":3",
                                      "1.5",         "123456789",  "1234567890", "\n4", "4\n"};
static const char *const COLONS[] = {":", "::", ": ", ":\t", ""};
static const char *const VALUES[] = {"0.5",
                                     "-2",
                                     "1e2",
                                     "1e-310",
                                     "1e400",
                                     "0x1p3",
                                     "inf",
                                     "nan",
                                     "0.0039215686",
                                     "1.23456789012345678",
                                     "x",
                                     "",
                                     "5.",
                                     ".5",
                                     "1e+5",
                                     "0.5\r",
                                     "0.5junk",
                                     "3:4",
                                     "-0",
                                     "0e999",
                                     "1e-22",
                                     "1e22",
                                     "123456789012345",
                                     "1234567890123456",
                                     "4.9e-324",
                                     "\r7"};
static const char *const ENDS[] = {"\n", "", "\r\n", " \n", "\t\n", " junk\n", " 9\n"};

#define PICK(a) (a[(size_t)rand() % (sizeof a / sizeof a[0])])

static void append(char *buf, size_t cap, size_t *len, const char *s) {
    size_t n = strlen(s);
    if (*len + n < cap) {
        memcpy(buf + *len, s, n);
        *len += n;
        buf[*len] = '\0';
    }
}

static void test_same_as_liblinear_odd_tokens(void **state) {
    (void)state;
    srand(12345);
    char buf[4096], why[1200];
    for (int iter = 0; iter < 30000; iter++) {
        size_t len = 0;
        buf[0] = '\0';
        int lines = 1 + rand() % 3;
        for (int l = 0; l < lines; l++) {
            append(buf, sizeof buf, &len, rand() % 4 ? LABELS[rand() % 3] : PICK(LABELS));
            int feats = rand() % 4;
            int idx = 0;
            for (int f = 0; f < feats; f++) {
                append(buf, sizeof buf, &len, rand() % 3 ? " " : PICK(BLANKS));
                char num[16];
                idx += 1 + rand() % 3;
                snprintf(num, sizeof num, "%d", idx);
                append(buf, sizeof buf, &len, rand() % 5 ? num : PICK(INDICES));
                append(buf, sizeof buf, &len, rand() % 5 ? ":" : PICK(COLONS));
                append(buf, sizeof buf, &len, rand() % 3 ? VALUES[rand() % 3] : PICK(VALUES));
            }
            append(buf, sizeof buf, &len, rand() % 3 ? "\n" : PICK(ENDS));
        }
        if (svmref_compare(buf, len, why, sizeof why) != 0) fail_msg("input \"%s\": %s", buf, why);
    }
}

/* Well-formed rows with values in many printed forms: same doubles, bit for
 * bit, as strtod. */
static void test_same_values_as_strtod(void **state) {
    (void)state;
    srand(777);
    static const char *const FORMS[] = {"%.17g", "%.6f", "%g", "%.3e", "%.10f", "%.15g", "%a"};
    char buf[8192], why[1200];
    for (int iter = 0; iter < 3000; iter++) {
        size_t len = 0;
        buf[0] = '\0';
        for (int l = 0; l < 4; l++) {
            char tok[64];
            snprintf(tok, sizeof tok, "%d", rand() % 5 - 2);
            append(buf, sizeof buf, &len, tok);
            for (int f = 1; f <= 12; f++) {
                double mag = pow(10.0, rand() % 60 - 30);
                double v = ((double)rand() / RAND_MAX - 0.5) * mag;
                int n = snprintf(tok, sizeof tok, " %d:", f);
                snprintf(tok + n, sizeof tok - (size_t)n, FORMS[rand() % 7], v);
                append(buf, sizeof buf, &len, tok);
            }
            append(buf, sizeof buf, &len, "\n");
        }
        if (svmref_compare(buf, len, why, sizeof why) != 0) fail_msg("input \"%s\": %s", buf, why);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_same_as_liblinear_odd_tokens),
        cmocka_unit_test(test_same_values_as_strtod),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
