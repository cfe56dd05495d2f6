/* Unit tests for common/dtoa: dtoa_g17 writes what snprintf "%.17g" writes,
 * byte for byte, on random bit patterns (every binade, subnormals,
 * infinities, NaNs), on values spread over the magnitudes weights take, on
 * powers of ten and their neighbours (where the decimal exponent estimate
 * is off by one and where rounding carries into a new digit), and on exact
 * ties at the 18th digit (round half to even). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/dtoa.h"

static uint64_t next(uint64_t *s) { /* xorshift64 */
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static long checked, mismatches;

static void same(double v) {
    char want[64], got[DTOA_BUF];
    int wl = snprintf(want, sizeof want, "%.17g", v);
    int gl = dtoa_g17(v, got);
    checked++;
    if (gl != wl || strcmp(want, got) != 0) {
        if (mismatches++ < 10) print_error("%a: printf %s, dtoa %s\n", v, want, got);
    }
}

static double from_bits(uint64_t b) {
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

static void test_bit_patterns(void **state) {
    (void)state;
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 1000000; i++)
        same(from_bits(next(&s)));
    same(0.0);
    same(-0.0);
    same(INFINITY);
    same(-INFINITY);
    same(NAN);
    same(4.9406564584124654e-324); /* the smallest subnormal */
    same(2.2250738585072014e-308); /* the smallest normal */
    same(1.7976931348623157e308);
    assert_int_equal(mismatches, 0);
}

static void test_weight_magnitudes(void **state) {
    (void)state;
    uint64_t s = 88172645463325252ull;
    for (int i = 0; i < 2000000; i++) {
        double u = (double)(next(&s) >> 11) / 9007199254740992.0; /* [0, 1) */
        double mag = pow(10.0, -13.0 + 32.0 * u);                 /* 1e-13 .. 1e19 */
        same(next(&s) & 1 ? -mag : mag);
    }
    for (int i = 0; i < 200000; i++) /* short decimals, as data often holds */
        same((double)(int64_t)(next(&s) % 2000001 - 1000000) / 1000.0);
    assert_int_equal(mismatches, 0);
}

static void test_powers_of_ten(void **state) {
    (void)state;
    for (int k = -30; k <= 30; k++) {
        double p = pow(10.0, k), v = p;
        for (int step = 0; step < 40; step++) { /* walk both ways from 10^k */
            same(v);
            same(-v);
            v = nextafter(v, INFINITY);
        }
        v = p;
        for (int step = 0; step < 40; step++) {
            same(v);
            v = nextafter(v, 0.0);
        }
        same(9.99999999999999999 * p); /* rounds up into a new digit */
        same(0.99999999999999999 * p);
    }
    assert_int_equal(mismatches, 0);
}

static void test_ties(void **state) {
    (void)state;
    /* N + odd/16 with N of 14 digits: exactly 18 significant digits, the
     * last a 5, so the 17-digit result is a tie broken to even */
    uint64_t s = 1234567ull;
    for (int i = 0; i < 200000; i++) {
        uint64_t n = 10000000000000ull + next(&s) % 89999999999999ull;
        double v = (double)n + (double)(2 * (next(&s) % 8) + 1) / 16.0;
        same(v);
        same(-v);
    }
    char got[DTOA_BUF];
    dtoa_g17(12345678901234.0625, got);
    assert_string_equal(got, "12345678901234.062");
    dtoa_g17(12345678901234.1875, got);
    assert_string_equal(got, "12345678901234.188");
    assert_int_equal(mismatches, 0);
}

static void test_lengths(void **state) {
    (void)state;
    char got[DTOA_BUF];
    int n = dtoa_g17(-1.2345678901234567e-308, got);
    assert_int_equal(n, (int)strlen(got));
    assert_true(n < DTOA_BUF);
    assert_int_equal(dtoa_g17(1, got), 1);
    assert_string_equal(got, "1");
    assert_int_equal(dtoa_g17(-0.5, got), 4);
    assert_string_equal(got, "-0.5");
    assert_int_equal(dtoa_g17(1e17, got), 5);
    assert_string_equal(got, "1e+17");
    assert_int_equal(dtoa_g17(0.0001, got),
                     6); /* 1.0000000000000000479e-4: the 18th digit is dropped */
    assert_string_equal(got, "0.0001");
    print_message("%ld values compared with printf\n", checked);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bit_patterns),  cmocka_unit_test(test_weight_magnitudes),
        cmocka_unit_test(test_powers_of_ten), cmocka_unit_test(test_ties),
        cmocka_unit_test(test_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
