/* metrics: accuracy, per-class and averaged F1, log loss, ROC AUC (see metrics.h). */
#include "common/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_MAX_CLASSES 65536
#define PROB_CLIP 1e-15

struct metrics {
    int k;
    char **names;                      /* [k] */
    uint64_t *tp, *predicted, *actual; /* [k] */
    uint64_t *conf;                    /* (k + 1) x k: truth x pred, row k: a truth the model
                                        * lacks; NULL past METRICS_MAX_MATRIX classes */
    uint64_t rows, correct;
    /* rows that came with probabilities */
    uint64_t prob_rows;
    double log_loss_sum;
    bool counts_only; /* some rows came without probabilities */
    bool totals_only; /* some rows are in rows and correct alone */
    /* two classes: P(class 0) of the rows whose truth is class 0 (pos) and
     * of the others (neg), for the AUC */
    double *pos, *neg;
    size_t npos, nneg, cpos, cneg;
    bool auc_lost; /* out of memory for the scores */
};

metrics_t *metrics_new(int k, const char *const *names) {
    if (k < 2 || k > METRICS_MAX_CLASSES) return NULL;
    metrics_t *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->k = k;
    if (!(m->names = calloc((size_t)k, sizeof *m->names))) {
        free(m);
        return NULL;
    }
    for (int c = 0; c < k; c++) {
        char num[16];
        snprintf(num, sizeof num, "%d", c);
        if (!(m->names[c] = strdup(names && names[c] ? names[c] : num))) {
            metrics_destroy(&m);
            return NULL;
        }
    }
    m->tp = calloc((size_t)k, sizeof *m->tp);
    m->predicted = calloc((size_t)k, sizeof *m->predicted);
    m->actual = calloc((size_t)k, sizeof *m->actual);
    if (k <= METRICS_MAX_MATRIX) m->conf = calloc((size_t)(k + 1) * (size_t)k, sizeof *m->conf);
    if (!m->tp || !m->predicted || !m->actual || (k <= METRICS_MAX_MATRIX && !m->conf))
        metrics_destroy(&m);
    return m;
}

void metrics_destroy(metrics_t **mp) {
    if (!mp || !*mp) return;
    metrics_t *m = *mp;
    for (int c = 0; m->names && c < m->k; c++)
        free(m->names[c]);
    free(m->names);
    free(m->conf);
    free(m->tp);
    free(m->predicted);
    free(m->actual);
    free(m->pos);
    free(m->neg);
    free(m);
    *mp = NULL;
}

static bool push(double **v, size_t *n, size_t *cap, double x) {
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 1024;
        double *nv = realloc(*v, nc * sizeof *nv);
        if (!nv) return false;
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = x;
    return true;
}

/* count rows whose truth is truth (k: unknown) and prediction pred */
static void add_cell(metrics_t *m, int truth, int pred, uint64_t count) {
    if (m->conf) m->conf[(size_t)truth * (size_t)m->k + (size_t)pred] += count;
    m->rows += count;
    m->predicted[pred] += count;
    if (truth < m->k) m->actual[truth] += count;
    if (truth == pred) {
        m->tp[pred] += count;
        m->correct += count;
    }
}

int metrics_add_cell(metrics_t *m, int truth, int pred, uint64_t count) {
    if (truth < 0 || truth > m->k || pred < 0 || pred >= m->k) return -1;
    if (!count) return 0;
    add_cell(m, truth, pred, count);
    m->counts_only = true;
    return 0;
}

int metrics_add(metrics_t *m, int truth, int pred, const double *prob) {
    if (truth < 0 || truth > m->k || pred < 0 || pred >= m->k) return -1;
    add_cell(m, truth, pred, 1);
    if (!prob) {
        m->counts_only = true;
        return 0;
    }
    m->prob_rows++;
    double p = truth < m->k ? prob[truth] : 0;
    if (!(p >= PROB_CLIP)) p = PROB_CLIP; /* NaN too */
    if (p > 1 - PROB_CLIP) p = 1 - PROB_CLIP;
    m->log_loss_sum -= log(p);
    if (m->k == 2 && !m->auc_lost) {
        bool ok = truth == 0 ? push(&m->pos, &m->npos, &m->cpos, prob[0])
                             : push(&m->neg, &m->nneg, &m->cneg, prob[0]);
        if (!ok) m->auc_lost = true;
    }
    return 0;
}

void metrics_add_totals(metrics_t *m, uint64_t rows, uint64_t correct) {
    if (!rows) return;
    m->rows += rows;
    m->correct += correct < rows ? correct : rows;
    m->counts_only = true;
    m->totals_only = true;
}

uint64_t metrics_rows(const metrics_t *m) {
    return m->rows;
}

uint64_t metrics_correct(const metrics_t *m) {
    return m->correct;
}

void metrics_class(const metrics_t *m, int c, double *precision, double *recall, double *f1,
                   uint64_t *support) {
    uint64_t tp = m->tp[c], predicted = m->predicted[c], actual = m->actual[c];
    double pr = predicted ? (double)tp / (double)predicted : NAN;
    double re = actual ? (double)tp / (double)actual : NAN;
    /* scikit-learn's zero_division: 0/0 is 0 in the averages */
    double p0 = isnan(pr) ? 0 : pr, r0 = isnan(re) ? 0 : re;
    *precision = pr;
    *recall = re;
    *f1 = (predicted || actual) ? (p0 + r0 > 0 ? 2 * p0 * r0 / (p0 + r0) : 0) : NAN;
    *support = actual;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* P(pos > neg) + P(pos == neg) / 2 over all pairs, by sorting both sides
 * and walking them together: O(n log n). */
static double auc_of(double *pos, size_t np, double *neg, size_t nn) {
    if (!np || !nn) return NAN;
    qsort(pos, np, sizeof *pos, cmp_double);
    qsort(neg, nn, sizeof *neg, cmp_double);
    double wins = 0;
    size_t below = 0, equal_end = 0; /* neg[0..below) < x, neg[below..equal_end) == x */
    for (size_t i = 0; i < np; i++) {
        double x = pos[i];
        while (below < nn && neg[below] < x)
            below++;
        if (equal_end < below) equal_end = below;
        while (equal_end < nn && neg[equal_end] == x)
            equal_end++;
        wins += (double)below + 0.5 * (double)(equal_end - below);
    }
    return wins / ((double)np * (double)nn);
}

void metrics_summarise(metrics_t *m, metrics_summary_t *out) {
    *out = (metrics_summary_t){.accuracy = NAN,
                               .macro_f1 = NAN,
                               .weighted_f1 = NAN,
                               .log_loss = NAN,
                               .auc = NAN,
                               .partial = (m->counts_only && m->prob_rows > 0) || m->totals_only};
    if (!m->rows) return;
    out->accuracy = (double)m->correct / (double)m->rows;
    double macro = 0, weighted = 0;
    uint64_t supports = 0;
    int present = 0;
    for (int c = 0; c < m->k; c++) {
        double p, r, f;
        uint64_t s;
        metrics_class(m, c, &p, &r, &f, &s);
        if (isnan(f)) continue;
        macro += f;
        present++;
        weighted += f * (double)s;
        supports += s;
    }
    if (present) out->macro_f1 = macro / present;
    if (supports) out->weighted_f1 = weighted / (double)supports;
    if (m->prob_rows) out->log_loss = m->log_loss_sum / (double)m->prob_rows;
    if (m->k == 2 && m->prob_rows && !m->auc_lost) {
        out->auc = auc_of(m->pos, m->npos, m->neg, m->nneg);
    }
    if (m->auc_lost) out->partial = true;
}

static json_object *num_or_null(double v) {
    return isnan(v) ? NULL : json_object_new_double(v);
}

/* {"labels": [...], "matrix": [[...]], "unknown": [...]} */
static json_object *confusion_json(const metrics_t *m) {
    size_t k = (size_t)m->k;
    json_object *o = json_object_new_object(), *labels = json_object_new_array(),
                *rows = json_object_new_array(), *unknown = json_object_new_array();
    if (!o || !labels || !rows || !unknown) goto fail;
    json_object_object_add(o, "labels", labels);
    json_object_object_add(o, "matrix", rows);
    json_object_object_add(o, "unknown", unknown);
    for (size_t t = 0; t <= k; t++) {
        json_object *row = t < k ? json_object_new_array() : unknown;
        if (!row) return json_object_put(o), NULL;
        if (t < k) {
            json_object_array_add(labels, json_object_new_string(m->names[t]));
            json_object_array_add(rows, row);
        }
        for (size_t p = 0; p < k; p++)
            json_object_array_add(row, json_object_new_int64((int64_t)m->conf[t * k + p]));
    }
    return o;
fail:
    json_object_put(o);
    json_object_put(labels);
    json_object_put(rows);
    json_object_put(unknown);
    return NULL;
}

json_object *metrics_json(metrics_t *m) {
    metrics_summary_t s;
    metrics_summarise(m, &s);
    json_object *o = json_object_new_object(), *cls = json_object_new_array();
    if (!o || !cls) {
        json_object_put(o);
        json_object_put(cls);
        return NULL;
    }
    json_object_object_add(o, "rows", json_object_new_int64((int64_t)m->rows));
    json_object_object_add(o, "correct", json_object_new_int64((int64_t)m->correct));
    json_object_object_add(o, "accuracy", num_or_null(s.accuracy));
    json_object_object_add(o, "macro_f1", num_or_null(s.macro_f1));
    json_object_object_add(o, "weighted_f1", num_or_null(s.weighted_f1));
    json_object_object_add(o, "log_loss", num_or_null(s.log_loss));
    json_object_object_add(o, "roc_auc", num_or_null(s.auc));
    json_object_object_add(o, "partial", json_object_new_boolean(s.partial));
    json_object_object_add(o, "classes", cls);
    for (int c = 0; c < m->k; c++) {
        double p, r, f;
        uint64_t sup;
        metrics_class(m, c, &p, &r, &f, &sup);
        json_object *e = json_object_new_object();
        if (!e) continue;
        json_object_object_add(e, "label", json_object_new_string(m->names[c]));
        json_object_object_add(e, "precision", num_or_null(p));
        json_object_object_add(e, "recall", num_or_null(r));
        json_object_object_add(e, "f1", num_or_null(f));
        json_object_object_add(e, "support", json_object_new_int64((int64_t)sup));
        json_object_array_add(cls, e);
    }
    json_object_object_add(o, "confusion", m->conf ? confusion_json(m) : NULL);
    return o;
}

static void put_fig(FILE *to, double v) {
    if (isnan(v))
        fprintf(to, " %9s", "-");
    else
        fprintf(to, " %9.4f", v);
}

void metrics_print(metrics_t *m, int max_classes, FILE *to) {
    metrics_summary_t s;
    metrics_summarise(m, &s);
    if (!m->rows) return;
    fprintf(to, "%-16s %9s %9s %9s %9s\n", "class", "precision", "recall", "f1", "support");
    for (int c = 0; c < m->k; c++) {
        if (c == max_classes) {
            fprintf(to, "... %d more classes (all in the job's metrics JSON)\n", m->k - c);
            break;
        }
        double p, r, f;
        uint64_t sup;
        metrics_class(m, c, &p, &r, &f, &sup);
        fprintf(to, "%-16.16s", m->names[c]);
        put_fig(to, p);
        put_fig(to, r);
        put_fig(to, f);
        fprintf(to, " %9llu\n", (unsigned long long)sup);
    }
    fprintf(to, "macro F1 %.4f, weighted F1 %.4f", s.macro_f1, s.weighted_f1);
    if (!isnan(s.log_loss)) fprintf(to, ", log loss %.4f", s.log_loss);
    if (!isnan(s.auc)) fprintf(to, ", ROC AUC %.4f", s.auc);
    if (s.partial) fprintf(to, " (probability figures over part of the rows)");
    fprintf(to, "\n");
}

void metrics_print_confusion(const metrics_t *m, bool partial, FILE *to) {
    size_t k = (size_t)m->k;
    if (!m->conf) {
        fprintf(to, "confusion matrix: not kept for %d classes (more than %d)\n", m->k,
                METRICS_MAX_MATRIX);
        return;
    }
    fprintf(to, "confusion matrix (rows: true label, columns: predicted)%s\n",
            partial ? " [partial after resume]" : "");
    fprintf(to, "%12s", "");
    for (size_t p = 0; p < k; p++)
        fprintf(to, " %10.10s", m->names[p]);
    fprintf(to, "\n");
    for (size_t t = 0; t <= k; t++) {
        uint64_t sum = 0;
        for (size_t p = 0; p < k; p++)
            sum += m->conf[t * k + p];
        if (t == k && sum == 0) break;
        fprintf(to, "%12.12s", t < k ? m->names[t] : "(unknown)");
        for (size_t p = 0; p < k; p++)
            fprintf(to, " %10llu", (unsigned long long)m->conf[t * k + p]);
        fprintf(to, "\n");
    }
}
