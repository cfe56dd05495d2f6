/* Tests for common/bigbuf: growth keeps contents, trim keeps what is used,
 * failure leaves the buffer as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/bigbuf.h"

static void fill(unsigned char *p, size_t from, size_t to) {
    for (size_t i = from; i < to; i++)
        p[i] = (unsigned char)(i * 2654435761u >> 13);
}

static int same(const unsigned char *p, size_t from, size_t to) {
    for (size_t i = from; i < to; i++)
        if (p[i] != (unsigned char)(i * 2654435761u >> 13)) return 0;
    return 1;
}

static void test_grow_keeps_contents(void **state) {
    (void)state;
    bigbuf_t b = {0};
    assert_int_equal(bigbuf_reserve(&b, 0), 0); /* nothing asked, nothing mapped */
    assert_null(b.p);
    assert_int_equal(bigbuf_reserve(&b, 100), 0);
    assert_non_null(b.p);
    assert_true(b.cap >= 100);
    fill(b.p, 0, 100);
    size_t used = 100;
    /* From small pages into the huge-page sizes and past them. */
    for (size_t need = 5000; need < ((size_t)40 << 20); need = need * 3 + 7) {
        size_t before = b.cap;
        assert_int_equal(bigbuf_reserve(&b, need), 0);
        assert_true(b.cap >= need);
        assert_true(b.cap >= before);
        if (need > before) assert_true(b.cap >= 2 * before); /* doubling: few remaps */
        assert_true(same(b.p, 0, used));
        fill(b.p, used, need);
        used = need;
    }
    assert_int_equal(bigbuf_reserve(&b, 10), 0); /* smaller: no change */
    assert_true(same(b.p, 0, used));
    bigbuf_free(&b);
    assert_null(b.p);
    assert_int_equal(b.cap, 0);
    bigbuf_free(&b); /* twice is harmless */
}

static void test_trim(void **state) {
    (void)state;
    bigbuf_t b = {0};
    bigbuf_trim(&b, 10); /* empty: no-op */
    assert_int_equal(bigbuf_reserve(&b, (size_t)8 << 20), 0);
    fill(b.p, 0, 12345);
    bigbuf_trim(&b, 12345);
    assert_true(b.cap >= 12345 && b.cap < 20000);
    assert_true(same(b.p, 0, 12345));
    bigbuf_trim(&b, 0); /* keeps one page */
    assert_non_null(b.p);
    assert_true(b.cap > 0);
    assert_int_equal(bigbuf_reserve(&b, 3 << 20), 0); /* and grows again */
    fill(b.p, 0, 3 << 20);
    assert_true(same(b.p, 0, 3 << 20));
    bigbuf_free(&b);
}

static void test_impossible_size_fails_cleanly(void **state) {
    (void)state;
    bigbuf_t b = {0};
    assert_int_equal(bigbuf_reserve(&b, 4096), 0);
    fill(b.p, 0, 4096);
    void *p = b.p;
    size_t cap = b.cap;
    assert_int_equal(bigbuf_reserve(&b, SIZE_MAX - 10), -1);
    assert_int_equal(bigbuf_reserve(&b, SIZE_MAX / 2 + 1), -1);
    assert_ptr_equal(b.p, p);
    assert_int_equal(b.cap, cap);
    assert_true(same(b.p, 0, 4096));
    bigbuf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grow_keeps_contents),
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_impossible_size_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
