/* Tests for common/hash.h: FNV-1a 64 against the published test vectors
 * (a wrong offset basis or prime fails here), and hashing in pieces equals
 * hashing at once (master/predict.c builds its resume key in pieces). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/hash.h"

static void test_vectors(void **state) {
    (void)state;
    static const struct {
        const char *s;
        uint64_t h;
    } v[] = {
        {"", 0xcbf29ce484222325ull},
        {"a", 0xaf63dc4c8601ec8cull},
        {"foobar", 0x85944171f73967e8ull},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        assert_true(hash_fnv1a(v[i].s, strlen(v[i].s)) == v[i].h);
    assert_true(HASH_FNV1A_BASIS == 14695981039346656037ull);
    assert_true(hash_fnv1a(NULL, 0) == HASH_FNV1A_BASIS);
}

static void test_pieces(void **state) {
    (void)state;
    const char *s = "predict-key\0with a NUL and more bytes";
    size_t n = 38;
    for (size_t cut = 0; cut <= n; cut++) {
        uint64_t h = hash_fnv1a_add(HASH_FNV1A_BASIS, s, cut);
        h = hash_fnv1a_add(h, s + cut, n - cut);
        assert_true(h == hash_fnv1a(s, n));
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_pieces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
