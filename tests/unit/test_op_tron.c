/* Unit tests for worker/op_tron.c on a real cache entry: a malformed request
 * changes no state, so the next one is served right or refused (never a
 * crash, never H*s with another point's curvature). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/jobctx.h"
#include "common/proto.h"
#include "common/schema.h"
#include "common/tronmsg.h"
#include "worker/cache.h"
#include "worker/ops.h"

#define N 4 /* 3 features and the bias */

typedef struct rig {
    cache_t *cache;
    blob_t *ctx;
    int cancel;
    uint64_t rows;
} rig_t;

static void rig_open_rows(rig_t *r, const char *rows, int nfeat) {
    int labels[2] = {1, -1};
    schema_t *s = schema_for_libsvm(nfeat, labels, 2);
    char *js = schema_to_json(s);
    jobctx_t c = {.format = JOBCTX_LIBSVM,
                  .file = "t.svm",
                  .solver = 0,
                  .C = 1,
                  .bias = 1,
                  .schema_json = js,
                  .schema_len = strlen(js)};
    void *buf;
    size_t len;
    assert_int_equal(jobctx_encode(&c, &buf, &len), 0);
    memset(r, 0, sizeof *r);
    r->cache = cache_new(2, 0);
    r->ctx = blob_copy(buf, len);
    assert_int_equal(cache_put_context(r->cache, 1, r->ctx), 0);
    blob_t *sh = blob_copy(rows, strlen(rows));
    assert_int_equal(cache_put_shard(r->cache, 1, 0, sh), 0);
    blob_unref(&sh);
    free(buf);
    free(js);
    schema_destroy(&s);
}

static void rig_open(rig_t *r) {
    rig_open_rows(r, "1 1:0.5 2:1\n-1 1:-1 3:2\n1 2:0.25 3:-0.5\n-1 1:2 2:-1\n", 3);
}

static void rig_close(rig_t *r) {
    blob_unref(&r->ctx);
    cache_destroy(&r->cache);
}

/* Runs one OP_TRON over shard 0 with items; the FAIL class or 0, the
 * result in *res (caller frees) when 0. */
static int run_n(rig_t *r, uint32_t n, const tronmsg_item_t *items, size_t count,
                 tronmsg_res_t *res) {
    char err[256];
    tronmsg_shard_t tab[1] = {{0, 1}};
    tronmsg_layout_t lay = {.shards = tab, .nshards = 1};
    blob_t *body = tronmsg_encode_req(n, 0, &lay, items, count, err, sizeof err);
    assert_non_null(body);
    op_ctx_t ctx = {.job_id = 1,
                    .attempt = 1,
                    .shard = 0,
                    .context = r->ctx->data,
                    .context_len = r->ctx->len,
                    .cache = r->cache,
                    .cancel = &r->cancel,
                    .rows = &r->rows};
    ctx.entry = cache_acquire(r->cache, 1, 0);
    assert_non_null(ctx.entry);
    cache_entry_lock(ctx.entry);
    blob_t *out = NULL;
    const op_def_t *op = ops_lookup(OP_TRON);
    assert_non_null(op);
    int cls = op->fn(&ctx, body->data, body->len, &out, err, sizeof err);
    cache_entry_unlock(ctx.entry);
    cache_release(&ctx.entry);
    blob_unref(&body);
    if (cls == 0) {
        assert_int_equal(tronmsg_decode_res(out->data, out->len, res, err, sizeof err), 0);
        blob_unref(&out);
    }
    return cls;
}

static int run(rig_t *r, const tronmsg_item_t *items, size_t count, tronmsg_res_t *res) {
    return run_n(r, N, items, count, res);
}

static void test_bad_request_changes_nothing(void **state) {
    (void)state;
    rig_t r;
    rig_open(&r);
    double w0[N] = {0}, w1[N] = {0.5, -0.25, 1, 0.1}, s[N] = {1, 1, -1, 0.5};
    tronmsg_res_t res, ref;
    /* the gradient point 7 (w = 0), accepted by the HV that names it */
    tronmsg_item_t a[] = {
        {.cls = 0, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_FUNGRAD, .point = 7, .w = w0}};
    assert_int_equal(run(&r, a, 1, &res), 0);
    tronmsg_res_free(&res);
    tronmsg_item_t hv[] = {
        {.cls = 0, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_HV, .point = 7, .s = s}};
    assert_int_equal(run(&r, hv, 1, &ref), 0);
    /* a trial point 8 with a second request for the class: refused whole */
    tronmsg_item_t bad[] = {
        {.cls = 0, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_FUNGRAD, .point = 8, .w = w1},
        {.cls = 0, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_FUN, .point = 9, .w = w1}};
    assert_int_equal(run(&r, bad, 2, &res), PROTO_ERR_INTERNAL);
    /* point 8 was never computed: an HV naming it must ask for it */
    tronmsg_item_t hv8[] = {
        {.cls = 0, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_HV, .point = 8, .s = s}};
    assert_int_equal(run(&r, hv8, 1, &res), PROTO_ERR_NEEDPOINT);
    /* and point 7's H*s is what it was */
    assert_int_equal(run(&r, hv, 1, &res), 0);
    assert_memory_equal(res.ans[0].hv, ref.ans[0].hv, N * sizeof(double));
    tronmsg_res_free(&res);
    tronmsg_res_free(&ref);
    rig_close(&r);
}

/* TRONMSG_F_STAT: a COUNT on every row answers the largest squared row
 * norm with its bias feature (the search's start C); a PRED the sum of
 * -log p(true label) of a logistic model (the held-out log loss). */
static void test_stat(void **state) {
    (void)state;
    rig_t r;
    rig_open(&r);
    double w[N] = {0.5, -0.25, 0.1, 0.2};
    tronmsg_item_t it[] = {
        {.cls = 1, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_COUNT, .flags = TRONMSG_F_STAT},
        {.cls = 1, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_PRED, .flags = TRONMSG_F_STAT, .w = w},
        {.cls = 1, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_PRED, .w = w}};
    tronmsg_res_t res;
    assert_int_equal(run(&r, it, 3, &res), 0);
    /* rows 2 and 4: 1 + 4 + 1 and 4 + 1 + 1 */
    assert_true(res.ans[0].flags & TRONMSG_F_STAT);
    assert_true(res.ans[0].f == 6);
    /* label 1 is class 0 (p = sigmoid(w'x)), -1 class 1 (1 - p) */
    static const double x[4][N] = {
        {0.5, 1, 0, 1}, {-1, 0, 2, 1}, {0, 0.25, -0.5, 1}, {2, -1, 0, 1}};
    static const int y[4] = {0, 1, 0, 1};
    double want = 0;
    for (int i = 0; i < 4; i++) {
        double d = 0;
        for (int j = 0; j < N; j++)
            d += w[j] * x[i][j];
        double p = 1 / (1 + exp(-d));
        want -= log(y[i] == 0 ? p : 1 - p);
    }
    assert_true(res.ans[1].flags & TRONMSG_F_STAT);
    assert_true(fabs(res.ans[1].f - want) < 1e-12);
    assert_int_equal(res.ans[1].rows, 4);
    assert_false(res.ans[2].flags & TRONMSG_F_STAT); /* not asked, not sent */
    tronmsg_res_free(&res);
    rig_close(&r);
}

/* A shard that touches few of the columns trains in its own (renumbered
 * in place): predictions made after a Newton round still read the model's
 * columns, and a gradient comes back in the global ones. */
static void test_pred_after_renumbering(void **state) {
    (void)state;
    rig_t r;
    /* 9 features and the bias; the rows touch 2, 7 and the bias only */
    rig_open_rows(&r, "1 2:0.5 7:1\n-1 7:2\n1 2:-1\n-1 2:1 7:-0.5\n", 9);
    enum { NB = 10 };
    double w0[NB] = {0}, w[NB] = {9, 0.5, 9, 9, 9, 9, -0.25, 9, 9, 0.1};
    tronmsg_item_t fg[] = {
        {.cls = 0, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_FUNGRAD, .point = 3, .w = w0}};
    tronmsg_res_t res;
    assert_int_equal(run_n(&r, NB, fg, 1, &res), 0);
    assert_int_equal(res.m, NB); /* not compact: the answer holds every column */
    for (int j = 0; j < NB; j++)
        if (j != 1 && j != 6 && j != 9) assert_true(res.ans[0].g[j] == 0);
    assert_true(res.ans[0].g[1] != 0 && res.ans[0].g[6] != 0);
    tronmsg_res_free(&res);
    tronmsg_item_t pr[] = {
        {.cls = 1, .fold = TRONMSG_ALL_ROWS, .op = TRONMSG_PRED, .flags = TRONMSG_F_STAT, .w = w}};
    assert_int_equal(run_n(&r, NB, pr, 1, &res), 0);
    static const double x[4][3] = {{0.5, 1, 1}, {0, 2, 1}, {-1, 0, 1}, {1, -0.5, 1}};
    static const int y[4] = {0, 1, 0, 1};
    double want = 0;
    int correct = 0;
    for (int i = 0; i < 4; i++) {
        double d = w[1] * x[i][0] + w[6] * x[i][1] + w[9] * x[i][2];
        double p = 1 / (1 + exp(-d));
        want -= log(y[i] == 0 ? p : 1 - p);
        correct += (d > 0 ? 0 : 1) == y[i];
    }
    assert_true(fabs(res.ans[0].f - want) < 1e-12);
    assert_int_equal(res.ans[0].correct, correct);
    tronmsg_res_free(&res);
    rig_close(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_request_changes_nothing),
        cmocka_unit_test(test_stat),
        cmocka_unit_test(test_pred_after_renumbering),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
