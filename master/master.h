/* master: what every job driver of bin/master is given.
 *
 * main() builds one master_ctx_t (config, options, ZeroMQ context, event bus,
 * scheduler) and hands it to a driver: train_run(), predict_run(),
 * dispatch_run(). Drivers return the process exit status of the contract:
 * 0 success, 1 job failed at run time, 2 bad usage or config, 3 bad input.
 */
#ifndef NC_MASTER_H
#define NC_MASTER_H

#include "common/config.h"
#include "master/cli.h"
#include "master/events.h"
#include "master/runs.h"
#include "master/sched.h"

#include <signal.h>
#include <stdint.h>

enum { EXIT_OK = 0, EXIT_JOB_FAILED = 1, EXIT_USAGE = 2, EXIT_BAD_DATA = 3 };
/* Not a process exit status: a job of a master that stays up was cancelled
 * (POST /api/jobs/ID/cancel). `master submit` exits 1 for it. */
enum { EXIT_CANCELLED = 125 };

typedef struct master_ctx {
    const config_t *cfg;
    const master_opts_t *opts;
    void *zctx;
    events_t *ev;
    sched_t *sched;
    volatile sig_atomic_t *stop;
    uint32_t job_id; /* the run id (master/runs.h), assigned by main or serve */
    runs_t *runs;    /* NULL when the history cannot be opened: jobs still run */
} master_ctx_t;

/* A job id for when there is no history to number runs: wall-clock seconds,
 * strictly increasing within the process. */
uint32_t master_next_job_id(void);

/* A new run for a job of cfg and o, in state (queued, running): its id from
 * ctx->runs, or master_next_job_id() when runs cannot be recorded. */
uint32_t master_new_run(master_ctx_t *ctx, const config_t *cfg, const master_opts_t *o,
                        const char *state);

/* Runs driver on ctx (ctx->job_id from master_new_run()) as a run: its
 * folder's log, state and outputs (runs_start, runs_finish). Returns the
 * driver's exit status, 128 + signal when the master was stopped, and
 * EXIT_CANCELLED when the job was cancelled (sched_cancel: its run ends
 * "cancelled"; the scheduler's flag is cleared again for the next job). */
int master_run_job(master_ctx_t *ctx, int (*driver)(master_ctx_t *));

/* The state a job that ended with status ends in: "done", "cancelled" (the
 * scheduler's job was cancelled) or "failed". What job_done says. */
const char *master_end_state(const master_ctx_t *ctx, int status);

#endif
