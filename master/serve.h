/* serve: `master serve`, a master that stays up and runs submitted jobs.
 *
 * Jobs arrive as JSON on a REP socket (the dashboard relays POST /api/jobs):
 *   {"mode": "train"|"test", "data": PATH, <job option>: value, ...}
 * where the job options are the command line's long names ("model", "C",
 * "solver", "out", "shard-rows", "min-workers", ...). Each is checked at
 * once and answered {"id": N} or {"error": "...", "status": 400}; accepted jobs
 * run one after another with the scheduler, and submissions are answered
 * while a job runs (the REP socket is polled by the scheduler's loop).
 * A job whose driver returns an error is followed by the event "job_failed"
 * {job_id, mode, status}, so that one that failed before it started (and
 * so published nothing) does not stay queued on the dashboard.
 *
 * Requests come only from the dashboard, which has already checked them
 * (dashboard/webguard.h: paths are real, absolute and inside dashboard.files).
 */
#ifndef NC_SERVE_H
#define NC_SERVE_H

#include "master/master.h"

#define SERVE_ENDPOINT "inproc://commands"

/* Runs until ctx->stop is set. rep is a bound REP socket. Returns the exit
 * status (0 after a clean stop). */
int serve_run(master_ctx_t *ctx, void *rep);

/* Stays up (dashboard, heartbeats) until ctx->stop is set: --keep-running. */
void serve_idle(master_ctx_t *ctx);

#endif
