/* Unit tests for common/metrics: a case worked by hand, and random cases
 * against brute force (every pair for the AUC, every class for F1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/metrics.h"

static const char *const NAMES3[] = {"cat", "dog", "eel"};

static void near(double got, double want) {
    if (!(fabs(got - want) <= 1e-12 * (1 + fabs(want))))
        fail_msg("got %.17g, want %.17g", got, want);
}

/* truth: cat cat cat dog dog eel (unknown) ; pred: cat dog cat dog cat eel dog
 * cat: tp 2, predicted 3 (rows 1, 3, 5), actual 3 -> p 2/3, r 2/3, f 2/3
 * dog: tp 1, predicted 3 (rows 2, 4, unknown) -> p 1/3, actual 2 -> r 1/2, f 0.4
 * eel: tp 1, predicted 1, actual 1 -> 1, 1, 1 */
static void test_by_hand(void **state) {
    (void)state;
    metrics_t *m = metrics_new(3, NAMES3);
    int truth[] = {0, 0, 0, 1, 1, 2, 3}, pred[] = {0, 1, 0, 1, 0, 2, 1};
    for (int i = 0; i < 7; i++)
        assert_int_equal(metrics_add(m, truth[i], pred[i], NULL), 0);
    assert_int_equal(metrics_add(m, 4, 0, NULL), -1);
    assert_int_equal(metrics_add(m, 0, 3, NULL), -1);
    assert_int_equal(metrics_rows(m), 7);
    assert_int_equal(metrics_correct(m), 4);
    double p, r, f;
    uint64_t s;
    metrics_class(m, 0, &p, &r, &f, &s);
    near(p, 2.0 / 3), near(r, 2.0 / 3), near(f, 2.0 / 3);
    assert_int_equal(s, 3);
    metrics_class(m, 1, &p, &r, &f, &s);
    near(p, 1.0 / 3), near(r, 0.5), near(f, 0.4);
    assert_int_equal(s, 2);
    metrics_summary_t sum;
    metrics_summarise(m, &sum);
    near(sum.accuracy, 4.0 / 7);
    near(sum.macro_f1, (2.0 / 3 + 0.4 + 1) / 3);
    near(sum.weighted_f1, (3 * (2.0 / 3) + 2 * 0.4 + 1) / 6);
    assert_true(isnan(sum.log_loss) && isnan(sum.auc));
    json_object *js = metrics_json(m);
    assert_non_null(js);
    const char *text = json_object_to_json_string_ext(js, JSON_C_TO_STRING_PLAIN);
    assert_non_null(strstr(text, "\"matrix\":[[2,1,0],[1,1,0],[0,0,1]]"));
    assert_non_null(strstr(text, "\"unknown\":[0,1,0]"));
    assert_non_null(strstr(text, "\"log_loss\":null"));
    json_object_put(js);
    metrics_destroy(&m);
    assert_null(m);
    assert_null(metrics_new(1, NULL));
}

/* A class never true nor predicted is left out of the macro average; one
 * predicted but never true has precision 0 and recall undefined (F1 0). */
static void test_absent_classes(void **state) {
    (void)state;
    metrics_t *m = metrics_new(3, NAMES3);
    metrics_add(m, 0, 0, NULL);
    metrics_add(m, 0, 1, NULL);
    double p, r, f;
    uint64_t s;
    metrics_class(m, 2, &p, &r, &f, &s);
    assert_true(isnan(p) && isnan(r) && isnan(f));
    metrics_class(m, 1, &p, &r, &f, &s);
    near(p, 0);
    assert_true(isnan(r));
    near(f, 0);
    metrics_summary_t sum;
    metrics_summarise(m, &sum);
    near(sum.macro_f1, (2.0 / 3 + 0) / 2); /* cat: p 1, r 1/2 */
    metrics_destroy(&m);
}

static double brute_auc(const double *score, const int *truth, int n) {
    double wins = 0, pairs = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            if (truth[i] != 0 || truth[j] == 0) continue;
            pairs++;
            wins += score[i] > score[j] ? 1 : score[i] == score[j] ? 0.5 : 0;
        }
    return wins / pairs;
}

/* Random two-class probability rows (scores on a coarse grid, so that ties
 * occur): AUC as every pair says, log loss as the mean of -ln p(truth);
 * rows added as counts make the probability figures partial. */
static void test_binary_random(void **state) {
    (void)state;
    srand(5);
    for (int round = 0; round < 50; round++) {
        int n = 1 + rand() % 300;
        double *score = malloc((size_t)n * sizeof *score);
        int *truth = malloc((size_t)n * sizeof *truth);
        metrics_t *m = metrics_new(2, NULL);
        double ll = 0;
        for (int i = 0; i < n; i++) {
            score[i] = (rand() % 21) / 20.0;
            truth[i] = rand() % 2;
            double prob[2] = {score[i], 1 - score[i]};
            int pred = score[i] >= 0.5 ? 0 : 1;
            assert_int_equal(metrics_add(m, truth[i], pred, prob), 0);
            double pt = prob[truth[i]];
            if (pt < 1e-15) pt = 1e-15;
            if (pt > 1 - 1e-15) pt = 1 - 1e-15;
            ll -= log(pt);
        }
        int npos = 0;
        for (int i = 0; i < n; i++)
            npos += truth[i] == 0;
        metrics_summary_t s;
        metrics_summarise(m, &s);
        if (npos == 0 || npos == n)
            assert_true(isnan(s.auc));
        else
            near(s.auc, brute_auc(score, truth, n));
        near(s.log_loss, ll / n);
        assert_false(s.partial);
        assert_int_equal(metrics_add_cell(m, 0, 0, 1), 0);
        assert_int_equal(metrics_add_cell(m, 1, 0, 1), 0);
        assert_int_equal(metrics_add_cell(m, 3, 0, 1), -1);
        metrics_summarise(m, &s);
        assert_true(s.partial);
        assert_int_equal(metrics_rows(m), (uint64_t)n + 2);
        free(score);
        free(truth);
        metrics_destroy(&m);
    }
}

/* Random multi-class rows: per-class figures against a count of the rows. */
static void test_multiclass_random(void **state) {
    (void)state;
    srand(9);
    for (int round = 0; round < 30; round++) {
        int k = 2 + rand() % 6, n = 1 + rand() % 200;
        int *truth = malloc((size_t)n * sizeof *truth), *pred = malloc((size_t)n * sizeof *pred);
        metrics_t *m = metrics_new(k, NULL);
        for (int i = 0; i < n; i++) {
            truth[i] = rand() % (k + 1);
            pred[i] = rand() % 3 ? truth[i] % k : rand() % k;
            metrics_add(m, truth[i], pred[i], NULL);
        }
        for (int c = 0; c < k; c++) {
            int tp = 0, fp = 0, fn = 0;
            for (int i = 0; i < n; i++) {
                tp += truth[i] == c && pred[i] == c;
                fp += truth[i] != c && pred[i] == c;
                fn += truth[i] == c && pred[i] != c;
            }
            double p, r, f;
            uint64_t s;
            metrics_class(m, c, &p, &r, &f, &s);
            assert_int_equal(s, (uint64_t)(tp + fn));
            if (tp + fp) near(p, (double)tp / (tp + fp));
            if (tp + fn) near(r, (double)tp / (tp + fn));
            if (tp + fp + fn) near(f, 2.0 * tp / (2.0 * tp + fp + fn));
        }
        free(truth);
        free(pred);
        metrics_destroy(&m);
    }
}

/* Past METRICS_MAX_MATRIX classes no matrix is kept; every other figure is. */
static void test_many_classes(void **state) {
    (void)state;
    int k = METRICS_MAX_MATRIX + 5;
    metrics_t *m = metrics_new(k, NULL);
    assert_non_null(m);
    assert_int_equal(metrics_add(m, 7, 7, NULL), 0);
    assert_int_equal(metrics_add(m, 7, 9, NULL), 0);
    assert_int_equal(metrics_add_cell(m, k, 9, 2), 0); /* unknown truths */
    double p, r, f;
    uint64_t s;
    metrics_class(m, 9, &p, &r, &f, &s);
    near(p, 0);
    assert_int_equal(s, 0);
    metrics_class(m, 7, &p, &r, &f, &s);
    near(p, 1), near(r, 0.5);
    assert_int_equal(metrics_rows(m), 4);
    assert_int_equal(metrics_correct(m), 1);
    json_object *js = metrics_json(m);
    json_object *v;
    assert_true(json_object_object_get_ex(js, "confusion", &v));
    assert_null(v);
    json_object_put(js);
    metrics_destroy(&m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_by_hand),       cmocka_unit_test(test_absent_classes),
        cmocka_unit_test(test_binary_random), cmocka_unit_test(test_multiclass_random),
        cmocka_unit_test(test_many_classes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
