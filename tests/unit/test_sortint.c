/* Unit tests for common/sortint: random arrays, with values near both ends
 * of each width (a comparator by subtraction would overflow there), come out
 * ascending and a permutation of the input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/sortint.h"

static uint64_t next(uint64_t *s) { /* xorshift64 */
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void test_u64(void **state) {
    (void)state;
    uint64_t seed = 88172645463325252ull, v[200], sum = 0, xsum = 0;
    for (int round = 0; round < 50; round++) {
        size_t n = next(&seed) % 200;
        sum = xsum = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t r = next(&seed);
            v[i] = r % 3 == 0 ? UINT64_MAX - r % 5 : r % 3 == 1 ? r % 5 : r;
            sum += v[i];
            xsum ^= v[i] * 0x9e3779b97f4a7c15ull;
        }
        sort_u64(v, n);
        uint64_t s2 = 0, x2 = 0;
        for (size_t i = 0; i < n; i++) {
            if (i) assert_true(v[i - 1] <= v[i]);
            s2 += v[i];
            x2 ^= v[i] * 0x9e3779b97f4a7c15ull;
        }
        assert_true(s2 == sum && x2 == xsum);
    }
}

static void test_u32(void **state) {
    (void)state;
    uint64_t seed = 1234567;
    uint32_t v[300];
    for (int round = 0; round < 50; round++) {
        size_t n = next(&seed) % 300;
        uint64_t sum = 0;
        for (size_t i = 0; i < n; i++) {
            uint32_t r = (uint32_t)next(&seed);
            v[i] = r % 3 == 0 ? UINT32_MAX - r % 5 : r % 3 == 1 ? r % 5 : r;
            sum += v[i];
        }
        sort_u32(v, n);
        uint64_t s2 = 0;
        for (size_t i = 0; i < n; i++) {
            if (i) assert_true(v[i - 1] <= v[i]);
            s2 += v[i];
        }
        assert_true(s2 == sum);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_u64), cmocka_unit_test(test_u32)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
