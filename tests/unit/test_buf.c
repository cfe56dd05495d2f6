/* Tests for common/buf: the exact little-endian bytes of each put, the
 * reader's bounds (a short read sets bad once, consumes nothing and yields
 * 0), and a property test: random field sequences round-trip, and every
 * truncation of their encoding is caught without reading past the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"

static void test_put_bytes(void **state) {
    (void)state;
    buf_t b = {0};
    buf_put_u8(&b, 0xab);
    buf_put_u16(&b, 0x1234);
    buf_put_u32(&b, 0x01020304u);
    buf_put_u64(&b, 0x1122334455667788ull);
    buf_put_f64(&b, 1.0); /* 0x3ff0000000000000 */
    buf_put(&b, "xy", 2);
    buf_put(&b, NULL, 0);
    static const uint8_t want[] = {0xab, 0x34, 0x12, 0x04, 0x03, 0x02, 0x01, 0x88, 0x77,
                                   0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0,    0,    0,
                                   0,    0,    0,    0xf0, 0x3f, 'x',  'y'};
    assert_false(b.failed);
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.p, want, sizeof want);
    buf_set_u32(&b, 3, 0xdeadbeefu);
    assert_int_equal(b.p[3], 0xef);
    assert_int_equal(b.p[6], 0xde);
    buf_set_u32(&b, b.len - 3, 7); /* would run past len: ignored */
    assert_int_equal(b.p[b.len - 1], 'y');
    size_t len;
    uint8_t *p = buf_detach(&b, &len);
    assert_non_null(p);
    assert_int_equal(len, sizeof want);
    assert_null(b.p);
    assert_int_equal(b.len, 0);
    free(p);
}

static void test_empty_and_failed(void **state) {
    (void)state;
    buf_t b = {0};
    size_t len = 99;
    assert_null(buf_detach(&b, &len));
    assert_int_equal(len, 0);
    /* A size that cannot be allocated marks the buffer failed; later puts
     * do nothing and detach hands back nothing. */
    buf_put_u32(&b, 1);
    assert_int_equal(buf_grow(&b, SIZE_MAX - 2), -1);
    assert_true(b.failed);
    buf_put_u32(&b, 2);
    assert_null(buf_extend(&b, 8));
    assert_int_equal(b.len, 4);
    assert_null(buf_detach(&b, &len));
    assert_int_equal(len, 0);
    assert_false(b.failed);
    buf_put_u8(&b, 1);
    buf_free(&b);
    assert_null(b.p);
}

/* Growth past the first allocation keeps every byte, in place or not. */
static void test_growth(void **state) {
    (void)state;
    buf_t b = {0};
    for (uint32_t i = 0; i < 5000; i++) {
        buf_put_u32(&b, i * 2654435761u);
        if (i % 7 == 0) buf_put(&b, "abc", 3);
    }
    uint8_t *q = buf_extend(&b, 800);
    assert_non_null(q);
    memset(q, 0x5a, 800);
    assert_false(b.failed);
    assert_true(b.len <= b.cap);
    bufrd_t r = bufrd_init(b.p, b.len);
    for (uint32_t i = 0; i < 5000; i++) {
        assert_int_equal(bufrd_u32(&r), i * 2654435761u);
        if (i % 7 == 0) assert_memory_equal(bufrd_take(&r, 3), "abc", 3);
    }
    const uint8_t *t = bufrd_take(&r, 800);
    assert_non_null(t);
    assert_int_equal(t[0], 0x5a);
    assert_int_equal(t[799], 0x5a);
    assert_true(bufrd_done(&r));
    buf_free(&b);
}

/* Table: a reader over n bytes asked for fields of these sizes. */
static void test_reader_bounds(void **state) {
    (void)state;
    static const uint8_t d[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    static const struct {
        size_t have;
        int first, second; /* sizes read in order */
        bool bad;
        size_t pos;
    } cases[] = {
        {8, 4, 4, false, 8}, {8, 8, 1, true, 8}, {7, 8, 1, true, 0},
        {3, 2, 2, true, 2},  {0, 1, 0, true, 0}, {2, 2, 0, false, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bufrd_t r = bufrd_init(d, cases[i].have);
        int sz[2] = {cases[i].first, cases[i].second};
        for (int k = 0; k < 2; k++) {
            if (sz[k] == 1)
                bufrd_u8(&r);
            else if (sz[k] == 2)
                bufrd_u16(&r);
            else if (sz[k] == 4)
                bufrd_u32(&r);
            else if (sz[k] == 8)
                bufrd_u64(&r);
        }
        assert_int_equal(r.bad, cases[i].bad);
        assert_int_equal(r.pos, cases[i].pos);
        assert_int_equal(bufrd_done(&r), !cases[i].bad && cases[i].pos == cases[i].have);
    }
    /* Once bad, even a read that would fit yields 0. */
    bufrd_t r = bufrd_init(d, 8);
    assert_int_equal(bufrd_u32(&r), 0x04030201u);
    assert_null(bufrd_take(&r, 5));
    assert_int_equal(bufrd_u8(&r), 0);
    assert_int_equal(bufrd_left(&r), 4);
    bufrd_t z = bufrd_init(NULL, 5);
    assert_int_equal(bufrd_left(&z), 0);
    assert_int_equal(bufrd_f64(&z), 0.0);
    assert_true(z.bad);
}

/* One random field: kind 0..5 (u8, u16, u32, u64, f64, bytes). */
typedef struct field {
    int kind;
    uint64_t v;
    double d;
    uint8_t bytes[9];
    size_t n;
} field_t;

static void put_field(buf_t *b, const field_t *f) {
    switch (f->kind) {
    case 0:
        buf_put_u8(b, (uint8_t)f->v);
        break;
    case 1:
        buf_put_u16(b, (uint16_t)f->v);
        break;
    case 2:
        buf_put_u32(b, (uint32_t)f->v);
        break;
    case 3:
        buf_put_u64(b, f->v);
        break;
    case 4:
        buf_put_f64(b, f->d);
        break;
    default:
        buf_put(b, f->bytes, f->n);
        break;
    }
}

/* Reads f back; returns whether the value matched (only meaningful when the
 * reader is not bad). */
static int get_field(bufrd_t *r, const field_t *f) {
    switch (f->kind) {
    case 0:
        return bufrd_u8(r) == (uint8_t)f->v;
    case 1:
        return bufrd_u16(r) == (uint16_t)f->v;
    case 2:
        return bufrd_u32(r) == (uint32_t)f->v;
    case 3:
        return bufrd_u64(r) == f->v;
    case 4:
        return memcmp(&(double){bufrd_f64(r)}, &f->d, 8) == 0;
    default: {
        const uint8_t *q = bufrd_take(r, f->n);
        return q && memcmp(q, f->bytes, f->n) == 0;
    }
    }
}

static void test_round_trip_property(void **state) {
    (void)state;
    srand(14);
    for (int iter = 0; iter < 300; iter++) {
        field_t f[40];
        int nf = 1 + rand() % 40;
        buf_t b = {0};
        for (int i = 0; i < nf; i++) {
            f[i].kind = rand() % 6;
            f[i].v = ((uint64_t)rand() << 40) ^ ((uint64_t)rand() << 20) ^ (uint64_t)rand();
            uint64_t bits = f[i].v;
            memcpy(&f[i].d, &bits, 8);
            f[i].n = (size_t)(rand() % 10);
            for (size_t k = 0; k < f[i].n; k++)
                f[i].bytes[k] = (uint8_t)rand();
            put_field(&b, &f[i]);
        }
        assert_false(b.failed);
        size_t len;
        uint8_t *p = buf_detach(&b, &len);
        /* The whole encoding reads back exactly. */
        bufrd_t r = bufrd_init(p, len);
        for (int i = 0; i < nf; i++)
            assert_true(get_field(&r, &f[i]));
        assert_true(bufrd_done(&r));
        /* Every truncation is caught, in a copy exactly that long, so that
         * ASan sees any read past the end. */
        for (size_t cut = 0; cut < len; cut++) {
            uint8_t *t = malloc(cut ? cut : 1);
            assert_non_null(t);
            memcpy(t, p, cut);
            bufrd_t tr = bufrd_init(t, cut);
            for (int i = 0; i < nf; i++)
                get_field(&tr, &f[i]);
            assert_false(bufrd_done(&tr));
            assert_true(tr.bad);
            assert_true(tr.pos <= cut);
            free(t);
        }
        free(p);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_bytes),
        cmocka_unit_test(test_empty_and_failed),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_reader_bounds),
        cmocka_unit_test(test_round_trip_property),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
