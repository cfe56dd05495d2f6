/* tron: liblinear 2.30's trust-region Newton method as a state machine.
 *
 * liblinear's TRON::tron() calls fun(w), grad(w, g), get_diag_preconditioner(M)
 * and Hv(s, Hs) on a function object. Here the master owns the iteration and the
 * function lives on the workers, as sums over their shards. So TRON is turned
 * inside out: tron_next() says what to evaluate next (and at which vector), the
 * caller gets every shard's partial sum (linfun), adds them up and feeds the
 * totals back. Running one tron_t per one-vs-rest class and asking each class's
 * tron_next() before a round trip lets all classes share one network round.
 *
 * The objective is liblinear's: f(w) = 0.5 w'w + C * loss_sum(w). The caller
 * feeds loss sums only (not multiplied by C); tron adds C and the regulariser:
 *   f = 0.5 w'w + C*loss,  g = w + C*g_loss,  M = 1 + C*diag,  Hs = s + C*hv.
 *
 * Follows tron.cpp of liblinear 2.30 step for step: gnorm0 = |g(0)| and the
 * stop |g| <= eps*gnorm0; M' = 0.99 + 0.01*M; the first radius sqrt(g'M'g) cut
 * to |s|_M' after the first trial; preconditioned CG stopped at
 * sqrt(z'r) <= eps_cg*sqrt(z0'r0) or at max(n,5) steps or at the M'-norm
 * boundary; eta 1e-4/0.25/0.75, sigma 0.25/0.5/4 radius updates; stops on
 * prered <= 0, f < -1e32 or tiny act/pre reductions; max_iter outer steps.
 * Its own arithmetic is tron.cpp's (dot products added one by one, u'Mv
 * five products at a time). Fed f and M formed as liblinear forms them (each
 * row's term added onto w'w/2 and onto 1) over the rows in liblinear's order,
 * a single-process run gave liblinear-train's Fashion-MNIST model bit for
 * bit. Here f and M are the sums plus w'w/2 and 1, and the rows come shard by
 * shard, so the last bits differ; |g| is sqrt(g'g), not BLAS dnrm2 (only the
 * stop test reads it). docs/DESIGN.md "Training" says what that does.
 *
 * Calling protocol, repeated until TRON_DONE:
 *   op = tron_next(t, &vec);
 *   TRON_FUN:  feed tron_feed_fun(t, sum over shards of linfun_fun(vec))
 *   TRON_GRAD: feed tron_feed_grad(t, sums of linfun_grad g and diag) — vec is
 *              the point of the immediately preceding FUN (the shards' cache)
 *   TRON_HV:   feed tron_feed_hv(t, sum of linfun_hv(vec))
 * vec is borrowed and valid until the next feed. Feeding the wrong kind of
 * answer is ignored (returns -1). A FUN may come with the gradient at its
 * point, asked in the same round (tron_sums, tron_feed_fun_grad): TRON then
 * asks no GRAD, and for a trial point that it rejects the gradient is
 * dropped (liblinear computes it only after accepting; same iterates). A
 * worker that restarts must replay FUN and GRAD at tron_weights() before it
 * can answer an HV of the current iteration.
 */
#ifndef NC_TRON_H
#define NC_TRON_H

typedef struct tron tron_t;

#define TRON_OUTER_MAX 1000 /* liblinear's max_iter: outer steps */

typedef enum { TRON_FUN, TRON_GRAD, TRON_HV, TRON_DONE } tron_op_t;

/* One pass of the outer loop (liblinear prints one "iter" line for it). */
typedef struct tron_iter_info {
    int iter;      /* liblinear's iter counter at that pass (accepted steps + 1) */
    double f;      /* objective before the step */
    double gnorm;  /* |g| before the step */
    int cg_iter;   /* CG steps of this pass */
    double actred; /* actual reduction */
    double prered; /* predicted reduction */
    double delta;  /* new trust-region radius */
    int accepted;  /* 1 when w moved */
} tron_iter_info_t;

/* Why tron stopped (valid once tron_next() returned TRON_DONE). */
typedef enum {
    TRON_RUNNING = 0,
    TRON_CONVERGED, /* |g| <= eps * |g(0)| */
    TRON_MAX_ITER,  /* max_iter outer steps */
    TRON_PRERED,    /* predicted reduction <= 0 */
    TRON_SMALL,     /* actual and predicted reductions too small */
    TRON_DIVERGED   /* f < -1e32 */
} tron_stop_t;

/* Resumable state after an accepted step (for the journal). */
typedef struct tron_state {
    int iter;
    double delta;
    double gnorm0;
} tron_state_t;

/* liblinear 2.30 train_one's outer tolerance: eps*max(min(pos,neg),1)/l, where
 * pos and neg count the class's positive and negative rows over all shards and
 * l = pos + neg (passed for clarity; 0 when l <= 0). */
double tron_class_eps(double eps, long pos, long neg, long l);

/* liblinear 2.30 train_one's CG tolerance: 0.5 with an initial solution, else 0.1. */
double tron_eps_cg(int has_init_sol);

/* Starts TRON on n variables with penalty C, outer tolerance eps (already
 * scaled by tron_class_eps) and CG tolerance eps_cg, at most max_iter outer
 * steps (liblinear: 1000), from w0 (copied; NULL = zeros). NULL on bad
 * arguments or no memory. */
tron_t *tron_new(int n, double C, double eps, double eps_cg, int max_iter, const double *w0);

/* Continues a run from a journaled point: w and st as tron_weights() and
 * tron_state() gave them after an accepted step. It asks FUN and GRAD at w
 * (also rebuilding the shards' cache), then proceeds exactly as the original
 * run would have. NULL on bad arguments or no memory. */
tron_t *tron_resume(int n, double C, double eps, double eps_cg, int max_iter, const double *w,
                    const tron_state_t *st);

/* What to evaluate next; *vec (may be NULL for TRON_DONE) points at n doubles. */
tron_op_t tron_next(tron_t *t, const double **vec);

/* Where the caller may add up the answer to a pending GRAD (the gradient
 * sums; *diag the diagonal sums) or HV (the H*s sums), zeroed by the caller,
 * and then feed these very buffers: the master then needs no vectors of its
 * own per class. For a pending FUN: where the gradient at the FUN's point
 * goes, for tron_feed_fun_grad. NULL for DONE. The buffers are tron's: valid
 * until the feed. */
double *tron_sums(tron_t *t, double **diag);

/* Answers; each returns 0, or -1 when the state machine did not ask for it.
 * The sums may be tron_sums()'s buffers or the caller's own arrays. */
int tron_feed_fun(tron_t *t, double loss_sum);
int tron_feed_grad(tron_t *t, const double *g_loss_sum, const double *diag_sum);
int tron_feed_hv(tron_t *t, const double *hv_loss_sum);
/* A FUN's answer together with the gradient at its point, summed into
 * tron_sums()'s buffers: 1 when TRON took the gradient (the point is the new
 * gradient point), 0 when it dropped it (a rejected trial point, or done),
 * -1 when no FUN was pending. */
int tron_feed_fun_grad(tron_t *t, double loss_sum);

/* Current accepted weights (n doubles, borrowed). */
const double *tron_weights(const tron_t *t);

/* Objective and gradient norm at tron_weights(). */
double tron_f(const tron_t *t);
double tron_gnorm(const tron_t *t);

/* Number of outer passes so far; fills *out with the latest when there is one. */
int tron_iteration_info(const tron_t *t, tron_iter_info_t *out);

/* Total CG steps (= HV evaluations) so far. */
long tron_cg_total(const tron_t *t);

/* How far t is from its stop rule |g| <= eps*|g(0)|, from 0 (nothing known
 * yet, or |g| at or above |g(0)|) to 1 (done): log(|g(0)|/|g|) / log(1/eps).
 * Not monotone (|g| may grow for a step); a display keeps its maximum. */
double tron_progress(const tron_t *t);

tron_stop_t tron_stop_reason(const tron_t *t);
void tron_state(const tron_t *t, tron_state_t *out);

/* Frees t and sets *t to NULL; NULL is fine. */
void tron_destroy(tron_t **t);

#endif
