/* Unit tests for common/predmsg: the OP_PREDICT result codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/predmsg.h"
#include "common/proto.h"

static blob_t *sample(bool prob) {
    predmsg_enc_t e;
    assert_int_equal(predmsg_enc_init(&e, 3, prob, 40000, 2), 0);
    double p0[3] = {0.25, 0.5, 0.25}, p1[3] = {1.0, 0.0, -0.0};
    assert_int_equal(predmsg_enc_add(&e, 1, -1, p0, "row-a", 5), 0);
    assert_int_equal(predmsg_enc_add(&e, 0, 2, p1, NULL, 0), 0);
    assert_int_equal(predmsg_enc_add(&e, 2, 0, p0, "\"q,x\"", 5), 0);
    assert_int_equal(predmsg_enc_add(&e, 3, 0, p0, NULL, 0), -1); /* class out of range */
    assert_int_equal(predmsg_enc_add(&e, 0, -2, p0, NULL, 0), -1);
    blob_t *b = predmsg_enc_finish(&e);
    assert_non_null(b);
    assert_null(e.out.p);
    return b;
}

static void test_round_trip(void **state) {
    char err[256];
    for (int prob = 0; prob <= 1; prob++) {
        blob_t *b = sample(prob);
        predmsg_t m;
        predmsg_row_t r;
        assert_int_equal(predmsg_open(&m, b->data, b->len, 3, err, sizeof err), 0);
        assert_int_equal(m.rows, 3);
        assert_int_equal(m.nr_class, 3);
        assert_int_equal(m.first_row, 40000);
        assert_int_equal(m.prob, prob);
        assert_int_equal(predmsg_next(&m, &r), 1);
        assert_int_equal(r.pred, 1);
        assert_int_equal(r.truth, -1);
        assert_int_equal(r.idlen, 5);
        assert_memory_equal(r.id, "row-a", 5);
        if (prob) {
            assert_true(predmsg_prob(&r, 1) == 0.5);
            assert_true(predmsg_prob(&r, 2) == 0.25);
        } else {
            assert_null(r.prob);
        }
        assert_int_equal(predmsg_next(&m, &r), 1);
        assert_int_equal(r.pred, 0);
        assert_int_equal(r.truth, 2);
        assert_null(r.id);
        assert_int_equal(r.idlen, 0);
        assert_int_equal(predmsg_next(&m, &r), 1);
        assert_memory_equal(r.id, "\"q,x\"", 5);
        assert_int_equal(predmsg_next(&m, &r), 0);
        /* The true label bound is the caller's. */
        assert_int_equal(predmsg_open(&m, b->data, b->len, 2, err, sizeof err), -1);
        blob_unref(&b);
    }
}

static void test_empty_and_long_id(void **state) {
    char err[256];
    predmsg_enc_t e;
    assert_int_equal(predmsg_enc_init(&e, 0, false, 0, 0), -1);
    assert_int_equal(predmsg_enc_init(&e, 2, false, 7, 0), 0);
    blob_t *b = predmsg_enc_finish(&e);
    predmsg_t m;
    predmsg_row_t r;
    assert_int_equal(predmsg_open(&m, b->data, b->len, 2, err, sizeof err), 0);
    assert_int_equal(m.rows, 0);
    assert_int_equal(predmsg_next(&m, &r), 0);
    blob_unref(&b);

    char *id = malloc(PREDMSG_MAX_ID + 100);
    memset(id, 'i', PREDMSG_MAX_ID + 100);
    assert_int_equal(predmsg_enc_init(&e, 2, false, 0, 0), 0);
    assert_int_equal(predmsg_enc_add(&e, 1, 1, NULL, id, PREDMSG_MAX_ID + 100), 0);
    b = predmsg_enc_finish(&e);
    assert_int_equal(predmsg_open(&m, b->data, b->len, 2, err, sizeof err), 0);
    assert_int_equal(predmsg_next(&m, &r), 1);
    assert_int_equal(r.idlen, PREDMSG_MAX_ID);
    blob_unref(&b);
    free(id);
}

/* Every truncation, every single-byte corruption and random bytes: either
 * rejected or, when accepted, every row read stays inside the buffer (ASan
 * checks the reads on an exact-size copy). */
static void test_garbage(void **state) {
    char err[256];
    blob_t *b = sample(true);
    predmsg_t m;
    predmsg_row_t r;
    for (size_t n = 0; n < b->len; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, b->data, n);
        assert_int_equal(predmsg_open(&m, copy, n, 3, err, sizeof err), -1);
        free(copy);
    }
    uint8_t *copy = malloc(b->len + 1);
    memcpy(copy, b->data, b->len);
    copy[b->len] = 0;
    assert_int_equal(predmsg_open(&m, copy, b->len + 1, 3, err, sizeof err), -1);
    assert_non_null(strstr(err, "trailing"));
    for (size_t i = 0; i < b->len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(copy, b->data, b->len);
            copy[i] ^= (uint8_t)(1u << bit);
            if (predmsg_open(&m, copy, b->len, 3, err, sizeof err) == 0) {
                while (predmsg_next(&m, &r) == 1) {
                    assert_true(r.pred >= 0 && r.pred < 3);
                    assert_true(r.truth >= -1 && r.truth < 3);
                    if (r.idlen) assert_true((const uint8_t *)r.id + r.idlen <= copy + b->len);
                }
            }
        }
    }
    free(copy);
    srand(5);
    for (int t = 0; t < 2000; t++) {
        size_t n = (size_t)(rand() % 200);
        uint8_t *g = malloc(n + 1);
        for (size_t i = 0; i < n; i++)
            g[i] = (uint8_t)rand();
        if (n >= 3 && t % 2) {
            g[0] = 'P';
            g[1] = 'M';
            g[2] = PREDMSG_VERSION;
        }
        if (predmsg_open(&m, g, n, 3, err, sizeof err) == 0)
            while (predmsg_next(&m, &r) == 1)
                ;
        free(g);
    }
    /* A huge row count with a short body is rejected without allocating. */
    uint8_t hdr[PREDMSG_HEADER] = {'P', 'M', PREDMSG_VERSION, 0};
    proto_put_u32(hdr + 4, 2);
    proto_put_u32(hdr + 16, 0xffffffffu);
    assert_int_equal(predmsg_open(&m, hdr, sizeof hdr, 3, err, sizeof err), -1);
    blob_unref(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_empty_and_long_id),
        cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
