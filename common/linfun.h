/* linfun: the worker's half of distributed trust-region Newton training.
 *
 * liblinear 2.30 trains L2R_LR (solver 0) and L2R_L2LOSS_SVC (solver 2) by
 * minimising, for each one-vs-rest class,
 *     f(w) = 0.5 w'w + C * sum_i loss(y_i w'x_i)
 * with TRON. Everything that touches the rows is a sum over rows, so a shard
 * can compute its part alone and the master adds the parts, multiplies by C and
 * adds the regulariser (w, s or 1). This module computes those per-shard sums:
 *   fun:  sum_i loss(y_i w'x_i)                 log(1+e^-m) or max(0,1-m)^2
 *   grad: sum_i loss'(..) y_i x_i, and the diagonal sum_i D_i x_ij^2 that
 *         liblinear's preconditioner needs (M = 1 + C * diag)
 *   hv:   sum_i D_i (x_i's) x_i                 (the loss part of H s)
 * where D_i is sigma(1-sigma) for LR and 2*[m_i < 1] for the L2-loss SVM, both
 * taken at the point of the last grad (liblinear's Hv uses the D/I of the last
 * grad even after fun() has been evaluated at a rejected trial point; so do we).
 * Each row's terms have liblinear's bits (log(1 + exp(-m)), not log1p; C = 1);
 * the rows are added in the shard's order, not liblinear's (grouped by class).
 *
 * Classes: nr_w = 1 for a two-class problem, where label index 0 is the
 * positive class (as liblinear after its grouping); otherwise nr_w = nr_class and
 * class k is "label index k against the rest". Rows with y < 0 or y >= nr_class
 * (nr_class = 2 when nr_w = 1) are rejected by linfun_new.
 *
 * State per class: the margins of the last fun() and the D of the last grad()
 * (and of a FUNGRAD not yet accepted).
 * A worker that takes over a shard mid-training must replay fun() and grad() at
 * the master's current weights (tron_weights()) before it can answer hv().
 *
 * The dataset is borrowed: it must outlive the linfun_t and must not change.
 * Not thread-safe per object; separate objects are independent.
 */
#ifndef NC_LINFUN_H
#define NC_LINFUN_H

#include "common/dataset.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct linfun linfun_t;

/* FUNGRAD is FUN and GRAD at one point in a single pass, for a trial point
 * that TRON may still reject: its D goes to a spare slot, and hv() keeps
 * using the last grad's until linfun_accept(). */
typedef enum { LINFUN_NONE = 0, LINFUN_FUN, LINFUN_GRAD, LINFUN_HV, LINFUN_FUNGRAD } linfun_op_t;

/* One class's request in linfun_batch(). */
typedef struct linfun_req {
    linfun_op_t op;
    const double *v; /* FUN, FUNGRAD: w[n]; HV: s[n]; unused for GRAD and NONE */
    double *out;     /* FUN: one double, set; GRAD, FUNGRAD and HV: n doubles, added to */
    double *diag;    /* GRAD, FUNGRAD: n doubles, added to; may be NULL when not wanted */
    double *loss;    /* FUNGRAD: one double, set */
    bool zeroed;     /* out (and diag) hold zeros: a pass whose only GRAD,
                      * FUNGRAD or HV this is may sum in place (same results) */
} linfun_req_t;

/* Builds the per-shard state for solver 0 (L2R_LR) or 2 (L2R_L2LOSS_SVC) and
 * nr_w classes (1 for two classes). NULL with a reason in err on a bad solver,
 * a label out of range, or no memory. */
linfun_t *linfun_new(const dataset_t *d, int solver, int nr_w, char *err, size_t errlen);

/* Number of variables (d->n, including the bias feature when there is one). */
int linfun_nr_variable(const linfun_t *f);

/* Rows of class k's positive side in this shard (for tron_class_eps()). */
size_t linfun_positives(const linfun_t *f, int k);

/* Sum of losses of class k at w (not multiplied by C, no regulariser). Caches
 * the margins that grad() needs. */
double linfun_fun(linfun_t *f, int k, const double *w);

/* Adds class k's loss gradient sum and preconditioner diagonal sum at the last
 * fun() point into g[n] and diag[n] (diag may be NULL). Must follow a fun(). */
void linfun_grad(linfun_t *f, int k, double *g, double *diag);

/* Adds the loss part of H*s at the last grad() point of class k into hs[n]. */
void linfun_hv(linfun_t *f, int k, const double *s, double *hs);

/* Makes the D of class k's last FUNGRAD the one hv() uses (its point was
 * accepted). 0, or -1 when no FUNGRAD waits since the last GRAD or accept. */
int linfun_accept(linfun_t *f, int k);

/* Whether class k has a FUNGRAD's D waiting for linfun_accept(). */
bool linfun_waiting(const linfun_t *f, int k);

/* Runs one request per class, reqs[0..nr_w-1], in a single pass over the rows:
 * the way to answer a lockstep round of all classes. The results equal those of
 * the per-class calls above bit for bit: a class's sums do not depend on which
 * other classes share the pass. GRAD for a class that has had no
 * FUN yet is treated as a GRAD at w = 0. */
void linfun_batch(linfun_t *f, const linfun_req_t *reqs);

/* Frees f (not the dataset) and sets *f to NULL; NULL is fine. */
void linfun_destroy(linfun_t **f);

#endif
