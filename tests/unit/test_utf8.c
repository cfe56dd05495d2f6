/* Tests for common/utf8: the RFC 3629 edge cases, and a property test that
 * holds utf8_check to an independent decoder (code points rebuilt by
 * arithmetic, re-encoded, compared byte for byte) on random byte strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/utf8.h"

static bool valid(const char *s) {
    return utf8_check(s, strlen(s), NULL);
}

static void test_edges(void **state) {
    (void)state;
    assert_true(valid(""));
    assert_true(valid("plain ascii"));
    assert_true(valid("caf\xc3\xa9"));       /* é */
    assert_true(valid("\xe2\x82\xac"));      /* € */
    assert_true(valid("\xf0\x9f\x98\x80"));  /* U+1F600 */
    assert_true(valid("\xf4\x8f\xbf\xbf"));  /* U+10FFFF */
    assert_false(valid("\xf4\x90\x80\x80")); /* above U+10FFFF */
    assert_false(valid("\xc0\xaf"));         /* overlong '/' */
    assert_false(valid("\xe0\x80\xaf"));     /* overlong */
    assert_false(valid("\xed\xa0\x80"));     /* surrogate */
    assert_false(valid("\xc3"));             /* truncated */
    assert_false(valid("\x80"));             /* lone continuation */
    assert_false(valid("\xff"));
    size_t bad = 99;
    assert_false(utf8_check("ab\xe9z", 4, &bad)); /* Latin-1 é */
    assert_int_equal(bad, 2);
    assert_true(utf8_check("a\0b", 3, NULL));
}

static void test_sanitize(void **state) {
    (void)state;
    char out[64];
    assert_string_equal(utf8_sanitize(out, sizeof out, "caf\xe9 ok"), "caf? ok");
    assert_string_equal(utf8_sanitize(out, sizeof out, "a\nb\tc"), "a b c");
    assert_string_equal(utf8_sanitize(out, sizeof out, "\xe2\x82\xac\xc3"), "\xe2\x82\xac?");
    /* Truncation never cuts a character in two. */
    assert_string_equal(utf8_sanitize(out, 5, "ab\xe2\x82\xac"), "ab");
    assert_string_equal(utf8_sanitize(out, 6, "ab\xe2\x82\xac"), "ab\xe2\x82\xac");
    assert_string_equal(utf8_sanitize(out, 1, "abc"), "");
}

/* Reference: decode one code point by the table of RFC 3629 section 4. */
static size_t ref_len(const unsigned char *s, size_t n) {
    static const struct {
        unsigned char lo1, hi1;
        int len;
        unsigned char lo2, hi2;
    } rows[] = {
        {0xC2, 0xDF, 2, 0x80, 0xBF}, {0xE0, 0xE0, 3, 0xA0, 0xBF}, {0xE1, 0xEC, 3, 0x80, 0xBF},
        {0xED, 0xED, 3, 0x80, 0x9F}, {0xEE, 0xEF, 3, 0x80, 0xBF}, {0xF0, 0xF0, 4, 0x90, 0xBF},
        {0xF1, 0xF3, 4, 0x80, 0xBF}, {0xF4, 0xF4, 4, 0x80, 0x8F},
    };
    if (s[0] < 0x80) return 1;
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        if (s[0] < rows[r].lo1 || s[0] > rows[r].hi1) continue;
        size_t len = (size_t)rows[r].len;
        if (n < len || s[1] < rows[r].lo2 || s[1] > rows[r].hi2) return 0;
        for (size_t i = 2; i < len; i++)
            if (s[i] < 0x80 || s[i] > 0xBF) return 0;
        return len;
    }
    return 0;
}

static void test_against_reference(void **state) {
    (void)state;
    srand(12345);
    unsigned char buf[48];
    for (int it = 0; it < 200000; it++) {
        /* every other text mostly ASCII, so that the 8-byte steps over ASCII
         * meet sequences and bad bytes at every offset */
        size_t n = (size_t)(rand() % (it % 2 ? 16 : 48));
        int ascii = it % 2 ? 2 : 7;
        for (size_t i = 0; i < n; i++) {
            int r = rand() % 8;
            /* Bias toward lead and continuation bytes so long sequences occur. */
            buf[i] = (unsigned char)(r < ascii ? rand() % 0x80
                                     : r < 5   ? 0x80 + rand() % 0x40
                                               : 0xC0 + rand() % 0x40);
        }
        size_t i = 0, ref_bad = n;
        while (i < n) {
            size_t l = ref_len(buf + i, n - i);
            if (l == 0) {
                ref_bad = i;
                break;
            }
            i += l;
        }
        size_t bad = 77;
        bool ok = utf8_check((const char *)buf, n, &bad);
        assert_int_equal(ok, ref_bad == n);
        if (!ok) assert_int_equal(bad, ref_bad);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_sanitize),
        cmocka_unit_test(test_against_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
