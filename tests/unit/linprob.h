/* linprob: small random linear-classification problems for the unit tests of
 * linfun, tron and model, built in memory both as a dataset_t (our side) and as
 * a liblinear struct problem (the reference), plus a single-process driver that
 * trains with linfun over shards and tron exactly as the master does.
 *
 * Header-only (static functions) because each test file is its own binary.
 */
#ifndef NC_TEST_LINPROB_H
#define NC_TEST_LINPROB_H

#include <linear.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dataset.h"
#include "common/linfun.h"
#include "common/tron.h"

typedef struct linprob {
    dataset_t d;         /* y = label index in liblinear's order (after lp_index) */
    struct problem prob; /* y = label values */
    struct feature_node *nodes;
    int nr_class;
    int labels[8]; /* label values in liblinear's order */
} linprob_t;

static uint64_t lp_rng = 88172645463325252ULL;

static inline double lp_uniform(void) {
    lp_rng ^= lp_rng << 13;
    lp_rng ^= lp_rng >> 7;
    lp_rng ^= lp_rng << 17;
    return (double)(lp_rng >> 11) / 9007199254740992.0;
}

/* l rows, nf features (plus bias when bias >= 0), nonzero with probability
 * density; nr_class classes with labels values label_of(c). Classes are
 * separable-ish along random directions, with noise. binary_pm1 uses -1/+1
 * labels with -1 appearing first (to exercise liblinear's swap). */
static inline void lp_make(linprob_t *p, int l, int nf, double density, int nr_class, double bias,
                           int binary_pm1, uint64_t seed) {
    memset(p, 0, sizeof *p);
    lp_rng = seed * 2654435761ULL + 1;
    int n = nf + (bias >= 0);
    p->nodes = calloc((size_t)l * (n + 1), sizeof *p->nodes);
    p->d.x = calloc((size_t)l, sizeof *p->d.x);
    p->d.y = calloc((size_t)l, sizeof *p->d.y);
    p->prob.y = calloc((size_t)l, sizeof *p->prob.y);
    double *centre = calloc((size_t)nr_class * nf, sizeof *centre);
    for (int c = 0; c < nr_class; c++)
        for (int j = 0; j < nf; j++)
            centre[c * nf + j] = lp_uniform() * 2 - 1;
    struct feature_node *q = p->nodes;
    for (int i = 0; i < l; i++) {
        int c = (int)(lp_uniform() * nr_class);
        if (c >= nr_class) c = nr_class - 1;
        p->d.x[i] = q;
        for (int j = 0; j < nf; j++) {
            if (lp_uniform() >= density) continue;
            q->index = j + 1;
            q->value = centre[c * nf + j] + (lp_uniform() * 2 - 1) * 1.5;
            q++;
        }
        if (bias >= 0) {
            q->index = n;
            q->value = bias;
            q++;
        }
        q->index = -1;
        q++;
        int label = binary_pm1 ? (c == 0 ? -1 : 1) : 10 * c + 3;
        p->prob.y[i] = label;
    }
    free(centre);
    p->d.rows = (size_t)l;
    p->d.n = n;
    p->d.bias = bias;
    p->prob.l = l;
    p->prob.n = n;
    p->prob.x = p->d.x;
    p->prob.bias = bias;
    p->nr_class = nr_class;
    /* liblinear's label order: first appearance, +1 before -1. */
    int nl = 0;
    for (int i = 0; i < l; i++) {
        int v = (int)p->prob.y[i], seen = 0;
        for (int k = 0; k < nl; k++)
            seen |= p->labels[k] == v;
        if (!seen) p->labels[nl++] = v;
    }
    if (nl == 2 && p->labels[0] == -1 && p->labels[1] == 1) {
        p->labels[0] = 1;
        p->labels[1] = -1;
    }
    p->nr_class = nl;
    for (int i = 0; i < l; i++)
        for (int k = 0; k < nl; k++)
            if (p->labels[k] == (int)p->prob.y[i]) p->d.y[i] = k;
}

static inline void lp_free(linprob_t *p) {
    free(p->nodes);
    free(p->d.x);
    free(p->d.y);
    free(p->prob.y);
    memset(p, 0, sizeof *p);
}

/* Rows [a, b) of p as a dataset that borrows p's memory. */
static inline dataset_t lp_view(const linprob_t *p, size_t a, size_t b) {
    dataset_t v = p->d;
    v.x = p->d.x + a;
    v.y = p->d.y + a;
    v.rows = b - a;
    v.first_row = a;
    return v;
}

static inline void lp_quiet(const char *s) {
    (void)s;
}

/* liblinear's own train() on the whole problem. */
static inline struct model *lp_liblinear(const linprob_t *p, int solver, double C, double eps) {
    struct parameter par;
    memset(&par, 0, sizeof par);
    par.solver_type = solver;
    par.C = C;
    par.eps = eps;
    par.p = 0.1;
    set_print_string_function(lp_quiet);
    return train(&p->prob, &par);
}

static inline double lp_rel_l2(const double *a, const double *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += (a[i] - b[i]) * (a[i] - b[i]);
        den += b[i] * b[i];
    }
    return sqrt(num) / (den > 0 ? sqrt(den) : 1);
}

/* Trains like the master: one tron per class in lockstep, every round answered
 * by every shard and the partial answers summed. batch = 1 uses linfun_batch
 * (one pass for all classes), else the per-class calls. rows[s] is shard s's
 * row count. Writes w in liblinear's layout w[j*nr_w + k]. Returns the number
 * of rounds (the master's network round trips), or -1. */
static inline int lp_train_ours(linfun_t **sh, const size_t *rows, int nsh, int n, int nr_w,
                                double C, double eps, int batch, double *w) {
    tron_t *t[16] = {0};
    linfun_req_t reqs[16];
    tron_op_t ops[16];
    const double *vec[16];
    double fsum[16], fpart[16];
    double *g = calloc((size_t)nr_w * n, sizeof *g);
    double *dg = calloc((size_t)nr_w * n, sizeof *dg);
    int rounds = 0, rc = -1;
    if (!g || !dg || nr_w > 16) goto out;
    long l = 0;
    for (int s = 0; s < nsh; s++)
        l += (long)rows[s];
    for (int k = 0; k < nr_w; k++) {
        long pos = 0;
        for (int s = 0; s < nsh; s++)
            pos += (long)linfun_positives(sh[s], k);
        t[k] = tron_new(n, C, tron_class_eps(eps, pos, l - pos, l), tron_eps_cg(0), 1000, NULL);
        if (!t[k]) goto out;
    }
    for (;;) {
        int live = 0;
        for (int k = 0; k < nr_w; k++) {
            ops[k] = tron_next(t[k], &vec[k]);
            live += ops[k] != TRON_DONE;
        }
        if (!live) break;
        rounds++;
        memset(g, 0, (size_t)nr_w * n * sizeof *g);
        memset(dg, 0, (size_t)nr_w * n * sizeof *dg);
        for (int k = 0; k < nr_w; k++)
            fsum[k] = 0;
        for (int s = 0; s < nsh; s++) {
            for (int k = 0; k < nr_w; k++) {
                double *gk = g + (size_t)k * n, *dk = dg + (size_t)k * n;
                reqs[k] = (linfun_req_t){.op = LINFUN_NONE};
                switch (ops[k]) {
                case TRON_FUN:
                    reqs[k] = (linfun_req_t){.op = LINFUN_FUN, .v = vec[k], .out = &fpart[k]};
                    break;
                case TRON_GRAD:
                    reqs[k] = (linfun_req_t){.op = LINFUN_GRAD, .out = gk, .diag = dk};
                    break;
                case TRON_HV:
                    reqs[k] = (linfun_req_t){.op = LINFUN_HV, .v = vec[k], .out = gk};
                    break;
                case TRON_DONE:
                    break;
                }
                if (!batch) {
                    if (ops[k] == TRON_FUN)
                        fpart[k] = linfun_fun(sh[s], k, vec[k]);
                    else if (ops[k] == TRON_GRAD)
                        linfun_grad(sh[s], k, gk, dk);
                    else if (ops[k] == TRON_HV)
                        linfun_hv(sh[s], k, vec[k], gk);
                }
            }
            if (batch) linfun_batch(sh[s], reqs);
            for (int k = 0; k < nr_w; k++)
                if (ops[k] == TRON_FUN) fsum[k] += fpart[k];
        }
        for (int k = 0; k < nr_w; k++) {
            double *gk = g + (size_t)k * n, *dk = dg + (size_t)k * n;
            if (ops[k] == TRON_FUN && tron_feed_fun(t[k], fsum[k]) < 0) goto out;
            if (ops[k] == TRON_GRAD && tron_feed_grad(t[k], gk, dk) < 0) goto out;
            if (ops[k] == TRON_HV && tron_feed_hv(t[k], gk) < 0) goto out;
        }
    }
    for (int k = 0; k < nr_w; k++) {
        const double *wk = tron_weights(t[k]);
        for (int j = 0; j < n; j++)
            w[(size_t)j * nr_w + k] = wk[j];
    }
    rc = rounds;
out:
    for (int k = 0; k < 16; k++)
        tron_destroy(&t[k]);
    free(g);
    free(dg);
    return rc;
}

#endif
