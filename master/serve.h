/* serve: the job queue of a master that stays up (`master serve`,
 * `--keep-running`, `make demo`).
 *
 * Requests arrive as JSON on a REP socket (the dashboard relays them from
 * REST) and are answered at once, also while a job runs (the REP socket is
 * polled by the scheduler's loop):
 *   a job      {"mode": "train"|"search"|"test", "data": PATH, <job option>:
 *              value, ...} where the job options are the command line's long
 *              names ("model", "C", "solver", "out", "shard-rows",
 *              "min-workers", "cv", "C-list", "solvers", "no-final", ...), none
 *              taken from the serving master's own command line; checked at once, answered {"id":
 * N} (the run id, state queued) or {"error": "...", "status": 400}; a cancel   {"cancel": N}: a
 * queued job leaves the queue and its run ends cancelled; the running job is cancelled
 * (sched_cancel: the workers get CANCEL, the job ends cancelled, its outputs are not committed).
 * Answered {"id": N, "state": "cancelled"}, or
 *              {"error", "status": 409} for a job that is neither queued nor
 *              running here (the dashboard tells 404 from 409).
 * Accepted jobs run one after another. A job whose driver returns an error
 * is followed by the event "job_failed" {job_id, mode, status, state}
 * (state "failed" or "cancelled"), so that one that failed or was cancelled
 * before it started (and so published nothing) does not stay queued on the
 * dashboard.
 *
 * Requests come only from the dashboard, which has already checked them
 * (dashboard/webguard.h: paths are real, absolute and inside dashboard.files).
 */
#ifndef NC_SERVE_H
#define NC_SERVE_H

#include "master/master.h"

#define SERVE_ENDPOINT "inproc://commands"

typedef struct serve serve_t;

/* A queue answering on rep (a bound REP socket) from now on, through the
 * scheduler's loop. ctx (borrowed, must outlive the queue) gives the config
 * and options every submitted job starts from. NULL when out of memory. */
serve_t *serve_new(master_ctx_t *ctx, void *rep);

/* Runs one job given by the caller (the command line's, with --keep-running)
 * as the queue's running job, so that it can be cancelled; jc is ctx with the
 * job's cfg, opts and run id. Returns master_run_job()'s status. */
int serve_job(serve_t *sv, master_ctx_t *jc, int (*driver)(master_ctx_t *));

/* Runs the queued jobs, and those submitted meanwhile, until ctx->stop is
 * set. Returns the exit status (0 after a clean stop). */
int serve_loop(serve_t *sv);

/* Detaches from the scheduler; queued jobs are dropped (their runs stay
 * queued in the history and end "interrupted" at the next start). */
void serve_destroy(serve_t **sv);

#endif
