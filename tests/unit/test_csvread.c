/* Tests for common/csvread: records, line numbers, quoting, errors, numbers. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/csvread.h"
#include "tests/oracle/csvread_ref.h"

typedef struct rec {
    char fields[16][32];
    size_t nf;
    uint64_t line;
} rec_t;

typedef struct got {
    rec_t r[16];
    size_t n;
    size_t cur;
} got_t;

static int on_field(void *ctx, size_t col, const char *s, size_t len, uint64_t line, char *err,
                    size_t errlen) {
    got_t *g = ctx;
    assert_true(col < 16 && len < 32);
    memcpy(g->r[g->n].fields[col], s, len);
    g->r[g->n].fields[col][len] = '\0';
    g->r[g->n].line = line;
    return 0;
}

static int on_record(void *ctx, size_t nf, uint64_t line, char *err, size_t errlen) {
    got_t *g = ctx;
    g->r[g->n].nf = nf;
    assert_int_equal(g->r[g->n].line, line);
    g->n++;
    return 0;
}

static int parse(const char *d, size_t nfields, got_t *g, char *err) {
    memset(g, 0, sizeof *g);
    csvread_cb_t cb = {on_field, on_record};
    return csvread_parse("f.csv", d, strlen(d), 10, nfields, &cb, g, err, 256);
}

static void test_records_and_lines(void **state) {
    (void)state;
    got_t g;
    char err[256];
    const char *d = "a, b ,c\r\n\n\"x\ny\",\"q\"\"\",\r\n  \n\"\",\"1,2\" ,z";
    assert_int_equal(parse(d, 3, &g, err), 0);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.r[0].line, 10);
    assert_string_equal(g.r[0].fields[1], "b");
    assert_string_equal(g.r[0].fields[2], "c");
    assert_int_equal(g.r[1].line, 12);
    assert_string_equal(g.r[1].fields[0], "x\ny");
    assert_string_equal(g.r[1].fields[1], "q\"");
    assert_string_equal(g.r[1].fields[2], "");
    assert_int_equal(g.r[2].line, 15);
    assert_string_equal(g.r[2].fields[1], "1,2");
}

static void test_errors(void **state) {
    (void)state;
    got_t g;
    char err[256];
    assert_int_equal(parse("1,2\n3,4,5\n", 2, &g, err), -1);
    assert_string_equal(err, "f.csv:11: too many fields: 3, the header has 2");
    assert_int_equal(parse("1,2\n\n3\n", 2, &g, err), -1);
    assert_string_equal(err, "f.csv:12: too few fields: 1, the header has 2");
    assert_int_equal(parse("1,2\n3,\"4\n5,6\n", 2, &g, err), -1);
    assert_non_null(strstr(err, "f.csv:11: unterminated quote"));
    assert_int_equal(parse("1,2\n3,\"4", 2, &g, err), -1);
    assert_non_null(strstr(err, "f.csv:11: unterminated quote"));
    char nul[] = "1,2\n3,x\0";
    csvread_cb_t cb = {on_field, on_record};
    memset(&g, 0, sizeof g);
    assert_int_equal(csvread_parse("f.csv", nul, sizeof nul - 1, 1, 2, &cb, &g, err, 256), -1);
    assert_string_equal(err, "f.csv:2:4: NUL byte in the data (is this a text file?)");
}

static int fail_at_second(void *ctx, size_t nf, uint64_t line, char *err, size_t errlen) {
    int *n = ctx;
    if (++*n == 2) {
        snprintf(err, errlen, "stop at %llu", (unsigned long long)line);
        return -1;
    }
    return 0;
}

static void test_callback_error_stops(void **state) {
    (void)state;
    int n = 0;
    char err[256];
    csvread_cb_t cb = {NULL, fail_at_second};
    const char *d = "1\n2\n3\n";
    assert_int_equal(csvread_parse("f", d, strlen(d), 1, 0, &cb, &n, err, sizeof err), -1);
    assert_string_equal(err, "stop at 2");
    assert_int_equal(n, 2);
}

static void test_header(void **state) {
    (void)state;
    char **names;
    size_t n;
    char err[256];
    const char *h = "id, \"a,b\" ,\"c\"\"d\",label\r";
    assert_int_equal(csvread_header("f", h, strlen(h), &names, &n, err, sizeof err), 0);
    assert_int_equal(n, 4);
    assert_string_equal(names[1], "a,b");
    assert_string_equal(names[2], "c\"d");
    assert_string_equal(names[3], "label");
    csvread_names_free(names, n);
    assert_int_equal(csvread_header("f", "a,\"b", 4, &names, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, "unterminated quote"));
    assert_int_equal(csvread_header("f", "  ", 2, &names, &n, err, sizeof err), -1);
    /* a name that is not UTF-8 (latin1 "année") is named by column and byte */
    h = "id,ann\xe9\x65,label";
    assert_int_equal(csvread_header("f", h, strlen(h), &names, &n, err, sizeof err), -1);
    assert_string_equal(err, "f:1:2: not valid UTF-8 (byte 0xE9 at offset 3 of the column name); "
                             "convert the file to UTF-8, e.g. iconv -f latin1 -t utf-8");
    h = "id,ann\xc3\xa9\x65,label";
    assert_int_equal(csvread_header("f", h, strlen(h), &names, &n, err, sizeof err), 0);
    csvread_names_free(names, n);
}

/* Numbers that are not finite are told apart from text (-2, not -1), so
 * that readers can refuse them instead of taking them for words. */
static void test_nonfinite_numbers(void **state) {
    (void)state;
    const char *nonfinite[] = {"inf",
                               "-inf",
                               "+inf",
                               "INF",
                               "Infinity",
                               "-INFINITY",
                               "nan",
                               "-nan",
                               "NAN",
                               "1e999",
                               "-1e999",
                               "1.5e400",
                               "9999999999999999999999999999999999999999e300"};
    for (size_t i = 0; i < sizeof nonfinite / sizeof *nonfinite; i++) {
        double v;
        if (csvread_number(nonfinite[i], strlen(nonfinite[i]), &v) != -2)
            fail_msg("\"%s\" is not -2", nonfinite[i]);
    }
    const char *text[] = {"in", "infinit", "infinityy", "nanx", "1e", "0x10", "abc", "--inf"};
    for (size_t i = 0; i < sizeof text / sizeof *text; i++) {
        double v;
        if (csvread_number(text[i], strlen(text[i]), &v) != -1)
            fail_msg("\"%s\" is not -1", text[i]);
    }
    double v = 1;
    assert_int_equal(csvread_number("1e-999", 6, &v), 0); /* underflow: 0, as strtod */
    assert_true(v == 0.0);
    size_t big = 1000;
    char *digits = malloc(big);
    assert_non_null(digits);
    memset(digits, '9', big);
    assert_int_equal(csvread_number(digits, big, &v), -2);
    free(digits);
}

static void test_numbers(void **state) {
    (void)state;
    const char *ok[] = {"0",
                        "-0",
                        "1",
                        "+1.5",
                        "3.",
                        ".25",
                        "1e3",
                        "-2.5E-3",
                        "0.1",
                        "123456789012345678901234567890",
                        "1.7976931348623157e308",
                        "0.000000000000000000000000001",
                        "4.9e-324",
                        "12345.678901234567"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        double v;
        assert_int_equal(csvread_number(ok[i], strlen(ok[i]), &v), 0);
        double ref = strtod(ok[i], NULL);
        if (v != ref) fail_msg("%s: %.17g != %.17g", ok[i], v, ref);
    }
    const char *bad[] = {"",    "+",    ".",   "e5",  "1e",    "1e+", "inf",
                         "nan", "0x10", "1,5", "1 2", "1e999", "--1", "1.2.3"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        double v;
        if (csvread_number(bad[i], strlen(bad[i]), &v) == 0) fail_msg("accepted \"%s\"", bad[i]);
    }
    /* random round trips through %.17g and short forms */
    srand(7);
    for (int i = 0; i < 20000; i++) {
        double x = ((double)rand() / RAND_MAX - 0.5) * pow(10, rand() % 40 - 20);
        char b[64];
        snprintf(b, sizeof b, i % 2 ? "%.17g" : "%.6g", x);
        double v;
        assert_int_equal(csvread_number(b, strlen(b), &v), 0);
        assert_true(v == strtod(b, NULL));
    }
}

static void test_missing(void **state) {
    (void)state;
    assert_true(csvread_is_missing("", 0));
    assert_true(csvread_is_missing("NA", 2));
    assert_true(csvread_is_missing("NaN", 3));
    assert_true(csvread_is_missing("?", 1));
    assert_false(csvread_is_missing("0", 1));
    assert_false(csvread_is_missing("NAN!", 4));
    assert_false(csvread_is_missing("None", 4));
}

/* Records of pieces, many of them blanks, quotes and line ends: the in-place
 * split of quote-free lines, and of lines whose quoted fields close on the
 * line, must give exactly libcsv's fields. */
static void test_same_as_libcsv(void **state) {
    (void)state;
    static const char *const PIECES[] = {
        "a", "12", "-0.5", " ", "\t", "\r", "", ",", ",", ",", "\n", "\n", "\r\n", "  x y ", "\"",
        "\"q\"", "\"a,b\"", "\"\"", "\"x\ny\"", "NA",
        /* quoted fields that close on their line, as free text has them */
        "\"a \"\"b\"\" c\"", "\" t,\tu \"", "\"\"\"\"", "\"é x\"", "\"\r\"", ",\"w\","};
    srand(4242);
    char buf[2048], why[600];
    for (int iter = 0; iter < 40000; iter++) {
        size_t len = 0;
        int n = rand() % 24;
        for (int i = 0; i < n; i++) {
            const char *p = PIECES[(size_t)rand() % (sizeof PIECES / sizeof PIECES[0])];
            size_t l = strlen(p);
            memcpy(buf + len, p, l);
            len += l;
        }
        buf[len] = '\0';
        if (csvref_compare(buf, len, why, sizeof why) != 0) fail_msg("input \"%s\": %s", buf, why);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_records_and_lines),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_callback_error_stops),
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_nonfinite_numbers),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_same_as_libcsv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
