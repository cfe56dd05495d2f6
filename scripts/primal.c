/* primal: liblinear's primal objective of a model on a data set, for the
 * benchmark's check that a cluster's model is liblinear's optimum.
 *
 *   bin/primal MODEL DATA.svm C SOLVER
 *
 * MODEL is a liblinear 2.30 model file (read with liblinear's load_model()),
 * DATA the libsvm file it was trained on, C the cost and SOLVER 0 (L2R_LR) or
 * 2 (L2R_L2LOSS_SVC). Prints on stdout the objective summed over the model's
 * one-vs-rest weight vectors w_k (nr_w = 1 for two classes, the first label
 * the positive side; else one per class, in the model's label order):
 *
 *   sum_k  0.5 * ||w_k||^2  +  C * sum_i loss(y_ik * w_k . x_i)
 *
 * with y_ik = +1 when row i's label is the k-th label, else -1, and loss
 * log(1 + exp(-m)) for solver 0, max(0, 1 - m)^2 for solver 2. As liblinear
 * 2.30 with -B 1, the bias weight is regularized like any other and the bias
 * feature has the value the model's bias says. Features past the model's
 * nr_feature are ignored, as liblinear-predict ignores them.
 * Exit status: 0 ok, 1 unreadable model or data, 2 bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <linear.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/svmread.h"

typedef struct primal {
    const struct model *m;
    int nr_w;
    int solver;
    double *loss; /* loss summed over the rows, per weight vector */
    double *dec;  /* this row's w_k . x_i, per weight vector */
    uint64_t rows;
} primal_t;

/* log(1 + exp(-m)) without overflow for large |m| */
static double logistic_loss(double m) {
    return m >= 0 ? log1p(exp(-m)) : -m + log1p(exp(m));
}

static double row_loss(int solver, double margin) {
    if (solver == 0) return logistic_loss(margin);
    double d = 1.0 - margin;
    return d > 0 ? d * d : 0.0;
}

static int add_row(void *ctx, int label, const struct feature_node *x, size_t n, uint64_t line,
                   char *err, size_t errlen) {
    (void)line, (void)err, (void)errlen;
    primal_t *p = ctx;
    const struct model *m = p->m;
    int nr_w = p->nr_w;
    for (int k = 0; k < nr_w; k++)
        p->dec[k] = 0;
    for (size_t i = 0; i < n; i++) {
        if (x[i].index > m->nr_feature) continue;
        const double *w = m->w + (size_t)(x[i].index - 1) * nr_w;
        for (int k = 0; k < nr_w; k++)
            p->dec[k] += w[k] * x[i].value;
    }
    if (m->bias >= 0) {
        const double *w = m->w + (size_t)m->nr_feature * nr_w;
        for (int k = 0; k < nr_w; k++)
            p->dec[k] += w[k] * m->bias;
    }
    for (int k = 0; k < nr_w; k++) {
        double y = label == m->label[k] ? 1.0 : -1.0;
        p->loss[k] += row_loss(p->solver, y * p->dec[k]);
    }
    p->rows++;
    return 0;
}

/* Maps FILE and runs add_row over its lines. Returns 0, or -1 after a message. */
static int read_data(const char *file, primal_t *p) {
    char err[1024];
    int rc = -1;
    int fd = open(file, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        fprintf(stderr, "primal: cannot open %s: %s\n", file, strerror(errno));
        goto out;
    }
    if (st.st_size == 0) {
        rc = 0;
        goto out;
    }
    char *bytes = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (bytes == MAP_FAILED) {
        fprintf(stderr, "primal: cannot map %s: %s\n", file, strerror(errno));
        goto out;
    }
    rc = svmread_parse(file, bytes, (size_t)st.st_size, 1, add_row, p, err, sizeof err);
    if (rc != 0) fprintf(stderr, "primal: %s\n", err);
    munmap(bytes, (size_t)st.st_size);
out:
    if (fd >= 0) close(fd);
    return rc;
}

/* 0.5 * ||w_k||^2 summed over k, the bias weight included */
static double half_norm2(const struct model *m, int nr_w) {
    size_t n = (size_t)m->nr_feature + (m->bias >= 0 ? 1 : 0);
    double s = 0;
    for (size_t j = 0; j < n * (size_t)nr_w; j++)
        s += m->w[j] * m->w[j];
    return 0.5 * s;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: primal MODEL DATA.svm C SOLVER (0 or 2)\n");
        return 2;
    }
    char *end;
    double c = strtod(argv[3], &end);
    if (*end || !(c > 0) || !isfinite(c)) {
        fprintf(stderr, "primal: C must be a positive number, not '%s'\n", argv[3]);
        return 2;
    }
    if (strcmp(argv[4], "0") != 0 && strcmp(argv[4], "2") != 0) {
        fprintf(stderr, "primal: SOLVER must be 0 (L2R_LR) or 2 (L2R_L2LOSS_SVC)\n");
        return 2;
    }
    struct model *m = load_model(argv[1]);
    if (!m) {
        fprintf(stderr, "primal: cannot load model %s\n", argv[1]);
        return 1;
    }
    int rc = 1;
    primal_t p = {.m = m, .solver = atoi(argv[4])};
    p.nr_w = m->nr_class == 2 ? 1 : m->nr_class;
    p.loss = calloc((size_t)p.nr_w, sizeof *p.loss);
    p.dec = calloc((size_t)p.nr_w, sizeof *p.dec);
    if (!p.loss || !p.dec) {
        fprintf(stderr, "primal: out of memory\n");
        goto out;
    }
    if (read_data(argv[2], &p) != 0) goto out;
    double f = half_norm2(m, p.nr_w);
    for (int k = 0; k < p.nr_w; k++)
        f += c * p.loss[k];
    printf("%.12g\n", f);
    rc = 0;
out:
    free(p.loss);
    free(p.dec);
    free_and_destroy_model(&m);
    return rc;
}
