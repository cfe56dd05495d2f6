/* suggest: edit distance, the closest name, the short "no column" error. */
#include "common/suggest.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_distance(void **state) {
    (void)state;
    assert_int_equal(suggest_distance("label", "label"), 0);
    assert_int_equal(suggest_distance("lable", "label"), 1); /* a swap counts one */
    assert_int_equal(suggest_distance("labl", "label"), 1);
    assert_int_equal(suggest_distance("", "abc"), 3);
    assert_int_equal(suggest_distance("kitten", "sitting"), 3);
    char longname[SUGGEST_MAX_NAME + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    assert_true(suggest_distance(longname, "a") == SIZE_MAX);
}

static void test_closest(void **state) {
    (void)state;
    char *names[] = {"id", "label", "p0", "p1", "review"};
    assert_string_equal(suggest_closest(names, 5, "lable"), "label");
    assert_string_equal(suggest_closest(names, 5, "Label"), "label");
    assert_string_equal(suggest_closest(names, 5, "LABEL"), "label"); /* case alone: close */
    assert_string_equal(suggest_closest(names, 5, "reveiw"), "review");
    assert_null(suggest_closest(names, 5, "target"));
    assert_null(suggest_closest(names, 0, "label"));
}

static void test_no_column(void **state) {
    (void)state;
    char err[256];
    char *few[] = {"a", "b"};
    suggest_no_column("t.csv", "label", "y", few, 2, err, sizeof err);
    assert_string_equal(err, "t.csv:1: no label column \"y\" (the header has 2 columns: a, b)");
    /* a wide header: the first columns only, whatever its width */
    enum { N = 786 };
    char **names = calloc(N, sizeof *names);
    assert_non_null(names);
    for (size_t i = 0; i < N; i++) {
        names[i] = malloc(8);
        assert_non_null(names[i]);
        if (i == 0)
            strcpy(names[i], "id");
        else if (i == 1)
            strcpy(names[i], "label");
        else
            snprintf(names[i], 8, "p%zu", i - 2);
    }
    suggest_no_column("train.csv", "label", "lable", names, N, err, sizeof err);
    assert_string_equal(err, "train.csv:1: no label column \"lable\" (did you mean \"label\"? the "
                             "header has 786 columns: id, label, p0, p1, p2, p3, ...)");
    char tiny[16];
    suggest_no_column("train.csv", "label", "lable", names, N, tiny, sizeof tiny);
    assert_int_equal(strlen(tiny), sizeof tiny - 1); /* cut, terminated */
    for (size_t i = 0; i < N; i++)
        free(names[i]);
    free(names);
}

static void test_optional_column(void **state) {
    (void)state;
    char msg[128] = "";
    char *names[] = {"Id", "label", "x"};
    assert_int_equal(suggest_optional_column("t.csv", "id", "id", names, 3, msg, sizeof msg), 1);
    assert_string_equal(msg, "t.csv:1: no id column \"id\" (did you mean \"Id\"?)");
    assert_int_equal(suggest_optional_column("t.csv", "id", "Id", names, 3, msg, sizeof msg), 0);
    char *plain[] = {"label", "x"}; /* no id column at all: fine */
    assert_int_equal(suggest_optional_column("t.csv", "id", "id", plain, 2, msg, sizeof msg), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distance),
        cmocka_unit_test(test_closest),
        cmocka_unit_test(test_no_column),
        cmocka_unit_test(test_optional_column),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
