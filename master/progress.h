/* progress: what a running job shows people.
 *
 * progress_tick() is called about once a second from the scheduler's loop. On
 * a terminal it redraws one status line (bar, tasks, rows, rate, ETA,
 * workers); otherwise it logs a progress line at most once a second. Each tick
 * also publishes a job_progress event for the dashboard.
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
#include <stdint.h>

typedef struct progress {
    sched_t *sched;
    events_t *ev;
    uint32_t job_id;
    const char *phase; /* "schema", "training", "predicting", ... (static string) */
    int64_t start_ms;
    int64_t last_log_ms; /* not on a terminal: at most one line a second */
    bool tty, quiet, drawn;
} progress_t;

void progress_init(progress_t *p, sched_t *s, events_t *ev, uint32_t job_id, bool quiet);
void progress_phase(progress_t *p, const char *phase);
/* sched_tick_fn: arg is the progress_t. */
void progress_tick(void *arg);
/* Ends the status line on a terminal. Safe on a zeroed progress_t that was
 * never initialised (a job stopped before it began), and when called twice. */
void progress_finish(progress_t *p);

#endif
