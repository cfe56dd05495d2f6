/* linfun: per-shard loss sums for distributed TRON (see linfun.h). */
#include "common/linfun.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct linfun {
    const dataset_t *d;
    int solver; /* 0 = L2R_LR, 2 = L2R_L2LOSS_SVC */
    int nr_w;
    int n;
    size_t l;
    double *z; /* [i*nr_w + k]: margin y*w'x of row i at class k's last fun() */
    /* Two slots of l*nr_w curvature weights, [slot*l*nr_w + i*nr_w + k]:
     * class k's hv() reads slot dcur[k] (its last grad), and a FUNGRAD, whose
     * point may yet be rejected, writes the other until linfun_accept(). */
    double *D;
    unsigned char *dcur, *dspec; /* [k]: the slot hv() reads; a FUNGRAD waits */
    size_t *doff;                /* [k]: this batch's slot offset for class k */
    size_t *pos;                 /* [k]: positive rows */
    /* Scratch for one batch, sized for every class at once so that a batch
     * never allocates: interleaved vectors keep a row's nr_w products in one
     * cache line instead of nr_w passes over the rows. */
    double *vin;  /* [j*sdot + a]: vectors of FUN/HV classes */
    double *acc;  /* [j*sacc + b]: gradient/Hv sums of GRAD/HV classes */
    double *dacc; /* [j*sgrad + g]: diagonal sums of GRAD classes */
    double *t;    /* [a] row dot products */
    double *loss; /* [a] */
    double *cval; /* [b] a row's gradient/Hv coefficients */
    double *dval; /* [g] a row's diagonal weights */
    int *dot_cls, *acc_cls, *grad_cls, *dotpos;
    int *gpos;     /* [b]: grad position of accumulated class b */
    double **outs; /* [nr_w]: the output columns of one batch_emit */
    linfun_req_t *reqs;
};

/* +1 when row i is on class k's positive side. liblinear's two-class problem
 * (nr_w = 1) takes label index 0 as positive. */
static inline int linfun_y(const linfun_t *f, size_t i, int k) {
    return f->d->y[i] == k ? 1 : -1;
}

static double linfun_loss(int solver, double m) {
    if (solver == 0) {
        /* Split by sign so that exp() never overflows; log(1 + e) rather than
         * log1p(e), as liblinear 2.30's l2r_lr_fun: the same bits for the
         * same margin (log1p differs in the last bits when e is small). */
        if (m >= 0) return log(1 + exp(-m));
        return -m + log(1 + exp(m));
    }
    if (m < 1) return (1 - m) * (1 - m);
    return 0;
}

/* Gradient coefficient (times y x_i gives the loss gradient) and D at margin m. */
static void linfun_coef(int solver, double m, int y, double *coef, double *dd) {
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

/* n doubles, 32-byte aligned for linfun_v4 (size rounded as aligned_alloc wants). */
static double *linfun_aligned(size_t n) {
    size_t bytes = (n * sizeof(double) + 31) / 32 * 32;
    return aligned_alloc(32, bytes ? bytes : 32);
}

linfun_t *linfun_new(const dataset_t *d, int solver, int nr_w, char *err, size_t errlen) {
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
    if (!f) goto oom;
    f->d = d;
    f->solver = solver;
    f->nr_w = nr_w;
    f->n = d->n;
    f->l = d->rows;
    size_t lk = (f->l ? f->l : 1) * (size_t)nr_w;
    /* Interleaved buffers and per-row scratch hold nr_w classes padded to a
     * multiple of 4 (see linfun_pad). */
    int kp = (nr_w + 3) / 4 * 4;
    size_t nk = (size_t)f->n * (size_t)kp;
    f->z = calloc(lk, sizeof *f->z);
    f->D = calloc(2 * lk, sizeof *f->D);
    f->dcur = calloc((size_t)nr_w, 1);
    f->dspec = calloc((size_t)nr_w, 1);
    f->doff = calloc((size_t)nr_w, sizeof *f->doff);
    f->pos = calloc((size_t)nr_w, sizeof *f->pos);
    f->vin = linfun_aligned(nk);
    f->acc = linfun_aligned(nk);
    f->dacc = linfun_aligned(nk);
    f->t = linfun_aligned((size_t)kp);
    f->loss = malloc((size_t)kp * sizeof *f->loss);
    f->cval = linfun_aligned((size_t)kp);
    f->dval = linfun_aligned((size_t)kp);
    f->dot_cls = malloc((size_t)nr_w * sizeof *f->dot_cls);
    f->acc_cls = malloc((size_t)nr_w * sizeof *f->acc_cls);
    f->grad_cls = malloc((size_t)nr_w * sizeof *f->grad_cls);
    f->dotpos = malloc((size_t)nr_w * sizeof *f->dotpos);
    f->gpos = malloc((size_t)nr_w * sizeof *f->gpos);
    f->reqs = calloc((size_t)nr_w, sizeof *f->reqs);
    f->outs = calloc((size_t)nr_w, sizeof *f->outs);
    if (!f->z || !f->D || !f->dcur || !f->dspec || !f->doff || !f->pos || !f->vin || !f->acc ||
        !f->dacc || !f->t || !f->loss || !f->cval || !f->dval || !f->dot_cls || !f->acc_cls ||
        !f->grad_cls || !f->dotpos || !f->gpos || !f->reqs)
        goto oom;
    for (size_t i = 0; i < f->l; i++)
        for (int k = 0; k < nr_w; k++)
            if (linfun_y(f, i, k) > 0) f->pos[k]++;
    return f;
oom:
    snprintf(err, errlen, "linfun: out of memory for %zu rows x %d classes", d->rows, nr_w);
    linfun_destroy(&f);
    return NULL;
}

int linfun_nr_variable(const linfun_t *f) {
    return f->n;
}

size_t linfun_positives(const linfun_t *f, int k) {
    return (k >= 0 && k < f->nr_w) ? f->pos[k] : 0;
}

/* Interleaved strides are padded to a multiple of LINFUN_LANES (padding
 * holds zeros) so that the per-node loops over classes run in fixed-width
 * blocks the compiler turns into vector code. */
#define LINFUN_LANES 4

static inline int linfun_pad(int m) {
    return (m + LINFUN_LANES - 1) / LINFUN_LANES * LINFUN_LANES;
}

/* Four lanes as one GCC/clang vector value: plain SSE2 pairs on a baseline
 * x86-64 build, one AVX register when the compiler may use it. The buffers are
 * 32-byte aligned and the strides multiples of 4, so every block is aligned. */
typedef double linfun_v4 __attribute__((vector_size(4 * sizeof(double))));

/* t[0..sp) = sum over the row of val * vin[(idx-1)*sp + a]. */
static inline void linfun_dots(const struct feature_node *xi, const double *vin, int sp,
                               double *t) {
    linfun_v4 *tv = (linfun_v4 *)(void *)t;
    const int nb = sp / LINFUN_LANES;
    for (int a = 0; a < nb; a++)
        tv[a] = (linfun_v4){0, 0, 0, 0};
    for (const struct feature_node *p = xi; p->index != -1; p++) {
        const linfun_v4 *vv = (const linfun_v4 *)(const void *)(vin + (size_t)(p->index - 1) * sp);
        double val = p->value;
        for (int a = 0; a < nb; a++)
            tv[a] += val * vv[a];
    }
}

/* acc[(idx-1)*sp + b] += c[b] * val (val squared when square) over the row. */
static inline void linfun_scatter(const struct feature_node *xi, double *acc, int sp,
                                  const double *c, int square) {
    const linfun_v4 *cv = (const linfun_v4 *)(const void *)c;
    const int nb = sp / LINFUN_LANES;
    for (const struct feature_node *p = xi; p->index != -1; p++) {
        linfun_v4 *ac = (linfun_v4 *)(void *)(acc + (size_t)(p->index - 1) * sp);
        double val = square ? p->value * p->value : p->value;
        for (int b = 0; b < nb; b++)
            ac[b] += val * cv[b];
    }
}

/* Which requests a batch pass serves and how its scratch arrays are laid
 * out: ndot products per row, nacc accumulated classes of which ngrad are
 * gradients, each row padded to sdot, sacc, sgrad. */
typedef struct batch_shape {
    int ndot, nacc, ngrad;
    int sdot, sacc, sgrad;
} batch_shape_t;

/* Sorts the requests into the dot, accumulate and gradient lists of f and
 * returns their shape. */
static batch_shape_t batch_plan(linfun_t *f, const linfun_req_t *reqs) {
    batch_shape_t s = {0};
    size_t lk = f->l * (size_t)f->nr_w;
    for (int k = 0; k < f->nr_w; k++) {
        f->dotpos[k] = -1;
        linfun_op_t op = reqs[k].op;
        bool grad = op == LINFUN_GRAD || op == LINFUN_FUNGRAD;
        if (op == LINFUN_FUN || op == LINFUN_FUNGRAD || op == LINFUN_HV) {
            f->dotpos[k] = s.ndot;
            f->dot_cls[s.ndot++] = k;
        }
        if (grad) {
            f->gpos[s.nacc] = s.ngrad;
            f->grad_cls[s.ngrad++] = k;
        }
        if (grad || op == LINFUN_HV) f->acc_cls[s.nacc++] = k;
        /* GRAD and HV use the current slot, FUNGRAD the spare one */
        f->doff[k] = (size_t)(f->dcur[k] ^ (op == LINFUN_FUNGRAD)) * lk;
        if (op == LINFUN_GRAD) f->dspec[k] = 0;
        if (op == LINFUN_FUNGRAD) f->dspec[k] = 1;
    }
    s.sdot = s.ndot > 1 ? linfun_pad(s.ndot) : s.ndot;
    /* One accumulated class uses the plain loops of the row pass: no padding then. */
    s.sacc = s.nacc > 1 ? linfun_pad(s.nacc) : s.nacc;
    s.sgrad = s.nacc > 1 ? linfun_pad(s.ngrad) : s.ngrad;
    return s;
}

/* The arrays one batch pass reads and sums into: f's interleaved scratch,
 * or, for a single class, the request's own vectors (no copy in or out). */
typedef struct batch_io {
    const double *vin;
    double *acc, *dacc;
    bool direct_in, direct_out;
} batch_io_t;

/* A single vector is read where it is; a single zeroed output (with its
 * diagonal, when a gradient) is summed where it is: 0 + a == a, so the
 * sums keep their bits (a -0 becomes +0 either way when the caller adds). */
static batch_io_t batch_io(linfun_t *f, const linfun_req_t *reqs, const batch_shape_t *s) {
    batch_io_t io = {.vin = f->vin, .acc = f->acc, .dacc = f->dacc};
    if (s->ndot == 1 && s->sdot == 1) {
        io.vin = reqs[f->dot_cls[0]].v;
        io.direct_in = true;
    }
    if (s->nacc == 1 && s->sacc == 1) {
        const linfun_req_t *r = &reqs[f->acc_cls[0]];
        bool grad = s->ngrad == 1;
        if (r->zeroed && (!grad || r->diag)) {
            io.acc = r->out;
            if (grad) io.dacc = r->diag;
            io.direct_out = true;
        }
    }
    return io;
}

/* Interleaves the requested vectors into vin and zeroes the accumulators
 * (what io does not take from the requests). */
static void batch_clear(linfun_t *f, const linfun_req_t *reqs, const batch_shape_t *s,
                        const batch_io_t *io) {
    const int n = f->n;
    if (!io->direct_in) {
        memset(f->vin, 0, (size_t)n * s->sdot * sizeof *f->vin);
        for (int j = 0; j < n; j++)
            for (int a = 0; a < s->ndot; a++)
                f->vin[(size_t)j * s->sdot + a] = reqs[f->dot_cls[a]].v[j];
    }
    if (!io->direct_out) {
        memset(f->acc, 0, (size_t)n * s->sacc * sizeof *f->acc);
        memset(f->dacc, 0, (size_t)n * s->sgrad * sizeof *f->dacc);
    }
    for (int a = 0; a < s->ndot; a++)
        f->loss[a] = 0;
    for (int b = 0; b < s->sacc; b++)
        f->cval[b] = 0;
    for (int g = 0; g < s->sgrad; g++)
        f->dval[g] = 0;
}

/* Hands the losses, the accumulated gradient / Hv columns and the diagonals
 * back to the requests: one pass over each interleaved array, column by
 * column (reading a class's entries alone would walk all of it per class). */
static void batch_emit(linfun_t *f, const linfun_req_t *reqs, const batch_shape_t *s,
                       const batch_io_t *io) {
    const int n = f->n;
    for (int a = 0; a < s->ndot; a++) {
        int k = f->dot_cls[a];
        if (reqs[k].op == LINFUN_FUN) *reqs[k].out = f->loss[a];
        if (reqs[k].op == LINFUN_FUNGRAD) *reqs[k].loss = f->loss[a];
    }
    if (io->direct_out) return;
    double **out = f->outs;
    for (int b = 0; b < s->nacc; b++)
        out[b] = reqs[f->acc_cls[b]].out;
    for (int j = 0; j < n && s->nacc; j++) {
        const double *acc = f->acc + (size_t)j * s->sacc;
        for (int b = 0; b < s->nacc; b++)
            out[b][j] += acc[b];
    }
    int nd = 0;
    for (int g = 0; g < s->ngrad; g++)
        if (reqs[f->grad_cls[g]].diag) out[nd++] = reqs[f->grad_cls[g]].diag;
    if (nd < s->ngrad) {
        /* some gradient wants no diagonal: one column at a time */
        for (int g = 0; g < s->ngrad; g++) {
            double *diag = reqs[f->grad_cls[g]].diag;
            for (int j = 0; diag && j < n; j++)
                diag[j] += f->dacc[(size_t)j * s->sgrad + g];
        }
        return;
    }
    for (int j = 0; j < n && nd; j++) {
        const double *dacc = f->dacc + (size_t)j * s->sgrad;
        for (int g = 0; g < nd; g++)
            out[g][j] += dacc[g];
    }
}

/* Rows are walked once; for every row the products with all requested vectors
 * are formed together, then the gradient and Hv contributions are scattered
 * together. Memory traffic over the rows, not arithmetic, is the cost. The row
 * pass stays here, its shape copied into locals, so that the compiler sees
 * the same loop as before the setup and the output were moved out. */
void linfun_batch(linfun_t *f, const linfun_req_t *reqs) {
    const int K = f->nr_w;
    const batch_shape_t shape = batch_plan(f, reqs);
    const int ndot = shape.ndot, nacc = shape.nacc, ngrad = shape.ngrad;
    if (ndot + nacc == 0) return;
    const int sdot = shape.sdot, sacc = shape.sacc, sgrad = shape.sgrad;
    const batch_io_t io = batch_io(f, reqs, &shape);
    batch_clear(f, reqs, &shape, &io);
    const double *vin = io.vin;
    double *acc = io.acc, *dacc = io.dacc;

    struct feature_node **x = f->d->x;
    const int solver = f->solver;
    double *t = f->t, *cval = f->cval, *dval = f->dval;
    for (size_t i = 0; i < f->l; i++) {
        const struct feature_node *xi = x[i];
        double *zi = f->z + i * K;
        double *Di = f->D + i * K; /* + doff[k]: class k's slot */

        if (ndot == 1) {
            double s = 0;
            for (const struct feature_node *p = xi; p->index != -1; p++)
                s += p->value * vin[p->index - 1];
            t[0] = s;
        } else if (ndot > 1) {
            linfun_dots(xi, vin, sdot, t);
        }

        /* margins first: a FUNGRAD's gradient is taken at its own */
        for (int a = 0; a < ndot; a++) {
            int k = f->dot_cls[a];
            if (reqs[k].op != LINFUN_FUN && reqs[k].op != LINFUN_FUNGRAD) continue;
            double m = linfun_y(f, i, k) * t[a];
            zi[k] = m;
            f->loss[a] += linfun_loss(solver, m);
        }
        int nact = 0, ndact = 0;
        for (int b = 0; b < nacc; b++) {
            int k = f->acc_cls[b];
            double c;
            if (reqs[k].op != LINFUN_HV) {
                double dd;
                linfun_coef(solver, zi[k], linfun_y(f, i, k), &c, &dd);
                Di[f->doff[k] + (size_t)k] = dd;
                dval[f->gpos[b]] = dd;
                ndact += dd != 0;
            } else {
                c = Di[f->doff[k] + (size_t)k] * t[f->dotpos[k]];
            }
            cval[b] = c;
            nact += c != 0;
        }
        /* Rows with no active class (L2-loss SVM rows past the margin) cost
         * nothing more. The plain loops below round as linfun_scatter does
         * (dd * (x*x)), so a class's sums have the same bits whatever
         * other classes share its pass. */
        if (nact == 0 && ndact == 0) continue;
        if (nacc == 1) {
            double c = cval[0], dd = ngrad ? dval[0] : 0;
            if (dd != 0) {
                for (const struct feature_node *p = xi; p->index != -1; p++) {
                    acc[(size_t)(p->index - 1) * sacc] += c * p->value;
                    dacc[(size_t)(p->index - 1) * sgrad] += dd * (p->value * p->value);
                }
            } else {
                for (const struct feature_node *p = xi; p->index != -1; p++)
                    acc[(size_t)(p->index - 1) * sacc] += c * p->value;
            }
            continue;
        }
        if (nact) linfun_scatter(xi, acc, sacc, cval, 0);
        if (ndact) linfun_scatter(xi, dacc, sgrad, dval, 1);
    }

    batch_emit(f, reqs, &shape, &io);
}

static void linfun_one(linfun_t *f, int k, linfun_op_t op, const double *v, double *out,
                       double *diag) {
    if (k < 0 || k >= f->nr_w) return;
    for (int c = 0; c < f->nr_w; c++)
        f->reqs[c].op = LINFUN_NONE;
    f->reqs[k] = (linfun_req_t){.op = op, .v = v, .out = out, .diag = diag};
    linfun_batch(f, f->reqs);
    f->reqs[k].op = LINFUN_NONE;
}

double linfun_fun(linfun_t *f, int k, const double *w) {
    double loss = 0;
    linfun_one(f, k, LINFUN_FUN, w, &loss, NULL);
    return loss;
}

void linfun_grad(linfun_t *f, int k, double *g, double *diag) {
    linfun_one(f, k, LINFUN_GRAD, NULL, g, diag);
}

void linfun_hv(linfun_t *f, int k, const double *s, double *hs) {
    linfun_one(f, k, LINFUN_HV, s, hs, NULL);
}

bool linfun_waiting(const linfun_t *f, int k) {
    return f && k >= 0 && k < f->nr_w && f->dspec[k];
}

int linfun_accept(linfun_t *f, int k) {
    if (k < 0 || k >= f->nr_w || !f->dspec[k]) return -1;
    f->dcur[k] ^= 1;
    f->dspec[k] = 0;
    return 0;
}

void linfun_destroy(linfun_t **fp) {
    if (!fp || !*fp) return;
    linfun_t *f = *fp;
    free(f->z);
    free(f->D);
    free(f->dcur);
    free(f->dspec);
    free(f->doff);
    free(f->pos);
    free(f->vin);
    free(f->acc);
    free(f->dacc);
    free(f->t);
    free(f->loss);
    free(f->cval);
    free(f->dval);
    free(f->dot_cls);
    free(f->acc_cls);
    free(f->grad_cls);
    free(f->dotpos);
    free(f->gpos);
    free(f->reqs);
    free(f->outs);
    free(f);
    *fp = NULL;
}
