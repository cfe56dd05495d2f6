/* submit: `master submit MODE [job options]`, a job for a master that stays up.
 *
 * Sends the job to the running master's REST API (POST /api/jobs on
 * dashboard.host:dashboard.port, with dashboard.token as bearer token when
 * set) and follows it to its end as a direct run does: the same progress
 * line (common to progress.c: progress_format), the same accuracy lines, and
 * the same exit status (0 done; the run's own status, from its run.json,
 * when it failed; 1 when it was cancelled). Ctrl-C cancels the job on the
 * master (POST /api/jobs/ID/cancel) and exits 130.
 *
 * The job is the effective one of this command line and config: data,
 * model and out (made relative to dashboard.files, the only folder a REST
 * job may name; a path outside it is exit 2), label, id, format, and for
 * training scale, solver, C, eps, bias, strategy, rounds and cv; shard-rows
 * and min-workers. A master that is not up yet is waited for up to
 * SUBMIT_CONNECT_S seconds (a demo starts both at once).
 */
#ifndef NC_SUBMIT_H
#define NC_SUBMIT_H

#include "common/config.h"
#include "master/cli.h"

#include <signal.h>

#define SUBMIT_CONNECT_S 15

/* Runs the submission of o (o->cmd CMD_SUBMIT, o->submit_mode the job's
 * mode) with cfg. stop is the signal flag. Returns the exit status. */
int submit_run(const master_opts_t *o, const config_t *cfg, volatile sig_atomic_t *stop);

#endif
