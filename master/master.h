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
#include "master/sched.h"

#include <signal.h>
#include <stdint.h>

enum { EXIT_OK = 0, EXIT_JOB_FAILED = 1, EXIT_USAGE = 2, EXIT_BAD_DATA = 3 };

typedef struct master_ctx {
    const config_t *cfg;
    const master_opts_t *opts;
    void *zctx;
    events_t *ev;
    sched_t *sched;
    volatile sig_atomic_t *stop;
    uint32_t job_id; /* assigned by main (unique and increasing within a master) */
} master_ctx_t;

/* A new job id: wall-clock seconds, strictly increasing within the process,
 * so ids stay unique across jobs and across master restarts. */
uint32_t master_next_job_id(void);

#endif
