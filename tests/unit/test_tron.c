/* tron + linfun against liblinear 2.30's own train(): the distributed exact
 * strategy must reach the model liblinear-train gives on the same rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/model.h"
#include "linprob.h"

/* liblinear's TRON log, parsed: one "iter" line per outer pass. */
static int ll_passes, ll_cg;

static void ll_capture(const char *s) {
    const char *p = strstr(s, "iter ");
    const char *c = strstr(s, " CG ");
    if (p && c) {
        ll_passes++;
        ll_cg += atoi(c + 4);
    }
}

typedef struct {
    int l, nf;
    double density;
    int nr_class;
    double bias;
    int pm1;
    uint64_t seed;
} shape_t;

static const shape_t shapes[] = {
    {240, 12, 1.0, 2, 1.0, 0, 1}, /* dense binary with bias */
    {300, 60, 0.1, 2, -1, 1, 2},  /* sparse -1/+1 binary, no bias */
    {270, 10, 1.0, 3, 1.0, 0, 3}, /* dense 3-class with bias */
    {330, 50, 0.15, 3, -1, 0, 4}, /* sparse 3-class, no bias */
    {200, 8, 0.8, 4, 2.5, 0, 5},  /* 4 classes, bias 2.5 */
};

static void check_shape(const shape_t *sh, int solver, double C, double eps) {
    linprob_t p;
    lp_make(&p, sh->l, sh->nf, sh->density, sh->nr_class, sh->bias, sh->pm1, sh->seed);
    ll_passes = ll_cg = 0;
    struct parameter par;
    memset(&par, 0, sizeof par);
    par.solver_type = solver;
    par.C = C;
    par.eps = eps;
    set_print_string_function(ll_capture);
    struct model *ref = train(&p.prob, &par);
    assert_non_null(ref);
    assert_int_equal(ref->nr_class, p.nr_class);
    for (int k = 0; k < p.nr_class; k++)
        assert_int_equal(ref->label[k], p.labels[k]);
    int n = p.d.n;
    int nr_w = model_nr_w(solver, p.nr_class);
    size_t nw = (size_t)n * nr_w;
    double *w = calloc(nw, sizeof *w);
    assert_non_null(w);

    static const int splits[] = {1, 2, 4};
    for (int si = 0; si < 3; si++) {
        int nsh = splits[si];
        linfun_t *f[4];
        dataset_t views[4];
        size_t rows[4];
        char err[256];
        for (int s = 0; s < nsh; s++) {
            size_t a = p.d.rows * s / nsh, b = p.d.rows * (s + 1) / nsh;
            views[s] = lp_view(&p, a, b);
            rows[s] = b - a;
            f[s] = linfun_new(&views[s], solver, nr_w, err, sizeof err);
            assert_non_null(f[s]);
        }
        for (int batch = 0; batch < 2; batch++) {
            int rounds = lp_train_ours(f, rows, nsh, n, nr_w, C, eps, batch, w);
            assert_true(rounds > 0);
            double rel = lp_rel_l2(w, ref->w, nw);
            print_message("solver %d classes %d bias %g shards %d batch %d: rel L2 %.2e, %d "
                          "rounds (liblinear %d passes, %d CG)\n",
                          solver, p.nr_class, sh->bias, nsh, batch, rel, rounds, ll_passes, ll_cg);
            assert_true(rel < 1e-3);

            struct model *ours = model_build(solver, p.nr_class, p.labels, n - (sh->bias >= 0),
                                             sh->bias, w, err, sizeof err);
            assert_non_null(ours);
            int diff = 0;
            for (size_t i = 0; i < p.d.rows; i++)
                diff += predict(ours, p.d.x[i]) != predict(ref, p.d.x[i]);
            assert_int_equal(diff, 0);
            free_and_destroy_model(&ours);
        }
        for (int s = 0; s < nsh; s++)
            linfun_destroy(&f[s]);
    }
    free(w);
    free_and_destroy_model(&ref);
    lp_free(&p);
}

static void test_against_liblinear_lr(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        check_shape(&shapes[i], L2R_LR, 1.0, 0.01);
    check_shape(&shapes[0], L2R_LR, 10.0, 0.001);
    check_shape(&shapes[3], L2R_LR, 0.05, 0.1);
}

static void test_against_liblinear_l2svc(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        check_shape(&shapes[i], L2R_L2LOSS_SVC, 1.0, 0.01);
    check_shape(&shapes[1], L2R_L2LOSS_SVC, 4.0, 0.001);
}

/* The same passes and CG steps as liblinear's log: the algorithm is mirrored,
 * not just the optimum approached. One class, one shard. */
static void test_same_iterations(void **state) {
    (void)state;
    for (int solver = 0; solver <= 2; solver += 2) {
        linprob_t p;
        lp_make(&p, 400, 30, 0.3, 2, 1.0, 0, 11);
        ll_passes = ll_cg = 0;
        struct parameter par;
        memset(&par, 0, sizeof par);
        par.solver_type = solver;
        par.C = 2.0;
        par.eps = 0.0001;
        set_print_string_function(ll_capture);
        struct model *ref = train(&p.prob, &par);
        assert_non_null(ref);

        char err[256];
        linfun_t *f = linfun_new(&p.d, solver, 1, err, sizeof err);
        assert_non_null(f);
        long pos = (long)linfun_positives(f, 0), l = (long)p.d.rows;
        tron_t *t = tron_new(p.d.n, 2.0, tron_class_eps(0.0001, pos, l - pos, l), 0.1, 1000, NULL);
        assert_non_null(t);
        double *g = calloc((size_t)p.d.n, sizeof *g), *dg = calloc((size_t)p.d.n, sizeof *dg);
        const double *v;
        tron_op_t op;
        assert_true(tron_progress(t) == 0.0); /* nothing known before the first gradient */
        double most = 0;
        while ((op = tron_next(t, &v)) != TRON_DONE) {
            double pr = tron_progress(t);
            assert_true(pr >= 0.0 && pr < 1.0);
            most = pr > most ? pr : most;
            memset(g, 0, (size_t)p.d.n * sizeof *g);
            memset(dg, 0, (size_t)p.d.n * sizeof *dg);
            if (op == TRON_FUN)
                assert_int_equal(tron_feed_fun(t, linfun_fun(f, 0, v)), 0);
            else if (op == TRON_GRAD) {
                linfun_grad(f, 0, g, dg);
                assert_int_equal(tron_feed_grad(t, g, dg), 0);
            } else {
                linfun_hv(f, 0, v, g);
                assert_int_equal(tron_feed_hv(t, g), 0);
            }
        }
        assert_true(most > 0.5);              /* it moved on the way */
        assert_true(tron_progress(t) == 1.0); /* and is whole when done */
        tron_iter_info_t info;
        int passes = tron_iteration_info(t, &info);
        print_message("solver %d: ours %d passes %ld CG, liblinear %d passes %d CG, stop %d\n",
                      solver, passes, tron_cg_total(t), ll_passes, ll_cg, tron_stop_reason(t));
        assert_int_equal(passes, ll_passes);
        assert_int_equal(tron_cg_total(t), ll_cg);
        assert_int_equal(tron_stop_reason(t), TRON_CONVERGED);
        assert_true(lp_rel_l2(tron_weights(t), ref->w, (size_t)p.d.n) < 1e-6);
        free(g);
        free(dg);
        tron_destroy(&t);
        linfun_destroy(&f);
        free_and_destroy_model(&ref);
        lp_free(&p);
    }
}

/* Drives t on f until it is done or has made `stop_after` accepted steps. */
static void drive(tron_t *t, linfun_t *f, int n, int stop_after) {
    double *g = calloc((size_t)n, sizeof *g), *dg = calloc((size_t)n, sizeof *dg);
    const double *v;
    tron_op_t op;
    tron_state_t st;
    while ((op = tron_next(t, &v)) != TRON_DONE) {
        memset(g, 0, (size_t)n * sizeof *g);
        memset(dg, 0, (size_t)n * sizeof *dg);
        if (op == TRON_FUN) {
            tron_feed_fun(t, linfun_fun(f, 0, v));
        } else if (op == TRON_GRAD) {
            linfun_grad(f, 0, g, dg);
            tron_feed_grad(t, g, dg);
            tron_state(t, &st);
            if (stop_after > 0 && st.iter > stop_after) break;
        } else {
            linfun_hv(f, 0, v, g);
            tron_feed_hv(t, g);
        }
    }
    free(g);
    free(dg);
}

/* A master that crashes after an accepted step and resumes from the journal
 * (weights + tron_state) ends with the model of the undisturbed run. */
static void test_resume_same_model(void **state) {
    (void)state;
    linprob_t p;
    lp_make(&p, 300, 20, 0.5, 2, 1.0, 0, 21);
    char err[256];
    int n = p.d.n;
    linfun_t *f = linfun_new(&p.d, 0, 1, err, sizeof err);
    assert_non_null(f);
    double eps = tron_class_eps(0.001, (long)linfun_positives(f, 0),
                                (long)p.d.rows - (long)linfun_positives(f, 0), (long)p.d.rows);
    tron_t *whole = tron_new(n, 1.0, eps, 0.1, 1000, NULL);
    drive(whole, f, n, 0);
    assert_int_equal(tron_stop_reason(whole), TRON_CONVERGED);
    assert_true(tron_iteration_info(whole, NULL) >= 3);

    tron_t *first = tron_new(n, 1.0, eps, 0.1, 1000, NULL);
    drive(first, f, n, 2);
    assert_int_equal(tron_stop_reason(first), TRON_RUNNING);
    tron_state_t st;
    tron_state(first, &st);
    assert_int_equal(st.iter, 3);
    double *journal = malloc((size_t)n * sizeof *journal);
    memcpy(journal, tron_weights(first), (size_t)n * sizeof *journal);
    tron_destroy(&first);

    /* A fresh shard state, as a restarted worker would have. */
    linfun_destroy(&f);
    f = linfun_new(&p.d, 0, 1, err, sizeof err);
    tron_t *second = tron_resume(n, 1.0, eps, 0.1, 1000, journal, &st);
    assert_non_null(second);
    drive(second, f, n, 0);
    assert_int_equal(tron_stop_reason(second), TRON_CONVERGED);
    assert_true(lp_rel_l2(tron_weights(second), tron_weights(whole), (size_t)n) < 1e-12);
    free(journal);
    tron_destroy(&whole);
    tron_destroy(&second);
    linfun_destroy(&f);
    lp_free(&p);
}

/* Drives t on f with the gradient asked together with each FUN (one
 * FUNGRAD pass, tron_feed_fun_grad); counts the gradients TRON dropped. */
static void drive_merged(tron_t *t, linfun_t *f, int n, int *dropped) {
    double *h = calloc((size_t)n, sizeof *h);
    const double *v;
    tron_op_t op;
    while ((op = tron_next(t, &v)) != TRON_DONE) {
        assert_int_not_equal(op, TRON_GRAD);
        if (op == TRON_FUN) {
            double *ds, *gs = tron_sums(t, &ds), loss = 0;
            assert_non_null(gs);
            assert_non_null(ds);
            memset(gs, 0, (size_t)n * sizeof *gs);
            memset(ds, 0, (size_t)n * sizeof *ds);
            linfun_req_t r = {.op = LINFUN_FUNGRAD, .v = v, .loss = &loss, .out = gs, .diag = ds};
            linfun_batch(f, &r);
            int rc = tron_feed_fun_grad(t, loss);
            assert_true(rc >= 0);
            if (rc == 1)
                assert_int_equal(linfun_accept(f, 0), 0);
            else
                (*dropped)++;
        } else {
            memset(h, 0, (size_t)n * sizeof *h);
            linfun_hv(f, 0, v, h);
            assert_int_equal(tron_feed_hv(t, h), 0);
        }
    }
    free(h);
}

/* The gradient asked with every FUN gives the iterates of the separate
 * rounds bit for bit: a rejected trial point's gradient is dropped and the
 * CG after it uses the last accepted point's curvature. Also from a resume. */
static void test_fun_grad_same_iterates(void **state) {
    (void)state;
    int dropped = 0;
    for (int solver = 0; solver <= 2; solver += 2)
        for (int seed = 1; seed <= 6; seed++) {
            linprob_t p;
            lp_make(&p, 200, 25, 0.5, 2, 1.0, 0, (unsigned)seed);
            char err[256];
            int n = p.d.n;
            double C = seed % 2 ? 1e3 : 1e5;
            linfun_t *f = linfun_new(&p.d, solver, 1, err, sizeof err);
            linfun_t *g = linfun_new(&p.d, solver, 1, err, sizeof err);
            long pos = (long)linfun_positives(f, 0), l = (long)p.d.rows;
            /* a large C and a tight eps make TRON reject some trial points */
            double eps = tron_class_eps(1e-8, pos, l - pos, l);
            tron_t *a = tron_new(n, C, eps, 0.1, 1000, NULL);
            tron_t *b = tron_new(n, C, eps, 0.1, 1000, NULL);
            drive(a, f, n, 0);
            drive_merged(b, g, n, &dropped);
            assert_int_equal(tron_iteration_info(a, NULL), tron_iteration_info(b, NULL));
            assert_int_equal(tron_cg_total(a), tron_cg_total(b));
            assert_int_equal(tron_stop_reason(a), tron_stop_reason(b));
            assert_memory_equal(tron_weights(a), tron_weights(b), (size_t)n * sizeof(double));

            /* resumed after two steps, merged */
            tron_t *first = tron_new(n, C, eps, 0.1, 1000, NULL);
            drive(first, f, n, 2);
            tron_state_t st;
            tron_state(first, &st);
            linfun_t *h = linfun_new(&p.d, solver, 1, err, sizeof err);
            tron_t *c = tron_resume(n, C, eps, 0.1, 1000, tron_weights(first), &st);
            assert_non_null(c);
            drive_merged(c, h, n, &dropped);
            assert_true(lp_rel_l2(tron_weights(c), tron_weights(a), (size_t)n) < 1e-9);
            tron_destroy(&first);
            tron_destroy(&c);
            tron_destroy(&a);
            tron_destroy(&b);
            linfun_destroy(&f);
            linfun_destroy(&g);
            linfun_destroy(&h);
            lp_free(&p);
        }
    print_message("%d gradients dropped at rejected trial points\n", dropped);
    assert_true(dropped > 0);
}

/* u'Mv in liblinear 2.30's grouping: five products summed, then added. */
static double ll_uTMv(int n, const double *u, const double *M, const double *v) {
    double res = 0;
    int i = 0;
    for (; i + 4 < n; i += 5) {
        double five = u[i] * M[i] * v[i];
        for (int j = 1; j < 5; j++)
            five += u[i + j] * M[i + j] * v[i + j];
        res += five;
    }
    for (; i < n; i++)
        res += u[i] * M[i] * v[i];
    return res;
}

/* The first radius is sqrt(g'Mg) with the products added five at a time,
 * as tron.cpp's uTMv adds them: one large product, then small ones that
 * vanish when added to it one by one but not when summed first. */
static void test_radius_sums_in_fives(void **state) {
    (void)state;
    enum { N = 12 };
    double gl[N] = {1e8, 0, 0, 0, 0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.7, 0.7}, diag[N] = {0};
    double M[N], one_by_one = 0;
    for (int i = 0; i < N; i++) {
        M[i] = 0.99 + 0.01 * (1 + diag[i]); /* tron's M' at C = 1 */
        one_by_one += gl[i] * M[i] * gl[i];
    }
    double fives = ll_uTMv(N, gl, M, gl);
    assert_true(sqrt(fives) != sqrt(one_by_one)); /* the grouping shows */

    tron_t *t = tron_new(N, 1.0, 0.01, 0.1, 10, NULL);
    assert_non_null(t);
    assert_int_equal(tron_feed_fun(t, 5.0), 0);
    assert_int_equal(tron_feed_grad(t, gl, diag), 0); /* at w = 0, g = C * gl */
    tron_state_t st;
    tron_state(t, &st);
    assert_true(st.delta == sqrt(fives));
    tron_destroy(&t);
}

static void test_protocol_and_rules(void **state) {
    (void)state;
    /* liblinear 2.30 train_one's tolerance rule. */
    assert_true(fabs(tron_class_eps(0.01, 30, 70, 100) - 0.003) < 1e-15);
    assert_true(fabs(tron_class_eps(0.01, 0, 100, 100) - 0.0001) < 1e-15);
    assert_true(tron_eps_cg(0) == 0.1 && tron_eps_cg(1) == 0.5);
    assert_null(tron_new(0, 1, 0.01, 0.1, 10, NULL));
    assert_null(tron_new(3, 0, 0.01, 0.1, 10, NULL));

    double w0[3] = {1, 2, 3}, zero3[3] = {0};
    tron_t *t = tron_new(3, 1.0, 0.01, 0.1, 10, w0);
    const double *v;
    assert_int_equal(tron_next(t, &v), TRON_FUN);
    assert_true(v[0] == 0 && v[2] == 0); /* gnorm0 at w = 0 first */
    assert_int_equal(tron_feed_hv(t, zero3), -1);
    assert_int_equal(tron_feed_grad(t, zero3, zero3), -1);
    assert_int_equal(tron_feed_fun(t, 5.0), 0);
    assert_int_equal(tron_next(t, &v), TRON_GRAD);
    double g0[3] = {-1, 1, 0.5};
    assert_int_equal(tron_feed_grad(t, g0, zero3), 0);
    assert_int_equal(tron_next(t, &v), TRON_FUN);
    assert_true(v[0] == 1 && v[1] == 2 && v[2] == 3); /* then the init_sol */
    tron_destroy(&t);
    tron_destroy(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_protocol_and_rules),   cmocka_unit_test(test_same_iterations),
        cmocka_unit_test(test_resume_same_model),    cmocka_unit_test(test_fun_grad_same_iterates),
        cmocka_unit_test(test_against_liblinear_lr), cmocka_unit_test(test_against_liblinear_l2svc),
        cmocka_unit_test(test_radius_sums_in_fives),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
