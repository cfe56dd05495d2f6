/* tron: liblinear 2.30's TRON turned into a state machine (see tron.h). */
#include "common/tron.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* liblinear 2.30 tron.cpp constants. */
#define TRON_ETA0 1e-4
#define TRON_ETA1 0.25
#define TRON_ETA2 0.75
#define TRON_SIGMA1 0.25
#define TRON_SIGMA2 0.5
#define TRON_SIGMA3 4.0
#define TRON_ALPHA_PCG 0.01

typedef enum {
    ST_ZERO_FUN,  /* f at w = 0, for gnorm0 */
    ST_ZERO_GRAD, /* g at w = 0 */
    ST_W_FUN,     /* f at the starting w (init_sol or resume) */
    ST_W_GRAD,
    ST_CG_HV,       /* H*d inside the CG loop */
    ST_TRIAL_FUN,   /* f at w + s */
    ST_ACCEPT_GRAD, /* g at the accepted w + s */
    ST_DONE
} tron_st_t;

struct tron {
    int n;
    double C, eps, eps_cg;
    int max_iter, max_cg_iter;
    tron_st_t st;
    int resumed;
    tron_stop_t stop;

    /* Seven vectors of n (liblinear's TRON has ten: its z and Hd are formed
     * on the fly, and the zero point is w_new before the first trial):
     * the master holds one tron per class in lockstep. w_new is also where
     * H*d is summed and formed during CG, g and M where the gradient and
     * diagonal sums land (tron_sums). */
    double *w, *w_new, *g, *M, *s, *r, *d;
    double f, fnew, gnorm, gnorm0, delta, prered, gs;
    double zTr, cgtol;
    int iter, cg_iter, reach_boundary, delta_adjusted, has_w0;
    long cg_total;

    int passes;
    tron_iter_info_t last;
};

double tron_class_eps(double eps, long pos, long neg, long l) {
    if (l <= 0) return 0;
    long m = pos < neg ? pos : neg;
    if (m < 1) m = 1;
    return eps * (double)m / (double)l;
}

double tron_eps_cg(int has_init_sol) {
    return has_init_sol ? 0.5 : 0.1;
}

static double dot(int n, const double *a, const double *b) {
    double s = 0;
    for (int i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* Five products u[j]*M[j]*v[j] summed in order: tron.cpp's uTMv adds them
 * up first and then adds that to its total. */
static inline double uTMv5(const double *u, const double *M, const double *v) {
    return u[0] * M[0] * v[0] + u[1] * M[1] * v[1] + u[2] * M[2] * v[2] + u[3] * M[3] * v[3] +
           u[4] * M[4] * v[4];
}

/* u'Mv added up as liblinear 2.30's tron.cpp does: five products at a time,
 * then the last n mod 5 one by one. The grouping changes the last bits,
 * which reach the radius and so the steps. */
static double uTMv(int n, const double *u, const double *M, const double *v) {
    double res = 0;
    int i = 0;
    for (; i + 4 < n; i += 5)
        res += uTMv5(u + i, M + i, v + i);
    for (; i < n; i++)
        res += u[i] * M[i] * v[i];
    return res;
}

static tron_t *tron_alloc(int n, double C, double eps, double eps_cg, int max_iter) {
    if (n <= 0 || !(C > 0) || !(eps >= 0) || !(eps_cg > 0) || max_iter < 0) return NULL;
    tron_t *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->n = n;
    t->C = C;
    t->eps = eps;
    t->eps_cg = eps_cg;
    t->max_iter = max_iter;
    t->max_cg_iter = n > 5 ? n : 5;
    t->iter = 1;
    double **vecs[] = {&t->w, &t->w_new, &t->g, &t->M, &t->s, &t->r, &t->d};
    for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++) {
        *vecs[i] = calloc((size_t)n, sizeof(double));
        if (!*vecs[i]) {
            tron_destroy(&t);
            return NULL;
        }
    }
    return t;
}

tron_t *tron_new(int n, double C, double eps, double eps_cg, int max_iter, const double *w0) {
    tron_t *t = tron_alloc(n, C, eps, eps_cg, max_iter);
    if (!t) return NULL;
    if (w0) {
        memcpy(t->w, w0, (size_t)n * sizeof *w0);
        t->has_w0 = 1;
    }
    t->st = ST_ZERO_FUN;
    return t;
}

tron_t *tron_resume(int n, double C, double eps, double eps_cg, int max_iter, const double *w,
                    const tron_state_t *st) {
    if (!w || !st || st->iter < 1 || !(st->delta > 0) || !(st->gnorm0 >= 0)) return NULL;
    tron_t *t = tron_alloc(n, C, eps, eps_cg, max_iter);
    if (!t) return NULL;
    memcpy(t->w, w, (size_t)n * sizeof *w);
    t->has_w0 = 1;
    t->resumed = 1;
    t->iter = st->iter;
    t->delta = st->delta;
    t->gnorm0 = st->gnorm0;
    t->delta_adjusted = 1;
    t->st = ST_W_FUN;
    return t;
}

static void tron_finish(tron_t *t, tron_stop_t why) {
    t->st = ST_DONE;
    t->stop = why;
}

/* Gradient and preconditioner from the shards' sums at t->w. */
static void tron_set_grad(tron_t *t, const double *gl, const double *diag) {
    for (int i = 0; i < t->n; i++) {
        t->g[i] = t->w[i] + t->C * gl[i];
        double m = 1 + t->C * (diag ? diag[i] : 0);
        t->M[i] = (1 - TRON_ALPHA_PCG) + TRON_ALPHA_PCG * m;
    }
    t->gnorm = sqrt(dot(t->n, t->g, t->g));
}

static void tron_cg_continue(tron_t *t);

/* Top of the outer loop: while (iter <= max_iter && search). */
static void tron_outer(tron_t *t) {
    if (t->iter > t->max_iter) {
        tron_finish(t, TRON_MAX_ITER);
        return;
    }
    int n = t->n;
    t->reach_boundary = 0;
    for (int i = 0; i < n; i++) {
        t->s[i] = 0;
        t->r[i] = -t->g[i];
        t->d[i] = t->r[i] / t->M[i]; /* z = M^-1 r, and d = z */
    }
    t->zTr = dot(n, t->d, t->r);
    t->cgtol = t->eps_cg * sqrt(t->zTr);
    t->cg_iter = 0;
    tron_cg_continue(t);
}

static void tron_cg_finish(tron_t *t) {
    int n = t->n;
    double gs = 0, sr = 0;
    for (int i = 0; i < n; i++) {
        t->w_new[i] = t->w[i] + t->s[i];
        gs += t->g[i] * t->s[i];
        sr += t->s[i] * t->r[i];
    }
    t->gs = gs;
    t->prered = -0.5 * (t->gs - sr);
    t->st = ST_TRIAL_FUN;
}

static void tron_cg_continue(tron_t *t) {
    if (t->cg_iter < t->max_cg_iter && !(sqrt(t->zTr) <= t->cgtol)) {
        t->cg_iter++;
        t->cg_total++;
        t->st = ST_CG_HV;
        return;
    }
    tron_cg_finish(t);
}

/* The checks at the bottom of liblinear's outer loop, then the next pass. */
static void tron_bottom(tron_t *t, double actred) {
    if (t->f < -1.0e+32) {
        tron_finish(t, TRON_DIVERGED);
        return;
    }
    if (t->prered <= 0) {
        tron_finish(t, TRON_PRERED);
        return;
    }
    if (fabs(actred) <= 1.0e-12 * fabs(t->f) && fabs(t->prered) <= 1.0e-12 * fabs(t->f)) {
        tron_finish(t, TRON_SMALL);
        return;
    }
    tron_outer(t);
}

tron_op_t tron_next(tron_t *t, const double **vec) {
    const double *v = NULL;
    tron_op_t op = TRON_DONE;
    switch (t->st) {
    case ST_ZERO_FUN: /* w_new is zero until the first trial point */
        op = TRON_FUN, v = t->w_new;
        break;
    case ST_ZERO_GRAD:
        op = TRON_GRAD, v = t->w_new;
        break;
    case ST_W_FUN:
        op = TRON_FUN, v = t->w;
        break;
    case ST_W_GRAD:
    case ST_ACCEPT_GRAD:
        op = TRON_GRAD, v = t->w;
        break;
    case ST_CG_HV:
        op = TRON_HV, v = t->d;
        break;
    case ST_TRIAL_FUN:
        op = TRON_FUN, v = t->w_new;
        break;
    case ST_DONE:
        break;
    }
    if (vec) *vec = v;
    return op;
}

int tron_feed_fun(tron_t *t, double loss_sum) {
    int n = t->n;
    switch (t->st) {
    case ST_ZERO_FUN:
        t->f = t->C * loss_sum;
        t->st = ST_ZERO_GRAD;
        return 0;
    case ST_W_FUN:
        t->f = 0.5 * dot(n, t->w, t->w) + t->C * loss_sum;
        t->st = ST_W_GRAD;
        return 0;
    case ST_TRIAL_FUN:
        break;
    default:
        return -1;
    }

    t->fnew = 0.5 * dot(n, t->w_new, t->w_new) + t->C * loss_sum;
    double f = t->f, fnew = t->fnew, gs = t->gs, prered = t->prered;
    double actred = f - fnew;
    double sMnorm = sqrt(uTMv(n, t->s, t->M, t->s));
    if (t->iter == 1 && !t->delta_adjusted) {
        t->delta = fmin(t->delta, sMnorm);
        t->delta_adjusted = 1;
    }
    double alpha;
    if (fnew - f - gs <= 0)
        alpha = TRON_SIGMA3;
    else
        alpha = fmax(TRON_SIGMA1, -0.5 * (gs / (fnew - f - gs)));

    double delta = t->delta;
    if (actred < TRON_ETA0 * prered)
        delta = fmin(alpha * sMnorm, TRON_SIGMA2 * delta);
    else if (actred < TRON_ETA1 * prered)
        delta = fmax(TRON_SIGMA1 * delta, fmin(alpha * sMnorm, TRON_SIGMA2 * delta));
    else if (actred < TRON_ETA2 * prered)
        delta = fmax(TRON_SIGMA1 * delta, fmin(alpha * sMnorm, TRON_SIGMA3 * delta));
    else if (t->reach_boundary)
        delta = TRON_SIGMA3 * delta;
    else
        delta = fmax(delta, fmin(alpha * sMnorm, TRON_SIGMA3 * delta));
    t->delta = delta;

    t->passes++;
    t->last = (tron_iter_info_t){.iter = t->iter,
                                 .f = f,
                                 .gnorm = t->gnorm,
                                 .cg_iter = t->cg_iter,
                                 .actred = actred,
                                 .prered = prered,
                                 .delta = delta,
                                 .accepted = actred > TRON_ETA0 * prered};

    if (actred > TRON_ETA0 * prered) {
        t->iter++;
        memcpy(t->w, t->w_new, (size_t)n * sizeof *t->w);
        t->f = fnew;
        /* The actred of this pass is needed by the bottom checks after the
         * gradient arrives; keep it in the info record. */
        t->st = ST_ACCEPT_GRAD;
        return 0;
    }
    tron_bottom(t, actred);
    return 0;
}

int tron_feed_grad(tron_t *t, const double *g_loss_sum, const double *diag_sum) {
    if (!g_loss_sum) return -1;
    switch (t->st) {
    case ST_ZERO_GRAD:
        /* w = 0 here, so g = C * g_loss. */
        tron_set_grad(t, g_loss_sum, diag_sum);
        t->gnorm0 = t->gnorm;
        if (t->has_w0) {
            t->st = ST_W_FUN;
            return 0;
        }
        break;
    case ST_W_GRAD:
        tron_set_grad(t, g_loss_sum, diag_sum);
        break;
    case ST_ACCEPT_GRAD:
        tron_set_grad(t, g_loss_sum, diag_sum);
        if (t->gnorm <= t->eps * t->gnorm0) {
            tron_finish(t, TRON_CONVERGED);
            return 0;
        }
        tron_bottom(t, t->last.actred);
        return 0;
    default:
        return -1;
    }

    /* Start of the run: liblinear's checks before the outer loop. */
    if (t->gnorm <= t->eps * t->gnorm0) {
        tron_finish(t, TRON_CONVERGED);
        return 0;
    }
    if (!t->resumed) t->delta = sqrt(uTMv(t->n, t->g, t->M, t->g));
    tron_outer(t);
    return 0;
}

double *tron_sums(tron_t *t, double **diag) {
    if (diag) *diag = NULL;
    switch (t->st) {
    case ST_ZERO_FUN:
    case ST_W_FUN:
    case ST_TRIAL_FUN:
        /* A gradient at the FUN's point (tron_feed_fun_grad): r and d are
         * free until the next CG starts from g and M, which a rejected
         * point leaves as they were. */
        if (diag) *diag = t->d;
        return t->r;
    case ST_ZERO_GRAD:
    case ST_W_GRAD:
    case ST_ACCEPT_GRAD:
        if (diag) *diag = t->M;
        return t->g;
    case ST_CG_HV:
        return t->w_new;
    default:
        return NULL;
    }
}

int tron_feed_fun_grad(tron_t *t, double loss_sum) {
    tron_st_t was = t->st;
    if (was != ST_ZERO_FUN && was != ST_W_FUN && was != ST_TRIAL_FUN) return -1;
    if (tron_feed_fun(t, loss_sum) < 0) return -1;
    if (t->st != ST_ZERO_GRAD && t->st != ST_W_GRAD && t->st != ST_ACCEPT_GRAD) return 0;
    return tron_feed_grad(t, t->r, t->d) < 0 ? -1 : 1;
}

int tron_feed_hv(tron_t *t, const double *hv_loss_sum) {
    if (t->st != ST_CG_HV || !hv_loss_sum) return -1;
    int n = t->n;
    /* H*d is formed in w_new (dead during CG), where tron_sums() had the
     * caller add the sums, or where they are copied now. */
    double *s = t->s, *d = t->d, *Hd = t->w_new, *r = t->r, *M = t->M;
    if (hv_loss_sum != Hd) memcpy(Hd, hv_loss_sum, (size_t)n * sizeof *Hd);
    /* liblinear's loops, fused where one only reads what the other wrote at
     * the same index (the sums still run in liblinear's order: the same bits;
     * |s|_M in fives, as uTMv) */
    double dHd = 0;
    for (int i = 0; i < n; i++) {
        Hd[i] = d[i] + t->C * Hd[i];
        dHd += d[i] * Hd[i];
    }
    double alpha = t->zTr / dHd;
    double sMs = 0;
    int i5 = 0;
    for (; i5 + 4 < n; i5 += 5) {
        for (int i = i5; i < i5 + 5; i++)
            s[i] += alpha * d[i];
        sMs += uTMv5(s + i5, M + i5, s + i5);
    }
    for (int i = i5; i < n; i++) {
        s[i] += alpha * d[i];
        sMs += s[i] * M[i] * s[i];
    }

    double sMnorm = sqrt(sMs);
    if (sMnorm > t->delta) {
        /* Step back and go to the boundary of the M-norm trust region. */
        t->reach_boundary = 1;
        for (int i = 0; i < n; i++)
            s[i] -= alpha * d[i];
        double sTMd = uTMv(n, s, M, d);
        double sTMs = uTMv(n, s, M, s);
        double dTMd = uTMv(n, d, M, d);
        double dsq = t->delta * t->delta;
        double rad = sqrt(sTMd * sTMd + dTMd * (dsq - sTMs));
        if (sTMd >= 0)
            alpha = (dsq - sTMs) / (sTMd + rad);
        else
            alpha = (rad - sTMd) / dTMd;
        for (int i = 0; i < n; i++) {
            s[i] += alpha * d[i];
            r[i] -= alpha * Hd[i];
        }
        tron_cg_finish(t);
        return 0;
    }
    double znew = 0; /* z'r with z = M^-1 r, z formed on the fly */
    for (int i = 0; i < n; i++) {
        r[i] -= alpha * Hd[i];
        znew += (r[i] / M[i]) * r[i];
    }
    double beta = znew / t->zTr;
    for (int i = 0; i < n; i++)
        d[i] = beta * d[i] + r[i] / M[i];
    t->zTr = znew;
    tron_cg_continue(t);
    return 0;
}

const double *tron_weights(const tron_t *t) {
    return t->w;
}

double tron_f(const tron_t *t) {
    return t->f;
}

double tron_gnorm(const tron_t *t) {
    return t->gnorm;
}

int tron_iteration_info(const tron_t *t, tron_iter_info_t *out) {
    if (out && t->passes > 0) *out = t->last;
    return t->passes;
}

long tron_cg_total(const tron_t *t) {
    return t->cg_total;
}

double tron_progress(const tron_t *t) {
    if (t->st == ST_DONE) return 1.0;
    if (!(t->gnorm0 > 0) || !(t->gnorm > 0) || !(t->eps > 0) || t->eps >= 1) return 0.0;
    /* |g| falls about geometrically: the share of the way in log scale */
    double f = log(t->gnorm0 / t->gnorm) / log(1.0 / t->eps);
    return f < 0 ? 0.0 : f > 1 ? 1.0 : f;
}

tron_stop_t tron_stop_reason(const tron_t *t) {
    return t->st == ST_DONE ? t->stop : TRON_RUNNING;
}

void tron_state(const tron_t *t, tron_state_t *out) {
    out->iter = t->iter;
    out->delta = t->delta;
    out->gnorm0 = t->gnorm0;
}

void tron_destroy(tron_t **tp) {
    if (!tp || !*tp) return;
    tron_t *t = *tp;
    free(t->w);
    free(t->w_new);
    free(t->g);
    free(t->M);
    free(t->s);
    free(t->r);
    free(t->d);
    free(t);
    *tp = NULL;
}
