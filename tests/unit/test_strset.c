/* Tests for common/strset: first-appearance indices, any bytes, long and
 * short strings, growth; checked against a plain list searched linearly.
 * Values, the batch calls (hash, prefetch, add_hashed), strset_add_from and
 * strset_reserve against the same kind of list, past the size where the
 * arena and table move into mappings of their own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/* A string of the pool: lengths 0..40 around the compare's cases (0-3, 4-7,
 * 8-16, longer), any bytes including NUL, and many strings that differ in
 * one byte only (first, middle or last) from another. */
static size_t pool_string(unsigned k, char *out) {
    size_t len = k % 41;
    for (size_t i = 0; i < len; i++)
        out[i] = (char)("ab\0.xyz"[(k / 41 + i * 7) % 8]);
    if (len) out[(k / 7) % 3 == 0 ? 0 : (k / 7) % 3 == 1 ? len / 2 : len - 1] ^= (char)(k % 5);
    return len;
}

typedef struct ref {
    char **str;
    size_t *len;
    uint64_t *val;
    size_t n, cap;
} ref_t;

static long ref_find(const ref_t *r, const char *s, size_t len) {
    for (size_t k = 0; k < r->n; k++)
        if (r->len[k] == len && memcmp(r->str[k], s, len) == 0) return (long)k;
    return -1;
}

static long ref_add(ref_t *r, const char *s, size_t len) {
    long k = ref_find(r, s, len);
    if (k >= 0) return k;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->str = realloc(r->str, r->cap * sizeof *r->str);
        r->len = realloc(r->len, r->cap * sizeof *r->len);
        r->val = realloc(r->val, r->cap * sizeof *r->val);
        assert_true(r->str && r->len && r->val);
    }
    r->str[r->n] = malloc(len + 1);
    assert_non_null(r->str[r->n]);
    memcpy(r->str[r->n], s, len);
    r->len[r->n] = len;
    r->val[r->n] = 0;
    return (long)r->n++;
}

static void ref_free(ref_t *r) {
    for (size_t k = 0; k < r->n; k++)
        free(r->str[k]);
    free(r->str);
    free(r->len);
    free(r->val);
}

/* Every string and value of s equals the model's, in the model's order. */
static void check_same(const strset_t *s, const ref_t *r, int vals) {
    assert_int_equal(strset_count(s), r->n);
    for (size_t k = 0; k < r->n; k++) {
        size_t len;
        const char *t = strset_get(s, k, &len);
        assert_int_equal(len, r->len[k]);
        assert_memory_equal(t, r->str[k], len);
        assert_int_equal(t[len], '\0');
        assert_int_equal(strset_hash_at(s, k), strset_hash(t, len));
        assert_int_equal(strset_find(s, r->str[k], len), (long)k);
        if (vals) assert_int_equal(*(const uint64_t *)strset_val(s, k), r->val[k]);
    }
}

/* Values counted through the three ways of adding, with prefetch hints in
 * between, against the model; then a copy through strset_add_from into a
 * set with no values and one with bigger values. */
static void test_values_against_model(void **state) {
    (void)state;
    strset_t *s = strset_new_vals(sizeof(uint64_t));
    assert_non_null(s);
    ref_t r = {0};
    srand(7);
    char buf[64];
    for (int iter = 0; iter < 30000; iter++) {
        size_t len = pool_string((unsigned)rand() % 4000, buf);
        long want = ref_find(&r, buf, len);
        int added = -1;
        uint64_t *v;
        unsigned h = strset_hash(buf, len);
        strset_prefetch(s, h);
        strset_prefetch_rec(s, (unsigned)rand()); /* any hint is harmless */
        switch (iter % 3) {
        case 0:
            v = strset_add_val(s, buf, len, &added);
            break;
        case 1:
            v = strset_add_hashed(s, buf, len, h, &added);
            break;
        default: {
            long k = strset_add(s, buf, len, &added);
            assert_true(k >= 0);
            assert_true(want < 0 || k == want);
            v = strset_val(s, (size_t)k);
        }
        }
        assert_non_null(v);
        assert_int_equal(added, want < 0);
        if (want < 0) assert_int_equal(*v, 0); /* a new string's value is zeroed */
        *v += 3;
        long rk = ref_add(&r, buf, len); /* may move r.val */
        r.val[rk] += 3;
    }
    check_same(s, &r, 1);
    strset_t *plain = strset_new(), *wide = strset_new_vals(24);
    assert_true(plain && wide);
    assert_null(strset_new_vals(65));
    for (size_t k = 0; k < strset_count(s); k++) {
        int added;
        assert_non_null(strset_add_from(plain, s, k, &added));
        assert_int_equal(added, 1);
        uint64_t *w = strset_add_from(wide, s, k, &added);
        assert_non_null(w);
        assert_true(w[0] == 0 && w[1] == 0 && w[2] == 0);
        w[0] = *(const uint64_t *)strset_val(s, k);
    }
    /* a second copy adds nothing */
    for (size_t k = 0; k < strset_count(s); k++) {
        int added;
        assert_non_null(strset_add_from(plain, s, k, &added));
        assert_int_equal(added, 0);
    }
    check_same(plain, &r, 0);
    check_same(wide, &r, 1);
    strset_destroy(&s);
    strset_destroy(&plain);
    strset_destroy(&wide);
    ref_free(&r);
}

/* Strings whose hashes collide are still told apart: every string goes in
 * with the same hash, so each lookup compares bytes with all the strings
 * before it (lengths 0..40, one byte apart at the start, middle or end). */
static void test_collisions(void **state) {
    (void)state;
    strset_t *s = strset_new_vals(sizeof(uint64_t));
    assert_non_null(s);
    ref_t r = {0};
    srand(11);
    char buf[64];
    for (int iter = 0; iter < 6000; iter++) {
        size_t len = pool_string((unsigned)rand() % 500, buf);
        long want = ref_find(&r, buf, len);
        int added;
        uint64_t *v = strset_add_hashed(s, buf, len, 12345, &added);
        assert_non_null(v);
        assert_int_equal(added, want < 0);
        if (want < 0) {
            *v = (uint64_t)ref_add(&r, buf, len) + 1;
        } else {
            assert_int_equal(*v, (uint64_t)want + 1);
        }
    }
    assert_int_equal(strset_count(s), r.n);
    strset_destroy(&s);
    ref_free(&r);
}

/* Enough strings that the arena and the table pass 2 MB and move into
 * mappings of their own (one set reserved up front, one grown): every
 * string, index and value survives the moves. */
static void test_big_sets(void **state) {
    (void)state;
    enum { N = 150000 };
    strset_t *grown = strset_new_vals(8), *reserved = strset_new_vals(8);
    assert_true(grown && reserved);
    assert_int_equal(strset_reserve(reserved, N), 0);
    char buf[32];
    for (unsigned k = 0; k < N; k++) {
        size_t len = (size_t)snprintf(buf, sizeof buf, "w%u.%u", k * 2654435761u, k);
        int added;
        uint64_t *a = strset_add_val(grown, buf, len, &added);
        assert_true(a && added);
        *a = k;
        uint64_t *b = strset_add_val(reserved, buf, len, &added);
        assert_true(b && added);
        *b = k;
    }
    for (unsigned k = 0; k < N; k++) {
        size_t len = (size_t)snprintf(buf, sizeof buf, "w%u.%u", k * 2654435761u, k);
        assert_int_equal(strset_find(grown, buf, len), (long)k);
        assert_int_equal(strset_find(reserved, buf, len), (long)k);
        assert_int_equal(*(uint64_t *)strset_val(grown, k), k);
        size_t gl;
        assert_memory_equal(strset_get(reserved, k, &gl), buf, len);
        assert_int_equal(gl, len);
    }
    assert_int_equal(strset_find(grown, "w", 1), -1);
    strset_destroy(&grown);
    strset_destroy(&reserved);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basics),
        cmocka_unit_test(test_against_model),
        cmocka_unit_test(test_values_against_model),
        cmocka_unit_test(test_collisions),
        cmocka_unit_test(test_big_sets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
