/* linfun: per-shard sums add up to the whole, match the derivatives of the
 * loss, and the batched pass equals the per-class calls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "linprob.h"

static double max_rel(const double *a, const double *b, int n) {
    double m = 0, scale = 1e-300;
    for (int i = 0; i < n; i++)
        scale = fmax(scale, fabs(b[i]));
    for (int i = 0; i < n; i++)
        m = fmax(m, fabs(a[i] - b[i]) / scale);
    return m;
}

static void random_vec(double *v, int n, double amp) {
    for (int i = 0; i < n; i++)
        v[i] = (lp_uniform() * 2 - 1) * amp;
}

/* fun, grad (and diag) and hv of the whole equal the sums over 1, 2, 3, 4 shards. */
static void check_split(int solver, int nr_class, double bias, double density) {
    linprob_t p;
    lp_make(&p, 257, 23, density, nr_class, bias, 0, 7 + (uint64_t)nr_class);
    int n = p.d.n, nr_w = nr_class == 2 ? 1 : nr_class;
    char err[256];
    linfun_t *whole = linfun_new(&p.d, solver, nr_w, err, sizeof err);
    assert_non_null(whole);
    double *w = malloc((size_t)n * sizeof *w), *s = malloc((size_t)n * sizeof *s);
    double *g1 = calloc((size_t)n, sizeof *g1), *d1 = calloc((size_t)n, sizeof *d1);
    double *h1 = calloc((size_t)n, sizeof *h1);
    double *g2 = calloc((size_t)n, sizeof *g2), *d2 = calloc((size_t)n, sizeof *d2);
    double *h2 = calloc((size_t)n, sizeof *h2);
    for (int k = 0; k < nr_w; k++) {
        random_vec(w, n, 0.5);
        random_vec(s, n, 1.0);
        memset(g1, 0, (size_t)n * sizeof *g1);
        memset(d1, 0, (size_t)n * sizeof *d1);
        memset(h1, 0, (size_t)n * sizeof *h1);
        double f1 = linfun_fun(whole, k, w);
        linfun_grad(whole, k, g1, d1);
        linfun_hv(whole, k, s, h1);
        assert_true(f1 > 0);
        for (int nsh = 1; nsh <= 4; nsh++) {
            double f2 = 0;
            memset(g2, 0, (size_t)n * sizeof *g2);
            memset(d2, 0, (size_t)n * sizeof *d2);
            memset(h2, 0, (size_t)n * sizeof *h2);
            size_t pos = 0;
            for (int sh = 0; sh < nsh; sh++) {
                size_t a = p.d.rows * sh / nsh, b = p.d.rows * (sh + 1) / nsh;
                dataset_t v = lp_view(&p, a, b);
                linfun_t *part = linfun_new(&v, solver, nr_w, err, sizeof err);
                assert_non_null(part);
                f2 += linfun_fun(part, k, w);
                linfun_grad(part, k, g2, d2);
                linfun_hv(part, k, s, h2);
                pos += linfun_positives(part, k);
                linfun_destroy(&part);
            }
            assert_int_equal(pos, linfun_positives(whole, k));
            assert_true(fabs(f1 - f2) <= 1e-10 * fabs(f1));
            assert_true(max_rel(g2, g1, n) <= 1e-10);
            assert_true(max_rel(d2, d1, n) <= 1e-10);
            assert_true(max_rel(h2, h1, n) <= 1e-10);
        }
    }
    free(w), free(s), free(g1), free(d1), free(h1), free(g2), free(d2), free(h2);
    linfun_destroy(&whole);
    lp_free(&p);
}

static void test_shards_sum_to_whole(void **state) {
    (void)state;
    for (int solver = 0; solver <= 2; solver += 2) {
        check_split(solver, 2, 1.0, 1.0);
        check_split(solver, 2, -1, 0.2);
        check_split(solver, 3, 1.0, 0.5);
        check_split(solver, 5, -1, 0.3);
    }
}

/* grad is the derivative of fun, hv the derivative of grad (central differences). */
static void test_derivatives(void **state) {
    (void)state;
    for (int solver = 0; solver <= 2; solver += 2) {
        linprob_t p;
        lp_make(&p, 120, 9, 0.7, 3, 1.0, 0, 99);
        int n = p.d.n;
        char err[256];
        linfun_t *f = linfun_new(&p.d, solver, 3, err, sizeof err);
        assert_non_null(f);
        double w[16], s[16], g[16] = {0}, dg[16] = {0}, hv[16] = {0}, wp[16], gp[16], gm[16];
        random_vec(w, n, 0.3);
        random_vec(s, n, 1.0);
        int k = 1;
        linfun_fun(f, k, w);
        linfun_grad(f, k, g, dg);
        linfun_hv(f, k, s, hv);
        const double h = 1e-6;
        for (int j = 0; j < n; j++) {
            memcpy(wp, w, sizeof wp);
            wp[j] = w[j] + h;
            double fp = linfun_fun(f, k, wp);
            wp[j] = w[j] - h;
            double fm = linfun_fun(f, k, wp);
            assert_true(fabs((fp - fm) / (2 * h) - g[j]) <= 1e-5 * (1 + fabs(g[j])));
            assert_true(dg[j] >= 0);
        }
        if (solver == 0) { /* LR is smooth: H s is the derivative of grad along s */
            for (int j = 0; j < n; j++)
                wp[j] = w[j] + h * s[j];
            memset(gp, 0, sizeof gp);
            linfun_fun(f, k, wp);
            linfun_grad(f, k, gp, NULL);
            for (int j = 0; j < n; j++)
                wp[j] = w[j] - h * s[j];
            memset(gm, 0, sizeof gm);
            linfun_fun(f, k, wp);
            linfun_grad(f, k, gm, NULL);
            for (int j = 0; j < n; j++)
                assert_true(fabs((gp[j] - gm[j]) / (2 * h) - hv[j]) <= 1e-5 * (1 + fabs(hv[j])));
        }
        linfun_destroy(&f);
        lp_free(&p);
    }
}

/* Hv uses the curvature of the last grad point even after fun() moved on (a
 * rejected trial step in TRON). */
static void test_hv_uses_last_grad_point(void **state) {
    (void)state;
    linprob_t p;
    lp_make(&p, 80, 6, 1.0, 2, 1.0, 0, 5);
    int n = p.d.n;
    char err[256];
    linfun_t *f = linfun_new(&p.d, 0, 1, err, sizeof err);
    double w[8], w2[8], s[8], g[8] = {0}, h1[8] = {0}, h2[8] = {0};
    random_vec(w, n, 0.5);
    random_vec(w2, n, 3.0);
    random_vec(s, n, 1.0);
    linfun_fun(f, 0, w);
    linfun_grad(f, 0, g, NULL);
    linfun_hv(f, 0, s, h1);
    linfun_fun(f, 0, w2);
    linfun_hv(f, 0, s, h2);
    assert_memory_equal(h1, h2, (size_t)n * sizeof *h1);
    linfun_destroy(&f);
    lp_free(&p);
}

/* FUNGRAD is FUN then GRAD in one pass (the same bits, with several classes
 * batched too), and its D waits: hv() keeps the last GRAD's until
 * linfun_accept(), which works once. */
static void test_fungrad_waits_for_accept(void **state) {
    (void)state;
    for (int solver = 0; solver <= 2; solver += 2) {
        linprob_t p;
        lp_make(&p, 120, 9, 0.6, 3, 1.0, 0, 11);
        int n = p.d.n;
        char err[256];
        linfun_t *a = linfun_new(&p.d, solver, 3, err, sizeof err);
        linfun_t *b = linfun_new(&p.d, solver, 3, err, sizeof err);
        assert_non_null(a);
        assert_non_null(b);
        double w[3][16], w2[3][16], s[16];
        for (int k = 0; k < 3; k++) {
            random_vec(w[k], n, 0.5);
            random_vec(w2[k], n, 2.0);
        }
        random_vec(s, n, 1.0);
        /* a: FUN + GRAD at w, then FUN + GRAD at w2, one class at a time;
         * b: one FUNGRAD pass at w (accepted), then one at w2, all classes */
        double fa[3], fb[3], ga[3][16] = {{0}}, da[3][16] = {{0}}, gb[3][16] = {{0}},
                             db[3][16] = {{0}};
        linfun_req_t reqs[3];
        for (int k = 0; k < 3; k++) {
            double g0[16] = {0};
            linfun_fun(a, k, w[k]);
            linfun_grad(a, k, g0, NULL);
            reqs[k] = (linfun_req_t){
                .op = LINFUN_FUNGRAD, .v = w[k], .loss = &fb[k], .out = gb[k], .diag = db[k]};
        }
        linfun_batch(b, reqs);
        for (int k = 0; k < 3; k++) {
            assert_int_equal(linfun_accept(b, k), 0);
            assert_int_equal(linfun_accept(b, k), -1); /* once */
            memset(gb[k], 0, sizeof gb[k]);
            memset(db[k], 0, sizeof db[k]);
        }
        for (int k = 0; k < 3; k++) {
            fa[k] = linfun_fun(a, k, w2[k]);
            linfun_grad(a, k, ga[k], da[k]);
            reqs[k] = (linfun_req_t){
                .op = LINFUN_FUNGRAD, .v = w2[k], .loss = &fb[k], .out = gb[k], .diag = db[k]};
        }
        linfun_batch(b, reqs);
        /* the same bits, alone or batched */
        for (int k = 0; k < 3; k++) {
            assert_memory_equal(&fa[k], &fb[k], sizeof fa[k]);
            assert_memory_equal(ga[k], gb[k], (size_t)n * sizeof ga[k][0]);
            assert_memory_equal(da[k], db[k], (size_t)n * sizeof da[k][0]);
        }
        /* not accepted: H*s at w's D (a's state at w, rebuilt) */
        linfun_t *c = linfun_new(&p.d, solver, 3, err, sizeof err);
        double hb[16] = {0}, hc[16] = {0}, g0[16] = {0};
        linfun_fun(c, 1, w[1]);
        linfun_grad(c, 1, g0, NULL);
        linfun_hv(c, 1, s, hc);
        linfun_hv(b, 1, s, hb);
        assert_memory_equal(hb, hc, (size_t)n * sizeof hb[0]);
        /* accepted: H*s at w2's D, as a has it */
        memset(hb, 0, sizeof hb);
        memset(hc, 0, sizeof hc);
        assert_int_equal(linfun_accept(b, 1), 0);
        linfun_hv(b, 1, s, hb);
        linfun_hv(a, 1, s, hc);
        assert_memory_equal(hb, hc, (size_t)n * sizeof hb[0]);
        linfun_destroy(&a);
        linfun_destroy(&b);
        linfun_destroy(&c);
        lp_free(&p);
    }
}

/* One batched pass with different ops per class equals the per-class calls,
 * bit for bit. */
static void test_batch_equals_single(void **state) {
    (void)state;
    for (int solver = 0; solver <= 2; solver += 2) {
        linprob_t p;
        lp_make(&p, 150, 17, 0.4, 4, 1.0, 0, 31);
        int n = p.d.n;
        char err[256];
        linfun_t *a = linfun_new(&p.d, solver, 4, err, sizeof err);
        linfun_t *b = linfun_new(&p.d, solver, 4, err, sizeof err);
        assert_non_null(a);
        assert_non_null(b);
        double w[4][32], s[4][32];
        for (int k = 0; k < 4; k++) {
            random_vec(w[k], n, 0.4);
            random_vec(s[k], n, 1.0);
        }
        /* Bring every class to a grad point, both ways. */
        for (int k = 0; k < 4; k++) {
            double g[32] = {0};
            linfun_fun(a, k, w[k]);
            linfun_grad(a, k, g, NULL);
        }
        linfun_req_t reqs[4];
        double fb[4], ga[4][32] = {{0}}, gb[4][32] = {{0}}, da[4][32] = {{0}}, db[4][32] = {{0}};
        for (int k = 0; k < 4; k++)
            reqs[k] = (linfun_req_t){.op = LINFUN_FUN, .v = w[k], .out = &fb[k]};
        linfun_batch(b, reqs);
        for (int k = 0; k < 4; k++)
            reqs[k] = (linfun_req_t){.op = LINFUN_GRAD, .out = gb[k], .diag = db[k]};
        linfun_batch(b, reqs);

        /* Mixed round: FUN, GRAD, HV, NONE. */
        double fa0 = linfun_fun(a, 0, s[0]);
        linfun_grad(a, 1, ga[1], da[1]); /* at w[1] again */
        linfun_hv(a, 2, s[2], ga[2]);
        memset(gb[1], 0, sizeof gb[1]);
        memset(db[1], 0, sizeof db[1]);
        memset(gb[2], 0, sizeof gb[2]);
        reqs[0] = (linfun_req_t){.op = LINFUN_FUN, .v = s[0], .out = &fb[0]};
        reqs[1] = (linfun_req_t){.op = LINFUN_GRAD, .out = gb[1], .diag = db[1]};
        reqs[2] = (linfun_req_t){.op = LINFUN_HV, .v = s[2], .out = gb[2]};
        reqs[3] = (linfun_req_t){.op = LINFUN_NONE};
        linfun_batch(b, reqs);
        /* the same bits: a class's sums do not depend on its company */
        assert_memory_equal(&fa0, &fb[0], sizeof fa0);
        assert_memory_equal(gb[1], ga[1], (size_t)n * sizeof gb[1][0]);
        assert_memory_equal(db[1], da[1], (size_t)n * sizeof db[1][0]);
        assert_memory_equal(gb[2], ga[2], (size_t)n * sizeof gb[2][0]);
        linfun_destroy(&a);
        linfun_destroy(&b);
        lp_free(&p);
    }
}

/* A row's logistic loss has the bits of liblinear 2.30's l2r_lr_fun:
 * log(1 + exp(-m)), and -m + log(1 + exp(m)) for a negative margin. A
 * two-row shard: row 0 on the positive side (margin +v), row 1 on the
 * negative side with the same x (margin -v); each class's fun() over one
 * row is that row's loss alone. */
static void test_loss_is_liblinears(void **state) {
    (void)state;
    static const double vals[] = {0.25, 3.5, 17.0, 25.0, 30.0, 36.5};
    int differs = 0;
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        double v = vals[i], w = 1.0;
        struct feature_node row[2] = {{1, v}, {-1, 0}};
        struct feature_node *x[1] = {row};
        for (int y = 0; y <= 1; y++) {
            int lab[1] = {y};
            dataset_t d = {.rows = 1, .n = 1, .bias = -1, .x = x, .y = lab};
            char err[256];
            linfun_t *f = linfun_new(&d, 0, 1, err, sizeof err);
            assert_non_null(f);
            double m = y == 0 ? v : -v;
            double want = m >= 0 ? log(1 + exp(-m)) : -m + log(1 + exp(m));
            double got = linfun_fun(f, 0, &w);
            assert_memory_equal(&got, &want, sizeof got);
            differs += m >= 0 && log1p(exp(-m)) != want; /* where log1p would not do */
            linfun_destroy(&f);
        }
    }
    assert_true(differs > 0);
}

/* A single class's zeroed output is summed in place: the same values as
 * summed apart and added (FUNGRAD with its diagonal, then HV); an output
 * not marked zeroed is still added to. */
static void test_zeroed_in_place(void **state) {
    (void)state;
    for (int solver = 0; solver <= 2; solver += 2) {
        linprob_t p;
        lp_make(&p, 200, 19, 0.3, 2, 1.0, 0, 17);
        int n = p.d.n;
        char err[256];
        linfun_t *a = linfun_new(&p.d, solver, 1, err, sizeof err);
        linfun_t *b = linfun_new(&p.d, solver, 1, err, sizeof err);
        assert_non_null(a);
        assert_non_null(b);
        double w[32], s[32], fa, fb, ga[32] = {0}, gb[32] = {0}, da[32] = {0}, db[32] = {0};
        double ha[32], hb[32] = {0};
        random_vec(w, n, 0.4);
        random_vec(s, n, 1.0);
        linfun_req_t ra = {.op = LINFUN_FUNGRAD, .v = w, .loss = &fa, .out = ga, .diag = da};
        linfun_req_t rb = ra;
        rb.loss = &fb, rb.out = gb, rb.diag = db, rb.zeroed = true;
        linfun_batch(a, &ra);
        linfun_batch(b, &rb);
        assert_true(fa == fb);
        for (int j = 0; j < n; j++)
            assert_true(ga[j] == gb[j] && da[j] == db[j]);
        assert_int_equal(linfun_accept(a, 0), 0);
        assert_int_equal(linfun_accept(b, 0), 0);
        for (int j = 0; j < n; j++)
            ha[j] = 1.0; /* not zeroed: the sums are added to what is there */
        ra = (linfun_req_t){.op = LINFUN_HV, .v = s, .out = ha};
        rb = (linfun_req_t){.op = LINFUN_HV, .v = s, .out = hb, .zeroed = true};
        linfun_batch(a, &ra);
        linfun_batch(b, &rb);
        for (int j = 0; j < n; j++)
            assert_true(ha[j] == 1.0 + hb[j]);
        linfun_destroy(&a);
        linfun_destroy(&b);
        lp_free(&p);
    }
}

static void test_bad_input(void **state) {
    (void)state;
    linprob_t p;
    lp_make(&p, 20, 3, 1.0, 3, 1.0, 0, 1);
    char err[256] = "";
    assert_null(linfun_new(&p.d, 1, 3, err, sizeof err));
    assert_non_null(strstr(err, "solver"));
    err[0] = '\0';
    assert_null(linfun_new(&p.d, 0, 1, err, sizeof err)); /* label index 2 in a 2-class fit */
    assert_non_null(strstr(err, "label"));
    p.d.y[3] = -1;
    assert_null(linfun_new(&p.d, 0, 3, err, sizeof err));
    linfun_t *f = NULL;
    linfun_destroy(&f);
    lp_free(&p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shards_sum_to_whole),
        cmocka_unit_test(test_derivatives),
        cmocka_unit_test(test_fungrad_waits_for_accept),
        cmocka_unit_test(test_hv_uses_last_grad_point),
        cmocka_unit_test(test_batch_equals_single),
        cmocka_unit_test(test_zeroed_in_place),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_loss_is_liblinears),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
