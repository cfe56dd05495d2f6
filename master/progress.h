/* progress: what a running job shows people.
 *
 * A job runs in phases (schema, loading, training, cross-validation,
 * predicting, exporting). Each phase's progress goes from 0 to 100 % and
 * never back: rows of the current pass over the data for passes, and for the
 * exact strategy's training the Newton iterations and CG steps with the
 * share of the way to TRON's stopping rule (tron_progress) that the driver
 * reports with progress_newton(). A fraction lower than the one shown
 * (a second pass in the same phase, |g| growing for a step) leaves the shown
 * one as it is. An ETA is given only once it means something: 5 % done, 2 s
 * into the phase, and a second or more left.
 *
 * progress_tick() is called about once a second from the scheduler's loop.
 * On a terminal it keeps one status line under the log lines (log_status):
 * `training [#######.......] 24% iteration 5, 312 CG steps, 2 workers, ETA 9s`,
 * cleared when the job ends; otherwise it logs that line (info) at most once
 * a second. -q silences the log lines; the terminal's status line, which
 * leaves nothing behind, stays. Each tick also publishes a job_progress event
 * for the dashboard.
 *
 * The scheduler's tick is set by progress_init() and cleared by
 * progress_finish(), nowhere else: a driver that inits a progress_t must
 * finish it on every path (it lives on the driver's stack).
 */
#ifndef NC_PROGRESS_H
#define NC_PROGRESS_H

#include "master/events.h"
#include "master/sched.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct progress {
    sched_t *sched;
    events_t *ev;
    uint32_t job_id;
    const char *phase;   /* "schema", "training", "predicting", ... (static string) */
    int64_t start_ms;    /* of the phase */
    int64_t last_log_ms; /* not on a terminal: at most one line a second */
    double shown;        /* the phase's fraction shown so far: never less */
    bool newton;         /* the phase reports Newton iterations (progress_newton) */
    int iter;
    long cg;
    double newton_frac;
    bool tty, quiet, drawn;
} progress_t;

void progress_init(progress_t *p, sched_t *s, events_t *ev, uint32_t job_id, bool quiet);
/* A new phase: its progress starts at 0. */
void progress_phase(progress_t *p, const char *phase);
/* Training's own measure: the Newton iteration reached, CG steps so far, and
 * the share (0..1) of the way to the stopping rule. */
void progress_newton(progress_t *p, int iter, long cg, double frac);
/* sched_tick_fn: arg is the progress_t. */
void progress_tick(void *arg);
/* Clears the status line on a terminal. Safe on a zeroed progress_t that was
 * never initialised (a job stopped before it began), and when called twice. */
void progress_finish(progress_t *p);

/* ---- the pure parts (tests/unit/test_progress.c) ---- */

/* What one line shows. */
typedef struct progress_view {
    const char *phase;
    double frac; /* 0..1, as shown */
    bool newton;
    int iter;
    long cg;
    uint64_t rows_done, rows_total, tasks_done, tasks_total;
    double rate; /* rows/s, 0: not shown */
    int workers;
    double eta; /* seconds, < 0: none */
} progress_view_t;

/* The fraction to show: never below what was shown (shown), at most 1. */
double progress_advance(double shown, double frac);
/* Seconds left at frac done after secs in the phase, or -1 when that would
 * be a guess (under 5 % done, under 2 s in) or says nothing (done, under a
 * second left). */
double progress_eta(double frac, double secs);
/* The line: with a bar for a terminal ("training   [###....] 24% ..."),
 * else "training: 24%, ...". */
void progress_format(const progress_view_t *v, bool bar, char *buf, size_t len);

#endif
