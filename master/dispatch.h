/* dispatch: `master bench-dispatch`, the cluster's transport self-test.
 *
 * Sends --tasks tasks of --payload bytes each (NOOP, or SLEEP for --task-ms)
 * through the real scheduler to the connected workers and reports tasks/s,
 * MB/s through the master and lease-to-result latency percentiles. With
 * --out-ids every accepted task id is written once, in acceptance order, so a
 * test can check that each task completed exactly once.
 */
#ifndef NC_DISPATCH_H
#define NC_DISPATCH_H

#include "master/cli.h"
#include "master/sched.h"

/* Runs the benchmark as job job_id (its run id). Returns the process exit
 * status (0 ok, 1 failed). */
int dispatch_run(sched_t *s, events_t *ev, const master_opts_t *o, const config_t *cfg,
                 uint32_t job_id);

#endif
