/* metrics: how good a model's predictions are, from (true, predicted) pairs.
 *
 * A job that knows the true label of its rows (a test file with the label
 * column, the training rows) adds every prediction here; at the end it asks
 * for accuracy, per-class precision, recall, F1 and support, macro and
 * weighted F1, the confusion matrix, and, when the model gives probabilities,
 * the log loss and (two classes) the ROC AUC. The figures are the usual ones
 * (scikit-learn's definitions), so that anyone can check them from the
 * submission file:
 *   precision_c = TP / (TP + FP), recall_c = TP / (TP + FN), F1 the harmonic
 *   mean (0 when both are 0); macro F1 averages the classes that occur among
 *   the true or the predicted labels, weighted F1 weighs them by support;
 *   log loss = mean of -ln p(true class), p clipped to [1e-15, 1 - 1e-15];
 *   ROC AUC = P(score of a positive > score of a negative), ties counted
 *   half, with the probability of class 0 as the score and class 0 as the
 *   positive class.
 * Classes are numbered 0..k-1 in the caller's order (the model's); a true
 * label that is no class of the model counts as class "unknown": its rows
 * are wrong predictions and make the predicted class's precision lower,
 * but have no recall of their own and no place in the macro and weighted
 * F1 (scikit-learn's figures with labels= the model's classes); their
 * probability of the true label is 0 (clipped: -ln 1e-15 each in the log
 * loss), and in the AUC they are negatives.
 *
 * Memory: three counts per class; the (k+1) x k confusion matrix up to
 * METRICS_MAX_MATRIX classes (not kept past it: every other figure still
 * is); 8 bytes a row for the AUC of a two-class probability model. Not
 * thread-safe; the caller owns the object.
 */
#ifndef NC_METRICS_H
#define NC_METRICS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct metrics metrics_t;

#define METRICS_MAX_MATRIX 1024

/* For k >= 2 classes named names[0..k-1] (copied; NULL: "0", "1", ...);
 * NULL when out of memory or k is out of 2..65536. */
metrics_t *metrics_new(int k, const char *const *names);
void metrics_destroy(metrics_t **m);

/* One row: truth in 0..k (k = not a class of the model), pred in 0..k-1;
 * prob: the model's k class probabilities, or NULL. -1 on a bad index or
 * no memory (the row is not counted). */
int metrics_add(metrics_t *m, int truth, int pred, const double *prob);

/* count rows known only as a count (a shard finished by an earlier run, a
 * worker's tally), of truth 0..k and prediction 0..k-1. They have no
 * probabilities: the log loss and AUC then cover the other rows, and the
 * result says so ("partial"). -1 on a bad index. */
int metrics_add_cell(metrics_t *m, int truth, int pred, uint64_t count);

/* Rows known only by their totals (a resumed job's journal too short for
 * its matrix): they count in the accuracy, not in the per-class figures. */
void metrics_add_totals(metrics_t *m, uint64_t rows, uint64_t correct);

/* Counts: labelled rows and correct ones. */
uint64_t metrics_rows(const metrics_t *m);
uint64_t metrics_correct(const metrics_t *m);

/* The figures (NAN when undefined: no rows, no probabilities, or, for the
 * AUC, not two classes or one side empty). It sorts the scores kept for the
 * AUC (so do metrics_json and metrics_print), which changes no figure. */
typedef struct metrics_summary {
    double accuracy, macro_f1, weighted_f1, log_loss, auc;
    bool partial; /* probability figures cover only some of the rows */
} metrics_summary_t;
void metrics_summarise(metrics_t *m, metrics_summary_t *out);

/* Class c's precision, recall, F1 (NAN when undefined, as 0/0) and support. */
void metrics_class(const metrics_t *m, int c, double *precision, double *recall, double *f1,
                   uint64_t *support);

/* The figures as JSON: {"rows", "correct", "accuracy", "macro_f1",
 * "weighted_f1", "log_loss", "roc_auc", "partial", "classes": [{"label",
 * "precision", "recall", "f1", "support"}...], "confusion": {"labels": [...],
 * "matrix": [[...]...], "unknown": [...]} or null past METRICS_MAX_MATRIX};
 * undefined figures are null. NULL when out of memory. */
json_object *metrics_json(metrics_t *m);

/* The table a job prints at its end: per class (the first max_classes of
 * them, then a line saying how many more), then the averages and the
 * probability figures. */
#define METRICS_TABLE_CLASSES 20
void metrics_print(metrics_t *m, int max_classes, FILE *to);

/* The confusion matrix (rows: true label, columns: predicted; a last row for
 * true labels the model lacks, when there are some); partial: say that
 * some rows are missing (a resumed job whose earlier counts were lost). */
void metrics_print_confusion(const metrics_t *m, bool partial, FILE *to);

#endif
