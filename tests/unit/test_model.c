/* model: files liblinear reads back (load_model, liblinear-predict) and the
 * average strategy's class-aligning combiner. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/model.h"
#include "linprob.h"

static char dir[64];

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/nc-test-model-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int count_files(void) {
    DIR *d = opendir(dir);
    int c = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        c += e->d_name[0] != '.';
    closedir(d);
    return c;
}

static void test_solver_names(void **state) {
    (void)state;
    assert_string_equal(model_solver_name(0), "L2R_LR");
    assert_string_equal(model_solver_name(2), "L2R_L2LOSS_SVC");
    assert_string_equal(model_solver_name(13), "L2R_L1LOSS_SVR_DUAL");
    assert_null(model_solver_name(8));
    assert_null(model_solver_name(14));
    assert_int_equal(model_solver_parse("l2r_lr"), 0);
    assert_int_equal(model_solver_parse("MCSVM_CS"), 4);
    assert_int_equal(model_solver_parse("2"), 2);
    assert_int_equal(model_solver_parse("9"), -1);
    assert_int_equal(model_solver_parse("L2R"), -1);
    assert_int_equal(model_nr_w(0, 2), 1);
    assert_int_equal(model_nr_w(4, 2), 2);
    assert_int_equal(model_nr_w(0, 5), 5);
}

/* Written models read back bit for bit and predict like the in-memory one. */
static void roundtrip(int nr_class, double bias, int solver) {
    linprob_t p;
    lp_make(&p, 100, 7, 0.6, nr_class, bias, 0, 17);
    struct model *ref = lp_liblinear(&p, solver, 1.0, 0.01);
    assert_non_null(ref);
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/model.txt", dir);
    int nf = p.d.n - (bias >= 0);
    assert_int_equal(
        model_write(path, solver, ref->nr_class, ref->label, nf, bias, ref->w, err, sizeof err), 0);
    assert_int_equal(count_files(), 1); /* no temporary left behind */
    struct model *back = model_load(path, err, sizeof err);
    assert_non_null(back);
    assert_int_equal(back->param.solver_type, solver);
    assert_int_equal(back->nr_class, ref->nr_class);
    assert_int_equal(back->nr_feature, nf);
    assert_true(back->bias == bias);
    assert_memory_equal(back->label, ref->label, (size_t)ref->nr_class * sizeof(int));
    size_t nw = (size_t)p.d.n * model_nr_w(solver, ref->nr_class);
    assert_memory_equal(back->w, ref->w, nw * sizeof(double));
    for (size_t i = 0; i < p.d.rows; i++)
        assert_true(predict(back, p.d.x[i]) == predict(ref, p.d.x[i]));
    free_and_destroy_model(&back);
    free_and_destroy_model(&ref);
    lp_free(&p);
}

static void test_roundtrip(void **state) {
    (void)state;
    roundtrip(2, 1.0, 0);
    roundtrip(2, -1, 2);
    roundtrip(3, 1.0, 2);
    roundtrip(4, -1, 0);
}

/* Debian's liblinear-predict reads our file and agrees with predict(). */
static void test_liblinear_predict_reads_it(void **state) {
    (void)state;
    if (access("/usr/bin/liblinear-predict", X_OK) != 0) skip();
    linprob_t p;
    lp_make(&p, 150, 6, 0.8, 3, 1.0, 0, 23);
    struct model *ref = lp_liblinear(&p, 0, 1.0, 0.01);
    char mpath[128], dpath[128], opath[128], err[256], cmd[512];
    snprintf(mpath, sizeof mpath, "%s/m.txt", dir);
    snprintf(dpath, sizeof dpath, "%s/d.svm", dir);
    snprintf(opath, sizeof opath, "%s/out.txt", dir);
    assert_int_equal(
        model_write(mpath, 0, ref->nr_class, ref->label, p.d.n - 1, 1.0, ref->w, err, sizeof err),
        0);
    FILE *fp = fopen(dpath, "w");
    assert_non_null(fp);
    for (size_t i = 0; i < p.d.rows; i++) {
        fprintf(fp, "%d", (int)p.prob.y[i]);
        for (const struct feature_node *q = p.d.x[i]; q->index != -1; q++)
            if (q->index < p.d.n) /* liblinear-predict appends the bias itself */
                fprintf(fp, " %d:%.17g", q->index, q->value);
        fprintf(fp, "\n");
    }
    fclose(fp);
    snprintf(cmd, sizeof cmd, "/usr/bin/liblinear-predict '%s' '%s' '%s' >/dev/null", dpath, mpath,
             opath);
    assert_int_equal(system(cmd), 0);
    fp = fopen(opath, "r");
    assert_non_null(fp);
    for (size_t i = 0; i < p.d.rows; i++) {
        int lab;
        assert_int_equal(fscanf(fp, "%d", &lab), 1);
        assert_int_equal(lab, (int)predict(ref, p.d.x[i]));
    }
    fclose(fp);
    free_and_destroy_model(&ref);
    lp_free(&p);
}

static void test_write_errors(void **state) {
    (void)state;
    int labels[2] = {1, -1};
    double w[3] = {1, 2, 3};
    char err[256] = "", path[128];
    snprintf(path, sizeof path, "%s/missing/m.txt", dir);
    assert_int_equal(model_write(path, 0, 2, labels, 2, 1.0, w, err, sizeof err), -1);
    assert_non_null(strstr(err, "missing"));
    assert_int_equal(model_write(path, 9, 2, labels, 2, 1.0, w, err, sizeof err), -1);
    snprintf(path, sizeof path, "%s/garbage.txt", dir);
    FILE *fp = fopen(path, "w");
    fputs("not a model\n", fp);
    fclose(fp);
    assert_null(model_load(path, err, sizeof err));
    snprintf(path, sizeof path, "%s/none.txt", dir);
    assert_null(model_load(path, err, sizeof err));
    /* Rewriting replaces the file in one step. */
    snprintf(path, sizeof path, "%s/m2.txt", dir);
    assert_int_equal(model_write(path, 0, 2, labels, 2, 1.0, w, err, sizeof err), 0);
    w[0] = 7;
    assert_int_equal(model_write(path, 0, 2, labels, 2, 1.0, w, err, sizeof err), 0);
    struct model *m = model_load(path, err, sizeof err);
    assert_non_null(m);
    assert_true(m->w[0] == 7 && m->w[2] == 3);
    free_and_destroy_model(&m);
}

/* Binary shards with either label order: the one whose first label is the
 * global second label is sign-flipped; weights by rows. */
static void test_average_binary_alignment(void **state) {
    (void)state;
    int la[2] = {13, 3}, lb[2] = {3, 13}, global[2] = {3, 13};
    double wa[3] = {1, 2, 3}, wb[3] = {5, 0, -1};
    char err[256];
    struct model *a = model_build(0, 2, la, 2, 1.0, wa, err, sizeof err);
    struct model *b = model_build(0, 2, lb, 2, 1.0, wb, err, sizeof err);
    const struct model *ms[2] = {a, b};
    double rows[2] = {100, 300}, w[3];
    assert_int_equal(model_average(ms, rows, 2, global, 2, 2, 1.0, w, err, sizeof err), 0);
    for (int j = 0; j < 3; j++)
        assert_true(fabs(w[j] - (100 * -wa[j] + 300 * wb[j]) / 400) < 1e-15);
    /* Same decision on every row as each shard agreeing on the label. */
    struct feature_node x[] = {{1, 0.5}, {2, -1}, {3, 1.0}, {-1, 0}};
    struct model *avg = model_build(0, 2, global, 2, 1.0, w, err, sizeof err);
    double dec;
    predict_values(avg, x, &dec);
    assert_true(fabs(dec - (100 * -(0.5 - 2 + 3) + 300 * (2.5 - 0 - 1)) / 400) < 1e-12);
    free_and_destroy_model(&avg);

    /* Bias mismatch and unknown labels are refused. */
    struct model *c = model_build(0, 2, lb, 2, 2.0, wb, err, sizeof err);
    const struct model *mc[2] = {a, c};
    assert_int_equal(model_average(mc, rows, 2, global, 2, 2, 1.0, w, err, sizeof err), -1);
    assert_non_null(strstr(err, "bias"));
    int other[2] = {3, 99};
    assert_int_equal(model_average(ms, rows, 2, other, 2, 2, 1.0, w, err, sizeof err), -1);
    assert_non_null(strstr(err, "label"));
    free_and_destroy_model(&a);
    free_and_destroy_model(&b);
    free_and_destroy_model(&c);
}

/* Multi-class shards in different label orders, one shard with two classes
 * only and fewer features. */
static void test_average_multiclass(void **state) {
    (void)state;
    int global[3] = {1, 5, 9};
    int la[3] = {5, 1, 9};
    int lc[2] = {9, 5};
    /* a: 2 features + bias, columns in order 5, 1, 9 */
    double wa[9] = {10, 20, 30, 11, 21, 31, 12, 22, 32};
    /* c: 1 feature + bias, two classes: w decides 9 against 5 */
    double wc[2] = {4, 6};
    char err[256];
    struct model *a = model_build(0, 3, la, 2, 1.0, wa, err, sizeof err);
    struct model *c = model_build(0, 2, lc, 1, 1.0, wc, err, sizeof err);
    const struct model *ms[2] = {a, c};
    double rows[2] = {3, 1}, w[9];
    assert_int_equal(model_average(ms, rows, 2, global, 3, 2, 1.0, w, err, sizeof err), 0);
    /* label 1: only a, column 1 */
    assert_true(w[0 * 3 + 0] == 20 && w[1 * 3 + 0] == 21 && w[2 * 3 + 0] == 22);
    /* label 5: a column 0 (x3) and -c (x1); c has no feature 2 */
    assert_true(fabs(w[0 * 3 + 1] - (3 * 10 - 4) / 4.0) < 1e-15);
    assert_true(fabs(w[1 * 3 + 1] - (3 * 11 + 0) / 4.0) < 1e-15);
    assert_true(fabs(w[2 * 3 + 1] - (3 * 12 - 6) / 4.0) < 1e-15);
    /* label 9: a column 2 and +c */
    assert_true(fabs(w[0 * 3 + 2] - (3 * 30 + 4) / 4.0) < 1e-15);
    assert_true(fabs(w[2 * 3 + 2] - (3 * 32 + 6) / 4.0) < 1e-15);
    /* A class in no shard is an error. */
    const struct model *only_c[1] = {c};
    assert_int_equal(model_average(only_c, rows, 1, global, 3, 2, 1.0, w, err, sizeof err), -1);
    assert_non_null(strstr(err, "no shard"));
    free_and_destroy_model(&a);
    free_and_destroy_model(&c);
}

/* Averaging real liblinear models of shards that see labels in different
 * orders predicts close to the whole-data model (the strategy's premise). */
static void test_average_real_shards(void **state) {
    (void)state;
    linprob_t p;
    lp_make(&p, 400, 8, 1.0, 3, 1.0, 0, 41);
    struct model *whole = lp_liblinear(&p, 0, 1.0, 0.01);
    struct model *sm[2];
    double rows[2];
    /* Shard 1 sees its rows backwards, so its labels come in another order. */
    struct feature_node *xr[200];
    double yr[200];
    for (int i = 0; i < 200; i++) {
        xr[i] = p.prob.x[399 - i];
        yr[i] = p.prob.y[399 - i];
    }
    for (int s = 0; s < 2; s++) {
        linprob_t q = p;
        q.prob.l = 200;
        q.prob.x = s ? xr : p.prob.x;
        q.prob.y = s ? yr : p.prob.y;
        sm[s] = lp_liblinear(&q, 0, 1.0, 0.01);
        rows[s] = 200;
    }
    assert_int_equal(sm[0]->nr_class, 3);
    assert_int_equal(sm[1]->nr_class, 3);
    assert_memory_not_equal(sm[0]->label, sm[1]->label, 3 * sizeof(int));
    double w[27];
    char err[256];
    const struct model *ms[2] = {sm[0], sm[1]};
    assert_int_equal(model_average(ms, rows, 2, whole->label, 3, 8, 1.0, w, err, sizeof err), 0);
    struct model *avg = model_build(0, 3, whole->label, 8, 1.0, w, err, sizeof err);
    int agree = 0;
    for (size_t i = 0; i < p.d.rows; i++)
        agree += predict(avg, p.d.x[i]) == predict(whole, p.d.x[i]);
    assert_true(agree >= 0.95 * (double)p.d.rows);
    free_and_destroy_model(&avg);
    free_and_destroy_model(&sm[0]);
    free_and_destroy_model(&sm[1]);
    free_and_destroy_model(&whole);
    lp_free(&p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_solver_names),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_liblinear_predict_reads_it),
        cmocka_unit_test(test_write_errors),
        cmocka_unit_test(test_average_binary_alignment),
        cmocka_unit_test(test_average_multiclass),
        cmocka_unit_test(test_average_real_shards),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
