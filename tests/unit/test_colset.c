/* Unit tests for common/colset: column bitmaps, lists and their hash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <linear.h>
#include <stdlib.h>
#include <string.h>

#include "common/colset.h"

/* Rows touching columns 1, 3 (index 2, 4) and the bias (index 70 of n = 70),
 * plus an index past n that must be ignored. */
static void test_mark_and_list(void **state) {
    (void)state;
    struct feature_node r0[] = {{2, 1.0}, {70, 1.0}, {-1, 0}};
    struct feature_node r1[] = {{4, 0.5}, {71, 2.0}, {-1, 0}};
    struct feature_node *x[] = {r0, r1};
    dataset_t d = {.rows = 2, .n = 70, .x = x};
    uint64_t bits[2] = {0, 0};
    colset_mark(bits, &d);
    uint32_t cols[70];
    size_t m = colset_list(bits, 70, cols);
    assert_int_equal(m, 3);
    assert_int_equal(cols[0], 1);
    assert_int_equal(cols[1], 3);
    assert_int_equal(cols[2], 69);
    assert_int_equal(colset_list(bits, 70, NULL), 3);
}

/* Property: for random bitmaps, the list is ascending, holds exactly the set
 * bits below n, and OR of two bitmaps lists their union. */
static void test_list_property(void **state) {
    (void)state;
    srand(3);
    for (int t = 0; t < 500; t++) {
        size_t n = 1 + (size_t)(rand() % 300), words = colset_words(n);
        uint64_t a[5] = {0}, b[5] = {0}, u[5] = {0};
        for (size_t i = 0; i < words + 1 && i < 5; i++) {
            a[i] = ((uint64_t)rand() << 33) ^ ((uint64_t)rand() << 11) ^ (uint64_t)rand();
            b[i] = ((uint64_t)rand() << 35) ^ (uint64_t)rand();
        }
        memcpy(u, a, sizeof u);
        colset_or(u, b, words);
        uint32_t la[320], lu[320];
        size_t ma = colset_list(a, n, la), mu = colset_list(u, n, lu);
        size_t expect = 0;
        for (size_t j = 0; j < n; j++)
            expect += (a[j / 64] >> (j % 64)) & 1;
        assert_int_equal(ma, expect);
        assert_int_equal(colset_count(a, n), expect);
        for (size_t i = 0; i < ma; i++) {
            assert_true(la[i] < n);
            if (i) assert_true(la[i] > la[i - 1]);
            assert_true((a[la[i] / 64] >> (la[i] % 64)) & 1);
        }
        for (size_t i = 0; i < mu; i++)
            assert_true(((a[lu[i] / 64] | b[lu[i] / 64]) >> (lu[i] % 64)) & 1);
        assert_true(mu >= ma);
    }
}

/* The hash ignores bits past n and tells sets apart. */
static void test_hash(void **state) {
    (void)state;
    uint64_t a[2] = {0x5, 0x1}, b[2] = {0x5, 0x1 | (1ull << 40)}, c[2] = {0x7, 0x1};
    assert_true(colset_hash(a, 70) == colset_hash(b, 70)); /* bit 104 is past n */
    assert_true(colset_hash(a, 70) != colset_hash(c, 70));
    assert_true(colset_hash(a, 70) != colset_hash(a, 71)); /* n is part of it */
    uint64_t seen[64];
    for (int i = 0; i < 64; i++) {
        uint64_t one[1] = {1ull << i};
        seen[i] = colset_hash(one, 64);
        for (int j = 0; j < i; j++)
            assert_true(seen[j] != seen[i]);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mark_and_list),
        cmocka_unit_test(test_list_property),
        cmocka_unit_test(test_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
