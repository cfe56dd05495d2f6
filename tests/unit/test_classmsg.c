/* Unit tests for common/classmsg (OP_CLASSES bodies and results) and the
 * rows a job context carries for it (common/jobctx.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/classmsg.h"
#include "common/jobctx.h"
#include "common/proto.h"

static void test_req_round_trip_and_rules(void **state) {
    (void)state;
    char err[256];
    classmsg_class_t cls[3] = {{4, 0.01}, {0, 1e-300}, {65535, 5}};
    blob_t *b = classmsg_encode_req(7, cls, 3, err, sizeof err);
    assert_non_null(b);
    classmsg_req_t r;
    assert_int_equal(classmsg_decode_req(b->data, b->len, &r, err, sizeof err), 0);
    assert_int_equal(r.n, 7);
    assert_int_equal(r.count, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r.cls[i].cls, cls[i].cls);
        assert_true(r.cls[i].eps == cls[i].eps);
    }
    classmsg_req_free(&r);
    /* every cut, and a byte too many */
    for (size_t cut = 0; cut < b->len; cut++)
        assert_int_equal(classmsg_decode_req(b->data, cut, &r, err, sizeof err), -1);
    uint8_t *big = calloc(b->len + 1, 1);
    memcpy(big, b->data, b->len);
    assert_int_equal(classmsg_decode_req(big, b->len + 1, &r, err, sizeof err), -1);
    /* a class twice, a NaN eps, a class past the cap, on the wire */
    memcpy(big, b->data, b->len);
    proto_put_u32(big + 12 + 12, 4);
    assert_int_equal(classmsg_decode_req(big, b->len, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "twice"));
    memcpy(big, b->data, b->len);
    proto_put_f64(big + 12 + 4, NAN);
    assert_int_equal(classmsg_decode_req(big, b->len, &r, err, sizeof err), -1);
    memcpy(big, b->data, b->len);
    proto_put_u32(big + 12, CLASSMSG_MAX_CLS);
    assert_int_equal(classmsg_decode_req(big, b->len, &r, err, sizeof err), -1);
    free(big);
    blob_unref(&b);
    /* the encoder keeps the same rules */
    classmsg_class_t dup[2] = {{1, 0.1}, {1, 0.1}}, neg[1] = {{1, -1}};
    assert_null(classmsg_encode_req(7, dup, 2, err, sizeof err));
    assert_null(classmsg_encode_req(7, neg, 1, err, sizeof err));
    assert_null(classmsg_encode_req(0, cls, 1, err, sizeof err));
    assert_null(classmsg_encode_req(7, cls, 0, err, sizeof err));
}

static void test_res_round_trip(void **state) {
    (void)state;
    char err[256];
    double w0[3] = {1.5, -0.0, 1e300}, w1[3] = {0, 2, -3};
    classmsg_ans_t a[2] = {{2, 5, 17, 1, 123.25, 0.5, w0}, {9, 1, 0, 3, -1, 0, w1}};
    blob_t *b = classmsg_encode_res(3, a, 2, err, sizeof err);
    assert_non_null(b);
    classmsg_res_t r;
    assert_int_equal(classmsg_decode_res(b->data, b->len, &r, err, sizeof err), 0);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.count, 2);
    assert_int_equal(r.ans[0].cls, 2);
    assert_int_equal(r.ans[0].iters, 5);
    assert_int_equal(r.ans[0].cg, 17);
    assert_int_equal(r.ans[0].stop, 1);
    assert_true(r.ans[0].f == 123.25 && r.ans[0].gnorm == 0.5);
    assert_memory_equal(r.ans[0].w, w0, sizeof w0);
    assert_memory_equal(r.ans[1].w, w1, sizeof w1);
    classmsg_res_free(&r);
    for (size_t cut = 0; cut < b->len; cut++)
        assert_int_equal(classmsg_decode_res(b->data, cut, &r, err, sizeof err), -1);
    blob_unref(&b);
    /* no weights: refused */
    a[1].w = NULL;
    assert_null(classmsg_encode_res(3, a, 2, err, sizeof err));
    /* random bytes behind the right magic never crash */
    srand(3);
    for (int t = 0; t < 3000; t++) {
        uint8_t buf[160];
        size_t len = (size_t)(rand() % 160);
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)(rand() % 3);
        if (len >= 4) proto_put_u32(buf, t % 2 ? CLASSMSG_RES_MAGIC : CLASSMSG_REQ_MAGIC);
        if (classmsg_decode_res(buf, len, &r, err, sizeof err) == 0) classmsg_res_free(&r);
        classmsg_req_t q;
        if (classmsg_decode_req(buf, len, &q, err, sizeof err) == 0) classmsg_req_free(&q);
    }
}

/* A context with rows: they come back where the buffer has them, after the
 * weights; a length that does not add up is refused. */
static void test_context_rows(void **state) {
    (void)state;
    char err[256];
    static const char rows[] = "1,a,2\n2,b,3\n";
    double w[2] = {0.5, -1};
    int labels[2] = {1, 2};
    jobctx_t c = {.format = JOBCTX_CSV,
                  .file = "f.csv",
                  .header = "id,l,x",
                  .header_len = 6,
                  .label = "l",
                  .solver = 0,
                  .C = 1,
                  .bias = -1,
                  .has_model = true,
                  .nr_class = 2,
                  .nr_feature = 2,
                  .nr_w = 1,
                  .labels = labels,
                  .w = w,
                  .data = rows,
                  .data_len = strlen(rows),
                  .data_first_line = 2};
    void *buf;
    size_t len;
    assert_int_equal(jobctx_encode(&c, &buf, &len), 0);
    jobctx_t *d = jobctx_decode(buf, len, err, sizeof err);
    if (!d) fail_msg("%s", err);
    assert_int_equal(d->data_len, strlen(rows));
    assert_memory_equal(d->data, rows, strlen(rows));
    assert_true((const char *)d->data >= (const char *)buf &&
                (const char *)d->data < (const char *)buf + len);
    assert_int_equal(d->data_first_line, 2);
    assert_true(d->w[1] == -1);
    jobctx_destroy(&d);
    assert_null(jobctx_decode(buf, len - 1, err, sizeof err));
    uint8_t *more = malloc(len + 1);
    memcpy(more, buf, len);
    more[len] = 'x';
    assert_null(jobctx_decode(more, len + 1, err, sizeof err));
    free(more);
    free(buf);
    /* without rows: no data */
    c.data = NULL;
    c.data_len = 0;
    assert_int_equal(jobctx_encode(&c, &buf, &len), 0);
    d = jobctx_decode(buf, len, err, sizeof err);
    assert_non_null(d);
    assert_null(d->data);
    jobctx_destroy(&d);
    free(buf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_req_round_trip_and_rules),
        cmocka_unit_test(test_res_round_trip),
        cmocka_unit_test(test_context_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
