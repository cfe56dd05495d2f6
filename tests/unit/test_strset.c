/* Tests for common/strset: first-appearance indices, any bytes, long and
 * short strings, growth; checked against a plain list searched linearly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/strset.h"

static void test_basics(void **state) {
    (void)state;
    strset_t *s = strset_new();
    assert_non_null(s);
    int added;
    assert_int_equal(strset_find(s, "a", 1), -1);
    assert_int_equal(strset_add(s, "spam", 4, &added), 0);
    assert_int_equal(added, 1);
    assert_int_equal(strset_add(s, "", 0, &added), 1);
    assert_int_equal(added, 1);
    assert_int_equal(strset_add(s, "spam", 4, &added), 0);
    assert_int_equal(added, 0);
    /* Same first 16 bytes, different tails; a NUL inside; a prefix of another. */
    const char l1[] = "0123456789abcdefXYZ", l2[] = "0123456789abcdefXYW";
    assert_int_equal(strset_add(s, l1, 19, NULL), 2);
    assert_int_equal(strset_add(s, l2, 19, NULL), 3);
    assert_int_equal(strset_add(s, "a\0b", 3, NULL), 4);
    assert_int_equal(strset_add(s, "a", 1, NULL), 5);
    assert_int_equal(strset_add(s, "a\0", 2, NULL), 6);
    assert_int_equal(strset_find(s, l2, 19), 3);
    assert_int_equal(strset_find(s, l1, 18), -1);
    assert_int_equal(strset_find(s, "a\0b", 3), 4);
    assert_int_equal(strset_count(s), 7);
    size_t len;
    assert_string_equal(strset_get(s, 0, &len), "spam");
    assert_int_equal(len, 4);
    assert_int_equal(strset_get(s, 1, &len)[0], '\0');
    assert_int_equal(len, 0);
    assert_memory_equal(strset_get(s, 4, &len), "a\0b", 4); /* NUL-terminated copy */
    strset_destroy(&s);
    assert_null(s);
    strset_destroy(&s);
}

/* Strings drawn from a pool (so that many repeat) whose lengths straddle the
 * 16 bytes a slot holds and many of which share their first 16 bytes, against
 * a linear model. */
static void test_against_model(void **state) {
    (void)state;
    enum { N = 3000 };
    static char *model[N];
    static size_t mlen[N];
    static char pool[N][40];
    static size_t plen[N];
    size_t mn = 0;
    strset_t *s = strset_new();
    assert_non_null(s);
    srand(99);
    for (size_t k = 0; k < N; k++) {
        plen[k] = (size_t)rand() % 3 == 0 ? (size_t)rand() % 40 : 12 + (size_t)rand() % 9;
        for (size_t i = 0; i < plen[k]; i++)
            pool[k][i] = i < 16 && k % 2 ? "0123456789abcdef"[i] : "ab\0."[rand() % 4];
    }
    for (int iter = 0; iter < 40000; iter++) {
        size_t pick = (size_t)rand() % N;
        const char *buf = pool[pick];
        size_t len = plen[pick];
        long want = -1;
        for (size_t k = 0; k < mn; k++)
            if (mlen[k] == len && memcmp(model[k], buf, len) == 0) {
                want = (long)k;
                break;
            }
        if (rand() % 4 == 0) {
            assert_int_equal(strset_find(s, buf, len), want);
            continue;
        }
        int added;
        long got = strset_add(s, buf, len, &added);
        if (want < 0) {
            assert_true(mn < N);
            model[mn] = malloc(len + 1);
            assert_non_null(model[mn]);
            memcpy(model[mn], buf, len);
            mlen[mn] = len;
            want = (long)mn++;
            assert_int_equal(added, 1);
        } else {
            assert_int_equal(added, 0);
        }
        assert_int_equal(got, want);
    }
    assert_int_equal(strset_count(s), mn);
    for (size_t k = 0; k < mn; k++) {
        size_t len;
        const char *t = strset_get(s, k, &len);
        assert_int_equal(len, mlen[k]);
        assert_memory_equal(t, model[k], len);
        assert_int_equal(t[len], '\0');
        free(model[k]);
    }
    strset_destroy(&s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basics),
        cmocka_unit_test(test_against_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
