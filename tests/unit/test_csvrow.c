/* Unit tests for common/csvrow: RFC 4180 quoting, and quote_blanks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/csvrow.h"

static char *field(bool quote_blanks, const char *s) {
    csvrow_t r = {.quote_blanks = quote_blanks};
    assert_int_equal(csvrow_field(&r, s, strlen(s)), 0);
    assert_int_equal(csvrow_text(&r, "", 1), 0);
    size_t len;
    return (char *)buf_detach(&r.out, &len); /* taken over */
}

static void check(bool quote_blanks, const char *in, const char *want) {
    char *got = field(quote_blanks, in);
    assert_string_equal(got, want);
    free(got);
}

/* A comma, a double quote, CR or LF quote the field; quotes are doubled;
 * anything else is written as it is. */
static void test_rfc4180(void **state) {
    for (int qb = 0; qb <= 1; qb++) {
        check(qb, "plain", "plain");
        check(qb, "", "");
        check(qb, "a,b", "\"a,b\"");
        check(qb, "say \"hi\"", "\"say \"\"hi\"\"\"");
        check(qb, "two\nlines", "\"two\nlines\"");
        check(qb, "cr\rhere", "\"cr\rhere\"");
        check(qb, "in side", "in side");
    }
}

/* Outer blanks are quoted only with quote_blanks. */
static void test_quote_blanks(void **state) {
    check(true, " lead", "\" lead\"");
    check(true, "trail\t", "\"trail\t\"");
    check(false, " lead", " lead");
    check(false, "trail\t", "trail\t");
}

/* A row of fields and separators; field_dup leaves the row as it was. */
static void test_row_and_dup(void **state) {
    csvrow_t r = {.quote_blanks = true};
    assert_int_equal(csvrow_field(&r, "r1", 2), 0);
    assert_int_equal(csvrow_text(&r, ",", 1), 0);
    char *dup = csvrow_field_dup(&r, "x y ");
    assert_string_equal(dup, "\"x y \"");
    free(dup);
    assert_int_equal(csvrow_field(&r, "a\"b", 3), 0);
    assert_int_equal(csvrow_text(&r, "\n", 1), 0);
    assert_int_equal(r.out.len, strlen("r1,\"a\"\"b\"\n"));
    assert_memory_equal(r.out.p, "r1,\"a\"\"b\"\n", r.out.len);
    csvrow_free(&r);
    assert_null(r.out.p);
    assert_int_equal(r.out.len, 0);
    csvrow_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4180),
        cmocka_unit_test(test_quote_blanks),
        cmocka_unit_test(test_row_and_dup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
