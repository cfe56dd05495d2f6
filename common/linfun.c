/* linfun: per-shard loss sums for distributed TRON (see linfun.h). */
#include "common/linfun.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct linfun {
    const dataset_t *d;
    int solver; /* 0 = L2R_LR, 2 = L2R_L2LOSS_SVC */
    int nr_w;
    int n;
    size_t l;
    double *z;       /* [i*nr_w + k]: margin y*w'x of row i at class k's last fun() */
    double *D;       /* [i*nr_w + k]: curvature weight at class k's last grad() */
    size_t *pos;     /* [k]: positive rows */
    /* Scratch for one batch, sized for every class at once so that a batch
     * never allocates: interleaved vectors keep a row's nr_w products in one
     * cache line instead of nr_w passes over the rows. */
    double *vin;     /* [j*ndot + a] */
    double *acc;     /* [j*nacc + b] */
    double *dacc;    /* [j*ngrad + g] */
    double *t;       /* [a] row dot products */
    double *loss;    /* [a] */
    double *cval;    /* [nr_w] active coefficients of a row */
    double *dval;    /* [nr_w] active diagonal weights of a row */
    int *cidx, *didx;
    int *dot_cls, *acc_cls, *grad_cls, *dotpos;
    int *gpos; /* [b]: grad position of accumulated class b */
    linfun_req_t *reqs;
};

/* +1 when row i is on class k's positive side. liblinear's two-class problem
 * (nr_w = 1) takes label index 0 as positive. */
static inline int linfun_y(const linfun_t *f, size_t i, int k)
{
    return f->d->y[i] == k ? 1 : -1;
}

static double linfun_loss(int solver, double m)
{
    if (solver == 0) {
        /* Split by sign so that exp() never overflows. */
        if (m >= 0)
            return log1p(exp(-m));
        return -m + log1p(exp(m));
    }
    if (m < 1)
        return (1 - m) * (1 - m);
    return 0;
}

/* Gradient coefficient (times y x_i gives the loss gradient) and D at margin m. */
static void linfun_coef(int solver, double m, int y, double *coef, double *dd)
{
    if (solver == 0) {
        double sig = 1 / (1 + exp(-m));
        *dd = sig * (1 - sig);
        *coef = (sig - 1) * y;
        return;
    }
    if (m < 1) {
        *coef = 2 * y * (m - 1);
        *dd = 2;
    } else {
        *coef = 0;
        *dd = 0;
    }
}

linfun_t *linfun_new(const dataset_t *d, int solver, int nr_w, char *err, size_t errlen)
{
    linfun_t *f = NULL;
    if (!d || d->n <= 0) {
        snprintf(err, errlen, "linfun: empty dataset");
        return NULL;
    }
    if (solver != 0 && solver != 2) {
        snprintf(err, errlen, "linfun: solver %d is not L2R_LR (0) or L2R_L2LOSS_SVC (2)", solver);
        return NULL;
    }
    if (nr_w < 1) {
        snprintf(err, errlen, "linfun: nr_w %d < 1", nr_w);
        return NULL;
    }
    int nr_class = nr_w == 1 ? 2 : nr_w;
    for (size_t i = 0; i < d->rows; i++) {
        if (d->y[i] < 0 || d->y[i] >= nr_class) {
            snprintf(err, errlen, "linfun: row %zu has label index %d outside 0..%d", i, d->y[i],
                     nr_class - 1);
            return NULL;
        }
    }
    f = calloc(1, sizeof *f);
    if (!f)
        goto oom;
    f->d = d;
    f->solver = solver;
    f->nr_w = nr_w;
    f->n = d->n;
    f->l = d->rows;
    size_t lk = (f->l ? f->l : 1) * (size_t)nr_w;
    size_t nk = (size_t)f->n * (size_t)nr_w;
    f->z = calloc(lk, sizeof *f->z);
    f->D = calloc(lk, sizeof *f->D);
    f->pos = calloc((size_t)nr_w, sizeof *f->pos);
    f->vin = malloc(nk * sizeof *f->vin);
    f->acc = malloc(nk * sizeof *f->acc);
    f->dacc = malloc(nk * sizeof *f->dacc);
    f->t = malloc((size_t)nr_w * sizeof *f->t);
    f->loss = malloc((size_t)nr_w * sizeof *f->loss);
    f->cval = malloc((size_t)nr_w * sizeof *f->cval);
    f->dval = malloc((size_t)nr_w * sizeof *f->dval);
    f->cidx = malloc((size_t)nr_w * sizeof *f->cidx);
    f->didx = malloc((size_t)nr_w * sizeof *f->didx);
    f->dot_cls = malloc((size_t)nr_w * sizeof *f->dot_cls);
    f->acc_cls = malloc((size_t)nr_w * sizeof *f->acc_cls);
    f->grad_cls = malloc((size_t)nr_w * sizeof *f->grad_cls);
    f->dotpos = malloc((size_t)nr_w * sizeof *f->dotpos);
    f->gpos = malloc((size_t)nr_w * sizeof *f->gpos);
    f->reqs = calloc((size_t)nr_w, sizeof *f->reqs);
    if (!f->z || !f->D || !f->pos || !f->vin || !f->acc || !f->dacc || !f->t || !f->loss ||
        !f->cval || !f->dval || !f->cidx || !f->didx || !f->dot_cls || !f->acc_cls ||
        !f->grad_cls || !f->dotpos || !f->gpos || !f->reqs)
        goto oom;
    for (size_t i = 0; i < f->l; i++)
        for (int k = 0; k < nr_w; k++)
            if (linfun_y(f, i, k) > 0)
                f->pos[k]++;
    return f;
oom:
    snprintf(err, errlen, "linfun: out of memory for %zu rows x %d classes", d->rows, nr_w);
    linfun_destroy(&f);
    return NULL;
}

int linfun_nr_variable(const linfun_t *f)
{
    return f->n;
}

size_t linfun_positives(const linfun_t *f, int k)
{
    return (k >= 0 && k < f->nr_w) ? f->pos[k] : 0;
}

/* Rows are walked once; for every row the products with all requested vectors
 * are formed together, then the gradient and Hv contributions are scattered
 * together. Memory traffic over the rows, not arithmetic, is the cost. */
void linfun_batch(linfun_t *f, const linfun_req_t *reqs)
{
    const int K = f->nr_w;
    const int n = f->n;
    int ndot = 0, nacc = 0, ngrad = 0;
    for (int k = 0; k < K; k++) {
        f->dotpos[k] = -1;
        linfun_op_t op = reqs[k].op;
        if (op == LINFUN_FUN || op == LINFUN_HV) {
            f->dotpos[k] = ndot;
            f->dot_cls[ndot++] = k;
        }
        if (op == LINFUN_GRAD) {
            f->gpos[nacc] = ngrad;
            f->grad_cls[ngrad++] = k;
        }
        if (op == LINFUN_GRAD || op == LINFUN_HV)
            f->acc_cls[nacc++] = k;
    }
    if (ndot + nacc == 0)
        return;

    for (int j = 0; j < n; j++)
        for (int a = 0; a < ndot; a++)
            f->vin[(size_t)j * ndot + a] = reqs[f->dot_cls[a]].v[j];
    memset(f->acc, 0, (size_t)n * nacc * sizeof *f->acc);
    memset(f->dacc, 0, (size_t)n * ngrad * sizeof *f->dacc);
    for (int a = 0; a < ndot; a++)
        f->loss[a] = 0;

    struct feature_node **x = f->d->x;
    const int solver = f->solver;
    for (size_t i = 0; i < f->l; i++) {
        const struct feature_node *xi = x[i];
        double *zi = f->z + i * K;
        double *Di = f->D + i * K;
        double *t = f->t;

        if (ndot == 1) {
            double s = 0;
            for (const struct feature_node *p = xi; p->index != -1; p++)
                s += p->value * f->vin[p->index - 1];
            t[0] = s;
        } else if (ndot > 1) {
            for (int a = 0; a < ndot; a++)
                t[a] = 0;
            for (const struct feature_node *p = xi; p->index != -1; p++) {
                const double *vv = f->vin + (size_t)(p->index - 1) * ndot;
                double val = p->value;
                for (int a = 0; a < ndot; a++)
                    t[a] += val * vv[a];
            }
        }

        int nact = 0, ndact = 0;
        for (int b = 0; b < nacc; b++) {
            int k = f->acc_cls[b];
            double c;
            if (reqs[k].op == LINFUN_GRAD) {
                double dd;
                linfun_coef(solver, zi[k], linfun_y(f, i, k), &c, &dd);
                Di[k] = dd;
                if (dd != 0) {
                    f->didx[ndact] = f->gpos[b];
                    f->dval[ndact++] = dd;
                }
            } else {
                c = Di[k] * t[f->dotpos[k]];
            }
            if (c != 0) {
                f->cidx[nact] = b;
                f->cval[nact++] = c;
            }
        }
        for (int a = 0; a < ndot; a++) {
            int k = f->dot_cls[a];
            if (reqs[k].op != LINFUN_FUN)
                continue;
            double m = linfun_y(f, i, k) * t[a];
            zi[k] = m;
            f->loss[a] += linfun_loss(solver, m);
        }
        if (nact == 0 && ndact == 0)
            continue;
        if (nacc == 1 && nact == 1 && ndact == 0) {
            double c = f->cval[0];
            for (const struct feature_node *p = xi; p->index != -1; p++)
                f->acc[p->index - 1] += c * p->value;
            continue;
        }
        for (const struct feature_node *p = xi; p->index != -1; p++) {
            size_t j = (size_t)(p->index - 1);
            double val = p->value;
            double *ac = f->acc + j * nacc;
            for (int q = 0; q < nact; q++)
                ac[f->cidx[q]] += f->cval[q] * val;
            if (ndact) {
                double v2 = val * val;
                double *dc = f->dacc + j * ngrad;
                for (int q = 0; q < ndact; q++)
                    dc[f->didx[q]] += f->dval[q] * v2;
            }
        }
    }

    for (int a = 0; a < ndot; a++) {
        int k = f->dot_cls[a];
        if (reqs[k].op == LINFUN_FUN)
            *reqs[k].out = f->loss[a];
    }
    for (int b = 0; b < nacc; b++) {
        double *out = reqs[f->acc_cls[b]].out;
        for (int j = 0; j < n; j++)
            out[j] += f->acc[(size_t)j * nacc + b];
    }
    for (int g = 0; g < ngrad; g++) {
        double *diag = reqs[f->grad_cls[g]].diag;
        if (!diag)
            continue;
        for (int j = 0; j < n; j++)
            diag[j] += f->dacc[(size_t)j * ngrad + g];
    }
}

static void linfun_one(linfun_t *f, int k, linfun_op_t op, const double *v, double *out,
                       double *diag)
{
    if (k < 0 || k >= f->nr_w)
        return;
    for (int c = 0; c < f->nr_w; c++)
        f->reqs[c].op = LINFUN_NONE;
    f->reqs[k] = (linfun_req_t){.op = op, .v = v, .out = out, .diag = diag};
    linfun_batch(f, f->reqs);
    f->reqs[k].op = LINFUN_NONE;
}

double linfun_fun(linfun_t *f, int k, const double *w)
{
    double loss = 0;
    linfun_one(f, k, LINFUN_FUN, w, &loss, NULL);
    return loss;
}

void linfun_grad(linfun_t *f, int k, double *g, double *diag)
{
    linfun_one(f, k, LINFUN_GRAD, NULL, g, diag);
}

void linfun_hv(linfun_t *f, int k, const double *s, double *hs)
{
    linfun_one(f, k, LINFUN_HV, s, hs, NULL);
}

void linfun_destroy(linfun_t **fp)
{
    if (!fp || !*fp)
        return;
    linfun_t *f = *fp;
    free(f->z);
    free(f->D);
    free(f->pos);
    free(f->vin);
    free(f->acc);
    free(f->dacc);
    free(f->t);
    free(f->loss);
    free(f->cval);
    free(f->dval);
    free(f->cidx);
    free(f->didx);
    free(f->dot_cls);
    free(f->acc_cls);
    free(f->grad_cls);
    free(f->dotpos);
    free(f->gpos);
    free(f->reqs);
    free(f);
    *fp = NULL;
}
